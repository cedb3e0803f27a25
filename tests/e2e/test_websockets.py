"""WebSockets from visitors' pages to a site's ASGI app (Starlette), through real Chromium tabs:
the page's own `new WebSocket(...)` reaches the server tab's Python, with messages, close codes,
subprotocols, many sockets, workers, a chat between two visitors, and the codes a socket
closes with when the visitor leaves or the server's Python restarts."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Frame, FrameLocator, Page, expect
from websockets.sync.client import connect

from tests.conftest import BOOT_TIMEOUT, ServedSite, serve_project, set_time_limit
from tests.e2e.test_firefox import FIREFOX_SCRIPTS
from tests.e2e.test_workbench import open_file, replace_and_save
from tests.harness import REPO, TESTS, free_port, running

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


def join_room(page: Page, url: str, name: str) -> FrameLocator:
    """A visitor opens the chat at ``url`` and joins it as ``name``: the room, once in it."""
    page.goto(url)
    room = page.frame_locator("#site")
    room.get_by_label("Your name").fill(name)
    room.get_by_role("button", name="Join").click()
    expect(room.locator("#state")).to_have_text(f"In the room as {name}")
    return room


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
        ada_room = join_room(ada, served.url, "Ada")
        bob_room = join_room(bob, served.url, "Bob")
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


def test_a_stuck_handler_and_a_server_that_goes_away_close_sockets_with_1006(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    """Python stopped short (the time limit) or the server tab gone: no closing handshake can
    happen, and the page's sockets fail with 1006, as on a server whose process dies."""
    served = live_site(browser, service_url, tmp_path, "live-stuck")
    server = served.server
    visitor = browser.new_context()
    try:
        set_time_limit(server, 2)
        page = visitor.new_page()
        page.goto(served.url)
        frame = site_frame(page)
        frame.evaluate(OPEN_SOCKET, ["/echo", []])
        frame.evaluate(OPEN_SOCKET, ["/stuck", []])
        ended = frame.evaluate(
            f"""async () => {{
              const [echo, stuck] = window.sockets;
              let errors = 0;
              for (const socket of [echo, stuck]) socket.onerror = () => errors++;
              const closes = Promise.all([echo, stuck].map({CLOSED}));
              stuck.send("go");
              return [await closes, errors];
            }}"""
        )
        assert ended == [["1006  false", "1006  false"], 2]
        log = server.locator("#log")
        expect(log).to_contain_text(
            "WebSocket /stuck ran longer than 2 s: stopped, restarting Python"
        )
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)

        # The site is back: a new socket works; then the owner closes the server tab.
        frame.evaluate("() => { window.sockets = []; }")
        frame.evaluate(OPEN_SOCKET, ["/echo", []])
        frame.evaluate(f"() => {{ window.ending = ({CLOSED})(window.sockets[0]); }}")
        served.context.close()
        assert frame.evaluate("() => window.ending") == "1006  false"
    finally:
        visitor.close()
        served.context.close()


def test_a_websockets_client_through_the_tunnel(
    real_ip_browser: Browser, service_url: str, tmp_path: Path
) -> None:
    """Python's websockets library, through `peerserver tunnel`, in the same room as a page:
    the tunnel carries the upgrade and the frames as it carries any bytes (and the server
    agrees to compress them, as the client offers)."""
    served = live_site(real_ip_browser, service_url, tmp_path, "live-tunnel")
    visitor = real_ip_browser.new_context()
    port = free_port()
    command = [sys.executable, "-m", "signaling", "tunnel", "live-tunnel", "--port", str(port)]
    try:
        room = join_room(visitor.new_page(), served.url, "Ada")
        with running([*command, "--service", service_url], f"http://127.0.0.1:{port}/", 60):
            echo_url = f"ws://127.0.0.1:{port}/echo"
            with connect(echo_url, subprotocols=["echo.v1"], open_timeout=30) as echo:
                assert echo.subprotocol == "echo.v1"
                assert echo.response.headers["Sec-WebSocket-Extensions"].startswith(
                    "permessage-deflate"
                )
                echo.send("from the command line")
                assert echo.recv(timeout=30) == "from the command line"
                echo.send(bytes(range(256)) * 400)
                assert echo.recv(timeout=30) == bytes(range(256)) * 400
                echo.close(4002, "tunnel done")
            chat_url = f"ws://127.0.0.1:{port}/chat?name=Tunnel"
            with connect(chat_url, open_timeout=30) as chat:
                assert chat.recv(timeout=30) == "Tunnel joined"
                chat.send("hello from a terminal")
                expect(room.get_by_role("listitem")).to_contain_text(
                    ["Tunnel joined", "Tunnel: hello from a terminal"]
                )
        expect(room.get_by_role("listitem").last).to_have_text("Tunnel left")
        expect(served.server.locator("#log")).to_contain_text("WebSocket closed 4002")
    finally:
        visitor.close()
        served.context.close()


def test_firefox_in_the_room(browser: Browser, service_url: str, tmp_path: Path) -> None:
    """Stock Firefox as a visitor: its pages' and workers' sockets, next to a Chromium one, and
    its HTTP cache's revalidation."""
    served = live_site(browser, service_url, tmp_path, "live-fox")
    visitor = browser.new_context()
    fox = subprocess.Popen(
        ["node", str(FIREFOX_SCRIPTS / "live-visitor.mjs"), served.url],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        room = join_room(visitor.new_page(), served.url, "Ada")
        assert fox.stdout is not None and fox.stdin is not None
        line = fox.stdout.readline()
        assert line, fox.stderr.read() if fox.stderr else "Firefox ended"
        seen = json.loads(line)
        assert seen["engine"].startswith("firefox/")
        assert seen["protocol"] == "echo.v1"
        assert seen["text"] == "ünïcode"
        assert seen["bytes"] == [1, 2, 3]
        assert seen["closed"] == [4003, "fox out", True]
        assert seen["worker"] == "worker heard: from the worker"
        assert seen["cache"] == ["revalidated", None]
        expect(served.server.locator("#log")).to_contain_text("GET /static/room.js 304")
        room.get_by_label("Message").fill("Hi Fox")
        room.get_by_role("button", name="Send").click()
        expect(room.get_by_role("listitem")).to_contain_text(
            ["Fox: hello from Firefox", "Ada: Hi Fox"]
        )
        fox.stdin.close()  # Firefox leaves
        expect(room.get_by_role("listitem").last).to_have_text("Fox left", timeout=30_000)
    finally:
        fox.kill()
        fox.wait(timeout=30)
        visitor.close()
        served.context.close()
