"""The visitor's HTTP cache (runtime/visitor/http-cache.js), as a browser keeps one for any web
server: a second view of the Garage Sale's page revalidates its images and stylesheet (Flask
sends them with an ETag and no-cache), the site answers 304 with no body on the channel, and a
changed file is fetched anew; no-store is never kept, and the page's own cache modes hold."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import serve_site
from tests.e2e.test_workbench import open_file, replace_and_save
from tests.measure import shell_pool

pytestmark = pytest.mark.e2e

ITEMS = 10


def view_sale(page: Page, url: str) -> int:
    """Open the sale's page (a new shell: a new connection) with every image shown; the bytes
    that came over the channels for it."""
    page.goto(url)
    site = page.frame_locator("#site")
    expect(site.get_by_role("img")).to_have_count(ITEMS)
    site.locator("body").evaluate(
        """() => Promise.all([...document.images].map((image) =>
             image.complete ? null : new Promise((resolve) => { image.onload = resolve; })))"""
    )
    assert site.locator("body").evaluate(
        "() => [...document.images].every((image) => image.naturalWidth > 0)"
    )
    return shell_pool(page, "received")


def test_a_second_view_revalidates_and_a_changed_file_comes_anew(
    browser: Browser, service_url: str
) -> None:
    served = serve_site(browser, service_url, "yardsale", "garage-sale")
    visitor = browser.new_context()
    log = served.server.locator("#log")
    try:
        page = visitor.new_page()
        first = view_sale(page, served.url)
        expect(log).to_contain_text("GET /static/items/couch.png 200")
        second = view_sale(page, served.url)
        expect(log).to_contain_text("GET /static/items/couch.png 304")
        expect(log).to_contain_text("GET /static/store.css 304")
        print(f"bytes over the channel: first view {first}, second view {second}")
        assert second < first / 10  # the page itself, and ten 304s with no body

        # The owner changes the stylesheet: its ETag changes, and the next view has it.
        server = served.server
        open_file(server, "store.css")
        replace_and_save(server, "body { background: rgb(10, 120, 60); }\n")
        expect(server.locator("#save-state")).to_contain_text("Saved")
        view_sale(page, served.url)
        expect(page.frame_locator("#site").locator("body")).to_have_css(
            "background-color", "rgb(10, 120, 60)"
        )
        # A request's log line may follow its answer by a moment: wait for it.
        expect(log.locator("li", has_text="GET /static/store.css 200")).to_have_count(2)
    finally:
        visitor.close()
        served.context.close()


def test_no_store_and_the_pages_own_cache_modes(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "cachemodes", "web")
    visitor = browser.new_context()
    log = served.server.locator("#log")
    try:
        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.locator("h1")).to_be_visible()
        seen = site.locator("body").evaluate(
            """async () => {
              const how = async (url, init) =>
                (await fetch(url, init)).headers.get("X-PeerServer-Cache");
              return [
                await how("/headers"), await how("/headers"),  // no-store: never kept
                await how("/static/site.css"), await how("/static/site.css"),  // an ETag
                await how("/static/site.css", {cache: "no-store"}),
                await how("/static/site.css", {cache: "reload"}),
                await how("/static/site.css", {cache: "force-cache"}),
              ];
            }"""
        )
        # The page's own <link> fetched site.css already: kept, it is revalidated from then on.
        assert seen == ["miss", "miss", "revalidated", "revalidated", None, "miss", "hit"]
        expect(log).to_contain_text("GET /static/site.css 304")
        expect(log.locator("li", has_text="GET /headers 200")).to_have_count(2)
    finally:
        visitor.close()
        served.context.close()
