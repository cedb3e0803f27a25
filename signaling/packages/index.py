"""Package indexes as pip reads them: which files a project has, and where.

The sources are pip's own configuration (``pip.conf``, ``PIP_INDEX_URL``,
``PIP_EXTRA_INDEX_URL``, ``PIP_FIND_LINKS``, ``PIP_NO_INDEX``, ``PIP_CERT``: read with
``pip config list``, so that an operator configures PeerServer as they configure pip) and the
runtime bundle's own folders of wheels, which make the packages it carries resolve offline.

A project's page is read through the simple repository API, as JSON (PEP 691) where the index
speaks it, else as HTML (PEP 503); each file comes with what the index says of it (hash, size,
``Requires-Python``, yanked, PEP 658 metadata). The parsing is plain functions of the page;
:class:`Fetcher` does the I/O, and counts every byte against the resolution's :class:`Budget`.
"""

from __future__ import annotations

import html.parser
import json
import re
import shlex
import ssl
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from signaling.packages.target import Distribution, distribution

PYPI = "https://pypi.org/simple/"
_JSON = "application/vnd.pypi.simple.v1+json"
_ACCEPT = f"{_JSON}, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
_LISTING_SECONDS = 600  # a project's page is read again after this long
_MAX_PAGE_BYTES = 32 * 1024 * 1024  # numpy's JSON page is about 3 MB


class FetchLimit(Exception):
    """A resolution would fetch more than it may."""


class IndexUnreachable(Exception):
    """An index could not be read (refused, timed out, an error page): try again later."""


@dataclass
class Budget:
    """The bytes one resolution may fetch from indexes, in all."""

    limit: int
    spent: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def spend(self, count: int) -> None:
        with self._lock:
            self.spent += count
            if self.spent > self.limit:
                raise FetchLimit(
                    f"resolving these requirements would fetch more than "
                    f"{self.limit // 1_000_000} MB from the package index, the limit of this "
                    "service"
                )


@dataclass(frozen=True)
class IndexFile:
    """One file of a project, as an index lists it."""

    filename: str
    url: str
    dist: Distribution
    sha256: str | None = None
    size: int | None = None
    requires_python: str | None = None
    yanked: bool = False
    metadata_url: str | None = None  # PEP 658: the wheel's METADATA on its own


def parse_json_page(data: bytes, page_url: str) -> list[IndexFile]:
    """The files of a PEP 691 JSON project page."""
    files = []
    for entry in json.loads(data).get("files", []):
        url = urllib.parse.urljoin(page_url, entry["url"])
        metadata = entry.get("core-metadata", entry.get("dist-info-metadata"))
        made = _file(
            entry["filename"],
            url,
            (entry.get("hashes") or {}).get("sha256"),
            entry.get("size"),
            entry.get("requires-python"),
            bool(entry.get("yanked")),
            url + ".metadata" if metadata else None,
        )
        if made:
            files.append(made)
    return files


class _Anchors(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.anchors: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self.anchors.append(dict(attrs))


def parse_html_page(text: str, page_url: str) -> list[IndexFile]:
    """The files of a PEP 503 HTML project page (or a find-links page)."""
    parser = _Anchors()
    parser.feed(text)
    files = []
    for anchor in parser.anchors:
        href = anchor.get("href")
        if not href:
            continue
        url, _, fragment = urllib.parse.urljoin(page_url, href).partition("#")
        filename = urllib.parse.unquote(urllib.parse.urlsplit(url).path.rsplit("/", 1)[-1])
        sha256 = fragment.removeprefix("sha256=") if fragment.startswith("sha256=") else None
        metadata = anchor.get("data-core-metadata", anchor.get("data-dist-info-metadata"))
        made = _file(
            filename,
            url,
            sha256,
            None,
            anchor.get("data-requires-python"),  # the parser has unescaped it
            "data-yanked" in anchor,
            url + ".metadata" if metadata and metadata != "false" else None,
        )
        if made:
            files.append(made)
    return files


def folder_files(folder: Path) -> list[IndexFile]:
    """The distributions in a folder (a find-links folder, the bundle's wheels)."""
    if not folder.is_dir():
        return []
    files = []
    for path in sorted(folder.iterdir()):
        made = _file(path.name, path.resolve().as_uri(), size=path.stat().st_size)
        if made:
            files.append(made)
    return files


def _file(
    filename: str,
    url: str,
    sha256: str | None = None,
    size: int | None = None,
    requires_python: str | None = None,
    yanked: bool = False,
    metadata_url: str | None = None,
) -> IndexFile | None:
    dist = distribution(filename)
    if dist is None:
        return None
    return IndexFile(filename, url, dist, sha256, size, requires_python, yanked, metadata_url)


@dataclass(frozen=True)
class PipSettings:
    """Where pip would look for packages, from pip's own configuration."""

    index_urls: tuple[str, ...] = (PYPI,)
    find_links: tuple[str, ...] = ()
    cert: str | None = None

    @classmethod
    def read(cls) -> PipSettings:
        """pip's settings as ``pip config list`` reports them (files and ``PIP_*`` variables)."""
        done = subprocess.run(
            [sys.executable, "-m", "pip", "config", "list"],
            capture_output=True,
            text=True,
            timeout=60,
        )
        return cls.parse(done.stdout)

    @classmethod
    def parse(cls, listing: str) -> PipSettings:
        """Settings from ``pip config list``'s lines (``section.key='value'``); as pip does,
        ``PIP_*`` variables win over a command's section, which wins over ``global``."""
        precedence = {"global": 0, "download": 1, "install": 1, ":env:": 2}
        chosen: dict[str, tuple[int, str]] = {}
        for line in listing.splitlines():
            match = re.match(r"^([^.=]+|:env:)\.([a-z-]+)=(.*)$", line.strip())
            if not match or match.group(1) not in precedence:
                continue
            rank = precedence[match.group(1)]
            value = " ".join(shlex.split(match.group(3)))
            if rank >= chosen.get(match.group(2), (-1, ""))[0]:
                chosen[match.group(2)] = (rank, value)
        values = {key: value for key, (_, value) in chosen.items()}
        no_index = values.get("no-index", "").lower() in ("1", "true", "yes", "on")
        indexes = [] if no_index else [values.get("index-url", PYPI)]
        if not no_index:
            indexes += values.get("extra-index-url", "").split()
        return cls(tuple(indexes), tuple(values.get("find-links", "").split()), values.get("cert"))


class Fetcher:
    """Reads URLs (``https:``, ``http:``, ``file:``), every byte counted against a budget."""

    def __init__(self, settings: PipSettings, timeout: float = 30) -> None:
        self.client = httpx.Client(
            follow_redirects=True,
            timeout=httpx.Timeout(timeout, connect=10),
            verify=ssl.create_default_context(cafile=settings.cert) if settings.cert else True,
            headers={"User-Agent": "PeerServer (package resolution; pip-compatible)"},
        )

    def close(self) -> None:
        self.client.close()

    def get(
        self, url: str, budget: Budget, headers: dict[str, str] | None = None, limit: int = 0
    ) -> tuple[int, dict[str, str], bytes]:
        """(status, headers, body) of ``url``; a body over ``limit`` bytes (if set) is refused
        as soon as it is known to be."""
        if url.startswith("file:"):
            return self._file(url, budget, headers or {})
        chunks = []
        try:
            with self.client.stream("GET", url, headers=headers) as response:
                for chunk in response.iter_bytes():
                    budget.spend(len(chunk))
                    chunks.append(chunk)
                    if limit and sum(map(len, chunks)) > limit:
                        raise FetchLimit(f"{url} is larger than {limit // 1_000_000} MB")
                return response.status_code, dict(response.headers), b"".join(chunks)
        except httpx.HTTPError as error:
            raise IndexUnreachable(f"{_where(url)}: {error or type(error).__name__}") from None

    def download(self, url: str, target: Path, budget: Budget) -> None:
        """Write ``url``'s body to ``target`` as it arrives."""
        if url.startswith("file:"):
            source = _local_path(url)
            budget.spend(source.stat().st_size)
            target.write_bytes(source.read_bytes())
            return
        try:
            with self.client.stream("GET", url) as response, target.open("wb") as out:
                if response.status_code != 200:
                    raise IndexUnreachable(f"{_where(url)} answered {response.status_code}")
                for chunk in response.iter_bytes():
                    budget.spend(len(chunk))
                    out.write(chunk)
        except httpx.HTTPError as error:
            raise IndexUnreachable(f"{_where(url)}: {error or type(error).__name__}") from None

    def _file(
        self, url: str, budget: Budget, headers: dict[str, str]
    ) -> tuple[int, dict[str, str], bytes]:
        path = _local_path(url)
        if path.is_dir():
            path = path / "index.html"
        if not path.is_file():
            return 404, {}, b""
        data = path.read_bytes()
        wanted = re.fullmatch(r"bytes=(\d*)-(\d*)", headers.get("Range", ""))
        if wanted:  # as an HTTP server would answer a range
            start, end = wanted.groups()
            first = len(data) - int(end) if not start else int(start)
            last = len(data) - 1 if not start or not end else int(end)
            first = max(first, 0)
            part = data[first : last + 1]
            budget.spend(len(part))
            return 206, {"content-range": f"bytes {first}-{last}/{len(data)}"}, part
        budget.spend(len(data))
        return 200, {"content-type": "text/html"}, data


def _local_path(url: str) -> Path:
    return Path(urllib.request.url2pathname(urllib.parse.urlsplit(url).path))


def _where(url: str) -> str:
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}" if parts.netloc else url


class Index:
    """Every source of distributions pip would use, plus the bundle's own folders."""

    def __init__(
        self, settings: PipSettings, fetcher: Fetcher, local_folders: tuple[Path, ...] = ()
    ) -> None:
        self.settings = settings
        self.fetcher = fetcher
        self._local = [file for folder in local_folders for file in folder_files(folder)]
        self._pages: dict[str, tuple[float, list[IndexFile]]] = {}
        self._find_links: list[IndexFile] | None = None
        self._lock = threading.Lock()

    def files(self, name: str, budget: Budget) -> list[IndexFile]:
        """The files of project ``name`` (canonical) in every source."""
        files = [file for file in self._local if file.dist.name == name]
        for file in self._all_find_links(budget):
            if file.dist.name == name:
                files.append(file)
        for index_url in self.settings.index_urls:
            files += self._page(f"{index_url.rstrip('/')}/{name}/", budget)
        return files

    def _page(self, url: str, budget: Budget) -> list[IndexFile]:
        with self._lock:
            cached = self._pages.get(url)
        if cached and time.monotonic() - cached[0] < _LISTING_SECONDS:
            return cached[1]
        status, headers, body = self.fetcher.get(
            url, budget, {"Accept": _ACCEPT}, limit=_MAX_PAGE_BYTES
        )
        if status == 404:
            files = []
        elif status != 200:
            raise IndexUnreachable(f"{_where(url)} answered {status}")
        elif headers.get("content-type", "").startswith(_JSON):
            files = parse_json_page(body, url)
        else:
            files = parse_html_page(body.decode("utf-8", "replace"), url)
        with self._lock:
            self._pages[url] = (time.monotonic(), files)
        return files

    def _all_find_links(self, budget: Budget) -> Iterator[IndexFile]:
        if self._find_links is None:
            found = []
            for link in self.settings.find_links:
                if "://" not in link:
                    found += folder_files(Path(link))
                elif link.startswith("file:"):
                    found += folder_files(_local_path(link))
                else:
                    found += self._page(link, budget)
            self._find_links = found
        yield from self._find_links
