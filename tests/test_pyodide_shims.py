"""The hashlib shims inside real Pyodide (Node), checked against CPython's own results."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess

import pytest
import werkzeug.security

from signaling.bundle import DEFAULT_BUNDLE
from tests.harness import REPO

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


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js")
def test_hashlib_shims_in_pyodide_match_cpython() -> None:
    if not (DEFAULT_BUNDLE / "hashes.js").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    cases = {
        "pbkdf2": [(n, p.hex(), s.hex(), i, d) for n, p, s, i, d in CASES],
        "scrypt": [(p.hex(), s.hex(), n, r, q, d) for p, s, n, r, q, d in SCRYPT_CASES],
        "hashes": [
            werkzeug.security.generate_password_hash("secret"),
            werkzeug.security.generate_password_hash("secret", "pbkdf2:sha256"),
        ],
    }
    source = f"CASES = {json.dumps(json.dumps(cases))}\n" + PROGRAM
    result = subprocess.run(
        ["node", str(REPO / "tests" / "pyodide" / "run_python.mjs"), str(DEFAULT_BUNDLE)],
        input=source,
        capture_output=True,
        text=True,
        timeout=180,
        check=True,
    )
    out = json.loads(result.stdout.strip().splitlines()[-1])
    assert out["pbkdf2"] == [hashlib.pbkdf2_hmac(n, p, s, i, d).hex() for n, p, s, i, d in CASES]
    assert out["scrypt"] == [
        hashlib.scrypt(p, salt=s, n=n, r=r, p=q, maxmem=2**26, dklen=d).hex()
        for p, s, n, r, q, d in SCRYPT_CASES
    ]
    assert out["werkzeug"] == [True, True]  # hashes made by CPython check out in Pyodide
    assert werkzeug.security.check_password_hash(out["own_hash"], "secret")  # and back
    assert out["own_hash"].startswith("scrypt:32768:8:1$")
    assert out["errors"] == ["ValueError", "TypeError", "ValueError", "ValueError"]
