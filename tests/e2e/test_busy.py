"""A server tab serves as many visitors at once as the service allows
(`--max-visitors-per-site`); the next one gets a clear "busy" page, not a hang, and gets in
once a place is free."""

from __future__ import annotations

import sys

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.conftest import TEST_SITES, serve_site, visit_hello
from tests.harness import free_port, peerserver_service, running

pytestmark = pytest.mark.e2e

BUSY = "The site is busy: it serves 1 visitor at once. Try again in a while."


def test_a_visitor_beyond_the_limit_is_told_the_site_is_busy(browser: Browser) -> None:
    options = ["--max-visitors-per-site", "1"]
    with peerserver_service(TEST_SITES, options=options) as (url, _):
        served = serve_site(browser, url, "popular", "public")
        first, second = browser.new_context(), browser.new_context()
        try:
            visit_hello(first, served.url)

            late = second.new_page()
            late.goto(served.url)
            expect(late.get_by_role("status")).to_have_text(BUSY, timeout=15_000)
            expect(served.server.locator("#log")).to_contain_text("A visitor was turned away")

            # A tunnel is told the same at once, and passes it on to its client as a 503.
            port = free_port()
            command = [sys.executable, "-m", "signaling", "tunnel", "popular"]
            command += ["--port", str(port), "--service", url]
            with running(command, f"http://127.0.0.1:{port}/", timeout=30, expect_status=503):
                answer = requests.get(f"http://127.0.0.1:{port}/", timeout=10)
                assert answer.status_code == 503
                assert answer.text == f"{BUSY}\n"

            first.close()  # a place is free again
            late.reload()
            expect(late.frame_locator("#site").locator("#body")).to_have_text("Hello, world.")
        finally:
            second.close()
            served.context.close()
