"""server_py's unit tests, run again inside real Pyodide (Node), so that a gap only Pyodide has
(a missing module, a different filesystem or prefix) shows up without a browser."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from signaling.bundle import DEFAULT_BUNDLE
from tests.harness import REPO

# The unit tests that exercise server_py: they need Flask and pytest, not a browser.
UNIT_TESTS = [
    "tests/test_server_py_asgi.py",
    "tests/test_server_py_flask.py",
    "tests/test_server_py_http.py",
    "tests/test_server_py_shims.py",
    "tests/test_server_py_site.py",
    "tests/test_server_py_workbench.py",
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


@pytest.mark.skipif(not shutil.which("node"), reason="needs Node.js")
def test_server_py_unit_tests_pass_in_pyodide() -> None:
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    site_packages = Path(pytest.__file__).parent.parent
    mounts = [f"{REPO}:/repo", f"{site_packages}:/test-packages"]
    result = subprocess.run(
        ["node", str(REPO / "tests" / "pyodide" / "run_python.mjs"), str(DEFAULT_BUNDLE), *mounts],
        input=PROGRAM,
        capture_output=True,
        text=True,
        timeout=600,
    )
    print(result.stdout[-4000:], result.stderr[-2000:])
    assert "pytest exit status: 0" in result.stdout, result.stdout[-4000:] + result.stderr[-2000:]
