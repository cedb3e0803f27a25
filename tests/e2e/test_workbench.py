"""The server tab as the owner's workbench: edit and publish, persistence, export and import,
the database view, the console, files and the log. Real Chromium throughout."""

from __future__ import annotations

import hashlib
import itertools
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, BrowserType, FrameLocator, Page, expect

from tests.conftest import BOOT_TIMEOUT, ServedSite, import_site, open_server, serve_site, site_url
from tests.harness import TESTS

pytestmark = pytest.mark.e2e

NOTES_APP = (TESTS / "sites" / "notes" / "app.py").read_text()


@pytest.fixture
def visitor(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context()
    yield context
    context.close()


def files(server: Page):
    return server.get_by_role("navigation", name="Files")


def file_button(server: Page, name: str):
    """The file tree's button that opens the file ``name``."""
    return files(server).get_by_role("button", name=name, exact=True)


def open_file(server: Page, name: str) -> None:
    file_button(server, name).click()
    expect(server.locator("#open-file")).to_have_text(re.compile(rf"(^|/){re.escape(name)}$"))


def replace_and_save(server: Page, text: str) -> None:
    server.locator(".cm-content").click()
    server.keyboard.press("Control+A")
    server.keyboard.insert_text(text)
    server.keyboard.press("Control+S")


def add_first_note(site: FrameLocator, text: str) -> None:
    """Add a note to a notes site that has none yet, as a visitor does."""
    site.get_by_label("Note").fill(text)
    site.get_by_role("button", name="Add note").click()
    expect(site.get_by_role("listitem")).to_have_text([text])


def site_text(page: Page) -> str:
    return page.frame_locator("#site").locator("body").inner_text()


def test_edit_a_route_and_a_connected_visitor_sees_it_without_reconnecting(
    browser: Browser, service_url: str, visitor: BrowserContext
) -> None:
    served = serve_site(browser, service_url, "editing", "notes")
    try:
        page = visitor.new_page()
        page.goto(f"{served.url}version")
        frame = page.frame_locator("#site")
        expect(frame.get_by_text("version one")).to_be_visible()
        expect(served.server.get_by_text("Connected: 1")).to_be_visible()
        log = served.server.get_by_role("region", name="Log")
        served_line = r"GET /version 200 .* · (visitor \d+)"
        expect(log).to_contain_text(re.compile(served_line))  # the log shows lines in batches
        first = re.search(served_line, log.inner_text()).group(1)

        open_file(served.server, "app.py")
        replace_and_save(served.server, NOTES_APP.replace("version one", "version two"))
        expect(served.server.locator("#save-state")).to_have_text(
            "Saved: the site is live with this version."
        )

        frame.locator("body").evaluate("() => location.reload()")
        expect(frame.get_by_text("version two")).to_be_visible()
        expect(log).to_contain_text(re.compile(f"{served_line}[\\s\\S]*{served_line}"))
        lines = re.findall(served_line, log.inner_text())
        assert lines == [first, first]  # the same peer connection, before and after
        expect(served.server.get_by_text("Connected: 1")).to_be_visible()

        # A syntax error keeps the previous version live and says where it is.
        replace_and_save(
            served.server, NOTES_APP.replace("version one", "version three") + "\ndef broken(:\n"
        )
        alert = served.server.locator("#load-error")
        expect(alert).to_contain_text("app.py, line")
        expect(alert).to_contain_text("SyntaxError")
        expect(served.server.locator("#save-state")).to_contain_text(
            "the previous version stays live"
        )
        frame.locator("body").evaluate("() => location.reload()")
        expect(frame.get_by_text("version two")).to_be_visible()

        # So does an import that fails (the code parses, a module it needs is not there).
        replace_and_save(
            served.server,
            "import a_module_nobody_wrote\n" + NOTES_APP.replace("version one", "version four"),
        )
        expect(alert).to_contain_text("No module named 'a_module_nobody_wrote'")
        expect(served.server.locator("#save-state")).to_contain_text(
            "the previous version stays live"
        )
        frame.locator("body").evaluate("() => location.reload()")
        expect(frame.get_by_text("version two")).to_be_visible()

        replace_and_save(served.server, NOTES_APP)
        expect(alert).to_be_hidden()
    finally:
        served.context.close()


def test_rows_visitors_wrote_survive_a_reload_and_a_browser_restart(
    browser: Browser,
    browser_type: BrowserType,
    browser_type_launch_args: dict,
    service_url: str,
    visitor: BrowserContext,
    tmp_path: Path,
) -> None:
    profile = tmp_path / "profile"

    def owner_browser() -> BrowserContext:
        return browser_type.launch_persistent_context(profile, **browser_type_launch_args)

    owner = owner_browser()
    try:
        server = open_server(owner, service_url, "keeper", "notes")
        page = visitor.new_page()
        page.goto(site_url(service_url, "keeper"))
        frame = page.frame_locator("#site")
        add_first_note(frame, "buy milk")

        server.reload()
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        server.get_by_role("tab", name="Database").click()
        expect(server.get_by_role("button", name="note (1 rows)")).to_be_visible()
        expect(server.get_by_role("table", name="note")).to_contain_text("buy milk")
    finally:
        owner.close()

    # A browser that quits may not close its peer connections in time: the visitor then says
    # "offline" once its grace for a frozen server tab (10 s) is over.
    expect(page.get_by_role("status")).to_contain_text("offline", timeout=20_000)
    owner = owner_browser()  # the owner's browser, started again
    try:
        server = open_server(owner, service_url, "keeper")  # the stored site comes back
        expect(file_button(server, "notes.html")).to_be_visible()
        expect(page.get_by_role("status")).to_be_hidden(timeout=30_000)
        page.reload()
        expect(frame.get_by_role("listitem")).to_have_text(["buy milk"])
    finally:
        owner.close()


def test_export_then_import_into_a_new_name_gives_the_same_site(
    browser: Browser, service_url: str, visitor: BrowserContext, tmp_path: Path
) -> None:
    source = serve_site(browser, service_url, "exporter", "notes")
    target = serve_site(browser, service_url, "importer", "empty")
    try:
        page = visitor.new_page()
        page.goto(source.url)
        frame = page.frame_locator("#site")
        add_first_note(frame, "eggs")

        with source.server.expect_download() as download:
            source.server.get_by_role("button", name="Export site").click()
        assert download.value.suggested_filename == "exporter.zip"
        archive = tmp_path / "exporter.zip"
        download.value.save_as(archive)

        # A file that is not a site is refused, and the site stays as it was.
        broken = tmp_path / "broken.zip"
        broken.write_text("this is not a zip archive")
        import_site(target.server, broken)
        expect(target.server.get_by_role("alert").first).to_contain_text("not a zip archive")
        expect(file_button(target.server, "peerserver.png")).to_be_visible()

        import_site(target.server, archive)
        expect(file_button(target.server, "notes.html")).to_be_visible()
        expect(file_button(target.server, "peerserver.png")).to_have_count(0)

        copy = visitor.new_page()
        copy.goto(target.url)
        expect(copy.frame_locator("#site").get_by_role("listitem")).to_have_text(["eggs"])
    finally:
        source.context.close()
        target.context.close()


_site_numbers = itertools.count(1)


@pytest.fixture
def notes(browser: Browser, service_url: str) -> Iterator[ServedSite]:
    """A fresh server tab serving the notes site, under a name of its own."""
    served = serve_site(browser, service_url, f"notes-{next(_site_numbers)}", "notes")
    yield served
    served.context.close()


def test_database_view_pages_and_the_sql_box(notes: ServedSite) -> None:
    server = notes.server
    server.get_by_role("tab", name="Console").click()
    server.get_by_role("textbox", name="Console").fill("flask init-db")
    server.get_by_role("textbox", name="Console").press("Enter")
    expect(server.locator("#console-output")).to_contain_text("Initialized the database.")

    server.get_by_role("tab", name="Database").click()
    sql = server.get_by_label("SQL")
    sql.fill(
        "INSERT INTO note (text) WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL "
        "SELECT i + 1 FROM n WHERE i < 120) SELECT 'row ' || i FROM n"
    )
    server.get_by_role("button", name="Run SQL").click()
    expect(server.locator("#sql-result")).to_have_text("Done: 120 row(s) changed.")
    expect(server.get_by_role("button", name="note (120 rows)")).to_be_visible()
    expect(server.get_by_text("Rows 1\N{EN DASH}50 of 120")).to_be_visible()
    server.get_by_role("button", name="Next page").click()
    expect(server.get_by_text("Rows 51\N{EN DASH}100 of 120")).to_be_visible()
    expect(server.get_by_role("table", name="note")).to_contain_text("row 51")

    sql.fill("SELECT text FROM note WHERE id = 7")
    server.get_by_role("button", name="Run SQL").click()
    expect(server.get_by_role("table", name="Query result")).to_contain_text("row 7")
    sql.fill("SELECT * FROM missing")
    server.get_by_role("button", name="Run SQL").click()
    expect(server.locator("#sql-result").get_by_role("alert")).to_have_text(
        "OperationalError: no such table: missing"
    )


def test_console_runs_python_in_the_site(notes: ServedSite) -> None:
    server = notes.server
    server.get_by_role("tab", name="Console").click()
    console = server.get_by_role("textbox", name="Console")
    output = server.locator("#console-output")
    for line in [
        "1 + 1",
        "app.name",
        "from flask import current_app",
        "current_app.config['DATABASE']",
    ]:
        console.fill(line)
        console.press("Enter")
    expect(output).to_contain_text(">>> 1 + 1\n2\n")
    expect(output).to_contain_text("'app'")
    expect(output).to_contain_text("'instance/notes.db'")
    console.fill("1 / 0")
    console.press("Enter")
    expect(output).to_contain_text("ZeroDivisionError: division by zero")


def test_files_create_rename_delete_upload_and_preview(
    notes: ServedSite, visitor: BrowserContext, tmp_path: Path
) -> None:
    server = notes.server
    page = visitor.new_page()
    page.goto(notes.url)
    frame = page.frame_locator("#site").locator("body")
    # The shell loads the site into its frame once connected: evaluate there only after that.
    expect(frame.get_by_role("heading", name="Notes")).to_be_visible()

    def status(path: str) -> int:
        return frame.evaluate(f"async () => (await fetch('{path}')).status")

    server.once("dialog", lambda dialog: dialog.accept("pages/about.html"))
    server.get_by_role("button", name="New file").click()
    expect(server.locator("#open-file")).to_have_text("pages/about.html")
    replace_and_save(server, "<h1>About the notes</h1>")
    expect(server.locator("#save-state")).to_contain_text("Saved")
    assert "About the notes" in frame.evaluate(
        "async () => (await fetch('/pages/about.html')).text()"
    )

    server.once("dialog", lambda dialog: dialog.accept("pages/info.html"))
    files(server).get_by_role("button", name="Rename pages/about.html").click()
    expect(file_button(server, "info.html")).to_be_visible()
    assert status("/pages/info.html") == 200
    assert status("/pages/about.html") == 404

    server.once("dialog", lambda dialog: dialog.accept())
    files(server).get_by_role("button", name="Delete pages/info.html").click()
    expect(file_button(server, "info.html")).to_have_count(0)
    assert status("/pages/info.html") == 404

    blob = tmp_path / "data.bin"
    blob.write_bytes(os.urandom(300_000))
    server.get_by_label("Upload files").set_input_files(blob)
    expect(file_button(server, "data.bin")).to_be_visible()
    digest = frame.evaluate("""async () => {
        const bytes = await (await fetch('/data.bin')).arrayBuffer();
        const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
        return Array.from(hash, (b) => b.toString(16).padStart(2, '0')).join('');
    }""")
    assert digest == hashlib.sha256(blob.read_bytes()).hexdigest()

    folder = tmp_path / "assets"
    (folder / "img").mkdir(parents=True)
    png = (TESTS / "sites" / "web" / "static" / "dot.png").read_bytes()
    (folder / "img" / "dot.png").write_bytes(png)
    (folder / "style.css").write_text("body { color: green }")
    server.get_by_label("Upload folder").set_input_files(folder)
    expect(file_button(server, "dot.png")).to_be_visible()
    assert status("/assets/img/dot.png") == 200 and status("/assets/style.css") == 200
    file_button(server, "dot.png").click()
    preview = server.locator("#preview img")
    expect(preview).to_be_visible()
    assert preview.evaluate("img => img.decode().then(() => img.naturalWidth)") == 64

    # Drag and drop onto the file tree.
    transfer = server.evaluate_handle("""() => {
        const transfer = new DataTransfer();
        transfer.items.add(new File(["dropped text"], "dropped.txt", {type: "text/plain"}));
        return transfer;
    }""")
    server.locator(".sidebar").dispatch_event("drop", {"dataTransfer": transfer})
    expect(file_button(server, "dropped.txt")).to_be_visible()
    assert frame.evaluate("async () => (await fetch('/dropped.txt')).text()") == "dropped text"


def test_the_log_shows_requests_and_what_the_site_prints(
    notes: ServedSite, visitor: BrowserContext
) -> None:
    page = visitor.new_page()
    page.goto(notes.url)
    frame = page.frame_locator("#site")
    add_first_note(frame, "hello log")
    log = notes.server.get_by_role("region", name="Log")
    expect(log).to_contain_text("note added: hello log")
    # Flask's app.logger and the logging module write where `flask run` would: to the log.
    expect(log).to_contain_text("app.logger: 9 characters")
    expect(log).to_contain_text("logging: a note was added")
    expect(log).to_contain_text(re.compile(r"POST / 302 [\d.]+ ms · visitor \d+"))
    expect(notes.server.get_by_text("Age: 0 minutes")).to_be_visible()


def test_the_editor_highlights_each_language(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "colours", "empty")
    server = served.server
    try:
        server.once("dialog", lambda dialog: dialog.accept("static/site.js"))
        server.get_by_role("button", name="New file").click()
        expect(server.locator("#open-file")).to_have_text("static/site.js")
        replace_and_save(server, "const answer = 42; // the answer\nfunction f() { return 'x'; }\n")
        expect(server.locator("#save-state")).to_contain_text("Saved")
        for name in ["app.py", "hello.html", "style.css", "index.html", "site.js"]:
            open_file(server, name)
            colours = server.locator(".cm-content").evaluate(
                """content => new Set([...content.querySelectorAll('span')]
                    .map((span) => getComputedStyle(span).color)).size"""
            )
            assert colours >= 3, f"{name} is not highlighted"
    finally:
        served.context.close()
