"""Serve a site's own files around its app, the way PeerServer sites have always worked.

A PeerServer site is a folder: HTML, CSS, images and, optionally, a Flask app. The app answers
first, so a route always wins over a file of the same path (as in the 2013 original). When the
app has no answer (404), the file at that path is served, ``/dir/`` serving ``dir/index.html``.
When nothing matches and the site has a ``404.html``, that page is the 404 response.

Source code and data are never served as files: Python files, hidden files, ``__pycache__``,
sqlite databases, and the ``templates/`` and ``instance/`` folders Flask reserves.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.security import safe_join
from werkzeug.utils import redirect, send_file

from server_py.wsgi import WSGIApp, call_app

_PRIVATE_SUFFIXES = {".py", ".pyc", ".db", ".sqlite", ".sqlite3"}
_PRIVATE_TOP_FOLDERS = {"templates", "instance", "__pycache__"}


def is_public(relative_path: str) -> bool:
    """Whether a file at ``relative_path`` (``/``-separated) may be served to visitors."""
    parts = [part for part in relative_path.split("/") if part]
    if not parts or parts[0] in _PRIVATE_TOP_FOLDERS:
        return False
    if any(part.startswith(".") or part == "__pycache__" for part in parts):
        return False
    return posixpath.splitext(parts[-1])[1].lower() not in _PRIVATE_SUFFIXES


class StaticFiles:
    """WSGI middleware: ``app`` first, then the files under ``root``, then ``404.html``."""

    def __init__(self, app: WSGIApp | None, root: Path) -> None:
        self.app = app
        self.root = root

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        if self.app is not None:
            response = call_app(self.app, environ)
            if response.status_code != 404:
                start_response(
                    f"{response.status_code} {response.reason.decode('latin-1')}", response.headers
                )
                return _ClosingIterable(response.body, response.close)
            response.close()
        return self._serve_file(environ, start_response)

    def _serve_file(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
        found = self._find(path)
        if isinstance(found, str):  # a folder asked for without its trailing slash
            query = environ.get("QUERY_STRING")
            return redirect(found + ("?" + query if query else ""), 308)(environ, start_response)
        if found is not None:
            return send_file(found, environ, mimetype=_guess_type(found))(environ, start_response)
        not_found = self.root / "404.html"
        if not_found.is_file():
            response = send_file(not_found, environ, mimetype="text/html", conditional=False)
            response.status_code = 404
            return response(environ, start_response)
        body = b"<!doctype html><title>404 Not Found</title><h1>Not Found</h1>"
        start_response(
            "404 Not Found",
            [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        )
        return [body]

    def _find(self, path: str) -> Path | str | None:
        """The file for ``path``, a redirect target (str) for a bare folder, or None."""
        relative = path.lstrip("/")
        joined = safe_join(str(self.root), relative) if relative else str(self.root)
        if joined is None:
            return None
        candidate = Path(joined)
        if candidate.is_dir():
            if path and not path.endswith("/"):
                return path + "/" if (candidate / "index.html").is_file() else None
            candidate = candidate / "index.html"
            relative = posixpath.join(relative, "index.html")
        if candidate.is_file() and is_public(relative):
            return candidate
        return None


def _guess_type(path: Path) -> str:
    mimetype, _ = mimetypes.guess_type(path.name)
    return mimetype or "application/octet-stream"


class _ClosingIterable:
    """Pass a body through while keeping the original iterable's ``close()`` (PEP 3333)."""

    def __init__(self, body: Iterable[bytes], close: Callable[[], None]) -> None:
        self._body = body
        self.close = close

    def __iter__(self):
        return iter(self._body)
