"""The server tab as a long-running server (issue 26): hidden in the background, frozen by the
browser with requests in flight and resumed, Python killed in the middle of a write
transaction, the browser's storage quota full. (Closed and opened again with visitors waiting:
tests/e2e/test_web.py.)"""

from __future__ import annotations

import json
import subprocess

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import (
    BOOT_TIMEOUT,
    console_run,
    open_server,
    serve_site,
    set_time_limit,
    site_url,
)
from tests.e2e.test_workbench import add_first_note
from tests.harness import REPO

pytestmark = pytest.mark.e2e


def lifecycle(service_url: str, name: str, scenario: str) -> dict:
    """tests/chromium/lifecycle.mjs's account of a server tab in the background (puppeteer:
    Playwright keeps its pages visible)."""
    run = subprocess.run(
        ["node", str(REPO / "tests" / "chromium" / "lifecycle.mjs"), service_url, name, scenario],
        capture_output=True, text=True, timeout=300, cwd=REPO,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_frozen_with_requests_in_flight_then_resumed(service_url: str) -> None:
    """Frozen for twice the time limit while a request runs: on waking, that request is
    answered and so is the one that came meanwhile; the watchdog counted running time only."""
    seen = lifecycle(service_url, "sleeper", "frozen")
    assert seen["hidden"] == "hidden"
    assert seen["whileFrozen"] == 0  # nothing is served while frozen: it really was
    assert any("The slow page, at last." in answer for answer in seen["answers"])
    assert any("Hello, world." in answer for answer in seen["answers"]), seen["answers"]
    assert "GET /slow?seconds=2 200" in seen["log"]
    assert "ran longer than" not in seen["log"]
    assert seen["status"] == "Serving"  # its signaling socket, closed by the freeze, is back


def test_hidden_for_a_while_it_still_serves_a_new_visitor(service_url: str) -> None:
    """Hidden for 75 s with no visitor, in a Chromium whose intensive wake-up throttling starts
    after 5 s (instead of 5 minutes) and whose background tabs may be frozen: a new visitor is
    served as quickly as ever, and the name stayed registered all along."""
    seen = lifecycle(service_url, "background", "hidden")
    gap, served, control = seen["longestTimerGapMs"], seen["visitorServedMs"], seen["control"]
    print(
        f"hidden: {seen['timerWakeUps']} timer wake-ups in 75 s, the longest gap {gap} ms, "
        f"the last {seen['sinceLastTimerMs']} ms before it was looked at"
    )
    print(
        f"without the lock: {control['wakeUps']}, the longest gap {control['longestGapMs']} ms, "
        f"the last {control['sinceLastMs']} ms before"
    )
    print(f"a new visitor of the hidden tab was served in {served} ms")
    assert seen["hidden"] == seen["stillHidden"] == control["hidden"] == "hidden"
    # The browser throttles a hidden page's 1 s timers: it did the control page's (or froze
    # it: then its timers stopped, and the last one was long before it was looked at)...
    assert max(control["longestGapMs"], control["sinceLastMs"]) >= 5_000
    # ...and not the serving tab's, which holds its Web Lock while serving, and no longer once
    # closed.
    assert seen["timerWakeUps"] >= 2 * control["wakeUps"] and gap <= control["longestGapMs"] / 2
    assert seen["lockWhileServing"] and seen["lockReleasedOnceClosed"]
    assert served < 15_000
    assert seen["status"] == "Serving"
    assert seen["signalingLosses"] == 0  # the connection to the service held


def test_python_killed_mid_transaction_keeps_every_answered_write(
    browser: Browser, service_url: str
) -> None:
    served = serve_site(browser, service_url, "ledger", "notes")
    server = served.server
    visitor = browser.new_context()
    try:
        set_time_limit(server, 2)
        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        add_first_note(site, "answered, so kept")
        answers = site.locator("body").evaluate(
            """async () => {
                const spinning = fetch("/spin-mid-write", {method: "POST",
                    body: new URLSearchParams({text: "never committed"})});
                const meanwhile = await (await fetch("/while-a-write-is-spilled")).text();
                return [meanwhile, (await spinning).status];
            }"""
        )
        assert answers == ["answered", 504]
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        # The site as kept when the other request was answered: a database the transaction
        # had half written, and its hot journal.
        journal = "import os; print(os.path.exists('instance/notes.db-journal'))"
        assert console_run(server, journal).strip() == "True"
        page.reload()  # the site opens its database: sqlite rolls the transaction back
        expect(site.get_by_role("listitem")).to_have_text(["answered, so kept"])
        database = "sqlite3.connect('instance/notes.db')"
        check = f"import sqlite3; print({database}.execute('pragma integrity_check').fetchone()[0])"
        assert console_run(server, check).strip() == "ok"
        assert console_run(server, journal).strip() == "False"
        answered = "print(open('instance/answered.txt').read())"
        assert console_run(server, answered).strip() == "answered while another request wrote"
    finally:
        visitor.close()
        served.context.close()


def test_a_full_quota_is_told_and_loses_nothing_kept(browser: Browser, service_url: str) -> None:
    """The browser's storage for the service's origin held to 4 MB (set before the tab opens
    its storage): a request that writes 8 MB is answered, the owner is told, and what was kept
    before stays kept."""
    owner = browser.new_context()
    visitor = browser.new_context()
    origin = service_url.rstrip("/")
    try:
        home = owner.new_page()
        home.goto(service_url)
        storage = owner.new_cdp_session(home)
        storage.send("Storage.overrideQuotaForOrigin", {"origin": origin, "quotaSize": 4 * 2**20})
        server = open_server(owner, service_url, "quota", "notes")
        expect(server.locator("#storage")).to_contain_text("Storage: ")
        page = visitor.new_page()
        page.goto(site_url(service_url, "quota"))
        site = page.frame_locator("#site")
        add_first_note(site, "before the quota ran out")
        answer = site.locator("body").evaluate(
            """async () => (await fetch("/attach?mb=8", {method: "POST"})).text()"""
        )
        assert answer == "attached 8 MB"  # the site answered, and goes on serving
        problem = server.locator("#storage-problem")
        expect(problem).to_contain_text("could not be saved")
        expect(problem).to_contain_text("QuotaExceededError")
        expect(problem).to_contain_text("The site goes on serving what it has")
        page.reload()
        expect(site.get_by_role("listitem")).to_have_text(["before the quota ran out"])
        # What was kept before is all there for the next start of the tab.
        server.close()
        server = open_server(owner, service_url, "quota")
        page.reload()
        expect(site.get_by_role("listitem")).to_have_text(["before the quota ran out"])
    finally:
        visitor.close()
        owner.close()
