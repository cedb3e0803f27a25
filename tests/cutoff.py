"""A TCP forwarder on loopback that a test can cut: what a browser reaches through it loses its
connections at once, and cannot make new ones, until the test restores it. It stands for a
network that fails between one browser and the signaling service, while the browser's other
paths (its peer connections) go on."""

from __future__ import annotations

import selectors
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness import free_port

_CHUNK = 64 * 1024


class Cutoff:
    """Forwards 127.0.0.1:``port`` to 127.0.0.1:``target``, in a thread of its own."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.port = free_port()
        self._lock = threading.Lock()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._listener: socket.socket | None = None
        self._selector = selectors.DefaultSelector()
        self._stopped = False
        self._wake_r, self._wake_w = socket.socketpair()
        self._selector.register(self._wake_r, selectors.EVENT_READ, "wake")
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.restore()
        self._thread.start()

    def cut(self) -> None:
        """Close every connection through it, and refuse new ones."""
        with self._lock:
            if self._listener is not None:
                self._selector.unregister(self._listener)
                self._listener.close()
                self._listener = None
            for pair in self._pairs:
                for end in pair:
                    self._selector.unregister(end)
                    end.close()
            self._pairs.clear()
        self._wake()

    def restore(self) -> None:
        """Accept connections again, on the same port."""
        with self._lock:
            if self._listener is not None:
                return
            listener = socket.socket()
            listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            listener.bind(("127.0.0.1", self.port))
            listener.listen(64)
            listener.setblocking(False)
            self._listener = listener
            self._selector.register(listener, selectors.EVENT_READ, "accept")
        self._wake()

    def close(self) -> None:
        self.cut()
        self._stopped = True
        self._wake()
        self._thread.join(timeout=10)
        self._selector.close()
        self._wake_r.close()
        self._wake_w.close()

    def _wake(self) -> None:
        self._wake_w.send(b"x")

    def _run(self) -> None:
        while not self._stopped:
            for key, _events in self._selector.select(timeout=1):
                with self._lock:
                    self._handle(key)

    def _handle(self, key: selectors.SelectorKey) -> None:
        if key.data == "wake":
            self._wake_r.recv(4096)
        elif key.data == "accept":
            if key.fileobj is not self._listener:
                return  # cut meanwhile
            client, _address = self._listener.accept()
            upstream = socket.create_connection(("127.0.0.1", self.target))
            for end in (client, upstream):
                end.setblocking(False)
            self._pairs.append((client, upstream))
            self._selector.register(client, selectors.EVENT_READ, upstream)
            self._selector.register(upstream, selectors.EVENT_READ, client)
        else:
            source, sink = key.fileobj, key.data
            try:
                data = source.recv(_CHUNK)
                if data:
                    sink.setblocking(True)
                    sink.sendall(data)
                    sink.setblocking(False)
                    return
            except OSError:
                pass
            self._close_pair(source)

    def _close_pair(self, end: socket.socket) -> None:
        for pair in list(self._pairs):
            if end in pair:
                self._pairs.remove(pair)
                for each in pair:
                    self._selector.unregister(each)
                    each.close()


@contextmanager
def cutoff(target: int) -> Iterator[Cutoff]:
    """A Cutoff in front of 127.0.0.1:``target``, closed after the block."""
    forwarder = Cutoff(target)
    try:
        yield forwarder
    finally:
        forwarder.close()
