"""A Flask developer's workflow in the server tab: projects imported the way people zip them,
a site whose app cannot be found saying why, and the site's own test suite run with `pytest`
in the Console. The project is the Flask tutorial's (tests/projects/flask-tutorial), with the
tutorial's tests. Real Chromium, real Pyodide, real pytest."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import BOOT_TIMEOUT, console_run, import_site, serve_site, set_time_limit
from tests.harness import TESTS

pytestmark = pytest.mark.e2e

PROJECT = TESTS / "projects" / "flask-tutorial"
PACKAGE = PROJECT / "flaskr"


def project_files(folder: Path) -> list[tuple[str, Path]]:
    return [
        (path.relative_to(folder).as_posix(), path)
        for path in sorted(folder.rglob("*"))
        if path.is_file() and "__pycache__" not in path.parts
    ]


def zipped(target: Path, prefix: str, folder: Path) -> Path:
    """``folder``'s files in a zip at ``target``, each under ``prefix``."""
    with zipfile.ZipFile(target, "w") as archive:
        for name, path in project_files(folder):
            archive.write(path, prefix + name)
    return target


# Each: the archive's file name, the folder zipped, and where its files go in the archive.
SHAPES = {
    "GitHub's Download ZIP": ("flask-tutorial-main.zip", PROJECT, "flask-tutorial-main/"),
    "the project folder": ("flask-tutorial.zip", PROJECT, "flask-tutorial/"),
    "the package folder alone": ("flaskr.zip", PACKAGE, "flaskr/"),
    "the project's files at the top": ("project.zip", PROJECT, ""),
    "the project inside a wrapper": ("download.zip", PROJECT, "download/flask-tutorial/"),
    "the package's files without their folder": ("flaskr.zip", PACKAGE, ""),
}


def imported(server: Page, archive: Path) -> None:
    import_site(server, archive)
    expect(server.locator("#log")).to_contain_text(f"Imported {archive.name}.")


def test_projects_as_people_zip_them(browser: Browser, service_url: str, tmp_path: Path) -> None:
    served = serve_site(browser, service_url, "shapes", "empty")
    server = served.server
    try:
        for shape, (filename, folder, prefix) in SHAPES.items():
            (tmp_path / shape).mkdir()
            imported(server, zipped(tmp_path / shape / filename, prefix, folder))
            # Wherever the project sat in the archive, the site's root is the project's root:
            # the package stays a package, found through its factory as `flask run` would.
            expect(server.locator("#app-module"), shape).to_have_text("App: flaskr:create_app()")
            expect(server.locator("#load-error"), shape).to_be_hidden()
            files = server.locator("#file-tree")
            expect(
                files.get_by_role("button", name="schema.sql", exact=True), shape
            ).to_be_visible()
            hello = console_run(server, "app.test_client().get('/hello').data")
            assert hello.startswith("b'Hello, World!'"), (shape, hello)
            listing = console_run(server, "import os; sorted(os.listdir('.'))")
            assert "'flaskr'" in listing and "'__init__.py'" not in listing, (shape, listing)
            assert ("'tests'" in listing) == (folder == PROJECT), (shape, listing)
    finally:
        served.context.close()


def test_a_site_without_an_app_says_why(browser: Browser, service_url: str, tmp_path: Path) -> None:
    """A package whose own import fails is no app: the server tab and the Console say which
    candidates were tried and why each did not serve, not just "no app"."""
    project = tmp_path / "project"
    (project / "blog").mkdir(parents=True)
    (project / "blog" / "__init__.py").write_text("from .models import Post\n")
    (project / "notes.py").write_text("NOTES = []\n")
    served = serve_site(browser, service_url, "no-app", "empty")
    server = served.server
    try:
        imported(server, zipped(tmp_path / "project.zip", "project/", project))
        expect(server.locator("#app-module")).to_have_text("App: none (static files)")
        problem = server.locator("#load-error")
        expect(problem).to_contain_text("No app found")
        expect(problem).to_contain_text("there is no wsgi.py, app.py, asgi.py, main.py")
        expect(problem).to_contain_text("package blog")
        expect(problem).to_contain_text("No module named 'blog.models'")
        answer = console_run(server, "flask init-db")
        assert answer.startswith("This site has no Flask app, so it has no flask commands."), answer
        assert "No app found" in answer and "package blog" in answer, answer
    finally:
        served.context.close()


BROKEN_TEST = "def test_broken():\n    total = 1 + 1\n    assert total == 3\n"


def test_the_sites_tests_run_in_the_console(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    served = serve_site(browser, service_url, "tested", "empty")
    server = served.server
    try:
        imported(server, zipped(tmp_path / "flask-tutorial.zip", "flask-tutorial/", PROJECT))
        expect(server.locator("#app-module")).to_have_text("App: flaskr:create_app()")
        console_run(server, "flask init-db")
        before = console_run(server, SITE_STATE)
        server.evaluate(COUNT_OUTPUT_EVENTS)

        report = console_run(server, "pytest")
        # pytest's own report: its header, a line per test file, and its summary line.
        assert "test session starts" in report, report
        assert "tests/test_auth.py ........" in report, report
        assert report.rstrip().splitlines()[-1].startswith("====") and " 25 passed" in report
        # It came as pytest wrote it, in many pieces, not as one answer at the end.
        assert server.evaluate("() => window.__outputEvents") > 5
        # The tutorial's tests have temporary files of their own; a test that writes to the
        # site itself (a file of its own, one it overwrites, the site's database) has its
        # writes undone too: the site is as it was, byte for byte.
        assert console_run(server, SITE_STATE) == before
        console_run(server, f"open('tests/test_writes.py', 'w').write({WRITING_TEST!r})")
        before = console_run(server, SITE_STATE)
        report = console_run(server, "pytest -q tests/test_writes.py")
        assert "2 passed" in report, report
        assert console_run(server, SITE_STATE) == before
        # The tests ran in a Python of their own, as at a terminal: the serving one's modules
        # are not theirs to change.
        assert console_run(server, "import flaskr; hasattr(flaskr, 'CHANGED_BY_A_TEST')") == (
            "False\n"
        )
        # Nor is the site as kept: the server tab opened again (its Python loading the site
        # from the browser's storage) has it as it was, without the file a test wrote.
        server.reload()
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        assert console_run(server, SITE_STATE) == before
        left = "import os; os.path.exists('left-by-a-test.txt')"
        assert console_run(server, left) == "False\n"
        console_run(server, "import os; os.remove('tests/test_writes.py')")

        console_run(server, f"open('tests/test_broken.py', 'w').write({BROKEN_TEST!r})")
        report = console_run(
            server, "python -m pytest -q tests/test_broken.py tests/test_factory.py"
        )
        assert "1 failed, 2 passed" in report, report
        assert "assert 2 == 3" in report and "FAILED tests/test_broken.py::test_broken" in report

        report = console_run(server, "pytest -q -k hello")
        assert "1 passed, 25 deselected" in report, report

        # A test that never ends is stopped at the time limit, as any code of the site is: its
        # Python ends there, and the one that serves goes on.
        console_run(server, f"open('tests/test_broken.py', 'w').write({HANGING_TEST!r})")
        set_time_limit(server, 5)
        report = console_run(server, "pytest -q tests/test_broken.py")
        assert "Stopped: it ran longer than 5 s" in report, report
        expect(server.get_by_role("status")).to_have_text("Serving")
        expect(server.locator("#log")).not_to_contain_text("restarting Python")
        assert "25 passed" in console_run(server, "pytest -q --ignore=tests/test_broken.py")
    finally:
        served.context.close()


HANGING_TEST = "def test_forever():\n    while True:\n        pass\n"
# What the tests must leave as it was: the site's files, and the rows of its database.
# Every file of the site with a hash of its bytes, and the database's every row.
SITE_STATE = (
    "import hashlib, os, sqlite3; ("
    "sorted((os.path.join(d, f), hashlib.sha256(open(os.path.join(d, f), 'rb').read())"
    ".hexdigest()) for d, _, fs in os.walk('.') for f in fs), "
    "list(sqlite3.connect('instance/flaskr.sqlite').iterdump()))"
)
WRITING_TEST = (
    "import sqlite3\n\n"
    "def test_writes_to_the_site():\n"
    "    open('left-by-a-test.txt', 'w').write('x')\n"
    "    open('flaskr/schema.sql', 'a').write('-- appended by a test')\n"
    "    db = sqlite3.connect('instance/flaskr.sqlite')\n"
    "    db.execute(\"insert into user (username, password) values ('test', 'x')\")\n"
    "    db.commit()\n\n"
    "def test_changes_the_sites_module():\n"
    "    import flaskr\n"
    "    flaskr.CHANGED_BY_A_TEST = True\n"
)
COUNT_OUTPUT_EVENTS = """() => {
    window.__outputEvents = 0;
    window.peerServerHost.addEventListener("output", () => window.__outputEvents++);
}"""
