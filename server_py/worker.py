"""The face ``server_py`` shows to the server tab's Web Worker.

The worker's JavaScript owns the I/O: it moves bytes between data channels and this object,
one connection id per data channel. Everything here is synchronous and returns plain values
(bytes, str, bool, dicts of them), so the JavaScript side stays thin.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from dataclasses import asdict
from typing import Any

from server_py.http import MAX_CHUNK, HTTPConnection, RequestRecord
from server_py.site import Site, SiteLoadError
from server_py.wsgi import WSGIApp


class SiteServer:
    """Serve one site folder to any number of HTTP/1.1 connections."""

    def __init__(self, root: str, on_request: Callable[[dict[str, Any]], None] | None = None):
        self.site = Site(root)
        self._on_request = on_request
        self._app: WSGIApp | None = None
        self._connections: dict[int, HTTPConnection] = {}

    def unpack(self, archive: bytes) -> None:
        """Replace the site folder's contents with the files of a zip archive."""
        root = self.site.root
        root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(_as_bytes(archive))) as bundle:
            bundle.extractall(root)

    def load(self) -> dict[str, Any]:
        """(Re)load the site's code. Returns ``{"ok": True, "module": ...}`` or the error.

        On failure the previously loaded app, if any, stays live.
        """
        os.chdir(self.site.root)  # relative paths in the site mean what they do under `flask run`
        try:
            self._app = self.site.load()
        except SiteLoadError as error:
            return {
                "ok": False,
                "message": error.message,
                "traceback": error.traceback_text,
                "filename": error.filename,
                "lineno": error.lineno,
            }
        return {"ok": True, "module": self.site.app_module}

    def open(self, conn_id: int, url_scheme: str = "http", client: str = "peer") -> None:
        if self._app is None:
            raise RuntimeError("the site is not loaded")
        self._connections[conn_id] = HTTPConnection(
            self._dispatch, url_scheme=url_scheme, client=client, on_response=self._record
        )

    def receive(self, conn_id: int, data: bytes) -> None:
        self._connections[conn_id].receive_data(_as_bytes(data))

    def data_to_send(self, conn_id: int, max_bytes: int = MAX_CHUNK) -> bytes:
        return self._connections[conn_id].data_to_send(max_bytes)

    def has_pending_output(self, conn_id: int) -> bool:
        return self._connections[conn_id].has_pending_output

    def should_close(self, conn_id: int) -> bool:
        return self._connections[conn_id].should_close

    def close(self, conn_id: int) -> None:
        connection = self._connections.pop(conn_id, None)
        if connection is not None:
            connection.receive_data(b"")

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        # Looked up per request, so a reload takes effect on open connections too.
        assert self._app is not None
        return self._app(environ, start_response)

    def _record(self, record: RequestRecord) -> None:
        if self._on_request is not None:
            self._on_request(asdict(record))


def _as_bytes(data: Any) -> bytes:
    """Bytes from a Python bytes-like object or, under Pyodide, a JavaScript Uint8Array."""
    to_bytes = getattr(data, "to_bytes", None)  # pyodide.ffi.JsProxy of a typed array
    return to_bytes() if callable(to_bytes) else bytes(data)
