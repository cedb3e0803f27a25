"""An ASGI project (Starlette, as its documentation writes apps) with a requirements.txt:
imported as a zip, its packages installed from the service, those that cannot run in the
browser reported by name, and used by a visitor."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, serve_project
from tests.e2e.test_workbench import open_file, replace_and_save
from tests.harness import TESTS

pytestmark = pytest.mark.e2e

PROJECT = TESTS / "projects" / "starlette-guestbook"


def test_a_starlette_project_with_requirements(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    served = serve_project(browser, service_url, "guestbook", PROJECT, tmp_path)
    server, visitor = served.server, browser.new_context()
    try:
        # requirements.txt came with the import: Python restarts to install its packages.
        expect(server.locator("#app-module")).to_have_text("App: main.py", timeout=BOOT_TIMEOUT)
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        log = server.locator("#log")
        expect(log).to_contain_text("requirements.txt: installed")
        expect(log).to_contain_text("starlette 1.")
        expect(log).to_contain_text("greeting 1.0")
        problems = server.locator("#packages-problem")
        expect(problems).to_contain_text("fastmath>=2")
        expect(problems).to_contain_text("compiled code")
        expect(server.locator("#load-error")).to_be_hidden()

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Guestbook")).to_have_css(
            "color", "rgb(120, 40, 160)"
        )
        expect(site.get_by_role("listitem")).to_have_text(["Nobody has signed yet."])
        site.get_by_label("Name").fill("Ada")
        site.get_by_label("Note").fill("Served by Starlette from a browser tab.")
        site.get_by_role("button", name="Sign").click()
        expect(site.get_by_role("listitem")).to_have_text(
            ["Ada: Served by Starlette from a browser tab."]
        )
        expect(page).to_have_url(served.url)  # the 303 went back to the page's own origin

        page.goto(served.url + "hello/ada")
        expect(site.locator("body")).to_have_text("HELLO, ADA! (from the greeting package)")
        page.goto(served.url + "entries.json")
        expect(site.locator("body")).to_contain_text('"name":"Ada"')

        # Saving requirements.txt restarts Python with the new list; the data stays.
        open_file(server, "requirements.txt")
        replace_and_save(server, "starlette\npython-multipart\ngreeting\n")
        expect(server.locator("#save-state")).to_have_text(
            "Saved: the site is live with this version.", timeout=BOOT_TIMEOUT
        )
        expect(log).to_contain_text("requirements.txt changed: restarting Python")
        expect(problems).to_be_hidden()
        page.goto(served.url)
        expect(site.get_by_role("listitem")).to_have_text(
            ["Ada: Served by Starlette from a browser tab."]
        )
    finally:
        visitor.close()
        served.context.close()
