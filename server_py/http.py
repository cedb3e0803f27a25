"""One HTTP/1.1 connection (one data channel) as a sans-IO state machine.

h11 parses the request bytes and frames the response; :mod:`server_py.wsgi` calls the app.
The caller feeds bytes with :meth:`HTTPConnection.receive_data` and pulls what to send with
:meth:`HTTPConnection.data_to_send`, in pieces no larger than the caller asks for. Pulling is
what keeps memory flat: the response body is only read from the app when the channel has
room for more, so a 100 MB ``send_file`` never sits in memory whole.

A request to upgrade to a WebSocket is offered to the ``websockets`` callable (the site's ASGI
app serves them); if it takes it, the connection carries that WebSocket's frames from then on
(:mod:`server_py.websocket`). A WSGI app sees the request as any other ``GET``, as it would
under any WSGI server.
"""

from __future__ import annotations

import sys
import tempfile
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formatdate
from typing import IO, Any, Protocol

import h11
from wsproto.utilities import RemoteProtocolError as WebSocketHandshakeError

from server_py.cookies import VisitorCookies
from server_py.websocket import CLOSE_MEANINGS, Disconnected, Received, WebSocket, is_upgrade
from server_py.wsgi import MAX_CHUNK, Request, Response, WSGIApp, build_environ, call_app
from server_py.wsgi_socket import ConnectionSocket

__all__ = ["DEFAULT_MAX_BODY_BYTES", "MAX_CHUNK", "HTTPConnection", "RequestRecord"]
# Request bodies above this size go to a temporary file instead of staying in a bytes buffer.
_SPOOL_LIMIT = 1024 * 1024
# A larger request body is refused with 413 as soon as that is known (from its Content-Length,
# or once a chunked body passes it), without reading the rest.
DEFAULT_MAX_BODY_BYTES = 512 * 1024 * 1024
# Request line and headers together (h11 answers 431 past it).
MAX_HEAD_BYTES = 64 * 1024


@dataclass(frozen=True)
class RequestRecord:
    """One line of the server tab's request log."""

    method: str
    target: str
    status: int
    duration_ms: float
    client: str
    note: str = ""  # a WebSocket's state: open, or how it closed


class WebSocketHandler(Protocol):
    """What serves one WebSocket: told what the visitor sent and when the socket drained."""

    def deliver(self, event: Received | Disconnected) -> None: ...

    def drained(self) -> None: ...


# Given the upgrade request (as an environ) and its socket, the handler that serves it, or None
# where the app serves no WebSockets.
WebSocketApp = Callable[[dict[str, Any], WebSocket], WebSocketHandler | None]


class HTTPConnection:
    """Serve ``app`` over one HTTP/1.1 byte stream, request after request (keep-alive)."""

    def __init__(
        self,
        app: WSGIApp,
        *,
        url_scheme: str = "http",
        client: str = "peer",
        errors: IO[str] | None = None,
        on_response: Callable[[RequestRecord], None] | None = None,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
        visitor: tuple[VisitorCookies, str] | None = None,
        websockets: WebSocketApp | None = None,
        wsgi_sockets: Callable[[], ConnectionSocket] | None = None,
    ) -> None:
        self._app = app
        self._websockets = websockets
        # Where threads run, a WSGI app may take the connection's socket for a WebSocket
        # (server_py.wsgi_socket): from the upgrade request on, the connection is its.
        self._wsgi_sockets = wsgi_sockets
        self._wsgi_socket: ConnectionSocket | None = None
        self._wsgi_socket_done = False  # the app that took it returned
        self._socket: WebSocket | None = None  # once the connection is a WebSocket
        self._socket_handler: WebSocketHandler | None = None
        self._socket_answer_logged = False
        self._note = ""  # what the log says of the current request besides its status
        self._max_body_bytes = max_body_bytes
        # The jars of HttpOnly cookies and this connection's visitor, when the server keeps them.
        self._visitor = visitor
        self._url_scheme = url_scheme
        self._client = client
        self._errors = errors if errors is not None else sys.stderr
        self._on_response = on_response
        self._h11 = h11.Connection(h11.SERVER, max_incomplete_event_size=MAX_HEAD_BYTES)
        self._outgoing = bytearray()
        self._head_held = False  # a response's head, until its body's first bytes join it
        self._body_left: int | None = None  # what its Content-Length still promises
        self._request: h11.Request | None = None
        self._body: IO[bytes] | None = None
        self._response: Response | None = None
        self._started_at = 0.0
        self._aborted = False

    # -- the caller's side -------------------------------------------------------------

    def receive_data(self, data: bytes) -> None:
        """Feed bytes that arrived from the peer; ``b""`` means the peer closed its side."""
        if self._aborted:
            return
        if self._socket is not None:
            self._deliver(self._socket.receive_data(data))
            return
        if self._wsgi_socket is not None:
            self._wsgi_socket.feed(data)
            return
        self._h11.receive_data(data)
        self._process_events()

    def data_to_send(self, max_bytes: int = MAX_CHUNK) -> bytes:
        """Return up to ``max_bytes`` of bytes to send now, or ``b""`` if none are ready.

        The app's body is pulled only until there is something to send: a streaming response
        goes out chunk by chunk as the app yields it, not once 64 KiB have piled up.
        """
        if self._socket is not None:
            return self._socket_data(max_bytes)
        if self._wsgi_socket is not None:
            return self._wsgi_socket.take(max_bytes)
        # The head waits for the body's first bytes (PEP 3333 says so): one message, not two.
        while (not self._outgoing or self._head_held) and self._response is not None:
            self._pull_body()
        chunk = bytes(self._outgoing[:max_bytes])
        del self._outgoing[:max_bytes]
        return chunk

    def close(self) -> None:
        """The peer went away (its channel closed): stop producing the response now. The app's
        iterable is closed as PEP 3333 says, so a generator's ``finally`` runs at once."""
        if self._socket is not None and not self._aborted:
            self._deliver(self._socket.receive_data(b""))
            self._log_socket_end()
        if self._wsgi_socket is not None:
            self._wsgi_socket.feed(b"")  # the app's reader learns the visitor left
        if self._response is not None:
            self._abort()
        self._aborted = True
        self._outgoing.clear()
        if self._body is not None:
            self._body.close()
            self._body = None

    @property
    def has_pending_output(self) -> bool:
        """Whether :meth:`data_to_send` would return bytes now."""
        if self._socket is not None:
            return self._socket.buffered > 0
        if self._wsgi_socket is not None:
            return self._wsgi_socket.pending
        return bool(self._outgoing) or self._response is not None

    @property
    def is_websocket(self) -> bool:
        return self._socket is not None or self.socket_taken

    @property
    def socket_taken(self) -> bool:
        """Whether a WSGI app has (or may take) this connection's socket: what arrives is the
        socket's, not HTTP requests."""
        return self._wsgi_socket is not None

    @property
    def client(self) -> str:
        """Who the connection is from (the app's ``REMOTE_ADDR``)."""
        return self._client

    @property
    def should_close(self) -> bool:
        """True once everything is sent and HTTP says this connection ends here."""
        if self.has_pending_output:
            return False
        if self._socket is not None:
            return self._aborted or self._socket.finished
        if self._wsgi_socket is not None:
            return self._aborted or self._wsgi_socket_done or self._wsgi_socket.closed
        return self._aborted or self._h11.our_state in (h11.MUST_CLOSE, h11.CLOSED, h11.ERROR)

    # -- reading requests ----------------------------------------------------------------

    def _process_events(self) -> None:
        while self._response is None and self._socket is None and not self._aborted:
            if self._h11.our_state is h11.DONE and self._h11.their_state is h11.DONE:
                self._h11.start_next_cycle()
            try:
                event = self._h11.next_event()
            except h11.RemoteProtocolError as error:
                self._reject(error)
                return
            if event is h11.NEED_DATA or event is h11.PAUSED:
                if self._h11.they_are_waiting_for_100_continue:
                    self._send(h11.InformationalResponse(status_code=100, headers=[]))
                return
            if isinstance(event, h11.Request):
                self._request = event
                self._started_at = time.perf_counter()
                problem = _framing_problem(event)
                if problem is not None:
                    self._close_with(*problem)
                    return
                if _declared_length(event) > self._max_body_bytes:
                    self._refuse_body()
                    return
                # Lives until the response is finished, across calls: closed in _finish_response.
                self._body = tempfile.SpooledTemporaryFile(max_size=_SPOOL_LIMIT)  # noqa: SIM115
            elif isinstance(event, h11.Data):
                assert self._body is not None
                if self._body.tell() + len(event.data) > self._max_body_bytes:
                    self._refuse_body()
                    return
                self._body.write(event.data)
            elif isinstance(event, h11.EndOfMessage):
                self._start_response()
            elif isinstance(event, h11.ConnectionClosed):
                return

    def _reject(self, error: h11.RemoteProtocolError) -> None:
        """Answer a request we cannot parse, as any web server would, then close."""
        status = error.error_status_hint
        self._close_with(status, f"{status} Bad request: {error}\n")

    def _refuse_body(self) -> None:
        """The request's body is over the limit: 413, and the rest of it is never read."""
        limit = self._max_body_bytes
        self._close_with(
            413, f"413 Content Too Large: request bodies are limited to {limit} bytes.\n"
        )
        if self._request is not None:
            self._log(self._request, 413)
        if self._body is not None:
            self._body.close()
            self._body = None

    def _close_with(self, status: int, text: str) -> None:
        """Send a plain-text error response, then nothing more on this connection."""
        if self._h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            self._aborted = True
            return
        body = text.encode()
        self._send(
            h11.Response(
                status_code=status,
                headers=[
                    ("Content-Type", "text/plain; charset=utf-8"),
                    ("Content-Length", str(len(body))),
                    ("Connection", "close"),
                ],
            )
        )
        self._send(h11.Data(data=body))
        self._send(h11.EndOfMessage())
        self._aborted = True  # whatever else the peer sends is not read

    # -- writing responses -------------------------------------------------------------

    def _start_response(self) -> None:
        request, body = self._request, self._body
        assert request is not None and body is not None
        body_length = body.tell()
        body.seek(0)
        headers = list(request.headers)
        if self._visitor is not None:
            headers = self._with_kept_cookies(headers)
        environ = build_environ(
            Request(
                method=request.method,
                target=request.target,
                headers=headers,
                body=body,
                body_length=body_length,
                url_scheme=self._url_scheme,
                remote_addr=self._client,
            ),
            errors=self._errors,
        )
        upgrading = is_upgrade(request.method, headers)
        websocket = self._websockets is not None
        if upgrading and websocket and self._upgrade(environ, request.target, headers):
            return
        if upgrading and self._wsgi_sockets is not None:
            self._offer_socket(environ)
        # An upgrade a WSGI app answers: the owner learns why the page's socket failed.
        self._note = _WSGI_WEBSOCKET if upgrading and self._wsgi_socket is None else ""
        try:
            response = call_app(self._app, environ)
        except Exception:
            if self._wsgi_socket is None or not self._wsgi_socket.used:
                traceback.print_exc(file=self._errors)
            response = _internal_error()
        if self._wsgi_socket is not None:
            if self._wsgi_socket.used:
                self._socket_returned(response)
                return
            self._wsgi_socket = None  # not taken: its answer goes out as any other
        headers = self._response_headers(response.headers)
        try:
            # Building the event validates the headers without touching the connection state.
            head = h11.Response(
                status_code=response.status_code, headers=headers, reason=response.reason
            )
        except h11.LocalProtocolError as error:
            print(f"invalid response from the app: {error}", file=self._errors)
            response.close()
            response = _internal_error()
            head = h11.Response(status_code=500, headers=response.headers)
        self._send(head)
        self._response = response
        self._head_held = True
        self._body_left = next(
            (int(value) for name, value in head.headers if name == b"content-length"), None
        )
        if request.method == b"HEAD" or response.status_code in (204, 304):
            self._finish_response()

    def _response_headers(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        """The app's response headers as they go out."""
        # Whitespace around a field value is not part of it (RFC 9110 5.5): servers strip it,
        # and Django's WSGI handler sends its cookies with a leading space.
        headers = [(name, value.strip(" \t")) for name, value in headers]
        if self._visitor is not None:
            headers = self._keep_http_only(headers)
        if not any(name.lower() == "date" for name, _ in headers):
            headers.append(("Date", formatdate(usegmt=True)))
        return headers

    # -- WebSockets ----------------------------------------------------------------------

    def _upgrade(
        self, environ: dict[str, Any], target: bytes, headers: list[tuple[bytes, bytes]]
    ) -> bool:
        """Offer the upgrade request to the app; True if this connection is its WebSocket now."""
        assert self._websockets is not None
        try:
            socket = WebSocket(target, headers, headers_out=self._response_headers)
        except WebSocketHandshakeError as error:  # a version other than 13, say
            self._close_with(400, f"400 Bad request: {error}\n")
            return True
        handler = self._websockets(environ, socket)
        if handler is None:
            return False
        self._socket, self._socket_handler = socket, handler
        if self._body is not None:
            self._body.close()
            self._body = None
        data, _ = self._h11.trailing_data  # frames sent right behind the request
        if data:
            self._deliver(socket.receive_data(data))
        return True

    def _offer_socket(self, environ: dict[str, Any]) -> None:
        """Offer the connection's socket to the WSGI app, as Werkzeug's server does."""
        assert self._wsgi_sockets is not None
        socket = self._wsgi_sockets()
        environ["werkzeug.socket"] = socket
        self._wsgi_socket = socket
        data, _ = self._h11.trailing_data  # frames sent right behind the request
        if data:
            socket.feed(data)

    def _socket_returned(self, response: Response) -> None:
        """The app that took the socket returned (its WebSocket is over): whatever it answers
        as a response is not sent; the connection closes once what it wrote has gone."""
        assert self._request is not None
        response.close()
        self._wsgi_socket_done = True
        self._log(self._request, 101, "WebSocket closed (the app's own)")
        if self._body is not None:
            self._body.close()
            self._body = None

    def _deliver(self, events: list[Received | Disconnected]) -> None:
        assert self._socket_handler is not None
        for event in events:
            self._socket_handler.deliver(event)

    def _socket_data(self, max_bytes: int) -> bytes:
        socket, handler = self._socket, self._socket_handler
        assert socket is not None and handler is not None
        if socket.status is not None and not self._socket_answer_logged:
            self._socket_answer_logged = True
            self._log_socket("WebSocket open" if socket.accepted else "WebSocket refused")
        chunk = socket.data_to_send(max_bytes)
        handler.drained()
        return chunk

    def _log_socket_end(self) -> None:
        socket = self._socket
        assert socket is not None
        if not socket.accepted:
            return
        code = socket.close_code or 1006
        meaning = CLOSE_MEANINGS.get(code, "")
        self._log_socket(
            f"WebSocket closed {code}{f' ({meaning})' if meaning else ''} · "
            f"{socket.messages_in} messages in, {socket.messages_out} out"
        )

    def _log_socket(self, note: str) -> None:
        assert self._socket is not None and self._request is not None
        status = self._socket.status or 101
        self._log(self._request, status, note)

    def _url(self) -> str:
        assert self._request is not None
        host = dict(self._request.headers).get(b"host", b"").decode("latin-1")
        return f"{self._url_scheme}://{host}{self._request.target.decode('latin-1')}"

    def _with_kept_cookies(self, headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
        assert self._visitor is not None
        cookies, identity = self._visitor
        sent = "; ".join(v.decode("latin-1") for n, v in headers if n == b"cookie") or None
        header = cookies.cookie_header(identity, self._url(), sent)
        others = [(name, value) for name, value in headers if name != b"cookie"]
        return others if header is None else [*others, (b"cookie", header.encode("latin-1"))]

    def _keep_http_only(self, headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
        assert self._visitor is not None
        cookies, identity = self._visitor
        set_cookies = [value for name, value in headers if name.lower() == "set-cookie"]
        if not set_cookies:
            return headers
        visible = cookies.keep(identity, self._url(), set_cookies)
        others = [(name, value) for name, value in headers if name.lower() != "set-cookie"]
        return others + [("Set-Cookie", value) for value in visible]

    def _pull_body(self) -> None:
        response = self._response
        assert response is not None
        try:
            chunk = next(response.body)
        except StopIteration:
            self._finish_response()
            return
        except Exception:
            # Headers are gone already; all HTTP lets us do is cut the connection short.
            traceback.print_exc(file=self._errors)
            self._abort()
            return
        if chunk:
            self._head_held = False
            try:
                self._send(h11.Data(data=chunk))
            except h11.LocalProtocolError as error:  # more bytes than its Content-Length
                print(f"invalid response from the app: {error}", file=self._errors)
                self._abort()
                return
            if self._body_left is not None:
                self._body_left -= len(chunk)
                if self._body_left == 0:
                    self._pull_body()  # its end is due: the response ends with its last bytes

    def _finish_response(self) -> None:
        response, request = self._response, self._request
        assert response is not None and request is not None
        try:
            self._send(h11.EndOfMessage())
        except h11.LocalProtocolError as error:  # fewer bytes than its Content-Length
            print(f"invalid response from the app: {error}", file=self._errors)
            self._abort()
            return
        finally:
            response.close()
        self._response = None
        if self._body is not None:
            self._body.close()
            self._body = None
        self._log(request, response.status_code, self._note)
        self._process_events()

    def _abort(self) -> None:
        if self._response is not None:
            self._response.close()
            if self._request is not None:
                self._log(self._request, self._response.status_code)
        self._response = None
        self._aborted = True

    def _log(self, request: h11.Request, status: int, note: str = "") -> None:
        if self._on_response is not None:
            self._on_response(
                RequestRecord(
                    method=request.method.decode("ascii"),
                    target=request.target.decode("latin-1"),
                    status=status,
                    duration_ms=(time.perf_counter() - self._started_at) * 1000,
                    client=self._client,
                    note=note,
                )
            )

    def _send(self, event: h11.Event) -> None:
        data = self._h11.send(event)
        if data:
            self._outgoing += data


_WSGI_WEBSOCKET = (
    "a WebSocket asked of a WSGI app (Flask, Django), which cannot keep one open: an ASGI app "
    "can (Quart, Starlette, FastAPI)"
)


def _framing_problem(request: h11.Request) -> tuple[int, str] | None:
    """Why a parsed request head must be refused, if it must.

    h11 limits only the part of a head still incomplete, so a head a little over the limit
    that arrives whole is measured here. A request with both Content-Length and
    Transfer-Encoding is the shape of request smuggling: refused, as RFC 9112 (6.3) allows."""
    size = (
        len(request.method)
        + len(request.target)
        + sum(len(name) + len(value) + 4 for name, value in request.headers)
    )
    if size > MAX_HEAD_BYTES:
        return 431, f"431 Request Header Fields Too Large: the limit is {MAX_HEAD_BYTES} bytes.\n"
    names = {name for name, _ in request.headers}
    if b"content-length" in names and b"transfer-encoding" in names:
        return 400, "400 Bad request: both Content-Length and Transfer-Encoding.\n"
    return None


def _declared_length(request: h11.Request) -> int:
    """The body length a request announces (0 when chunked or none): h11 has checked it."""
    for name, value in request.headers:
        if name == b"content-length":
            return int(value)
    return 0


def _internal_error() -> Response:
    body = (
        b"<!doctype html><title>500 Internal Server Error</title>"
        b"<h1>Internal Server Error</h1><p>The site failed to answer this request.</p>"
    )
    return Response(
        500,
        b"Internal Server Error",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
        iter([body]),
    )
