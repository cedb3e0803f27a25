"""The hashlib shims' own logic (argument handling and checks) against CPython's hashlib, and
the stand-in for ``_multiprocessing``.

Here the shims get a backend made of hashlib itself, so whatever differs is the shims' doing.
Their arithmetic on @noble/hashes is compared with CPython in tests/test_pyodide_stdlib.py.
Also run inside Pyodide (tests/test_pyodide_unit.py).
"""

from __future__ import annotations

import errno
import hashlib
import importlib
import multiprocessing
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


def test_the_multiprocessing_stand_in_imports_and_refuses_semaphores(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What Pyodide lacks, simulated here: multiprocessing.synchronize imports on the stand-in,
    and a lock fails as where POSIX semaphores do not work. (In Pyodide itself:
    tests/test_pyodide_stdlib.py.)"""
    stand_in = shims.make_multiprocessing()
    monkeypatch.setitem(sys.modules, "_multiprocessing", stand_in)
    monkeypatch.delitem(sys.modules, "multiprocessing.synchronize", raising=False)
    synchronize = importlib.import_module("multiprocessing.synchronize")
    assert synchronize.SEM_VALUE_MAX == 2**31 - 1
    context = multiprocessing.get_context()
    for make in (lambda: synchronize.Lock(ctx=context), lambda: stand_in.sem_unlink("/x")):
        with pytest.raises(OSError) as failure:
            make()
        assert failure.value.errno == errno.ENOSYS
    assert stand_in.flags == {}  # no HAVE_SEM_OPEN
