"""The connection's own socket, for a WSGI app that takes it over to serve a WebSocket.

WSGI has no way to keep a connection open past a response; WebSocket libraries for WSGI apps
(simple-websocket, under flask-sock) take the connection's socket instead, as Werkzeug's
development server offers it in ``environ["werkzeug.socket"]``: they write the handshake and
the frames themselves, and read what the visitor sends on a thread of their own, waiting for
it. This is that socket, over one of the server tab's HTTP connections (:mod:`server_py.http`):
what the visitor sends after the upgrade request is fed to it, what the app sends goes out as
it is. It needs threads that wait (:mod:`server_py.threads`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Flag = Any  # server_py.threads.Flag: set() never waits; wait(timeout) waits for it


class ConnectionSocket:
    """The socket a WSGI app is handed for an upgrade request; ``flag()`` makes what ``recv``
    waits on."""

    def __init__(self, flag: Callable[[], Flag]) -> None:
        self._incoming = bytearray()
        self._outgoing = bytearray()
        self._arrived = flag()
        self.used = False  # whether the app took it (else its response is answered as usual)
        self.closed = False  # by the app
        self.peer_closed = False  # by the visitor
        self.timeout: float | None = None

    # -- the app's side: what a socket of Python's offers, as far as WSGI servers' are used ---

    def recv(self, size: int, flags: int = 0) -> bytes:
        """Up to ``size`` bytes the visitor sent, waiting for some; ``b""`` once it closed."""
        self.used = True
        while not self._incoming and not self.peer_closed and not self.closed:
            self._arrived.clear()
            if not self._arrived.wait(self.timeout):
                raise TimeoutError("timed out")
        chunk = bytes(self._incoming[:size])
        del self._incoming[:size]
        return chunk

    def send(self, data: bytes, flags: int = 0) -> int:
        self.used = True
        if self.closed or self.peer_closed:
            raise BrokenPipeError("the visitor's connection is closed")
        self._outgoing += data
        return len(data)

    def sendall(self, data: bytes, flags: int = 0) -> None:
        self.send(data)

    def close(self) -> None:
        self.closed = True
        self._arrived.set()

    def shutdown(self, how: int) -> None:
        self.close()

    def settimeout(self, timeout: float | None) -> None:
        self.timeout = timeout

    def gettimeout(self) -> float | None:
        return self.timeout

    def setblocking(self, blocking: bool) -> None:
        self.timeout = None if blocking else 0.0

    # -- the connection's side -------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the visitor (``b""``: it closed); wakes the app's reader. Never waits."""
        if data:
            self._incoming += data
        else:
            self.peer_closed = True
        self._arrived.set()

    def take(self, max_bytes: int) -> bytes:
        """What the app sent, up to ``max_bytes``."""
        chunk = bytes(self._outgoing[:max_bytes])
        del self._outgoing[:max_bytes]
        return chunk

    @property
    def pending(self) -> bool:
        return bool(self._outgoing)
