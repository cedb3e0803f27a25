"""Signaling on two machines' worth of instances, and through their restarts: two `peerserver
serve --redis` processes share a real redis-server; the server tab signals through one, its
visitor through the other. Then both are killed and started again: the visitor's page keeps
working over its peer connection, the server tab registers its name again by itself, and a
newcomer cannot take the name meanwhile."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, TEST_SITES
from tests.deployment import redis_server
from tests.harness import free_port, peerserver_service

pytestmark = pytest.mark.e2e

RECONNECT_TIMEOUT = 30_000  # ms: backoff tops out at 5 s


@pytest.fixture
def redis_url(tmp_path: Path) -> Iterator[str]:
    with redis_server(tmp_path) as url:
        yield url


def start_instances(stack: ExitStack, redis_url: str, ports: tuple[int, ...]) -> list:
    processes = []
    for port in ports:
        _, process = stack.enter_context(
            peerserver_service(TEST_SITES, options=["--redis", redis_url], port=port)
        )
        processes.append(process)
    return processes


def test_instances_share_redis_and_restarts_lose_nothing(browser: Browser, redis_url: str) -> None:
    a, b = free_port(), free_port()
    owner = browser.new_context()
    guest = browser.new_context()
    newcomer = browser.new_context()
    try:
        with ExitStack() as first_run:
            processes = start_instances(first_run, redis_url, (a, b))
            server = owner.new_page()
            server.goto(f"http://localhost:{a}/server/shared?template=public")
            expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)

            page = guest.new_page()  # through the other instance
            page.goto(f"http://shared.localhost:{b}/")
            site = page.frame_locator("#site")
            expect(site.locator("#body")).to_have_text("Hello, world.")
            expect(server.locator("#connected")).to_have_text("Connected: 1")

            for process in processes:  # both instances die at once, without a word
                process.kill()
                process.wait(timeout=10)
            expect(server.get_by_role("status")).to_have_text(
                "Serving · reconnecting to PeerServer…", timeout=RECONNECT_TIMEOUT
            )
            # Signaling is down, the peer connection is not: the visitor goes on.
            site.get_by_role("link", name="Log in").click()
            expect(site.get_by_role("heading", name="Log in")).to_be_visible()

        with ExitStack() as second_run:
            # B comes back first: the server tab signals through A and cannot have registered
            # again, so only Redis keeps the name for its owner now.
            start_instances(second_run, redis_url, (b,))
            home = newcomer.new_page()
            home.goto(f"http://localhost:{b}/")
            home.get_by_label("Server name").fill("shared")
            home.get_by_role("button", name="Create PeerServer").click()
            expect(home.get_by_text('"shared" is unavailable')).to_be_visible()
            expect(home).to_have_url(f"http://localhost:{b}/")

            start_instances(second_run, redis_url, (a,))
            expect(server.get_by_role("status")).to_have_text("Serving", timeout=RECONNECT_TIMEOUT)
            site.get_by_label("User").fill("ada")
            site.get_by_role("button", name="Log in").click()
            expect(site.locator("#body")).to_have_text("Logged in as ada")

            # A visitor who arrives now, through either instance, is served (the server tab
            # signals through A: B's visitor meets it over Redis).
            for port in (a, b):
                late = newcomer.new_page()
                late.goto(f"http://shared.localhost:{port}/whoami")
                expect(late.frame_locator("#site").locator("#body")).to_have_text(
                    "Logged in as None"
                )
                late.close()
    finally:
        for context in (owner, guest, newcomer):
            context.close()
