"""Pyodide's own built packages: numpy, pandas, matplotlib, lxml, cryptography and 350 more,
compiled to WebAssembly for exactly the runtime's ABI by the Pyodide project.

Their files are not in the npm package the bundle comes from. By default the server tab's
Pyodide loads them from Pyodide's public CDN, the folder of the bundled release
(:data:`PYODIDE_CDN`), as JupyterLite and Shinylive do: it checks each file against the bundle's
own ``pyodide-lock.json``, which names every file and its SHA-256, so that the CDN (or a mirror
of it, which the operator may name instead) is trusted with nothing. An operator may also keep
Pyodide's release (``pyodide-<version>.tar.bz2`` on GitHub) or a build of their own
(``peerserver serve --pyodide-packages FOLDER_OR_URL``): a place in the release's layout, its
``pyodide-lock.json`` beside the files it names. That lock must be for the runtime's ABI and
Python; its file names may be relative to it or absolute URLs.

The bundle's own lock also tells which packages Pyodide builds when none are offered, so that
an owner can be told what to ask for.
"""

from __future__ import annotations

import json
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from signaling.packages.index import Budget, Fetcher
from signaling.packages.target import Target

# Pyodide's own CDN folder for a release (jsDelivr, as Pyodide's documentation gives it).
PYODIDE_CDN = "https://cdn.jsdelivr.net/pyodide/v{version}/full/"


@dataclass(frozen=True)
class LockEntry:
    """One package of a Pyodide lock file."""

    name: NormalizedName
    version: Version
    file_name: str
    url: str  # where the file is: the lock's file_name, resolved against the lock's place
    sha256: str
    depends: tuple[NormalizedName, ...]
    install_dir: str  # "site" for wheels; "dynlib" for shared libraries (libopenblas, ...)


def read_lock(data: bytes, base_url: str) -> tuple[dict[str, str], dict[NormalizedName, LockEntry]]:
    """(its ``info``, its packages by canonical name) from a ``pyodide-lock.json``."""
    lock = json.loads(data)
    entries = {}
    for package in lock["packages"].values():
        if package.get("package_type") not in ("package", "shared_library"):
            continue  # cpython_module (unvendored stdlib) and test bundles
        if package["name"].endswith("-tests") or package["file_name"].endswith("-tests.zip"):
            continue
        try:
            version = Version(package["version"])
        except InvalidVersion:
            continue
        name = canonicalize_name(package["name"])
        entries[name] = LockEntry(
            name=name,
            version=version,
            file_name=package["file_name"],
            url=urllib.parse.urljoin(base_url, package["file_name"]),
            sha256=package["sha256"],
            depends=tuple(canonicalize_name(depend) for depend in package.get("depends", [])),
            install_dir=package.get("install_dir", "site"),
        )
    return lock["info"], entries


class PyodideDistribution:
    """Where Pyodide's built packages come from, and what each file must be (``entries``).

    From the CDN (or a mirror of it), ``loaded_by_the_tab``: the server tab's Pyodide loads them
    by name from there (its ``packageBaseUrl``), checking each against the same lock, which it
    has from the bundle; the service only resolves. From an operator's copy of a release (a
    folder maybe only this machine has), the service fetches them and serves them by hash."""

    def __init__(
        self, location: str, entries: dict[NormalizedName, LockEntry], loaded_by_the_tab: bool
    ) -> None:
        self.location = location
        self.entries = entries
        self.loaded_by_the_tab = loaded_by_the_tab

    @classmethod
    def mirror(cls, location: str, bundle: Path) -> PyodideDistribution:
        """The files of the bundled release at ``location``, Pyodide's CDN folder or a mirror
        of it, as the bundle's own lock names them (nothing is fetched until a site asks)."""
        location = location.rstrip("/") + "/"
        _, entries = read_lock((bundle / "pyodide" / "pyodide-lock.json").read_bytes(), location)
        return cls(location, entries, loaded_by_the_tab=True)

    @classmethod
    def release(cls, location: str, target: Target, fetcher: Fetcher) -> PyodideDistribution:
        """The operator's copy of a release at ``location`` (a folder or URL), as its own lock
        names them; refused unless that lock is for this runtime."""
        if "://" not in location:
            location = Path(location).resolve().as_uri()
        location = location.rstrip("/") + "/"
        lock_url = location + "pyodide-lock.json"
        status, _, data = fetcher.get(lock_url, Budget(64 * 1024 * 1024))
        if status != 200:
            raise ValueError(f"{lock_url}: no pyodide-lock.json there ({status})")
        info, entries = read_lock(data, lock_url)
        if info.get("abi_version") != target.abi_version or info.get("python") != (
            target.python_full
        ):
            raise ValueError(
                f"{lock_url} is for Pyodide ABI {info.get('abi_version')} and Python "
                f"{info.get('python')}; this runtime is ABI {target.abi_version}, Python "
                f"{target.python_full} (Pyodide {target.pyodide}): use that release's files"
            )
        return cls(location, entries, loaded_by_the_tab=False)


def pyodide_builds(bundle: Path) -> dict[NormalizedName, Version]:
    """What Pyodide builds for the bundle's runtime (from the bundle's own lock), by name."""
    lock = bundle / "pyodide" / "pyodide-lock.json"
    _, entries = read_lock(lock.read_bytes(), lock.resolve().as_uri())
    return {name: entry.version for name, entry in entries.items() if entry.install_dir == "site"}
