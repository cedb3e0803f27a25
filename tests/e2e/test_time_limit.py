"""The request time limit: code that never returns is stopped, the visitor gets a 504, and
Python restarts with the site and its data as they were last saved."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, serve_site
from tests.e2e.test_workbench import NOTES_APP, add_first_note, open_file, replace_and_save

pytestmark = pytest.mark.e2e


def test_a_request_past_the_time_limit_gets_a_504_and_the_site_lives_on(
    browser: Browser, service_url: str
) -> None:
    served = serve_site(browser, service_url, "spinner", "notes")
    visitor = browser.new_context()
    server = served.server
    status = server.get_by_role("status")
    log = server.get_by_role("region", name="Log")
    try:
        time_limit = server.get_by_label("Time limit")
        expect(time_limit).to_have_value("30")
        time_limit.fill("2")
        time_limit.press("Enter")
        time_limit.blur()

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        add_first_note(site, "kept across the restart")

        site.locator("body").evaluate("() => { location.href = '/spin'; }")
        expect(site.get_by_role("heading", name="Gateway Timeout")).to_be_visible()
        expect(site.get_by_text("GET /spin ran longer than 2 s and was stopped.")).to_be_visible()
        expect(log).to_contain_text("GET /spin ran longer than 2 s: stopped, restarting Python")
        expect(status).to_have_text("Serving", timeout=BOOT_TIMEOUT)

        # The same visitor, on the same peer connection, finds the site and its data intact.
        expect(page).to_have_url(f"{served.url}spin")  # back from there (see test_web.py)
        page.go_back()
        site.locator("body").evaluate("() => location.reload()")
        expect(site.get_by_role("listitem")).to_have_text(["kept across the restart"])
        expect(server.get_by_text("Connected: 1")).to_be_visible()

        # The console is held to the same limit.
        server.get_by_role("tab", name="Console").click()
        console = server.get_by_role("textbox", name="Console")
        console.fill("while True: pass")
        console.press("Enter")
        output = server.locator("#console-output")
        expect(output).to_contain_text("Stopped: it ran longer than 2 s.")
        expect(status).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        console.fill("6 * 7")
        console.press("Enter")
        expect(output).to_contain_text("42")

        # An import that never finishes: Python restarts without the app and says why; a fix
        # brings the site back. The time limit is remembered for the site.
        server.get_by_role("tab", name="Editor").click()
        open_file(server, "app.py")
        replace_and_save(server, "while True:\n    pass\n" + NOTES_APP)
        load_error = server.locator("#load-error")
        expect(load_error).to_contain_text("ran past the time limit", timeout=BOOT_TIMEOUT)
        expect(status).to_have_text("Not serving the app: its code failed to load")
        open_file(server, "app.py")
        replace_and_save(server, NOTES_APP)
        expect(load_error).to_be_hidden()
        site.locator("body").evaluate("() => location.reload()")
        expect(site.get_by_role("listitem")).to_have_text(["kept across the restart"])

        server.reload()
        expect(status).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        expect(server.get_by_label("Time limit")).to_have_value("2")
    finally:
        visitor.close()
        served.context.close()
