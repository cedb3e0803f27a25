"""Who may serve a name: its lease, its standby tabs, and promotions. No I/O; the time comes in.

A site may have *standby* tabs in other browsers: its owner invites each with a standby link
(a grant, usable once), and each keeps a live copy of the site that the serving tab replicates
to it over a data channel of their own. When the serving tab goes away, one of them serves.
Every tab that may serve a name is a *member* of it: the owner's own browser (``OWNER``, known
by the owner's token) and each invited standby (known by a member token of its own, which the
service keeps only as a hash).

Three rules keep a site's data safe, as a database's primary and its replicas keep theirs:

* **One holder at a time.** The right to serve is a *lease*, given to one tab at a time (each
  time in a new *epoch*, the fencing token) and renewed by that tab while it serves. A standby
  is promoted only once the lease has run out, or when its holder gave it up. The serving tab
  keeps a deadline of its own, counted from when it *asked* for the lease and ending a margin
  before the service's; past it, it answers nothing. So two tabs never both answer, even when
  visitors still hold data channels to the old one.
* **Only a copy with every answered write may serve.** The holder's own copy is always the
  latest (``holder``: the member that serves, or served last). A standby's copy is, once the
  holder has declared it *in sync* (``in_sync``): from then on the holder answers a write only
  when every in-sync standby has confirmed it, or after the service has acknowledged that
  standby's removal from the set. Promotion takes an in-sync standby only, and the new holder
  starts with none in sync. (Patroni's synchronous mode keeps PostgreSQL's synchronous standby
  in its store in the same way, for the same reason.)
* **The store decides.** Every change of a record goes through the store's compare-and-swap,
  so two instances of the service cannot promote two standbys.

A holder with no standby in sync needs no lease to go on serving while the service is away:
nobody could take its place. That is how a site without standbys keeps serving through a
restart of the service, as it always has.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from signaling.registry import NameRecord

OWNER = "owner"  # the member id of the owner's own browser
DEFAULT_LEASE_SECONDS = 10.0
MAX_MEMBERS = 8  # standbys one site may have
GRANT_SECONDS = 600  # how long a standby link can be used
MAX_WHERE = 120


@dataclass(frozen=True)
class Member:
    """A standby browser its owner invited: a random id, the hash of its member token, when it
    joined, and where it is (its browser, as it says, and its address)."""

    id: str
    token_hash: str
    since: float
    where: str

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "token_hash": self.token_hash,
            "since": self.since,
            "where": self.where,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Member:
        return cls(
            str(data["id"]), str(data["token_hash"]), float(data["since"]), str(data["where"])
        )


@dataclass(frozen=True)
class Promotion:
    """``member``'s tab at ``peer`` serves from now on (``record``); ``demoted`` is the tab that
    served before, if it is still connected, to be told."""

    record: NameRecord
    member: str
    peer: str
    demoted: str | None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def grant_key(grant: str) -> str:
    """Where a standby link's grant is kept (by hash: the store's keys are not secret)."""
    return f"standby-grant:{token_hash(grant)}"


def clean_where(text: Any) -> str:
    """What a standby says of its browser, as the owner is shown it: printable, and short."""
    if not isinstance(text, str):
        return "a browser"
    printable = "".join(character for character in text if character.isprintable())
    return printable.strip()[:MAX_WHERE] or "a browser"


class Leases:
    """The rules of a name's lease and its members, with a lease of ``seconds``."""

    def __init__(self, seconds: float = DEFAULT_LEASE_SECONDS) -> None:
        if not seconds > 0:
            raise ValueError("a lease lasts more than 0 seconds")
        self.seconds = seconds

    # -- who may serve ---------------------------------------------------------------------

    def expired(self, record: NameRecord, now: float) -> bool:
        return now >= record.lease_until

    def may_serve(self, record: NameRecord, member: str, now: float) -> bool:
        """Whether ``member``'s copy holds every write ever answered, so that it may take the
        lease now: the holder's own copy always (another tab of the same browser takes over at
        once; that browser's Web Lock keeps its two tabs from serving together), an in-sync
        standby's once the lease has run out."""
        if record.holder == member:
            return True
        return self.expired(record, now) and member in record.in_sync

    def take(self, record: NameRecord, member: str, peer: str, now: float) -> NameRecord:
        """``record`` once ``member``'s tab at ``peer`` holds a fresh lease, in a new epoch.
        Nobody is in sync with it yet: it declares its standbys again as they catch up."""
        return replace(
            record,
            peer=peer,
            epoch=record.epoch + 1,
            holder=member,
            lease_until=now + self.seconds,
            standbys=tuple((m, p) for m, p in record.standbys if m != member and p != peer),
            in_sync=(),
        )

    def candidate(self, record: NameRecord, now: float) -> tuple[str, str] | None:
        """The standby to promote now, as (member, peer): the lease has run out, and an in-sync
        standby is connected (the most up-to-date first, as the holder listed them)."""
        if not self.expired(record, now):
            return None
        standing = dict(record.standbys)
        for member in record.in_sync:
            if member in standing and member != record.holder:
                return member, standing[member]
        return None

    # -- the holder ------------------------------------------------------------------------

    def holds(self, record: NameRecord | None, peer: str, epoch: Any) -> bool:
        """Whether ``peer`` serves ``record`` in ``epoch``."""
        return record is not None and record.peer == peer and record.epoch == epoch

    def renew(self, record: NameRecord, now: float) -> NameRecord:
        return replace(record, lease_until=now + self.seconds)

    def declare(self, record: NameRecord, in_sync: Any) -> NameRecord:
        """The holder's list of the members in sync with it (the most up-to-date first): only
        its members count, and not itself."""
        known = {member.id for member in record.members}
        if record.holder != OWNER:
            known.add(OWNER)
        listed: list[str] = []
        for member in in_sync if isinstance(in_sync, list) else []:
            if isinstance(member, str) and member in known and member not in listed:
                listed.append(member)
        return replace(record, in_sync=tuple(listed))

    def out_of_sync(self, record: NameRecord, member: str) -> NameRecord:
        """``member`` says its copy is not complete: it can no longer be promoted."""
        return replace(record, in_sync=tuple(m for m in record.in_sync if m != member))

    # -- members ---------------------------------------------------------------------------

    def member(self, record: NameRecord | None, member: Any, token: Any) -> Member | None:
        """The member ``member`` of ``record``, if ``token`` is its member token."""
        if record is None or not isinstance(member, str) or not isinstance(token, str):
            return None
        for known in record.members:
            if known.id == member and hmac.compare_digest(known.token_hash, token_hash(token)):
                return known
        return None

    def join(self, record: NameRecord, member: Member) -> NameRecord | None:
        """``record`` with ``member`` added, or None when the site has as many as it may."""
        if len(record.members) >= MAX_MEMBERS:
            return None
        return replace(record, members=(*record.members, member))

    def remove(self, record: NameRecord, member: str) -> NameRecord:
        return replace(
            record,
            members=tuple(m for m in record.members if m.id != member),
            standbys=tuple((m, p) for m, p in record.standbys if m != member),
            in_sync=tuple(m for m in record.in_sync if m != member),
        )

    def stand_by(self, record: NameRecord, member: str, peer: str) -> NameRecord:
        """``member``'s tab at ``peer`` stands by (in place of an earlier tab of the same
        browser, if any)."""
        standbys = tuple((m, p) for m, p in record.standbys if m != member)
        return replace(record, standbys=(*standbys, (member, peer)))

    def standing(self, record: NameRecord | None, member: str) -> str | None:
        """The peer of ``member``'s standby tab, if one is connected."""
        return dict(record.standbys).get(member) if record is not None else None

    def gone(self, record: NameRecord, peer: str) -> NameRecord | None:
        """``record`` once the standby tab at ``peer`` left, or None if none was there."""
        standbys = tuple((m, p) for m, p in record.standbys if p != peer)
        return None if standbys == record.standbys else replace(record, standbys=standbys)

    def described(self, record: NameRecord) -> list[dict[str, Any]]:
        """The members as the serving tab shows them: where, since when, standing by now,
        in sync (the owner's browser too, when it is not the one serving)."""
        standing = dict(record.standbys)
        listed = [(m.id, m.where, m.since) for m in record.members]
        if record.holder != OWNER:
            listed.insert(0, (OWNER, "the owner's browser", record.created))
        return [
            {
                "id": member,
                "where": where,
                "since": since,
                "standing": member in standing,
                "inSync": member in record.in_sync,
            }
            for member, where, since in listed
            if member != record.holder
        ]
