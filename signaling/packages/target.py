"""The Python a server tab runs, as a package resolver must see it.

Everything comes from the runtime bundle, never from constants here: the Python version and the
packages every server tab has built in from ``manifest.json``, the WebAssembly platform from
Pyodide's own ``pyodide-lock.json``. A Pyodide release names its ABI (``abi_version``
``2026_0``); wheels built for it carry the PEP 783 platform tag ``pyemscripten_2026_0_wasm32``
(earlier Pyodide builds said ``pyodide_2026_0_wasm32``, and before that the Emscripten version).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.tags import Tag, compatible_tags, cpython_tags
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    NormalizedName,
    parse_sdist_filename,
    parse_wheel_filename,
)
from packaging.version import InvalidVersion, Version

SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True, eq=False)
class Target:
    """A server tab's Python: what it runs, and which wheels it can install."""

    python: str  # "3.14"
    python_full: str  # "3.14.2"
    abi_version: str  # "2026_0", Pyodide's
    platforms: tuple[str, ...]  # the platform tags a wheel for it may carry, best first
    built_in: dict[NormalizedName, str] = field(default_factory=dict)  # installed everywhere
    pyodide: str = ""  # the Pyodide release, e.g. "314.0.7"

    @classmethod
    def from_bundle(cls, bundle: Path) -> Target:
        manifest = json.loads((bundle / "manifest.json").read_text())
        info = json.loads((bundle / "pyodide" / "pyodide-lock.json").read_text())["info"]
        abi = info["abi_version"]
        arch = info.get("arch", "wasm32")
        emscripten = info["platform"].removeprefix("emscripten_")
        built_in = {}
        for wheel in manifest["wheels"] + manifest["zipped"]:
            name, version, _, _ = parse_wheel_filename(wheel)
            built_in[name] = str(version)
        return cls(
            python=manifest["python"],
            python_full=info["python"],
            abi_version=abi,
            platforms=(
                f"pyemscripten_{abi}_{arch}",
                f"pyodide_{abi}_{arch}",
                f"emscripten_{emscripten}_{arch}",
            ),
            built_in=built_in,
            pyodide=manifest["pyodide"],
        )

    @property
    def key(self) -> str:
        """Tells apart what was resolved for another runtime (a cache's key)."""
        built_in = ",".join(f"{name}={version}" for name, version in sorted(self.built_in.items()))
        return f"{self.pyodide}|{self.python_full}|{self.abi_version}|{built_in}"

    @property
    def markers(self) -> dict[str, str]:
        """PEP 508 environment markers, as this Python would evaluate them."""
        return {
            "python_version": self.python,
            "python_full_version": self.python_full,
            "sys_platform": "emscripten",
            "platform_system": "Emscripten",
            "platform_machine": self.platforms[0].rsplit("_", 1)[-1],
            "platform_release": "",
            "platform_version": "",
            "os_name": "posix",
            "implementation_name": "cpython",
            "implementation_version": self.python_full,
            "platform_python_implementation": "CPython",
        }

    @property
    def tags(self) -> list[Tag]:
        """Every wheel tag this Python installs, the most specific first."""
        major, minor = (int(part) for part in self.python.split("."))
        abi = f"cp{major}{minor}"
        return [
            *cpython_tags((major, minor), [abi], self.platforms),
            *compatible_tags((major, minor), abi, self.platforms),
        ]

    def wheel_rank(self, filename: str) -> int | None:
        """How well a wheel fits (0 best), or None when it cannot be installed here."""
        ranks = self._ranks
        try:
            _, _, _, tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            return None
        fits = [ranks[tag] for tag in tags if tag in ranks]
        return min(fits) if fits else None

    @cached_property
    def _ranks(self) -> dict[Tag, int]:
        return {tag: rank for rank, tag in enumerate(self.tags)}

    def requires_python_ok(self, specifier: str | None) -> bool:
        if not specifier:
            return True
        try:
            return SpecifierSet(specifier).contains(self.python_full, prereleases=True)
        except InvalidSpecifier:
            return True  # pip ignores what it cannot read, too


@dataclass(frozen=True)
class Distribution:
    """What a file name says it is: a wheel (with its tags) or a source distribution."""

    name: NormalizedName
    version: Version
    kind: str  # "wheel" or "sdist"
    tags: frozenset[Tag] = frozenset()

    @property
    def pure(self) -> bool:
        """A wheel that runs on any platform (its code is Python only)."""
        return self.kind == "wheel" and all(tag.platform == "any" for tag in self.tags)


def distribution(filename: str) -> Distribution | None:
    """Parse a distribution's file name; None for what is neither a wheel nor an sdist."""
    try:
        if filename.endswith(".whl"):
            name, version, _, tags = parse_wheel_filename(filename)
            return Distribution(name, version, "wheel", frozenset(tags))
        if filename.endswith(SDIST_SUFFIXES):
            name, version = parse_sdist_filename(filename)
            return Distribution(name, version, "sdist")
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def platform_names(tags: frozenset[Tag]) -> set[str]:
    """The platforms of a wheel's tags, as people know them (manylinux_2_17_x86_64, ...)."""
    return {tag.platform for tag in tags if tag.platform != "any"}
