"""server_py's unit tests, run again inside real Pyodide (Node), so that a gap only Pyodide has
(a missing module, a different filesystem or prefix) shows up without a browser."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness import REPO
from tests.pyodide import run_python

# The unit tests that exercise server_py: they need Flask and pytest, not a browser.
UNIT_TESTS = [
    "tests/server_py/test_asgi.py",
    "tests/server_py/test_builds.py",
    "tests/server_py/test_event_loop.py",
    "tests/server_py/test_flask.py",
    "tests/server_py/test_http.py",
    "tests/server_py/test_interpreter.py",
    "tests/server_py/test_shims.py",
    "tests/server_py/test_site.py",
    "tests/server_py/test_threads.py",
    "tests/server_py/test_websockets.py",
    "tests/server_py/test_workbench.py",
]
PROGRAM = f"""
import os, sys
sys.dont_write_bytecode = True  # the repository is mounted: leave no Pyodide caches in it
# pytest and its pure-Python dependencies come from this virtualenv, after the bundle's own
# packages; its other plugins (Playwright's) cannot load in Pyodide.
sys.path.insert(0, "/repo")
sys.path.append("/test-packages")
os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
os.chdir("/repo")
import pytest
code = pytest.main(["-q", "--noconftest", "-p", "no:cacheprovider", "-p", "no:faulthandler",
                    "--capture=sys", "-W", "ignore::pytest.PytestConfigWarning", *{UNIT_TESTS!r}])
print(f"pytest exit status: {{int(code)}}")
"""


def test_server_py_unit_tests_pass_in_pyodide() -> None:
    site_packages = Path(pytest.__file__).parent.parent
    result = run_python(PROGRAM, (f"{REPO}:/repo", f"{site_packages}:/test-packages"))
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert "pytest exit status: 0" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]


def test_the_bundles_python_is_byte_compiled() -> None:
    """What a server tab imports comes as bytecode the build compiled
    (signaling/bundle/precompile.mjs): the standard library through zipimport, the unpacked
    wheels and server_py from __pycache__; sources stay beside it, for tracebacks."""
    result = run_python(
        """
import importlib.util, json, linecache, os
import flask, jinja2, server_py.http
print("stdlib:", json.__file__)
for module in (flask, jinja2, server_py.http):
    print("unpacked:", os.path.exists(importlib.util.cache_from_source(module.__file__)))
print("source:", bool(linecache.getline(flask.__file__, 1)))
"""
    )
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert lines[0].startswith("stdlib: ") and lines[0].endswith("json/__init__.pyc"), lines
    assert lines[1:] == ["unpacked: True"] * 3 + ["source: True"], lines
