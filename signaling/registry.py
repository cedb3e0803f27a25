"""The signaling service's rules, with no I/O: who may hold a name, for how long, how many.

:class:`signaling.hub.Hub` owns the sockets and a :class:`signaling.stores.Store` (one process's
memory, or Redis shared by several instances); it asks this module what to do. Everything a
server tab and its visitors say to each other (SDP offers and answers, ICE candidates) passes
through opaque; site content never does, it travels over the data channels.

The messages themselves, their types and fields, are :mod:`signaling.messages`'s. Who serves a
name, its lease and its standbys are :mod:`signaling.leases`'s rules.

Names are a shared namespace, so what one client takes of it is bounded: the names one address
(IPv6: one /64) holds or keeps reserved at once, and the names one owner token does. When its
tab goes away, a name stays reserved for its owner as long as it was served, at least
``unused_reservation_seconds`` and at most ``reservation_seconds``; a name that never served a
visitor, only the former.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, replace
from typing import Any

from signaling.leases import OWNER, Leases, Member, Promotion
from signaling.names import name_problem

DEFAULT_RESERVATION_SECONDS = 7 * 24 * 3600  # the longest: a name that served for a week
DEFAULT_UNUSED_RESERVATION_SECONDS = 3600  # the shortest: a name that never served a visitor
# Enough for a classroom's sites behind one school address; not for a dictionary's words.
DEFAULT_NAMES_PER_ADDRESS = 64
DEFAULT_NAMES_PER_OWNER = 16
# A serving tab that closes gives its lease up; the next tab of the same browser (a reload) has
# this long to take it back before a standby serves.
RESIGN_GRACE_SECONDS = 3.0
_PEER = re.compile(r"^[A-Za-z0-9_-]{1,64}/[0-9]{1,18}$")


@dataclass(frozen=True)
class NameRecord:
    """Who holds a name: the owner's token, and the peer serving it (None while it is away).

    ``owner`` is the address (:func:`signaling.limits.client_key`) its tab registered from;
    ``created`` when the name was first taken; ``since`` when its current tab registered;
    ``online_seconds`` how long its earlier tabs served it; ``served`` whether a visitor ever
    came. ``away_since`` is the Unix time the serving tab went away, and ``reserved_until``
    when the name is free again (None: the full reservation after ``away_since``, as records
    written before these fields had it).

    Who may serve it (:mod:`signaling.leases`): the lease's ``epoch``, its ``holder`` (the
    member that serves, or served last) and when it runs out (``lease_until``); the standby
    browsers the owner invited (``members``), the tabs of theirs standing by now
    (``standbys``, as (member, peer)), and those the holder declared in sync (``in_sync``)."""

    token: str
    peer: str | None
    away_since: float = 0.0
    owner: str = ""
    created: float = 0.0
    since: float = 0.0
    online_seconds: float = 0.0
    served: bool = False
    reserved_until: float | None = None
    epoch: int = 0
    holder: str = OWNER
    lease_until: float = 0.0
    members: tuple[Member, ...] = ()
    standbys: tuple[tuple[str, str], ...] = ()
    in_sync: tuple[str, ...] = ()

    def to_json(self) -> str:
        data = asdict(self)
        data["members"] = [member.to_json() for member in self.members]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> NameRecord:
        data = json.loads(text)
        return cls(
            token=data["token"],
            peer=data["peer"],
            away_since=float(data["away_since"]),
            owner=str(data.get("owner", "")),
            created=float(data.get("created", 0.0)),
            since=float(data.get("since", 0.0)),
            online_seconds=float(data.get("online_seconds", 0.0)),
            served=bool(data.get("served", False)),
            reserved_until=(
                None if data.get("reserved_until") is None else float(data["reserved_until"])
            ),
            epoch=int(data.get("epoch", 0)),
            holder=str(data.get("holder", OWNER)),
            lease_until=float(data.get("lease_until", 0.0)),
            members=tuple(Member.from_json(member) for member in data.get("members", ())),
            standbys=tuple((str(m), str(p)) for m, p in data.get("standbys", ())),
            in_sync=tuple(str(member) for member in data.get("in_sync", ())),
        )


@dataclass(frozen=True)
class Refusal:
    code: str
    message: str


@dataclass(frozen=True)
class Registration:
    """A name granted to ``record.peer``; ``replaced`` is the tab that served it until now, if
    it is still connected (the owner's previous tab, or a standby's after a failover)."""

    record: NameRecord
    replaced: str | None


@dataclass(frozen=True)
class StandingBy:
    """The name is served by another member's copy: the tab stands by (``record``);
    ``replaced`` is an earlier standby tab of the same browser, if any."""

    record: NameRecord
    replaced: str | None


def indexes(record: NameRecord) -> list[str]:
    """The keys a record is counted under, for quotas: its owner's address and its token (by
    hash: a store's keys are not secret)."""
    token = hashlib.sha256(record.token.encode()).hexdigest()[:32]
    return [f"address:{record.owner}", f"token:{token}"]


def is_peer_id(value: Any) -> bool:
    return isinstance(value, str) and _PEER.match(value) is not None


def instance_of(peer: str) -> str:
    return peer.split("/", 1)[0]


class Rules:
    """What a name's record allows, at a given Unix time."""

    def __init__(
        self,
        reservation_seconds: float = DEFAULT_RESERVATION_SECONDS,
        unused_reservation_seconds: float | None = None,
        names_per_address: int = DEFAULT_NAMES_PER_ADDRESS,
        names_per_owner: int = DEFAULT_NAMES_PER_OWNER,
        leases: Leases | None = None,
    ) -> None:
        self.leases = leases or Leases()
        self.reservation_seconds = reservation_seconds
        self.unused_reservation_seconds = min(
            reservation_seconds,
            DEFAULT_UNUSED_RESERVATION_SECONDS
            if unused_reservation_seconds is None
            else unused_reservation_seconds,
        )
        self.names_per_address = names_per_address
        self.names_per_owner = names_per_owner

    def live(self, record: NameRecord | None, now: float) -> NameRecord | None:
        """``record`` if it still holds its name at ``now``, else None (the name is free)."""
        if record is None:
            return None
        if record.peer is None and now > self.reserved_until(record):
            return None
        return record

    def reserved_until(self, record: NameRecord) -> float:
        if record.reserved_until is not None:
            return record.reserved_until
        return record.away_since + self.reservation_seconds

    def served_seconds(self, record: NameRecord, now: float) -> float:
        """How long tabs have served the name, the current one included."""
        return record.online_seconds + (max(0.0, now - record.since) if record.peer else 0.0)

    def reservation(self, record: NameRecord, now: float) -> float:
        """How long the name stays its owner's once its tab is gone at ``now``."""
        if not record.served:
            return self.unused_reservation_seconds
        held = self.served_seconds(record, now)
        return min(self.reservation_seconds, max(self.unused_reservation_seconds, held))

    def away(self, record: NameRecord, now: float) -> NameRecord:
        """The record once its tab is gone (its instance stopped, say): reserved from now."""
        return replace(
            record,
            peer=None,
            away_since=now,
            online_seconds=self.served_seconds(record, now),
            reserved_until=now + self.reservation(record, now),
        )

    def quota_problem(self, held_by_address: int, held_by_owner: int) -> Refusal | None:
        """Why a new name cannot be taken by a client that holds these many already."""
        unused = _duration(self.unused_reservation_seconds)
        later = (
            f"A name is released when its reservation ends ({unused} after its tab closed, for "
            "a name that never served a visitor); the service's operator can release names."
        )
        if held_by_address >= self.names_per_address:
            return Refusal(
                "quota",
                f"Your address holds {held_by_address} names already, the most one address may "
                f"hold at once ({self.names_per_address}). {later}",
            )
        if held_by_owner >= self.names_per_owner:
            return Refusal(
                "quota",
                f"This browser holds {held_by_owner} names already, the most one owner may "
                f"hold at once ({self.names_per_owner}). {later}",
            )
        return None

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
        self,
        name: Any,
        token: Any,
        peer: str,
        record: NameRecord | None,
        now: float,
        owner: str = "",
    ) -> Registration | StandingBy | Refusal:
        """``peer`` (from the address ``owner``) asks for ``name`` with ``token``, the name's
        record being ``record``. What the owner's earlier tabs served it is carried over. While
        a standby's copy serves the name, the owner's tab stands by (see :meth:`arrive`)."""
        if not isinstance(token, str) or not 16 <= len(token) <= 128:
            return Refusal("bad-message", "register needs a token of 16 to 128 characters.")
        status = self.status(name if isinstance(name, str) else "", token, record, now)
        if not status["available"]:
            return Refusal(status["reason"], status["message"])
        live = self.live(record, now)
        if live is None:
            new = NameRecord(token, None, owner=owner, created=now, since=now)
            return Registration(self.leases.take(new, OWNER, peer, now), None)
        return self.arrive(live, OWNER, peer, now, owner)

    def arrive(
        self, record: NameRecord, member: str, peer: str, now: float, owner: str | None = None
    ) -> Registration | StandingBy:
        """``member``'s tab at ``peer`` came for the live ``record``: it serves if its copy may
        (:meth:`signaling.leases.Leases.may_serve`), and stands by otherwise."""
        if self.leases.may_serve(record, member, now):
            replaced = record.peer if record.peer not in (None, peer) else None
            return Registration(self.serve(record, member, peer, now, owner), replaced)
        earlier = self.leases.standing(record, member)
        return StandingBy(
            self.leases.stand_by(record, member, peer), earlier if earlier != peer else None
        )

    def serve(
        self, record: NameRecord, member: str, peer: str, now: float, owner: str | None = None
    ) -> NameRecord:
        """``record`` once ``member``'s tab at ``peer`` serves it, with a fresh lease; what its
        earlier tabs served is carried over (``owner``: the address the owner came from)."""
        return replace(
            self.leases.take(record, member, peer, now),
            owner=record.owner if owner is None else owner,
            since=now,
            online_seconds=self.served_seconds(record, now),
            away_since=0.0,
            reserved_until=None,
        )

    def promotion(self, record: NameRecord | None, now: float) -> Promotion | None:
        """The standby that serves from ``now``, if the lease has run out and one may."""
        live = self.live(record, now)
        chosen = self.leases.candidate(live, now) if live is not None else None
        if live is None or chosen is None:
            return None
        member, peer = chosen
        return Promotion(self.serve(live, member, peer, now), member, peer, demoted=live.peer)

    def handover(
        self, record: NameRecord | None, peer: str, epoch: Any, to: Any, now: float
    ) -> Promotion | Refusal:
        """The serving tab ``peer`` hands the name to the standby ``to`` (a planned move)."""
        if record is None or not self.leases.holds(record, peer, epoch):
            return Refusal("not-serving", "This tab no longer serves the site.")
        standing = self.leases.standing(record, to) if isinstance(to, str) else None
        if standing is None or to not in record.in_sync:
            return Refusal(
                "not-in-sync",
                "That standby cannot take over now: it is not connected, or its copy is not "
                "in sync. Wait until the list shows it in sync.",
            )
        return Promotion(self.serve(record, to, standing, now), to, standing, demoted=None)

    def resign(
        self, record: NameRecord | None, peer: str, epoch: Any, now: float
    ) -> NameRecord | None:
        """The serving tab ``peer`` stopped answering and gives its lease up (its page is
        closing): the record with the lease ending in a few seconds (a page that reloads takes
        it back at once: its copy is the latest), or None if it did not hold it."""
        if record is None or not self.leases.holds(record, peer, epoch):
            return None
        lease_until = min(record.lease_until, now + RESIGN_GRACE_SECONDS)
        return replace(self.away(record, now), lease_until=lease_until)

    def left(self, record: NameRecord | None, peer: str, now: float) -> NameRecord | None:
        """The record after ``peer``'s socket closed, or None if ``peer`` neither served it nor
        stood by. A serving tab's lease stays until it runs out: the service cannot tell a tab
        that closed from one cut off from it, which may still be answering its visitors."""
        if record is None:
            return None
        if record.peer == peer:
            return self.away(record, now)
        return self.leases.gone(record, peer)


def _duration(seconds: float) -> str:
    """``seconds`` as a person says it: "1 hour", "90 minutes", "2 days"."""
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = int(seconds // size)
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds:g} seconds"
