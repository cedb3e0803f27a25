"""Names as a shared namespace (issue 24): what one address or owner may hold, reservations
that match use, and the operator's `peerserver names`; against real services, with the
embedded memory store and with Redis, driven by a script of WebSocket clients as a hoarder
would write one."""

from __future__ import annotations

import asyncio
import json
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.asyncio.client import ClientConnection, connect

from signaling.hub import Hub
from signaling.registry import Rules
from signaling.stores import MemoryStore, RedisStore
from tests.conftest import TEST_SITES
from tests.deployment import redis_server
from tests.harness import peerserver_service
from tests.signaling.test_hub import Clock, Peer, make_hub, redis_url, server, visitor  # noqa: F401

QUOTA = 20
WAIT_S = 10


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@contextmanager
def service(tmp_path: Path, store: str, *options: str) -> Iterator[tuple[str, list[str]]]:
    """A `peerserver serve` with the memory store or a Redis of its own; yields its URL and
    how `peerserver names` reaches its names."""
    key = tmp_path / "operator-key"
    common = ["--max-names-per-address", str(QUOTA), "--operator-key-file", str(key), *options]
    if store == "memory":
        with peerserver_service(TEST_SITES, options=common) as (url, _):
            yield url, ["--service", url, "--operator-key-file", str(key)]
    else:
        with (
            redis_server(tmp_path) as redis_url,
            peerserver_service(TEST_SITES, options=[*common, "--redis", redis_url]) as (url, _),
        ):
            yield url, ["--redis", redis_url]


@asynccontextmanager
async def tab(url: str, source: str = "127.0.0.1") -> AsyncIterator[ClientConnection]:
    """A server tab's signaling socket (a script's, here), from the address ``source``."""
    port = urlsplit(url).port
    sock = socket.create_connection(("127.0.0.1", port), WAIT_S, source_address=(source, 0))
    async with connect(f"ws://127.0.0.1:{port}/ws/server", sock=sock, open_timeout=WAIT_S) as ws:
        yield ws


async def said(ws: ClientConnection) -> dict[str, Any]:
    """The next message, ICE server lists and the service's asking to renew a lease (every
    few seconds) aside."""
    while True:
        message = json.loads(await asyncio.wait_for(ws.recv(), WAIT_S))
        if message["type"] not in ("ice-servers", "renew-lease"):
            return message


async def register(ws: ClientConnection, name: str, token: str | None = None) -> dict[str, Any]:
    token = token or secrets.token_hex(16)
    await ws.send(json.dumps({"type": "register", "name": name, "token": token}))
    return await said(ws)


def names_command(where: list[str], *arguments: str) -> str:
    run = subprocess.run(
        [sys.executable, "-m", "signaling", "names", *where, *arguments],
        capture_output=True, text=True, timeout=60, check=True,
    )  # fmt: skip
    return run.stdout


@pytest.mark.anyio
@pytest.mark.parametrize("store", ["memory", "redis"])
async def test_a_hoarders_script_gets_its_quota_and_the_operator_releases_it(
    tmp_path: Path, store: str
) -> None:
    with service(tmp_path, store) as (url, where):
        async with tabs(url, 30) as sockets:
            replies = [await register(ws, f"word{n}") for n, ws in enumerate(sockets)]
            granted = [reply for reply in replies if reply["type"] == "registered"]
            refused = [reply for reply in replies if reply["type"] == "error"]
            assert len(granted) == QUOTA and len(refused) == 30 - QUOTA
            assert {reply["code"] for reply in refused} == {"quota"}
            assert refused[0]["message"].startswith(
                f"Your address holds {QUOTA} names already, the most one address may hold at "
                f"once ({QUOTA})."
            )
            # Another address is not held back by this one's names.
            async with tab(url, source="127.0.0.2") as other:
                assert (await register(other, "elsewhere"))["type"] == "registered"

                listed = json.loads(names_command(where, "--json", "list"))
                owners = {entry["name"]: entry["owner"] for entry in listed}
                assert owners["word0"] == "127.0.0.1" and owners["elsewhere"] == "127.0.0.2"
                assert {entry["state"] for entry in listed} == {"online"}
                table = names_command(where, "list")
                assert "word0" in table and "no visitor" in table and f"{QUOTA + 1} names" in table

                # The operator frees one name, then everything the hoarder's address holds.
                assert names_command(where, "release", "word3").strip() == "released word3"
                told = await said(sockets[3])
                assert told["code"] == "released"
                assert "released 19 names of 127.0.0.1" in names_command(
                    where, "release-address", "127.0.0.1"
                )
                async with httpx.AsyncClient() as client:
                    status = await client.get(f"{url}api/name-status", params={"name": "word0"})
                assert status.json()["available"]
                remaining = json.loads(names_command(where, "--json", "list"))
                assert [entry["name"] for entry in remaining] == ["elsewhere"]
                # Freed, the hoarder's address may take names again.
                assert (await register(sockets[25], "word25"))["type"] == "registered"


@pytest.mark.anyio
async def test_a_service_started_with_no_options_has_the_readmes_quotas() -> None:
    """As the README states them: 16 names per owner (a browser's token, from any address),
    64 per address, and past either the owner is told when names come free (an hour after
    their tab closed, for a name that never served)."""
    free_again = (
        "A name is released when its reservation ends (1 hour after its tab closed, for a name "
        "that never served a visitor); the service's operator can release names."
    )
    with peerserver_service(TEST_SITES) as (url, _):
        token = secrets.token_hex(16)
        async with tabs(url, 8) as here, tabs(url, 9, source="127.0.0.2") as there:
            for n, ws in enumerate(here + there[:8]):
                assert (await register(ws, f"mine{n}", token))["type"] == "registered"
            refused = await register(there[8], "mine16", token)
            assert refused["code"] == "quota"
            assert refused["message"] == (
                "This browser holds 16 names already, the most one owner may hold at once (16). "
                + free_again
            )

        async with tabs(url, 64, source="127.0.0.3") as sockets:
            for n, ws in enumerate(sockets):
                assert (await register(ws, f"class{n}"))["type"] == "registered"
            # A name whose tab closed is still held (reserved): it counts.
            await sockets[0].close()
            async with tab(url, source="127.0.0.3") as late:
                refused = await register(late, "class64")
        assert refused["code"] == "quota"
        assert refused["message"] == (
            "Your address holds 64 names already, the most one address may hold at once (64). "
            + free_again
        )


@asynccontextmanager
async def tabs(
    url: str, count: int, source: str = "127.0.0.1"
) -> AsyncIterator[list[ClientConnection]]:
    """``count`` tab sockets from ``source``, opened ten at a time (as the script batches)."""
    sockets: list[ClientConnection] = []
    openers = []
    try:
        for start in range(0, count, 10):
            batch = [tab(url, source) for _ in range(start, min(count, start + 10))]
            openers += batch
            sockets += await asyncio.gather(*(opener.__aenter__() for opener in batch))
        yield sockets
    finally:
        for opener in openers:
            await opener.__aexit__(None, None, None)


@pytest.mark.anyio
async def test_the_default_reservations_are_the_readmes(make_hub) -> None:  # noqa: F811
    """With the rules a service starts with (no options): a name that never served is
    reserved an hour after its tab left; one that served for ten days, seven days."""
    clock = Clock()
    hub = await make_hub(clock)
    hub.rules = Rules()
    unused, used = await server(hub, "unused"), await server(hub, "used")
    guest = await visitor(hub, "used")
    await guest.say({"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}})
    clock.now += 10 * 86400
    await hub.disconnect(unused.id)
    await hub.disconnect(used.id)
    clock.now += 3599
    assert (await hub.name_status("unused", "c" * 32))["reason"] == "taken"
    clock.now += 2
    assert (await hub.name_status("unused", "c" * 32))["available"]
    clock.now += 7 * 86400 - 3600 - 2
    assert (await hub.name_status("used", "c" * 32))["reason"] == "taken"
    clock.now += 2
    assert (await hub.name_status("used", "c" * 32))["available"]


@pytest.mark.anyio
async def test_an_unused_name_goes_sooner_than_a_used_one(make_hub) -> None:  # noqa: F811
    """Over each store, with the hub's clock: a name that never served a visitor is free an
    hour after its tab left; one that served a visitor for a day is kept a day."""
    clock = Clock()
    hub = await make_hub(clock, reservation_seconds=7 * 86400)
    hub.rules = Rules(reservation_seconds=7 * 86400, unused_reservation_seconds=3600)
    unused, used = await server(hub, "unused"), await server(hub, "used")
    guest = await visitor(hub, "used")
    await guest.say({"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}})
    clock.now += 86400
    await hub.disconnect(unused.id)
    await hub.disconnect(used.id)
    clock.now += 3601
    assert (await hub.name_status("unused", "c" * 32))["available"]
    assert (await hub.name_status("used", "c" * 32))["reason"] == "taken"
    clock.now += 86400 - 3600  # a day after its tab left
    assert (await hub.name_status("used", "c" * 32))["available"]


def test_the_memory_store_forgets_ended_reservations() -> None:
    """Records whose reservations ended, and their quota lists, are pruned: a hoarder's
    forgotten names do not pile up in the service's memory."""
    store = MemoryStore()
    hub = Hub(store, Rules(reservation_seconds=60, unused_reservation_seconds=0.05))

    async def churn() -> None:
        for n in range(300):
            peer = f"local/{n}"
            record = hub.rules.register(f"n{n}", secrets.token_hex(16), peer, None, time.time())
            assert await store.swap(f"n{n}", None, record.record)
            away = hub.rules.left(record.record, peer, time.time())
            assert await store.swap(f"n{n}", record.record, away, 0.05)

    asyncio.run(churn())
    time.sleep(0.1)
    store.prune()
    assert store.size() == 0
    assert asyncio.run(store.held("address:")) == []


@pytest.mark.anyio
async def test_redis_expires_reserved_names_and_quota_lists(tmp_path: Path) -> None:
    with redis_server(tmp_path) as url:
        store = RedisStore(url, prefix="expiry")
        hub = Hub(store, Rules(reservation_seconds=600, unused_reservation_seconds=60))
        await store.start()
        try:
            tab_peer = Peer(hub)
            tab_peer.id = await hub.connect_server(tab_peer.send, "2001:db8::7")
            await tab_peer.say({"type": "register", "name": "brief", "token": "d" * 32})
            assert (await tab_peer.next())["type"] == "registered"
            await hub.disconnect(tab_peer.id)
            redis = store._redis
            assert 55_000 < await redis.pttl("expiry:name:brief") <= 60_000
            assert await redis.ttl("expiry:held:address:2001:db8::/64") > 0
            assert [name for name, _ in await hub.held("address:2001:db8::/64")] == ["brief"]
        finally:
            await store.close()
