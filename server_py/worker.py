"""The face ``server_py`` shows to the server tab's Web Worker.

The worker's JavaScript owns the I/O: it moves bytes between data channels and this object,
one connection id per data channel, and carries the workbench's calls. Everything here is
synchronous and returns plain values (bytes, str, bool, dicts of them), so the JavaScript side
stays thin.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from server_py import threads
from server_py.builds import BuildFailed, build_wheel, install_wheel, wheel_requires
from server_py.console import Console
from server_py.cookies import VisitorCookies, is_identity
from server_py.http import MAX_CHUNK, HTTPConnection, RequestRecord, WebSocketHandler
from server_py.site import RestartNeeded, Site, SiteLoadError
from server_py.threads import Flag
from server_py.websocket import Disconnected, Received, WebSocket
from server_py.workbench import Workbench, WorkbenchError
from server_py.wsgi import WSGIApp
from server_py.wsgi_socket import ConnectionSocket

try:
    from pyodide.ffi import JsProxy
except ImportError:  # CPython: there are no JavaScript values to convert
    JsProxy = type("JsProxy", (), {})

# A visitor's WebSockets open at once, past which a new one is closed at once with 1013 (Try
# Again Later): a page that leaks sockets, or a visitor that means harm, cannot take them all.
MAX_WEBSOCKETS_PER_VISITOR = 64

# What the server tab may call through SiteServer.call, besides "reload": the workbench's
# operations, and the Console's (by the name the server tab calls them).
WORKBENCH_CALLS = frozenset({
    "list_files", "read_file", "write_file", "rename", "delete", "export_zip", "import_zip",
    "databases", "tables", "rows", "query",
})  # fmt: skip
CONSOLE_CALLS = {"run": "run", "console": "line", "runs_apart": "runs_apart"}


class SiteServer:
    """Serve one site folder to any number of HTTP/1.1 connections."""

    def __init__(
        self,
        root: str,
        on_request: Callable[[dict[str, Any]], None] | None = None,
        state: str | None = None,
        on_output: Callable[[str], None] | None = None,
        address: str = "",
    ):
        """``state`` is a folder apart from the site's files where the server keeps what is
        not the site's own: its visitors' HttpOnly cookies (:mod:`server_py.cookies`).
        ``on_output`` gets what a long console command (``pytest``) prints, as it prints it.
        ``address`` is the site's public URL (what its app must allow)."""
        self.site = Site(root, address)
        self._cookies = VisitorCookies(Path(state) / "cookies") if state else None
        # The wheels built from this site's source packages, kept with what the server keeps
        # for the site (a stranger's site cannot put a build where another site would use it).
        self._builds = Path(state) / "builds" if state else None
        self.workbench = Workbench(self.site)
        self.console = Console(self.site, on_output)
        self._on_request = on_request
        self._app: WSGIApp | None = None
        self._load_error: dict[str, Any] | None = None
        self._connections: dict[int, HTTPConnection] = {}
        self.requests_started = 0  # lets the worker tell whether a request may have written

    def unpack(self, archive: bytes) -> None:
        """Replace the site folder's contents with the files of a zip archive."""
        root = self.site.root
        root.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(io.BytesIO(_as_bytes(archive))) as bundle:
            bundle.extractall(root)

    def load(self) -> dict[str, Any]:
        """(Re)load the site's code. Returns ``{"ok": True, "module": ..., "noApp": ...}`` (what
        serves the site, or why nothing could, for a site with Python code but no app) or the
        error, with the module that still serves (``None`` when nothing does).

        On failure the previously loaded app, if any, stays live.
        """
        os.chdir(self.site.root)  # relative paths in the site mean what they do under `flask run`
        try:
            self._app = self.site.load()
        except RestartNeeded as needed:
            return {"ok": False, "restart": True, "reason": str(needed)}
        except SiteLoadError as error:
            self._load_error = {
                "ok": False,
                "message": error.message,
                "traceback": error.traceback_text,
                "filename": error.filename,
                "lineno": error.lineno,
                "package": error.package,
                "module": self.site.app_module if self._app is not None else None,
            }
            return self._load_error
        self._load_error = None
        loaded = {
            "ok": True,
            "module": self.site.app_module,
            "noApp": self.site.no_app_reason,
            "mainFile": self.site.main_file,
        }
        if self.site.warning:  # what will keep visitors out (Django's ALLOWED_HOSTS)
            loaded["warning"] = self.site.warning
        return loaded

    def install_built(self, sha256: str, site_packages: str) -> dict[str, Any] | None:
        """Install this site's earlier build of the source package ``sha256``, if it has one:
        ``{"filename", "requires"}``; else None."""
        folder = self._builds / sha256 if self._builds else None
        kept = sorted(folder.glob("*.whl")) if folder and folder.is_dir() else []
        if not kept:
            return None
        wheel = kept[0].read_bytes()
        install_wheel(wheel, site_packages)
        return {"filename": kept[0].name, "requires": wheel_requires(wheel)}

    def install_source(
        self,
        sdist: Any,
        filename: str,
        sha256: str,
        build: dict[str, Any],
        tools: list[Any],
        site_packages: str,
    ) -> dict[str, Any]:
        """Build a source package (the server tab's own work: see :mod:`server_py.builds`),
        keep the wheel for the next start, and install it. Returns ``{"ok": True, "filename",
        "requires"}`` or ``{"ok": False, "error"}``."""
        build = _from_js(build)
        try:
            built = build_wheel(
                _as_bytes(sdist),
                filename,
                build["backend"],
                list(build.get("backendPath", [])),
                [_as_bytes(tool) for tool in _from_js(tools)],
                list(build.get("compiledSources", [])),
                dict(build.get("environment", {})),
            )
        except BuildFailed as error:
            return {"ok": False, "error": str(error)}
        if self._builds is not None:
            folder = self._builds / sha256
            folder.mkdir(parents=True, exist_ok=True)
            (folder / built.filename).write_bytes(built.wheel)
        install_wheel(built.wheel, site_packages)
        return {"ok": True, "filename": built.filename, "requires": built.requires}

    def call(self, method: str, *args: Any) -> dict[str, Any]:
        """Run a workbench operation (or ``reload``) for the server tab.

        Returns ``{"value": ...}``, or ``{"error": message}`` for what the owner asked wrong.
        """
        args = tuple(_from_js(arg) for arg in args)
        if method == "reload":
            return {"value": self.load()}
        if method in WORKBENCH_CALLS:
            operation = getattr(self.workbench, method)
        elif method in CONSOLE_CALLS:
            operation = getattr(self.console, CONSOLE_CALLS[method])
        else:
            raise ValueError(f"unknown workbench call {method!r}")
        try:
            return {"value": operation(*args)}
        except WorkbenchError as error:
            return {"error": str(error)}

    def open(
        self, conn_id: int, url_scheme: str = "http", client: str = "peer", identity: str = ""
    ) -> None:
        """A new connection from ``client``. With the ``identity`` of a visitor's browser (its
        certificate's fingerprint), the server keeps that visitor's HttpOnly cookies."""
        visitor = (self._cookies, identity) if self._cookies and is_identity(identity) else None
        self._connections[conn_id] = HTTPConnection(
            self._dispatch,
            url_scheme=url_scheme,
            client=client,
            on_response=self._record,
            visitor=visitor,
            websockets=self._websocket,
            # A WSGI app may serve a WebSocket on the connection's socket where threads wait.
            wsgi_sockets=(lambda: ConnectionSocket(Flag)) if threads.installed() else None,
        )

    def receive(self, conn_id: int, data: bytes) -> None:
        self._connections[conn_id].receive_data(_as_bytes(data))

    def data_to_send(self, conn_id: int, max_bytes: int = MAX_CHUNK) -> bytes:
        return self._connections[conn_id].data_to_send(max_bytes)

    def socket_taken(self, conn_id: int) -> bool:
        """Whether what arrives on ``conn_id`` is for the socket a WSGI app took: it goes to it
        at once, whatever the app is waiting for (see server_py.wsgi_socket)."""
        connection = self._connections.get(conn_id)
        return connection is not None and connection.socket_taken

    def has_pending_output(self, conn_id: int) -> bool:
        return self._connections[conn_id].has_pending_output

    def should_close(self, conn_id: int) -> bool:
        return self._connections[conn_id].should_close

    def close(self, conn_id: int) -> None:
        connection = self._connections.pop(conn_id, None)
        if connection is not None:
            connection.close()

    @property
    def polls(self) -> bool:
        """Whether :meth:`poll` may have anything to do: there is an ASGI app's event loop, or a
        WebSocket (a WSGI app's among them). Asked before every poll, which costs far more."""
        return self.site.asgi is not None or any(
            conn.is_websocket for conn in self._connections.values()
        )

    def poll(self) -> dict[str, Any]:
        """Let the app's WebSocket handlers do what they can now (see
        :meth:`server_py.asgi.ASGIBridge.run_ready`). Returns ``{"ran"}``: whether any code
        ran, ``{"ready"}``: the WebSocket connections with bytes to send, and ``{"wakeMs"}``:
        when to call again for the handlers' timers (None: when visitors send something)."""
        bridge = self.site.asgi
        ran, wake = bridge.run_ready() if bridge is not None else (False, None)
        ready = [
            conn_id
            for conn_id, conn in self._connections.items()
            if conn.is_websocket and (conn.has_pending_output or conn.should_close)
        ]
        return {"ran": ran, "ready": ready, "wakeMs": None if wake is None else wake * 1000}

    def stop(self, reason: str) -> list[int]:
        """Python is about to stop: close the app's WebSockets with 1012 (Service Restart) and
        return the connections whose last bytes should go out first."""
        if self.site.asgi is not None:
            self.site.asgi.shutdown(reason)
        return [conn_id for conn_id, conn in self._connections.items() if conn.is_websocket]

    def _websocket(self, environ: dict[str, Any], socket: WebSocket) -> WebSocketHandler | None:
        bridge = self.site.asgi
        if bridge is None:
            return None  # a WSGI app: the upgrade request is an ordinary GET to it
        client = environ.get("REMOTE_ADDR", "")
        open_sockets = sum(
            1
            for connection in self._connections.values()
            if connection.is_websocket and connection.client == client
        )
        if open_sockets >= MAX_WEBSOCKETS_PER_VISITOR:
            socket.accept()
            limit = MAX_WEBSOCKETS_PER_VISITOR
            socket.close(1013, f"{limit} WebSockets open: the most a visitor may have")
            return _Refused()
        self.requests_started += 1
        return bridge.websocket(environ, socket, environ["wsgi.errors"])

    def _dispatch(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        # Looked up per request, so a reload takes effect on open connections too.
        self.requests_started += 1
        if self._app is None:  # the site's code has never loaded: say so, plainly
            error = self._load_error or {"message": "The site is not loaded yet."}
            body = (
                "The site's code failed to load; its owner can see why in the server tab.\n\n"
                f"{error['message']}\n"
            ).encode()
            start_response(
                "503 Service Unavailable",
                [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
            )
            return [body]
        return self._app(environ, start_response)

    def _record(self, record: RequestRecord) -> None:
        if self._on_request is not None:
            self._on_request(dict(vars(record)))  # flat: no need for asdict's deep copies


class _Refused:
    """The handler of a socket the server closed as it opened: nothing reaches the app."""

    def deliver(self, event: Received | Disconnected) -> None:
        pass

    def drained(self) -> None:
        pass


def _from_js(value: Any) -> Any:
    """A Python value for an argument that may be a JavaScript one (under Pyodide)."""
    if not isinstance(value, JsProxy):
        return value
    return _as_bytes(value) if hasattr(value, "BYTES_PER_ELEMENT") else value.to_py()


def _as_bytes(data: Any) -> bytes:
    """Bytes from a Python bytes-like object or, under Pyodide, a JavaScript Uint8Array."""
    return data.to_bytes() if isinstance(data, JsProxy) else bytes(data)
