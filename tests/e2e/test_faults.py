"""Faults, end to end in real tabs: a visitor that leaves in the middle of an endless download,
a page that stops reading, a 200 MB upload, a server tab reloaded in the middle of a request,
and a Python runtime that crashes."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import BOOT_TIMEOUT, serve_site, visit_hello, wait_for_request
from tests.measure import ServiceWorkerMemory, page_isolate_bytes, site_frame

pytestmark = pytest.mark.e2e

HEAP = "() => { gc(); return performance.memory.usedJSHeapSize; }"
_READ_FOREVER = """() => {
    window.__received = 0;
    (async () => {
        const reader = (await fetch("/forever")).body.getReader();
        for (;;) {
            const { done, value } = await reader.read();
            if (done) return;
            window.__received += value.length;
        }
    })();
}"""


def forever_status(context: BrowserContext, site_url: str) -> Callable[[], dict]:
    """Ask the site, from another visitor's page, how its endless download is doing."""
    look = context.new_page()
    look.goto(f"{site_url}forever/status")
    expect(look.frame_locator("#site").locator("body")).to_contain_text("produced")
    frame = site_frame(look)
    return lambda: frame.evaluate("async () => (await fetch('/forever/status')).json()")


def test_a_visitor_leaving_mid_download_stops_the_server(
    browser: Browser, service_url: str
) -> None:
    served = serve_site(browser, service_url, "leaving", "public")
    leaver, watcher = browser.new_context(), browser.new_context()
    try:
        heap_before = served.server.evaluate(HEAP)
        page = visit_hello(leaver, served.url)
        frame = site_frame(page)
        frame.evaluate(_READ_FOREVER)
        frame.wait_for_function("() => window.__received > 20_000_000", timeout=60_000)
        leaver.close()  # the tab goes away mid-download

        status = forever_status(watcher, served.url)

        deadline = time.monotonic() + 20
        while not status()["closed"]:
            assert time.monotonic() < deadline, "the server tab went on producing"
            time.sleep(0.2)
        first = status()["produced"]
        time.sleep(1)
        assert status()["produced"] == first  # nothing more was made
        heap_after = served.server.evaluate(HEAP)
        assert heap_after - heap_before < 16_000_000  # the server tab's memory came back
    finally:
        watcher.close()
        served.context.close()


# What the visitor's shell says as its connection's state changes, as it says it.
SAID_TO_THE_VISITOR = """() => {
    window.__said = [];
    window.peerServerClient.addEventListener("state", () => {
        window.__said.push(document.getElementById("shell-message").textContent);
    });
}"""


def test_a_server_tab_reloaded_mid_request(browser: Browser, service_url: str) -> None:
    """The request in flight fails with an error page; when the tab is back, the visitor's
    page comes back by itself, without a reload by hand."""
    served = serve_site(browser, service_url, "reloaded", "public")
    visitor = browser.new_context()
    try:
        page = visit_hello(visitor, served.url)
        site = page.frame_locator("#site")
        site_frame(page).evaluate("() => { location.href = '/slow?seconds=4'; }")
        # Reloaded once the request has reached the server tab, whose Python is on it.
        wait_for_request(served.server, "GET /slow")
        page.evaluate(SAID_TO_THE_VISITOR)
        served.server.reload()
        # The visitor is told the server is offline: for as long as the tab takes to come back,
        # which may be less than a second.
        page.wait_for_function(
            "() => window.__said.some((text) => text.includes('is offline'))", timeout=15_000
        )
        expect(site.get_by_role("heading", name="This site is unavailable")).to_be_visible()
        expect(site.locator("body")).to_contain_text("closed")
        expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        expect(site.locator("#body")).to_have_text("The slow page, at last.", timeout=30_000)
    finally:
        visitor.close()
        served.context.close()


def test_a_crashed_python_restarts_with_the_site_intact(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "crashing", "public")
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(f"{served.url}crash")
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Bad Gateway")).to_be_visible(timeout=30_000)
        expect(site.locator("body")).to_contain_text("crashed")
        log = served.server.locator("#log")
        expect(log).to_contain_text("Python crashed (RuntimeError: memory access out of bounds)")
        expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        page.goto(served.url)
        expect(site.locator("#body")).to_have_text("Hello, world.")
    finally:
        visitor.close()
        served.context.close()


_READ_A_LITTLE = """async () => {
    const reader = (await fetch("/forever")).body.getReader();
    window.__reader = reader;
    await reader.read();
}"""


# The garbage collected, and the ArrayBuffers' backing stores it freed given back (a sweeper
# of their own does that a moment later).
_COLLECTED = "async () => { gc(); await new Promise((r) => setTimeout(r, 200)); gc(); }"


def test_a_page_that_stops_reading_holds_the_server_back(
    browser: Browser, service_url: str
) -> None:
    """End-to-end backpressure: while the page does not read, the server tab stops producing
    once the window is spent (the shell and its service worker hold no more than a window), and
    goes on when the page reads again."""
    served = serve_site(browser, service_url, "slow-reader", "public")
    reader, watcher = browser.new_context(), browser.new_context()
    try:
        page = visit_hello(reader, served.url)
        page.evaluate(_COLLECTED)
        start = page_isolate_bytes(page)
        frame = site_frame(page)
        frame.evaluate(_READ_A_LITTLE)

        status = forever_status(watcher, served.url)

        def produced() -> int:
            return status()["produced"]

        # The page reads nothing meanwhile. Chromium itself reads ahead into a response body
        # that a page leaves unread (some 60 MB here); past that, nothing more is produced.
        held, deadline = -1, time.monotonic() + 30
        while (now := produced()) != held:
            assert time.monotonic() < deadline, "the server tab went on producing"
            held = now
            time.sleep(1.5)
        assert held * 65536 < 100_000_000, f"{held} blocks produced for a page that read one"
        # What the page with the shell holds meanwhile (its heap and ArrayBuffers, the garbage
        # collected: a peak between collections measures the collector's timing, 11 to 38 MB
        # in runs of the same code) is a window's worth, not what passed through it.
        page.evaluate(_COLLECTED)
        held_mb = (page_isolate_bytes(page) - start) / 1e6
        assert held_mb < 8

        # Reading again lets it go on: once the page has drained what Chromium read ahead, the
        # service worker pulls again and the window's credit travels back to the server tab.
        frame.evaluate("""() => {
            (async () => { for (;;) if ((await window.__reader.read()).done) return; })();
        }""")
        deadline = time.monotonic() + 30
        while produced() <= held:
            assert time.monotonic() < deadline, "the server tab did not go on once read again"
            time.sleep(0.5)
        print(
            f"slow reader: {held} blocks of 64 KiB produced while the page did not read; "
            f"the page with the shell held {held_mb:.1f} MB meanwhile"
        )
    finally:
        reader.close()
        watcher.close()
        served.context.close()


UPLOAD_MB = 200
_MAKE_BODY = """(megabytes) => {
    window.__body = new Blob([new Uint8Array(megabytes * 1024 * 1024).fill(7)]);
    gc();
}"""
_UPLOAD = """() => {
    const started = performance.now();
    window.__upload = { done: false };
    fetch("/upload-digest", { method: "POST", body: window.__body })
        .then((response) => response.json())
        .then((result) => { window.__upload = { done: true, ms: performance.now() - started,
                                                 ...result }; },
              (error) => { window.__upload = { done: true, error: String(error) }; });
}"""


def test_a_200_mb_upload_is_streamed_not_held_whole(browser: Browser, service_url: str) -> None:
    """Neither the service worker nor the page that holds the shell has the body whole: it goes
    on piece by piece at the pace of the data channel, and arrives byte for byte."""
    served = serve_site(browser, service_url, "uploads", "public")
    visitor = browser.new_context()
    try:
        page = visit_hello(visitor, served.url)
        frame = site_frame(page)
        frame.evaluate(_MAKE_BODY, UPLOAD_MB)  # the page's own Blob, in the browser's storage
        worker = ServiceWorkerMemory(browser, served.url)

        def in_use() -> tuple[int, int]:
            return worker.bytes_in_use(page), page_isolate_bytes(page)

        before = peak = in_use()
        frame.evaluate(_UPLOAD)
        deadline = time.monotonic() + 180
        while not frame.evaluate("() => window.__upload.done"):
            assert time.monotonic() < deadline, "the upload did not finish"
            peak = tuple(max(a, b) for a, b in zip(peak, in_use(), strict=True))
            page.wait_for_timeout(100)
        result = frame.evaluate("() => window.__upload")
        expected = hashlib.sha256(b"\x07" * (UPLOAD_MB * 1024 * 1024)).hexdigest()
        assert result.get("error") is None, result
        assert result["bytes"] == UPLOAD_MB * 1024 * 1024 and result["sha256"] == expected
        worker_mb, page_mb = ((p - b) / 1e6 for p, b in zip(peak, before, strict=True))
        rate = UPLOAD_MB * 1.048576 / (result["ms"] / 1000)
        print(
            f"{UPLOAD_MB} MB upload: {rate:.1f} MB/s; memory grew at most {worker_mb:.1f} MB "
            f"in the service worker, {page_mb:.1f} MB in the page with the shell"
        )
        # Far below the 200 MB of the body; the page's figure moves with its garbage collector.
        assert worker_mb < 64 and page_mb < 64
    finally:
        visitor.close()
        served.context.close()
