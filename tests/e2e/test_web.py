"""A visitor's browser treats a server tab like any web server: navigation, forms, responses,
scripts, cookies and sessions, concurrency, failures. Real Chromium, separate browser contexts
for the server tab and each visitor.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from http import HTTPStatus
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, FrameLocator, Page, expect

from tests.conftest import CHANNELS, ServedSite, serve_site
from tests.e2e.test_workbench import replace_and_save
from tests.measure import in_tab, shell_pool

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def web(browser: Browser, service_url: str) -> Iterator[ServedSite]:
    served = serve_site(browser, service_url, "web", "web")
    yield served
    served.context.close()


@pytest.fixture
def visitor(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def visit(context: BrowserContext, url: str) -> tuple[Page, FrameLocator]:
    page = context.new_page()
    page.goto(url)
    return page, page.frame_locator("#site")


def in_site(page: Page, script: str, arg=None):
    """Evaluate ``script`` (a function of ``arg``) in the site's frame, as the site's own code."""
    return (
        page.frame_locator("#site").locator("html").evaluate(f"(html, arg) => ({script})(arg)", arg)
    )


# -- navigation ------------------------------------------------------------------------------


def test_links_history_and_reload(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()

    site.get_by_role("link", name="Relative link").click()
    expect(site.get_by_role("heading", name="About")).to_be_visible()
    expect(page).to_have_url(f"{web.url}about")
    expect(page).to_have_title("About")

    page.go_back()
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    site.get_by_role("link", name="Absolute link with query and fragment").click()
    expect(site.locator("#args")).to_have_text("x=1 y=two")
    expect(page).to_have_url(f"{web.url}docs/page?x=1&y=two#details")
    expect(site.get_by_role("heading", name="Details")).to_be_in_viewport()

    site.get_by_role("link", name="Relative link in docs").click()
    expect(site.get_by_role("heading", name="Other doc")).to_be_visible()
    expect(page).to_have_url(f"{web.url}docs/other")

    page.go_back()
    expect(site.locator("#args")).to_have_text("x=1 y=two")
    expect(page).to_have_url(f"{web.url}docs/page?x=1&y=two#details")
    page.go_forward()
    expect(site.get_by_role("heading", name="Other doc")).to_be_visible()
    expect(page).to_have_url(f"{web.url}docs/other")

    page.reload()
    expect(site.get_by_role("heading", name="Other doc")).to_be_visible()
    expect(page).to_have_url(f"{web.url}docs/other")


def test_fragment_links_update_the_address_bar(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    site.get_by_role("link", name="Fragment link").click()
    expect(page).to_have_url(f"{web.url}#bottom")
    expect(site.get_by_text("The bottom.")).to_be_in_viewport()


def test_links_to_other_origins_leave_the_site(
    web: ServedSite, visitor: BrowserContext, service_url: str
) -> None:
    page, site = visit(visitor, web.url)
    site.get_by_role("link", name="Another origin").click()
    expect(page).to_have_url(service_url)
    expect(page.get_by_role("button", name="Create PeerServer")).to_be_visible()


# -- forms -----------------------------------------------------------------------------------


def test_get_and_post_forms(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, f"{web.url}static/forms.html")
    site.get_by_label("Search").fill("flask & peers")
    site.get_by_role("button", name="Search by GET").click()
    expect(site.get_by_role("heading", name="Submitted by GET")).to_be_visible()
    expect(site.locator("dd")).to_have_text("flask & peers")
    expect(page).to_have_url(f"{web.url}submit?q=flask+%26+peers")

    page.go_back()
    site.get_by_label("Comment").fill("Grüße, 世界")
    site.get_by_label("Flag").check()
    site.get_by_role("button", name="Send by POST").click()
    expect(site.get_by_role("heading", name="Submitted by POST")).to_be_visible()
    expect(site.locator("dd")).to_have_text(["Grüße, 世界", "on"])
    # The address bar follows once the page has loaded; back is taken from there (Playwright's
    # go_back waits for the address bar to change).
    expect(page).to_have_url(f"{web.url}submit")

    page.go_back()
    site.get_by_role("button", name="Post and be redirected").click()
    expect(site.get_by_role("heading", name="Landed")).to_be_visible()
    expect(site.locator("#body")).to_have_text("GET")  # 303 turns the POST into a GET
    expect(page).to_have_url(f"{web.url}landed?via=303")


def test_a_20_mb_upload_arrives_byte_exact(
    web: ServedSite, visitor: BrowserContext, tmp_path: Path
) -> None:
    document = tmp_path / "upload.bin"
    data = hashlib.sha256(b"seed").digest() * (20 * 1024 * 1024 // 32)
    document.write_bytes(data)
    _page, site = visit(visitor, f"{web.url}static/forms.html")
    site.get_by_label("Document").set_input_files(document)
    site.get_by_label("Note").fill("twenty megabytes")
    site.get_by_role("button", name="Upload").click()
    expect(site.get_by_role("heading", name="Uploaded upload.bin")).to_be_visible(timeout=60_000)
    expect(site.locator("#size")).to_have_text(f"{len(data)} bytes")
    expect(site.locator("#sha256")).to_have_text(hashlib.sha256(data).hexdigest())
    expect(site.locator("#note")).to_have_text("twenty megabytes")


# -- responses -------------------------------------------------------------------------------


def test_fetch_methods_and_json(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    answers = in_site(
        page,
        """async () => {
            const out = {};
            for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
                const response = await fetch("/api/echo?n=1", {
                    method, headers: {"Content-Type": "application/json"},
                    body: JSON.stringify({method}),
                });
                out[method] = await response.json();
            }
            const head = await fetch("/api/echo", {method: "HEAD"});
            out.HEAD = {status: head.status, type: head.headers.get("content-type"),
                        body: await head.text()};
            return out;
        }""",
    )
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert answers[method]["method"] == method
        assert answers[method]["json"] == {"method": method}
        assert answers[method]["args"] == {"n": "1"}
    assert answers["HEAD"] == {"status": 200, "type": "application/json", "body": ""}


def test_requests_come_over_the_shells_own_port_and_the_old_way_after_a_worker_restart(
    web: ServedSite, visitor: BrowserContext
) -> None:
    """The shell hands the service worker a port of its own, and requests come to it there; a
    worker started afresh (the browser stops an idle one) knows no port: its first request comes
    the old way (the shell found, posted to as a client), and the shell hands its port again."""
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()

    def relayed() -> dict[str, int]:
        # Those on the port are counted where they are answered (the shell's request worker,
        # or its page); those that came the old way, by the page (which hands them on).
        counts = in_tab(page, "() => ({...globalThis.peerServerRelayed})")
        return {way: sum(count.get(way, 0) for count in counts) for way in ("port", "client")}

    def fetched() -> None:
        assert in_site(page, "async () => (await fetch('/api/echo?n=1')).status") == 200

    before = relayed()
    fetched()  # (the page may fetch more meanwhile: counts only grow)
    assert relayed()["port"] > before["port"] and relayed()["client"] == before["client"]
    cdp = visitor.new_cdp_session(page)
    versions: list[dict] = []
    cdp.on("ServiceWorker.workerVersionUpdated", lambda event: versions.extend(event["versions"]))
    cdp.send("ServiceWorker.enable")
    seen = len(versions)
    cdp.send("ServiceWorker.stopAllWorkers")  # returns before the worker has stopped

    def stopped() -> bool:
        return any(version["runningStatus"] == "stopped" for version in versions[seen:])

    for _ in range(100):
        if stopped():
            break
        page.wait_for_timeout(50)
    assert stopped()
    fetched()
    after_restart = relayed()
    assert after_restart["client"] > before["client"]
    for _ in range(5):  # the port handed again reaches the new worker before long
        fetched()
        if relayed()["port"] > after_restart["port"]:
            break
    assert relayed()["port"] > after_restart["port"]


def test_every_status_code_arrives(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    codes = [status.value for status in HTTPStatus if status.value >= 200]
    results = in_site(
        page,
        """async (codes) => {
            const out = {};
            for (const code of codes) {
                // A 3xx without Location is not a redirect: it arrives as it is.
                const response = await fetch(`/status/${code}`);
                out[code] = [response.status, await response.text()];
            }
            return out;
        }""",
        codes,
    )
    for code in codes:
        status, body = results[str(code)]
        assert status == code
        expected = "" if code in (204, 205, 304) else f"status {code}"
        assert body == expected, code


def test_redirects_are_followed_as_a_browser_does(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    results = in_site(
        page,
        """async () => {
            const out = {};
            for (const code of [301, 302, 303, 307, 308]) {
                const init = {method: "POST", body: "payload"};
                const response = await fetch(`/redirect/${code}`, init);
                const text = await response.text();
                out[code] = {url: response.url, redirected: response.redirected,
                             body: /<p id="body">([^<]*)</.exec(text)[1]};
            }
            return out;
        }""",
    )
    for code, expected in [
        (301, "GET"),
        (302, "GET"),
        (303, "GET"),
        (307, "POST payload"),
        (308, "POST payload"),
    ]:
        assert results[str(code)]["url"] == f"{web.url}landed?via={code}"
        assert results[str(code)]["redirected"] is True
        assert results[str(code)]["body"] == expected, code

    # A navigation that is redirected shows where it ended up.
    page.goto(f"{web.url}redirect/302")
    expect(site.get_by_role("heading", name="Landed")).to_be_visible()
    expect(page).to_have_url(f"{web.url}landed?via=302")


def test_headers_content_type_and_binary_bodies(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    result = in_site(
        page,
        """async () => {
            const headers = await fetch("/headers");
            const binary = await fetch("/binary");
            const bytes = new Uint8Array(await binary.arrayBuffer());
            let exact = bytes.length === 256 * 1024;
            for (let i = 0; exact && i < bytes.length; i++) exact = bytes[i] === i % 256;
            return {custom: headers.headers.get("x-custom"),
                    type: headers.headers.get("content-type"),
                    binaryType: binary.headers.get("content-type"), exact};
        }""",
    )
    assert result == {
        "custom": "custom value",
        "type": "application/json",
        "binaryType": "application/octet-stream",
        "exact": True,
    }


def test_a_streaming_response_arrives_progressively(
    web: ServedSite, visitor: BrowserContext
) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    arrivals = in_site(
        page,
        """async () => {
            const reader = (await fetch("/stream")).body.getReader();
            const decoder = new TextDecoder();
            const arrivals = [];
            for (;;) {
                const {done, value} = await reader.read();
                if (done) return arrivals;
                arrivals.push([performance.now(), decoder.decode(value)]);
            }
        }""",
    )
    text = "".join(chunk for _, chunk in arrivals)
    assert text == "".join(f"tick {n}\n" for n in range(1, 6))
    # The app sleeps 0.4 s between ticks: the first arrives long before the last was made.
    assert arrivals[-1][0] - arrivals[0][0] > 1000


# -- the site's own JavaScript, CSS and fonts ------------------------------------------------


def test_scripts_css_and_fonts(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, f"{web.url}static/scripts.html")
    results = site.locator("#results")
    expect(results).to_contain_text('"script":"ran"')
    expect(results).to_contain_text('"image":64')
    expect(results).to_contain_text('"xhr":"xhr"')
    expect(results).to_contain_text('"formdata":"Ada:1000"')
    # PeerTest's only glyph, W, is two ems wide: three of them at 16px are 96px.
    expect(results).to_contain_text('"fontWidth":96')
    expect(site.locator("#backdrop")).to_have_css("background-image", re.compile("dot.png"))
    assert (
        site.locator("#backdrop").evaluate(
            """async (element) => {
            const url = getComputedStyle(element).backgroundImage.slice(5, -2);
            const image = new Image();
            image.src = url;
            await image.decode();
            return image.naturalWidth;
        }"""
        )
        == 64
    )
    page.goto(f"{web.url}about")
    expect(site.locator("#body")).to_have_css("letter-spacing", "3px")  # from the @import


# -- cookies and sessions --------------------------------------------------------------------


def test_cookie_jar_rules(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    in_site(page, "async () => (await fetch('/cookies/set')).ok")
    assert in_site(page, "() => document.cookie") == "visible=v1"  # HttpOnly stays hidden
    shown = in_site(page, "async () => (await fetch('/cookies/show')).json()")
    assert shown == {"visible": "v1", "hidden": "h1", "brief": "b1"}  # not the /docs one
    in_docs = in_site(page, "async () => (await fetch('/docs/cookies')).json()")
    assert in_docs["scoped"] == "s1"
    deadline = time.monotonic() + 10
    while "brief" in (shown := in_site(page, "async () => (await fetch('/cookies/show')).json()")):
        assert time.monotonic() < deadline, "the Max-Age=3 cookie did not run out"
        page.wait_for_timeout(250)
    assert shown == {"visible": "v1", "hidden": "h1"}
    in_site(page, "async () => (await fetch('/cookies/delete')).ok")
    assert in_site(page, "async () => (await fetch('/cookies/show')).json()") == {}
    assert in_site(page, "() => document.cookie") == ""


def test_sessions_survive_navigation_and_reload_and_stay_apart(
    web: ServedSite, browser: Browser
) -> None:
    first = browser.new_context()
    second = browser.new_context()
    try:
        page, site = visit(first, f"{web.url}login")
        site.get_by_label("User").fill("ada")
        site.get_by_role("button", name="Log in").click()
        expect(site.locator("#body")).to_have_text("Logged in as ada")
        expect(page).to_have_url(f"{web.url}whoami")
        site.get_by_role("link", name="Home").click()
        expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
        page.goto(f"{web.url}whoami")
        expect(site.locator("#body")).to_have_text("Logged in as ada")
        page.reload()
        expect(site.locator("#body")).to_have_text("Logged in as ada")

        _other, other_site = visit(second, f"{web.url}whoami")
        expect(other_site.locator("#body")).to_have_text("Logged in as None")

        page.goto(f"{web.url}logout")
        expect(site.locator("#body")).to_have_text("Logged in as None")
    finally:
        first.close()
        second.close()


# -- concurrency -----------------------------------------------------------------------------


def test_six_requests_in_flight_from_one_visitor(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
    sizes = [1, 5000, 3, 200000, 7, 40000, 9, 90000]
    # In the server tab: how many requests were waiting for their answers at once, at most,
    # where its channels are (its Python worker, or its page: in_tab).
    in_tab(
        web.server,
        f"""() => {{ const channels = {CHANNELS};
            globalThis.mostWaiting = 0;
            const fromVisitor = channels?.fromVisitor.bind(channels);
            if (fromVisitor) channels.fromVisitor = (connection, data) => {{
                fromVisitor(connection, data);
                const waiting = [...channels.connections.values()].filter((c) => c.waiting);
                globalThis.mostWaiting = Math.max(globalThis.mostWaiting, waiting.length);
            }}; }}""",
    )
    # Each is answered once six have come (or with a 503 saying how many did, after 10 s): six
    # in flight at once, one on each of the visitor's channels, whatever the machine's speed.
    bodies = in_site(
        page,
        """async (sizes) => Promise.all(sizes.map(async (n) =>
            (await fetch(`/gathered/six/6/${n}`)).text()))""",
        sizes,
    )
    assert bodies == [str(n) * n for n in sizes]
    # The first five wait for the sixth: the tab saw them all at once.
    assert max(in_tab(web.server, "() => globalThis.mostWaiting ?? 0")) >= 5
    assert shell_pool(page, "count") == 6


def test_ten_visitors_at_once(web: ServedSite, browser: Browser) -> None:
    contexts = [browser.new_context() for _ in range(10)]
    try:
        pages = []
        for context in contexts:
            page = context.new_page()
            page.goto(web.url, wait_until="commit")
            pages.append(page)
        for page in pages:
            expect(
                page.frame_locator("#site").get_by_role("heading", name="Web test site")
            ).to_be_visible(timeout=30_000)
        expect(web.server.get_by_text("Connected: 10")).to_be_visible()
        sizes = [[n * 1000 + k for k in range(3)] for n in range(1, 11)]
        handles = [
            in_site(
                page,
                "async (sizes) => Promise.all(sizes.map(async (n) => "
                "(await fetch(`/sized/${n}`)).text()))",
                mine,
            )
            for page, mine in zip(pages, sizes, strict=True)
        ]
        for bodies, mine in zip(handles, sizes, strict=True):
            assert bodies == [str(n) * n for n in mine]
    finally:
        for context in contexts:
            context.close()
    expect(web.server.get_by_text("Connected: 0")).to_be_visible(timeout=20_000)


# -- failures --------------------------------------------------------------------------------


def test_missing_resources_are_404s_not_hangs(web: ServedSite, visitor: BrowserContext) -> None:
    page, site = visit(visitor, web.url)
    site.get_by_role("link", name="Missing page").click()
    expect(site.get_by_role("heading", name="Nothing at this address")).to_be_visible()
    outcome = in_site(
        page,
        """async () => {
            const image = new Image();
            const failed = new Promise((resolve) => { image.onerror = () => resolve("error"); });
            image.src = "/no-such-image.png";
            const status = (await fetch("/no-such-script.js")).status;
            return [await failed, status];
        }""",
    )
    assert outcome == ["error", 404]


def test_an_exception_is_a_500_for_the_visitor_and_a_traceback_for_the_owner(
    web: ServedSite, visitor: BrowserContext
) -> None:
    page, site = visit(visitor, f"{web.url}boom")
    expect(site.get_by_text("Internal Server Error")).to_be_visible()
    status = in_site(page, "async () => (await fetch('/boom')).status")
    assert status == 500
    log = web.server.get_by_role("region", name="Log")
    expect(log).to_contain_text("Traceback (most recent call last)")
    expect(log).to_contain_text("ZeroDivisionError: the site divided by zero")
    expect(log).to_contain_text("GET /boom 500")


def test_flask_debug_mode_shows_the_visitor_the_traceback(
    browser: Browser, service_url: str, visitor: BrowserContext
) -> None:
    served = serve_site(browser, service_url, "debugging", "web")
    try:
        server = served.server
        server.once("dialog", lambda dialog: dialog.accept(".flaskenv"))
        server.get_by_role("button", name="New file").click()
        expect(server.locator("#open-file")).to_have_text(".flaskenv")
        replace_and_save(server, "FLASK_DEBUG=1\n")  # as `flask run --debug`
        expect(server.locator("#save-state")).to_have_text(
            "Saved: the site is live with this version."
        )
        page, site = visit(visitor, f"{served.url}boom")
        expect(site.get_by_role("heading", name="ZeroDivisionError")).to_be_visible()
        for text in (
            "ZeroDivisionError: the site divided by zero",
            'raise ZeroDivisionError("the site divided by zero")',  # the site's own line
        ):
            expect(site.get_by_text(text).first).to_be_visible()
        # The debugger's own stylesheet came through too; its Python console did not.
        expect(site.locator("body")).to_have_css("font-family", re.compile("sans-serif"))
        assert in_site(page, "() => EVALEX") is False
        log = server.get_by_role("region", name="Log")
        expect(log).to_contain_text("ZeroDivisionError: the site divided by zero")
    finally:
        served.context.close()


def test_offline_page_and_reconnection(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "flaky", "web")
    visitor = browser.new_context()
    try:
        page, site = visit(visitor, served.url)
        expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
        started = time.monotonic()
        served.server.close()
        # Its visitors' connections end as the tab's do, or once signaling has said so a while
        # (a tab frozen a moment in the background comes back within it: test_long_running).
        expect(page.get_by_role("status")).to_contain_text(
            'The server "flaky" is offline', timeout=20_000
        )
        print(f"the visitor saw the server tab gone in {time.monotonic() - started:.1f} s")

        # The owner opens the server tab again: the visitor reconnects by itself.
        server = served.context.new_page()
        server.goto(f"{service_url}server/flaky?template=web")
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=90_000)
        expect(page.get_by_role("status")).to_be_hidden(timeout=30_000)
        site.get_by_role("link", name="Relative link").click()
        expect(site.get_by_role("heading", name="About")).to_be_visible()
        expect(server.get_by_text("Connected: 1")).to_be_visible()
    finally:
        visitor.close()
        served.context.close()
