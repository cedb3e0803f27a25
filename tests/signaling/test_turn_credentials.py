"""The TURN REST-API credentials the service hands out, tried on a real coturn: what it makes is
accepted, an expired or forged credential is refused (aioice's TURN client asks for a relay)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest
from aioice import stun, turn

from signaling.ice import IceConfig, turn_credentials
from tests.deployment import Turn, coturn


@pytest.fixture(scope="module")
def turn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Turn]:
    with coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


def allocate(server: Turn, username: str, password: str) -> tuple[str, int]:
    """Ask ``server`` for a relay address with these credentials."""
    host, port = server.url.removeprefix("turn:").split("?")[0].split(":")

    async def ask() -> tuple[str, int]:
        transport, _ = await asyncio.wait_for(
            turn.create_turn_endpoint(
                asyncio.DatagramProtocol, (host, int(port)), username, password, lifetime=60
            ),
            timeout=10,
        )
        try:
            return transport.get_extra_info("sockname")
        finally:
            transport.close()

    return asyncio.run(ask())


def test_coturn_accepts_what_the_service_hands_out(turn_server: Turn) -> None:
    config = IceConfig(turn=(turn_server.url,), turn_secret=turn_server.secret)
    [server] = config.for_peer("peer7", time.time())["iceServers"]
    relay_host, relay_port = allocate(turn_server, server["username"], server["credential"])
    assert relay_host == "127.0.0.1" and relay_port > 0


def test_coturn_refuses_expired_and_forged_credentials(turn_server: Turn) -> None:
    expired = f"{int(time.time()) - 5}:peer8"
    with pytest.raises(stun.TransactionFailed, match="401"):
        allocate(turn_server, expired, turn_credentials(turn_server.secret, expired))
    later = f"{int(time.time()) + 600}:peer9"
    with pytest.raises(stun.TransactionFailed, match="401"):
        allocate(turn_server, later, turn_credentials("not the secret", later))
    with pytest.raises(stun.TransactionFailed, match="401"):  # a later expiry, an old password
        allocate(turn_server, later, turn_credentials(turn_server.secret, expired))
