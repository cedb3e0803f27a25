"""Python projects as people have them, in a server tab: a FastAPI app (pydantic-core built for
the browser, from the real package index) with its own tests, packages published only as
source built in the tab (and a hostile setup.py that gets nothing of the service), a package
from a Pyodide release folder, and an old pin with its one-action fix."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
import uuid
from contextlib import ExitStack
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from pyodide_lock import PyodideLockSpec
from pyodide_lock.spec import InfoSpec, PackageSpec
from pyodide_lock.utils import parse_top_level_import_name, update_package_sha256

from signaling.locations import DEFAULT_BUNDLE, REPO
from signaling.packages.service import PackageService, PackageSettings
from tests import wheelhouse
from tests.conftest import BOOT_TIMEOUT, TEST_SITES, console_run, serve_project
from tests.deployment import Certificate, nginx, nginx_log, redis_server
from tests.harness import TEST_DOMAIN, TESTS, free_port, peerserver_service
from tests.pyodide_cdn import bundle_naming, cdn_at, pyodide_wheel
from tests.signaling.test_packages import resolve

pytestmark = pytest.mark.e2e

PROJECTS = TESTS / "projects"
INSTALL_TIMEOUT = 180_000  # resolving and fetching from the real index, on a loaded machine


def test_a_fastapi_app_with_its_own_tests(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    served = serve_project(browser, index_service_url, "todos", PROJECTS / "fastapi-todo", tmp_path)
    server, visitor = served.server, browser.new_context()
    try:
        expect(server.locator("#app-module")).to_have_text("App: main.py", timeout=INSTALL_TIMEOUT)
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=INSTALL_TIMEOUT)
        log = server.locator("#log")
        expect(log).to_contain_text("pydantic-core 2.")  # its WebAssembly wheel, from the index
        expect(log).to_contain_text("fastapi 0.")
        expect(server.locator("#packages-problem")).to_be_hidden()

        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Todos")).to_be_visible()
        site.get_by_label("Title").fill("Water the plants")
        site.get_by_role("button", name="Add").click()
        expect(site.get_by_role("listitem")).to_have_text(["1: Water the plants"])
        site.get_by_label("Title").fill("")
        site.get_by_role("button", name="Add").click()  # pydantic refuses it: a 422
        expect(site.get_by_role("alert")).to_have_text(
            "422: String should have at least 1 character"
        )
        page.goto(served.url + "todos/1")  # response_model, as JSON
        expect(site.locator("body")).to_have_text(
            '{"title":"Water the plants","done":false,"id":1}'
        )
        page.goto(served.url + "todos/7")
        expect(site.locator("body")).to_have_text('{"detail":"No such todo"}')

        output = console_run(server, "pytest -q", timeout_ms=INSTALL_TIMEOUT)
        assert "4 passed" in output, output
    finally:
        visitor.close()
        served.context.close()


def test_an_old_pin_is_named_and_fixed_in_one_action(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    served = serve_project(browser, index_service_url, "pinned", PROJECTS / "old-pin", tmp_path)
    server = served.server
    try:
        status = server.get_by_role("status")
        expect(status).to_have_text(
            "Not serving the app: its code failed to load", timeout=INSTALL_TIMEOUT
        )
        error = server.locator("#load-error")
        expect(error).to_contain_text("AssertionError")
        # The traceback as a traceback: one frame a line, the site's own frame marked.
        expect(error.locator(".tb-frame.tb-site").first).to_contain_text('File "app.py"')
        expect(error.locator(".tb-frame").last).to_contain_text("sqlalchemy")

        offer = server.locator("#pin-offer")
        expect(offer).to_contain_text("SQLAlchemy 2.0.23, pinned in requirements.txt, fails to")
        expect(offer).to_contain_text("nearest release that declares support for Python 3.14")
        fixed = offer.get_by_role("button", name="Use SQLAlchemy 2.0.")
        label = fixed.inner_text()
        fixed.click()
        expect(status).to_have_text("Serving", timeout=INSTALL_TIMEOUT)
        expect(server.locator("#load-error")).to_be_hidden()
        version = label.rsplit(" ", 1)[1]
        text = console_run(server, "print(open('requirements.txt').read())")
        assert f"SQLAlchemy=={version}  # the ORM" in text, text

        visitor = browser.new_context()
        page = visitor.new_page()
        page.goto(served.url)
        expect(page.frame_locator("#site").get_by_role("listitem")).to_have_text(
            ["Kept by SQLAlchemy"]
        )
        visitor.close()
    finally:
        served.context.close()


# -- source packages, and Pyodide's built packages (a release folder), offline ------------------


def project_at(folder: Path, requirements: str, app: str) -> Path:
    """A site's project: its requirements.txt and its app.py."""
    folder.mkdir()
    (folder / "requirements.txt").write_text(requirements)
    (folder / "app.py").write_text(app)
    return folder


def hostile_setup(marker: Path, service_port: int) -> str:
    """A setup.py that tries to read the service's files and secrets and to reach the network,
    and writes down what it got into the module it builds."""
    return textwrap.dedent(f"""\
        import os, socket, urllib.request

        CODE, BUNDLE = {str(REPO / "signaling" / "app.py")!r}, {str(DEFAULT_BUNDLE)!r}
        PORT, MARKER = {service_port}, {str(marker)!r}
        seen = {{}}

        def attempt(what, action):
            try:
                seen[what] = "got " + repr(action())[:80]
            except BaseException as error:
                seen[what] = "failed: " + type(error).__name__

        attempt("read the service's code", lambda: open(CODE).read(80))
        attempt("list the service's bundle", lambda: os.listdir(BUNDLE))
        attempt("read the TURN secret", lambda: os.environ["PEERSERVER_TURN_SECRET"])
        attempt("connect to the service",
                lambda: socket.create_connection(("127.0.0.1", PORT), 3).close())
        attempt("fetch from the service",
                lambda: urllib.request.urlopen(f"http://127.0.0.1:{{PORT}}/healthz", timeout=3))
        attempt("leave a file", lambda: open(MARKER, "w").write("ran"))
        with open("hostile.py", "w") as module:
            module.write("SEEN = " + repr(seen) + "\\n")

        from setuptools import setup

        setup(name="hostile", version="1.0", py_modules=["hostile"])
    """)


def pyodide_release(folder: Path, tmp_path: Path) -> Path:
    """A folder in the layout of Pyodide's release: msgpack's WebAssembly wheel (the real one,
    from the package index) and the pyodide-lock.json that describes it, written with
    Pyodide's own tooling."""
    service = PackageService(DEFAULT_BUNDLE, PackageSettings(folder=tmp_path / "fetched"))
    [package] = resolve(service, "msgpack\n")["packages"]
    wheel = folder / package["filename"]
    folder.mkdir()
    wheel.write_bytes(service.store.file(package["sha256"]).read_bytes())
    bundle_lock = json.loads((DEFAULT_BUNDLE / "pyodide" / "pyodide-lock.json").read_text())
    manifest = json.loads((DEFAULT_BUNDLE / "manifest.json").read_text())
    spec = PyodideLockSpec(
        info=InfoSpec(**bundle_lock["info"], version=manifest["pyodide"]),
        packages={
            "msgpack": update_package_sha256(
                PackageSpec(
                    name="msgpack",
                    version=package["version"],
                    file_name=wheel.name,
                    install_dir="site",
                    imports=parse_top_level_import_name(wheel) or [],
                ),
                wheel,
            )
        },
    )
    spec.check_wheel_filenames()
    spec.to_json(folder / "pyodide-lock.json", indent=2)
    return folder


def test_pyyaml_is_built_from_source_without_its_accelerator(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    """PyYAML's wheels are all compiled for other platforms: its source is built in the tab
    with its own switch for a build without libyaml, and the owner is told so; aiohttp and its
    parts (multidict, yarl, frozenlist, propcache) serve beside it."""
    project = PROJECTS / "yaml-config"
    served = serve_project(browser, index_service_url, "yaml-config", project, tmp_path)
    server, visitor = served.server, browser.new_context()
    try:
        log = server.locator("#log")
        expect(log).to_contain_text(
            "without libyaml (PYYAML_FORCE_LIBYAML=0): pyyaml runs without its accelerator, "
            "as pure Python",
            timeout=INSTALL_TIMEOUT,
        )
        started = log.locator("li", has_text="Site started in")
        expect(started).to_have_count(2, timeout=INSTALL_TIMEOUT)  # with its packages
        expect(server.locator("#packages-problem")).to_be_hidden()
        page = visitor.new_page()
        page.goto(served.url)
        body = page.frame_locator("#site").locator("body")
        expect(body).to_contain_text('"title":"Reading list"')
        assert json.loads(body.inner_text()) == {
            "title": "Reading list", "pages": 886, "dumped": "ok: true", "accelerated": False,
            "link": "https://library.example/search?tag=sf&tag=classic",
            "titles": ["Dune", "Emma"], "aiohttp": "3",
        }  # fmt: skip
    finally:
        visitor.close()
        served.context.close()


def test_pyodides_packages_load_in_the_tab_from_its_cdn_checked_against_the_lock(
    browser: Browser, tmp_path: Path
) -> None:
    """By default the tab's Pyodide loads Pyodide's packages from its CDN, by name: here a
    stand-in CDN on loopback and a bundle whose lock names a package of the tests' own. A file
    that is not the one the lock names is refused, and the owner told."""
    packages = wheelhouse.build(tmp_path / "wheelhouse")
    wheel = pyodide_wheel(tmp_path / "built")
    bundle = bundle_naming(tmp_path / "bundle", wheel)
    project = project_at(
        tmp_path / "science",
        "sciencey\n",
        "from flask import Flask\nimport sciencey\n\napp = Flask(__name__)\n\n"
        "@app.get('/')\ndef home():\n    return f'mean {sciencey.mean([1, 2, 3, 6])}'\n",
    )
    options = ["--bundle", str(bundle)]
    with ExitStack() as stack:
        cdn = stack.enter_context(cdn_at(tmp_path / "cdn"))
        shutil.copy(wheel, cdn.files / wheel.name)
        options += ["--pyodide-cdn", cdn.url]
        url, _ = stack.enter_context(peerserver_service(TEST_SITES, packages, options))
        served = serve_project(browser, url, "science", project, tmp_path)
        log = served.server.locator("#log")
        expect(log).to_contain_text("sciencey 1.0", timeout=INSTALL_TIMEOUT)
        started = log.locator("li", has_text="Site started in")
        expect(started).to_have_count(2, timeout=INSTALL_TIMEOUT)  # with its packages
        visitor = browser.new_context()
        page = visitor.new_page()
        page.goto(served.url)
        expect(page.frame_locator("#site").locator("body")).to_have_text("mean 3.0")
        visitor.close()
        served.context.close()
        assert cdn.asked == [f"/pyodide/v1.0/full/{wheel.name}"]

        # Another browser (its own HTTP cache), and the CDN serves something else by that name.
        (cdn.files / wheel.name).write_bytes(wheel.read_bytes() + b"tampered")
        again = serve_project(browser, url, "science-again", project, tmp_path)
        problem = again.server.locator("#packages-problem")
        expect(problem).to_contain_text(
            f"sciencey 1.0: not installed: {cdn.url}{wheel.name} is not the file Pyodide's "
            "lock names",
            timeout=INSTALL_TIMEOUT,
        )
        again.context.close()


def test_source_packages_build_in_the_tab_and_pyodide_packages_come_from_a_release(
    browser: Browser, tmp_path: Path
) -> None:
    packages = wheelhouse.build(tmp_path / "wheelhouse")
    port = free_port()
    marker = tmp_path / f"hostile-{uuid.uuid4().hex}"
    wheelhouse.write_sdist(packages, "hostile", "1.0", [], {}, "", hostile_setup(marker, port))
    release = pyodide_release(tmp_path / "pyodide-release", tmp_path)
    project = project_at(
        tmp_path / "from-source",
        "oldstyle\nmsgpack\nhostile\ncspeed\n",
        textwrap.dedent("""\
            from flask import Flask, jsonify
            import hostile, msgpack, oldstyle

            app = Flask(__name__)

            @app.get("/")
            def home():
                return jsonify(oldstyle=oldstyle.hello(), hostile=hostile.SEEN,
                               msgpack=msgpack.unpackb(msgpack.packb({"n": [1, 2]})))
        """),
    )
    os.environ["PEERSERVER_TURN_SECRET"] = "the service's secret"  # the service's environment
    try:
        with peerserver_service(
            TEST_SITES, packages, ["--pyodide-packages", str(release)], port=port
        ) as (url, _process):
            served = serve_project(browser, url, "sources", project, tmp_path)
            server = served.server
            expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
            log = server.locator("#log")
            # Serving came before requirements.txt's packages: Python restarts to build them.
            built = "built oldstyle-1.0-py3-none-any.whl from source"
            expect(log).to_contain_text(built, timeout=INSTALL_TIMEOUT)
            expect(log).to_contain_text("built hostile-1.0-py3-none-any.whl from source")
            expect(log).to_contain_text("msgpack 1.")
            problems = server.locator("#packages-problem")
            expect(problems).to_contain_text("cspeed 1.0")
            expect(problems).to_contain_text("needs compiled code (cspeed.c)")
            started = log.locator("li", has_text="Site started in")
            expect(started).to_have_count(2, timeout=INSTALL_TIMEOUT)  # with its packages

            visitor = browser.new_context()
            page = visitor.new_page()
            page.goto(served.url)
            body = page.frame_locator("#site").locator("body")
            expect(body).to_contain_text('"oldstyle":"BUILT FROM SOURCE IN THE BROWSER!"')
            answer = json.loads(body.inner_text())
            assert answer["msgpack"] == {"n": [1, 2]}
            seen = answer["hostile"]
            for attempt in ("read the service's code", "list the service's bundle",
                            "read the TURN secret", "connect to the service",
                            "fetch from the service"):  # fmt: skip
                assert seen[attempt].startswith("failed: "), seen
            assert not marker.exists()  # it wrote only into the tab's own memory
            visitor.close()
            served.context.close()
    finally:
        del os.environ["PEERSERVER_TURN_SECRET"]


def test_two_instances_behind_round_robin_nginx_serve_a_sites_packages(
    browser: Browser, test_certificate: Certificate, tmp_path: Path
) -> None:
    """Not sticky: the tab's resolution goes to one instance, its downloads to both; the one
    that did not resolve fetches the files from the source the other recorded in Redis."""
    packages = wheelhouse.build(tmp_path / "wheelhouse")
    project = project_at(
        tmp_path / "greeter",
        "greeting\noldstyle\n",
        "from flask import Flask\nimport greeting, oldstyle\n\napp = Flask(__name__)\n\n"
        "@app.get('/')\ndef home():\n    return greeting.hello('both') + ' ' + oldstyle.hello()\n",
    )
    ports = free_port(), free_port()
    stores = [tmp_path / "store-a", tmp_path / "store-b"]
    with (
        redis_server(tmp_path) as redis_url,
        nginx(tmp_path, test_certificate, *ports) as proxy_port,
        ExitStack() as instances,
    ):
        public = f"https://{TEST_DOMAIN}:{proxy_port}"
        for port, store in zip(ports, stores, strict=True):
            options = ["--public-url", public, "--trusted-proxy", "127.0.0.1",
                       "--redis", redis_url, "--packages-dir", str(store)]  # fmt: skip
            instances.enter_context(peerserver_service(TEST_SITES, packages, options, port))
        served = serve_project(browser, f"{public}/", "greeter", project, tmp_path)
        server = served.server
        # "Serving" may be the first Python's, before the imported requirements restart it.
        expect(server.locator("#log")).to_contain_text("greeting 1.0", timeout=BOOT_TIMEOUT)
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        expect(server.locator("#packages-problem")).to_be_hidden()
        visitor = browser.new_context()
        page = visitor.new_page()
        page.goto(f"https://greeter.{TEST_DOMAIN}:{proxy_port}/")
        expect(page.frame_locator("#site").locator("body")).to_have_text(
            "HELLO, BOTH! (from the greeting package) BUILT FROM SOURCE IN THE BROWSER!"
        )
        kept = [{path.name for path in (store / "files").iterdir()} for store in stores]
        print(f"files kept by each instance: {[len(names) for names in kept]}")
        log = nginx_log(tmp_path)
        served_files = {up for up, status, _, path in log if path.startswith("/packages/")
                        and status == 200}  # fmt: skip
        assert served_files == {f"127.0.0.1:{port}" for port in ports}, log
        resolutions = [entry for entry in log if entry[2:] == ("POST", "/api/packages")]
        assert [status for _, status, _, _ in resolutions] == [200], log
        visitor.close()
        served.context.close()
