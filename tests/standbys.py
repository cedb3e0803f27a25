"""Standbys and the writes that test them, in real tabs: what the end-to-end tests of standbys
(tests/e2e/test_standby.py) and the benchmarks (bench/standby.py) both do. A visitor signed in
to the Ledger site (tests/sites/ledger) writes numbered entries in a loop, each answered with
its id; nothing here asserts but what a person would see before going on."""

from __future__ import annotations

import contextlib
import re
import time
from urllib.parse import urlsplit

from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect
from playwright.sync_api import Error as PlaywrightError

from tests.conftest import BOOT_TIMEOUT
from tests.measure import site_frame

WRITE_IN_A_LOOP = """async () => {
    const ada = new URLSearchParams({name: "ada"});
    const signedIn = await fetch("/login", {method: "POST", body: ada});
    if (!signedIn.ok) throw new Error(`could not sign in: ${signedIn.status}`);
    window.__writes = [];
    window.__writing = true;
    window.__written = (async () => {
        for (let n = 1; window.__writing; n++) {
            const sent = Date.now();
            try {
                const response = await fetch("/write", {
                    method: "POST", body: new URLSearchParams({n: String(n)}),
                });
                const answer = response.ok ? await response.json() : null;
                // The epoch of the serving tab's lease this visitor's connection was made in:
                // which tab answered (the shell is this frame's parent, on the same origin).
                const epoch = window.parent.peerServerClient.connectedEpoch;
                window.__writes.push({n, sent, at: Date.now(), status: response.status, answer,
                                      epoch});
            } catch (error) {
                window.__writes.push({n, sent, at: Date.now(), status: 0, error: String(error)});
            }
            await new Promise((resolve) => setTimeout(resolve, 40));
        }
    })();
}"""


def standby_link(server: Page) -> str:
    """On the serving tab: Standbys, Add a standby; the (new) link it shows."""
    server.get_by_role("tab", name="Standbys").click()
    link = server.locator("#standby-link")
    before = link.get_attribute("href")
    server.get_by_role("button", name="Add a standby").click()
    link = server.get_by_role("link", name="Standby link")
    expect(link).to_have_attribute("href", re.compile("/standby/"))
    if before is not None:
        expect(link).not_to_have_attribute("href", before)
    return link.get_attribute("href")


def stand_by(context: BrowserContext, link: str) -> Page:
    """Open a standby link in another browser; it stands by once its copy is there."""
    standby = context.new_page()
    standby.goto(link)
    expect(standby.get_by_role("status")).to_have_text("Standby", timeout=BOOT_TIMEOUT)
    expect(standby.locator("#standby-copy")).to_contain_text("up to date", timeout=30_000)
    return standby


def in_sync(server: Page) -> None:
    server.get_by_role("tab", name="Standbys").click()
    expect(server.locator("#standby-list tbody")).to_contain_text("in sync", timeout=30_000)


def serving_with_standby(
    browser: Browser, service_url: str, name: str, server_url: str | None = None
) -> tuple[BrowserContext, Page, Page]:
    """The owner's server tab for ``name`` (the Ledger, at ``server_url``: through a cutoff,
    say), and a standby in another browser, in sync: (owner's context, server, standby)."""
    owner = browser.new_context()
    server = owner.new_page()
    server.goto(f"{server_url or service_url}server/{name}?template=ledger")
    expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    link = standby_link(server)
    link = link.replace(urlsplit(link).netloc, urlsplit(service_url).netloc)
    standby = stand_by(browser.new_context(), link)
    in_sync(server)
    return owner, server, standby


def start_writing(visitor: BrowserContext, url: str) -> Frame:
    """A visitor signs in to the Ledger at ``url`` and writes entries in a loop."""
    page = visitor.new_page()
    page.goto(url)
    expect(page.frame_locator("#site").locator("h1")).to_have_text("Ledger", timeout=30_000)
    frame = site_frame(page)
    frame.evaluate(WRITE_IN_A_LOOP)
    frame.wait_for_function("window.__writes.filter((w) => w.status === 200).length >= 10")
    return frame


def writes_after(frame: Frame, moment: float, count: int = 10) -> list[dict]:
    """Once ``count`` writes sent after ``moment`` (Unix s) were answered, stop writing: every
    write, in order."""
    frame.wait_for_function(
        """([moment, count]) => window.__writes
            .filter((w) => w.status === 200 && w.sent / 1000 > moment).length >= count""",
        arg=[moment, count],
        timeout=90_000,
    )
    return frame.evaluate("async () => { window.__writing = false; await window.__written; "
                          "return window.__writes; }")  # fmt: skip


def recovery_seconds(writes: list[dict], lost: float) -> float:
    """From ``lost`` (Unix s) to the first write answered by a tab that serves in a later epoch
    than the one that answered before ``lost``: the standby."""
    before = max(w["epoch"] for w in writes if w["status"] == 200 and w["at"] / 1000 < lost)
    first = min(w["at"] for w in writes if w["status"] == 200 and w["epoch"] > before)
    return first / 1000 - lost


def crash(page: Page) -> float:
    """Kill ``page``'s renderer (DevTools' Page.navigate to chrome://crash); when it died."""
    with page.expect_event("crash"), contextlib.suppress(PlaywrightError):
        page.goto("chrome://crash", timeout=5_000)  # the navigation dies with the renderer
    return time.time()
