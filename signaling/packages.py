"""A site's ``requirements.txt``, resolved to wheels a server tab can install. pip does the work.

A browser tab cannot reach a package index itself (there are no sockets in the browser, and a
server tab loads nothing from elsewhere at run time), so the service resolves and downloads
for it with pip, under pip's own configuration (``pip.conf``, ``PIP_INDEX_URL``,
``PIP_FIND_LINKS``, ...), and serves the wheels. The runtime bundle's own wheels are offered
too, so the packages it carries resolve offline.

What runs in the browser is pure Python: where pip picks a wheel with compiled code, the same
version's pure-Python wheel is taken if the project publishes one (SQLAlchemy does: its C
extensions are optional); otherwise the package is not installed. Every requirement that cannot
be met is reported by name, with the reason, while the others install.
"""

from __future__ import annotations

import asyncio
import json
import re
import shutil
import sys
import tempfile
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name, parse_wheel_filename

# Wheels for these platforms are taken, so that a package with compiled code is found and its
# wheel named in the report, instead of looking as though it did not exist. (pip does not widen
# a manylinux tag to the others, so each glibc level a wheel may name is listed.)
_CANDIDATE_PLATFORMS = (
    "any",
    *(f"manylinux_2_{glibc}_x86_64" for glibc in (17, 24, 27, 28, 31, 34, 35, 39)),
    "manylinux2014_x86_64",
)
_PIP_TIMEOUT_S = 300
MAX_REQUIREMENTS_BYTES = 64 * 1024
# pip names the requirement it could not meet, markers and all: the name is what we need.
_NOT_FOUND = re.compile(r"No matching distribution found for ([A-Za-z0-9._-]+)")
# pip warns of these, then goes on as though the index had nothing: not an answer to keep.
_UNREACHABLE = re.compile(
    r"NewConnectionError|ConnectTimeoutError|ProxyError|SSLError|Could not fetch URL"
)
_CACHED_RESOLUTIONS = 256


@dataclass
class Resolution:
    """What the server tab installs, and what it cannot, each with its reason."""

    wheels: list[dict[str, str]] = field(default_factory=list)  # name, version, file
    problems: list[dict[str, str]] = field(default_factory=list)  # requirement, reason
    built_in: list[str] = field(default_factory=list)  # requirements the runtime already meets
    # False when pip failed for a reason that may pass (the index unreachable, say): not cached.
    settled: bool = True

    def refuse(self, requirement: str, reason: str) -> None:
        self.problems.append({"requirement": requirement, "reason": reason})


class PackageResolver:
    """Resolves requirements for the runtime in ``bundle``; wheels end up in ``wheels_dir``."""

    def __init__(self, bundle: Path, wheels_dir: Path) -> None:
        manifest = json.loads((bundle / "manifest.json").read_text())
        self.python = manifest["python"]  # e.g. "3.14"
        self.runtime = {}  # canonical name -> version, installed in every server tab
        for wheel in manifest["wheels"] + manifest["zipped"]:
            name, version, _, _ = parse_wheel_filename(wheel)
            self.runtime[canonicalize_name(name)] = str(version)
        self.find_links = [bundle / "wheels", bundle / "shelf"]
        self.wheels_dir = wheels_dir
        self.markers = {
            "python_version": self.python,
            "python_full_version": f"{self.python}.0",
            "sys_platform": "emscripten",
            "platform_system": "Emscripten",
            "platform_machine": "wasm32",
            "os_name": "posix",
            "implementation_name": "cpython",
            "platform_python_implementation": "CPython",
        }
        self._lock = asyncio.Lock()  # one pip at a time: it is heavy, and shares its cache
        self._cache: dict[str, Resolution] = {}

    async def resolve(self, text: str) -> Resolution:
        """Resolve a requirements.txt; the same text again costs nothing, once settled."""
        async with self._lock:
            if text in self._cache:
                return self._cache[text]
            result = await self._resolve(text)
            if result.settled:
                if len(self._cache) >= _CACHED_RESOLUTIONS:
                    del self._cache[next(iter(self._cache))]  # the oldest
                self._cache[text] = result
            return result

    async def _resolve(self, text: str) -> Resolution:
        result = Resolution()
        pending = []
        for line, requirement in self._parse(text, result):
            name = canonicalize_name(requirement.name)
            if name in self.runtime:
                version = self.runtime[name]
                if requirement.specifier.contains(version, prereleases=True):
                    result.built_in.append(f"{requirement.name} {version}")
                else:
                    result.refuse(
                        line,
                        f"the server tab runs {requirement.name} {version}, which is built in "
                        f"and does not match {requirement.specifier}",
                    )
            else:
                pending.append((line, requirement))
        while pending:
            ok, files, error = await self._download([req for _, req in pending])
            if ok:
                await self._take(files, result)
                break
            missing = _NOT_FOUND.search(error)
            if missing is None or _UNREACHABLE.search(error):
                # A conflict, or the index could not be reached: pip's own words say it best.
                unreachable = _UNREACHABLE.search(error) is not None
                reason = _pip_error(error)
                if unreachable:
                    reason = f"the package index could not be reached, try again later ({reason})"
                for line, _ in pending:
                    result.refuse(line, reason)
                result.settled = not unreachable
                break
            missing_name = canonicalize_name(missing.group(1))
            not_found = (
                f"no wheel for Python {self.python} was found on the package index "
                "(is the name right? a package published only as source code cannot be used)"
            )
            blamed = [item for item in pending if canonicalize_name(item[1].name) == missing_name]
            if blamed:
                reason = not_found
            else:  # a dependency: find which of the requirements need it
                reason = f"it needs {missing.group(1)}, and for that {not_found}"
                blamed = [item for item in pending if not (await self._download([item[1]]))[0]]
                if not blamed:
                    for line, _ in pending:
                        result.refuse(line, _pip_error(error))
                    result.settled = False
                    break
            for line, _ in blamed:
                result.refuse(line, reason)
            pending = [item for item in pending if item not in blamed]
        return result

    def _parse(self, text: str, result: Resolution) -> list[tuple[str, Requirement]]:
        requirements = []
        for raw in text.splitlines():
            line = re.sub(r"(^|\s)#.*$", "", raw).strip()
            if not line:
                continue
            if line.startswith("-"):
                result.refuse(
                    line,
                    "pip options are not supported here: list packages by name, with a version "
                    "if you like (flask-login>=0.6)",
                )
                continue
            try:
                requirement = Requirement(line)
            except InvalidRequirement as error:
                result.refuse(line, f"not a requirement: {error}")
                continue
            if requirement.url:
                result.refuse(
                    line,
                    "only packages from the package index can be installed, not from a URL "
                    "or a path",
                )
                continue
            if requirement.marker and not requirement.marker.evaluate(self.markers):
                continue  # meant for another platform or Python version
            requirement.marker = None
            requirements.append((line, requirement))
        return requirements

    async def _download(
        self,
        requirements: list[Requirement],
        platforms: tuple[str, ...] = _CANDIDATE_PLATFORMS,
        *options: str,
    ) -> tuple[bool, list[Path], str]:
        """``pip download`` into a fresh folder: (succeeded, the wheels it chose, its errors)."""
        with tempfile.TemporaryDirectory(prefix="peerserver-pip-") as scratch:
            dest = Path(scratch) / "wheels"
            constraints = Path(scratch) / "constraints.txt"
            # Dependencies of the runtime's own packages resolve to the versions it runs.
            constraints.write_text("".join(f"{n}=={v}\n" for n, v in self.runtime.items()))
            command = [
                sys.executable, "-m", "pip", "download", "--dest", str(dest),
                "--only-binary=:all:", "--python-version", self.python,
                "--implementation", "cp", "--abi", "cp" + self.python.replace(".", ""),
                "--abi", "abi3", "--abi", "none",
                *[arg for platform in platforms for arg in ("--platform", platform)],
                *[arg for folder in self.find_links for arg in ("--find-links", str(folder))],
                "--constraint", str(constraints),
                "--disable-pip-version-check", "--no-input", "--progress-bar", "off", "--quiet",
                *options, *[str(requirement) for requirement in requirements],
            ]  # fmt: skip
            process = await asyncio.create_subprocess_exec(
                *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            try:
                _, stderr = await asyncio.wait_for(process.communicate(), _PIP_TIMEOUT_S)
            except TimeoutError:
                process.kill()
                await process.wait()
                return False, [], f"ERROR: pip took longer than {_PIP_TIMEOUT_S} s"
            if process.returncode != 0:
                return False, [], stderr.decode(errors="replace")
            self.wheels_dir.mkdir(parents=True, exist_ok=True)
            kept = []
            for wheel in sorted(dest.glob("*.whl")):
                target = self.wheels_dir / wheel.name
                if not target.exists():
                    shutil.move(wheel, target)
                kept.append(target)
            return True, kept, ""

    async def _take(self, wheels: list[Path], result: Resolution) -> None:
        for wheel in wheels:
            name, version, _, _ = parse_wheel_filename(wheel.name)
            if canonicalize_name(name) in self.runtime:
                continue  # a dependency the server tab has already
            compiled = _compiled_files(wheel)
            if compiled:
                # Its dependencies were resolved already, with the compiled wheel's metadata.
                pure = Requirement(f"{name}=={version}")
                ok, files, _ = await self._download([pure], ("any",), "--no-deps")
                if ok and not _compiled_files(files[0]):
                    wheel, compiled = files[0], []
            if compiled:
                more = f", and {len(compiled) - 1} more" if len(compiled) > 1 else ""
                result.refuse(
                    f"{name} {version}",
                    f"its wheel holds compiled code ({compiled[0]}{more}), which cannot run in "
                    "the browser, and it has no pure-Python wheel: not installed",
                )
                continue
            result.wheels.append({"name": str(name), "version": str(version), "file": wheel.name})


def _compiled_files(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as archive:
        return [name for name in archive.namelist() if name.endswith((".so", ".pyd"))]


def _pip_error(stderr: str) -> str:
    """pip's own explanation, without its hints and notes."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    useful = [line for line in lines if not line.startswith(("hint:", "note:", "WARNING:"))]
    return " ".join(useful[-12:]) or "pip failed without saying why"
