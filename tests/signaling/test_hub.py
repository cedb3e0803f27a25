"""Signaling's rules and its hub, driven directly: every behaviour once with the embedded
in-memory store and once with Redis (a real redis-server), then two hubs sharing one Redis,
as two instances of the service would."""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from signaling.hub import Hub
from signaling.registry import NameRecord, Registration, Rules
from signaling.stores import MemoryStore, RedisStore
from tests.deployment import redis_server
from tests.signaling.test_service import OTHER_TOKEN, REGISTERED, TOKEN, online, without_ticket

WAIT_S = 5


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with redis_server(tmp_path_factory.mktemp("redis")) as url:
        yield url


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


class Peer:
    """A connected peer: what the hub sends it lands in its inbox."""

    def __init__(self, hub: Hub) -> None:
        self.hub = hub
        self.id = ""
        self.inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def send(self, message: dict[str, Any]) -> None:
        await self.inbox.put(message)

    async def say(self, message: dict[str, Any] | str) -> None:
        await self.hub.receive(
            self.id, message if isinstance(message, str) else json.dumps(message)
        )

    async def next(self) -> dict[str, Any]:
        """The next message, ICE server lists aside."""
        while True:
            message = await asyncio.wait_for(self.inbox.get(), WAIT_S)
            if message["type"] != "ice-servers":
                return message

    async def until(self, expected: dict[str, Any]) -> None:
        """Read up to ``expected``; only server-status messages may come before it (with Redis,
        a status broadcast can arrive after a newer greeting: a repeat, and harmless)."""
        while (message := await self.next()) != expected:
            assert message["type"] == "server-status", message

    async def nothing_more(self) -> None:
        """Nothing more came for this peer, broadcasts sent until now included."""
        await settled(self.hub)
        assert [m for m in drain(self.inbox) if m["type"] != "ice-servers"] == []


def drain(queue: asyncio.Queue[dict[str, Any]]) -> list[dict[str, Any]]:
    items = []
    while not queue.empty():
        items.append(queue.get_nowait())
    return items


async def server(hub: Hub, name: str | None = None, token: str = TOKEN) -> Peer:
    peer = Peer(hub)
    peer.id = await hub.connect_server(peer.send)
    if name is not None:
        await peer.say({"type": "register", "name": name, "token": token})
    return peer


async def visitor(hub: Hub, name: str) -> Peer:
    peer = Peer(hub)
    peer.id = await hub.connect_visitor(name, peer.send)
    return peer


async def settled(hub: Hub) -> None:
    """Return once every broadcast sent before has been delivered: a marker broadcast of our
    own comes back after them (Redis pub/sub keeps a channel's order; memory is at once)."""
    site = f"barrier-{secrets.token_hex(4)}"
    marker = await visitor(hub, site)
    assert await marker.next() == {"type": "server-status", "online": False}
    await hub.store.broadcast({"status": site, "online": True})
    await marker.until(online(0))
    await hub.disconnect(marker.id)


@pytest.fixture(params=["memory", "redis"])
async def make_hub(request: pytest.FixtureRequest) -> AsyncIterator[Any]:
    """Makes hubs on one store: the embedded one, or a Redis of their own (a fresh prefix)."""
    prefix = f"test-{secrets.token_hex(4)}"
    hubs: list[Hub] = []
    memory = MemoryStore()

    async def make(clock: Clock | None = None, reservation_seconds: float = 3600) -> Hub:
        store = (
            memory
            if request.param == "memory"
            else RedisStore(request.getfixturevalue("redis_url"), prefix)
        )
        hub = Hub(store, Rules(reservation_seconds), clock=clock or Clock())
        await store.start()
        hubs.append(hub)
        return hub

    yield make
    for hub in hubs:
        await hub.store.close()


# -- the rules, with no I/O ------------------------------------------------------------------


def test_rules_of_a_name() -> None:
    rules = Rules(reservation_seconds=60)
    granted = rules.register("demo", TOKEN, "a/1", None, now=0)
    lease = {"epoch": 1, "lease_until": rules.leases.seconds}  # the owner's, from now
    assert granted == Registration(NameRecord(TOKEN, "a/1", **lease), replaced=None)
    held = granted.record
    assert rules.register("demo", OTHER_TOKEN, "a/2", held, now=0).code == "taken"
    assert rules.register("demo", TOKEN, "b/7", held, now=0).replaced == "a/1"
    assert rules.register("Demo Site", TOKEN, "a/2", None, now=0).code == "invalid"
    assert rules.register("demo", "short", "a/2", None, now=0).code == "bad-message"
    away = rules.left(held, "a/1", now=100)
    assert away == NameRecord(
        TOKEN, None, 100, online_seconds=100, reserved_until=160, **lease
    )  # the lease stays until it runs out
    assert rules.left(held, "a/9", now=100) is None  # not the tab that serves it
    assert rules.status("demo", OTHER_TOKEN, away, now=160)["reason"] == "taken"
    assert rules.status("demo", OTHER_TOKEN, away, now=161)["available"]
    assert NameRecord.from_json(away.to_json()) == away
    # A record written before reservations depended on use: the full reservation.
    old = NameRecord.from_json(json.dumps({"token": TOKEN, "peer": None, "away_since": 100}))
    assert rules.live(old, now=160) == old and rules.live(old, now=161) is None


def test_a_reservation_lasts_as_long_as_the_name_served() -> None:
    """Never served a visitor: the short reservation; served, as long as it served, between
    the short and the full one; the time of every tab of the owner's counts."""
    hour, day = 3600, 86400
    rules = Rules(reservation_seconds=7 * day, unused_reservation_seconds=hour)
    unused = rules.register("demo", TOKEN, "a/1", None, now=0, owner="10.0.0.1").record
    assert rules.left(unused, "a/1", now=5 * day).reserved_until == 5 * day + hour
    served = replace(unused, served=True)
    assert rules.left(served, "a/1", now=60).reserved_until == 60 + hour  # briefly
    assert rules.left(served, "a/1", now=2 * day).reserved_until == 4 * day  # two days
    assert rules.left(served, "a/1", now=30 * day).reserved_until == 37 * day  # at most a week
    # The owner's next tab carries what the first one served.
    away = rules.left(served, "a/1", now=day)
    again = rules.register("demo", TOKEN, "a/2", away, now=day + 10, owner="10.0.0.2").record
    carried = (again.online_seconds, again.served, again.owner, again.created)
    assert carried == (day, True, "10.0.0.2", 0)
    assert rules.left(again, "a/2", now=2 * day + 10).reserved_until == 4 * day + 10


# -- the hub, over each store ------------------------------------------------------------------


@pytest.mark.anyio
async def test_register_and_relay_both_ways(make_hub) -> None:
    hub = await make_hub()
    tab = await server(hub, "demo")
    assert without_ticket(await tab.next()) == REGISTERED
    guest = await visitor(hub, "demo")
    assert await guest.next() == online(1)
    offer = {"sdp": {"type": "offer", "sdp": "v=0"}}
    await guest.say({"type": "signal", "data": offer})
    assert await tab.next() == {"type": "signal", "from": guest.id, "data": offer}
    answer = {"sdp": {"type": "answer", "sdp": "v=0"}}
    await tab.say({"type": "signal", "to": guest.id, "data": answer})
    assert await guest.next() == {"type": "signal", "data": answer}
    await hub.disconnect(guest.id)
    assert await tab.next() == {"type": "client-left", "client": guest.id}


@pytest.mark.anyio
async def test_taken_and_invalid_names_are_refused_with_a_suggestion(make_hub) -> None:
    hub = await make_hub()
    await server(hub, "demo")
    other = await server(hub, "demo", OTHER_TOKEN)
    refusal = await other.next()
    assert refusal["code"] == "taken" and '"demo" is unavailable' in refusal["message"]
    assert refusal["suggestion"] == "demo-2"
    await other.say({"type": "register", "name": "Demo Site", "token": OTHER_TOKEN})
    refusal = await other.next()
    assert refusal["code"] == "invalid" and refusal["suggestion"] == "demo-site"
    status = await hub.name_status("demo", OTHER_TOKEN)
    assert status["reason"] == "taken" and status["suggestion"] == "demo-2"
    assert (await hub.name_status("demo", TOKEN))["available"]


@pytest.mark.anyio
async def test_the_owner_reclaims_its_name_others_cannot_and_reservations_expire(make_hub) -> None:
    clock = Clock()
    hub = await make_hub(clock, reservation_seconds=60)
    tab = await server(hub, "demo")
    guest = await visitor(hub, "demo")
    await hub.disconnect(tab.id)
    await guest.until({"type": "server-status", "online": False})
    assert (await hub.name_status("demo", OTHER_TOKEN))["reason"] == "taken"
    again = await server(hub, "demo")
    assert without_ticket(await again.next()) == REGISTERED
    await guest.until(online(2))
    await hub.disconnect(again.id)
    clock.now += 61  # the reservation ran out
    assert (await hub.name_status("demo", OTHER_TOKEN))["available"]
    newcomer = await server(hub, "demo", OTHER_TOKEN)
    assert without_ticket(await newcomer.next()) == REGISTERED


@pytest.mark.anyio
async def test_a_second_tab_of_the_owner_replaces_the_first(make_hub) -> None:
    hub = await make_hub()
    first = await server(hub, "demo")
    await first.next()
    second = await server(hub, "demo")
    assert without_ticket(await second.next()) == REGISTERED
    assert await first.next() == {"type": "replaced"}
    await settled(hub)  # the status broadcasts have arrived
    guest = await visitor(hub, "demo")
    await hub.disconnect(first.id)  # the old tab going away changes nothing
    assert await guest.next() == online(2)
    await guest.nothing_more()


@pytest.mark.anyio
@pytest.mark.parametrize(
    "text",
    ["not json", "[1, 2]", '{"no": "type"}', '{"type": 5}', '{"type": "dance"}', "x" * 70_000],
)
async def test_malformed_messages_get_an_error(make_hub, text: str) -> None:
    hub = await make_hub()
    tab = await server(hub, "demo")
    await tab.next()
    guest = await visitor(hub, "demo")
    await guest.next()
    for peer in (tab, guest):
        await peer.say(text)
        reply = await peer.next()
        assert reply["type"] == "error" and reply["code"] == "bad-message"
    assert (await hub.name_status("demo", TOKEN))["available"]  # the state is unchanged
    assert (await hub.name_status("demo", OTHER_TOKEN))["reason"] == "taken"


@pytest.mark.anyio
async def test_signals_to_unknown_peers_or_offline_servers_are_refused(make_hub) -> None:
    hub = await make_hub()
    tab = await server(hub, "demo")
    await tab.next()
    for to in ("999", f"{hub.store.instance}/999", None):
        await tab.say({"type": "signal", "to": to, "data": {}})
        assert (await tab.next())["code"] == "unknown-peer"
    guest = await visitor(hub, "elsewhere")
    assert await guest.next() == {"type": "server-status", "online": False}
    await guest.say({"type": "signal", "data": {}})
    assert (await guest.next())["code"] == "offline"
    unregistered = await server(hub)
    await unregistered.say({"type": "signal", "to": guest.id})
    assert (await unregistered.next())["code"] == "not-registered"


@pytest.mark.anyio
async def test_a_server_cannot_talk_to_another_sites_visitor(make_hub) -> None:
    hub = await make_hub()
    await server(hub, "demo")
    other = await server(hub, "other")
    await other.next()
    guest = await visitor(hub, "demo")
    await guest.next()
    await other.say({"type": "signal", "to": guest.id, "data": {"sdp": "sneaky"}})
    assert (await other.next())["code"] == "unknown-peer"
    await guest.nothing_more()


@pytest.mark.anyio
async def test_fresh_ice_servers_on_request(make_hub) -> None:
    hub = await make_hub()
    tab = await server(hub)
    [greeting] = drain(tab.inbox)
    assert greeting["type"] == "ice-servers"
    await tab.say({"type": "ice-servers"})
    assert drain(tab.inbox) == [greeting]


# -- two instances sharing Redis ---------------------------------------------------------------


@pytest.fixture
async def two_instances(redis_url: str) -> AsyncIterator[tuple[Hub, Hub, str]]:
    prefix = f"test-{secrets.token_hex(4)}"
    hubs = [Hub(RedisStore(redis_url, prefix)) for _ in range(2)]
    for hub in hubs:
        await hub.store.start()
    yield hubs[0], hubs[1], prefix
    for hub in hubs:
        await hub.store.close()


@pytest.mark.anyio
async def test_a_server_tab_on_one_instance_and_a_visitor_on_another_meet(two_instances) -> None:
    a, b, _ = two_instances
    tab = await server(a, "demo")
    await tab.next()
    guest = await visitor(b, "demo")
    assert await guest.next() == online(1)
    await guest.say({"type": "signal", "data": {"sdp": "offer"}})
    message = await tab.next()
    assert message == {"type": "signal", "from": guest.id, "data": {"sdp": "offer"}}
    await tab.say({"type": "signal", "to": guest.id, "data": {"candidate": None}})
    assert await guest.next() == {"type": "signal", "data": {"candidate": None}}
    # Another site's tab on A cannot reach B's visitor of "demo".
    other = await server(a, "other")
    await other.next()
    await other.say({"type": "signal", "to": guest.id, "data": {}})
    assert (await other.next())["code"] == "unknown-peer"
    # A taken name is taken everywhere; the owner's new tab on B replaces the one on A.
    thief = await server(b, "demo", OTHER_TOKEN)
    assert (await thief.next())["code"] == "taken"
    again = await server(b, "demo")
    assert without_ticket(await again.next()) == REGISTERED
    assert await tab.next() == {"type": "replaced"}
    await b.disconnect(guest.id)
    assert await again.next() == {"type": "client-left", "client": guest.id}


@pytest.mark.anyio
async def test_names_outlive_every_instance(two_instances, redis_url: str) -> None:
    """An instance that stops without a word (its heartbeat expires) leaves its names reserved
    for their owners: a newcomer is refused, the owner's tab takes the name back."""
    _a, b, prefix = two_instances
    # As the README says: an instance counts as alive for 15 s after its last heartbeat.
    heartbeat = f"{prefix}:instance:{b.store.instance}"
    assert 14_000 < await b.store._redis.pttl(heartbeat) <= 15_000
    a = Hub(RedisStore(redis_url, prefix, heartbeat_seconds=0.2, heartbeat_ttl_seconds=1))
    await a.store.start()
    tab = await server(a, "demo")
    await tab.next()
    for task in a.store._tasks:  # A stops without a word: no more heartbeats, nothing deleted
        task.cancel()
    key = f"{prefix}:instance:{a.store.instance}"
    deadline = time.monotonic() + 5
    while await a.store._redis.exists(key):
        assert time.monotonic() < deadline, "the heartbeat key never expired"
        await asyncio.sleep(0.1)
    restarted = Hub(RedisStore(redis_url, prefix))
    await restarted.store.start()
    try:
        guest = await visitor(restarted, "demo")
        assert await guest.next() == {"type": "server-status", "online": False}
        thief = await server(restarted, "demo", OTHER_TOKEN)
        assert (await thief.next())["code"] == "taken"
        owner = await server(restarted, "demo")
        assert without_ticket(await owner.next()) == REGISTERED
        await guest.until(online(2))
    finally:
        await restarted.store.close()
        await a.store._redis.aclose()


@pytest.mark.anyio
async def test_malformed_messages_between_instances_are_dropped(two_instances) -> None:
    a, b, prefix = two_instances
    tab = await server(a, "demo")
    await tab.next()
    redis = b.store._redis
    for junk in ("not json", "[]", '{"to": 5}', '{"to": "x/1", "message": "hi"}', "{}"):
        await redis.publish(f"{prefix}:to:{a.store.instance}", junk)
        await redis.publish(f"{prefix}:to:all", junk)
    guest = await visitor(b, "demo")  # A still relays
    assert await guest.next() == online(1)
    await guest.say({"type": "signal", "data": {"sdp": "offer"}})
    assert (await tab.next())["type"] == "signal"


def test_two_services_sharing_redis_relay_over_websockets(redis_url: str) -> None:
    """The same, through the FastAPI app over real WebSockets: a server tab on one service, a
    visitor on another, and an oversized message refused where it was sent."""
    from fastapi.testclient import TestClient

    from signaling.app import create_app

    prefix = f"test-{secrets.token_hex(4)}"
    apps = [create_app(hub=Hub(RedisStore(redis_url, prefix))) for _ in range(2)]
    with TestClient(apps[0]) as one, TestClient(apps[1]) as two:
        with one.websocket_connect("/ws/server") as tab:
            assert tab.receive_json()["type"] == "ice-servers"
            tab.send_json({"type": "register", "name": "demo", "token": TOKEN})
            assert without_ticket(tab.receive_json()) == REGISTERED
            site = {"host": "demo.localhost:8000"}
            with two.websocket_connect("/__ps/signal", headers=site) as guest:
                assert guest.receive_json()["type"] == "ice-servers"
                assert guest.receive_json() == online(1)
                guest.send_text("x" * 70_000)
                assert guest.receive_json()["code"] == "bad-message"
                guest.send_json({"type": "signal", "data": {"sdp": "offer"}})
                message = tab.receive_json()
                assert message["data"] == {"sdp": "offer"}
                tab.send_json({"type": "signal", "to": message["from"], "data": {"sdp": "answer"}})
                assert guest.receive_json() == {"type": "signal", "data": {"sdp": "answer"}}
            assert tab.receive_json() == {"type": "client-left", "client": message["from"]}
        status = two.get("/api/name-status", params={"name": "demo", "token": OTHER_TOKEN})
        assert status.json()["reason"] == "taken"


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
TYPES = ["register", "signal", "ice-servers", "dance", "", "join", "renew", "sync",
         "standby-grant", "standby-remove", "handover", "resign", "take-over"]  # fmt: skip
FIELDS = ["name", "token", "to", "data", "member", "memberToken", "grant", "epoch", "inSync", "n"]
MESSAGE = st.one_of(
    JSON,
    st.fixed_dictionaries({"type": st.sampled_from(TYPES)}, optional=dict.fromkeys(FIELDS, JSON)),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.booleans(), MESSAGE), min_size=1, max_size=8))
def test_random_messages_never_break_the_hub_nor_move_a_name(messages) -> None:
    """Whatever JSON a server tab or a visitor sends: the hub answers (an error, or what the
    protocol says), never raises, and the name "demo" stays with its owner, online."""

    async def scenario() -> None:
        hub = Hub(MemoryStore())
        owner = await server(hub, "demo")
        tab = await server(hub)  # another tab, with no name yet
        guest = await visitor(hub, "demo")
        for from_tab, message in messages:
            peer = tab if from_tab else guest
            if message.get("type") == "register" if isinstance(message, dict) else False:
                message = {**message, "token": OTHER_TOKEN}  # never the owner's
            await peer.say(json.dumps(message))
        status = await hub.name_status("demo", OTHER_TOKEN)
        assert status["reason"] == "taken"
        assert hub.rules.online(await hub.store.get("demo"), time.time())
        assert (await hub.store.get("demo")).peer == owner.id

    asyncio.run(scenario())
