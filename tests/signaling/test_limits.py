"""What one address may take of the signaling service: the rules with no I/O, then through
the app over WebSockets."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from signaling.app import create_app
from signaling.hub import Hub
from signaling.limits import Limits, LimitSettings
from tests.signaling.test_service import online

TOKEN = "a" * 32


def test_sockets_per_address() -> None:
    limits = Limits(LimitSettings(sockets_per_address=2))
    assert limits.open("1.2.3.4", 0) and limits.open("1.2.3.4", 0)
    assert not limits.open("1.2.3.4", 0)
    assert limits.open("5.6.7.8", 0)  # another address has its own
    limits.close("1.2.3.4", 0)
    assert limits.open("1.2.3.4", 0)


def test_messages_per_address_are_a_token_bucket() -> None:
    limits = Limits(LimitSettings(messages_per_second=10, message_burst=5))
    assert all(limits.message("a", 0) for _ in range(5))
    assert not limits.message("a", 0)
    assert not limits.message("a", 0.05)  # half a message earned back: not yet
    assert limits.message("a", 0.1)
    assert all(limits.message("a", 10) for _ in range(5))  # refills to the burst, no more
    assert not limits.message("a", 10)


def test_opening_costs_a_message_so_reconnecting_is_limited_too() -> None:
    limits = Limits(LimitSettings(messages_per_second=1, message_burst=3))
    for _ in range(3):
        assert limits.open("a", 0)
        limits.close("a", 0)
    assert not limits.open("a", 0)


def test_memory_stays_bounded_by_the_live_addresses() -> None:
    limits = Limits(LimitSettings(messages_per_second=100, message_burst=10))
    for n in range(20_000):
        address = f"10.0.{n // 256}.{n % 256}"
        assert limits.open(address, n)
        limits.message(address, n)
        limits.close(address, n)
    assert limits.tracked() <= 4096 + 1


def test_settings_must_be_positive() -> None:
    with pytest.raises(ValueError, match="visitors per site"):
        LimitSettings(visitors_per_site=0)


@contextlib.contextmanager
def app(**settings: float) -> Iterator[TestClient]:
    """A client of the service with these limits; entered, so that all its WebSockets share one
    event loop, as under uvicorn (else each has its own, and a relay between two crosses
    threads and may lose messages)."""
    with TestClient(create_app(hub=Hub(limits=LimitSettings(**settings)))) as client:
        yield client


def test_a_socket_over_the_address_limit_is_closed_with_a_reason() -> None:
    with app(sockets_per_address=1) as client:
        with client.websocket_connect("/ws/server") as first:
            first.receive_json()
            with (
                pytest.raises(WebSocketDisconnect) as refused,
                client.websocket_connect("/ws/server"),
            ):
                pass
            assert refused.value.code == 1008
        with client.websocket_connect("/ws/server") as again:  # the first one closed
            assert again.receive_json()["type"] == "ice-servers"


def test_messages_over_the_rate_are_dropped_with_an_error() -> None:
    with (
        app(messages_per_second=0.001, message_burst=3) as client,
        client.websocket_connect("/ws/server") as tab,  # opening took one
    ):
        tab.receive_json()
        tab.send_text(json.dumps({"type": "register", "name": "demo", "token": TOKEN}))
        assert tab.receive_json()["type"] == "registered"
        tab.send_text(json.dumps({"type": "ice-servers"}))
        assert tab.receive_json()["type"] == "ice-servers"
        tab.send_text(json.dumps({"type": "ice-servers"}))
        assert tab.receive_json()["code"] == "rate-limited"


def test_a_visitor_has_a_few_offers_waiting_at_most() -> None:
    with app(pending_offers_per_visitor=2) as client:
        site = {"host": "demo.localhost:8000"}
        with client.websocket_connect("/ws/server") as tab:
            tab.receive_json()
            tab.send_json({"type": "register", "name": "demo", "token": TOKEN})
            assert tab.receive_json()["maxVisitors"] == 64  # the README's default
            with client.websocket_connect("/__ps/signal", headers=site) as guest:
                assert guest.receive_json()["type"] == "ice-servers"
                assert guest.receive_json() == online()
                offer = {"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}}
                for _ in range(2):
                    guest.send_json(offer)
                    relayed = tab.receive_json()
                guest.send_json(offer)
                assert guest.receive_json()["code"] == "too-many-offers"
                answer = {"sdp": {"type": "answer", "sdp": "v=0"}}
                tab.send_json({"type": "signal", "to": relayed["from"], "data": answer})
                assert guest.receive_json()["data"] == answer
                guest.send_json(offer)  # one answered: room for one more
                assert tab.receive_json()["type"] == "signal"
