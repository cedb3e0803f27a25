"""Every visitor gets the site or a reason, within seconds (issue 25): a browser without WebRTC
(WebKitGTK, which Debian builds without it; Chromium with WebRTC taken from the page, as an
extension or policy would), and a visitor whose network offers no path (relay only, through a
TURN server that cannot be reached)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import TEST_SITES, serve_site
from tests.harness import free_port, peerserver_service
from tests.webkit import webkit

pytestmark = pytest.mark.e2e

SHELL_MESSAGE = """
const status = document.getElementById("shell-status");
const message = document.getElementById("shell-message");
return status && !status.hidden && message.textContent.includes("cannot open") ?
    message.textContent : null;
"""


def test_webkit_without_webrtc_is_told_what_is_missing(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "no-rtc", "public")
    try:
        with webkit() as page:
            started = time.monotonic()
            page.goto(served.url)
            said = page.wait_for(SHELL_MESSAGE, timeout_s=15)
            elapsed = time.monotonic() - started
            engine = page.execute("return navigator.userAgent")
        assert "AppleWebKit" in engine and "Chrome" not in engine, engine
        assert said, "the page said nothing about this browser"
        assert said.startswith("This browser cannot open PeerServer sites: it lacks WebRTC")
        assert "Open this address in a browser with WebRTC turned on" in said
        print(f"WebKitGTK told in {elapsed:.1f} s: {said}")
        # At once, from what the page checks, not after a connection's attempt gives up (ICE
        # takes 10 s): 1 s measured here, WebDriver loading the page included; a loaded
        # machine may take several.
        assert elapsed < 8
    finally:
        served.context.close()


def test_chromium_with_webrtc_taken_from_the_page(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "rtc-blocked", "public")
    visitor = browser.new_context()
    visitor.add_init_script(
        "delete window.RTCPeerConnection; delete window.webkitRTCPeerConnection;"
    )
    try:
        page = visitor.new_page()
        page.goto(served.url)
        status = page.get_by_role("status")
        expect(status).to_contain_text("This browser cannot open PeerServer sites: it lacks WebRTC")
        assert page.evaluate("() => !document.getElementById('site').hasAttribute('src')")
    finally:
        visitor.close()
        served.context.close()


def test_chromium_refusing_site_storage_is_told_and_stays_told(
    browser: Browser, service_url: str
) -> None:
    """Site storage is probed while the connection is made (web/shell.js): once it is found
    refused, the connection stops, and nothing it would have said replaces the message."""
    served = serve_site(browser, service_url, "idb-refused", "public")
    visitor = browser.new_context()
    visitor.add_init_script(
        """IDBFactory.prototype.open = function () {
             throw new DOMException("refused here", "SecurityError");
           };"""
    )
    try:
        page = visitor.new_page()
        page.goto(served.url)
        status = page.get_by_role("status")
        expect(status).to_contain_text("it lacks site storage (IndexedDB)")
        page.wait_for_timeout(2000)  # what a connection still under way would show by now
        expect(status).to_contain_text("it lacks site storage (IndexedDB)")
        assert page.evaluate("() => window.peerServerClient.state") == "stopped"
        assert page.evaluate("() => !document.getElementById('site').hasAttribute('src')")
    finally:
        visitor.close()
        served.context.close()


def test_no_path_through_an_unreachable_relay_is_said_in_bounded_time(
    browser: Browser, tmp_path: Path
) -> None:
    unreachable = f"turn:127.0.0.1:{free_port()}?transport=udp"
    options = ["--relay-only", "--turn", unreachable, "--turn-secret", "not-a-real-secret"]
    with peerserver_service(TEST_SITES, options=options) as (service, _):
        served = serve_site(browser, service, "no-path", "public")
        visitor = browser.new_context()
        try:
            page = visitor.new_page()
            started = time.monotonic()
            page.goto(served.url)
            status = page.get_by_role("status")
            expect(status).to_contain_text(
                'The server "no-path" is online, but this browser cannot reach it. '
                "No connection through the relay (TURN) server could be made.",
                timeout=30_000,
            )
            elapsed = time.monotonic() - started
            print(f"told in {elapsed:.1f} s: {status.inner_text()}")
            assert elapsed < 15  # ICE gives up on the relay after about 10 s
        finally:
            visitor.close()
            served.context.close()
