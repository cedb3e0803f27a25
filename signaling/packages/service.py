"""The package service: resolves a site's requirements for its server tab, keeps the files, and
bounds what one request can cost it.

* **Only what can be installed is fetched**: the resolver decides from the indexes' listings
  (file names, tags, hashes, sizes) and metadata, never by downloading compiled wheels for
  other platforms (:mod:`signaling.packages.resolver`).
* **Bounds**: the bytes one resolution may fetch (``max_fetch_bytes``), the time it may take,
  and the store's size (least recently used files go first, :mod:`signaling.packages.store`).
* **Fairness**: a few resolutions at a time; waiting ones served round-robin by client address,
  with a bounded number waiting per address, and a rate of new resolutions per address (429
  with ``Retry-After``). A resolution already done (the same requirements, for the same
  runtime) costs nothing and is never limited: a restart, or a second tab, gets it at once.
* **Any instance serves any file**: files are named by their hash; an instance that lacks one
  fetches it from the source a resolution recorded in the shared store (Redis, with several
  instances), checking the hash (:meth:`PackageService.file`).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio.to_thread
from packaging.utils import NormalizedName, canonicalize_name
from packaging.version import InvalidVersion, Version

from signaling.limits import client_key
from signaling.packages.fairness import Busy, FairQueue, RateLimit
from signaling.packages.index import (
    Budget,
    Fetcher,
    FetchLimit,
    Index,
    IndexUnreachable,
    PipSettings,
)
from signaling.packages.metadata import BadDistribution
from signaling.packages.pure_builds import PURE_BUILDS
from signaling.packages.pyodide_dist import PyodideDistribution, pyodide_builds
from signaling.packages.resolver import (
    Candidate,
    Choice,
    Finder,
    Resolution,
    Stopped,
    choice,
    fetch_into_store,
    parse_requirements,
    resolve,
    settle_fixed,
)
from signaling.packages.store import SHA256, PackageStore, default_folder
from signaling.packages.target import Target
from signaling.stores import MemoryStore, Store

MAX_REQUIREMENTS_BYTES = 64 * 1024
_FILE_SOURCE_SECONDS = 30 * 24 * 3600
_UPGRADE_TRIES = 40  # releases whose metadata are read, at most, to find one for this Python

Progress = Callable[[str], Awaitable[None]]


@dataclass(frozen=True)
class PackageSettings:
    folder: Path = field(default_factory=default_folder)
    max_store_bytes: int = 2 * 1024**3
    max_fetch_bytes: int = 300 * 1024**2  # one resolution, every byte it fetches
    seconds: float = 180  # one resolution
    resolutions_per_minute: float = 2.0  # new resolutions per client address, on average
    resolution_burst: int = 10
    concurrent: int = 2  # resolutions running at once, service-wide
    waiting_per_address: int = 2
    pyodide_packages: str | None = None  # the operator's copy of Pyodide's release files
    pyodide_mirror: str | None = None  # or the bundled release's CDN folder (or a mirror of it)

    def __post_init__(self) -> None:
        for name in ("max_store_bytes", "max_fetch_bytes", "seconds", "resolutions_per_minute",
                     "resolution_burst", "concurrent", "waiting_per_address"):  # fmt: skip
            if getattr(self, name) <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be more than 0")
        if self.pyodide_packages and self.pyodide_mirror:
            raise ValueError("Pyodide's packages come from a release or a mirror, not both")


class PackageService:
    def __init__(
        self,
        bundle: Path,
        settings: PackageSettings | None = None,
        shared: Store | None = None,
        pip: PipSettings | None = None,
    ) -> None:
        self.settings = settings or PackageSettings()
        self.shared = shared or MemoryStore()
        self.target = Target.from_bundle(bundle)
        self._pip = pip
        self._bundle_folders = (bundle / "wheels", bundle / "shelf")
        self._indexes: dict[PipSettings, Index] = {}
        self.store = PackageStore(self.settings.folder, self.settings.max_store_bytes)
        self.fetcher = Fetcher(pip or PipSettings())  # for files whose source is recorded
        self.pyodide: PyodideDistribution | None = None
        if self.settings.pyodide_packages:
            self.pyodide = PyodideDistribution.release(
                self.settings.pyodide_packages, self.target, self.fetcher
            )
        elif self.settings.pyodide_mirror:
            self.pyodide = PyodideDistribution.mirror(self.settings.pyodide_mirror, bundle)
        self.pyodide_builds = pyodide_builds(bundle)
        self.rate = RateLimit(self.settings.resolutions_per_minute, self.settings.resolution_burst)
        self.queue = FairQueue(self.settings.concurrent, self.settings.waiting_per_address)
        self._running: dict[str, asyncio.Future[dict[str, Any]]] = {}  # key -> its answer

    def close(self) -> None:
        self.fetcher.close()
        for index in self._indexes.values():
            index.fetcher.close()

    def _index(self) -> Index:
        """The sources pip is configured with now (read each time: a change to pip's
        configuration needs no restart), with the bundle's own folders of wheels."""
        pip = self._pip or PipSettings.read()
        if pip not in self._indexes:
            self._indexes[pip] = Index(pip, Fetcher(pip), self._bundle_folders)
        return self._indexes[pip]

    # -- resolutions -------------------------------------------------------------------------

    def key(self, text: str, installed: dict[str, str]) -> str:
        """What a resolution depends on, hashed: the runtime, the requirements, and the
        packages the tab has installed already (a second round, after building)."""
        parts = [self.target.key, text, json.dumps(sorted(installed.items()))]
        parts.append(self.pyodide.location if self.pyodide else "")
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def cached(self, text: str, installed: dict[str, str]) -> dict[str, Any] | None:
        """The answer for these requirements, if it was resolved lately (by any tab)."""
        return self.store.resolution(self.key(text, installed))

    def admit(self, address: str) -> None:
        """Let a new resolution from ``address`` in, or raise :class:`Busy` (its rate of
        resolutions, or the resolutions it already has waiting)."""
        who = client_key(address)
        self.queue.check_room(who)
        retry_after = self.rate.take(who, time.monotonic())
        if retry_after:
            raise Busy(
                "Too many package resolutions from your address: wait a little "
                "(requirements resolved before cost nothing).",
                retry_after,
            )

    async def run(
        self, text: str, installed: dict[str, str], address: str, progress: Progress
    ) -> dict[str, Any]:
        """Resolve a requirements.txt (after :meth:`admit`): what to install (served by this
        service), what builds the source packages, what is built in, and what cannot be had,
        with reasons. ``progress`` hears what it is doing, and how many wait before it."""
        key = self.key(text, installed)
        if key in self._running:  # the same requirements, asked by another tab meanwhile
            return await asyncio.shield(self._running[key])
        answer: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._running[key] = answer
        try:

            async def waiting(ahead: int) -> None:
                await progress(f"Waiting for the package service ({ahead + 1} before yours)")

            async with self.queue.slot(client_key(address), waiting):
                await progress("Resolving requirements.txt")
                report = self._reporter(progress)
                result, sources = await anyio.to_thread.run_sync(
                    self._resolve, text, installed, report, abandon_on_cancel=True
                )
            for sha256, source in sources.items():
                await self.shared.put_value(
                    f"package-file:{sha256}", json.dumps(source), _FILE_SOURCE_SECONDS
                )
            value = {
                "packages": [choice.as_dict() for choice in result.packages],
                "buildTools": [choice.as_dict() for choice in result.build_tools],
                "problems": result.problems,
                "builtIn": result.built_in,
            }
            if result.settled:
                self.store.put_resolution(key, value)
            answer.set_result(value)
            return value
        except BaseException as error:
            answer.set_exception(error)
            answer.exception()  # retrieved: nobody else may be waiting for it
            raise
        finally:
            del self._running[key]

    @staticmethod
    def _reporter(progress: Progress) -> Callable[[str], None]:
        """``progress`` for the resolver's threads: the latest news, at most one a second,
        handed to the event loop without waiting for it."""
        loop = asyncio.get_running_loop()
        last = [0.0]

        def report(text: str) -> None:
            now = time.monotonic()
            if now - last[0] >= 1:
                last[0] = now
                loop.call_soon_threadsafe(lambda: loop.create_task(progress(text)))

        return report

    def _finder(
        self,
        index: Index,
        budget: Budget,
        deadline: float,
        report: Callable[[str], None],
        **options: Any,
    ) -> Finder:
        return Finder(self.target, index, self.store, budget, self.pyodide, self.pyodide_builds,
                      deadline, report, **options)  # fmt: skip

    def _resolve(
        self, text: str, installed: dict[str, str], report: Callable[[str], None]
    ) -> tuple[Resolution, dict[str, dict[str, Any]]]:
        """Resolve, and have every chosen file in the store (in a thread of its own)."""
        result = Resolution()
        budget = Budget(self.settings.max_fetch_bytes)
        deadline = time.monotonic() + self.settings.seconds
        fixed = {canonicalize_name(name): version for name, version in installed.items()}
        index = self._index()
        finder = self._finder(index, budget, deadline, report, installed=fixed)
        roots = settle_fixed(parse_requirements(text, self.target, result), finder, result)
        sources: dict[str, dict[str, Any]] = {}
        try:
            chosen = resolve(finder, roots, result)
            wanted = sorted(
                (c for c in chosen.values() if c.source != "built-in"), key=lambda c: c.name
            )
            wanted = self._with_build_tools(
                finder, wanted, result, budget, deadline, report, sources
            )
            for candidate in wanted:
                result.packages.append(self._stored(finder, candidate, budget, sources))
        except (IndexUnreachable, FetchLimit, Stopped, BadDistribution) as problem:
            reason = str(problem)
            if isinstance(problem, IndexUnreachable):
                reason = f"the package index could not be reached, try again later ({reason})"
            result.packages.clear()
            result.build_tools.clear()
            for line, _ in roots.lines:
                if not any(p["requirement"] == line for p in result.problems):
                    result.refuse(line, reason)
            result.settled = False
        finally:
            finder.close()
        return result, sources

    def _with_build_tools(
        self,
        finder: Finder,
        wanted: list[Candidate],
        result: Resolution,
        budget: Budget,
        deadline: float,
        report: Callable[[str], None],
        sources: dict[str, dict[str, Any]],
    ) -> list[Candidate]:
        """Resolve what builds the source packages among ``wanted`` (wheels only) into
        ``result.build_tools``, their files' sources into ``sources`` (another instance
        serves them too); a source package whose build cannot be had is refused."""
        sdists = [candidate for candidate in wanted if candidate.source == "sdist"]
        if not sdists:
            return wanted
        needs = sorted({need for c in sdists for need in finder.declared(c).build_requires})
        tools = Resolution()
        tool_finder = self._finder(finder.index, budget, deadline, report, sources=False)
        try:
            tool_roots = parse_requirements("\n".join(needs), self.target, tools)
            chosen = resolve(tool_finder, tool_roots, tools)
            if not tools.problems:
                for candidate in sorted(chosen.values(), key=lambda c: c.name):
                    if candidate.source != "built-in":
                        result.build_tools.append(
                            self._stored(tool_finder, candidate, budget, sources)
                        )
                return wanted
        finally:
            tool_finder.close()
        why = "; ".join(f"{p['requirement']}: {p['reason']}" for p in tools.problems)
        for candidate in sdists:
            result.refuse(
                f"{candidate.name} {candidate.version}",
                f"it is published as source code only, and what builds it cannot be had ({why})",
            )
        return [candidate for candidate in wanted if candidate.source != "sdist"]

    def _stored(
        self,
        finder: Finder,
        candidate: Candidate,
        budget: Budget,
        sources: dict[str, dict[str, Any]],
    ) -> Choice:
        """``candidate``'s file fetched into the store; the choice points at this service. A
        package the tab's Pyodide loads from the CDN itself is not fetched here."""
        made = choice(candidate)
        if candidate.source == "pyodide" and self.pyodide and self.pyodide.loaded_by_the_tab:
            made.kind = "pyodide"  # by name, from its packageBaseUrl, checked against its lock
            return made
        file = candidate.entry if candidate.entry is not None else candidate.file
        assert file is not None
        finder.check_time()
        finder.progress(f"Fetching {made.filename}")
        sha256 = fetch_into_store(self.store, finder.index.fetcher, budget, file.url, file.sha256)
        path = self.store.file(sha256)
        size = path.stat().st_size if path is not None else made.size
        sources[sha256] = {"url": made.url, "size": size}
        made.sha256, made.size, made.url = sha256, size, f"/packages/{sha256}/{made.filename}"
        if candidate.source == "sdist":
            declared = finder.declared(candidate)
            made.build = {
                "backend": declared.build_backend,
                "backendPath": list(declared.backend_path),
                "dependenciesKnown": declared.requires is not None,
                "compiledSources": declared.compiled_sources[:5],
            }
            pure = PURE_BUILDS.get(candidate.name)
            if pure is not None:  # built without its compiled part, by its own switch
                made.build["environment"] = dict(pure.environment)
                made.build["without"] = pure.without
        return made

    # -- files -------------------------------------------------------------------------------

    async def file(self, sha256: str) -> Path | None:
        """The stored file with this hash; fetched first from the source a resolution
        recorded (on this instance or another) if this instance does not have it yet."""
        if not SHA256.fullmatch(sha256):
            return None
        path = self.store.file(sha256)
        if path is not None:
            return path
        recorded = await self.shared.get_value(f"package-file:{sha256}")
        if recorded is None:
            return None
        source = json.loads(recorded)
        budget = Budget(int(source.get("size") or self.settings.max_fetch_bytes) + 1)
        try:
            await anyio.to_thread.run_sync(
                fetch_into_store, self.store, self.fetcher, budget, source["url"], sha256
            )
        except (IndexUnreachable, FetchLimit, BadDistribution):
            return None
        return self.store.file(sha256)

    # -- old pins ----------------------------------------------------------------------------

    async def upgrade(self, name: str, version: str) -> dict[str, Any]:
        """The nearest release of ``name`` after ``version`` that declares support for the
        runtime's Python (its "Programming Language :: Python :: 3.14" classifier)."""
        answer = await anyio.to_thread.run_sync(self._upgrade, canonicalize_name(name), version)
        return {**answer, "python": self.target.python}

    def _upgrade(self, name: NormalizedName, version: str) -> dict[str, Any]:
        budget = Budget(self.settings.max_fetch_bytes)
        deadline = time.monotonic() + self.settings.seconds
        finder = self._finder(self._index(), budget, deadline, lambda _: None)
        classifier = f"Programming Language :: Python :: {self.target.python}"
        try:
            pinned = Version(version)
        except InvalidVersion:
            pinned = Version("0")
        try:
            newer = sorted(
                (c for c in finder.candidates(name) if c.version > pinned and not c.yanked
                 and not c.version.is_prerelease and c.source != "pyodide"),
                key=lambda c: c.version,
            )  # fmt: skip
            tried = newer[:_UPGRADE_TRIES]
            finder.prefetch_declared(tried)
            for candidate in tried:
                if classifier in finder.declared(candidate).classifiers:
                    return {"name": name, "version": str(candidate.version), "declares": True}
            if newer:
                return {"name": name, "version": str(newer[-1].version), "declares": False}
            return {"name": name, "version": None, "declares": False}
        except (IndexUnreachable, FetchLimit, Stopped, BadDistribution) as problem:
            return {"name": name, "version": None, "declares": False, "error": str(problem)}
        finally:
            finder.close()
