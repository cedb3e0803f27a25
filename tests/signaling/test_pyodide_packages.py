"""Pyodide's own packages from its CDN (signaling/packages/pyodide_dist.py): a CDN-like server
on loopback stands in for Pyodide's (tests/pyodide_cdn.py), a copy of the runtime bundle names a
package in its pyodide-lock.json, and the service resolves a site's requirement to it without
fetching it; and what `peerserver serve` says at start about where they come from."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from signaling.locations import DEFAULT_BUNDLE
from signaling.packages.pyodide_dist import PYODIDE_CDN
from signaling.packages.service import PackageService, PackageSettings
from tests.harness import free_port
from tests.pyodide_cdn import CDN, bundle_naming, cdn_at, pyodide_wheel
from tests.signaling.test_packages import needs_bundle, offline_index, resolve  # noqa: F401


@pytest.fixture
def cdn(tmp_path: Path) -> Iterator[CDN]:
    with cdn_at(tmp_path / "cdn") as server:
        yield server


def test_a_package_pyodide_builds_is_loaded_by_the_tab_from_its_cdn(
    offline_index: Path,  # noqa: F811
    cdn: CDN,
    tmp_path: Path,
) -> None:
    """The service resolves it to Pyodide's package, by name, and fetches nothing: the tab's
    Pyodide loads it from the CDN and checks it against the lock (tests/e2e/test_packages.py)."""
    wheel = pyodide_wheel(tmp_path / "built")
    bundle = bundle_naming(tmp_path / "bundle", wheel)
    shutil.copy(wheel, cdn.files / wheel.name)
    settings = PackageSettings(folder=tmp_path / "store", pyodide_mirror=cdn.url)
    answer = resolve(PackageService(bundle, settings), "sciencey\n")
    assert answer["problems"] == []
    [package] = [p for p in answer["packages"] if p["name"] == "sciencey"]
    assert package["kind"] == "pyodide"
    assert package["url"] == cdn.url + wheel.name
    assert package["sha256"] == hashlib.sha256(wheel.read_bytes()).hexdigest()
    assert cdn.asked == []


def serve_says(tmp_path: Path, *options: str) -> str:
    """What `peerserver serve` says at start, up to the line with its address (or its error)."""
    port = free_port()
    command = [sys.executable, "-m", "signaling", "serve", "--host", "127.0.0.1", "--port",
               str(port), "--packages-dir", str(tmp_path / "packages"),
               "--operator-key-file", str(tmp_path / "operator-key"), *options]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    stop = threading.Timer(60, process.kill)  # a service that never says it serves
    stop.start()
    try:
        assert process.stdout is not None
        said = []
        for line in process.stdout:
            said.append(line)
            if "serving at" in line:
                break
        return "".join(said)
    finally:
        stop.cancel()
        process.kill()
        process.wait(timeout=30)


def test_serve_says_where_pyodides_packages_come_from(tmp_path: Path) -> None:
    needs_bundle()
    version = json.loads((DEFAULT_BUNDLE / "manifest.json").read_text())["pyodide"]
    said = serve_says(tmp_path)
    assert (
        f"Pyodide's packages (numpy, pandas, ...): from Pyodide's public CDN, "
        f"{PYODIDE_CDN.format(version=version)}, each file checked against the runtime's "
        "pyodide-lock.json" in said
    ), said
    said = serve_says(tmp_path, "--pyodide-cdn", "http://127.0.0.1:9/mirror/")
    assert "from a mirror of Pyodide's CDN, http://127.0.0.1:9/mirror/" in said, said
    said = serve_says(tmp_path, "--pyodide-packages", "none")
    assert "Pyodide's packages (numpy, pandas, ...): none offered" in said, said
    said = serve_says(tmp_path, "--pyodide-packages", "none", "--pyodide-cdn", "http://x/")
    assert "--pyodide-cdn goes with --pyodide-packages cdn" in said, said
