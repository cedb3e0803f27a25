"""The signaling protocol's rules, with no I/O: who may hold a name, and what each message means.

:class:`signaling.hub.Hub` owns the sockets and a :class:`signaling.stores.Store` (one process's
memory, or Redis shared by several instances); it asks this module what to do. Everything a
server tab and its visitors say to each other (SDP offers and answers, ICE candidates) passes
through opaque; site content never does, it travels over the data channels.

Peers are named ``INSTANCE/N``: the service instance that holds the peer's WebSocket, and a
number there. Messages are JSON objects with a ``type``:

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

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from signaling.names import name_problem

MAX_MESSAGE_BYTES = 64 * 1024
DEFAULT_RESERVATION_SECONDS = 7 * 24 * 3600
_PEER = re.compile(r"^[A-Za-z0-9_-]{1,64}/[0-9]{1,18}$")


@dataclass(frozen=True)
class NameRecord:
    """Who holds a name: the owner's token, and the peer serving it (None while it is away).

    ``away_since`` is the Unix time the owner's tab went away; the name stays reserved for the
    token's holder for the reservation period after it."""

    token: str
    peer: str | None
    away_since: float = 0.0

    def to_json(self) -> str:
        return json.dumps({"token": self.token, "peer": self.peer, "away_since": self.away_since})

    @classmethod
    def from_json(cls, text: str | bytes) -> NameRecord:
        data = json.loads(text)
        return cls(data["token"], data["peer"], float(data["away_since"]))


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class Registration:
    """A name granted to ``record.peer``; ``replaced`` is the owner's previous tab, if any."""

    record: NameRecord
    replaced: str | None


def is_peer_id(value: Any) -> bool:
    return isinstance(value, str) and _PEER.match(value) is not None


def instance_of(peer: str) -> str:
    return peer.split("/", 1)[0]


def error(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"type": "error", "code": code, "message": message, **extra}


def parse(text: str | None) -> dict[str, Any]:
    """A message from a peer's WebSocket, or raise :class:`ProtocolError` with the reply."""
    if text is None:
        raise ProtocolError(error("bad-message", "Messages must be text (JSON)."))
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            error("bad-message", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
        )
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError(error("bad-message", "Messages must be JSON objects.")) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(error("bad-message", 'Messages must be JSON objects with a "type".'))
    return message


class ProtocolError(Exception):
    """A message that gets an error reply; the connection stays usable."""

    def __init__(self, reply: dict[str, Any]) -> None:
        super().__init__(reply["message"])
        self.reply = reply


class Rules:
    """What a name's record allows, at a given Unix time."""

    def __init__(self, reservation_seconds: float = DEFAULT_RESERVATION_SECONDS) -> None:
        self.reservation_seconds = reservation_seconds

    def live(self, record: NameRecord | None, now: float) -> NameRecord | None:
        """``record`` if it still holds its name at ``now``, else None (the name is free)."""
        if record is None:
            return None
        if record.peer is None and now - record.away_since > self.reservation_seconds:
            return None
        return record

    @staticmethod
    def away(record: NameRecord, now: float) -> NameRecord:
        """The record once its tab is gone (its instance stopped, say): reserved from now."""
        return replace(record, peer=None, away_since=now)

    def online(self, record: NameRecord | None, now: float) -> bool:
        live = self.live(record, now)
        return live is not None and live.peer is not None

    def status(
        self,
        name: str,
        token: str | None,
        record: NameRecord | None,
        now: float,
        suggestion: str | None = None,
    ) -> dict[str, Any]:
        """Whether ``name`` can be registered by the holder of ``token``, and if not, why.

        ``suggestion`` is a free name to offer instead (the caller finds one: that needs the
        store)."""
        problem = name_problem(name)
        live = self.live(record, now)
        if problem is None and live is not None and live.token != token:
            problem = f'"{name}" is unavailable: another PeerServer has this name.'
            reason = "taken"
        else:
            reason = "invalid"
        if problem is None:
            return {"name": name, "available": True, "reason": None, "message": None,
                    "suggestion": None}  # fmt: skip
        return {"name": name, "available": False, "reason": reason, "message": problem,
                "suggestion": suggestion}  # fmt: skip

    def register(
        self, name: Any, token: Any, peer: str, record: NameRecord | None, now: float
    ) -> Registration | Refusal:
        """``peer`` asks for ``name`` with ``token``, the name's record being ``record``."""
        if not isinstance(token, str) or not 16 <= len(token) <= 128:
            return Refusal("bad-message", "register needs a token of 16 to 128 characters.")
        status = self.status(name if isinstance(name, str) else "", token, record, now)
        if not status["available"]:
            return Refusal(status["reason"], status["message"])
        live = self.live(record, now)
        replaced = live.peer if live is not None and live.peer != peer else None
        return Registration(NameRecord(token, peer), replaced)

    @staticmethod
    def left(record: NameRecord | None, peer: str, now: float) -> NameRecord | None:
        """The record after ``peer``'s socket closed, or None if ``peer`` did not serve it."""
        if record is None or record.peer != peer:
            return None
        return replace(record, peer=None, away_since=now)
