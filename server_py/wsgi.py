"""The WSGI bridge: one parsed HTTP request in, one WSGI call, a status and a body iterator out.

Kept apart from the HTTP framing (:mod:`server_py.http`) so that each can be read and tested
alone: this module knows PEP 3333 and nothing about h11 or data channels.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import IO, Any
from urllib.parse import unquote_to_bytes

# The size of one data-channel message: responses are cut, and files read, in pieces this big.
# runtime/protocol/channels.js's MAX_MESSAGE_BYTES (tests/signaling/test_channel_protocol.py).
MAX_CHUNK = 64 * 1024

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

# The request's headers as received, which an environ cannot hold (repeated ones apart, "_" and
# "-" as they were): kept as they are, for an ASGI app's scope (asgi_headers).
RECEIVED_HEADERS = "peerserver.received_headers"
# Headers that WSGI keeps out of the HTTP_ namespace (PEP 3333, "environ Variables").
_UNPREFIXED = {"content-type": "CONTENT_TYPE", "content-length": "CONTENT_LENGTH"}
# Framing the HTTP layer has already undone: the app sees a plain body with a Content-Length.
_CONSUMED = {"transfer-encoding"}
# What an ASGI app is not given as received: that framing, and the length the body restates.
_RESTATED = {name.encode("latin-1") for name in (*_CONSUMED, "content-length")}


@dataclass
class Request:
    """What the WSGI bridge needs of a request; header names are lower-case bytes as h11 gives."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    body: IO[bytes]
    body_length: int = 0
    url_scheme: str = "http"
    remote_addr: str = "peer"


@dataclass
class Response:
    """A started WSGI response: status and headers known, body still to be pulled."""

    status_code: int
    reason: bytes
    headers: list[tuple[str, str]]
    body: Iterator[bytes]
    _close: Callable[[], None] | None = field(default=None, repr=False)

    def close(self) -> None:
        """Call the app iterable's ``close()``, as PEP 3333 requires, exactly once."""
        close, self._close = self._close, None
        if close is not None:
            close()


def asgi_headers(environ: dict[str, Any]) -> list[tuple[bytes, bytes]] | None:
    """The headers of the request ``environ`` describes, as an ASGI app is given them: as
    received, but with the framing the HTTP layer undid said as for a WSGI app (a plain body of
    CONTENT_LENGTH bytes). None for an environ built elsewhere (another WSGI caller's).

    Made here, when an ASGI app asks, rather than for every request a WSGI app serves."""
    received = environ.get(RECEIVED_HEADERS)
    if received is None:
        return None
    headers = [
        (name.lower(), bytes(value)) for name, value in received if name.lower() not in _RESTATED
    ]
    if "CONTENT_LENGTH" in environ:
        headers.append((b"content-length", environ["CONTENT_LENGTH"].encode("ascii")))
    return headers


def build_environ(request: Request, errors: IO[str] | None = None) -> dict[str, Any]:
    """Build the PEP 3333 environ for ``request``."""
    path, _, query = request.target.partition(b"?")
    host = ""
    environ: dict[str, Any] = {
        "REQUEST_METHOD": request.method.decode("ascii"),
        "SCRIPT_NAME": "",
        # WSGI strings are "bytes in latin-1 clothing"; the app decodes them as UTF-8 itself.
        "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
        "QUERY_STRING": query.decode("latin-1"),
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": request.remote_addr,
        "wsgi.version": (1, 0),
        "wsgi.url_scheme": request.url_scheme,
        "wsgi.input": request.body,
        "wsgi.errors": errors if errors is not None else sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
        "wsgi.file_wrapper": FileWrapper,
    }
    for raw_name, raw_value in request.headers:
        name = raw_name.decode("latin-1").lower()
        value = raw_value.decode("latin-1")
        if name == "host":
            host = value
        if name in _CONSUMED:
            continue
        key = _UNPREFIXED.get(name) or "HTTP_" + name.upper().replace("-", "_")
        # Repeated headers are joined as RFC 9110 allows; cookies use "; " as their own separator.
        if key in environ:
            environ[key] += ("; " if key == "HTTP_COOKIE" else ", ") + value
        else:
            environ[key] = value
    # The body is complete before the app runs (chunked or not), so its length is known.
    if request.body_length or "CONTENT_LENGTH" in environ:
        environ["CONTENT_LENGTH"] = str(request.body_length)
    environ[RECEIVED_HEADERS] = request.headers
    default_port = "443" if request.url_scheme == "https" else "80"
    server_name, _, port = host.rpartition(":") if _has_port(host) else (host, "", default_port)
    environ["SERVER_NAME"] = server_name or "localhost"
    environ["SERVER_PORT"] = port or default_port
    return environ


def _has_port(host: str) -> bool:
    # "[::1]:8000" has a port, "[::1]" has none.
    return ":" in host and not host.endswith("]")


def call_app(app: WSGIApp, environ: dict[str, Any]) -> Response:
    """Call ``app`` and return once it has called ``start_response``.

    The body stays lazy, so a streaming response is pulled chunk by chunk by the HTTP layer
    instead of being collected here. An app may call ``start_response`` late (from inside its
    iterator); we then pull until it has, buffering what it yielded before.
    """
    __traceback_hide__ = True  # Werkzeug's debugger then shows the site's frames only
    started: list[tuple[str, list[tuple[str, str]]]] = []
    body_started = False

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None):
        if exc_info is not None:
            if body_started:
                raise exc_info[1].with_traceback(exc_info[2])
            started.clear()
        elif started:
            raise AssertionError("start_response called twice without exc_info")
        started.append((status, list(headers)))
        return _write_not_supported

    result = app(environ, start_response)
    iterator = iter(result)
    buffered: list[bytes] = []
    while not started:
        try:
            buffered.append(next(iterator))
        except StopIteration:
            break
    if not started:
        raise RuntimeError("the WSGI app returned without calling start_response")
    status, headers = started[-1]
    code, _, reason = status.partition(" ")

    def body() -> Iterator[bytes]:
        nonlocal body_started
        body_started = True
        yield from buffered
        yield from iterator

    return Response(
        int(code), reason.encode("latin-1"), headers, body(), getattr(result, "close", None)
    )


class FileWrapper:
    """``wsgi.file_wrapper``: read files in blocks of one data-channel message.

    Werkzeug's ``send_file`` asks for 8 KiB blocks; a whole 64 KiB message per read keeps the
    per-message overhead of a large download low.
    """

    block_size = MAX_CHUNK

    def __init__(self, file: IO[bytes], block_size: int = 0) -> None:
        self.file = file

    def __iter__(self) -> Iterator[bytes]:
        while block := self.file.read(self.block_size):
            yield block

    def close(self) -> None:
        self.file.close()


def _write_not_supported(data: bytes) -> None:
    raise NotImplementedError(
        "the legacy WSGI write() callable is not supported; return an iterable instead"
    )
