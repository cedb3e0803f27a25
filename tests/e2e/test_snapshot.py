"""Booting from the Python memory snapshot a browser keeps (runtime/server-tab/python-snapshot.js):
the first server tab makes it, later ones restore it, each with a Python of its own, and a
snapshot that does not load costs a slower boot, nothing more. Real Chromium."""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import console_run, open_server
from tests.measure import kept_snapshot

pytestmark = pytest.mark.e2e


def from_snapshot(server: Page) -> bool:
    return server.evaluate("() => window.peerServerHost.bootTimings.snapshot")


def console_value(server: Page, line: str) -> str:
    return console_run(server, line).split("\n", 1)[0]


def test_later_boots_restore_the_snapshot_each_with_python_of_its_own(
    browser: Browser, service_url: str
) -> None:
    owner = browser.new_context()
    try:
        first = open_server(owner, service_url, "snap-first", "public")
        assert not from_snapshot(first)
        kept_snapshot(first)
        second = open_server(owner, service_url, "snap-second", "public")
        third = open_server(owner, service_url, "snap-third", "public")
        assert from_snapshot(second) and from_snapshot(third)
        # Restored from the same memory, yet not the same random numbers (reseeded).
        line = "import random; random.random()"
        assert console_value(second, line) != console_value(third, line)
        # The site's code sees JavaScript as in any worker, and its own origin is opaque.
        assert console_value(third, "import js; js.self.origin") == "'null'"
    finally:
        owner.close()


def test_a_snapshot_that_does_not_load_is_replaced(browser: Browser, service_url: str) -> None:
    owner = browser.new_context()
    try:
        first = open_server(owner, service_url, "broken-first", "public")
        kept_snapshot(first)
        assert kept_snapshot(first, overwrite=True)["size"] > 30_000_000

        second = open_server(owner, service_url, "broken-second", "public")
        expect(second.locator("#log")).to_contain_text("The Python snapshot did not load")
        assert not from_snapshot(second)
        deadline = time.monotonic() + 30
        while kept_snapshot(second)["first"] == 7:  # until the new one, made by that boot
            assert time.monotonic() < deadline, "the broken snapshot was not replaced"
            time.sleep(0.2)
        third = open_server(owner, service_url, "broken-third", "public")
        assert from_snapshot(third)
    finally:
        owner.close()
