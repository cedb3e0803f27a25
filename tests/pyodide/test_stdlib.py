"""The standard library inside real Pyodide (Node), checked against CPython's own results: the
hashlib shims, secrets, time, datetime and zoneinfo."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import time

import pytest
import werkzeug.security

from tests.pyodide import run_python

CASES = [
    ("sha256", b"password", b"salt", 1, None),
    ("sha256", b"password", b"salt", 4096, 32),
    ("sha1", b"passwordPASSWORDpassword", b"saltSALTsaltSALTsaltSALTsaltSALTsalt", 4096, 25),
    ("sha512", b"\x00\xff binary", b"\x01", 1000, 100),
]
SCRYPT_CASES = [
    (b"", b"", 16, 1, 1, 64),
    (b"password", b"NaCl", 1024, 8, 16, 64),
    (b"secret", b"0123456789abcdef", 32768, 8, 1, 64),  # werkzeug's default parameters
]

PROGRAM = """
import hashlib, json, werkzeug.security
cases = json.loads(CASES)
out = {
    "pbkdf2": [hashlib.pbkdf2_hmac(n, bytes.fromhex(p), bytes.fromhex(s), i, d).hex()
               for n, p, s, i, d in cases["pbkdf2"]],
    "scrypt": [hashlib.scrypt(bytes.fromhex(p), salt=bytes.fromhex(s), n=n, r=r, p=q,
                              maxmem=2**26, dklen=d).hex()
               for p, s, n, r, q, d in cases["scrypt"]],
    "werkzeug": [werkzeug.security.check_password_hash(h, "secret") for h in cases["hashes"]],
    "own_hash": werkzeug.security.generate_password_hash("secret"),
}
errors = []
for call in ("hashlib.pbkdf2_hmac('md4', b'x', b'y', 1)",
             "hashlib.pbkdf2_hmac('sha256', 'x', b'y', 1)",
             "hashlib.pbkdf2_hmac('sha256', b'x', b'y', 0)",
             "hashlib.scrypt(b'x', salt=b'y', n=3, r=1, p=1)"):
    try:
        eval(call)
    except Exception as error:
        errors.append(type(error).__name__)
out["errors"] = errors
print(json.dumps(out))
"""


def run_in_pyodide(source: str, env: dict[str, str] | None = None) -> dict:
    """Run ``source`` in Pyodide, set up as the server tab's worker sets it up; returns the
    JSON it printed last."""
    result = run_python(source, env=env, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_in_cpython(source: str, env: dict[str, str] | None = None) -> dict:
    """Run ``source`` in this CPython, in a process of its own; returns the JSON it printed."""
    result = subprocess.run(
        [sys.executable, "-c", source],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, **(env or {})},
    )
    return json.loads(result.stdout)


def test_hashlib_shims_in_pyodide_match_cpython() -> None:
    cases = {
        "pbkdf2": [(n, p.hex(), s.hex(), i, d) for n, p, s, i, d in CASES],
        "scrypt": [(p.hex(), s.hex(), n, r, q, d) for p, s, n, r, q, d in SCRYPT_CASES],
        "hashes": [
            werkzeug.security.generate_password_hash("secret"),
            werkzeug.security.generate_password_hash("secret", "pbkdf2:sha256"),
        ],
    }
    out = run_in_pyodide(f"CASES = {json.dumps(json.dumps(cases))}\n" + PROGRAM)
    assert out["pbkdf2"] == [hashlib.pbkdf2_hmac(n, p, s, i, d).hex() for n, p, s, i, d in CASES]
    assert out["scrypt"] == [
        hashlib.scrypt(p, salt=s, n=n, r=r, p=q, maxmem=2**26, dklen=d).hex()
        for p, s, n, r, q, d in SCRYPT_CASES
    ]
    assert out["werkzeug"] == [True, True]  # hashes made by CPython check out in Pyodide
    assert werkzeug.security.check_password_hash(out["own_hash"], "secret")  # and back
    assert out["own_hash"].startswith("scrypt:32768:8:1$")
    assert out["errors"] == ["ValueError", "TypeError", "ValueError", "ValueError"]


# Each value must come out the same in Pyodide as in CPython, in the same time zone. Zone
# abbreviations (time.tzname, %Z) are left out: Emscripten names zones by offset ("UTC+0200"
# where CPython says "CEST"), a difference of labels only, noted in the closing notes.
TIME_PROGRAM = """
import datetime, json, secrets, string, time, zoneinfo
summer, winter = 1790000000, 1767225600  # 2026-09-21 and 2026-01-01, UTC
same = {
    "offsets": [time.timezone, time.altzone, time.daylight],
    "localtime": [list(time.localtime(t))[:9] for t in (summer, winter)],
    "gmtime": list(time.gmtime(summer))[:9],
    "mktime": time.mktime(time.localtime(summer)),
    "strftime": time.strftime("%Y-%m-%d %H:%M:%S %z %a %b %j %U %c %x %X %p",
                              time.localtime(summer)),
    "strptime": list(time.strptime("2026-03-29 02:30", "%Y-%m-%d %H:%M"))[:9],
    "ctime": time.ctime(summer),
    "datetime": [datetime.datetime.fromtimestamp(t).astimezone().isoformat()
                 for t in (summer, winter)],
    "utc": datetime.datetime.fromtimestamp(summer, datetime.UTC).isoformat(),
    "date": datetime.date.fromtimestamp(summer).isoformat(),
    "zoneinfo": [datetime.datetime.fromtimestamp(summer, zoneinfo.ZoneInfo(zone)).isoformat()
                 for zone in ("America/New_York", "Asia/Kolkata", "Australia/Lord_Howe")],
    "naive_utc": datetime.datetime(2026, 9, 21, 14, 13, 20).astimezone(datetime.UTC).isoformat(),
}
started, monotonic, perf = time.time(), time.monotonic(), time.perf_counter()
time.sleep(0.05)
draws = {secrets.randbelow(10) for _ in range(300)}
checks = {
    "now": started,
    "now_agrees": abs(datetime.datetime.now().timestamp() - time.time()) < 1,
    "sleep_monotonic": time.monotonic() - monotonic >= 0.045,
    "sleep_perf_counter": time.perf_counter() - perf >= 0.045,
    "thread_time": time.thread_time() >= 0 and isinstance(time.thread_time_ns(), int),
    "token_bytes": len(secrets.token_bytes(32)) == 32,
    "token_hex": len(secrets.token_hex(16)) == 32 and secrets.token_hex() != secrets.token_hex(),
    "token_urlsafe": set(secrets.token_urlsafe(64)) <= set(string.ascii_letters + "0123456789-_"),
    "randbelow": draws == set(range(10)),
    "choice": secrets.choice("ab") in "ab",
    "compare_digest": [secrets.compare_digest("a", "a"), secrets.compare_digest(b"a", b"b")],
    "system_random": 0 <= secrets.SystemRandom().random() < 1,
    "zones": len(zoneinfo.available_timezones()) > 500,
}
print(json.dumps({"same": same, "checks": checks}))
"""


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Los_Angeles"])
def test_secrets_time_datetime_and_zoneinfo_in_pyodide_match_cpython(zone: str) -> None:
    env = {"TZ": zone}
    pyodide = run_in_pyodide(TIME_PROGRAM, env)
    cpython = run_in_cpython(TIME_PROGRAM, env)
    assert pyodide["same"] == cpython["same"]
    assert abs(pyodide["checks"].pop("now") - time.time()) < 120  # the clock is the real one
    cpython["checks"].pop("now")
    assert pyodide["checks"] == cpython["checks"]
    assert all(value is True or value == [True, False] for value in pyodide["checks"].values())


# What packages do with multiprocessing without starting a process: import it at the top
# (hypercorn does), make a lock or a shared value (Werkzeug's debugger does). Each comes out as
# in CPython. Not compared: multiprocessing.Queue, whose feeder is a thread, and Process, which
# Pyodide cannot start (no threads, no fork).
MULTIPROCESSING_PROGRAM = """
import importlib, json, multiprocessing
out = {}
def attempt(label, call):
    try:
        out[label] = repr(call())
    except Exception as error:
        out[label] = repr(error)
for name in ("multiprocessing.connection", "multiprocessing.synchronize",
             "multiprocessing.queues", "multiprocessing.pool", "multiprocessing.managers",
             "multiprocessing.sharedctypes", "concurrent.futures.process"):
    attempt(name, lambda: importlib.import_module(name).__name__)
lock, rlock = multiprocessing.Lock(), multiprocessing.RLock()
attempt("lock", lambda: (lock.acquire(), lock.acquire(False), lock.release(), lock.release()))
attempt("rlock", lambda: (rlock.acquire(), rlock.acquire(), rlock.release(), rlock.release()))
attempt("semaphore", lambda: multiprocessing.BoundedSemaphore(1).release())
def increment():
    counter = multiprocessing.Value("i", 41)
    with counter.get_lock():
        counter.value += 1
    return counter.value
attempt("value", increment)
attempt("array", lambda: list(multiprocessing.Array("d", [1.5, 2.5])))
attempt("event", lambda: (lambda e: (e.is_set(), e.set(), e.wait(0.01)))(multiprocessing.Event()))
attempt("simple_queue", lambda: (lambda q: (q.put([1]), q.get()))(multiprocessing.SimpleQueue()))
attempt("debugger", lambda: type(importlib.import_module("werkzeug.debug").DebuggedApplication(
    lambda environ, start_response: [], evalex=False)).__name__)
print(json.dumps(out))
"""


def test_multiprocessing_within_one_process_works_as_in_cpython() -> None:
    pyodide = run_in_pyodide(MULTIPROCESSING_PROGRAM)
    cpython = run_in_cpython(MULTIPROCESSING_PROGRAM)
    assert pyodide == cpython
    assert cpython["lock"] == "ValueError('semaphore or lock released too many times')"
    assert cpython["value"] == "42" and cpython["debugger"] == "'DebuggedApplication'"
