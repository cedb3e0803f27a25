"""A stand-in for Pyodide's CDN on loopback, and a runtime bundle whose pyodide-lock.json names a
package of the tests' own: what the tests of Pyodide's packages by default use
(tests/signaling/test_pyodide_packages.py, tests/e2e/test_packages.py)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import json
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from signaling.locations import DEFAULT_BUNDLE
from signaling.packages.target import Target
from tests import wheelhouse

VERSION = "1.0"


class CDN:
    """Files over HTTP from a folder, laid out and served as Pyodide's CDN serves its release
    (to any origin: the server tab's worker has an opaque one); it notes what was asked of it."""

    def __init__(self, folder: Path) -> None:
        self.asked: list[str] = []
        cdn = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def end_headers(self) -> None:
                self.send_header("Access-Control-Allow-Origin", "*")
                super().end_headers()

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


@contextmanager
def cdn_at(folder: Path) -> Iterator[CDN]:
    server = CDN(folder)
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
    """A copy of the runtime bundle whose pyodide-lock.json also names ``wheel`` (and its
    SHA-256), as it names Pyodide's own packages."""
    shutil.copytree(DEFAULT_BUNDLE, folder)
    lock_path = folder / "pyodide" / "pyodide-lock.json"
    lock = json.loads(lock_path.read_text())
    lock["packages"]["sciencey"] = {
        "name": "sciencey",
        "version": VERSION,
        "file_name": wheel.name,
        "install_dir": "site",
        "sha256": hashlib.sha256(wheel.read_bytes()).hexdigest(),
        "package_type": "package",
        "imports": ["sciencey"],
        "depends": [],
    }
    lock_path.write_text(json.dumps(lock))
    return folder
