"""The original's "Hello, world." tutorial, in Python: one server tab, one visitor, real Chromium.

The server tab and the visitor live in separate browser contexts (separate profiles, as two
people's browsers would be), so everything the visitor sees crossed a WebRTC data channel.
"""

from __future__ import annotations

import hashlib
import re

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.conftest import BOOT_TIMEOUT, create_from_home_page, is_local
from tests.harness import REPO

pytestmark = pytest.mark.e2e

EMPTY = REPO / "site_templates" / "empty"


def watch_requests(context: BrowserContext, seen: list[str]) -> None:
    context.on("request", lambda request: seen.append(request.url))


def create_server(page: Page, service_url: str, name: str) -> None:
    create_from_home_page(page, service_url, name, "empty", label="Empty")


def test_hello_world_served_from_a_browser_tab(browser: Browser, service_url: str) -> None:
    seen: list[str] = []
    owner = browser.new_context()
    visitor = browser.new_context()
    watch_requests(owner, seen)
    watch_requests(visitor, seen)
    try:
        server = owner.new_page()
        create_server(server, service_url, "hello")
        expect(server.get_by_text("Connected: 0")).to_be_visible()
        site_url = service_url.replace("localhost", "hello.localhost")

        # "Open Browser" opens the site in a new tab of the owner's browser.
        link = server.get_by_role("link", name="Open Browser")
        expect(link).to_have_attribute("href", site_url)
        with owner.expect_page() as opened:
            link.click()
        own_view = opened.value
        expect(own_view.frame_locator("#site").get_by_text("Hello, world.")).to_be_visible()
        expect(server.get_by_text("Connected: 1")).to_be_visible()
        own_view.close()
        expect(server.get_by_text("Connected: 0")).to_be_visible(timeout=15_000)

        # A visitor in another browser.
        page = visitor.new_page()
        page.goto(site_url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Hello, world.")).to_be_visible()
        expect(server.get_by_text("Connected: 1")).to_be_visible()

        # The site's CSS is applied, and its image arrives byte for byte and is displayed.
        heading = site.get_by_role("heading", name="Hello, world.")
        expect(heading).to_have_css("color", "rgb(47, 91, 211)")
        image = site.get_by_role("img", name="PeerServer logo")
        expect(image).to_be_visible()
        assert image.evaluate("img => img.complete && img.naturalWidth") == 64
        digest = (
            page.frame_locator("#site")
            .locator("body")
            .evaluate(
                """async () => {
                const bytes = await (await fetch("peerserver.png")).arrayBuffer();
                const hash = await crypto.subtle.digest("SHA-256", bytes);
                const hex = b => b.toString(16).padStart(2, "0");
                return Array.from(new Uint8Array(hash), hex).join("");
            }"""
            )
        )
        assert digest == hashlib.sha256((EMPTY / "peerserver.png").read_bytes()).hexdigest()

        # A link to a page rendered by the Flask app; the address bar follows.
        site.get_by_role("link", name="Say hello from Flask").click()
        expect(site.get_by_role("heading", name="Hello from Flask, world!")).to_be_visible()
        expect(page).to_have_url(f"{site_url}hello")
        expect(page).to_have_title("Hello from Flask")
        expect(server.get_by_text(re.compile(r"GET /hello 200 .* visitor"))).to_be_visible()

        # An unknown path gets the site's own 404.html, with status 404.
        page.goto(f"{site_url}no-such-page")
        expect(page.frame_locator("#site").get_by_text("404 - page not found")).to_be_visible()
        status = (
            page.frame_locator("#site")
            .locator("body")
            .evaluate("async () => (await fetch('/no-such-page')).status")
        )
        assert status == 404
    finally:
        owner.close()
        visitor.close()

    strangers = [url for url in seen if not is_local(url)]
    assert not strangers, f"pages or workers fetched from other hosts: {strangers}"
    assert any("/bundle/pyodide/pyodide.asm.wasm" in url for url in seen)


def test_a_taken_name_gets_a_message_and_a_suggestion(browser: Browser, service_url: str) -> None:
    first = browser.new_context()
    second = browser.new_context()
    try:
        create_server(first.new_page(), service_url, "popular")
        page = second.new_page()
        page.goto(service_url)
        page.get_by_label("Server name").fill("popular")
        page.get_by_role("button", name="Create PeerServer").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text('"popular" is unavailable')
        expect(alert).to_contain_text("Would you like to try")
        expect(page).to_have_url(service_url)  # no half-created server
        suggestion = alert.get_by_role("link").inner_text()
        assert suggestion != "popular"
        alert.get_by_role("link").click()
        expect(page).to_have_url(f"{service_url}server/{suggestion}?template=empty")
    finally:
        first.close()
        second.close()


def test_an_invalid_name_gets_a_message_and_a_suggestion(
    browser: Browser, service_url: str
) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(service_url)
        page.get_by_label("Server name").fill("My Site!")
        page.get_by_role("button", name="Create PeerServer").click()
        alert = page.get_by_role("alert")
        expect(alert).to_contain_text('"My Site!" is an invalid server name')
        expect(alert.get_by_role("link", name="my-site")).to_be_visible()
        expect(page).to_have_url(service_url)

        # Going to an invalid name's URL directly is refused by the server tab too.
        page.goto(f"{service_url}server/Not_Valid")
        expect(page.get_by_role("status")).to_have_text("Not serving", timeout=BOOT_TIMEOUT)
        expect(page.get_by_text("is an invalid server name")).to_be_visible()
        expect(page.get_by_role("link", name="not-valid")).to_have_attribute(
            "href", "/server/not-valid?template=empty"
        )
    finally:
        context.close()
