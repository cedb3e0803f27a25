"""Python run in real Pyodide under Node, set up as a server tab's worker sets it up (see
``run_python.mjs``): the tests that need Pyodide but not a browser."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from signaling.locations import DEFAULT_BUNDLE

RUN_PYTHON = Path(__file__).with_name("run_python.mjs")


def run_python(
    program: str,
    mounts: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
    timeout: float = 600,
) -> subprocess.CompletedProcess:
    """Run ``program`` with each ``HOST_DIR:PYODIDE_DIR`` of ``mounts`` mounted; fails the test
    when Node.js or the runtime bundle is missing."""
    if not shutil.which("node"):
        pytest.fail("Node.js is missing: apt-get install nodejs")
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    return subprocess.run(
        ["node", str(RUN_PYTHON), str(DEFAULT_BUNDLE), *mounts],
        input=program,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )
