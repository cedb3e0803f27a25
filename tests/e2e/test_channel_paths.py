"""Both ways a visitor's HTTP channels are held at either end. In the server tab: handed to the
Python worker (Chromium can transfer a data channel to a worker: no request crosses the tab's
main thread), or kept by the tab's main thread, which relays its bytes to the worker
(``?channels=tab``: the way of a browser that cannot transfer one). In the visitor's shell:
handed to its request worker, which answers the service worker's requests itself, or kept by
the shell's page, which relays them (sessionStorage's ``peerserver.requests`` set to ``page``).
Each way serves pages, binary and streamed bodies past the visitor's window, uploads, cookies,
and a Python restart: the request that ran too long gets its 504, the one that waited its 503,
and the visitor stays connected. A request relayed by the shell's page waits while the page's
main thread is busy (the site's own pages share it); one its request worker answers does not."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, expect

from tests.conftest import (
    BOOT_TIMEOUT,
    ServedSite,
    open_server,
    serve_site,
    set_time_limit,
    site_url,
)
from tests.measure import REQUESTS_ON_PAGE, in_tab

pytestmark = pytest.mark.e2e

FETCH = """async (_body, path) => {
    const response = await fetch(path, {cache: "no-store"});
    const bytes = new Uint8Array(await response.arrayBuffer());
    const hash = await crypto.subtle.digest("SHA-256", bytes);
    const hex = (b) => b.toString(16).padStart(2, "0");
    return {status: response.status, length: bytes.length,
            sha256: Array.from(new Uint8Array(hash), hex).join(""),
            text: new TextDecoder().decode(bytes.slice(0, 4096))};
}"""

# Where the server tab keeps its visitors' HTTP channels: handed to the worker, or its own.
HELD = """() => ({handedOver: peerServerHost.channels.handedOver.size,
                     relayed: peerServerHost.channels.connections.size})"""
# Where a visitor's shell answers its requests: in its request worker, or on its page.
ANSWERED = """() => globalThis.peerServerRequests ? "worker"
    : globalThis.peerServerClient?.requests?.pool ? "page" : null"""
UPLOAD = """async () => {
    const bytes = new Uint8Array(3 * 1024 * 1024).map((_, i) => i % 251);
    const form = new FormData();
    form.append("document", new Blob([bytes]), "big.bin");
    return (await fetch("/upload", {method: "POST", body: form})).text();
}"""
COOKIES = """async () => {
    await fetch("/cookies/set");
    const seen = document.cookie; // the scripts see the cookies once they see the response
    return {seen: seen.split("; "), sent: await (await fetch("/cookies/show")).json()};
}"""


def visitor_context(browser: Browser, path: str) -> BrowserContext:
    """A visitor's browser whose shells answer requests in their request worker (``path``
    "worker") or on their page ("page")."""
    visitor = browser.new_context()
    if path == "page":
        visitor.add_init_script(REQUESTS_ON_PAGE)
    return visitor


@pytest.mark.parametrize(("path", "visitor_path"), [("worker", "worker"), ("tab", "page")])
def test_a_visitor_is_served_either_way(
    browser: Browser, service_url: str, path: str, visitor_path: str
) -> None:
    name = f"paths-{path}"
    owner = browser.new_context()
    visitor = visitor_context(browser, visitor_path)
    try:
        server = open_server(owner, service_url, name, "web", "tab" if path == "tab" else None)
        status = server.get_by_role("status")

        page = visitor.new_page()
        page.goto(site_url(service_url, name))
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
        body = site.locator("body")
        held = server.evaluate(HELD)
        if path == "worker":
            assert held["handedOver"] >= 1 and held["relayed"] == 0, held
        else:
            assert held["handedOver"] == 0 and held["relayed"] >= 1, held
        assert [where for where in in_tab(page, ANSWERED) if where] == [visitor_path]

        binary = body.evaluate(FETCH, "/binary")  # 256 KiB: more than the first window
        assert binary["status"] == 200 and binary["length"] == 256 * 1024, binary["text"]
        assert binary["sha256"] == hashlib.sha256(bytes(range(256)) * 1024).hexdigest()
        streamed = body.evaluate(FETCH, "/stream")
        assert streamed["text"] == "".join(f"tick {n}\n" for n in range(1, 6))
        uploaded = body.evaluate(UPLOAD)  # the body streamed, piece by piece
        expected = bytes(i % 251 for i in range(3 * 1024 * 1024))
        assert hashlib.sha256(expected).hexdigest() in uploaded
        cookies = body.evaluate(COOKIES)
        assert "visible=v1" in cookies["seen"] and "hidden=h1" not in cookies["seen"]
        assert cookies["sent"]["visible"] == "v1" and cookies["sent"]["hidden"] == "h1"

        # A request past the time limit, and one that waits behind it while Python is stuck.
        set_time_limit(server, 2)
        answers = body.evaluate(
            """async () => {
                const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
                const answer = (path) => Promise.race([
                    fetch(path).then(async (r) => [r.status, await r.text()]),
                    sleep(30000).then(() => [0, "no answer within 30 s"]),
                ]);
                const stuck = answer("/spin");
                await sleep(300);
                const waiting = answer("/about");
                return [await stuck, await waiting];
            }"""
        )
        (stuck_status, stuck_text), (waiting_status, waiting_text) = answers
        assert stuck_status == 504 and "GET /spin ran longer than 2 s" in stuck_text
        assert waiting_status == 503 and "restarting" in waiting_text
        expect(status).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        again = body.evaluate(FETCH, "/sized/5")
        assert (again["status"], again["text"]) == (200, "55555")
        expect(server.get_by_text("Connected: 1")).to_be_visible()

        # The visitor leaves: the tab forgets its channels, wherever they were held.
        visitor.close()
        server.wait_for_function(
            f"() => {{ const held = ({HELD})(); return held.handedOver + held.relayed === 0; }}",
            timeout=15_000,
        )
    finally:
        visitor.close()
        owner.close()


@pytest.fixture(scope="module")
def web(browser: Browser, service_url: str) -> Iterator[ServedSite]:
    served = serve_site(browser, service_url, "paths-busy", "web")
    yield served
    served.context.close()


# In a page of the site: a worker of its own fetches one path, then another while the page's
# main thread is kept busy for 3 s; whether that answer came before the page was free again.
BUSY = """async () => {
    const worker = new Worker("/fetcher.js");
    const answer = (path) => new Promise((resolve) => {
        worker.onmessage = ({data}) => resolve(data);
        worker.postMessage(path);
    });
    await answer("/sized/3"); // the worker runs, and the way is warm
    const answered = answer("/sized/4");
    const free = performance.timeOrigin + performance.now() + 3000;
    while (performance.timeOrigin + performance.now() < free) {} // busy
    const {text, at} = await answered;
    worker.terminate();
    return {text, early: at < free};
}"""


@pytest.mark.parametrize("visitor_path", ["worker", "page"])
def test_a_busy_page_holds_up_only_the_requests_its_shell_relays(
    browser: Browser, web: ServedSite, visitor_path: str
) -> None:
    visitor = visitor_context(browser, visitor_path)
    try:
        page = visitor.new_page()
        page.goto(web.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
        answer = site.locator("body").evaluate(BUSY)
        assert answer["text"] == "4444"
        assert answer["early"] == (visitor_path == "worker")
    finally:
        visitor.close()


def test_a_request_worker_that_did_not_start_is_said(browser: Browser, web: ServedSite) -> None:
    """The shell's request worker's script did not load (here: the service answered 503): the
    visitor is told, and to reload, rather than left on "Connecting…"."""
    visitor = browser.new_context()
    try:
        visitor.route("**/__ps/bundle/request-worker.js", lambda route: route.fulfill(status=503))
        page = visitor.new_page()
        page.goto(web.url)
        expect(page.get_by_role("status")).to_contain_text(
            "This page's request worker did not start: reload the page."
        )
    finally:
        visitor.close()
