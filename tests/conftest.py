"""Fixtures shared by the test suite: a running service, and Chromium for Playwright."""

from __future__ import annotations

import time
import zipfile
from collections.abc import Generator, Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest
from playwright.sync_api import (
    Browser,
    BrowserContext,
    BrowserType,
    ConsoleMessage,
    FrameLocator,
    Page,
    expect,
)

from tests import wheelhouse
from tests.deployment import Certificate, make_certificate
from tests.harness import (
    CHROMIUM_ARGS,
    REPO,
    ServedSite,
    chromium_launch_args,
    disabled_features,
    peerserver_service,
)
from tests.measure import in_tab

LOCAL_HOSTS = ("localhost", "127.0.0.1")
TEST_SITES = REPO / "tests" / "sites"
BOOT_TIMEOUT = 90_000  # ms: a cold Pyodide boot on a busy 2-core machine
# Every tab of a whole run registers its names from 127.0.0.1 with the session's one service,
# and a name stays reserved an hour: more than one person's address may hold (64, the default).
SESSION_SERVICE = ("--max-names-per-address", "1000")

# Sites and projects the tests serve: their own tests run inside a server tab, not here.
collect_ignore = ["projects", "sites"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Run the end-to-end tests last: the others are quick to report, and they then run before
    Playwright's sync API (greenlets, and an event loop that counts as running in the main
    thread) has touched the interpreter."""
    items.sort(key=lambda item: item.get_closest_marker("e2e") is not None)


# What the pages said (warnings and errors, their own and their workers') while an end-to-end
# test ran, kept for its report: a test that fails in CI says why from the browser's side too.
CONSOLE_KEPT = 300
console_heard: list[str] = []


@pytest.fixture(autouse=True)
def _browser_console(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    def keep(line: str) -> None:
        console_heard.append(line)
        del console_heard[:-CONSOLE_KEPT]

    def heard(message: ConsoleMessage) -> None:
        if message.type in ("warning", "error"):
            page = message.page.url if message.page else "a worker"
            keep(f"[{message.type}] {page}: {message.text}")

    new_context = Browser.new_context

    def listened_context(self: Browser, *args: object, **kwargs: object) -> BrowserContext:
        context = new_context(self, *args, **kwargs)
        context.on("console", heard)
        context.on("weberror", lambda error: keep(f"[uncaught] {error.error}"))
        return context

    console_heard.clear()
    monkeypatch.setattr(Browser, "new_context", listened_context)
    yield


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.failed and console_heard:
        report.sections.append(("browser console", "\n".join(console_heard)))
    return report


@pytest.fixture(scope="session")
def test_certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A wildcard certificate for the test domain, which the tests' Chromium trusts."""
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict, test_certificate: Certificate) -> dict:
    return chromium_launch_args(browser_type_launch_args, test_certificate.spki_sha256)


@pytest.fixture(scope="module")
def real_ip_browser(browser_type: BrowserType, browser_type_launch_args: dict) -> Iterator[Browser]:
    """Chromium offering real host candidates, which a non-browser peer (the tunnel) can reach."""
    args = [*CHROMIUM_ARGS, disabled_features("WebRtcHideLocalIpsWithMdns")]
    browser = browser_type.launch(**{**browser_type_launch_args, "args": args})
    yield browser
    browser.close()


@pytest.fixture(scope="session")
def service_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A `peerserver serve` process on a free loopback port, stopped after the session; its
    packages for requirements.txt come from the tests' own wheelhouse."""
    package_index = wheelhouse.build(tmp_path_factory.mktemp("wheelhouse"))
    with peerserver_service(TEST_SITES, package_index, SESSION_SERVICE) as (url, _process):
        yield url


@pytest.fixture(scope="session")
def index_service_url() -> Iterator[str]:
    """A service that resolves against the package index this machine's pip is set up for
    (the real index, or the mirror pip is configured with)."""
    with peerserver_service(TEST_SITES, options=SESSION_SERVICE) as (url, _process):
        yield url


def is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine: the service, a site origin, or no host at all."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    return host in LOCAL_HOSTS or host.endswith(".localhost")


def site_url(service_url: str, name: str) -> str:
    """The address of the site ``name`` on a local service."""
    return service_url.replace("localhost", f"{name}.localhost")


def open_server(
    context: BrowserContext,
    service_url: str,
    name: str,
    template: str | None = None,
    channels: str | None = None,
) -> Page:
    """A server tab for ``name`` in ``context`` (the owner's browser), once it is serving; a new
    site starts from ``template``, and without one the site is as this browser keeps it.
    ``channels="tab"``: the tab keeps its visitors' channels on its page (``?channels=tab``)."""
    server = context.new_page()
    asked = {"template": template, "channels": channels}
    query = urlencode({key: value for key, value in asked.items() if value})
    server.goto(f"{service_url}server/{name}{'?' if query else ''}{query}")
    expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    return server


def serve_site(browser: Browser, service_url: str, name: str, template: str) -> ServedSite:
    """A server tab for ``name`` with ``template``, in a browser context of its own, serving."""
    context = browser.new_context()
    server = open_server(context, service_url, name, template)
    return ServedSite(context, server, site_url(service_url, name))


def set_time_limit(server: Page, seconds: int) -> None:
    """The owner sets the site's time limit in its server tab, as a person does."""
    limit = server.get_by_label("Time limit")
    limit.fill(str(seconds))
    limit.press("Enter")
    limit.blur()


def console_run(server: Page, line: str, timeout_ms: float = 60_000) -> str:
    """Type ``line`` into the server tab's Console; once it has run (the Console takes input
    again), what it printed for it."""
    server.get_by_role("tab", name="Console").click()
    console = server.get_by_role("textbox", name="Console")
    console.fill(line)
    console.press("Enter")  # the Console is disabled at once, until the line has run
    expect(console).to_be_enabled(timeout=timeout_ms)
    return server.locator("#console-output").inner_text().rsplit(f">>> {line}\n", 1)[1]


# In a server tab's page or its Python worker: the HttpChannels there (runtime/http-channels.js),
# if any; and the request lines they wait on there (their answers not begun).
CHANNELS = "(globalThis.peerServerHost?.channels ?? globalThis.peerServerChannels)"
WAITING = f"""() => [...({CHANNELS}?.connections.values() ?? [])]
    .map((connection) => connection.waiting).filter(Boolean)"""


def waiting_requests(server: Page) -> list[str]:
    """The request lines a server tab's Python is answering (their answers not begun)."""
    return [line for lines in in_tab(server, WAITING) for line in lines]


def wait_for_request(server: Page, line: str, timeout_s: float = 15) -> None:
    """Return once a request starting with ``line`` waits for its answer in the server tab."""
    deadline = time.monotonic() + timeout_s
    while not any(waiting.startswith(line) for waiting in waiting_requests(server)):
        if time.monotonic() > deadline:
            raise AssertionError(f"{line} did not reach the server tab within {timeout_s} s")
        time.sleep(0.05)


def visit_hello(context: BrowserContext, url: str) -> Page:
    """A visitor's page on a site of the tests' "public" template, once it shows its hello."""
    page = context.new_page()
    page.goto(url)
    expect(page.frame_locator("#site").locator("#body")).to_have_text("Hello, world.")
    return page


def make_account(site: FrameLocator, name: str, password: str) -> None:
    """On the Login Demo, make an account as a visitor does; its status says how that went."""
    site.get_by_role("link", name="Make an account").click()
    expect(site.get_by_role("heading", name="Make an account!")).to_be_visible()
    site.get_by_label("Name").fill(name)
    site.get_by_label("Password").fill(password)
    site.get_by_role("button", name="Create account").click()


def submit_login(site: FrameLocator, name: str, password: str) -> None:
    """On the Login Demo, fill in the login form and send it."""
    site.get_by_label("Name").fill(name)
    site.get_by_label("Password").fill(password)
    site.get_by_role("button", name="Log in").click()


def create_from_home_page(
    page: Page, service_url: str, name: str, template: str, label: str | None = None
) -> None:
    """Create a server on the home page, as a person would: a name, the template shown as
    ``label`` (its id, for the tests' own templates), Create; wait until it is serving."""
    page.goto(service_url)
    page.get_by_label("Server name").fill(name)
    page.get_by_label("Template").select_option(label=label or template)
    page.get_by_role("button", name="Create PeerServer").click()
    expect(page).to_have_url(f"{service_url}server/{name}?template={template}")
    expect(page.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)


def zip_project(project: Path, target: Path) -> Path:
    """The project folder as a repository archive would hold it: inside one top folder."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(project.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, f"{project.name}/{path.relative_to(project).as_posix()}")
    return target


def import_site(server: Page, archive: Path) -> None:
    """Replace the served site with ``archive`` through the server tab's "Import site"."""
    server.once("dialog", lambda dialog: dialog.accept())
    server.get_by_label("Import site").set_input_files(archive)


def serve_project(
    browser: Browser, service_url: str, name: str, project: Path, tmp_path: Path
) -> ServedSite:
    """A server tab for ``name`` serving the folder ``project``, imported as a zip."""
    served = serve_site(browser, service_url, name, "empty")
    import_site(served.server, zip_project(project, tmp_path / f"{project.name}.zip"))
    return served
