"""The signaling relay as a state machine: the name registry and who may talk to whom.

No I/O here. Each WebSocket is a peer with an id; the endpoints in :mod:`signaling.app` feed
what a peer says to :meth:`Registry.receive` and deliver the :class:`Send` instructions it
returns. Everything a server tab and its visitors say to each other (SDP offers and answers)
passes through opaque; site content never does, it travels over the data channels.

Messages are JSON objects with a ``type``:

server tab -> service  ``register {name, token}``, ``signal {to, data}``
service -> server tab  ``registered {name}``, ``signal {from, data}``, ``client-left {client}``,
                       ``replaced`` (another tab with the owner's token took the name over)
visitor -> service     ``signal {data}``
service -> visitor     ``server-status {online}``, ``signal {data}``
peer -> service        ``ice-servers``: asks for fresh ICE servers (TURN credentials expire)
service -> peer        ``ice-servers {iceServers, iceTransportPolicy, expires}``, first thing
                       on every connection and whenever asked (see :mod:`signaling.ice`)
either way             ``error {code, message, [suggestion]}``; the connection stays usable

A signal's ``data`` is ``{sdp}`` (an offer or an answer) or ``{candidate}`` (one trickled ICE
candidate, null when there are no more).
"""

from __future__ import annotations

import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from signaling.ice import IceConfig
from signaling.names import name_problem, suggest

MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_RESERVATION_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Send:
    """Deliver ``message`` to the peer ``to``."""

    to: int
    message: dict[str, Any]


@dataclass
class _Server:
    token: str
    peer: int | None  # None while the owner's tab is away; the name stays reserved for it
    last_seen: float
    clients: set[int] = field(default_factory=set)


class Registry:
    """Names, their owners' tokens, and the peers connected to each name."""

    def __init__(
        self,
        reservation_seconds: float = DEFAULT_RESERVATION_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        ice: IceConfig | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._reservation_seconds = reservation_seconds
        self._clock = clock
        self._ice = ice or IceConfig()
        self._wall_clock = wall_clock  # TURN credentials expire at a Unix time
        self._ids = itertools.count(1)
        self._servers: dict[str, _Server] = {}
        self._server_peers: dict[int, str] = {}  # peer -> name it registered, if any
        self._client_peers: dict[int, str] = {}  # peer -> name it visits

    # -- connections ---------------------------------------------------------------------

    def connect_server(self) -> tuple[int, list[Send]]:
        """A server tab's WebSocket opened; it has no name until it registers one."""
        peer = next(self._ids)
        self._server_peers[peer] = ""
        return peer, [self._ice_servers(peer)]

    def connect_client(self, name: str) -> tuple[int, list[Send]]:
        """A visitor's shell opened its WebSocket for the site ``name``."""
        peer = next(self._ids)
        self._client_peers[peer] = name
        server = self._live(name)
        if server is not None:
            server.clients.add(peer)
        return peer, [
            self._ice_servers(peer),
            Send(peer, {"type": "server-status", "online": self._online(name)}),
        ]

    def disconnect(self, peer: int) -> list[Send]:
        """A WebSocket closed: tell whoever was talking to it."""
        if peer in self._client_peers:
            name = self._client_peers.pop(peer)
            server = self._servers.get(name)
            if server is not None and peer in server.clients:
                server.clients.discard(peer)
                if server.peer is not None:
                    return [Send(server.peer, {"type": "client-left", "client": str(peer)})]
            return []
        name = self._server_peers.pop(peer, "")
        server = self._servers.get(name)
        if server is None or server.peer != peer:
            return []
        server.peer = None
        server.last_seen = self._clock()
        return self._broadcast_status(name)

    # -- what peers say ------------------------------------------------------------------

    def receive(self, peer: int, text: str) -> list[Send]:
        """Handle one message from ``peer``; a bad one is answered with an error."""
        if len(text.encode()) > MAX_MESSAGE_BYTES:
            return [
                _error(peer, "bad-message", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
            ]
        try:
            message = json.loads(text)
        except ValueError:
            return [_error(peer, "bad-message", "Messages must be JSON objects.")]
        if not isinstance(message, dict) or not isinstance(message.get("type"), str):
            return [_error(peer, "bad-message", 'Messages must be JSON objects with a "type".')]
        if message["type"] == "ice-servers":
            return [self._ice_servers(peer)]
        if peer in self._server_peers:
            return self._from_server(peer, message)
        if peer in self._client_peers:
            return self._from_client(peer, message)
        raise KeyError(f"unknown peer {peer}")

    def _from_server(self, peer: int, message: dict[str, Any]) -> list[Send]:
        kind = message["type"]
        if kind == "register":
            return self._register(peer, message.get("name"), message.get("token"))
        name = self._server_peers[peer]
        if not name:
            return [_error(peer, "not-registered", "Register a name first.")]
        if kind == "signal":
            to = message.get("to")
            client = int(to) if isinstance(to, str) and to.isdigit() else None
            if client is None or client not in self._servers[name].clients:
                return [_error(peer, "unknown-peer", f"No visitor {to!r} is connected.")]
            return [Send(client, {"type": "signal", "data": message.get("data")})]
        return [_error(peer, "bad-message", f"Unknown message type {kind!r}.")]

    def _from_client(self, peer: int, message: dict[str, Any]) -> list[Send]:
        kind = message["type"]
        if kind != "signal":
            return [_error(peer, "bad-message", f"Unknown message type {kind!r}.")]
        name = self._client_peers[peer]
        server = self._live(name)
        if server is None or server.peer is None:
            return [_error(peer, "offline", f'The server "{name}" is offline.')]
        return [
            Send(server.peer, {"type": "signal", "from": str(peer), "data": message.get("data")})
        ]

    def _register(self, peer: int, name: Any, token: Any) -> list[Send]:
        if not isinstance(token, str) or not 16 <= len(token) <= 128:
            return [_error(peer, "bad-message", "register needs a token of 16 to 128 characters.")]
        if self._server_peers[peer]:
            return [_error(peer, "bad-message", "This connection already registered a name.")]
        status = self.name_status(name if isinstance(name, str) else "", token)
        if not status["available"]:
            return [
                Send(
                    peer,
                    {
                        "type": "error",
                        "code": status["reason"],
                        "message": status["message"],
                        "suggestion": status["suggestion"],
                    },
                )
            ]
        sends = []
        server = self._live(name)
        if server is not None and server.peer is not None:
            # The owner's own new tab (a reload, usually before the old socket is noticed gone).
            sends.append(Send(server.peer, {"type": "replaced"}))
            self._server_peers[server.peer] = ""
        if server is None:
            server = self._servers[name] = _Server(token=token, peer=None, last_seen=self._clock())
        server.peer = peer
        server.clients = {
            client for client, visited in self._client_peers.items() if visited == name
        }
        self._server_peers[peer] = name
        sends.append(Send(peer, {"type": "registered", "name": name}))
        return sends + self._broadcast_status(name)

    # -- queries -------------------------------------------------------------------------

    def name_status(self, name: str, token: str | None = None) -> dict[str, Any]:
        """Whether ``name`` can be registered by the holder of ``token``, and if not, why."""
        problem = name_problem(name)
        if problem is not None:
            return {
                "name": name,
                "available": False,
                "reason": "invalid",
                "message": problem,
                "suggestion": suggest(name, self._is_free),
            }
        server = self._live(name)
        if server is not None and server.token != token:
            return {
                "name": name,
                "available": False,
                "reason": "taken",
                "message": f'"{name}" is unavailable: another PeerServer has this name.',
                "suggestion": suggest(name, self._is_free),
            }
        return {
            "name": name,
            "available": True,
            "reason": None,
            "message": None,
            "suggestion": None,
        }

    def is_online(self, name: str) -> bool:
        return self._online(name)

    # -- helpers -------------------------------------------------------------------------

    def _live(self, name: str) -> _Server | None:
        """The registration of ``name``, forgetting it if its reservation ran out."""
        server = self._servers.get(name)
        if (
            server is not None
            and server.peer is None
            and self._clock() - server.last_seen > self._reservation_seconds
        ):
            del self._servers[name]
            return None
        return server

    def _online(self, name: str) -> bool:
        server = self._live(name)
        return server is not None and server.peer is not None

    def _is_free(self, name: str) -> bool:
        return self._live(name) is None

    def _ice_servers(self, peer: int) -> Send:
        return Send(peer, self._ice.for_peer(f"peer{peer}", self._wall_clock()))

    def _broadcast_status(self, name: str) -> list[Send]:
        online = self._online(name)
        return [
            Send(client, {"type": "server-status", "online": online})
            for client, visited in self._client_peers.items()
            if visited == name
        ]


def _error(peer: int, code: str, message: str) -> Send:
    return Send(peer, {"type": "error", "code": code, "message": message})
