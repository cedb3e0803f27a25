"""requirements.txt resolved by the service (signaling/packages/): the index pages parsed, the
resolver against a local wheelhouse (no network), the service's bounds, and the same against
the real package index this machine reaches."""

from __future__ import annotations

import asyncio
import json
import os
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from signaling.app import create_app
from signaling.limits import client_key
from signaling.locations import DEFAULT_BUNDLE
from signaling.packages.fairness import Busy, FairQueue, RateLimit
from signaling.packages.index import PipSettings, parse_html_page, parse_json_page
from signaling.packages.service import PackageService, PackageSettings
from signaling.packages.store import PackageStore
from signaling.packages.target import Target
from tests import wheelhouse
from tests.harness import free_port, offline_pip

REQUIREMENTS = """\
# the site's packages
greeting            # pure Python, with a dependency of its own
needs-flask         # depends on Flask, which the server tab has built in
Flask>=3            # built in, and satisfied
flask<3             # built in, and not satisfied
fastmath==2.0       # compiled code
quickjson           # compiled code, and a pure-Python wheel of the same version
broken-dep          # a dependency that does not exist: reported, the rest installs
oldstyle            # published as source only: the server tab builds it
no-such-package
-e .
requests @ https://example.com/requests.whl
pywin32; sys_platform == "win32"
starlette           # from the runtime bundle's shelf
"""


def run(coroutine: Any) -> Any:
    # In a thread of its own: the main thread may already have an event loop (Playwright's).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, coroutine).result(timeout=300)


def resolve(service: PackageService, text: str, address: str = "127.0.0.1") -> dict[str, Any]:
    async def go() -> dict[str, Any]:
        cached = service.cached(text, {})
        if cached is not None:
            return cached
        service.admit(address)
        heard: list[str] = []

        async def progress(line: str) -> None:
            heard.append(line)

        answer = await service.run(text, {}, address, progress)
        return {**answer, "heard": heard}

    return run(go())


def needs_bundle() -> None:
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")


@pytest.fixture
def offline_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip's configuration, for this test, knows only the test's wheelhouse."""
    needs_bundle()
    folder = wheelhouse.build(tmp_path / "wheelhouse")
    for name, value in offline_pip(folder).items():
        monkeypatch.setenv(name, value)
    return folder


def service_at(folder: Path, **settings: Any) -> PackageService:
    return PackageService(DEFAULT_BUNDLE, PackageSettings(folder=folder, **settings))


# -- what the indexes say, parsed -------------------------------------------------------------


def test_json_and_html_project_pages_parse_alike() -> None:
    page = "https://index.example/simple/demo/"
    json_page = json.dumps(
        {
            "files": [
                {
                    "filename": "demo-1.0-py3-none-any.whl",
                    "url": "../../files/demo-1.0-py3-none-any.whl",
                    "hashes": {"sha256": "ab" * 32},
                    "requires-python": ">=3.9",
                    "size": 1234,
                    "core-metadata": {"sha256": "cd" * 32},
                },
                {"filename": "demo-0.9.tar.gz", "url": "/files/demo-0.9.tar.gz", "hashes": {},
                 "yanked": "broken"},
                {"filename": "README", "url": "/files/README", "hashes": {}},
            ]
        }
    ).encode()  # fmt: skip
    html_page = (
        '<a href="../../files/demo-1.0-py3-none-any.whl#sha256=' + "ab" * 32 + '" '
        'data-requires-python="&gt;=3.9" data-core-metadata="sha256=' + "cd" * 32 + '">x</a>'
        '<a href="/files/demo-0.9.tar.gz" data-yanked="broken">demo-0.9.tar.gz</a>'
    )
    for files in (parse_json_page(json_page, page), parse_html_page(html_page, page)):
        wheel, sdist = files
        assert wheel.url == "https://index.example/files/demo-1.0-py3-none-any.whl"
        assert (wheel.sha256, wheel.requires_python) == ("ab" * 32, ">=3.9")
        assert wheel.metadata_url == wheel.url + ".metadata"
        assert (wheel.dist.kind, str(wheel.dist.version), wheel.dist.pure) == ("wheel", "1.0", True)
        assert (sdist.dist.kind, sdist.yanked, sdist.metadata_url) == ("sdist", True, None)


def test_pip_settings_are_read_with_pips_precedence() -> None:
    listing = (
        "global.index-url='https://mirror.example/simple'\n"
        "global.extra-index-url='file:///opt/a/simple file:///opt/b/simple'\n"
        "install.index-url='https://install.example/simple'\n"
        "global.cert='/etc/ssl/ca.pem'\n"
        ":env:.find-links='/opt/wheels'\n"
    )
    settings = PipSettings.parse(listing)
    assert settings.index_urls == (
        "https://install.example/simple",
        "file:///opt/a/simple",
        "file:///opt/b/simple",
    )
    assert settings.find_links == ("/opt/wheels",)
    assert settings.cert == "/etc/ssl/ca.pem"
    assert PipSettings.parse(listing + ":env:.no-index='1'\n").index_urls == ()
    assert PipSettings.parse("").index_urls == ("https://pypi.org/simple/",)


def test_pips_own_configuration_file_is_honoured(tmp_path: Path, monkeypatch) -> None:
    """What an operator writes in pip.conf is where the service looks, read by pip itself."""
    config = tmp_path / "pip.conf"
    config.write_text(
        "[global]\nindex-url = https://mirror.example/simple\n"
        "extra-index-url = https://extra.example/simple\nfind-links = /srv/wheels\n"
    )
    monkeypatch.setenv("PIP_CONFIG_FILE", str(config))
    for name in ("PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL", "PIP_FIND_LINKS", "PIP_NO_INDEX"):
        monkeypatch.delenv(name, raising=False)
    settings = PipSettings.read()
    assert settings.index_urls == (
        "https://mirror.example/simple",
        "https://extra.example/simple",
    )
    assert settings.find_links == ("/srv/wheels",)
    monkeypatch.setenv("PIP_INDEX_URL", "https://from-the-environment.example/simple")
    assert PipSettings.read().index_urls[0] == "https://from-the-environment.example/simple"


def test_the_target_is_read_from_the_bundle() -> None:
    needs_bundle()
    lock = json.loads((DEFAULT_BUNDLE / "pyodide" / "pyodide-lock.json").read_text())["info"]
    target = Target.from_bundle(DEFAULT_BUNDLE)
    assert target.platforms[0] == f"pyemscripten_{lock['abi_version']}_wasm32"
    assert target.python_full == lock["python"]
    assert target.built_in["flask"]
    abi = "cp" + target.python.replace(".", "")
    assert target.wheel_rank(f"x-1-{abi}-{abi}-{target.platforms[0]}.whl") == 0
    assert target.wheel_rank("x-1-py3-none-any.whl") is not None
    assert target.wheel_rank(f"x-1-{abi}-{abi}-manylinux_2_17_x86_64.whl") is None
    assert target.wheel_rank(f"x-1-{abi}-{abi}-pyemscripten_2024_0_wasm32.whl") is None


# -- resolutions, offline ---------------------------------------------------------------------


def test_requirements_resolve_to_what_a_server_tab_can_install(
    offline_index: Path, tmp_path: Path
) -> None:
    service = service_at(tmp_path / "store")
    answer = resolve(service, REQUIREMENTS)

    installed = {package["name"]: package for package in answer["packages"]}
    for shelf in ("starlette", "anyio", "idna"):
        assert installed.pop(shelf)
    installed.pop("typing-extensions", None)  # see signaling.bundle.SHELF_PACKAGES
    assert {name: p["version"] for name, p in installed.items()} == {
        "greeting": "1.0",
        "shout": "1.2",
        "needs-flask": "1.0",
        "quickjson": "1.0",
        "oldstyle": "1.0",
        "broken-dep": "1.0",  # installed without what it needs and cannot have
    }
    assert installed["quickjson"]["filename"] == "quickjson-1.0-py3-none-any.whl"
    # The sdist's dependency (shout) came from its .egg-info; setuptools builds it.
    oldstyle = installed["oldstyle"]
    assert oldstyle["kind"] == "sdist"
    assert oldstyle["build"]["backend"] == "setuptools.build_meta:__legacy__"
    assert oldstyle["build"]["dependenciesKnown"] is True
    assert [tool["name"] for tool in answer["buildTools"]] == ["setuptools"]
    for package in [*answer["packages"], *answer["buildTools"]]:
        assert package["url"] == f"/packages/{package['sha256']}/{package['filename']}"
        assert service.store.file(package["sha256"]) is not None

    assert answer["builtIn"] == ["Flask 3.1.3"] or answer["builtIn"][0].startswith("Flask ")
    problems = {problem["requirement"]: problem["reason"] for problem in answer["problems"]}
    assert "built in and does not match <3" in problems.pop("flask<3")
    assert "compiled code" in problems["fastmath==2.0"]
    assert "manylinux2014_x86_64" in problems.pop("fastmath==2.0")
    assert problems.pop("no-such-thing").startswith("needed by broken-dep 1.0: there is no such")
    assert "no such package" in problems.pop("no-such-package")
    assert "pip options are not supported" in problems.pop("-e .")
    assert "not from a URL" in problems.pop("requests @ https://example.com/requests.whl")
    assert problems == {}  # pywin32 is for Windows only: left out, not a problem

    # Nothing of the compiled package was fetched: its listing sufficed.
    kept = {path.name for path in (tmp_path / "store" / "files").iterdir()}
    fastmath = (offline_index / "fastmath-2.0-cp314-cp314-manylinux2014_x86_64.whl").read_bytes()
    assert __import__("hashlib").sha256(fastmath).hexdigest() not in kept
    # The server tab hears the news as it comes: the first of the resolver's (then one a second).
    assert answer["heard"][:2] == ["Resolving requirements.txt", "Looking up greeting"]


def test_an_answer_is_kept_across_restarts_and_costs_nothing_again(
    offline_index: Path, tmp_path: Path
) -> None:
    first = resolve(service_at(tmp_path / "store"), "greeting\n")
    restarted = service_at(tmp_path / "store", resolutions_per_minute=0.001, resolution_burst=1)
    for _ in range(3):  # no rate is spent on what was resolved before
        assert restarted.cached("greeting\n", {}) == {
            k: v for k, v in first.items() if k != "heard"
        }


def test_an_unreachable_index_is_reported_and_not_remembered(
    offline_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = service_at(tmp_path / "store")
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple/")  # closed
    [problem] = resolve(service, "no-such-package\n")["problems"]
    assert "could not be reached" in problem["reason"]
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    [problem] = resolve(service, "no-such-package\n")["problems"]  # asked again, not remembered
    assert "no such package" in problem["reason"]


def test_a_resolution_that_would_fetch_too_much_says_so(
    offline_index: Path, tmp_path: Path
) -> None:
    service = service_at(tmp_path / "store", max_fetch_bytes=500)
    [problem] = resolve(service, "greeting\n")["problems"]
    assert "more than 0 MB from the package index" in problem["reason"]
    assert service.cached("greeting\n", {}) is None


# -- the store, the rate, the queue -----------------------------------------------------------


def stored(store: PackageStore, numbers: range) -> list[str]:
    """Files of 1000 bytes added to ``store``, file n last used at time n."""
    kept = []
    for number in numbers:
        partial = store.partial()
        partial.write_bytes(bytes([number]) * 1000)
        kept.append(store.add(partial))
        os.utime(store.file(kept[-1]), (number, number))
    return kept


def test_the_store_stays_under_its_bound_least_recently_used_first(tmp_path: Path) -> None:
    store = PackageStore(tmp_path, max_bytes=2500)
    kept = stored(store, range(4))
    assert store.size() <= 2500
    assert store.file(kept[0]) is None and store.file(kept[1]) is None
    assert store.file(kept[3]) is not None
    assert PackageStore(tmp_path, max_bytes=2500).file(kept[3]) is not None  # a restart


def test_a_file_used_again_is_kept_over_a_newer_one(tmp_path: Path) -> None:
    """Least recently *used*, not first in: the oldest file, asked for again, outlives one
    added after it."""
    store = PackageStore(tmp_path, max_bytes=2500)
    kept = stored(store, range(2))
    assert store.file(kept[0]) is not None  # a visitor's tab asks for the first again
    kept += stored(store, range(2, 3))  # a newer one: the store is past its bound
    assert store.file(kept[1]) is None
    assert store.file(kept[0]) is not None


def test_rate_limits_count_each_address_and_ipv6_per_64() -> None:
    limit = RateLimit(per_minute=6, burst=2)
    assert [limit.take("10.0.0.1", 0) for _ in range(3)] == [0, 0, 10]
    assert limit.take("10.0.0.2", 0) == 0  # another address is unaffected
    assert limit.take("10.0.0.1", 10) == 0  # a token every 10 s
    assert client_key("2001:db8::1") == client_key("2001:db8::ffff") == "2001:db8::/64"
    assert client_key("::ffff:10.0.0.1") == "10.0.0.1"


def test_the_queue_serves_waiting_addresses_in_turn() -> None:
    heard: list[int] = []

    async def scenario() -> list[str]:
        queue = FairQueue(slots=1, waiting_per_key=3)
        served: list[str] = []
        gate = asyncio.Event()

        async def job(key: str) -> None:
            async def waiting(ahead: int) -> None:
                if key == "other":
                    heard.append(ahead)  # what its server tab is told while it waits

            async with queue.slot(key, waiting):
                served.append(key)
                await gate.wait()

        first = asyncio.create_task(job("busy"))
        await asyncio.sleep(0)
        tasks = [asyncio.create_task(job("busy")) for _ in range(3)]
        await asyncio.sleep(0)
        tasks.append(asyncio.create_task(job("other")))
        await asyncio.sleep(0)
        with pytest.raises(Busy):
            async with queue.slot("busy"):
                pass
        gate.set()
        await asyncio.gather(first, *tasks)
        return served

    assert run(scenario()) == ["busy", "busy", "other", "busy", "busy"]
    assert heard == [1]  # one waiting turn before its own: the three of "busy" do not count


# -- the endpoints ----------------------------------------------------------------------------


@pytest.fixture
def client(offline_index: Path, tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(package_settings=PackageSettings(folder=tmp_path / "store"))
    with TestClient(app) as client:
        yield client


def ticket_for(client: TestClient, name: str = "demo") -> dict[str, str]:
    """The Authorization header of a server tab that registered ``name``."""
    with client.websocket_connect("/ws/server") as server:
        assert server.receive_json()["type"] == "ice-servers"
        server.send_json({"type": "register", "name": name, "token": "t" * 32})
        registered = server.receive_json()
        server.send_json({"type": "package-ticket"})
        assert server.receive_json()["type"] == "package-ticket"
    return {"Authorization": f"Bearer {registered['packagesTicket']}"}


def answer_lines(response: Any) -> list[dict[str, Any]]:
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return [json.loads(line) for line in response.text.splitlines()]


def test_the_service_answers_server_tabs_and_serves_files_by_hash(
    client: TestClient, offline_index: Path
) -> None:
    asked = {"requirements": "greeting\n"}
    refused = client.post("/api/packages", json=asked)
    assert refused.status_code == 401 and "package ticket" in refused.json()["detail"]
    forged = {"Authorization": "Bearer demo.99999999999.AAAA"}
    assert client.post("/api/packages", json=asked, headers=forged).status_code == 401

    auth = ticket_for(client)
    lines = answer_lines(client.post("/api/packages", json=asked, headers=auth))
    assert any("progress" in line for line in lines[:-1])
    answer = lines[-1]["result"]
    assert [package["name"] for package in answer["packages"]] == ["greeting", "shout"]
    served = client.get(answer["packages"][0]["url"])
    assert served.status_code == 200
    assert served.content == (offline_index / "greeting-1.0-py3-none-any.whl").read_bytes()
    assert "immutable" in served.headers["cache-control"]
    assert answer_lines(client.post("/api/packages", json=asked, headers=auth)) == [
        {"result": answer}
    ]  # once resolved, answered at once

    assert client.post("/api/packages", json={"nope": 1}, headers=auth).status_code == 400
    assert client.post("/api/packages", content=b"not json", headers=auth).status_code == 400
    too_big = {"requirements": "x\n" * 40000}
    assert client.post("/api/packages", json=too_big, headers=auth).status_code == 413
    assert client.get("/packages/" + "0" * 64 + "/x.whl").status_code == 404
    assert client.get("/packages/../manifest.json").status_code == 404


def test_a_burst_from_one_address_is_limited_while_another_is_served(
    offline_index: Path, tmp_path: Path
) -> None:
    settings = PackageSettings(folder=tmp_path / "store", resolution_burst=3)
    app = create_app(package_settings=settings)
    with TestClient(app, client=("198.51.100.7", 5000)) as greedy:
        auth = ticket_for(greedy)
        statuses = []
        for number in range(5):
            asked = {"requirements": f"greeting\nshout>={number}\n"}
            statuses.append(greedy.post("/api/packages", json=asked, headers=auth))
        assert [r.status_code for r in statuses] == [200, 200, 200, 429, 429]
        assert int(statuses[-1].headers["retry-after"]) > 0
        assert "Too many package resolutions" in statuses[-1].json()["error"]
        with TestClient(app, client=("203.0.113.9", 5000)) as other:
            asked = {"requirements": "shout\n"}
            served = answer_lines(other.post("/api/packages", json=asked, headers=auth))
            assert served[-1]["result"]["packages"][0]["name"] == "shout"
        # What was resolved before costs nothing, even to the limited address.
        again = greedy.post("/api/packages", json={"requirements": "greeting\nshout>=0\n"},
                            headers=auth)  # fmt: skip
        assert again.status_code == 200


def test_an_ipv6_client_is_limited_by_its_64(offline_index: Path, tmp_path: Path) -> None:
    """An IPv6 client has a /64 to draw addresses from: its next address is the same client,
    and one in another /64 another."""
    settings = PackageSettings(folder=tmp_path / "store", resolution_burst=1)
    app = create_app(package_settings=settings)

    def resolution(address: str, requirements: str) -> int:
        with TestClient(app, client=(address, 5000)) as client:
            asked = {"requirements": requirements}
            return client.post("/api/packages", json=asked, headers=auth).status_code

    with TestClient(app, client=("2001:db8:1:2::7", 5000)) as first:
        auth = ticket_for(first)
    assert resolution("2001:db8:1:2::7", "greeting\n") == 200
    assert resolution("2001:db8:1:2:ffff::99", "shout\n") == 429
    assert resolution("2001:db8:1:3::7", "shout\n") == 200


# -- the real package index -------------------------------------------------------------------


@pytest.fixture
def real_index() -> None:
    """pip's configuration as this machine has it: the public index (PyPI or its mirror)."""
    needs_bundle()


def test_fastapi_resolves_with_pydantic_core_built_for_the_browser(
    real_index: None, tmp_path: Path
) -> None:
    service = service_at(tmp_path / "store")
    started = time.monotonic()
    answer = resolve(service, "fastapi\n")
    print(f"fastapi resolved in {time.monotonic() - started:.1f} s")
    packages = {package["name"]: package for package in answer["packages"]}
    assert answer["problems"] == []
    core = packages["pydantic-core"]["filename"]
    assert core.endswith(f"-{Target.from_bundle(DEFAULT_BUNDLE).platforms[0]}.whl")
    assert {"fastapi", "pydantic", "starlette", "annotated-types"} <= set(packages)


def test_compiled_packages_are_refused_without_fetching_their_wheels(
    real_index: None, tmp_path: Path
) -> None:
    service = service_at(tmp_path / "store")
    answer = resolve(service, "numpy\npandas\n")
    problems = {problem["requirement"]: problem["reason"] for problem in answer["problems"]}
    for name in ("numpy", "pandas"):
        assert "compiled code" in problems[name]
        assert "--pyodide-packages" in problems[name]  # Pyodide builds both
    written = sum(path.stat().st_size for path in (tmp_path / "store" / "files").iterdir())
    print(f"bytes written to the store for numpy and pandas: {written}")
    assert written == 0


def test_packages_with_an_optional_accelerator_are_built_without_it(
    real_index: None, tmp_path: Path
) -> None:
    """PyYAML publishes compiled wheels for other platforms only, and a source whose own
    switch builds it as pure Python: its source comes, with that switch."""
    service = service_at(tmp_path / "store")
    answer = resolve(service, "pyyaml\nnumpy\n")
    packages = {package["name"]: package for package in answer["packages"]}
    assert packages["pyyaml"]["kind"] == "sdist"
    assert packages["pyyaml"]["build"]["environment"] == {"PYYAML_FORCE_LIBYAML": "0"}
    assert packages["pyyaml"]["build"]["without"] == "libyaml"
    assert {"cython", "setuptools"} <= {tool["name"] for tool in answer["buildTools"]}
    # numpy has no such switch: still compiled code, and not fetched.
    problems = {problem["requirement"]: problem["reason"] for problem in answer["problems"]}
    assert "compiled code" in problems["numpy"]


def test_an_old_pin_gets_the_nearest_release_for_this_python(
    real_index: None, tmp_path: Path
) -> None:
    service = service_at(tmp_path / "store")
    newer = run(service.upgrade("SQLAlchemy", "2.0.23"))
    assert newer["declares"] is True
    version = tuple(int(part) for part in newer["version"].split(".")[:3])
    assert (2, 0, 23) < version < (2, 1)
