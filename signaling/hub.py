"""One instance's side of signaling: its peers' connections, the rules, and the store.

A peer is anything with an async ``send(message)``: the FastAPI endpoints in
:mod:`signaling.app` adapt WebSockets to it, and the tests drive the hub directly. What the
protocol allows is decided by :mod:`signaling.registry`; names and the way to peers on other
instances are in a :class:`signaling.stores.Store`.

Envelopes between instances: ``{to, message, [visiting], [from]}`` delivers ``message`` to the
peer ``to`` (only if it visits the site ``visiting``; if not, ``from`` is told), and
``{status, online}`` tells every visitor of the site ``status`` whether its server is online.
"""

from __future__ import annotations

import itertools
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from signaling.ice import IceConfig
from signaling.limits import LimitSettings, client_key
from signaling.names import suggestions
from signaling.registry import (
    NameRecord,
    ProtocolError,
    Refusal,
    Registration,
    Rules,
    error,
    indexes,
    instance_of,
    is_peer_id,
    parse,
)
from signaling.stores import Envelope, MemoryStore, Store, StoreUnavailable
from signaling.tickets import Tickets

log = logging.getLogger("peerserver.signaling")

SendMessage = Callable[[dict[str, Any]], Awaitable[None]]
_SWAP_TRIES = 8  # compare-and-swap attempts before a busy name is reported as such
_SUGGESTION_BATCH = 16


class Hub:
    def __init__(
        self,
        store: Store | None = None,
        rules: Rules | None = None,
        ice: IceConfig | None = None,
        limits: LimitSettings | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store or MemoryStore()
        self.rules = rules or Rules()
        self.ice = ice or IceConfig()
        self.limits = limits or LimitSettings()
        self._clock = clock
        self._ids = itertools.count(1)
        self._sends: dict[str, SendMessage] = {}
        self._servers: dict[str, str] = {}  # local server tab -> the name it registered, or ""
        self._addresses: dict[str, str] = {}  # local server tab -> its address (client_key)
        self._visitors: dict[str, str] = {}  # local visitor -> the site it visits
        self._pending_offers: dict[str, int] = {}  # local visitor -> offers not answered yet
        self._tickets: Tickets | None = None
        self.store.attach(self._on_envelope)

    async def tickets(self) -> Tickets:
        """The package tickets of every instance sharing the store (one secret for all)."""
        if self._tickets is None:
            secret = await self.store.value_once("ticket-secret", secrets.token_hex(32))
            self._tickets = Tickets(bytes.fromhex(secret))
        return self._tickets

    # -- connections ---------------------------------------------------------------------

    async def connect_server(self, send: SendMessage, address: str = "") -> str:
        """A server tab connected from ``address``; it has no name until it registers one."""
        peer = self._new_peer(send)
        self._servers[peer] = ""
        self._addresses[peer] = client_key(address)
        await send(self._ice_servers(peer))
        return peer

    async def connect_visitor(self, name: str, send: SendMessage) -> str:
        """A visitor's shell (or a tunnel) connected to the site ``name``."""
        peer = self._new_peer(send)
        self._visitors[peer] = name
        await send(self._ice_servers(peer))
        try:
            online = self.rules.online(await self._record(name), self._clock())
        except StoreUnavailable as problem:
            await send(error("unavailable", str(problem)))
            online = False
        await send({"type": "server-status", "online": online})
        return peer

    async def disconnect(self, peer: str) -> None:
        """A peer's connection closed: tell whoever was talking to it."""
        self._sends.pop(peer, None)
        self._pending_offers.pop(peer, None)
        try:
            if peer in self._visitors:
                record = self.rules.live(
                    await self._record(self._visitors.pop(peer)), self._clock()
                )
                if record is not None and record.peer is not None:
                    await self._deliver(record.peer, {"type": "client-left", "client": peer})
                return
            name = self._servers.pop(peer, "")
            self._addresses.pop(peer, None)
            if name:
                await self._server_left(name, peer)
        except StoreUnavailable as problem:
            log.warning("after %s left: %s", peer, problem)

    async def _server_left(self, name: str, peer: str) -> None:
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            now = self._clock()
            away = self.rules.left(record, peer, now)
            if away is None:
                return  # replaced by another tab of the owner meanwhile
            if await self.store.swap(name, record, away, self._kept_for(away, now)):
                await self.store.broadcast({"status": name, "online": False})
                return

    def _kept_for(self, away: NameRecord, now: float) -> float:
        """How long the store keeps an away record: until its reservation ends."""
        return max(0.0, self.rules.reserved_until(away) - now)

    # -- what peers say ------------------------------------------------------------------

    async def receive(self, peer: str, text: str | None) -> None:
        """Handle one message from ``peer``; a bad one is answered with an error."""
        try:
            message = parse(text)
            if message["type"] == "ice-servers":
                await self._send(peer, self._ice_servers(peer))
            elif peer in self._servers:
                await self._from_server(peer, message)
            elif peer in self._visitors:
                await self._from_visitor(peer, message)
        except ProtocolError as problem:
            await self._send(peer, problem.reply)
        except StoreUnavailable as problem:
            await self._send(peer, error("unavailable", str(problem)))

    async def _from_server(self, peer: str, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "register":
            await self._register(peer, message.get("name"), message.get("token"))
            return
        name = self._servers[peer]
        if not name:
            raise ProtocolError(error("not-registered", "Register a name first."))
        if kind == "package-ticket":
            ticket = (await self.tickets()).issue(name, self._clock())
            await self._send(peer, {"type": "package-ticket", "ticket": ticket})
            return
        if kind != "signal":
            raise ProtocolError(error("bad-message", f"Unknown message type {kind!r}."))
        to = message.get("to")
        if not is_peer_id(to):
            raise ProtocolError(error("unknown-peer", f"No visitor {to!r} is connected."))
        await self._deliver(
            to, {"type": "signal", "data": message.get("data")}, visiting=name, sender=peer
        )

    async def _from_visitor(self, peer: str, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind != "signal":
            raise ProtocolError(error("bad-message", f"Unknown message type {kind!r}."))
        name = self._visitors[peer]
        record = self.rules.live(await self._record(name), self._clock())
        if record is None or record.peer is None:
            raise ProtocolError(error("offline", f'The server "{name}" is offline.'))
        if _sdp_type(message.get("data")) == "offer":
            pending = self._pending_offers.get(peer, 0)
            if pending >= self.limits.pending_offers_per_visitor:
                raise ProtocolError(
                    error("too-many-offers", "Wait for the answers to your offers.")
                )
            self._pending_offers[peer] = pending + 1
            if not record.served:  # its first visitor: the name is in use (see Rules.reservation)
                await self.store.swap(name, record, replace(record, served=True))
        await self._deliver(
            record.peer, {"type": "signal", "from": peer, "data": message.get("data")}
        )

    async def _register(self, peer: str, name: Any, token: Any) -> None:
        if self._servers[peer]:
            raise ProtocolError(error("bad-message", "This connection already registered a name."))
        owner = self._addresses.get(peer, "")
        for _ in range(_SWAP_TRIES):
            record = await self._record(name) if isinstance(name, str) else None
            now = self._clock()
            decision = self.rules.register(name, token, peer, record, now, owner)
            if isinstance(decision, Registration) and decision.record.created == now:
                decision = await self._within_quota(decision, name) or decision
            if isinstance(decision, Refusal):
                extra = {}
                if decision.code in ("taken", "invalid"):
                    extra["suggestion"] = await self.suggest(name if isinstance(name, str) else "")
                raise ProtocolError(error(decision.code, decision.message, **extra))
            if await self.store.swap(name, record, decision.record):
                break
        else:
            raise ProtocolError(error("busy", f'"{name}" is changing hands; try again.'))
        self._servers[peer] = name
        # The tab itself keeps to the number of visitors it serves at once.
        limit = self.limits.visitors_per_site
        ticket = (await self.tickets()).issue(name, self._clock())
        await self._send(
            peer,
            {"type": "registered", "name": name, "maxVisitors": limit, "packagesTicket": ticket},
        )
        if decision.replaced is not None:
            # The owner's own new tab (a reload, usually before the old socket is noticed gone).
            await self._deliver(decision.replaced, {"type": "replaced"})
        await self.store.broadcast({"status": name, "online": True})

    async def _within_quota(self, decision: Registration, name: str) -> Refusal | None:
        """Why a new name is refused to its would-be owner, if it is (see Rules.quota_problem)."""
        by_address, by_owner = [
            len(await self.held(index, but=name)) for index in indexes(decision.record)
        ]
        return self.rules.quota_problem(by_address, by_owner)

    async def held(self, index: str, but: str = "") -> list[tuple[str, NameRecord]]:
        """The live names listed under ``index`` (but ``but``), dropping those that ended."""
        names = [listed for listed in await self.store.held(index) if listed != but]
        now = self._clock()
        live, ended = [], []
        for listed, record in zip(names, await self.store.get_many(names), strict=True):
            if self.rules.live(record, now) is not None and index in indexes(record):
                live.append((listed, record))
            else:
                ended.append(listed)
        await self.store.forget(index, ended)
        return live

    # -- the operator's view -------------------------------------------------------------

    async def names(self) -> list[dict[str, Any]]:
        """Every name held or reserved, as the operator sees it (``peerserver names``)."""
        names = await self.store.names()
        now = self._clock()
        listed = []
        for name, record in zip(names, await self.store.get_many(names), strict=True):
            live = self.rules.live(record, now)
            if live is not None:
                listed.append(self._described(name, live, now))
        return listed

    def _described(self, name: str, record: NameRecord, now: float) -> dict[str, Any]:
        online = record.peer is not None
        return {
            "name": name,
            "state": "online" if online else "reserved",
            "owner": record.owner,
            "created": record.created or None,
            "served_visitors": record.served,
            "served_seconds": round(self.rules.served_seconds(record, now)),
            "last_served": now if online else record.away_since,
            "reserved_until": None if online else self.rules.reserved_until(record),
        }

    async def release(self, name: str) -> bool:
        """Free ``name`` now; a tab serving it is told, its visitors see it offline."""
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            if record is None:
                return False
            if await self.store.swap(name, record, None):
                if record.peer is not None:
                    released = error("released", "The service's operator released this name.")
                    await self._deliver(record.peer, released)
                    await self.store.broadcast({"status": name, "online": False})
                return True
        return False

    async def release_address(self, address: str) -> list[str]:
        """Free every name the address ``address`` (its /64, for IPv6) holds."""
        held = await self.held(f"address:{client_key(address)}")
        return [name for name, _ in held if await self.release(name)]

    # -- names ---------------------------------------------------------------------------

    async def name_status(self, name: str, token: str | None) -> dict[str, Any]:
        record = await self._record(name) if name else None
        status = self.rules.status(name, token, record, self._clock())
        if not status["available"]:
            status["suggestion"] = await self.suggest(name)
        return status

    async def suggest(self, name: str) -> str:
        """A free, valid name close to ``name``."""
        candidates = suggestions(name, random.Random())
        now = self._clock()
        while True:
            batch = [next(candidates) for _ in range(_SUGGESTION_BATCH)]
            for candidate, record in zip(batch, await self.store.get_many(batch), strict=True):
                if self.rules.live(record, now) is None:
                    return candidate

    async def _record(self, name: str) -> NameRecord | None:
        """``name``'s record; one held by an instance that stopped is marked away first."""
        record = await self.store.get(name)
        if record is None or record.peer is None:
            return record
        instance = instance_of(record.peer)
        if instance == self.store.instance or await self.store.alive(instance):
            return record
        now = self._clock()
        away = self.rules.away(record, now)
        if await self.store.swap(name, record, away, self._kept_for(away, now)):
            return away
        return await self.store.get(name)  # someone else changed it meanwhile

    # -- delivery ------------------------------------------------------------------------

    async def _deliver(
        self,
        to: str,
        message: dict[str, Any],
        visiting: str | None = None,
        sender: str | None = None,
    ) -> None:
        """Send ``message`` to the peer ``to``, on this instance or another."""
        envelope: Envelope = {"to": to, "message": message}
        if visiting is not None:
            envelope["visiting"] = visiting
        if sender is not None:
            envelope["from"] = sender
        instance = instance_of(to)
        if instance == self.store.instance:
            await self._on_envelope(envelope)
        else:
            await self.store.send(instance, envelope)

    async def _on_envelope(self, envelope: Envelope) -> None:
        """An envelope for this instance, from itself or from another one."""
        if isinstance(envelope.get("status"), str) and isinstance(envelope.get("online"), bool):
            status = {"type": "server-status", "online": envelope["online"]}
            for visitor, name in list(self._visitors.items()):
                if name == envelope["status"]:
                    await self._send(visitor, status)
            return
        to, message = envelope.get("to"), envelope.get("message")
        if not is_peer_id(to) or not isinstance(message, dict):
            log.warning("dropped a malformed envelope: %.200r", envelope)
            return
        visiting = envelope.get("visiting")
        if visiting is not None and self._visitors.get(to) != visiting:
            sender = envelope.get("from")
            if is_peer_id(sender):
                reply = error("unknown-peer", f"No visitor {to!r} is connected.")
                await self._deliver(sender, reply)
            return
        given_up = message.get("type") == "replaced" or message.get("code") == "released"
        if given_up and to in self._servers:
            self._servers[to] = ""  # its socket closing no longer concerns the name
        if to in self._pending_offers and _sdp_type(message.get("data")) == "answer":
            self._pending_offers[to] -= 1
        await self._send(to, message)

    async def _send(self, peer: str, message: dict[str, Any]) -> None:
        send = self._sends.get(peer)
        if send is not None:
            await send(message)

    def _new_peer(self, send: SendMessage) -> str:
        peer = f"{self.store.instance}/{next(self._ids)}"
        self._sends[peer] = send
        return peer

    def _ice_servers(self, peer: str) -> dict[str, Any]:
        return self.ice.for_peer(peer.replace("/", "-"), self._clock())


def _sdp_type(data: Any) -> str | None:
    """ "offer" or "answer" for a signal carrying a description, else None."""
    sdp = data.get("sdp") if isinstance(data, dict) else None
    kind = sdp.get("type") if isinstance(sdp, dict) else None
    return kind if isinstance(kind, str) else None
