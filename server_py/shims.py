"""Standard library the way CPython has it, where Pyodide's build lacks it.

Pyodide's ``hashlib`` is built without OpenSSL, so it has no ``pbkdf2_hmac`` and no ``scrypt``,
and ``werkzeug.security.generate_password_hash`` fails with its default method. The shims below
keep CPython's signatures and argument checks and leave the arithmetic to a backend: in the
server tab, the audited @noble/hashes library running in the same worker (pure Python scrypt
would take tens of seconds in WebAssembly).

``time.thread_time`` is missing too: the worker runs one thread, whose CPU time is the
process's. So is the C module ``_multiprocessing``, and without it ``multiprocessing.synchronize``,
``multiprocessing.queues`` and ``concurrent.futures.process`` cannot be imported, although
packages import them at the top without ever starting a process (hypercorn does, and so Quart).
The stand-in lets them import; creating a semaphore then fails as it does in CPython on a
platform without working POSIX semaphores, with ``OSError`` ENOSYS. (``zoneinfo`` gets its time
zones from the runtime's ``tzdata``; see signaling/bundle.py. What else was compared with
CPython is in tests/test_pyodide_stdlib.py.)
"""

from __future__ import annotations

import errno
import hashlib
import importlib.util
import os
import sys
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
    return added


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


def make_multiprocessing() -> types.ModuleType:
    """A ``_multiprocessing`` with no semaphores: importable, and failing when used."""
    module = types.ModuleType("_multiprocessing", "Multiprocessing without processes.")

    def no_semaphores(*_args: Any, **_kwargs: Any) -> Any:
        raise OSError(
            errno.ENOSYS,
            f"{os.strerror(errno.ENOSYS)}: the browser has no other processes to share it with",
        )

    class SemLock:
        """CPython's ``_multiprocessing.SemLock``, as where ``sem_open`` does not work."""

        SEM_VALUE_MAX = 2**31 - 1  # INT_MAX, as on Linux
        __init__ = no_semaphores
        _rebuild = staticmethod(no_semaphores)

    module.SemLock = SemLock  # type: ignore[attr-defined]
    module.sem_unlink = no_semaphores  # type: ignore[attr-defined]
    module.flags = {}  # type: ignore[attr-defined]  # neither HAVE_SEM_OPEN nor HAVE_SEM_TIMEDWAIT
    return module


def _bytes(value: Any) -> bytes:
    if isinstance(value, str):
        raise TypeError("Strings must be encoded before hashing")
    return bytes(memoryview(value))


def install_from_javascript() -> list[str]:
    """Under Pyodide: install the shims on the worker's ``peerserverHashes`` functions."""
    from js import peerserverHashes  # set by runtime/python-worker.js
    from pyodide.ffi import to_js

    def pbkdf2(name: str, password: bytes, salt: bytes, iterations: int, dklen: int) -> bytes:
        return peerserverHashes.pbkdf2(
            name, to_js(password), to_js(salt), iterations, dklen
        ).to_bytes()

    def scrypt(password: bytes, salt: bytes, n: int, r: int, p: int, dklen: int) -> bytes:
        return peerserverHashes.scrypt(to_js(password), to_js(salt), n, r, p, dklen).to_bytes()

    return install(pbkdf2, scrypt)
