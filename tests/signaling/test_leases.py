"""Who serves a name when its site has standbys: the lease rules with no I/O (directly, and
under random histories), then the hub carrying them out over each store, and two hubs sharing
one Redis that must not both promote."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from signaling import hub as hub_module
from signaling.hub import Hub
from signaling.leases import MAX_MEMBERS, OWNER, Leases, Member, Promotion, token_hash
from signaling.registry import (
    RESIGN_GRACE_SECONDS,
    NameRecord,
    Refusal,
    Registration,
    Rules,
    StandingBy,
)
from signaling.stores import RedisStore
from tests.signaling.test_hub import Clock, Peer, redis_url, server, settled, visitor
from tests.signaling.test_hub import make_hub as make_hub  # the fixture, over each store
from tests.signaling.test_service import OTHER_TOKEN, TOKEN, online

__all__ = ["make_hub", "redis_url"]  # fixtures used here

LEASE = 10.0
MEMBER_TOKEN = "m" * 40


def member(id_: str = "s1", token: str = MEMBER_TOKEN) -> Member:
    return Member(id_, token_hash(token), since=0.0, where="Chromium on Linux · 10.0.0.2")


# -- the rules, with no I/O ------------------------------------------------------------------


def test_the_owner_holds_a_lease_in_a_new_epoch_each_time() -> None:
    rules = Rules(leases=Leases(LEASE))
    first = rules.register("demo", TOKEN, "a/1", None, now=0)
    assert isinstance(first, Registration)
    assert (first.record.epoch, first.record.holder, first.record.lease_until) == (1, OWNER, 10)
    # The owner's other tab (the same browser: its Web Lock keeps the two apart) takes over.
    again = rules.register("demo", TOKEN, "a/2", first.record, now=3)
    assert isinstance(again, Registration) and again.replaced == "a/1"
    assert (again.record.epoch, again.record.lease_until) == (2, 13)
    assert rules.leases.holds(again.record, "a/2", 2)
    assert not rules.leases.holds(again.record, "a/1", 1)


def test_a_standby_is_promoted_only_in_sync_and_once_the_lease_has_run_out() -> None:
    rules = Rules(leases=Leases(LEASE))
    held = rules.register("demo", TOKEN, "a/1", None, now=0).record
    held = rules.leases.join(held, member())
    standing = rules.arrive(held, "s1", "b/1", now=1)
    assert isinstance(standing, StandingBy) and standing.record.standbys == (("s1", "b/1"),)
    record = standing.record
    away = rules.left(record, "a/1", now=2)  # the serving tab's socket closed
    assert away.peer is None and away.lease_until == LEASE  # its lease goes on
    assert rules.promotion(away, now=50) is None  # not in sync: the name waits for its owner
    in_sync = rules.leases.declare(record, ["s1", "nobody", "s1", OWNER])
    assert in_sync.in_sync == ("s1",)  # only its members, once, not itself
    away = rules.left(in_sync, "a/1", now=2)
    assert rules.promotion(away, now=LEASE - 0.001) is None  # the lease has not run out
    promotion = rules.promotion(away, now=LEASE)
    assert isinstance(promotion, Promotion) and (promotion.member, promotion.peer) == ("s1", "b/1")
    promoted = promotion.record
    assert (promoted.peer, promoted.epoch, promoted.holder) == ("b/1", 2, "s1")
    assert promoted.in_sync == () and promoted.standbys == ()  # nobody is in sync with it yet
    assert promoted.lease_until == 2 * LEASE
    # The owner's tab comes back: its copy is behind, so it stands by.
    back = rules.register("demo", TOKEN, "a/9", promoted, now=LEASE + 1)
    assert isinstance(back, StandingBy) and back.record.standbys == ((OWNER, "a/9"),)
    # ... and is in sync once the standby that serves now says so; then it may take over.
    listed = rules.leases.declare(back.record, [OWNER])
    assert listed.in_sync == (OWNER,) and rules.leases.described(listed)[0]["inSync"]
    assert rules.promotion(listed, now=2 * LEASE).member == OWNER


def test_a_tab_that_gives_its_lease_up_is_followed_in_a_few_seconds() -> None:
    rules = Rules(leases=Leases(LEASE))
    record = rules.register("demo", TOKEN, "a/1", None, now=0).record
    record = rules.leases.join(record, member())
    record = rules.leases.declare(rules.arrive(record, "s1", "b/1", now=0).record, ["s1"])
    assert rules.resign(record, "a/1", epoch=7, now=1) is None  # not its epoch
    assert rules.resign(record, "b/1", epoch=1, now=1) is None  # not its lease
    resigned = rules.resign(record, "a/1", epoch=1, now=1)
    assert resigned.peer is None and resigned.lease_until == 1 + RESIGN_GRACE_SECONDS
    assert rules.promotion(resigned, now=1 + RESIGN_GRACE_SECONDS).peer == "b/1"
    # The same browser's next tab (a reload) takes it back meanwhile: no failover.
    reloaded = rules.register("demo", TOKEN, "a/2", resigned, now=2)
    assert isinstance(reloaded, Registration) and reloaded.record.holder == OWNER


def test_a_planned_move_goes_to_an_in_sync_standby_only() -> None:
    rules = Rules(leases=Leases(LEASE))
    record = rules.register("demo", TOKEN, "a/1", None, now=0).record
    record = rules.leases.join(record, member())
    record = rules.arrive(record, "s1", "b/1", now=0).record
    refusal = rules.handover(record, "a/1", 1, "s1", now=1)
    assert isinstance(refusal, Refusal) and refusal.code == "not-in-sync"
    record = rules.leases.declare(record, ["s1"])
    assert rules.handover(record, "a/1", 2, "s1", now=1).code == "not-serving"
    move = rules.handover(record, "a/1", 1, "s1", now=1)
    assert isinstance(move, Promotion) and move.record.peer == "b/1" and move.record.epoch == 2


def test_members_are_known_by_their_token_and_bounded() -> None:
    leases = Leases(LEASE)
    record = NameRecord(TOKEN, "a/1", members=(member(),))
    assert leases.member(record, "s1", MEMBER_TOKEN) == member()
    assert leases.member(record, "s1", "x" * 40) is None
    assert leases.member(record, "s2", MEMBER_TOKEN) is None
    assert leases.member(record, OWNER, TOKEN) is None  # the owner is not a member by token
    full = replace(record, members=tuple(member(f"s{i}") for i in range(MAX_MEMBERS)))
    assert leases.join(full, member("s99")) is None
    removed = leases.remove(replace(record, standbys=(("s1", "b/1"),), in_sync=("s1",)), "s1")
    assert (removed.members, removed.standbys, removed.in_sync) == ((), (), ())


def test_records_with_members_survive_the_store() -> None:
    record = NameRecord(
        TOKEN, "a/1", epoch=3, holder="s1", lease_until=12.5, members=(member(),),
        standbys=((OWNER, "a/2"),), in_sync=(OWNER,),
    )  # fmt: skip
    assert NameRecord.from_json(record.to_json()) == record
    # A record written before leases: the owner's, epoch 0, its lease long over.
    old = NameRecord.from_json(json.dumps({"token": TOKEN, "peer": "a/1", "away_since": 0}))
    assert (old.epoch, old.holder, old.lease_until, old.members) == (0, OWNER, 0.0, ())


class LeaseHistory(RuleBasedStateMachine):
    """Random histories of one name: the owner's tabs and two standbys come and go, leases are
    renewed or not, the holder declares standbys in sync, time passes, the service promotes.
    Whatever happens, the rules a database's failover keeps hold at every step."""

    # Each browser's tabs: the owner's, and the two standbys'.
    tabs = st.sampled_from([(OWNER, "a/1"), (OWNER, "a/2"), ("s1", "b/1"), ("s1", "b/2"),
                            ("s2", "c/1")])  # fmt: skip

    @initialize()
    def start(self) -> None:
        self.rules = Rules(leases=Leases(LEASE))
        self.now = 0.0
        record = self.rules.register("demo", TOKEN, "a/1", None, self.now).record
        self.record = self.rules.leases.join(
            self.rules.leases.join(record, member("s1")), member("s2")
        )
        self.copies = {OWNER: 0, "s1": 0, "s2": 0}  # the writes each member's copy holds
        self.answered = 0  # writes the holder answered
        self.epochs = [1]

    def _serve(self, record: NameRecord, replaced_holder: str | None) -> None:
        assert record.epoch > self.epochs[-1]  # never an epoch twice
        self.epochs.append(record.epoch)
        # A copy that serves holds every answered write: nothing answered is ever lost.
        assert self.copies[record.holder] >= self.answered, (record.holder, self.copies)
        self.record = record

    @rule(tab=tabs)
    def arrive(self, tab: tuple[str, str]) -> None:
        who, tab = tab
        record = self.rules.live(self.record, self.now)
        decision = self.rules.arrive(record, who, tab, self.now)
        if isinstance(decision, Registration):
            self._serve(decision.record, record.holder)
        else:
            self.record = decision.record

    @rule(seconds=st.floats(0, 2 * LEASE))
    def time_passes(self, seconds: float) -> None:
        self.now += seconds

    @precondition(lambda self: self.record.peer is not None)
    @rule()
    def renew(self) -> None:
        self.record = self.rules.leases.renew(self.record, self.now)

    @precondition(lambda self: self.record.peer is not None)
    @rule()
    def holder_leaves(self) -> None:
        self.record = self.rules.left(self.record, self.record.peer, self.now)

    @precondition(lambda self: self.now < self.record.lease_until)
    @rule()
    def answer_a_write(self) -> None:
        """The holder answers a write, while its lease lasts (its socket may be gone: it may
        be cut off from the service, not from its visitors): its copy has it, and so has every
        in-sync standby (it waited for them, or declared them out first)."""
        self.answered += 1
        for holder in (self.record.holder, *self.record.in_sync):
            self.copies[holder] = self.answered

    @precondition(lambda self: self.record.peer is not None and self.now < self.record.lease_until)
    @rule(listed=st.lists(st.sampled_from([OWNER, "s1", "s2"]), max_size=3))
    def declare(self, listed: list[str]) -> None:
        # Only standbys that hold every answered write are declared (the holder knows).
        caught_up = [m for m in listed if self.copies[m] >= self.answered]
        self.record = self.rules.leases.declare(self.record, caught_up)

    @rule(tab=tabs)
    def standby_leaves(self, tab: tuple[str, str]) -> None:
        self.record = self.rules.left(self.record, tab[1], self.now) or self.record

    @rule(who=st.sampled_from([OWNER, "s1", "s2"]))
    def standby_catches_up(self, who: str) -> None:
        """A standby connected to the holder gets its copy (of what the holder answered)."""
        if who in dict(self.record.standbys) and self.record.peer is not None:
            self.copies[who] = self.answered

    @rule()
    def the_service_looks(self) -> None:
        before = self.record
        promotion = self.rules.promotion(self.record, self.now)
        if promotion is not None:
            assert self.now >= before.lease_until  # never while the old lease lasts
            assert promotion.member in before.in_sync
            self._serve(promotion.record, before.holder)
            assert self.record.holder == promotion.member

    @invariant()
    def one_serving_tab_at_most(self) -> None:
        if getattr(self, "record", None) is not None and self.record.peer is not None:
            standing = [peer for _member, peer in self.record.standbys]
            assert self.record.peer not in standing


LeaseHistory.TestCase.settings = settings(max_examples=300, stateful_step_count=30, deadline=None)
test_random_lease_histories_lose_no_answered_write = LeaseHistory.TestCase


# -- the hub, over each store ------------------------------------------------------------------


async def next_of(peer: Peer, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (server statuses and member lists before it aside)."""
    while (message := await peer.next())["type"] != kind:
        assert message["type"] in ("server-status", "members"), message
    return message


async def serving_with_standby(hub: Hub, name: str = "demo") -> tuple[Peer, Peer, str]:
    """A serving tab of the owner and a standby that joined with a link it granted: (tab,
    standby, the standby's member id)."""
    tab = await server(hub, name)
    assert (await next_of(tab, "registered"))["epoch"] == 1
    standby = await server(hub)
    member_id, _token = await join(tab, standby, name)
    return tab, standby, member_id


async def join(
    tab: Peer, standby: Peer, name: str = "demo", where: str = "Firefox 153"
) -> tuple[str, str]:
    """``standby`` joins with a link ``tab`` granted, and registers: (member, member token)."""
    await tab.say({"type": "standby-grant"})
    grant = (await next_of(tab, "standby-grant"))["grant"]
    await standby.say({"type": "join", "name": name, "grant": grant, "where": where})
    joined = await next_of(standby, "joined")
    member_id, token = joined["member"], joined["memberToken"]
    await register_member(standby, member_id, token, name)
    said = await next_of(standby, "standby")
    assert said["name"] == name and said["member"] == member_id and said["online"]
    joined_only = await next_of(tab, "members")  # it joined ...
    [listed] = [m for m in joined_only["members"] if m["id"] == member_id]
    assert not listed["standing"] and listed["where"].startswith(f"{where} · ")
    standing = await next_of(tab, "members")  # ... and stands by
    [listed] = [m for m in standing["members"] if m["id"] == member_id]
    assert listed["standing"] and not listed["inSync"]
    return member_id, token


async def register_member(
    tab: Peer, member_id: str, token: str, name: str = "demo", **extra: Any
) -> None:
    await tab.say({"type": "register", "name": name, "member": member_id, "memberToken": token,
                   **extra})  # fmt: skip


async def declare(tab: Peer, epoch: int, *members: str) -> None:
    await tab.say({"type": "sync", "epoch": epoch, "inSync": list(members), "n": 5})
    assert await next_of(tab, "synced") == {"type": "synced", "n": 5, "inSync": list(members)}


@pytest.mark.anyio
async def test_a_standby_link_joins_once_and_for_its_site_only(make_hub, monkeypatch) -> None:
    hub = await make_hub()
    tab, standby, _member = await serving_with_standby(hub)
    await tab.say({"type": "standby-grant"})
    grant = (await next_of(tab, "standby-grant"))["grant"]
    other = await server(hub, "other", OTHER_TOKEN)
    await next_of(other, "registered")
    thief = await server(hub)
    await thief.say({"type": "join", "name": "other", "grant": grant})
    assert (await thief.next())["code"] == "bad-grant"  # not for that site ...
    await thief.say({"type": "join", "name": "demo", "grant": grant})
    assert (await thief.next())["code"] == "bad-grant"  # ... and now used up
    await thief.say({"type": "register", "name": "demo", "member": "s1", "memberToken": "x" * 40})
    assert (await thief.next())["code"] == "not-a-standby"
    monkeypatch.setattr(hub_module, "GRANT_SECONDS", 0.2)
    await tab.say({"type": "standby-grant"})
    late = (await next_of(tab, "standby-grant"))["grant"]
    await asyncio.sleep(0.4)
    await thief.say({"type": "join", "name": "demo", "grant": late})
    assert (await thief.next())["code"] == "bad-grant"  # expired
    # Only the serving tab grants; a standby only signals.
    await standby.say({"type": "standby-grant"})
    assert (await standby.next())["code"] == "bad-message"


@pytest.mark.anyio
async def test_standby_and_serving_tab_signal_each_other_only(make_hub) -> None:
    hub = await make_hub()
    tab, standby, member_id = await serving_with_standby(hub)
    await standby.say({"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}})
    assert await tab.next() == {
        "type": "signal", "from": standby.id, "standby": member_id,
        "data": {"sdp": {"type": "offer", "sdp": "v=0"}},
    }  # fmt: skip
    await tab.say({"type": "signal", "to": standby.id, "data": {"candidate": None}})
    assert await standby.next() == {"type": "signal", "data": {"candidate": None}}
    other = await server(hub, "other", OTHER_TOKEN)
    await next_of(other, "registered")
    await other.say({"type": "signal", "to": standby.id, "data": {}})
    assert (await other.next())["code"] == "unknown-peer"


@pytest.mark.anyio
async def test_failover_waits_for_the_lease_and_an_in_sync_standby(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab, standby, member_id = await serving_with_standby(hub)
    guest = await visitor(hub, "demo")
    assert await guest.next() == online(1)
    await tab.say({"type": "renew", "epoch": 1, "n": 2})
    assert await next_of(tab, "lease") == {"type": "lease", "epoch": 1, "n": 2, "seconds": 10.0}
    lease_end = clock.now + hub.rules.leases.seconds
    await declare(tab, 1, member_id)
    await hub.disconnect(tab.id)  # closed, crashed or cut off: the service cannot tell
    for peer in (guest, standby):
        await peer.until({"type": "server-status", "online": False})
    await hub.tick()
    await standby.nothing_more()  # its lease has not run out
    clock.now = lease_end
    await hub.tick()
    promoted = await next_of(standby, "registered")
    assert (promoted["epoch"], promoted["n"]) == (2, None)  # it asks for its lease itself
    await guest.until(online(2))
    # The old tab comes back: it stands by for the tab that serves now.
    back = await server(hub, "demo")
    said = await next_of(back, "standby")
    assert said == {**online(2), "type": "standby", "name": "demo", "member": OWNER}
    members = await next_of(standby, "members")
    assert [m["id"] for m in members["members"] if m["standing"]] == [OWNER]


@pytest.mark.anyio
async def test_without_an_in_sync_standby_the_name_waits_for_its_owner(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab, standby, _member = await serving_with_standby(hub)
    await hub.disconnect(tab.id)
    await standby.until({"type": "server-status", "online": False})
    clock.now += 3600
    await hub.tick()
    await standby.nothing_more()  # its copy may lack answered writes: it stays a standby
    back = await server(hub, "demo")
    assert (await next_of(back, "registered"))["epoch"] == 2


@pytest.mark.anyio
async def test_a_lease_that_ran_out_cannot_be_used(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab, standby, member_id = await serving_with_standby(hub)
    await declare(tab, 1, member_id)
    clock.now += hub.rules.leases.seconds  # the tab did not renew in time (frozen, say)
    await tab.say({"type": "sync", "epoch": 1, "inSync": [], "n": 6})
    assert await next_of(tab, "demoted") == {"type": "demoted", "epoch": 1}  # not now
    await hub.tick()
    assert (await next_of(standby, "registered"))["epoch"] == 2
    assert await tab.next() == {"type": "demoted", "epoch": 2}  # still connected: told
    await tab.say({"type": "register", "name": "demo", "token": TOKEN})  # it learns, and
    assert (await next_of(tab, "standby"))["member"] == OWNER  # stands by, never serves too
    await tab.say({"type": "renew", "epoch": 1, "n": 7})
    assert (await tab.next())["code"] == "bad-message"  # a standby only signals


@pytest.mark.anyio
async def test_a_stale_epoch_is_fenced(make_hub) -> None:
    hub = await make_hub()
    tab = await server(hub, "demo")
    await next_of(tab, "registered")
    second = await server(hub, "demo")  # the owner's other tab
    assert (await next_of(second, "registered"))["epoch"] == 2
    assert await tab.next() == {"type": "replaced"}
    await second.say({"type": "renew", "epoch": 1, "n": 1})
    assert await second.next() == {"type": "demoted", "epoch": 2}


@pytest.mark.anyio
async def test_a_closing_tab_hands_over_in_a_few_seconds(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab, standby, member_id = await serving_with_standby(hub)
    await declare(tab, 1, member_id)
    await tab.say({"type": "resign", "epoch": 1})
    await standby.until({"type": "server-status", "online": False})
    await hub.tick()
    await standby.nothing_more()  # a reload of the serving tab would take it back now
    clock.now += RESIGN_GRACE_SECONDS
    await hub.tick()
    assert (await next_of(standby, "registered"))["epoch"] == 2


@pytest.mark.anyio
async def test_a_planned_move(make_hub) -> None:
    hub = await make_hub()
    tab, standby, member_id = await serving_with_standby(hub)
    guest = await visitor(hub, "demo")
    assert await guest.next() == online(1)
    await tab.say({"type": "handover", "epoch": 1, "to": member_id})
    assert (await tab.next())["code"] == "not-in-sync"
    await declare(tab, 1, member_id)
    await tab.say({"type": "handover", "epoch": 1, "to": member_id})
    assert (await next_of(standby, "registered"))["epoch"] == 2
    assert await next_of(tab, "handed-over") == {"type": "handed-over", "epoch": 2}
    await guest.until(online(2))
    # Handed over, the old tab may register again, and stands by.
    await tab.say({"type": "register", "name": "demo", "token": TOKEN})
    assert (await next_of(tab, "standby"))["member"] == OWNER


@pytest.mark.anyio
async def test_the_owners_standby_tab_may_ask_for_the_site_and_only_it(make_hub) -> None:
    hub = await make_hub()
    tab, standby, member_id = await serving_with_standby(hub)
    await standby.say({"type": "take-over"})
    assert (await standby.next())["code"] == "bad-message"  # a friend's standby may not
    await tab.say({"type": "handover", "epoch": 1, "to": member_id})
    assert (await next_of(tab, "error"))["code"] == "not-in-sync"
    await declare(tab, 1, member_id)
    await tab.say({"type": "handover", "epoch": 1, "to": member_id})
    await next_of(tab, "handed-over")
    await next_of(standby, "registered")  # it serves now
    await tab.say({"type": "register", "name": "demo", "token": TOKEN})  # the owner's tab
    await next_of(tab, "standby")
    await tab.say({"type": "take-over"})
    assert await next_of(standby, "move-to") == {"type": "move-to", "member": OWNER}


@pytest.mark.anyio
async def test_a_removed_standby_is_told_and_cannot_return(make_hub) -> None:
    hub = await make_hub()
    tab, standby, member_id = await serving_with_standby(hub)
    await tab.say({"type": "standby-remove", "epoch": 1, "member": member_id})
    assert await standby.next() == {"type": "removed"}
    assert (await next_of(tab, "members"))["members"] == []
    again = await server(hub)
    await again.say(
        {"type": "register", "name": "demo", "member": member_id, "memberToken": MEMBER_TOKEN}
    )
    assert (await again.next())["code"] == "not-a-standby"


@pytest.mark.anyio
async def test_an_incomplete_copy_is_never_promoted(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab = await server(hub, "demo")
    await next_of(tab, "registered")
    standby = await server(hub)
    member_id, token = await join(tab, standby)
    await declare(tab, 1, member_id)
    # The standby's tab crashed in the middle of a copy; reloaded, it says so.
    await hub.disconnect(standby.id)
    reloaded = await server(hub)
    await register_member(reloaded, member_id, token, complete=False)
    await next_of(reloaded, "standby")
    assert (await hub.store.get("demo")).in_sync == ()
    await hub.disconnect(tab.id)
    await reloaded.until({"type": "server-status", "online": False})
    clock.now += 3600
    await hub.tick()
    await reloaded.nothing_more()


@pytest.mark.anyio
async def test_serving_tabs_are_asked_to_renew_a_few_times_a_lease(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock)
    tab = await server(hub, "demo")
    await next_of(tab, "registered")
    await hub.tick()
    await tab.nothing_more()
    clock.now += hub.rules.leases.seconds / 3 + 0.01
    await hub.tick()
    assert await tab.next() == {"type": "renew-lease"}
    await hub.tick()
    await tab.nothing_more()  # once in a while, not at every look


# -- two instances sharing Redis ---------------------------------------------------------------


@pytest.mark.anyio
async def test_two_instances_promote_one_standby(redis_url: str) -> None:
    """The serving tab on A goes; a standby on A and one on B, both in sync, look at once: one
    serves, in one new epoch, and every visitor hears of that one."""
    import secrets

    prefix = f"test-{secrets.token_hex(4)}"
    clock = Clock()
    a, b = (Hub(RedisStore(redis_url, prefix), Rules(), clock=clock) for _ in range(2))
    for each in (a, b):
        await each.store.start()
    try:
        tab, first, first_member = await serving_with_standby(a)
        second = await server(b)
        second_member, _token = await join(tab, second)
        await declare(tab, 1, first_member, second_member)
        guest = await visitor(b, "demo")
        assert await guest.next() == online(1)
        await a.disconnect(tab.id)
        clock.now += a.rules.leases.seconds
        await asyncio.gather(a.tick(), b.tick(), a.tick(), b.tick())
        await settled(a)
        await settled(b)
        promoted = [
            m for peer in (first, second) for m in drain_all(peer) if m["type"] == "registered"
        ]
        assert [m["epoch"] for m in promoted] == [2]
        record = await a.store.get("demo")
        assert record.epoch == 2 and record.peer in (first.id, second.id)
        await guest.until(online(2))
    finally:
        for each in (a, b):
            await each.store.close()


def drain_all(peer: Peer) -> list[dict[str, Any]]:
    items = []
    while not peer.inbox.empty():
        items.append(peer.inbox.get_nowait())
    return items
