"""WebSockets from visitors' pages to a site's ASGI app (Starlette), through real Chromium tabs:
the page's own `new WebSocket(...)` reaches the server tab's Python, with messages, close codes,
subprotocols, many sockets, workers, a chat between two visitors, and the codes a socket
closes with when the visitor leaves or the server's Python restarts."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, Page, expect

from tests.conftest import BOOT_TIMEOUT, ServedSite, serve_project
from tests.e2e.test_workbench import open_file, replace_and_save
from tests.harness import TESTS

pytestmark = pytest.mark.e2e

PROJECT = TESTS / "projects" / "starlette-live"

# Run in a page of the site: opens a socket to `path` and resolves once it is open.
OPEN_SOCKET = """
async ([path, protocols]) => {
  const socket = new WebSocket(location.origin.replace(/^http/, "ws") + path, protocols);
  socket.binaryType = "arraybuffer";
  await new Promise((resolve, reject) => {
    socket.onopen = resolve;
    socket.onerror = () => reject(new Error("the socket failed"));
  });
  (window.sockets ??= []).push(socket);
  return socket.protocol;
}
"""
NEXT_MESSAGE = """(socket) => new Promise((resolve) =>
  socket.addEventListener("message", (e) => resolve(e.data), {once: true}))"""
CLOSED = """(socket) => new Promise((resolve) =>
  socket.addEventListener("close", (e) => resolve(`${e.code} ${e.reason} ${e.wasClean}`),
                          {once: true}))"""


def live_site(browser: Browser, service_url: str, tmp_path: Path, name: str) -> ServedSite:
    served = serve_project(browser, service_url, name, PROJECT, tmp_path)
    expect(served.server.locator("#log")).to_contain_text(
        "requirements.txt: installed", timeout=BOOT_TIMEOUT
    )
    expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    return served


def site_frame(page: Page) -> Frame:
    """The frame the shell shows the site's page in, once it has the page's heading."""
    expect(page.frame_locator("#site").get_by_role("heading", name="Live room")).to_be_visible()
    frame = page.locator("#site").element_handle().content_frame()
    assert frame is not None
    return frame


def test_echo_close_codes_many_sockets_and_a_worker(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    served = live_site(browser, service_url, tmp_path, "live-echo")
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(served.url)
        frame = site_frame(page)
        # The page's clock socket ticks from the server's own timer.
        expect(page.frame_locator("#site").locator("#clock")).to_have_text(re.compile(r"tick \d+"))

        assert frame.evaluate(OPEN_SOCKET, ["/echo", ["other", "echo.v1"]]) == "echo.v1"
        result = frame.evaluate(
            f"""async () => {{
              const socket = window.sockets[0];
              const next = {NEXT_MESSAGE};
              const heard = [];
              socket.send("héllo, wörld");
              heard.push(await next(socket));
              socket.send(new Uint8Array([0, 255, 7]));
              heard.push([...new Uint8Array(await next(socket))].join(","));
              socket.send("x".repeat(300000));
              const buffered = socket.bufferedAmount;
              heard.push((await next(socket)).length);
              return {{heard, buffered, instance: socket instanceof WebSocket}};
            }}"""
        )
        assert result["heard"] == ["héllo, wörld", "0,255,7", 300000]
        assert result["buffered"] >= 300000  # counted until the shell has sent it on
        assert result["instance"]

        # Closed by the app, with its code and reason.
        closed = frame.evaluate(
            f"async () => {{ const s = window.sockets[0]; const c = ({CLOSED})(s);"
            " s.send('close:4001:asked to'); return await c; }"
        )
        assert closed == "4001 asked to true"

        # Several at once, each its own; then closed by the visitor, with a code of its own.
        echoes = frame.evaluate(
            f"""async () => {{
              const open = {OPEN_SOCKET};
              await Promise.all([1, 2, 3, 4, 5].map(() => open(["/echo", []])));
              const sockets = window.sockets.slice(1);
              const answers = await Promise.all(sockets.map((s, i) => {{
                const answer = ({NEXT_MESSAGE})(s);
                s.send(`socket ${{i}}`);
                return answer;
              }}));
              const closes = sockets.map((s) => ({CLOSED})(s));
              sockets.forEach((s) => s.close(4000, "done"));
              return [answers, await Promise.all(closes)];
            }}"""
        )
        assert echoes == [[f"socket {n}" for n in range(5)], ["4000 done true"] * 5]

        # A worker's socket goes the same way.
        heard = frame.evaluate(
            """() => new Promise((resolve) => {
              const worker = new Worker("/static/echo-worker.js");
              worker.onmessage = (event) => resolve(event.data);
            })"""
        )
        assert heard == "worker heard: from the worker"

        # A socket to another host is the browser's own: it fails there, not here.
        failed = frame.evaluate(
            """() => new Promise((resolve) => {
              const socket = new WebSocket("ws://127.0.0.1:9/elsewhere");
              socket.onclose = (event) => resolve(event.code);
            })"""
        )
        assert failed == 1006

        log = served.server.locator("#log")
        expect(log).to_contain_text("GET /echo 101")
        expect(log).to_contain_text("WebSocket closed 4001")
        expect(log).to_contain_text("WebSocket closed 4000 · 1 messages in, 1 out")
        page.goto(served.url + "endings")
        expect(page.frame_locator("#site").locator("body")).to_contain_text(
            "app closed 4001\nvisitor closed 4000"
        )
    finally:
        visitor.close()
        served.context.close()


def test_a_chat_between_two_visitors_and_how_sockets_end(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    served = live_site(browser, service_url, tmp_path, "live-chat")
    ada_context, bob_context = browser.new_context(), browser.new_context()
    try:
        ada, bob = ada_context.new_page(), bob_context.new_page()
        for page, name in ((ada, "Ada"), (bob, "Bob")):
            page.goto(served.url)
            room = page.frame_locator("#site")
            room.get_by_label("Your name").fill(name)
            room.get_by_role("button", name="Join").click()
            expect(room.locator("#state")).to_have_text(f"In the room as {name}")
        ada_room, bob_room = ada.frame_locator("#site"), bob.frame_locator("#site")
        ada_room.get_by_label("Message").fill("Hello Bob")
        ada_room.get_by_role("button", name="Send").click()
        bob_room.get_by_label("Message").fill("Hi Ada, from another browser")
        bob_room.get_by_role("button", name="Send").click()
        for room in (ada_room, bob_room):
            expect(room.get_by_role("listitem")).to_contain_text(
                ["Bob joined", "Ada: Hello Bob", "Bob: Hi Ada, from another browser"]
            )

        # Bob leaves the page: his socket closes with 1001 (Going Away), and Ada sees him go.
        bob.goto("about:blank")
        expect(ada_room.get_by_role("listitem").last).to_have_text("Bob left")
        log = served.server.locator("#log")
        expect(log).to_contain_text("GET /chat?name=Bob 101")
        expect(log).to_contain_text("WebSocket closed 1001 (going away)")

        # The owner changes requirements.txt: Python restarts, and Ada's page is told 1012.
        server = served.server
        open_file(server, "requirements.txt")
        replace_and_save(server, "starlette\n# and nothing else\n")
        expect(ada_room.locator("#state")).to_have_text(
            "Left the room (1012)", timeout=BOOT_TIMEOUT
        )
    finally:
        ada_context.close()
        bob_context.close()
        served.context.close()
