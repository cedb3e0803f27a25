"""The owner's first minute (issue 25): a new server tab opens the file that makes the app,
the site's address is copied in one click or shown as a QR code for a phone, and the log says
when the first visitor arrives."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import create_from_home_page, site_url

pytestmark = pytest.mark.e2e


def test_a_new_server_tabs_first_minute(browser: Browser, service_url: str) -> None:
    owner = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
    visitor = browser.new_context()
    try:
        server = owner.new_page()
        create_from_home_page(server, service_url, "first-minute", "login", label="Login Demo")
        # The app's file is open in the editor, not "No file open".
        expect(server.locator("#open-file")).to_have_text("app.py")
        expect(server.locator(".cm-content")).to_contain_text("Flask(__name__)")

        address = site_url(service_url, "first-minute")
        copy = server.get_by_role("button", name="Copy address")
        copy.click()
        expect(server.locator("#copy-address")).to_have_text("Copied")  # named so for a moment
        assert server.evaluate("() => navigator.clipboard.readText()") == address

        server.get_by_role("button", name="QR code").click()
        dialog = server.get_by_role("dialog", name="The site's address as a QR code")
        expect(dialog.get_by_role("img", name=f"QR code of {address}")).to_be_visible()
        expect(dialog).to_contain_text(address)
        dialog.get_by_role("button", name="Close").click()
        expect(dialog).to_be_hidden()

        log = server.locator("#log")
        expect(log).not_to_contain_text("visitor")
        page = visitor.new_page()
        page.goto(address)
        expect(page.frame_locator("#site").locator("body")).to_contain_text("Log in")
        expect(log).to_contain_text("The first visitor arrived (visitor 1).")
    finally:
        visitor.close()
        owner.close()
