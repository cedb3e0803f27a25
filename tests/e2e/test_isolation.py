"""A site's code is kept apart from the owner's other sites: its Python worker has an opaque
origin of its own and no storage, the server tab keeps its files and checks what it asks to
save. Real Chromium: an owner's browser with two server tabs, one of them a stranger's site."""

from __future__ import annotations

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, open_server, site_url
from tests.e2e.test_workbench import add_first_note

pytestmark = pytest.mark.e2e


def test_a_strangers_site_cannot_reach_the_owners_other_sites(
    browser: Browser, service_url: str
) -> None:
    owner, visitor = browser.new_context(), browser.new_context()
    try:
        victim = open_server(owner, service_url, "victim", "notes")
        notes = visitor.new_page()
        notes.goto(site_url(service_url, "victim"))
        add_first_note(notes.frame_locator("#site"), "the victim's note")

        # The same owner, in the same browser, runs a site from a stranger's zip.
        stranger = open_server(owner, service_url, "stranger", "stranger")
        report = visitor.new_page()
        report.goto(site_url(service_url, "stranger"))
        attempts = report.frame_locator("#site")
        expect(attempts.get_by_role("heading", name="Attempts")).to_be_visible()
        expect(attempts.locator("#origin")).to_have_text("origin: null")
        expect(attempts.locator("#indexedDB")).to_contain_text("refused: SecurityError")
        expect(attempts.locator("#caches")).to_contain_text("refused: SecurityError")
        expect(attempts.locator("#localStorage")).to_contain_text("refused")
        expect(attempts.locator("#wiped")).to_have_count(0)
        # Its forged request to save a file outside its own tree is turned down, and said so.
        expect(stranger.locator("#log")).to_contain_text(
            "The site's files could not be saved: bad path"
        )

        # The victim's files are as they were: its Python, started afresh, finds the note.
        victim.reload()
        expect(victim.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        notes.reload()
        expect(notes.frame_locator("#site").get_by_role("listitem")).to_have_text(
            ["the victim's note"]
        )
    finally:
        owner.close()
        visitor.close()


# A site as the server tab kept it before its Python lost its own IndexedDB: Emscripten's IDBFS
# layout, one database per tree, keys the absolute paths.
_SAVE_THE_OLD_WAY = """async () => {
    const opening = indexedDB.open("/peerserver/legacy", 21);
    opening.onupgradeneeded = () => opening.result.createObjectStore("FILE_DATA")
        .createIndex("timestamp", "timestamp", { unique: false });
    const db = await new Promise((resolve) => {
        opening.onsuccess = () => resolve(opening.result);
    });
    const store = db.transaction("FILE_DATA", "readwrite").objectStore("FILE_DATA");
    const when = new Date(Date.UTC(2026, 0, 1));
    const app = "from flask import Flask\\napp = Flask(__name__)\\n\\n@app.route('/')\\n" +
        "def home():\\n    return '<p id=kept>Kept since January</p>'\\n";
    store.put({ timestamp: when, mode: 0o40755 }, "/peerserver/legacy/pkg");
    store.put({ timestamp: when, mode: 0o100644, contents: new TextEncoder().encode(app) },
        "/peerserver/legacy/app.py");
    await new Promise((resolve) => { store.transaction.oncomplete = resolve; });
    db.close();
}"""


def test_a_site_saved_before_keeps_its_files(browser: Browser, service_url: str) -> None:
    owner, visitor = browser.new_context(), browser.new_context()
    try:
        home = owner.new_page()
        home.goto(service_url)
        home.evaluate(_SAVE_THE_OLD_WAY)
        open_server(owner, service_url, "legacy")
        page = visitor.new_page()
        page.goto(site_url(service_url, "legacy"))
        expect(page.frame_locator("#site").locator("#kept")).to_have_text("Kept since January")
    finally:
        owner.close()
        visitor.close()
