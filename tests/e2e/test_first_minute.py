"""The owner's first minute (issue 25): a new server tab opens the file that makes the app,
the site's address is copied in one click or shown as a QR code for a phone, and the log says
when the first visitor arrives."""

from __future__ import annotations

import base64

import pytest
from playwright.sync_api import Browser, BrowserContext, Locator, expect

from tests.conftest import create_from_home_page, site_url
from tests.harness import REPO

pytestmark = pytest.mark.e2e

JSQR = REPO / "node_modules" / "jsqr" / "dist" / "jsQR.js"


def read_qr_code(context: BrowserContext, image: Locator) -> str | None:
    """What a phone's camera reads from ``image`` as shown: its pixels, decoded by jsQR (npm)
    in a blank page of ``context``."""
    png = base64.b64encode(image.screenshot()).decode()
    reader = context.new_page()
    try:
        reader.add_script_tag(path=JSQR)
        return reader.evaluate(
            """async (png) => {
                const image = new Image();
                image.src = `data:image/png;base64,${png}`;
                await image.decode();
                const canvas = new OffscreenCanvas(image.width, image.height);
                const drawing = canvas.getContext("2d");
                drawing.drawImage(image, 0, 0);
                const { data } = drawing.getImageData(0, 0, image.width, image.height);
                return jsQR(data, image.width, image.height)?.data ?? null;
            }""",
            png,
        )
    finally:
        reader.close()


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
        code = dialog.get_by_role("img", name=f"QR code of {address}")
        expect(code).to_be_visible()
        assert read_qr_code(owner, code) == address
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
