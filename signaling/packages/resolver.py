"""A site's ``requirements.txt``, resolved to what its server tab can install.

resolvelib, the backtracking resolver inside pip, chooses the versions; this module gives it the
candidates a server tab can use, in the order they are worth trying:

1. a wheel from the index that installs on the runtime: pure Python, or built for Pyodide's
   WebAssembly platform (PEP 783: ``pyemscripten_2026_0_wasm32``), as pydantic-core publishes;
2. a package Pyodide builds itself (numpy, pandas, lxml, ...), from the operator's copy of
   Pyodide's release (:mod:`signaling.packages.pyodide_dist`);
3. a source distribution of a release that publishes no compiled wheels: the server tab builds
   it into a wheel itself (a ``setup.py`` is the owner's choice, so it runs where the owner's
   code runs, never here).

Newer releases come first among the wheels and Pyodide's builds; source distributions only
after every wheel. A release whose wheels are all compiled for other platforms is compiled
code: its source is not tried, and the owner is told so from the index's listing alone, without
a byte of those wheels fetched. Whatever cannot be met is reported by name with its reason
while the rest installs.
"""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any

from packaging.markers import InvalidMarker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, Resolver
from resolvelib.resolvers import RequirementInformation, ResolutionTooDeep

from signaling.packages.index import Budget, Fetcher, FetchLimit, Index, IndexFile
from signaling.packages.metadata import (
    BadDistribution,
    Declared,
    parse_metadata,
    sdist_declared,
    wheel_metadata,
)
from signaling.packages.pure_builds import PURE_BUILDS
from signaling.packages.pyodide_dist import LockEntry, PyodideDistribution
from signaling.packages.store import HashMismatch, PackageStore
from signaling.packages.target import Target, platform_names

PYTHON = "<python>"  # the virtual package that stands for the runtime's Python version
_MAX_ROUNDS = 2000
_PREFETCH_THREADS = 8

Progress = Callable[[str], None]


class Stopped(Exception):
    """The resolution ran out of time; the owner is told, nothing is remembered."""


@dataclass(frozen=True)
class Need:
    """A requirement as the resolver sees it: a project, its extras, the versions allowed."""

    name: NormalizedName
    extras: frozenset[str] = frozenset()
    specifier: SpecifierSet = field(default_factory=SpecifierSet)
    text: str = ""  # as the owner or a package wrote it

    @property
    def identifier(self) -> str:
        return identifier(self.name, self.extras)

    @property
    def pinned(self) -> bool:
        return any(spec.operator in ("==", "===") for spec in self.specifier)


@dataclass(frozen=True, eq=False)
class Candidate:
    """One way to have a project at one version."""

    name: NormalizedName
    version: Version
    source: str  # "built-in", "index" (a wheel), "pyodide", "sdist", or "python"
    file: IndexFile | None = None
    entry: LockEntry | None = None
    extras: frozenset[str] = frozenset()

    @property
    def identifier(self) -> str:
        return identifier(self.name, self.extras)

    @property
    def key(self) -> tuple[Version, str]:
        return self.version, self.source

    @property
    def yanked(self) -> bool:
        return self.file is not None and self.file.yanked

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


def identifier(name: str, extras: Iterable[str]) -> str:
    return f"{name}[{','.join(sorted(extras))}]" if extras else name


@dataclass
class Choice:
    """What the server tab installs for one project, and where the service gets it."""

    name: str
    version: str
    # "wheel", "dynlib" (a shared library of Pyodide's), "sdist", or "pyodide" (one of Pyodide's
    # packages, which the tab's Pyodide loads by name from the CDN itself)
    kind: str
    filename: str
    url: str  # the source: the index's URL, or the operator's Pyodide folder
    sha256: str | None
    size: int | None = None
    build: dict[str, Any] | None = None  # an sdist's PEP 517 backend, and if its needs are known

    def as_dict(self) -> dict[str, Any]:
        return {key: value for key, value in vars(self).items() if value is not None}


@dataclass
class Resolution:
    """What the server tab installs, and what it cannot, each with its reason."""

    packages: list[Choice] = field(default_factory=list)
    build_tools: list[Choice] = field(default_factory=list)  # what builds the sdists
    problems: list[dict[str, str]] = field(default_factory=list)  # requirement, reason
    built_in: list[str] = field(default_factory=list)  # requirements the runtime already meets
    # False when it failed for a reason that may pass (the index unreachable, say): not cached.
    settled: bool = True

    def refuse(self, requirement: str, reason: str) -> None:
        self.problems.append({"requirement": requirement, "reason": reason})


class Finder:
    """The candidates of each project, and what each declares, for one resolution.

    Index pages and metadata are fetched ahead, in threads, as soon as a project is known to
    be needed: the resolver then rarely waits for the network one project at a time."""

    def __init__(
        self,
        target: Target,
        index: Index,
        store: PackageStore,
        budget: Budget,
        pyodide: PyodideDistribution | None,
        pyodide_builds: Mapping[NormalizedName, Version],
        deadline: float,
        progress: Progress,
        installed: Mapping[NormalizedName, str] = {},
        sources: bool = True,
    ) -> None:
        self.target, self.index, self.fetcher, self.store = target, index, index.fetcher, store
        self.budget, self.pyodide, self.pyodide_builds = budget, pyodide, pyodide_builds
        self.deadline, self.progress, self.sources = deadline, progress, sources
        self.fixed = {**target.built_in, **installed}  # versions that cannot change
        self._pool = ThreadPoolExecutor(_PREFETCH_THREADS, thread_name_prefix="peerserver-index")
        self._listings: dict[str, Future[list[IndexFile]]] = {}
        self._declared: dict[str, Future[Declared]] = {}
        self._candidates: dict[str, list[Candidate]] = {}

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise Stopped("resolving took too long; try again, or with fewer requirements")

    # -- listings and candidates -------------------------------------------------------------

    def prefetch(self, name: NormalizedName) -> None:
        if name in self._listings or name in self.fixed or name == PYTHON:
            return
        self._listings[name] = self._pool.submit(self._listing_and_first_metadata, name)

    def _listing_and_first_metadata(self, name: NormalizedName) -> list[IndexFile]:
        self.progress(f"Looking up {name}")
        files = self.index.files(name, self.budget)
        candidates = self._make_candidates(name, files)
        self._candidates.setdefault(name, candidates)
        first = candidates[0] if candidates else None
        if first is not None and first.source == "index" and self._key(first) not in self._declared:
            # The likely choice: its dependencies come next. Read here, in this thread (a
            # task of the pool waiting for another could take every thread).
            done: Future[Declared] = Future()
            try:
                done.set_result(self._read_declared(first))
            except Exception as error:
                done.set_exception(error)
            self._declared.setdefault(self._key(first), done)
        return files

    def listing(self, name: NormalizedName) -> list[IndexFile]:
        self.prefetch(name)
        return _result(self._listings[name], self)

    def candidates(self, name: NormalizedName) -> list[Candidate]:
        """Every candidate of ``name``, in the order to try them."""
        if name == PYTHON:
            return [Candidate(name, Version(self.target.python_full), "python")]
        if name in self.fixed:
            return [Candidate(name, Version(self.fixed[name]), "built-in")]
        files = self.listing(name)
        if name not in self._candidates:
            self._candidates[name] = self._make_candidates(name, files)
        # Nothing of it can run here: a stand-in that meets any requirement, so that what needs
        # it keeps its newest release (installed without it, and the owner told) rather than
        # an old one that happened not to need it.
        return self._candidates[name] or [Candidate(name, Version("0"), "missing")]

    def _make_candidates(self, name: NormalizedName, files: list[IndexFile]) -> list[Candidate]:
        target = self.target
        by_version: dict[Version, list[IndexFile]] = {}
        for file in files:
            by_version.setdefault(file.dist.version, []).append(file)
        binaries, sources = [], []
        # A project with compiled wheels anywhere is compiled code: its source (an old release
        # may have nothing else) needs a compiler, which a browser does not have; unless the
        # project documents a build without its compiled part (pure_builds).
        compiled = name not in PURE_BUILDS and any(
            file.dist.kind == "wheel" and not file.dist.pure for file in files
        )
        for version, releases in by_version.items():
            wheels = [
                (rank, file)
                for file in releases
                if file.dist.kind == "wheel"
                and (rank := target.wheel_rank(file.filename)) is not None
                and target.requires_python_ok(file.requires_python)
            ]
            if wheels:
                best = min(wheels, key=lambda pair: pair[0])[1]
                binaries.append(Candidate(name, version, "index", file=best))
                continue
            sdists = [
                file
                for file in releases
                if file.dist.kind == "sdist" and target.requires_python_ok(file.requires_python)
            ]
            if sdists and not compiled and self.sources:
                sources.append(Candidate(name, version, "sdist", file=sdists[0]))
        entry = self.pyodide.entries.get(name) if self.pyodide else None
        if entry is not None:
            binaries.append(Candidate(name, entry.version, "pyodide", entry=entry))
        source_rank = {"index": 0, "pyodide": 1}
        binaries.sort(key=lambda c: (c.version, -source_rank[c.source]), reverse=True)
        sources.sort(key=lambda c: c.version, reverse=True)
        return binaries + sources

    # -- what a candidate declares ---------------------------------------------------------

    def declared(self, candidate: Candidate) -> Declared:
        self.prefetch_declared([candidate])
        return _result(self._declared[self._key(candidate)], self)

    def prefetch_declared(self, candidates: Iterable[Candidate]) -> None:
        """Read what each of ``candidates`` declares, side by side, ahead of being asked."""
        for candidate in candidates:
            self._declared.setdefault(
                self._key(candidate), self._pool.submit(self._read_declared, candidate)
            )

    @staticmethod
    def _key(candidate: Candidate) -> str:
        return candidate.file.url if candidate.file is not None else str(candidate)

    def _read_declared(self, candidate: Candidate) -> Declared:
        file = candidate.file
        assert file is not None
        if candidate.source == "sdist":
            self.progress(f"Reading {file.filename}")
            sha256 = fetch_into_store(self.store, self.fetcher, self.budget, file.url, file.sha256)
            path = self.store.file(sha256)
            assert path is not None
            return sdist_declared(path.read_bytes(), file.filename)
        text = self.store.metadata(file.sha256) if file.sha256 else None
        if text is None:
            self.progress(f"Reading the metadata of {candidate}")
            text = wheel_metadata(file, self.fetcher, self.budget)
            if file.sha256:
                self.store.put_metadata(file.sha256, text)
        return parse_metadata(text)

    def dependencies(self, candidate: Candidate) -> list[Need]:
        """What ``candidate`` needs, its markers evaluated for the runtime."""
        if candidate.source in ("built-in", "python", "missing"):
            return []
        if candidate.extras:
            base = [Need(candidate.name, specifier=SpecifierSet(f"=={candidate.version}"))]
        else:
            base = []
        if candidate.source == "pyodide":
            assert candidate.entry is not None
            needs = [Need(name, text=name) for name in candidate.entry.depends]
        else:
            declared = self.declared(candidate)
            needs = self.needs(declared.requires or [], candidate.extras)
            if declared.requires_python:
                needs.append(Need(PYTHON, specifier=SpecifierSet(declared.requires_python)))
        for need in needs:
            self.prefetch(need.name)
        return base + needs

    def needs(self, requirements: Iterable[str], extras: frozenset[str]) -> list[Need]:
        """Requirement strings as needs, those whose markers exclude this runtime left out."""
        environment = self.target.markers
        result = []
        for text in requirements:
            try:
                requirement = Requirement(text)
                if requirement.marker is not None and not any(
                    requirement.marker.evaluate({**environment, "extra": extra})
                    for extra in (extras or {""})
                ):
                    continue
            except (InvalidRequirement, InvalidMarker):
                continue  # as pip does with metadata it cannot read
            requirement.marker = None
            result.append(
                Need(
                    canonicalize_name(requirement.name),
                    frozenset(canonicalize_name(extra) for extra in requirement.extras),
                    requirement.specifier,
                    str(requirement),
                )
            )
        return result

    # -- why nothing fits ------------------------------------------------------------------

    def why_none(self, name: NormalizedName) -> str:
        """Why a project has no candidate at all, from its listing."""
        files = self.listing(name)
        built = self.pyodide_builds.get(name)
        offer = (
            f"Pyodide builds it for the browser ({name} {built}), but this PeerServer does not "
            "offer Pyodide's packages: its operator can (peerserver serve --pyodide-packages)"
            if built is not None and self.pyodide is None
            else ""
        )
        if not files:
            return offer or ("there is no such package on the package index (is the name right?)")
        wheels = [file for file in files if file.dist.kind == "wheel"]
        installable = [file for file in wheels if self.target.wheel_rank(file.filename) is not None]
        if installable:
            newest = max(installable, key=lambda file: file.dist.version)
            if all(file.yanked for file in installable):
                return "every release of it that could run here was withdrawn (yanked)"
            return (
                f"no release of it supports Python {self.target.python_full} (the newest, "
                f"{newest.dist.version}, needs Python {newest.requires_python})"
            )
        platforms = sorted({p for file in wheels for p in platform_names(file.dist.tags)})
        if platforms:
            shown = ", ".join(_short_platforms(platforms))
            compiled = (
                f"it has compiled code, and its wheels are built for other platforms only "
                f"({shown}), none for the browser's WebAssembly ({self.target.platforms[0]})"
            )
            return f"{compiled}; {offer}" if offer else compiled
        if not self.sources and any(file.dist.kind == "sdist" for file in files):
            return "it is published as source code only, and a build tool must be a wheel"
        return f"no release of it can be installed for Python {self.target.python_full}"

    def explain(self, informations: Sequence[RequirementInformation]) -> str:
        """Why the requirements on one project cannot all be met."""
        need = informations[0].requirement
        if need.name == PYTHON:
            parent = informations[0].parent
            return (
                f"{parent} needs Python {need.specifier}, and the server tab runs Python "
                f"{self.target.python_full}"
            )
        asks = [
            f"{info.parent} asks for {info.requirement.text}"
            if info.parent is not None
            else f"requirements.txt asks for {info.requirement.text}"
            for info in informations
        ]
        every = self.candidates(need.name)
        if every[0].source == "missing":
            return self.why_none(need.name)
        if every[0].source == "built-in":
            return (
                f"the server tab runs {need.name} {every[0].version}, which is built in, and "
                + " and ".join(asks)
            )
        versions = ", ".join(str(candidate.version) for candidate in every[:5])
        return f"{' and '.join(asks)}, and no release fits (those that could: {versions})"


def _result(future: Future, finder: Finder) -> Any:
    while True:
        finder.check_time()
        with contextlib.suppress(TimeoutError):
            return future.result(timeout=1)


def _short_platforms(platforms: list[str]) -> list[str]:
    """A readable sample of platform tags: manylinux, macOS, Windows, ... one of each kind."""
    kinds: dict[str, str] = {}
    for platform in platforms:  # sorted: the last of a kind is its newest
        kinds[re.split(r"[_\d]", platform, maxsplit=1)[0]] = platform
    shown = sorted(kinds.values())[:6]
    return [*shown, "…"] if len(platforms) > len(shown) else shown


class _Provider(AbstractProvider):
    def __init__(self, finder: Finder) -> None:
        self.finder = finder
        self.needed_by: dict[str, set[str]] = {}  # identifier -> identifiers that need it

    def identify(self, requirement_or_candidate: Need | Candidate) -> str:
        return requirement_or_candidate.identifier

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, Candidate],
        candidates: Mapping[str, Iterator[Candidate]],
        information: Mapping[str, Iterator[RequirementInformation]],
        backtrack_causes: Sequence[RequirementInformation],
    ) -> Any:
        infos = list(information[identifier])
        causes = {info.requirement.name for info in backtrack_causes}
        return (
            identifier.split("[")[0] not in causes,
            identifier != PYTHON,
            not any(info.parent is None for info in infos),
            not any(info.requirement.pinned for info in infos),
            identifier,
        )

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[Need]],
        incompatibilities: Mapping[str, Iterator[Candidate]],
    ) -> list[Candidate]:
        self.finder.check_time()
        needs = list(requirements[identifier])
        excluded = {candidate.key for candidate in incompatibilities[identifier]}
        name = needs[0].name if needs else canonicalize_name(identifier.split("[")[0])
        extras = frozenset().union(*(need.extras for need in needs))
        pinned = any(need.pinned for need in needs)
        usable = [
            candidate
            for candidate in self.finder.candidates(name)
            if candidate.key not in excluded and (pinned or not candidate.yanked)
        ]
        for prereleases in (False, True):
            fitting = [
                candidate
                for candidate in usable
                if candidate.source == "missing"
                or all(need.specifier.contains(candidate.version, prereleases) for need in needs)
            ]
            if fitting:
                return [replace(c, extras=extras) if extras else c for c in fitting]
        return []

    def is_satisfied_by(self, requirement: Need, candidate: Candidate) -> bool:
        return candidate.source == "missing" or requirement.specifier.contains(
            candidate.version, prereleases=True
        )

    def get_dependencies(self, candidate: Candidate) -> list[Need]:
        needs = self.finder.dependencies(candidate)
        for need in needs:
            self.needed_by.setdefault(need.identifier, set()).add(candidate.identifier)
        return needs

    def roots_behind(self, identifier: str, roots: set[str]) -> set[str]:
        """The root identifiers that (through dependencies) need ``identifier``."""
        found, seen, todo = set(), set(), [identifier]
        while todo:
            current = todo.pop()
            if current in seen:
                continue
            seen.add(current)
            if current in roots:
                found.add(current)
            todo += self.needed_by.get(current, ())
        return found


@dataclass
class Roots:
    """The requirements of a requirements.txt that the resolver is given, by line."""

    lines: list[tuple[str, Need]]

    def identifiers(self) -> set[str]:
        return {need.identifier for _, need in self.lines}

    def without(self, blamed: set[str]) -> Roots:
        return Roots([(line, need) for line, need in self.lines if need.identifier not in blamed])


def parse_requirements(text: str, target: Target, result: Resolution) -> Roots:
    """The requirements of a requirements.txt, what cannot be taken refused with its reason."""
    lines = []
    for raw in text.splitlines():
        line = re.sub(r"(^|\s)#.*$", "", raw).strip()
        if not line:
            continue
        if line.startswith("-"):
            result.refuse(
                line,
                "pip options are not supported here: list packages by name, with a version if "
                "you like (flask-login>=0.6)",
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
                "only packages from the package index can be installed, not from a URL or a path",
            )
            continue
        if requirement.marker and not requirement.marker.evaluate(target.markers):
            continue  # meant for another platform or Python version
        name = canonicalize_name(requirement.name)
        extras = frozenset(canonicalize_name(extra) for extra in requirement.extras)
        lines.append((line, Need(name, extras, requirement.specifier, line)))
    return Roots(lines)


def settle_fixed(roots: Roots, finder: Finder, result: Resolution) -> Roots:
    """Take out the requirements on what the server tab has already (built in, or installed in
    an earlier round): met, they are reported as built in; not met, refused."""
    left = []
    for line, need in roots.lines:
        version = finder.fixed.get(need.name)
        if version is None:
            left.append((line, need))
            continue
        built_in = need.name in finder.target.built_in
        if need.specifier.contains(version, prereleases=True):
            if built_in:
                result.built_in.append(f"{Requirement(line).name} {version}")
        elif built_in:
            result.refuse(
                line,
                f"the server tab runs {need.name} {version}, which is built in and does not "
                f"match {need.specifier}",
            )
        else:
            result.refuse(line, f"{need.name} {version} is installed, which does not match it")
    return Roots(left)


def resolve(finder: Finder, roots: Roots, result: Resolution) -> dict[str, Candidate]:
    """Resolve ``roots``; those that cannot be met are refused in ``result``, with the reason,
    and the rest resolved again without them. Returns the chosen candidate of each project."""
    while roots.lines:
        provider = _Provider(finder)
        try:
            outcome = Resolver(provider, BaseReporter()).resolve(
                [need for _, need in roots.lines], max_rounds=_MAX_ROUNDS
            )
        except ResolutionImpossible as impossible:
            blamed = _blame(finder, provider, roots, impossible.causes, result)
            if not blamed:  # cannot happen with sound causes; never loop on it
                for line, _ in roots.lines:
                    result.refuse(line, "these requirements cannot be met together")
                return {}
            roots = roots.without(blamed)
            continue
        except ResolutionTooDeep:
            for line, _ in roots.lines:
                result.refuse(line, "too many combinations of versions to try; pin some versions")
            return {}
        chosen = {
            key: candidate
            for key, candidate in outcome.mapping.items()
            if not candidate.extras and candidate.source != "python"
        }
        _report_missing(finder, provider, roots, chosen, result)
        return {key: c for key, c in chosen.items() if c.source != "missing"}
    return {}


def _report_missing(
    finder: Finder,
    provider: _Provider,
    roots: Roots,
    chosen: Mapping[str, Candidate],
    result: Resolution,
) -> None:
    """What was resolved to nothing (compiled code only, no such project): a requirement of
    requirements.txt is refused with the reason; a dependency is reported with what needs it."""
    for key, candidate in chosen.items():
        if candidate.source != "missing":
            continue
        reason = finder.why_none(candidate.name)
        lines = [line for line, need in roots.lines if need.name == candidate.name]
        for line in lines:
            result.refuse(line, reason)
        parents = {parent.split("[")[0] for parent in provider.needed_by.get(key, ())}
        needing = sorted(str(chosen[parent]) for parent in parents if parent in chosen)
        if needing and not lines:
            result.refuse(candidate.name, f"needed by {', '.join(needing)}: {reason}; the rest "
                                          "installs without it")  # fmt: skip


def _blame(
    finder: Finder,
    provider: _Provider,
    roots: Roots,
    causes: Sequence[RequirementInformation],
    result: Resolution,
) -> set[str]:
    by_project: dict[str, list[RequirementInformation]] = {}
    for cause in causes:
        by_project.setdefault(cause.requirement.name, []).append(cause)
    root_ids = roots.identifiers()
    blamed: dict[str, str] = {}
    for name, informations in by_project.items():
        reason = finder.explain(informations)
        for info in informations:
            if info.parent is None:
                blamed.setdefault(info.requirement.identifier, reason)
                continue
            through = f"it needs {info.requirement.text or name}, and {reason}"
            if name == PYTHON:
                through = reason
            for root in provider.roots_behind(info.parent.identifier, root_ids):
                blamed.setdefault(root, through)
    for line, need in roots.lines:
        if need.identifier in blamed:
            result.refuse(line, blamed[need.identifier])
    return set(blamed)


def fetch_into_store(
    store: PackageStore, fetcher: Fetcher, budget: Budget, url: str, expected: str | None
) -> str:
    """Have the file at ``url`` in the store (fetched if it is not there yet, and checked
    against the hash its index gave); returns its hash."""
    if expected and store.file(expected) is not None:
        return expected
    partial = store.partial()
    try:
        fetcher.download(url, partial, budget)
        return store.add(partial, expected)
    except HashMismatch as error:
        raise BadDistribution(f"{url} is not the file its index announced ({error})") from None
    finally:
        partial.unlink(missing_ok=True)


def choice(candidate: Candidate) -> Choice:
    """What the server tab is told to install for ``candidate``."""
    if candidate.entry is not None:
        entry = candidate.entry
        kind = "dynlib" if entry.install_dir == "dynlib" else "wheel"
        return Choice(entry.name, str(entry.version), kind, entry.file_name.rsplit("/", 1)[-1],
                      entry.url, entry.sha256)  # fmt: skip
    file = candidate.file
    assert file is not None
    kind = "sdist" if candidate.source == "sdist" else "wheel"
    return Choice(candidate.name, str(candidate.version), kind, file.filename, file.url,
                  file.sha256, file.size)  # fmt: skip


__all__ = [
    "Budget",
    "Candidate",
    "Choice",
    "FetchLimit",
    "Finder",
    "Resolution",
    "Stopped",
    "choice",
    "fetch_into_store",
    "parse_requirements",
    "resolve",
    "settle_fixed",
]
