"""ASGI applications (Starlette, Quart, a bare ``async def app``) served through the WSGI bridge.

The server tab's worker has one thread, and Pyodide's own event loop only turns between
JavaScript events, so a request cannot wait on it. The bridge runs the ASGI app on a private
event loop instead, and runs that loop only while the HTTP layer pulls the response: up to the
response start, then up to each body chunk. The app's ``send`` returns once its chunk has been
taken, so a large or streaming response keeps memory flat as a WSGI one does, and a request
that never finishes is stopped by the same time limit (the loop only runs inside the worker's
busy window). Lifespan events run when the site loads and before it reloads.

WebSockets live longer than any one call: their handlers run on the same loop (a chat's
handlers share its state), turned by :meth:`ASGIBridge.run_ready` whenever a visitor sent
something, a socket drained, or a timer of theirs is due; the worker asks when that is.

Where the site's threads run (server_py/threads.py), a connection that waits for the loop waits
between its turns, as a thread: until the loop's next timer, or until something it waits for
may have happened (another connection's turn, a thread handing the loop work with
``call_soon_threadsafe``: a database writer answering, an executor's future done). Meanwhile the
site's threads and its other requests run, each turning the same loop; a turn itself is never
switched away from (see ``threads.held``). ``run_in_executor`` and ``asyncio.to_thread`` run
on threads then.
"""

from __future__ import annotations

import asyncio
import collections
import inspect
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from http import HTTPStatus
from typing import IO, Any

from server_py.event_loop import EventLoop
from server_py.websocket import Disconnected, Received, WebSocket
from server_py.wsgi import MAX_CHUNK, asgi_headers

Message = dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[dict[str, Any], Receive, Send], Awaitable[None]]

ASGI_VERSION = {"version": "3.0", "spec_version": "2.4"}


def is_asgi_app(app: Any) -> bool:
    """Whether ``app`` is an ASGI 3 application (an async callable) rather than a WSGI one."""
    if inspect.isclass(app):
        return False
    return inspect.iscoroutinefunction(app) or (
        callable(app) and inspect.iscoroutinefunction(app.__call__)
    )


class ASGIBridge:
    """A WSGI application that serves the ASGI application ``app``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self._loop = EventLoop()
        self._lifespan: _Lifespan | None = None
        self._state: dict[str, Any] = {}  # what lifespan startup leaves for requests
        self._sockets: set[_WebSocketExchange] = set()

    def startup(self) -> None:
        """Send ``lifespan.startup``; raise :class:`RuntimeError` if the app reports failure.

        An app that does not speak the lifespan protocol (it raises or returns) is served
        without it, as the ASGI spec asks of servers.
        """
        lifespan = _Lifespan(self._loop, self._state)
        lifespan.start(self._loop, self.app(lifespan.scope, lifespan.receive, lifespan.send))
        self._run_until(lifespan, lambda: lifespan.outcome is not None, raise_errors=False)
        if lifespan.task.done() and not lifespan.task.cancelled():
            lifespan.task.exception()  # an app without lifespan support: served without it
        if lifespan.outcome == "lifespan.startup.failed":
            lifespan.task.cancel()
            raise RuntimeError(f"the app's lifespan startup failed: {lifespan.message}")
        if lifespan.outcome == "lifespan.startup.complete":
            self._lifespan = lifespan

    def shutdown(self, reason: str = "the site's code changed") -> None:
        """Close the app's WebSockets with 1012 (Service Restart), as uvicorn does when it
        restarts, then send ``lifespan.shutdown`` and wait for the app to finish it; failures
        are printed."""
        for exchange in list(self._sockets):
            exchange.server_close(1012, reason)
        self.run_ready()
        for exchange in list(self._sockets):  # a handler that did not end when told
            assert exchange.task is not None
            exchange.task.cancel()
        self.run_ready()
        lifespan, self._lifespan = self._lifespan, None
        if lifespan is None:
            return
        lifespan.outcome = None
        lifespan.wake(lifespan.shutting_down)
        self._run_until(lifespan, lambda: lifespan.outcome is not None, raise_errors=False)
        if lifespan.outcome == "lifespan.shutdown.failed":
            print(f"the app's lifespan shutdown failed: {lifespan.message}", file=sys.stderr)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]):
        exchange = _Exchange(self._loop, environ["wsgi.input"])
        scope = http_scope(environ, dict(self._state))
        exchange.start(self._loop, self.app(scope, exchange.receive, exchange.send))
        body = _Body(self, exchange, environ["wsgi.errors"])
        try:
            self._run_until(exchange, lambda: exchange.head is not None)
            if exchange.head is None:
                raise RuntimeError("the ASGI app returned without sending a response")
        except BaseException:
            body.close(cancel=True)
            raise
        start_response(*exchange.head)
        return body

    def websocket(
        self, environ: dict[str, Any], socket: WebSocket, errors: IO[str]
    ) -> _WebSocketExchange:
        """Start the app on the WebSocket ``socket``, whose upgrade request ``environ``
        describes; its handler runs when :meth:`run_ready` turns the loop."""
        scope = {
            **http_scope(environ, dict(self._state)),
            "type": "websocket",
            "scheme": "wss" if environ["wsgi.url_scheme"] == "https" else "ws",
            "subprotocols": socket.subprotocols,
            "extensions": {"websocket.http.response": {}},
        }
        del scope["method"]
        exchange = _WebSocketExchange(self._loop, socket, errors)
        exchange.start(self._loop, self.app(scope, exchange.receive, exchange.send))
        self._sockets.add(exchange)
        assert exchange.task is not None
        exchange.task.add_done_callback(lambda _: self._sockets.discard(exchange))
        return exchange

    def run_ready(self) -> tuple[bool, float | None]:
        """Run what the app's tasks can do now, without waiting for anything.

        Returns whether anything ran, and the seconds until the next timer of theirs (None:
        they wait for visitors only)."""
        return self._loop.turn()

    def _run_until(
        self, exchange: _Exchange | _Lifespan, ready: Callable[[], bool], raise_errors: bool = True
    ) -> None:
        """Run the loop until ``ready()`` or until the app's task is over."""
        task = exchange.task
        assert task is not None
        while not ready():
            if task.done():
                if raise_errors and not task.cancelled():
                    task.result()  # the app's own exception, for the HTTP layer to report
                return
            exchange.progress = self._loop.create_future()
            self._loop.run_until_done(exchange.progress)


class _Waiting:
    """What the driver of the loop and an app's coroutine share: the task, and a wake-up."""

    task: asyncio.Task[Any] | None = None
    progress: asyncio.Future[Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop, coroutine: Awaitable[None]) -> None:
        self.task = loop.create_task(coroutine)  # type: ignore[arg-type]
        self.task.add_done_callback(lambda _: self.notify())

    def notify(self) -> None:
        """Stop the loop's current run: something the driver waits for may have happened."""
        if self.progress is not None:
            self.wake(self.progress)

    @staticmethod
    def wake(future: asyncio.Future[Any]) -> None:
        """Settle ``future``; drivers of its loop waiting between turns turn it."""
        if not future.done():
            future.set_result(None)
            future.get_loop()._write_to_self()  # type: ignore[attr-defined]


class _Exchange(_Waiting):
    """One HTTP request and its response, as the ASGI app sees them."""

    def __init__(self, loop: asyncio.AbstractEventLoop, body: IO[bytes]) -> None:
        self._body = body
        self._body_done = False
        self.disconnected = loop.create_future()
        self._loop = loop
        self.head: tuple[str, list[tuple[str, str]]] | None = None
        self.chunks: collections.deque[tuple[bytes, asyncio.Future[Any]]] = collections.deque()
        self.finished = False

    def has_news(self) -> bool:
        """Whether the body iterator has something to do: a chunk to pass on, or the end."""
        return bool(self.chunks) or self.finished

    async def receive(self) -> Message:
        if not self._body_done:
            chunk = self._body.read(MAX_CHUNK)
            more = len(chunk) == MAX_CHUNK
            self._body_done = not more
            return {"type": "http.request", "body": chunk, "more_body": more}
        await self.disconnected  # after the body, nothing comes until the peer goes away
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        if self.disconnected.done():
            return  # the response is no longer wanted; apps may finish what they were doing
        kind = message["type"]
        if kind == "http.response.start":
            if self.head is not None:
                raise RuntimeError("http.response.start sent twice")
            status = int(message["status"])
            self.head = (f"{status} {_reason(status)}", _decoded(message.get("headers", [])))
        elif kind == "http.response.body":
            if self.head is None:
                raise RuntimeError("http.response.body sent before http.response.start")
            if self.finished:
                raise RuntimeError("http.response.body sent after the response ended")
            self.finished = not message.get("more_body", False)
            chunk = bytes(message.get("body", b""))
            if chunk:
                taken = self._loop.create_future()
                self.chunks.append((chunk, taken))
                self.notify()
                await asyncio.wait({taken, self.disconnected}, return_when=asyncio.FIRST_COMPLETED)
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r} for an HTTP request")
        self.notify()


class _Body:
    """The WSGI response iterable: each chunk is pulled out of the app when the channel asks."""

    def __init__(self, bridge: ASGIBridge, exchange: _Exchange, errors: IO[str]) -> None:
        self._bridge = bridge
        self._exchange = exchange
        self._errors = errors

    def __iter__(self) -> Iterator[bytes]:
        exchange = self._exchange
        while True:
            if exchange.chunks:
                chunk, taken = exchange.chunks.popleft()
                exchange.wake(taken)
                yield chunk
            elif exchange.finished:
                return
            else:
                self._bridge._run_until(exchange, exchange.has_news)
                if not exchange.has_news():
                    raise RuntimeError("the ASGI app returned before its response was complete")

    def close(self, cancel: bool = False) -> None:
        """Tell the app the exchange is over and let it finish (background tasks run now).

        With ``cancel``, the app's error has been reported already: stop it where it is.
        """
        exchange = self._exchange
        assert exchange.task is not None
        exchange.wake(exchange.disconnected)
        if cancel:
            exchange.task.cancel()
        try:
            self._bridge._run_until(exchange, lambda: False, raise_errors=not cancel)
        except Exception:
            traceback.print_exc(file=self._errors)


class ClientDisconnected(OSError):
    """``send`` on a WebSocket the visitor has closed (the ASGI spec asks for an ``OSError``;
    Starlette turns it into ``WebSocketDisconnect``)."""


class _WebSocketExchange(_Waiting):
    """One WebSocket, as the ASGI app sees it: the ``websocket`` scope's messages."""

    # The app's ``send`` waits while more than this is written and not yet sent on.
    HIGH_WATER = 1024 * 1024

    def __init__(self, loop: asyncio.AbstractEventLoop, socket: WebSocket, errors: IO[str]):
        self._loop = loop
        self.socket = socket
        self._errors = errors
        self._incoming: collections.deque[Message] = collections.deque(
            [{"type": "websocket.connect"}]
        )
        self._disconnect: Message | None = None  # once told, for any later receive
        self._arrived: asyncio.Future[Any] | None = None
        self._drained: asyncio.Future[Any] | None = None

    def start(self, loop: asyncio.AbstractEventLoop, coroutine: Awaitable[None]) -> None:
        super().start(loop, coroutine)
        assert self.task is not None
        self.task.add_done_callback(self._ended)

    # -- from the connection -----------------------------------------------------------

    def deliver(self, event: Received | Disconnected) -> None:
        """What the visitor sent, or that the socket closed."""
        if isinstance(event, Received):
            key = "text" if isinstance(event.data, str) else "bytes"
            self._incoming.append({"type": "websocket.receive", key: event.data})
        else:
            disconnect = {"type": "websocket.disconnect", "code": event.code}
            self._incoming.append({**disconnect, "reason": event.reason})
            if self._drained is not None:
                self.wake(self._drained)
        if self._arrived is not None:
            self.wake(self._arrived)

    def drained(self) -> None:
        """Some of what the app sent has gone on: a waiting ``send`` may return."""
        if self._drained is not None and self.socket.buffered <= self.HIGH_WATER:
            self.wake(self._drained)

    def server_close(self, code: int, reason: str) -> None:
        """The server closes the socket (its Python restarts, the code changed)."""
        if self.socket.close_code is None:
            self.socket.close(code, reason)
            self.deliver(Disconnected(code, reason))

    # -- the app's side ----------------------------------------------------------------

    async def receive(self) -> Message:
        while not self._incoming:
            if self._disconnect is not None:
                return self._disconnect
            self._arrived = self._loop.create_future()
            await self._arrived
        message = self._incoming.popleft()
        if message["type"] == "websocket.disconnect":
            self._disconnect = message
        return message

    async def send(self, message: Message) -> None:
        socket = self.socket
        kind = message["type"]
        if kind == "websocket.accept":
            if socket.status is not None:
                raise RuntimeError("websocket.accept sent twice, or after a response")
            socket.accept(message.get("subprotocol"), _decoded(message.get("headers", [])))
        elif kind == "websocket.send":
            if not socket.accepted:
                raise RuntimeError("websocket.send sent before websocket.accept")
            if socket.close_code is not None:
                raise ClientDisconnected(f"the WebSocket is closed ({socket.close_code})")
            data = message.get("bytes")
            socket.send(bytes(data) if data is not None else str(message.get("text", "")))
            while socket.buffered > self.HIGH_WATER and socket.close_code is None:
                self._drained = self._loop.create_future()
                await self._drained
        elif kind == "websocket.close":
            if socket.status is None:  # before accepting: the handshake is refused
                socket.reject(403)
            else:
                socket.close(int(message.get("code", 1000)), message.get("reason") or "")
        elif kind == "websocket.http.response.start":
            if socket.status is not None:
                raise RuntimeError("websocket.http.response.start after the handshake's answer")
            socket.reject_start(int(message["status"]), _decoded(message.get("headers", [])))
        elif kind == "websocket.http.response.body":
            socket.reject_body(bytes(message.get("body", b"")), message.get("more_body", False))
        else:
            raise RuntimeError(f"unexpected ASGI message type {kind!r} for a WebSocket")

    def _ended(self, task: asyncio.Task[Any]) -> None:
        """The app's handler returned or failed: the socket ends as uvicorn would end it."""
        failed = not task.cancelled() and task.exception() is not None
        if failed:
            error = task.exception()
            traceback.print_exception(type(error), error, error.__traceback__, file=self._errors)
        socket = self.socket
        if socket.status is None:
            socket.reject(500 if failed else 403)
        elif socket.is_open:
            socket.close(1011 if failed else 1000)


class _Lifespan(_Waiting):
    """The lifespan protocol's side of the server: startup when loaded, shutdown before reload."""

    def __init__(self, loop: asyncio.AbstractEventLoop, state: dict[str, Any]) -> None:
        self.scope = {"type": "lifespan", "asgi": ASGI_VERSION, "state": state}
        self.shutting_down = loop.create_future()
        self._started = False
        self.outcome: str | None = None
        self.message = ""

    async def receive(self) -> Message:
        if not self._started:
            self._started = True
            return {"type": "lifespan.startup"}
        await self.shutting_down
        return {"type": "lifespan.shutdown"}

    async def send(self, message: Message) -> None:
        self.outcome = message["type"]
        self.message = message.get("message", "")
        self.notify()


def http_scope(environ: dict[str, Any], state: dict[str, Any]) -> dict[str, Any]:
    """The ASGI ``http`` scope for a request the HTTP layer has described as a WSGI environ,
    with its headers as received (repeated ones apart, ``_`` and ``-`` as they were); from
    another WSGI caller (a test client), with the headers its environ holds."""
    headers = asgi_headers(environ)
    if headers is None:
        headers = [
            (_header_name(key).encode("latin-1"), value.encode("latin-1"))
            for key, value in environ.items()
            if key.startswith("HTTP_") or key in ("CONTENT_TYPE", "CONTENT_LENGTH")
        ]
    return {
        "type": "http",
        "asgi": ASGI_VERSION,
        "http_version": environ["SERVER_PROTOCOL"].removeprefix("HTTP/"),
        "method": environ["REQUEST_METHOD"],
        "scheme": environ["wsgi.url_scheme"],
        # WSGI strings are bytes in latin-1 clothing; ASGI paths are decoded as UTF-8.
        "path": environ["PATH_INFO"].encode("latin-1").decode("utf-8", "replace"),
        "query_string": environ["QUERY_STRING"].encode("latin-1"),
        "root_path": environ.get("SCRIPT_NAME", ""),
        "headers": list(headers),
        "client": (environ.get("REMOTE_ADDR", ""), 0),
        "server": (environ["SERVER_NAME"], int(environ["SERVER_PORT"])),
        "state": state,
    }


def _header_name(key: str) -> str:
    """``HTTP_X_FORWARDED_FOR`` -> ``x-forwarded-for``, ``CONTENT_TYPE`` -> ``content-type``."""
    return key.removeprefix("HTTP_").replace("_", "-").lower()


def _decoded(headers: Any) -> list[tuple[str, str]]:
    return [
        (bytes(name).decode("latin-1"), bytes(value).decode("latin-1")) for name, value in headers
    ]


def _reason(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Unknown"
