"""The ES modules a page's entry module imports, all the way down, as
``<link rel="modulepreload">`` elements for the page.

A browser discovers a module's imports only once the module has arrived, so a graph four
levels deep (the server tab: server-tab.js, site-host.js, site-store.js, idb.js) costs four
round trips before the first line runs; preloaded, the modules come side by side with the
entry. (The visitor's shell goes further: it is one module, built by signaling.bundle.)
Only the project's own modules are read, and only their static ``import``/``export ... from``
statements, which start a line; a specifier that leads outside the served folders is left out.
"""

from __future__ import annotations

import html
import posixpath
import re
from collections.abc import Mapping
from pathlib import Path

_STATIC_IMPORT = re.compile(
    r"""^[ \t]*(?:
        import\s*["']([^"']+)["']                                 # import "x"
        | (?:import|export)\b[^;"'`]*?\bfrom\s*["']([^"']+)["']  # import/export ... from "x"
    )""",
    re.M | re.X,
)


def _file_for(url: str, folders: Mapping[str, Path]) -> Path | None:
    for prefix, folder in folders.items():
        if url.startswith(prefix):
            path = (folder / url[len(prefix) :]).resolve()
            if path.is_relative_to(folder.resolve()) and path.is_file():
                return path
    return None


def imported_modules(entry: str, folders: Mapping[str, Path]) -> list[str]:
    """The URL paths of every module ``entry`` (a URL path) imports, directly or not, in the
    order they are found; ``folders`` maps URL prefixes ("/__ps/web/") to the folders served
    there."""
    found: list[str] = []
    entry_file = _file_for(entry, folders)
    todo = [(entry, entry_file)] if entry_file else []
    while todo:
        url, path = todo.pop(0)
        for bare, named in _STATIC_IMPORT.findall(path.read_text(encoding="utf-8")):
            specifier = bare or named
            if not specifier.startswith(("/", "./", "../")):
                continue  # a bare name or a full URL: not one of ours
            imported = posixpath.normpath(posixpath.join(posixpath.dirname(url), specifier))
            if imported == entry or imported in found:
                continue
            if file := _file_for(imported, folders):
                found.append(imported)
                todo.append((imported, file))
    return found


def with_preloads(page: str, entry: str, folders: Mapping[str, Path]) -> str:
    """``page`` (HTML) with a modulepreload link for each module ``entry`` imports, placed
    before the entry's own script element."""
    script = f'<script type="module" src="{entry}"></script>'
    if script not in page:
        raise ValueError(f"the page does not load {entry} as a module")
    links = "".join(
        f'<link rel="modulepreload" href="{html.escape(url)}">\n  '
        for url in imported_modules(entry, folders)
    )
    return page.replace(script, links + script)
