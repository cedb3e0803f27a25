"""Pyodide's own packages from its CDN (signaling/packages/pyodide_dist.py): a CDN-like server
on loopback stands in for Pyodide's, a copy of the runtime bundle names a package in its
pyodide-lock.json, and the service fetches that file only when a site asks for it, checked
against the bundle's lock; and what `peerserver serve` says at start about where they come
from."""

from __future__ import annotations

import functools
import hashlib
import http.server
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
from signaling.packages.target import Target
from tests import wheelhouse
from tests.harness import free_port
from tests.signaling.test_packages import needs_bundle, offline_index, resolve  # noqa: F401

VERSION = "1.0"


class CDN:
    """Files over HTTP from a folder, as Pyodide's CDN serves its release; it notes what was
    asked of it."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.asked: list[str] = []
        cdn = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                cdn.asked.append(self.path)

        handler = functools.partial(Handler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_port}/pyodide/v{VERSION}/full/"
        self.files = folder / "pyodide" / f"v{VERSION}" / "full"
        self.files.mkdir(parents=True)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


@pytest.fixture
def cdn(tmp_path: Path) -> Iterator[CDN]:
    server = CDN(tmp_path / "cdn")
    try:
        yield server
    finally:
        server.close()


def pyodide_wheel(folder: Path) -> Path:
    """A package built for the runtime's WebAssembly platform, as Pyodide builds its own."""
    folder.mkdir()
    target = Target.from_bundle(DEFAULT_BUNDLE)
    abi = "cp" + target.python.replace(".", "")
    tag = f"{abi}-{abi}-{target.platforms[0]}"
    files = {"sciencey.py": "def mean(xs):\n    return sum(xs) / len(xs)\n"}
    return wheelhouse.write_wheel(folder, "sciencey", VERSION, [], files, tag)


def bundle_naming(folder: Path, wheel: Path) -> Path:
    """A copy of the runtime bundle whose pyodide-lock.json names ``wheel`` (and its SHA-256)."""
    folder.mkdir()
    shutil.copy(DEFAULT_BUNDLE / "manifest.json", folder / "manifest.json")
    for part in ("wheels", "shelf"):
        shutil.copytree(DEFAULT_BUNDLE / part, folder / part)
    lock = json.loads((DEFAULT_BUNDLE / "pyodide" / "pyodide-lock.json").read_text())
    lock["packages"] = {
        "sciencey": {
            "name": "sciencey",
            "version": VERSION,
            "file_name": wheel.name,
            "install_dir": "site",
            "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
            "package_type": "package",
            "imports": ["sciencey"],
            "depends": [],
        }
    }
    (folder / "pyodide").mkdir()
    (folder / "pyodide" / "pyodide-lock.json").write_text(json.dumps(lock))
    return folder


def test_a_package_pyodide_builds_comes_from_its_cdn_checked_against_the_lock(
    offline_index: Path,  # noqa: F811
    cdn: CDN,
    tmp_path: Path,
) -> None:
    wheel = pyodide_wheel(tmp_path / "built")
    bundle = bundle_naming(tmp_path / "bundle", wheel)
    shutil.copy(wheel, cdn.files / wheel.name)
    settings = PackageSettings(folder=tmp_path / "store", pyodide_mirror=cdn.url)
    service = PackageService(bundle, settings)
    assert cdn.asked == []  # nothing is fetched until a site asks

    answer = resolve(service, "sciencey\n")
    assert answer["problems"] == []
    [package] = [p for p in answer["packages"] if p["name"] == "sciencey"]
    assert package["filename"] == wheel.name
    kept = service.store.file(package["sha256"])
    assert kept is not None and kept.read_bytes() == wheel.read_bytes()
    assert cdn.asked == [f"/pyodide/v{VERSION}/full/{wheel.name}"]

    # A CDN that serves another file under that name is not believed.
    (cdn.files / wheel.name).write_bytes(wheel.read_bytes() + b"tampered")
    settings = PackageSettings(folder=tmp_path / "another-store", pyodide_mirror=cdn.url)
    answer = resolve(PackageService(bundle, settings), "sciencey\n")
    reasons = " ".join(problem["reason"] for problem in answer["problems"])
    assert "is not the file its index announced" in reasons, answer


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
