"""What the package service keeps between requests and across restarts, within a size bound.

One folder (by default in the user's cache folder), three kinds of entries:

* ``files/<sha256>``: distributions, named by their content's hash, so that any instance of
  the service can tell a file by the name in its URL and never serves bytes other than those
  a resolution chose; the least recently used go first when the folder outgrows its bound;
* ``metadata/<sha256>``: a wheel's METADATA, read once (it never changes for that hash);
* ``resolutions/<key>.json``: what a requirements.txt resolved to, for a while.

Writes go to a temporary name in the same folder and are renamed into place, so that a
killed process leaves no half file under a real name, and two processes may share the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import tempfile
import threading
import time
from collections.abc import Collection
from pathlib import Path
from typing import Any

SHA256 = re.compile(r"[0-9a-f]{64}")
_RESOLUTION_SECONDS = 24 * 3600  # an index gains releases: a resolution is redone after this
_MAX_SMALL_ENTRIES = 20_000  # metadata and resolutions, each


class HashMismatch(Exception):
    """A file's bytes are not those its index announced."""


def default_folder() -> Path:
    """``$XDG_CACHE_HOME/peerserver/packages`` (``~/.cache/peerserver/packages``)."""
    cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(cache) / "peerserver" / "packages"


class PackageStore:
    def __init__(self, root: Path, max_bytes: int) -> None:
        self.root = root
        self.max_bytes = max_bytes
        self._files = root / "files"
        self._metadata = root / "metadata"
        self._resolutions = root / "resolutions"
        for folder in (self._files, self._metadata, self._resolutions):
            folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        for stale in root.glob("*/.partial-*"):  # left by a process that was killed
            stale.unlink(missing_ok=True)

    # -- distributions ---------------------------------------------------------------------

    def file(self, sha256: str) -> Path | None:
        """The stored file with this hash, marked as just used; None if it is not here."""
        if not SHA256.fullmatch(sha256):
            return None
        path = self._files / sha256
        try:
            os.utime(path)
        except FileNotFoundError:
            return None
        return path

    def partial(self) -> Path:
        """A new temporary file in the store, for :meth:`add` to take."""
        handle, name = tempfile.mkstemp(prefix=".partial-", dir=self._files)
        os.close(handle)
        return Path(name)

    def add(self, partial: Path, expected_sha256: str | None = None) -> str:
        """Take a file written to :meth:`partial`; returns its hash. The least recently used
        files are removed until the store is within its bound again (never this one)."""
        digest = hashlib.sha256()
        with partial.open("rb") as source:
            while chunk := source.read(1024 * 1024):
                digest.update(chunk)
        sha256 = digest.hexdigest()
        if expected_sha256 and sha256 != expected_sha256.lower():
            partial.unlink(missing_ok=True)
            raise HashMismatch(f"expected sha256 {expected_sha256}, got {sha256}")
        os.replace(partial, self._files / sha256)
        self.evict(keep={sha256})
        return sha256

    def size(self) -> int:
        return sum(entry.stat().st_size for entry in self._entries())

    def evict(self, keep: Collection[str] = ()) -> None:
        with self._lock:
            entries = []
            for entry in self._entries():
                with contextlib.suppress(FileNotFoundError):
                    stat = entry.stat()
                    entries.append((stat.st_mtime, stat.st_size, entry))
            total = sum(size for _, size, _ in entries)
            for _, size, entry in sorted(entries):
                if total <= self.max_bytes:
                    break
                if entry.name in keep:
                    continue
                entry.unlink(missing_ok=True)
                total -= size

    def _entries(self) -> list[Path]:
        return [entry for entry in self._files.iterdir() if SHA256.fullmatch(entry.name)]

    # -- small entries ---------------------------------------------------------------------

    def metadata(self, sha256: str) -> str | None:
        path = self._metadata / sha256
        return path.read_text() if SHA256.fullmatch(sha256) and path.is_file() else None

    def put_metadata(self, sha256: str, text: str) -> None:
        self._write(self._metadata / sha256, text)

    def resolution(self, key: str) -> dict[str, Any] | None:
        path = self._resolutions / f"{key}.json"
        try:
            if time.time() - path.stat().st_mtime < _RESOLUTION_SECONDS:
                return json.loads(path.read_text())
        except (FileNotFoundError, ValueError):
            pass
        return None

    def put_resolution(self, key: str, value: dict[str, Any]) -> None:
        self._write(self._resolutions / f"{key}.json", json.dumps(value))

    def _write(self, path: Path, text: str) -> None:
        handle, name = tempfile.mkstemp(prefix=".partial-", dir=path.parent)
        with os.fdopen(handle, "w") as out:
            out.write(text)
        os.replace(name, path)
        folder = list(path.parent.iterdir())
        if len(folder) > _MAX_SMALL_ENTRIES:
            oldest = sorted(folder, key=lambda entry: entry.stat().st_mtime)
            for entry in oldest[: len(folder) - _MAX_SMALL_ENTRIES]:
                entry.unlink(missing_ok=True)
