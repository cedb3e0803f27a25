"""One WebSocket (RFC 6455), from its upgrade request on, as a sans-IO object.

A visitor's page opens a WebSocket to the site as it would to any server: an HTTP/1.1 ``GET``
with ``Upgrade: websocket`` on a channel of its own, answered ``101 Switching Protocols``, then
frames both ways. :mod:`server_py.http` parses the request and hands the connection over to a
:class:`WebSocket`, which wsproto frames; the app's side (:mod:`server_py.asgi`) accepts or
rejects it, sends messages and closes it through the methods here, and is told what the
visitor sent as :class:`Received` and :class:`Disconnected` events.

The limits are the server's, not the app's: a message larger than ``max_message_bytes`` closes
the socket with 1009 (Message Too Big), as uvicorn does with its ``ws_max_size``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import wsproto
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate
from wsproto.utilities import LocalProtocolError

# uvicorn's default, and what a page's message may reasonably be.
DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024

# RFC 6455 7.4.1 and the IANA registry: what a close code means, for the server tab's log.
CLOSE_MEANINGS = {
    1000: "normal",
    1001: "going away",
    1002: "protocol error",
    1003: "unsupported data",
    1005: "no code",
    1006: "connection lost",
    1007: "invalid data",
    1008: "policy violation",
    1009: "message too big",
    1011: "server error",
    1012: "service restart",
    1013: "try again later",
}

Headers = list[tuple[str, str]]


@dataclass(frozen=True)
class Received:
    """A whole message from the visitor: ``str`` for a text message, ``bytes`` for binary."""

    data: str | bytes


@dataclass(frozen=True)
class Disconnected:
    """The socket is closed for the app: by the visitor, by the server, or the channel went."""

    code: int
    reason: str = ""


def is_upgrade(method: bytes, headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether a parsed request asks to become a WebSocket (RFC 6455 4.2.1)."""
    if method != b"GET":
        return False
    fields = {}
    for name, value in headers:
        fields.setdefault(name.lower(), []).append(value.lower())
    connection = b",".join(fields.get(b"connection", []))
    upgrade = b",".join(fields.get(b"upgrade", []))
    return (
        b"upgrade" in {token.strip() for token in connection.split(b",")}
        and b"websocket" in {token.strip() for token in upgrade.split(b",")}
        and b"sec-websocket-key" in fields
    )


class WebSocket:
    """The server's end of one WebSocket, after its upgrade request was read.

    ``headers_out`` adjusts the headers of the server's answer to the upgrade (the server tab
    keeps the HttpOnly cookies it sets, as for any response).
    """

    def __init__(
        self,
        target: bytes,
        headers: list[tuple[bytes, bytes]],
        *,
        headers_out: Callable[[Headers], Headers] = lambda headers: headers,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    ) -> None:
        self._ws = wsproto.WSConnection(wsproto.ConnectionType.SERVER)
        self._ws.initiate_upgrade_connection(headers, target)
        request = next(self._ws.events())
        assert isinstance(request, Request)
        self.subprotocols: list[str] = list(request.subprotocols)
        self._offered_extensions = list(request.extensions)
        self._headers_out = headers_out
        self._max_message_bytes = max_message_bytes
        self._outgoing = bytearray()
        self._message: list[str | bytes] = []
        self._message_size = 0
        self.accepted = False
        self.status: int | None = None  # 101, or the status of the HTTP answer that refused it
        self.close_code: int | None = None  # once the socket is closed for the app
        self.messages_in = 0
        self.messages_out = 0

    # -- the app's side ------------------------------------------------------------------

    @property
    def is_open(self) -> bool:
        return self._ws.state is ConnectionState.OPEN

    def accept(self, subprotocol: str | None = None, headers: Headers = ()) -> None:
        """Answer ``101 Switching Protocols``: the socket is open.

        permessage-deflate is agreed to when the client offers it (Python's websockets does;
        the pages' sockets do not, their channel being local already)."""
        offered = any(
            str(offer).startswith(PerMessageDeflate.name) for offer in self._offered_extensions
        )
        accept = AcceptConnection(
            subprotocol=subprotocol,
            extensions=[PerMessageDeflate()] if offered else [],
            extra_headers=self._encoded(headers),
        )
        self._send(accept)
        self.accepted = True
        self.status = 101

    def reject(self, status: int, headers: Headers = (), body: bytes = b"") -> None:
        """Answer the upgrade with an ordinary HTTP response instead (403 by default in ASGI):
        the visitor's page sees its socket fail, as with any server."""
        encoded = self._encoded(headers)
        has_length = any(name.lower() == b"content-length" for name, _ in encoded)
        if body and not has_length:
            encoded.append((b"content-length", str(len(body)).encode()))
        self._send(RejectConnection(status_code=status, headers=encoded, has_body=bool(body)))
        if body:
            self._send(RejectData(data=body, body_finished=True))
        self.status = status
        self._closed_for_app(1006)

    def reject_start(self, status: int, headers: Headers) -> None:
        """The head of a refusal whose body follows (ASGI's ``websocket.http.response``)."""
        self._send(
            RejectConnection(status_code=status, headers=self._encoded(headers), has_body=True)
        )
        self.status = status

    def reject_body(self, chunk: bytes, more: bool) -> None:
        self._send(RejectData(data=chunk, body_finished=not more))
        if not more:
            self._closed_for_app(1006)

    def send(self, data: str | bytes) -> None:
        """Send one message; ignored once the socket is closing (the visitor will not read it)."""
        if not self.is_open:
            return
        message = TextMessage(data=data) if isinstance(data, str) else BytesMessage(data=data)
        self._send(message)
        self.messages_out += 1

    def close(self, code: int = 1000, reason: str = "") -> None:
        """Start the closing handshake (or finish it, if the visitor started it)."""
        if self._ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
            self._send(CloseConnection(code=code, reason=_fit_reason(reason)))
        self._closed_for_app(code)

    @property
    def buffered(self) -> int:
        """Bytes written and not yet taken by :meth:`data_to_send`."""
        return len(self._outgoing)

    # -- the connection's side -----------------------------------------------------------

    def receive_data(self, data: bytes) -> list[Received | Disconnected]:
        """Bytes from the visitor (``b""``: its channel closed); what they mean for the app."""
        if self._ws.state in (ConnectionState.CLOSED, ConnectionState.REJECTING):
            return []
        if self._ws.state is ConnectionState.CONNECTING:
            # The visitor sent frames before being accepted, or left: only leaving matters.
            if data:
                return []
            self._closed_for_app(1006)
            return [Disconnected(1006)]
        self._ws.receive_data(data or None)
        return [event for event in map(self._app_event, self._ws.events()) if event is not None]

    def data_to_send(self, max_bytes: int) -> bytes:
        chunk = bytes(self._outgoing[:max_bytes])
        del self._outgoing[:max_bytes]
        return chunk

    @property
    def finished(self) -> bool:
        """Nothing more will be sent or read: the channel may close once the bytes are out."""
        return self._ws.state is ConnectionState.CLOSED

    def _app_event(self, event: object) -> Received | Disconnected | None:
        if isinstance(event, Ping):
            self._send(event.response())
        elif isinstance(event, CloseConnection):
            if self._ws.state is ConnectionState.REMOTE_CLOSING:
                self._send(event.response())  # the closing handshake's answer
            elif self._ws.state is ConnectionState.OPEN:  # a protocol error, found by wsproto
                self._send(CloseConnection(code=event.code, reason=_fit_reason(event.reason)))
            if self.close_code is not None:
                return None  # the app (or the server) closed first: it knows already
            self._closed_for_app(int(event.code))
            return Disconnected(int(event.code), event.reason or "")
        elif isinstance(event, (TextMessage, BytesMessage)) and self.is_open:
            self._message_size += len(event.data)
            if self._message_size > self._max_message_bytes:
                limit = self._max_message_bytes
                self.close(1009, f"messages are limited to {limit} bytes")
                return Disconnected(1009, f"the visitor's message was over {limit} bytes")
            self._message.append(event.data)
            if event.message_finished:
                pieces, self._message, self._message_size = self._message, [], 0
                self.messages_in += 1
                joined = "".join(pieces) if isinstance(event, TextMessage) else b"".join(pieces)
                return Received(joined)
        return None

    def _closed_for_app(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code

    def _encoded(self, headers: Headers) -> list[tuple[bytes, bytes]]:
        return [
            (name.encode("latin-1"), value.encode("latin-1"))
            for name, value in self._headers_out(list(headers))
        ]

    def _send(self, event: object) -> None:
        try:
            self._outgoing += self._ws.send(event)
        except LocalProtocolError as error:
            raise RuntimeError(f"WebSocket: {error}") from error


def _fit_reason(reason: str) -> str:
    """A close reason is at most 123 bytes of UTF-8 (RFC 6455 5.5: control frames carry 125)."""
    encoded = reason.encode("utf-8")[:123]
    return encoded.decode("utf-8", "ignore")
