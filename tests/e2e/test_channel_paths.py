"""Both ways a visitor's HTTP channel is served in the server tab: handed to the Python worker
(Chromium can transfer a data channel to a worker: no request crosses the tab's main thread),
or kept by the tab's main thread, which relays its bytes to the worker (``?channels=tab``: the
way of a browser that cannot transfer one). Each serves pages, binary and streamed bodies past
the visitor's window, and a Python restart: the request that ran too long gets its 504, the one
that waited its 503, and the visitor stays connected."""

from __future__ import annotations

import hashlib

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, open_server, set_time_limit, site_url

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


@pytest.mark.parametrize("path", ["worker", "tab"])
def test_a_visitor_is_served_either_way(browser: Browser, service_url: str, path: str) -> None:
    name = f"paths-{path}"
    owner = browser.new_context()
    visitor = browser.new_context()
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

        binary = body.evaluate(FETCH, "/binary")  # 256 KiB: more than the first window
        assert binary["status"] == 200 and binary["length"] == 256 * 1024, binary["text"]
        assert binary["sha256"] == hashlib.sha256(bytes(range(256)) * 1024).hexdigest()
        streamed = body.evaluate(FETCH, "/stream")
        assert streamed["text"] == "".join(f"tick {n}\n" for n in range(1, 6))

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
