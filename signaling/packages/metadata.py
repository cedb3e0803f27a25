"""What a distribution declares (its dependencies, its Python, its classifiers), read with as few
bytes as the index allows.

For a wheel, in order: the index's copy of its METADATA (PEP 658); else the METADATA file alone,
read out of the remote zip with HTTP range requests (the zip's directory is at its end: two or
three small reads, as pip's "fast-deps" does); else the whole wheel. A wheel looked at is one
the server tab could install: compiled wheels for other platforms are never fetched.

For a source distribution, the static metadata it ships, never its ``setup.py`` (that is the
owner's to run, in their own tab): ``PKG-INFO`` of metadata 2.2 or later with its
``Requires-Dist`` not dynamic, else the ``[project]`` table of ``pyproject.toml``, else the
``requires.txt`` setuptools wrote into the ``.egg-info`` folder; with none of them, its
dependencies are learned when the tab has built it.
"""

from __future__ import annotations

import email.parser
import io
import re
import tarfile
import tomllib
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from signaling.packages.index import Budget, Fetcher, IndexFile

_RANGE_CHUNK = 64 * 1024
_MAX_METADATA_BYTES = 4 * 1024 * 1024
_MAX_SDIST_MEMBERS = 50_000
_MAX_SDIST_UNPACKED = 1024 * 1024 * 1024  # a tarball that unpacks to more is refused
# PEP 517's default for a project without a [build-system] table (setuptools' legacy backend).
LEGACY_BUILD = (("setuptools>=40.8.0",), "setuptools.build_meta:__legacy__")


class BadDistribution(Exception):
    """A distribution that cannot be read as what it claims to be."""


@dataclass
class Declared:
    """What a distribution says of itself. ``requires`` is None when it cannot be known
    without building it (a source distribution with dynamic dependencies)."""

    requires: list[str] | None = field(default_factory=list)
    requires_python: str | None = None
    classifiers: list[str] = field(default_factory=list)
    # Source distributions only: how to build a wheel of it (PEP 517).
    build_requires: tuple[str, ...] = ()
    build_backend: str = ""
    backend_path: tuple[str, ...] = ()
    compiled_sources: list[str] = field(default_factory=list)  # .c, .pyx, ... it ships


def parse_metadata(text: str) -> Declared:
    """A METADATA or PKG-INFO file (RFC 822 headers)."""
    message = email.parser.HeaderParser().parsestr(text)
    return Declared(
        requires=list(message.get_all("Requires-Dist") or []),
        requires_python=message.get("Requires-Python"),
        classifiers=list(message.get_all("Classifier") or []),
    )


def wheel_metadata(file: IndexFile, fetcher: Fetcher, budget: Budget) -> str:
    """The METADATA of a wheel the index lists."""
    if file.metadata_url:
        status, _, body = fetcher.get(file.metadata_url, budget, limit=_MAX_METADATA_BYTES)
        if status == 200:
            return body.decode("utf-8", "replace")
    with zipfile.ZipFile(_RemoteFile(file.url, fetcher, budget, file.size)) as archive:
        return metadata_in_wheel(archive, file.filename)


def metadata_in_wheel(archive: zipfile.ZipFile, filename: str) -> str:
    """The METADATA of the wheel ``filename`` whose archive is open."""
    wanted = [
        name for name in archive.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", name)
    ]
    if len(wanted) != 1:
        raise BadDistribution(f"{filename} has no (single) .dist-info/METADATA")
    info = archive.getinfo(wanted[0])
    if info.file_size > _MAX_METADATA_BYTES:
        raise BadDistribution(f"{filename}'s METADATA is too large")
    return archive.read(info).decode("utf-8", "replace")


class _RemoteFile(io.RawIOBase):
    """A remote file read on demand with HTTP range requests, for :mod:`zipfile`.

    A server that ignores ranges answers with the whole file on the first read: it is then
    read from memory (and counted, as every byte is)."""

    def __init__(self, url: str, fetcher: Fetcher, budget: Budget, size: int | None) -> None:
        self.url, self.fetcher, self.budget = url, fetcher, budget
        self.position = 0
        self.pieces: dict[int, bytes] = {}  # start -> bytes fetched from there
        self.size = size if size is not None else self._tail()

    def _tail(self) -> int:
        status, headers, body = self.fetcher.get(
            self.url, self.budget, {"Range": f"bytes=-{_RANGE_CHUNK}"}
        )
        if status == 200:
            self.pieces[0] = body
            return len(body)
        match = re.match(r"bytes (\d+)-\d+/(\d+)", headers.get("content-range", ""))
        if status != 206 or match is None:
            raise BadDistribution(f"{self.url} could not be read ({status})")
        self.pieces[int(match.group(1))] = body
        return int(match.group(2))

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self.position, io.SEEK_END: self.size}[whence]
        self.position = max(0, base + offset)
        return self.position

    def read(self, size: int = -1) -> bytes:
        end = self.size if size is None or size < 0 else min(self.size, self.position + size)
        data = self._bytes(self.position, end)
        self.position = end
        return data

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        data = self.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def _bytes(self, start: int, end: int) -> bytes:
        if start >= end:
            return b""
        for first, piece in self.pieces.items():
            if first <= start and end <= first + len(piece):
                return piece[start - first : end - first]
        last = min(self.size, max(end, start + _RANGE_CHUNK)) - 1
        status, _, body = self.fetcher.get(
            self.url, self.budget, {"Range": f"bytes={start}-{last}"}
        )
        if status == 200 and len(body) == self.size:
            self.pieces = {0: body}
        elif status == 206 and len(body) == last - start + 1:
            self.pieces[start] = body
        else:
            raise BadDistribution(f"{self.url} could not be read ({status})")
        return self._bytes(start, end)


def sdist_declared(data: bytes, filename: str) -> Declared:
    """What a source distribution declares, from its static files only."""
    files = _sdist_files(data, filename)
    top = _top_folder(files)

    def text(path: str) -> str | None:
        content = files.get(f"{top}{path}")
        return content.decode("utf-8", "replace") if content is not None else None

    declared = Declared(requires=None)
    pkg_info = text("PKG-INFO")
    dynamic: set[str] = set()
    if pkg_info is not None:
        declared = parse_metadata(pkg_info)
        message = email.parser.HeaderParser().parsestr(pkg_info)
        dynamic = {value.lower() for value in message.get_all("Dynamic") or []}
        numbers = re.findall(r"\d+", message.get("Metadata-Version", "1.0"))[:2]
        if tuple(map(int, numbers)) < (2, 2) or "requires-dist" in dynamic:
            declared.requires = None
    try:
        pyproject = tomllib.loads(text("pyproject.toml") or "")
    except tomllib.TOMLDecodeError as error:
        raise BadDistribution(f"{filename}'s pyproject.toml is not valid TOML ({error})") from None
    project = pyproject.get("project", {})
    if declared.requires is None and project and "dependencies" not in project.get("dynamic", []):
        declared.requires = list(project.get("dependencies", []))
        for extra, requirements in project.get("optional-dependencies", {}).items():
            declared.requires += [f'{req}; extra == "{extra}"' for req in requirements]
    if declared.requires is None:
        declared.requires = _egg_info_requires(files, top)
    system = pyproject.get("build-system", {})
    if "build-backend" in system or "requires" in system:
        declared.build_requires = tuple(system.get("requires", []))
        declared.build_backend = system.get("build-backend", LEGACY_BUILD[1])
        declared.backend_path = tuple(system.get("backend-path", []))
    else:
        declared.build_requires, declared.build_backend = LEGACY_BUILD
    declared.compiled_sources = sorted(
        path[len(top) :]
        for path in files
        if path.endswith((".c", ".cc", ".cpp", ".cxx", ".pyx", ".rs", ".f90", ".f"))
        and not re.match(r"(docs?|tests?|examples?|benchmarks?)/", path[len(top) :])
    )
    return declared


def _sdist_files(data: bytes, filename: str) -> dict[str, bytes]:
    """The small text files of an sdist that say what it is (PKG-INFO, pyproject.toml, an
    .egg-info's requires.txt), by path; other files by name only (empty contents)."""
    wanted = re.compile(r"^[^/]+/(PKG-INFO|pyproject\.toml|(src/)?[^/]+\.egg-info/[^/]+)$")
    files: dict[str, bytes] = {}
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                for info in archive.infolist()[:_MAX_SDIST_MEMBERS]:
                    small = info.file_size <= _MAX_METADATA_BYTES
                    wanted_file = wanted.match(info.filename) and small
                    files[info.filename] = archive.read(info) if wanted_file else b""
            return files
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as archive:
            for count, member in enumerate(archive):
                if count >= _MAX_SDIST_MEMBERS or member.offset_data > _MAX_SDIST_UNPACKED:
                    raise BadDistribution(f"{filename} unpacks to too much")
                if not member.isfile():
                    continue
                wanted_file = wanted.match(member.name) and member.size <= _MAX_METADATA_BYTES
                extracted = archive.extractfile(member) if wanted_file else None
                files[member.name] = extracted.read() if extracted else b""
    except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as error:
        raise BadDistribution(f"{filename} is not a readable archive ({error})") from None
    return files


def _top_folder(files: dict[str, bytes]) -> str:
    tops = {PurePosixPath(path).parts[0] for path in files if "/" in path}
    if len(tops) != 1:
        raise BadDistribution("a source distribution has one top folder")
    return tops.pop() + "/"


def _egg_info_requires(files: dict[str, bytes], top: str) -> list[str] | None:
    """The dependencies setuptools wrote into the sdist's .egg-info (sections ``[extra]``,
    ``[:marker]``, ``[extra:marker]``); an .egg-info without requires.txt has none."""
    infos = {path.rsplit("/", 1)[0] for path in files if re.search(r"\.egg-info/", path)}
    infos = {info for info in infos if info.count("/") <= 2 and info.startswith(top)}
    if len(infos) != 1:
        return None  # no static record of its dependencies: known once built
    requires = files.get(f"{infos.pop()}/requires.txt")
    if requires is None:
        return []
    result, extra, marker = [], "", ""
    for raw in requires.decode("utf-8", "replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            extra, _, marker = line[1:-1].partition(":")
            continue
        conditions = [f"({marker})"] if marker else []
        if extra:
            conditions.append(f'extra == "{extra}"')
        result.append(f"{line}; {' and '.join(conditions)}" if conditions else line)
    return result
