"""NAT traversal through a real TURN server: coturn started from deploy/turnserver.conf, the
service handing out REST-API credentials, and every peer told to use relays only, so that each
byte between the server tab and its visitors passes through coturn.

The download figures (relayed, and direct in the same run) are printed and written to
build/measurements/turn-download.json."""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import pytest
import requests
import websockets
from playwright.sync_api import Browser, Frame, Page, WebSocketRoute, expect
from websockets.asyncio.server import ServerConnection

from signaling.ice import turn_credentials
from tests.conftest import TEST_SITES, ServedSite, serve_site, visit_hello
from tests.deployment import Turn, coturn
from tests.harness import REPO, free_port, peerserver_service, running
from tests.measure import MB, site_frame

pytestmark = pytest.mark.e2e

SIZE_MB = 10


@pytest.fixture(scope="module")
def turn_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Turn]:
    with coturn(tmp_path_factory.mktemp("coturn")) as server:
        yield server


@pytest.fixture(scope="module")
def relay_service(turn_server: Turn, monkeypatch_module: pytest.MonkeyPatch) -> Iterator[str]:
    """A service whose peers connect through coturn only. The secret goes by the environment
    variable, as an operator keeps it out of the process list."""
    monkeypatch_module.setenv("PEERSERVER_TURN_SECRET", turn_server.secret)
    options = ["--turn", turn_server.url, "--relay-only"]
    with peerserver_service(TEST_SITES, options=options) as (url, _):
        yield url


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def visit(browser: Browser, site_url: str) -> tuple[Page, Frame]:
    page = visit_hello(browser.new_context(), site_url)
    return page, site_frame(page)


def candidate_types(page: Page, pcs: str) -> list[str]:
    """The local candidate type of each connected peer connection ``pcs`` evaluates to."""
    return page.evaluate(
        f"""async () => {{
        const types = [];
        for (const pc of {pcs}) {{
            const stats = [...(await pc.getStats()).values()];
            const pair = stats.find((s) => s.type === "candidate-pair" && s.nominated &&
                s.state === "succeeded");
            types.push(stats.find((s) => s.id === pair.localCandidateId).candidateType);
        }}
        return types;
    }}"""
    )


_DOWNLOAD = """async (path) => {
    const started = performance.now();
    const response = await fetch(path);
    const body = await response.arrayBuffer();
    const ms = performance.now() - started;
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", body));
    const hex = Array.from(digest, (b) => b.toString(16).padStart(2, "0")).join("");
    return {bytes: body.byteLength, ms, exact: hex === response.headers.get("X-SHA256")};
}"""


def download_mb_s(frame: Frame) -> float:
    result = frame.evaluate(_DOWNLOAD, f"/bytes/{SIZE_MB}")
    assert result["bytes"] == SIZE_MB * 1024 * 1024
    assert result["exact"], "the bytes that arrived are not the bytes that were sent"
    return result["bytes"] / MB / (result["ms"] / 1000)


def test_a_site_served_through_the_relay_only(
    browser: Browser, relay_service: str, service_url: str
) -> None:
    relayed = serve_site(browser, relay_service, "relayed", "public")
    direct = serve_site(browser, service_url, "direct", "public")
    try:
        visitor, frame = visit(browser, relayed.url)
        assert candidate_types(visitor, "[window.peerServerClient.pc]") == ["relay"]
        pcs = "[...window.peerServerHost.visitors.values()].map((v) => v.pc)"
        assert candidate_types(relayed.server, pcs) == ["relay"]
        relay_mb_s = download_mb_s(frame)

        direct_visitor, direct_frame = visit(browser, direct.url)
        assert candidate_types(direct_visitor, "[window.peerServerClient.pc]") == ["host"]
        direct_mb_s = download_mb_s(direct_frame)
        figures = {
            "size_mb": SIZE_MB,
            "relay_only_mb_per_s": round(relay_mb_s, 1),
            "direct_mb_per_s": round(direct_mb_s, 1),
            "relay_to_direct_ratio": round(relay_mb_s / direct_mb_s, 2),
        }
        out = REPO / "build" / "measurements"
        out.mkdir(parents=True, exist_ok=True)
        (out / "turn-download.json").write_text(json.dumps(figures, indent=2) + "\n")
        print("TURN download:", json.dumps(figures))
    finally:
        relayed.context.close()
        direct.context.close()


def test_an_expired_turn_credential_is_refused_and_the_visitor_told(
    browser: Browser, relay_service: str, turn_server: Turn
) -> None:
    """The visitor's signaling is rewritten in flight to carry credentials that expired a
    minute ago (validly signed): coturn refuses them, and the page says so instead of hanging."""
    served = serve_site(browser, relay_service, "expired", "public")
    visitor = browser.new_context()

    def expire(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "ice-servers":
                username = f"{int(time.time()) - 60}:expired"
                for ice_server in data["iceServers"]:
                    ice_server["username"] = username
                    ice_server["credential"] = turn_credentials(turn_server.secret, username)
                message = json.dumps(data)
            socket.send(message)

        server.on_message(from_server)

    visitor.route_web_socket(re.compile(r"/__ps/signal$"), expire)
    try:
        page = visitor.new_page()
        page.goto(served.url)
        status = page.get_by_role("status")
        expect(status).to_contain_text("cannot reach it", timeout=20_000)
        expect(status).to_contain_text("refused the credentials (401")
        assert re.search(r"Cannot find credentials of user <\d+:expired>", turn_server.log_text())
    finally:
        visitor.close()
        served.context.close()


def test_candidates_trickle_both_ways(browser: Browser, relay_service: str) -> None:
    """Each side's description goes out at once, with no candidate in it, and its candidates
    follow one by one as they are found: here a relay candidate, which costs a round trip to
    coturn, is sent after the offer (and the answer) and before the end of gathering."""
    served = serve_site(browser, relay_service, "trickled", "public")
    visitor = browser.new_context()
    sent: list[dict] = []  # the visitor's signals, in order
    received: list[dict] = []  # the server tab's signals to it, in order

    def record(socket: WebSocketRoute) -> None:
        server = socket.connect_to_server()

        def keep(messages: list[dict], message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "signal":
                messages.append(data["data"])

        def from_page(message: str | bytes) -> None:
            keep(sent, message)
            server.send(message)

        def from_server(message: str | bytes) -> None:
            keep(received, message)
            socket.send(message)

        socket.on_message(from_page)
        server.on_message(from_server)

    visitor.route_web_socket(re.compile(r"/__ps/signal$"), record)
    try:
        visit_hello(visitor, served.url)
        for side, signals in (("visitor", sent), ("server tab", received)):
            expect_trickled(side, signals)
    finally:
        visitor.close()
        served.context.close()


def expect_trickled(side: str, signals: list[dict]) -> None:
    """The description first, with no candidate lines; then candidates; then the end (null)."""
    deadline = time.monotonic() + 20
    while None not in [s.get("candidate", "") for s in signals] and time.monotonic() < deadline:
        time.sleep(0.1)  # the end of gathering may come after the page has loaded
    kinds = [
        "sdp" if "sdp" in s else "end" if s["candidate"] is None else "candidate" for s in signals
    ]
    assert kinds[0] == "sdp", f"{side}: {kinds}"
    assert "a=candidate" not in signals[0]["sdp"]["sdp"], f"{side}: candidates in its description"
    assert kinds.count("sdp") == 1, f"{side}: {kinds}"
    assert "end" in kinds, f"{side}: gathering never ended ({kinds})"
    found = kinds[1 : kinds.index("end")]
    assert found and set(found) == {"candidate"}, f"{side}: {kinds}"
    assert all(" typ relay " in s["candidate"]["candidate"] for s in signals[1 : len(found) + 1])


def test_the_tunnel_through_the_relay(browser: Browser, relay_service: str) -> None:
    """No Chromium flag for real host addresses: the server tab's relay candidates serve."""
    served: ServedSite = serve_site(browser, relay_service, "tunneled-relay", "public")
    port = free_port()
    command = [sys.executable, "-m", "signaling", "tunnel", "tunneled-relay"]
    command += ["--port", str(port), "--service", relay_service]
    base = f"http://127.0.0.1:{port}"
    try:
        with running(command, f"{base}/", timeout=60):
            assert "Hello, world." in requests.get(f"{base}/", timeout=30).text
            body = requests.get(f"{base}/bytes/1", timeout=30)
            assert body.headers["X-SHA256"] == hashlib.sha256(body.content).hexdigest()
            # The server tab was told of the tunnel's relay candidates only (--relay-only: no
            # peer learns another's address), and the bytes went through coturn both ways.
            seen = served.server.evaluate(TUNNEL_CANDIDATES)
            assert seen["offered"] and set(seen["offered"]) == {"relay"}, seen
            assert seen["pair"] == ["relay", "relay"], seen
            assert seen["connection"] in seen["relayAddresses"], seen  # c=: the relay's too
    finally:
        served.context.close()


# In the server tab: the tunnel's candidates as its offer gave them, and the candidate types
# of the pair the bytes went over (local, remote).
TUNNEL_CANDIDATES = """async () => {
    const [visitor] = [...window.peerServerHost.visitors.values()];
    const sdp = visitor.pc.remoteDescription.sdp;
    const line = /^a=candidate:\\S+ \\d+ \\w+ \\d+ (\\S+) \\d+ typ (\\w+)/gm;  // address, type
    const candidates = [...sdp.matchAll(line)];
    const offered = candidates.map((match) => match[2]);
    const relayAddresses = candidates.filter((match) => match[2] === "relay").map((m) => m[1]);
    const stats = [...(await visitor.pc.getStats()).values()];
    const pair = stats.find((s) => s.type === "candidate-pair" && s.nominated &&
        s.state === "succeeded");
    const type = (id) => stats.find((s) => s.id === id).candidateType;
    return {
        offered,
        relayAddresses,
        pair: [type(pair.localCandidateId), type(pair.remoteCandidateId)],
        connection: sdp.match(/^c=IN IP[46] (\\S+)/m)[1],
    };
}"""


@contextmanager
def stale_credentials_proxy(service_url: str, secret: str, username: str) -> Iterator[str]:
    """A relay of the service's WebSockets (on its own port, in a thread) that gives the first
    ice-servers message of each connection credentials that expired a minute ago, validly
    signed for ``username``: what a tunnel started long before the server tab came online
    holds. What the service sends later, fresh credentials included, passes as it is."""
    upstream_base = service_url.rstrip("/").replace("http", "ws", 1)
    port = free_port()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def relay(client: ServerConnection) -> None:
        async with websockets.connect(upstream_base + client.request.path) as upstream:
            stale = True

            async def down() -> None:
                nonlocal stale
                async for message in upstream:
                    data = json.loads(message)
                    if data.get("type") == "ice-servers" and stale:
                        stale = False
                        for ice_server in data["iceServers"]:
                            ice_server["username"] = username
                            ice_server["credential"] = turn_credentials(secret, username)
                        data["expires"] = int(time.time()) - 60
                        message = json.dumps(data)
                    await client.send(message)

            async def up() -> None:
                async for message in client:
                    await upstream.send(message)

            tasks = [asyncio.ensure_future(down()), asyncio.ensure_future(up())]
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in tasks:
                task.cancel()

    async def serve(started: threading.Event) -> None:
        async with websockets.serve(relay, "127.0.0.1", port):
            started.set()
            await stop.wait()

    started = threading.Event()
    thread = threading.Thread(target=loop.run_until_complete, args=(serve(started),))
    thread.start()
    try:
        if not started.wait(10):
            raise RuntimeError("the WebSocket relay did not start")
        yield f"http://127.0.0.1:{port}/"
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        loop.close()


def test_the_tunnel_asks_for_fresh_credentials_before_it_connects(
    browser: Browser, relay_service: str, turn_server: Turn
) -> None:
    """The tunnel's credentials expired while it waited: it asks the service for new ones, as
    the browsers do, instead of presenting the old ones to coturn (which would refuse them)."""
    served = serve_site(browser, relay_service, "renewed", "public")
    username = f"{int(time.time()) - 60}:stale-tunnel"
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    try:
        with stale_credentials_proxy(relay_service, turn_server.secret, username) as proxy:
            command = [sys.executable, "-m", "signaling", "tunnel", "renewed"]
            command += ["--port", str(port), "--service", proxy]
            with running(command, f"{base}/", timeout=60):
                assert "Hello, world." in requests.get(f"{base}/", timeout=30).text
        assert "stale-tunnel" not in turn_server.log_text()  # never presented to coturn
    finally:
        served.context.close()


RECOVERED = """async () => {
    // Until the site answers again through a new path: the time it took, in ms.
    const started = performance.now();
    for (;;) {
        try {
            const response = await fetch("/whoami", {cache: "no-store"});
            if (response.ok) return [performance.now() - started, await response.text()];
        } catch {}
        await new Promise((resolve) => setTimeout(resolve, 250));
    }
}"""


def test_visitors_recover_when_the_relay_and_then_the_service_restart(
    browser: Browser, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Relayed visitors, then coturn restarted (every allocation gone), then coturn and the
    signaling service restarted at once: each time the visitor's page finds its way back by
    itself, its session intact; the recovery times are printed and kept with the figures."""
    figures = {}
    relay, service = ExitStack(), ExitStack()
    try:
        turn = relay.enter_context(coturn(tmp_path / "turn-1"))
        monkeypatch.setenv("PEERSERVER_TURN_SECRET", turn.secret)
        port = free_port()
        options = ["--turn", turn.url, "--relay-only"]
        again = {"port": int(turn.url.split(":")[2].split("?")[0]), "secret": turn.secret}
        url, _ = service.enter_context(peerserver_service(TEST_SITES, options=options, port=port))
        served = serve_site(browser, url, "steady", "public")
        page, frame = visit(browser, served.url)
        site = page.frame_locator("#site")
        site.get_by_role("link", name="Log in").click()
        site.get_by_label("User").fill("ada")
        site.get_by_role("button", name="Log in").click()
        expect(site.locator("#body")).to_have_text("Logged in as ada")
        assert candidate_types(page, "[window.peerServerClient.pc]") == ["relay"]

        relay.close()  # coturn stops, and starts again with none of its allocations
        relay.enter_context(coturn(tmp_path / "turn-2", **again))
        waited, answer = frame.evaluate(RECOVERED)
        assert "Logged in as ada" in answer
        assert candidate_types(page, "[window.peerServerClient.pc]") == ["relay"]
        figures["coturn_restart_s"] = round(waited / 1000, 1)

        relay.close()  # coturn and the service, at the same time
        service.close()
        relay.enter_context(coturn(tmp_path / "turn-3", **again))
        service.enter_context(peerserver_service(TEST_SITES, options=options, port=port))
        waited, answer = frame.evaluate(RECOVERED)
        assert "Logged in as ada" in answer
        figures["coturn_and_service_restart_s"] = round(waited / 1000, 1)
        served.context.close()
    finally:
        service.close()
        relay.close()
    print("recovery:", json.dumps(figures))
    out = REPO / "build" / "measurements"
    out.mkdir(parents=True, exist_ok=True)
    (out / "turn-recovery.json").write_text(json.dumps(figures, indent=2) + "\n")
