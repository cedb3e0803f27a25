"""The hashlib shims' own logic (argument handling and checks) against CPython's hashlib, and
the stand-in for ``_multiprocessing``.

Here the shims get a backend made of hashlib itself, so whatever differs is the shims' doing.
Their arithmetic on @noble/hashes is compared with CPython in tests/pyodide/test_stdlib.py.
Also run inside Pyodide (tests/pyodide/test_unit.py).
"""

from __future__ import annotations

import hashlib
import importlib
import multiprocessing
import os
import sys
import time

import pytest

from server_py import shims

pbkdf2_hmac = shims.make_pbkdf2_hmac(
    lambda name, password, salt, iterations, dklen: hashlib.pbkdf2_hmac(
        name, password, salt, iterations, dklen
    )
)
scrypt = shims.make_scrypt(
    lambda password, salt, n, r, p, dklen: hashlib.scrypt(
        password, salt=salt, n=n, r=r, p=p, dklen=dklen
    )
)


@pytest.mark.parametrize(
    "args",
    [
        ("sha256", b"password", b"salt", 1),
        ("sha1", bytearray(b"password"), memoryview(b"salt"), 2, None),
        ("sha512", b"", b"", 3, 7),
        ("sha384", b"\xff" * 200, b"s", 1, 100),
    ],
)
def test_pbkdf2_hmac_takes_what_cpython_takes(args: tuple) -> None:
    assert pbkdf2_hmac(*args) == hashlib.pbkdf2_hmac(*args)


def test_scrypt_takes_what_cpython_takes() -> None:
    for password, salt, dklen in [(b"pw", b"salt", 64), (bytearray(b"x"), memoryview(b"y"), 16)]:
        expected = hashlib.scrypt(password, salt=salt, n=16, r=1, p=1, dklen=dklen)
        assert scrypt(password, salt=salt, n=16, r=1, p=1, dklen=dklen) == expected


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda f: f("sha256", "text", b"salt", 1), TypeError),
        (lambda f: f("sha256", b"pw", "text", 1), TypeError),
        (lambda f: f("sha256", b"pw", b"salt", 0), ValueError),
        (lambda f: f("sha256", b"pw", b"salt", 1, 0), ValueError),
        # CPython's own is _hashlib.UnsupportedDigestmodError, a ValueError.
        (lambda f: f("no-such-hash", b"pw", b"salt", 1), ValueError),
    ],
)
def test_pbkdf2_hmac_refuses_what_cpython_refuses(call, error: type[Exception]) -> None:
    with pytest.raises(error):
        call(hashlib.pbkdf2_hmac)
    with pytest.raises(error):
        call(pbkdf2_hmac)


@pytest.mark.parametrize(
    "options",
    [
        {"n": 3, "r": 1, "p": 1},  # n is not a power of 2
        {"n": 1, "r": 1, "p": 1},
        {"n": 16, "r": 0, "p": 1},
        {"n": 16, "r": 1, "p": 1, "dklen": 0},
        {"n": 1024, "r": 8, "p": 1, "maxmem": 1024},  # needs more memory than allowed
    ],
)
def test_scrypt_refuses_what_cpython_refuses(options: dict) -> None:
    with pytest.raises(ValueError):
        hashlib.scrypt(b"pw", salt=b"salt", **options)
    with pytest.raises(ValueError):
        scrypt(b"pw", salt=b"salt", **options)
    with pytest.raises(TypeError):
        scrypt("text", salt=b"salt", n=16, r=1, p=1)


def test_install_leaves_what_exists_alone() -> None:
    present = (hashlib.pbkdf2_hmac, hashlib.scrypt, time.thread_time)
    assert shims.install(lambda *args: b"", lambda *args: b"") == []
    assert (hashlib.pbkdf2_hmac, hashlib.scrypt, time.thread_time) == present


def semlock_script(semlock: type, name: str) -> list[object]:
    """The same calls on a SemLock class: what each returned, or the error it raised."""
    outcomes: list[object] = []

    def note(call) -> None:
        try:
            outcomes.append(call())
        except Exception as error:
            outcomes.append(type(error).__name__)

    semaphore = semlock(shims.SEMAPHORE, 2, 2, f"{name}-s", True)
    for call in (
        semaphore.acquire,
        semaphore.acquire,
        lambda: semaphore.acquire(False),
        lambda: semaphore.acquire(True, 0.01),
        semaphore._get_value,
        semaphore._is_zero,
        semaphore._count,
        semaphore._is_mine,
        semaphore.release,
        semaphore.release,
        semaphore.release,
        semaphore._get_value,
        lambda: semaphore.name,
    ):
        note(call)
    mutex = semlock(shims.RECURSIVE_MUTEX, 1, 1, f"{name}-r", True)
    for call in (
        mutex.acquire,
        mutex.acquire,
        mutex._count,
        mutex._is_mine,
        mutex.release,
        mutex.release,
        mutex.release,
        mutex._is_mine,
        mutex.__enter__,
        lambda: mutex.__exit__(None, None, None),
        lambda: semlock(7, 1, 1, f"{name}-x", True),
    ):
        note(call)
    return outcomes


def test_semlock_does_within_one_process_what_cpythons_does() -> None:
    """Against CPython's own (in Pyodide, where the stand-in is _multiprocessing, it meets
    itself; the library built on it is compared in tests/pyodide/test_stdlib.py)."""
    import _multiprocessing

    name = f"/peerserver-test-{os.getpid()}"
    assert semlock_script(shims.SemLock, name) == semlock_script(_multiprocessing.SemLock, name)
    assert shims.SemLock.SEM_VALUE_MAX == _multiprocessing.SemLock.SEM_VALUE_MAX


def test_the_multiprocessing_stand_in_serves_the_library(monkeypatch: pytest.MonkeyPatch) -> None:
    """multiprocessing.synchronize and sharedctypes on the stand-in, as Pyodide will have it."""
    monkeypatch.setitem(sys.modules, "_multiprocessing", shims.make_multiprocessing())
    for module in ("multiprocessing.synchronize", "multiprocessing.sharedctypes"):
        monkeypatch.delitem(sys.modules, module, raising=False)
    synchronize = importlib.import_module("multiprocessing.synchronize")
    sharedctypes = importlib.import_module("multiprocessing.sharedctypes")
    context = multiprocessing.get_context()
    lock = synchronize.Lock(ctx=context)
    assert isinstance(lock._semlock, shims.SemLock)
    assert lock.acquire() and not lock.acquire(False)
    lock.release()
    counter = sharedctypes.Value("i", 41, ctx=context)
    with counter.get_lock():
        counter.value += 1
    assert counter.value == 42
    with pytest.raises(FileNotFoundError):
        sys.modules["_multiprocessing"].sem_unlink("/no-such-semaphore")
