"""The other engine: stock Firefox ESR (Debian's firefox-esr, over WebDriver BiDi with
puppeteer-core) as a visitor of a Chromium server tab, and as a server tab that a Chromium
visitor uses. The Firefox side's steps are in tests/firefox/."""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import serve_site
from tests.harness import REPO

pytestmark = pytest.mark.e2e

FIREFOX_SCRIPTS = REPO / "tests" / "firefox"
TIMEOUT_S = 240


def test_firefox_visits_a_chromium_server_tab(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "fox-visited", "public")
    try:
        run = subprocess.run(
            ["node", str(FIREFOX_SCRIPTS / "visitor.mjs"), served.url],
            capture_output=True, text=True, timeout=TIMEOUT_S, cwd=REPO,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        seen = json.loads(run.stdout.strip().splitlines()[-1])
        assert seen["engine"].startswith("firefox/")
        assert seen["secureContext"] and seen["serviceWorker"]
        assert seen["afterLogin"] == f"{served.url}whoami"
        assert seen["afterReload"] == "Logged in as grace"
        assert seen["download"] == {"bytes": 1024 * 1024, "exact": True}
        # Firefox, too, lets the shell hand its data channels to its request worker.
        assert seen["requestsInWorker"] is True
        # The server tab saw it all come over the data channel.
        log = served.server.locator("#log")
        expect(log).to_contain_text("POST /login 302")
        expect(log).to_contain_text("GET /bytes/1 200")
    finally:
        served.context.close()


def test_a_firefox_server_tab_serves_a_chromium_visitor(browser: Browser, service_url: str) -> None:
    tab = subprocess.Popen(
        ["node", str(FIREFOX_SCRIPTS / "server-tab.mjs"), service_url, "fox-server", "public"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=REPO,
    )  # fmt: skip
    try:
        assert tab.stdout is not None and tab.stdin is not None
        first = tab.stdout.readline()
        assert first, tab.stderr.read() if tab.stderr else "the Firefox server tab ended"
        site_url = json.loads(first)["serving"]
        assert site_url == service_url.replace("localhost", "fox-server.localhost")
        visitor = browser.new_context()
        page = visitor.new_page()
        page.goto(site_url)
        site = page.frame_locator("#site")
        expect(site.locator("#body")).to_have_text("Hello, world.")
        site.get_by_role("link", name="Log in").click()
        site.get_by_label("User").fill("ada")
        site.get_by_role("button", name="Log in").click()
        expect(site.locator("#body")).to_have_text("Logged in as ada")
        page.reload()
        expect(site.locator("#body")).to_have_text("Logged in as ada")
        visitor.close()
        tab.stdin.close()
        said = json.loads(tab.stdout.readline())
        log = said["log"]
        assert any(line.startswith("POST /login 302") for line in log), log
        # Firefox, too, hands a visitor's channels to the Python worker (no DataCloneError).
        assert said["channelsInWorker"] is True
        assert tab.wait(timeout=60) == 0
    finally:
        if tab.poll() is None:
            tab.kill()
            tab.wait(timeout=10)
