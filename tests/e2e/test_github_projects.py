"""Two large projects as their owners published them on GitHub (tests/projects/github/README.md
says from where, and what their owners changed), imported as zips, their packages installed
from the package index this machine reaches, and used as their users use them: Miguel
Grinberg's Flask Mega-Tutorial app (Flask-Migrate/Alembic, Flask-Login, Flask-WTF, Babel,
SQLAlchemy pinned for CPython 3.11), and a FastAPI project template (SQLModel, dynaconf, typer,
OAuth2 with JWT) with its own tests."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.conftest import console_run, serve_project
from tests.harness import TESTS

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(900)]

PROJECTS = TESTS / "projects" / "github"
INSTALL_TIMEOUT = 300_000  # some fifty packages resolved and fetched, on a loaded machine
SETTLED = re.compile(r"^(Serving|Not serving)")


def accept_newer_pins(server: Page, app: str) -> list[str]:
    """Once the imported project has loaded (serving ``app``, or failed), take each release
    the server tab offers for a pin that fails to import under this Python, one after another,
    as an owner would: the packages repinned, in order."""
    status, offer = server.get_by_role("status"), server.locator("#pin-offer")
    loaded = re.compile(rf"^App: ({re.escape(app)}|none \(the code failed to load\))$")
    expect(server.locator("#app-module")).to_have_text(loaded, timeout=INSTALL_TIMEOUT)
    repinned = []
    while True:
        expect(status).to_have_text(SETTLED, timeout=INSTALL_TIMEOUT)
        if status.inner_text() == "Serving":
            return repinned
        expect(offer).to_be_visible()
        expect(offer).to_contain_text("pinned in requirements.txt, fails to import under Python")
        button = offer.get_by_role("button")
        repinned.append(button.inner_text().removeprefix("Use ").split()[0])
        starts = server.locator("#log li", has_text="Site started in").count()
        button.click()
        expect(server.locator("#log li", has_text="Site started in")).to_have_count(
            starts + 1, timeout=INSTALL_TIMEOUT
        )


def test_the_flask_mega_tutorial_microblog(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    served = serve_project(
        browser, index_service_url, "microblog", PROJECTS / "microblog", tmp_path
    )
    server, visitor = served.server, browser.new_context()
    try:
        # SQLAlchemy 2.0.23 and typing_extensions 4.8.0 predate Python 3.13's class attributes:
        # both fail to import, one after the other, as they would on CPython 3.14.
        assert accept_newer_pins(server, "microblog.py") == ["SQLAlchemy", "typing_extensions"]
        expect(server.locator("#load-error")).to_be_hidden()
        expect(server.locator("#app-module")).to_have_text("App: microblog.py")
        requirements = console_run(server, "print(open('requirements.txt').read())")
        assert re.search(r"^SQLAlchemy==2\.0\.\d+$", requirements, re.MULTILINE)
        assert "SQLAlchemy==2.0.23" not in requirements
        assert "typing_extensions==4.8.0" not in requirements

        upgrade = console_run(server, "flask db upgrade", timeout_ms=INSTALL_TIMEOUT)
        assert "Running upgrade  -> e517276bb1c2, users table" in upgrade
        assert "Running upgrade c81bac34faab -> 834b1a697901, user tokens" in upgrade

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Sign In")).to_be_visible()
        site.get_by_role("link", name="Click to Register!").click()
        expect(site.get_by_role("heading", name="Register")).to_be_visible()
        site.get_by_label("Username").fill("ada")
        site.get_by_label("Email").fill("ada@example.org")
        site.get_by_label("Password", exact=True).fill("lovelace")
        site.get_by_label("Repeat Password").fill("lovelace")
        site.get_by_role("button", name="Register").click()
        # Werkzeug hashes the password with scrypt: seconds in WebAssembly on a busy machine.
        expect(site.get_by_text("Congratulations, you are now a registered user!")).to_be_visible(
            timeout=30_000
        )
        site.get_by_label("Username").fill("ada")
        site.get_by_label("Password").fill("wrong")
        site.get_by_role("button", name="Sign In").click()
        expect(site.get_by_text("Invalid username or password")).to_be_visible(timeout=30_000)
        site.get_by_label("Username").fill("ada")
        site.get_by_label("Password").fill("lovelace")
        site.get_by_role("button", name="Sign In").click()
        expect(site.get_by_role("heading", name="Hi, ada!")).to_be_visible(timeout=30_000)
        site.get_by_label("Say something").fill("Hello from a browser tab")
        site.get_by_role("button", name="Submit").click()
        expect(site.get_by_text("Your post is now live!")).to_be_visible()
        site.get_by_role("link", name="Explore").click()
        expect(site.get_by_text("Hello from a browser tab")).to_be_visible()
        site.get_by_role("link", name="Profile").click()
        expect(site.get_by_role("heading", name="User: ada")).to_be_visible()
    finally:
        visitor.close()
        served.context.close()


_API = """async ({method, path, token, form, json}) => {
    const headers = token ? {Authorization: `Bearer ${token}`} : {};
    let body;
    if (form) body = new URLSearchParams(form);
    if (json) { body = JSON.stringify(json); headers["Content-Type"] = "application/json"; }
    const response = await fetch(path, {method, headers, body});
    const text = await response.text();
    const json_ = response.headers.get("Content-Type") === "application/json";
    return {status: response.status, body: json_ ? JSON.parse(text) : text};
}"""


def pytest_outcome(report: str) -> tuple[str, set[str]]:
    """pytest -q's counts ("6 failed, 21 passed") and the tests it says FAILED."""
    counts = re.search(r"^(?:=+ )?(\d+ failed, \d+ passed)", report, re.MULTILINE)
    assert counts, report[-3000:]
    return counts[1], set(re.findall(r"^FAILED (\S+)", report, re.MULTILINE))


def under_cpython(project: Path, tmp_path: Path) -> tuple[str, set[str]]:
    """The project's own tests as its owner runs them at home: a CPython venv with its
    requirements.txt (today's releases, from the index this machine reaches), then pytest."""
    copy = tmp_path / "at-home"
    shutil.copytree(project, copy)
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = str(venv / "bin" / "python")
    install = [python, "-m", "pip", "install", "-q", "-r", "requirements.txt", "pytest"]
    subprocess.run(install, cwd=copy, check=True, timeout=600)
    run = subprocess.run(
        [python, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=copy, capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    return pytest_outcome(run.stdout)


def test_a_fastapi_project_template(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    project = PROJECTS / "fastapi-project-template"
    served = serve_project(browser, index_service_url, "fastapi-template", project, tmp_path)
    server, visitor = served.server, browser.new_context()
    try:
        expect(server.locator("#app-module")).to_have_text(
            "App: project_name:app", timeout=INSTALL_TIMEOUT
        )
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=INSTALL_TIMEOUT)

        # Its own tests, as its owner runs them, in a Python of their own (its conftest selects
        # the testing settings before it imports the app): exactly CPython's result. Some fail
        # there too, with today's releases of FastAPI, pydantic 2 and SQLModel (a field
        # Optional but without a default is required, responses are validated): the owner's
        # to port, nothing of PeerServer's.
        tests = console_run(server, "pytest -q", timeout_ms=INSTALL_TIMEOUT)
        in_the_tab = pytest_outcome(tests)
        at_home = under_cpython(project, tmp_path)
        print(f"in the tab: {in_the_tab[0]}; under CPython: {at_home[0]}")
        assert in_the_tab == at_home, tests[-3000:]

        # The template's own command for its first user, from the Console.
        created = console_run(
            server,
            "from project_name.cli import create_user; create_user('admin', 'admin', True)",
        )
        assert "created admin user" in created

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.locator("body")).to_contain_text("Hello World!")
        frame = next(
            f for f in page.frames if f.url.startswith(served.url) and f != page.main_frame
        )

        def api(method: str, path: str, **options: object) -> dict:
            return frame.evaluate(_API, {"method": method, "path": path, **options})

        refused = api("POST", "/token", form={"username": "admin", "password": "nope"})
        assert refused["status"] == 401, refused
        token = api("POST", "/token", form={"username": "admin", "password": "admin"})
        assert token["status"] == 200, token
        admin = token["body"]["access_token"]
        assert api("GET", "/user/")["status"] == 401
        invalid = api("POST", "/user/", token=admin, json={"username": "ada"})
        assert invalid["status"] == 422  # pydantic's validation: no password
        assert invalid["body"]["detail"][0]["loc"] == ["body", "password"]
        ada = api("POST", "/user/", token=admin, json={"username": "ada", "password": "lovelace"})
        assert ada["status"] == 200, ada
        assert "password" not in ada["body"]  # response_model
        users = api("GET", "/user/", token=admin)["body"]
        assert [user["username"] for user in users] == ["admin", "ada"]
        by_id = api("GET", f"/user/{ada['body']['id']}/", token=admin)
        assert by_id["body"]["username"] == "ada"
        login = api("POST", "/token", form={"username": "ada", "password": "lovelace"})
        assert login["status"] == 200, login
        not_admin = api("GET", "/user/", token=login["body"]["access_token"])
        assert not_admin["status"] == 403, not_admin
    finally:
        visitor.close()
        served.context.close()
