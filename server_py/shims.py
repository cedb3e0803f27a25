"""Standard library the way CPython has it, where Pyodide's build lacks it.

Pyodide's ``hashlib`` is built without OpenSSL, so it has no ``pbkdf2_hmac`` and no ``scrypt``,
and ``werkzeug.security.generate_password_hash`` fails with its default method. The shims below
keep CPython's signatures and argument checks and leave the arithmetic to a backend: in the
server tab, the audited @noble/hashes library running in the same worker (pure Python scrypt
would take tens of seconds in WebAssembly).

Threads cannot start at all: anyio's blocking portal, which Starlette's and FastAPI's
``TestClient`` open to run the app, is replaced by one that runs it on a private loop in the one
thread there is (:class:`server_py.event_loop.InlinePortal`), when anyio is first imported.

``time.thread_time`` is missing too: the worker runs one thread, whose CPU time is the
process's. So is the C module ``_multiprocessing``, and without it ``multiprocessing.synchronize``,
``multiprocessing.queues`` and ``concurrent.futures.process`` cannot be imported, although
packages import them at the top, or make a lock or a shared value, without ever starting a
process (hypercorn, and so Quart, imports them; Werkzeug's debugger makes a ``Value``). The
stand-in has semaphores that work within the one process there is; starting another still
fails, as Pyodide has no ``fork``. (``zoneinfo`` gets its time zones from the runtime's
``tzdata``; see signaling/bundle/. What else was compared with CPython is in
tests/pyodide/test_stdlib.py.)
"""

from __future__ import annotations

import errno
import hashlib
import importlib.abc
import importlib.util
import os
import sys
import threading
import time
import types
from collections.abc import Callable
from typing import Any

Pbkdf2 = Callable[[str, bytes, bytes, int, int], bytes]
Scrypt = Callable[[bytes, bytes, int, int, int, int], bytes]

PBKDF2_HASHES = ("sha1", "sha224", "sha256", "sha384", "sha512")


def install(pbkdf2: Pbkdf2, scrypt: Scrypt) -> list[str]:
    """Add whichever of the functions above is missing; returns their names."""
    added = []
    if not hasattr(hashlib, "pbkdf2_hmac"):
        hashlib.pbkdf2_hmac = make_pbkdf2_hmac(pbkdf2)
        added.append("hashlib.pbkdf2_hmac")
    if not hasattr(hashlib, "scrypt"):
        hashlib.scrypt = make_scrypt(scrypt)
        added.append("hashlib.scrypt")
    if not hasattr(time, "thread_time"):
        time.thread_time, time.thread_time_ns = time.process_time, time.process_time_ns
        added += ["time.thread_time", "time.thread_time_ns"]
    if "_multiprocessing" not in sys.modules and not importlib.util.find_spec("_multiprocessing"):
        sys.modules["_multiprocessing"] = make_multiprocessing()
        added.append("_multiprocessing")
    if "anyio.from_thread" not in _CHANGES and not _threads_start():
        change_on_import("anyio.from_thread", _inline_portal)
        added.append("anyio.from_thread.start_blocking_portal")
    return added


_CHANGES: dict[str, Callable[[types.ModuleType], None]] = {}


def change_on_import(name: str, change: Callable[[types.ModuleType], None]) -> None:
    """Change the module ``name`` once it is imported (a site's packages install later)."""
    _CHANGES[name] = change
    sys.meta_path.insert(0, _AfterImport(name, change))


def apply_changes() -> None:
    """Change the modules imported past the finder: an import hook put before it (pytest's
    assertion rewriter imports the modules of plugins such as anyio's itself)."""
    for name, change in _CHANGES.items():
        if name in sys.modules:
            change(sys.modules[name])


def _threads_start() -> bool:
    try:
        thread = threading.Thread(target=lambda: None)
        thread.start()
        thread.join()
    except RuntimeError:
        return False
    return True


def _inline_portal(module: types.ModuleType) -> None:
    from server_py.event_loop import start_blocking_portal

    module.start_blocking_portal = start_blocking_portal  # type: ignore[attr-defined]


class _AfterImport(importlib.abc.MetaPathFinder):
    """Changes a module once it is imported, wherever from (a site's packages install later)."""

    def __init__(self, name: str, change: Callable[[types.ModuleType], None]) -> None:
        self.name, self.change = name, change

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> Any:
        if name != self.name:
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(name, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _ChangedLoader(spec.loader, self.change)
                return spec
        return None


class _ChangedLoader(importlib.abc.Loader):
    def __init__(self, loader: Any, change: Callable[[types.ModuleType], None]) -> None:
        self.loader, self.change = loader, change

    def create_module(self, spec: Any) -> types.ModuleType | None:
        return self.loader.create_module(spec)

    def exec_module(self, module: types.ModuleType) -> None:
        self.loader.exec_module(module)
        self.change(module)


def make_pbkdf2_hmac(backend: Pbkdf2) -> Callable[..., bytes]:
    def pbkdf2_hmac(
        hash_name: str, password: Any, salt: Any, iterations: int, dklen: int | None = None
    ) -> bytes:
        """PBKDF2 with HMAC as pseudorandom function, as ``hashlib.pbkdf2_hmac``."""
        name = hash_name.lower().replace("-", "")
        if name not in PBKDF2_HASHES:
            raise ValueError(f"unsupported hash type {hash_name}")
        password, salt = _bytes(password), _bytes(salt)
        if not isinstance(iterations, int) or iterations < 1:
            raise ValueError("iteration value must be greater than 0.")
        if dklen is None:
            dklen = hashlib.new(name).digest_size
        if dklen < 1:
            raise ValueError("key length must be greater than 0.")
        return bytes(backend(name, password, salt, iterations, dklen))

    return pbkdf2_hmac


def make_scrypt(backend: Scrypt) -> Callable[..., bytes]:
    def scrypt(
        password: Any, *, salt: Any, n: int, r: int, p: int, maxmem: int = 0, dklen: int = 64
    ) -> bytes:
        """The scrypt password-based key derivation function, as ``hashlib.scrypt``."""
        password, salt = _bytes(password), _bytes(salt)
        if n < 2 or n & (n - 1):
            raise ValueError("n must be a power of 2.")
        if r < 1 or p < 1 or dklen < 1:
            raise ValueError("r, p and dklen must be positive.")
        needed = 128 * r * (n + p + 2)
        if maxmem and needed > maxmem:
            raise ValueError(f"Invalid parameter combination for n, r, p, maxmem: needs {needed}")
        return bytes(backend(password, salt, n, r, p, dklen))

    return scrypt


RECURSIVE_MUTEX, SEMAPHORE = 0, 1  # SemLock's kinds, as multiprocessing.synchronize names them


class SemLock:
    """CPython's ``_multiprocessing.SemLock`` for a process that is the only one there is.

    A POSIX semaphore shared with no other process is a semaphore within this one: the same
    counting, ownership and errors, kept with a ``threading.Condition``. It is unlinked at once
    (``name`` is None), as CPython's is under the fork start method, so ``multiprocessing``
    does not ask a resource tracker process to clean it up.
    """

    SEM_VALUE_MAX = 2**31 - 1  # INT_MAX, as on Linux

    def __init__(self, kind: int, value: int, maxvalue: int, name: str, unlink: bool) -> None:
        if kind not in (RECURSIVE_MUTEX, SEMAPHORE):
            raise ValueError("unrecognized kind")
        self.kind, self.maxvalue, self.name = kind, maxvalue, None
        self.handle = id(self)
        self._value = value
        self._held = 0  # acquisitions by the last owner not yet released
        self._last_owner: int | None = None
        self._changed = threading.Condition(threading.Lock())

    def acquire(self, block: bool = True, timeout: float | None = None) -> bool:
        if self.kind == RECURSIVE_MUTEX and self._is_mine():
            self._held += 1
            return True
        wait = (None if timeout is None else max(timeout, 0)) if block else 0
        with self._changed:
            if not self._changed.wait_for(lambda: self._value > 0, wait):
                return False
            self._value -= 1
        self._held += 1
        self._last_owner = threading.get_ident()
        return True

    def release(self) -> None:
        if self.kind == RECURSIVE_MUTEX:
            if not self._is_mine():
                raise AssertionError("attempt to release recursive lock not owned by thread")
            if self._held > 1:
                self._held -= 1
                return
        elif self._value >= self.maxvalue:
            raise ValueError("semaphore or lock released too many times")
        with self._changed:
            self._value += 1
            self._held -= 1
            self._changed.notify()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *_exc: object) -> None:
        self.release()

    def _count(self) -> int:
        return self._held

    def _is_mine(self) -> bool:
        return self._held > 0 and self._last_owner == threading.get_ident()

    def _get_value(self) -> int:
        return self._value

    def _is_zero(self) -> bool:
        return self._value == 0

    def _after_fork(self) -> None:
        self._held = 0

    @classmethod
    def _rebuild(cls, *_state: Any) -> SemLock:
        """Unpickling in a child process: there is none."""
        raise OSError(errno.ENOSYS, f"{os.strerror(errno.ENOSYS)}: the browser runs one process")


def make_multiprocessing() -> types.ModuleType:
    """A ``_multiprocessing`` for the one process there is (see :class:`SemLock`)."""
    module = types.ModuleType("_multiprocessing", "Multiprocessing within one process.")

    def sem_unlink(name: str) -> None:
        raise FileNotFoundError(errno.ENOENT, os.strerror(errno.ENOENT), name)  # none has one

    module.SemLock = SemLock  # type: ignore[attr-defined]
    module.sem_unlink = sem_unlink  # type: ignore[attr-defined]
    module.flags = {"HAVE_SEM_OPEN": 1, "HAVE_SEM_TIMEDWAIT": 1}  # type: ignore[attr-defined]
    return module


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        raise TypeError("Strings must be encoded before hashing")
    return bytes(memoryview(value))


def install_from_javascript() -> list[str]:
    """Under Pyodide: install the shims on the worker's ``peerserverHashes`` functions."""
    from js import peerserverHashes  # set by runtime/python-worker/boot.js
    from pyodide.ffi import to_js

    def pbkdf2(name: str, password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes:
        return peerserverHashes.pbkdf2(
            name, to_js(password), to_js(salt), iterations, dklen
        ).to_bytes()

    def scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        return peerserverHashes.scrypt(to_js(password), to_js(salt), n, r, p, dklen).to_bytes()

    # Pyodide's own event loop counts as running whenever Python runs, so Django would take
    # every database call for one made from async code (as in Jupyter, for which Django has
    # this switch). The worker has one thread: nothing runs beside the call.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    return install(pbkdf2, scrypt)
