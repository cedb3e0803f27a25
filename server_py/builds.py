"""Source packages built into wheels inside the server tab, where the site's own code runs.

A package published only as source (an sdist) is built by its PEP 517 backend (setuptools,
hatchling, flit, ...), which runs the package's ``setup.py`` or build hooks: code chosen by the
site's owner, like the site's own. So it runs here, in the site's Python worker (an opaque
origin, no storage, the time limit of any request), never on the service. A browser has no
compiler: a package with C extensions fails to build, and is reported as compiled code.

The build runs in a folder of its own with the build tools on ``sys.path`` for the time of the
build only; afterwards the interpreter is as it was (``sys.path``, ``sys.meta_path``, the
modules, the environment, the working folder), so the backend leaves nothing behind in the
site's Python. Wheels are installed the way installers do (PEP 427): ``.data/purelib`` and
``.data/platlib`` into site-packages, the rest of ``.data`` left out (scripts and headers mean
nothing here).
"""

from __future__ import annotations

import contextlib
import email.parser
import importlib
import io
import logging
import os
import re
import sys
import tarfile
import tempfile
import traceback
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from server_py.interpreter import interpreter_kept


class BuildFailed(Exception):
    """A source package could not be built; the message says why, for the site's owner."""


@dataclass
class Built:
    filename: str
    wheel: bytes
    requires: list[str] = field(default_factory=list)  # its Requires-Dist, markers and all
    log: str = ""


def build_wheel(
    sdist: bytes,
    filename: str,
    backend: str,
    backend_path: list[str],
    tools: list[bytes],
    compiled_sources: Sequence[str] = (),
    environment: Mapping[str, str] | None = None,
) -> Built:
    """Build the sdist ``filename`` (its bytes) with ``backend``, the build tools' wheels in
    ``tools`` installed for the build only, and ``environment`` set for it (a project's own
    switch for a build without its compiled part: signaling/packages/pure_builds.py)."""
    log = io.StringIO()
    with tempfile.TemporaryDirectory(prefix="peerserver-build-") as scratch:
        work = Path(scratch)
        tools_dir = work / "tools"
        for wheel in tools:
            install_wheel(wheel, tools_dir)
        source = _unpack(sdist, filename, work / "source")
        out = work / "out"
        out.mkdir()
        with (
            interpreter_kept(),  # whatever the backend imported, patched or set goes
            contextlib.redirect_stdout(log),
            contextlib.redirect_stderr(log),
            _logging_to(log),
        ):
            sys.path[:0] = [str(source / path) for path in backend_path] + [str(tools_dir)]
            os.environ.update(environment or {})
            os.chdir(source)
            try:
                hooks = _backend(backend)
                name = hooks.build_wheel(str(out))
            except BaseException as error:  # SystemExit included: distutils says errors so
                traceback.print_exc(file=log)
                raise BuildFailed(_why(filename, error, log.getvalue(), compiled_sources)) from None
        wheel = (out / name).read_bytes()
    return Built(name, wheel, wheel_requires(wheel), log.getvalue())


def _backend(spec: str):  # type: ignore[no-untyped-def]
    """The backend object a ``build-backend`` string names (``module:object``)."""
    module_name, _, attribute = spec.partition(":")
    backend = importlib.import_module(module_name)
    for part in filter(None, attribute.split(".")):
        backend = getattr(backend, part)
    return backend


def _why(filename: str, error: BaseException, log: str, compiled_sources: Sequence[str]) -> str:
    compiling = re.search(r"running build_ext|building '[^']+' extension|error: command", log)
    if compiling or (compiled_sources and isinstance(error, (SystemExit, OSError))):
        shown = ", ".join(compiled_sources[:3])
        sources = f" ({shown})" if shown else ""
        return (
            f"{filename} needs compiled code{sources}: building it needs a C compiler, which a "
            "browser does not have. Look for a release of it with a pure-Python wheel, or ask "
            "the PeerServer's operator to offer Pyodide's packages if Pyodide builds it"
        )
    last = [line for line in log.splitlines() if line.strip()][-1:] or [str(error)]
    return f"{filename} could not be built: {type(error).__name__}: {error or last[0]}"


def wheel_requires(wheel: bytes) -> list[str]:
    """The Requires-Dist lines of a wheel's METADATA."""
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
        if not names:
            return []
        text = archive.read(names[0]).decode("utf-8", "replace")
    return list(email.parser.HeaderParser().parsestr(text).get_all("Requires-Dist") or [])


def install_wheel(wheel: bytes, site_packages: str | Path) -> None:
    """Unpack a wheel into ``site_packages``, its ``.data/purelib`` and ``platlib`` included."""
    target = Path(site_packages)
    with zipfile.ZipFile(io.BytesIO(wheel)) as archive:
        for info in archive.infolist():
            if info.is_dir():
                continue
            parts = PurePosixPath(info.filename).parts
            if ".." in parts or PurePosixPath(info.filename).is_absolute():
                raise BuildFailed(f"the wheel has an unsafe path: {info.filename}")
            if parts[0].endswith(".data"):
                if len(parts) < 3 or parts[1] not in ("purelib", "platlib"):
                    continue
                parts = parts[2:]
            path = target.joinpath(*parts)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(archive.read(info))
    importlib.invalidate_caches()


def _unpack(sdist: bytes, filename: str, target: Path) -> Path:
    """Unpack an sdist (safely: nothing outside ``target``); returns its top folder."""
    target.mkdir(parents=True)
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(sdist)) as archive:
                for name in archive.namelist():
                    pure = PurePosixPath(name)
                    if pure.is_absolute() or ".." in pure.parts:
                        raise BuildFailed(f"{filename} has an unsafe path: {name}")
                archive.extractall(target)
        else:
            with tarfile.open(fileobj=io.BytesIO(sdist), mode="r:*") as archive:
                archive.extractall(target, filter="data")
    except (tarfile.TarError, zipfile.BadZipFile, OSError) as error:
        raise BuildFailed(f"{filename} could not be unpacked ({error})") from None
    tops = [entry for entry in target.iterdir() if entry.is_dir()]
    if len(tops) != 1:
        raise BuildFailed(f"{filename} does not hold one folder, as a source distribution does")
    return tops[0]


@contextlib.contextmanager
def _logging_to(stream: io.StringIO) -> Iterator[None]:
    """What the backend logs (setuptools logs its steps) goes to the build's log too."""
    handler = logging.StreamHandler(stream)
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
