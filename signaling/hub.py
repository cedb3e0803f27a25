"""One instance's side of signaling: its peers' connections, the rules, and the store.

A peer is anything with an async ``send(message)``: the FastAPI endpoints in
:mod:`signaling.app` adapt WebSockets to it, and the tests drive the hub directly. What the
protocol allows is decided by :mod:`signaling.registry`; names and the way to peers on other
instances are in a :class:`signaling.stores.Store`.

Envelopes between instances: ``{to, message, [visiting], [from]}`` delivers ``message`` to the
peer ``to`` (only if it visits, or stands by for, the site ``visiting``; if not, ``from`` is
told), and ``{status, online, epoch}`` tells every visitor and standby of the site ``status``
whether it is served, and in which epoch of its lease.

Leases (:mod:`signaling.leases`) are kept by :meth:`Hub.tick`, which :meth:`Hub.run` calls a few
times a lease: it asks each serving tab connected here to renew its lease, and promotes a
standby connected here when its site's lease has run out.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import logging
import random
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from signaling import messages
from signaling.ice import IceConfig
from signaling.leases import GRANT_SECONDS, OWNER, Member, Promotion, clean_where, grant_key
from signaling.leases import token_hash as member_token_hash
from signaling.limits import LimitSettings, client_key
from signaling.messages import Message, ProtocolError, error, number, parse
from signaling.names import suggestions
from signaling.registry import (
    NameRecord,
    Refusal,
    Registration,
    Rules,
    StandingBy,
    indexes,
    instance_of,
    is_peer_id,
)
from signaling.stores import Envelope, MemoryStore, Store, StoreUnavailable
from signaling.tickets import Tickets

log = logging.getLogger("peerserver.signaling")

SendMessage = Callable[[Message], Awaitable[None]]
_SWAP_TRIES = 8  # compare-and-swap attempts before a busy name is reported as such
_SUGGESTION_BATCH = 16
_TICKS_PER_LEASE = 10  # how often Hub.run looks at the leases: promotion comes this soon
_RENEWALS_PER_LEASE = 3  # how often a serving tab is asked to renew its lease


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
        self._servers: dict[str, str] = {}  # local server tab -> the name it serves, or ""
        self._standbys: dict[str, tuple[str, str]] = {}  # local standby tab -> (name, member)
        self._asked_renewal: dict[str, float] = {}  # local serving tab -> when last asked
        self._addresses: dict[str, str] = {}  # local server tab -> its address (client_key)
        self._visitors: dict[str, str] = {}  # local visitor -> the site it visits
        self._pending_offers: dict[str, int] = {}  # local visitor -> offers not answered yet
        self._tickets: Tickets | None = None
        self._lease_keeper: asyncio.Task[None] | None = None
        self._lease_requests: dict[str, Callable[[str, str, Message], Awaitable[None]]] = {
            messages.RENEW: self._renew,
            messages.SYNC: self._sync,
            messages.STANDBY_GRANT: self._grant,
            messages.STANDBY_REMOVE: self._remove_member,
            messages.HANDOVER: self._handover,
            messages.RESIGN: self._resign,
        }
        assert self._lease_requests.keys() == messages.LEASE_REQUESTS
        self.store.attach(self._on_envelope)

    async def start(self) -> None:
        """Start the store, and keep the leases from now on (:meth:`run`)."""
        await self.store.start()
        self._lease_keeper = asyncio.create_task(self.run())

    async def close(self) -> None:
        if self._lease_keeper is not None:
            self._lease_keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._lease_keeper
        await self.store.close()

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
            record = self.rules.live(await self._record(name), self._clock())
        except StoreUnavailable as problem:
            await send(error("unavailable", str(problem)))
            record = None
        online = record is not None and record.peer is not None
        await send(messages.server_status(online, record.epoch if record else 0))
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
                    await self._deliver(record.peer, messages.client_left(peer))
                return
            name = self._servers.pop(peer, "") or self._standbys.pop(peer, ("", ""))[0]
            self._addresses.pop(peer, None)
            self._asked_renewal.pop(peer, None)
            if name:
                await self._server_left(name, peer)
        except StoreUnavailable as problem:
            log.warning("after %s left: %s", peer, problem)

    async def _server_left(self, name: str, peer: str) -> None:
        """The serving tab (or a standby) ``peer`` of ``name`` left; a serving tab's lease
        stays until it runs out (see Rules.left)."""
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            now = self._clock()
            after = self.rules.left(record, peer, now)
            if record is None or after is None:
                return  # replaced by another tab of the owner meanwhile
            serving = record.peer == peer
            keep = self._kept_for(after, now) if serving else None
            if await self.store.swap(name, record, after, keep):
                if serving:
                    await self.store.broadcast(status_envelope(name, after))
                else:
                    await self._tell_members(name, after)
                return

    def _kept_for(self, away: NameRecord, now: float) -> float:
        """How long the store keeps an away record: until its reservation ends."""
        return max(0.0, self.rules.reserved_until(away) - now)

    # -- what peers say ------------------------------------------------------------------

    async def receive(self, peer: str, text: str | None) -> None:
        """Handle one message from ``peer``; a bad one is answered with an error."""
        try:
            message = parse(text)
            if message["type"] == messages.ICE_SERVERS:
                await self._send(peer, self._ice_servers(peer))
            elif peer in self._standbys:
                await self._from_standby(peer, message)
            elif peer in self._servers:
                await self._from_server(peer, message)
            elif peer in self._visitors:
                await self._from_visitor(peer, message)
        except ProtocolError as problem:
            await self._send(peer, problem.reply)
        except StoreUnavailable as problem:
            await self._send(peer, error("unavailable", str(problem)))

    async def _from_server(self, peer: str, message: Message) -> None:
        kind = message["type"]
        if kind not in messages.SERVER_TAB_SENDS:
            raise ProtocolError(error("bad-message", f"Unknown message type {kind!r}."))
        if kind == messages.REGISTER:
            await self._register(peer, message)
            return
        if kind == messages.JOIN:
            await self._join(peer, message)
            return
        name = self._servers[peer]
        if not name:
            raise ProtocolError(error("not-registered", "Register a name first."))
        if kind == messages.PACKAGE_TICKET:
            ticket = (await self.tickets()).issue(name, self._clock())
            await self._send(peer, messages.package_ticket(ticket))
        elif kind in messages.LEASE_REQUESTS:
            await self._lease_requests[kind](peer, name, message)
        else:
            to = message.get("to")
            if not is_peer_id(to):
                raise ProtocolError(error("unknown-peer", f"No visitor {to!r} is connected."))
            signal = messages.signal(message.get("data"))
            await self._deliver(to, signal, visiting=name, sender=peer)

    async def _from_standby(self, peer: str, message: Message) -> None:
        """A standby tab signals to the serving tab, to reach it over a peer connection; the
        owner's own (and only the owner's) may ask it to hand the site over (``take-over``)."""
        name, member = self._standbys[peer]
        kind = message["type"]
        if kind not in messages.STANDBY_SENDS or (kind == messages.TAKE_OVER and member != OWNER):
            raise ProtocolError(error("bad-message", "A standby tab only signals."))
        record = self.rules.live(await self._record(name), self._clock())
        if record is None or record.peer is None:
            raise ProtocolError(error("offline", f'"{name}" is not served now.'))
        if kind == messages.TAKE_OVER:
            await self._deliver(record.peer, messages.move_to(OWNER))
            return
        await self._deliver(
            record.peer, messages.signal_to_server(peer, message.get("data"), member)
        )

    async def _from_visitor(self, peer: str, message: Message) -> None:
        kind = message["type"]
        if kind not in messages.VISITOR_SENDS:
            raise ProtocolError(error("bad-message", f"Unknown message type {kind!r}."))
        name = self._visitors[peer]
        record = self.rules.live(await self._record(name), self._clock())
        if record is None or record.peer is None:
            raise ProtocolError(error("offline", f'The server "{name}" is offline.'))
        if messages.sdp_type(message.get("data")) == "offer":
            pending = self._pending_offers.get(peer, 0)
            if pending >= self.limits.pending_offers_per_visitor:
                raise ProtocolError(
                    error("too-many-offers", "Wait for the answers to your offers.")
                )
            self._pending_offers[peer] = pending + 1
            if not record.served:  # its first visitor: the name is in use (see Rules.reservation)
                await self.store.swap(name, record, replace(record, served=True))
        await self._deliver(record.peer, messages.signal_to_server(peer, message.get("data")))

    async def _register(self, peer: str, message: Message) -> None:
        """``register {name, token}`` (the owner's tab) or ``register {name, member,
        memberToken}`` (a standby's): the tab serves, or stands by. ``n`` numbers the request,
        for the tab's lease; ``complete: false`` says its copy of the site is not whole."""
        if self._servers[peer] or peer in self._standbys:
            raise ProtocolError(error("bad-message", "This connection already registered a name."))
        name, member = message.get("name"), message.get("member")
        owner = self._addresses.get(peer, "")
        for _ in range(_SWAP_TRIES):
            record = await self._record(name) if isinstance(name, str) else None
            now = self._clock()
            if member is None:
                token = message.get("token")
                decision = self.rules.register(name, token, peer, record, now, owner)
                if isinstance(decision, Registration) and decision.record.created == now:
                    decision = await self._within_quota(decision, name) or decision
            else:
                decision = self._member_arrives(name, member, message, peer, record, now)
            if isinstance(decision, Refusal):
                extra = {}
                if decision.code in ("taken", "invalid"):
                    extra["suggestion"] = await self.suggest(name if isinstance(name, str) else "")
                raise ProtocolError(error(decision.code, decision.message, **extra))
            if isinstance(decision, StandingBy) and message.get("complete") is False:
                incomplete = self.rules.leases.out_of_sync(decision.record, member or OWNER)
                decision = StandingBy(incomplete, decision.replaced)
            if await self.store.swap(name, record, decision.record):
                break
        else:
            raise ProtocolError(error("busy", f'"{name}" is changing hands; try again.'))
        if isinstance(decision, StandingBy):
            await self._standing_by(peer, name, member or OWNER, decision)
            return
        await self._now_serving(peer, name, decision.record, number(message))
        if decision.replaced is not None:
            # The owner's own new tab (a reload, usually before the old socket is noticed
            # gone); or, after a failover, the tab that served before, still connected.
            same_browser = record is not None and record.holder == decision.record.holder
            told = messages.replaced() if same_browser else messages.demoted(decision.record.epoch)
            await self._deliver(decision.replaced, told)
        await self.store.broadcast(status_envelope(name, decision.record))

    def _member_arrives(
        self,
        name: Any,
        member: Any,
        message: Message,
        peer: str,
        record: NameRecord | None,
        now: float,
    ) -> Registration | StandingBy | Refusal:
        live = self.rules.live(record, now) if isinstance(name, str) else None
        known = self.rules.leases.member(live, member, message.get("memberToken"))
        if live is None or known is None:
            return Refusal(
                "not-a-standby",
                f"This browser is not (or no longer) a standby of {json.dumps(str(name))}: "
                "ask the site's owner for a new standby link.",
            )
        return self.rules.arrive(live, known.id, peer, now)

    async def _now_serving(
        self, peer: str, name: str, record: NameRecord, n: int | None = None, local: bool = True
    ) -> Message:
        """The ``registered`` message of a tab that serves ``name`` now (sent to it if it is
        connected here: ``local``), with its lease (``n``: the request it answers; none for a
        promotion, whose tab asks for its lease itself)."""
        # The tab itself keeps to the number of visitors it serves at once.
        registered = messages.registered(
            name,
            max_visitors=self.limits.visitors_per_site,
            packages_ticket=(await self.tickets()).issue(name, self._clock()),
            epoch=record.epoch,
            lease_seconds=self.rules.leases.seconds,
            n=n,
            members=self.rules.leases.described(record),
        )
        if local:
            self._became_server(peer, name)
            await self._send(peer, registered)
        return registered

    def _became_server(self, peer: str, name: str) -> None:
        self._servers[peer] = name
        self._standbys.pop(peer, None)
        self._asked_renewal[peer] = self._clock()

    async def _standing_by(self, peer: str, name: str, member: str, decision: StandingBy) -> None:
        self._servers[peer] = ""
        self._standbys[peer] = (name, member)
        record = decision.record
        standby = messages.standby(name, member, record.peer is not None, record.epoch)
        await self._send(peer, standby)
        if decision.replaced is not None:
            await self._deliver(decision.replaced, messages.replaced())
        await self._tell_members(name, record)

    async def _tell_members(self, name: str, record: NameRecord) -> None:
        """Tell the serving tab who its members are now."""
        if record.peer is not None:
            members = messages.members(self.rules.leases.described(record))
            await self._deliver(record.peer, members)

    # -- leases --------------------------------------------------------------------------

    async def _change(
        self,
        peer: str,
        name: str,
        message: Message,
        change: Callable[[NameRecord, float], NameRecord | Refusal],
        live_lease: bool = False,
    ) -> NameRecord | None:
        """Apply ``change`` to the record of ``name``, which ``peer`` serves in the epoch its
        ``message`` names (with a lease that has not run out: ``live_lease``). A tab that no
        longer serves is told so, and None returned."""
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            now = self._clock()
            holds = self.rules.leases.holds(record, peer, message.get("epoch"))
            if record is None or not holds or (live_lease and now >= record.lease_until):
                await self._not_serving(peer, name, record)
                return None
            new = change(record, now)
            if isinstance(new, Refusal):
                raise ProtocolError(error(new.code, new.message))
            if await self.store.swap(name, record, new):
                return new
        raise ProtocolError(error("busy", f'"{name}" is changing hands; try again.'))

    async def _not_serving(self, peer: str, name: str, record: NameRecord | None) -> None:
        """``peer`` asked as the serving tab of ``name``, which it no longer is."""
        self._servers[peer] = ""
        if self.rules.live(record, self._clock()) is None:
            await self._send(peer, error("released", f'"{name}" is no longer this tab\'s name.'))
        else:
            await self._send(peer, messages.demoted(record.epoch if record else 0))

    async def _renew(self, peer: str, name: str, message: Message) -> None:
        """``renew {epoch, n}``: the serving tab's lease goes on, from now."""
        record = await self._change(
            peer, name, message, lambda r, now: self.rules.leases.renew(r, now)
        )
        if record is not None:
            self._asked_renewal[peer] = self._clock()
            lease = messages.lease(record.epoch, number(message), self.rules.leases.seconds)
            await self._send(peer, lease)

    async def _sync(self, peer: str, name: str, message: Message) -> None:
        """``sync {epoch, inSync, n}``: the standbys whose copies hold every write the serving
        tab answered, the most up-to-date first; only while its lease lasts."""
        in_sync = message.get("inSync")
        record = await self._change(
            peer, name, message, lambda r, _now: self.rules.leases.declare(r, in_sync), True
        )
        if record is not None:
            await self._send(peer, messages.synced(number(message), list(record.in_sync)))
            await self._tell_members(name, record)

    async def _grant(self, peer: str, name: str, message: Message) -> None:
        """``standby-grant``: a standby link's grant, for this name only, usable once."""
        record = self.rules.live(await self.store.get(name), self._clock())
        if record is None or record.peer != peer:
            await self._not_serving(peer, name, record)
            return
        grant = secrets.token_urlsafe(24)
        await self.store.put_value(grant_key(grant), name, GRANT_SECONDS)
        expires = self._clock() + GRANT_SECONDS
        await self._send(peer, messages.standby_grant(grant, expires))

    async def _join(self, peer: str, message: Message) -> None:
        """``join {name, grant, where}``: a standby link used; the tab becomes a member of the
        site and gets its member token (``joined``), with which it registers."""
        name, grant = message.get("name"), message.get("grant")
        if self._servers[peer] or peer in self._standbys:
            raise ProtocolError(error("bad-message", "This connection already registered a name."))
        if not isinstance(name, str) or not isinstance(grant, str) or len(grant) > 128:
            raise ProtocolError(error("bad-message", "join needs a name and a grant."))
        if await self.store.take_value(grant_key(grant)) != name:
            raise ProtocolError(
                error(
                    "bad-grant",
                    "This standby link was used already, has expired, or is not for this site: "
                    "ask the site's owner for a new one.",
                )
            )
        token = secrets.token_urlsafe(32)
        where = f"{clean_where(message.get('where'))} · {self._addresses.get(peer, '')}"
        member = Member(secrets.token_hex(8), member_token_hash(token), self._clock(), where)
        for _ in range(_SWAP_TRIES):
            record = self.rules.live(await self.store.get(name), self._clock())
            if record is None:
                raise ProtocolError(error("released", f'"{name}" is not held by anyone now.'))
            joined = self.rules.leases.join(record, member)
            if joined is None:
                raise ProtocolError(
                    error(
                        "too-many",
                        "This site has as many standbys as it may: the owner can "
                        "remove one to make room.",
                    )
                )
            if await self.store.swap(name, record, joined):
                break
        else:
            raise ProtocolError(error("busy", f'"{name}" is changing hands; try again.'))
        await self._send(peer, messages.joined(name, member.id, token))
        await self._tell_members(name, joined)

    async def _remove_member(self, peer: str, name: str, message: Message) -> None:
        """``standby-remove {epoch, member}``: the owner removes a standby; its tab is told."""
        member = message.get("member")
        before: list[NameRecord] = []

        def remove(record: NameRecord, _now: float) -> NameRecord:
            before.append(record)
            return self.rules.leases.remove(record, member if isinstance(member, str) else "")

        record = await self._change(peer, name, message, remove)
        if record is None:
            return
        standing = self.rules.leases.standing(before[-1], member)
        if standing is not None:
            await self._deliver(standing, messages.removed())
        await self._tell_members(name, record)

    async def _handover(self, peer: str, name: str, message: Message) -> None:
        """``handover {epoch, to}``: a planned move to the in-sync standby ``to``; the serving
        tab has stopped answering before it asks."""
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            now = self._clock()
            decision = self.rules.handover(
                record, peer, message.get("epoch"), message.get("to"), now
            )
            if isinstance(decision, Refusal):
                raise ProtocolError(error(decision.code, decision.message))
            if await self.store.swap(name, record, decision.record):
                await self._promoted(name, decision, handed_over=peer)
                return
        raise ProtocolError(error("busy", f'"{name}" is changing hands; try again.'))

    async def _resign(self, peer: str, name: str, message: Message) -> None:
        """``resign {epoch}``: the serving tab stopped answering and is going away (its page
        closes): an in-sync standby serves in a few seconds (Rules.resign), without waiting for
        the whole lease to run out."""
        for _ in range(_SWAP_TRIES):
            record = await self.store.get(name)
            now = self._clock()
            after = self.rules.resign(record, peer, message.get("epoch"), now)
            if after is None:
                return
            if await self.store.swap(name, record, after, self._kept_for(after, now)):
                self._servers[peer] = ""
                await self.store.broadcast(status_envelope(name, after))
                return

    async def _promote(self, name: str) -> None:
        """Promote a standby of ``name`` if its lease has run out and one may serve."""
        for _ in range(_SWAP_TRIES):
            record = await self._record(name)
            promotion = self.rules.promotion(record, self._clock())
            if promotion is None:
                return
            if await self.store.swap(name, record, promotion.record):
                await self._promoted(name, promotion)
                return

    async def _promoted(
        self, name: str, promotion: Promotion, handed_over: str | None = None
    ) -> None:
        record = promotion.record
        log.info("%s: %s serves it now (epoch %d)", name, promotion.member, record.epoch)
        registered = await self._now_serving(promotion.peer, name, record, local=False)
        await self._deliver(promotion.peer, registered)
        if handed_over is not None:
            await self._deliver(handed_over, messages.handed_over(record.epoch))
        elif promotion.demoted is not None:
            await self._deliver(promotion.demoted, messages.demoted(record.epoch))
        await self.store.broadcast(status_envelope(name, record))

    async def tick(self) -> None:
        """One look at the leases: serving tabs connected here are asked to renew theirs (a few
        times a lease; the tab answers with ``renew``), and the sites of the standbys
        connected here get a promotion if their lease has run out."""
        now = self._clock()
        every = self.rules.leases.seconds / _RENEWALS_PER_LEASE
        for peer, name in list(self._servers.items()):
            if name and now - self._asked_renewal.get(peer, now) >= every:
                self._asked_renewal[peer] = now
                await self._send(peer, messages.renew_lease())
        for name in {name for name, _member in self._standbys.values()}:
            try:
                await self._promote(name)
            except StoreUnavailable as problem:
                log.warning("leases of %s: %s", name, problem)

    async def run(self) -> None:
        """Keep the leases (:meth:`tick`) until cancelled."""
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("looking at the leases failed")
            await asyncio.sleep(self.rules.leases.seconds / _TICKS_PER_LEASE)

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
                released = error("released", "The service's operator released this name.")
                for peer in [record.peer, *(p for _m, p in record.standbys)]:
                    if peer is not None:
                        await self._deliver(peer, released)
                if record.peer is not None:
                    await self.store.broadcast({"status": name, "online": False, "epoch": 0})
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
        message: Message,
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
            epoch = envelope.get("epoch")
            status = messages.server_status(
                envelope["online"], epoch if isinstance(epoch, int) else 0
            )
            site = envelope["status"]
            listeners = [visitor for visitor, name in self._visitors.items() if name == site]
            listeners += [tab for tab, (name, _m) in self._standbys.items() if name == site]
            for peer in listeners:
                await self._send(peer, status)
            return
        to, message = envelope.get("to"), envelope.get("message")
        if not is_peer_id(to) or not isinstance(message, dict):
            log.warning("dropped a malformed envelope: %.200r", envelope)
            return
        visiting = envelope.get("visiting")
        standing_for = self._standbys.get(to, ("", ""))[0]
        if visiting is not None and visiting not in (self._visitors.get(to), standing_for):
            sender = envelope.get("from")
            if is_peer_id(sender):
                reply = error("unknown-peer", f"No visitor {to!r} is connected.")
                await self._deliver(sender, reply)
            return
        kind = message.get("type")
        given_up = kind in messages.STOPS_SERVING or message.get("code") == "released"
        if given_up and to in self._servers:
            # Its socket closing no longer concerns the name; it may register again.
            self._servers[to] = ""
            self._standbys.pop(to, None)
        if kind == messages.REGISTERED and to in self._servers:
            self._became_server(to, str(message.get("name")))  # a promotion
        if to in self._pending_offers and messages.answers_offer(message.get("data")):
            self._pending_offers[to] -= 1
        await self._send(to, message)

    async def _send(self, peer: str, message: Message) -> None:
        send = self._sends.get(peer)
        if send is not None:
            await send(message)

    def _new_peer(self, send: SendMessage) -> str:
        peer = f"{self.store.instance}/{next(self._ids)}"
        self._sends[peer] = send
        return peer

    def _ice_servers(self, peer: str) -> Message:
        return self.ice.for_peer(peer.replace("/", "-"), self._clock())


def status_envelope(name: str, record: NameRecord) -> Envelope:
    return {"status": name, "online": record.peer is not None, "epoch": record.epoch}
