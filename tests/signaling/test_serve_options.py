"""`peerserver serve`'s limits and timings as the README gives them, through the command
itself: its defaults, and each option changing what it says it changes."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from socket import create_connection
from urllib.parse import urlsplit

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.conftest import TEST_SITES
from tests.harness import peerserver_service
from tests.signaling.test_service import online

WAIT_S = 10


@contextmanager
def service(*options: str) -> Iterator[str]:
    with peerserver_service(TEST_SITES, options=list(options)) as (url, _):
        yield url


def socket(url: str, path: str = "/ws/server", host: str = "127.0.0.1") -> ClientConnection:
    """A WebSocket to the service at ``url``, for the host ``host`` (a site's, say)."""
    port = urlsplit(url).port
    tcp = create_connection(("127.0.0.1", port), WAIT_S)
    return connect(f"ws://{host}:{port}{path}", sock=tcp, open_timeout=WAIT_S)


def said(ws: ClientConnection) -> dict:
    while True:
        message = json.loads(ws.recv(timeout=WAIT_S))
        if message["type"] != "ice-servers":
            return message


def answers(ws: ClientConnection, count: int) -> list[dict]:
    """The next ``count`` answers to what a tab sent (the service's own requests for a renewal
    of its lease aside: signaling.hub.Hub.tick)."""
    received: list[dict] = []
    while len(received) < count:
        message = json.loads(ws.recv(timeout=WAIT_S))
        if message["type"] != "renew-lease":
            received.append(message)
    return received


def refused(url: str) -> int | None:
    """How the service turned one more socket away (its HTTP status), or None if it did not."""
    try:
        with socket(url) as ws:
            ws.recv(timeout=2)
    except InvalidStatus as refusal:
        return refusal.response.status_code
    except (ConnectionClosed, TimeoutError):
        return None
    return None


def test_the_defaults_are_the_readmes() -> None:
    with service() as url, ExitStack() as sockets:
        started = time.monotonic()  # the address's budget: a burst of 400, then 100 a second
        held = [sockets.enter_context(socket(url)) for _ in range(64)]
        assert all(json.loads(ws.recv(timeout=WAIT_S))["type"] == "ice-servers" for ws in held)
        assert refused(url) == 403  # the 65th
        tab = held[0]
        tab.send(json.dumps({"type": "register", "name": "demo", "token": secrets.token_hex(16)}))
        assert said(tab)["maxVisitors"] == 64
        spent = 64 + 1  # each socket opened, and the register
        for _ in range(1000):
            tab.send(json.dumps({"type": "ice-servers"}))
        replies = answers(tab, 1000)
        elapsed = time.monotonic() - started
        passed = sum(reply["type"] == "ice-servers" for reply in replies)
        assert 400 - spent <= passed <= 400 - spent + 100 * elapsed + 1, (passed, elapsed)
        refusals = [reply["code"] for reply in replies if reply["type"] == "error"]
        assert len(refusals) == 1000 - passed and set(refusals) == {"rate-limited"}


def test_each_limit_option_changes_its_limit() -> None:
    options = ["--max-sockets-per-address", "2", "--max-messages-per-second", "1",
               "--message-burst", "8", "--max-pending-offers", "1",
               "--max-visitors-per-site", "3"]  # fmt: skip
    with service(*options) as url, ExitStack() as sockets:
        tab = sockets.enter_context(socket(url))
        tab.recv(timeout=WAIT_S)
        tab.send(json.dumps({"type": "register", "name": "demo", "token": secrets.token_hex(16)}))
        assert said(tab)["maxVisitors"] == 3
        guest = sockets.enter_context(socket(url, "/__ps/signal", "demo.localhost"))
        assert said(guest) == online()
        assert refused(url) == 403  # a third socket
        offer = {"type": "signal", "data": {"sdp": {"type": "offer", "sdp": "v=0"}}}
        guest.send(json.dumps(offer))
        guest.send(json.dumps(offer))  # a second offer with the first unanswered
        assert said(guest)["code"] == "too-many-offers"
        for _ in range(6):  # 5 of the burst of 8 are spent: 2 sockets, a register, 2 offers
            tab.send(json.dumps({"type": "ice-servers"}))
        codes = [answer.get("code") for answer in answers(tab, 6)]
        assert codes.count("rate-limited") >= 2, codes


def test_reservations_and_turn_credentials_last_as_long_as_told() -> None:
    options = ["--reservation-days", str(2 / 86400), "--turn", "turn:127.0.0.1:3478",
               "--turn-secret", "s3cret", "--turn-credential-seconds", "120"]  # fmt: skip
    with service(*options) as url:
        with socket(url) as tab:
            ice = json.loads(tab.recv(timeout=WAIT_S))
            assert ice["type"] == "ice-servers"
            assert 115 <= ice["expires"] - time.time() <= 121
            tab.send(json.dumps({"type": "register", "name": "brief", "token": "t" * 32}))
            assert said(tab)["type"] == "registered"
        status = lambda: httpx.get(f"{url}api/name-status", params={"name": "brief"}).json()  # noqa: E731
        deadline = time.monotonic() + 1
        while time.monotonic() < deadline:  # reserved right after its tab left
            assert status()["reason"] == "taken"
            time.sleep(0.2)
        deadline = time.monotonic() + 10
        while not status()["available"]:
            assert time.monotonic() < deadline, "the reservation of 2 s never ended"
            time.sleep(0.2)
