"""Serve a site's own files around its app, the way PeerServer sites have always worked.

A PeerServer site is a folder: HTML, CSS, images and, optionally, a Flask app. A route of the
app always wins over a file of the same path (as in the 2013 original), and what the route
answers stands, a 404 included. A path no route claims is a file of the folder, ``/dir/``
serving ``dir/index.html``; failing that, the app answers it, and if that is a 404 and the site
has a ``404.html``, that page is the answer. (For a WSGI app without a Werkzeug URL map, which
cannot say what it routes, files come first and any 404 of the app is the site's page.)

Source code and data are never served as files: Python files, hidden files, ``__pycache__``,
sqlite databases, and the ``templates/`` and ``instance/`` folders Flask reserves.
"""

from __future__ import annotations

import mimetypes
import posixpath
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from werkzeug.exceptions import HTTPException, NotFound
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
    """WSGI middleware: the app's routes, then the files under ``root``, then ``404.html``."""

    def __init__(self, app: WSGIApp | None, root: Path) -> None:
        self.app = app
        self.root = root

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        __traceback_hide__ = True  # see server_py.wsgi.call_app
        routed = self._app_has_route(environ)
        if not routed:
            path = environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace")
            found = self._find(path)
            if isinstance(found, str):  # a folder asked for without its trailing slash
                query = environ.get("QUERY_STRING")
                location = found + ("?" + query if query else "")
                return redirect(location, 308)(environ, start_response)
            if found is not None:
                return send_file(found, environ, mimetype=_guess_type(found))(
                    environ, start_response
                )
        if self.app is None:
            return self._not_found(environ, start_response)
        response = call_app(self.app, environ)
        if response.status_code == 404 and not routed and (self.root / "404.html").is_file():
            response.close()  # nothing of the app's was asked for: the site's page says so
            return self._not_found(environ, start_response)
        start_response(
            f"{response.status_code} {response.reason.decode('latin-1')}", response.headers
        )
        return _ClosingIterable(response.body, response.close)

    def _app_has_route(self, environ: dict[str, Any]) -> bool | None:
        """Whether the app routes this path (its own 404 then stands); None if unknowable.

        Flask, and any app with a Werkzeug URL map, can say; Flask's own static route does not
        count, as it serves the same files this layer does.
        """
        url_map = getattr(self.app, "url_map", None)
        if url_map is None or not hasattr(url_map, "bind_to_environ"):
            return None
        try:
            endpoint, _ = url_map.bind_to_environ(environ).match()
        except NotFound:
            return False
        except HTTPException:  # wrong method, or a redirect to add a slash: a route is there
            return True
        return endpoint != "static"

    def _not_found(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        page = self.root / "404.html"
        if page.is_file():
            response = send_file(page, environ, mimetype="text/html", conditional=False)
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
