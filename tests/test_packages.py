"""requirements.txt resolved by the service with pip, against a local wheelhouse (no network)."""

from __future__ import annotations

import asyncio
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from signaling.app import create_app
from signaling.bundle import DEFAULT_BUNDLE
from signaling.packages import PackageResolver, Resolution
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
broken-dep          # a dependency that does not exist
no-such-package
-e .
requests @ https://example.com/requests.whl
pywin32; sys_platform == "win32"
starlette           # from the runtime bundle's shelf
"""


def resolve(resolver: PackageResolver, text: str) -> Resolution:
    # In a thread of its own: the main thread may already have an event loop (Playwright's).
    with ThreadPoolExecutor(1) as thread:
        return thread.submit(asyncio.run, resolver.resolve(text)).result(timeout=300)


@pytest.fixture
def offline_index(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """pip, for this test, knows only the test's wheelhouse (and the bundle's own wheels)."""
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    folder = wheelhouse.build(tmp_path / "wheelhouse")
    for name, value in offline_pip(folder).items():
        monkeypatch.setenv(name, value)
    return folder


def test_requirements_resolve_to_pure_python_wheels_and_problems_by_name(
    offline_index: Path, tmp_path: Path
) -> None:
    resolver = PackageResolver(DEFAULT_BUNDLE, tmp_path / "served")
    result = resolve(resolver, REQUIREMENTS)

    installed = {wheel["name"]: wheel["version"] for wheel in result.wheels}
    for shelf in ("starlette", "anyio", "idna"):
        assert installed.pop(shelf)
    installed.pop("typing-extensions", None)  # see signaling.bundle.SHELF_PACKAGES
    assert installed == {
        "greeting": "1.0",
        "shout": "1.2",
        "needs-flask": "1.0",
        "quickjson": "1.0",
    }
    for wheel in result.wheels:
        assert zipfile.is_zipfile(tmp_path / "served" / wheel["file"])
    [quickjson] = [wheel["file"] for wheel in result.wheels if wheel["name"] == "quickjson"]
    assert quickjson == "quickjson-1.0-py3-none-any.whl"

    assert [entry.split()[0] for entry in result.built_in] == ["Flask"]
    problems = {problem["requirement"]: problem["reason"] for problem in result.problems}
    assert "built in and does not match <3" in problems.pop("flask<3")
    assert "compiled code (fastmath/_core.cpython-314-x86_64-linux-gnu.so)" in problems.pop(
        "fastmath 2.0"
    )
    assert "needs no-such-thing" in problems.pop("broken-dep")
    assert "no wheel for Python 3.14 was found" in problems.pop("no-such-package")
    assert "pip options are not supported" in problems.pop("-e .")
    assert "not from a URL" in problems.pop("requests @ https://example.com/requests.whl")
    assert problems == {}  # pywin32 is for Windows only: left out, not a problem


def test_an_unreachable_index_is_reported_and_not_remembered(
    offline_index: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = PackageResolver(DEFAULT_BUNDLE, tmp_path / "served")
    monkeypatch.delenv("PIP_NO_INDEX")
    monkeypatch.setenv("PIP_INDEX_URL", f"http://127.0.0.1:{free_port()}/simple/")  # closed
    monkeypatch.setenv("PIP_RETRIES", "1")
    [problem] = resolve(resolver, "no-such-package\n").problems
    assert "could not be reached" in problem["reason"]
    monkeypatch.setenv("PIP_NO_INDEX", "1")
    [problem] = resolve(resolver, "no-such-package\n").problems  # asked again, not remembered
    assert "no wheel for Python 3.14 was found" in problem["reason"]


def test_the_service_answers_and_serves_the_wheels(offline_index: Path) -> None:
    with TestClient(create_app()) as client:
        answer = client.post("/api/packages", json={"requirements": "greeting\n"}).json()
        assert [wheel["name"] for wheel in answer["wheels"]] == ["greeting", "shout"]
        assert answer["problems"] == []
        served = client.get(answer["wheels"][0]["url"])
        assert served.status_code == 200
        assert served.content == (offline_index / "greeting-1.0-py3-none-any.whl").read_bytes()

        assert client.post("/api/packages", json={"nope": 1}).status_code == 400
        assert client.post("/api/packages", content=b"not json").status_code == 400
        too_big = {"requirements": "x\n" * 40000}
        assert client.post("/api/packages", json=too_big).status_code == 413
        assert client.get("/packages/../manifest.json").status_code == 404
