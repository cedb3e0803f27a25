"""Installed like any Python tool: the wheel `nox -s dist` builds carries the runtime bundle, so
that, installed into a fresh virtualenv, `peerserver serve` runs away from the repository (no
Node.js, no npm, no build step) and serves a site to a visitor in Chromium."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
import zipfile
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import make_account, serve_site, submit_login
from tests.harness import REPO, free_port, running

pytestmark = pytest.mark.e2e

# Building copies and compresses the bundle (60 MB); installing fetches the dependencies.
BUILD_TIMEOUT_S = 600


def test_the_wheel_serves_sites_with_no_repository_and_no_node(
    browser: Browser, tmp_path: Path
) -> None:
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--outdir", str(tmp_path / "dist"), str(REPO)],
        check=True, capture_output=True, timeout=BUILD_TIMEOUT_S,
    )  # fmt: skip
    [wheel] = (tmp_path / "dist").glob("peerserver-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for carried in (
        "signaling/assets/build/runtime/manifest.json",
        "signaling/assets/build/runtime/pyodide/pyodide.asm.wasm",
        "signaling/assets/web/server-tab.html",
        "signaling/assets/runtime/visitor/sw.js",
        "signaling/assets/site_templates/login/app.py",
    ):
        assert carried in names, carried

    # A fresh virtualenv, elsewhere; its dependencies at the versions the project pins.
    home = tmp_path / "elsewhere"
    home.mkdir()
    shutil.copy(REPO / "requirements.lock", home / "constraints.txt")
    subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True, timeout=120)
    python = home / "venv" / "bin" / "python"
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
         "--constraint", str(home / "constraints.txt"), str(wheel)],
        check=True, capture_output=True, timeout=BUILD_TIMEOUT_S, cwd=home,
    )  # fmt: skip
    # No Node.js and no repository for it: only the virtualenv on PATH, nothing on PYTHONPATH.
    environment = {"PATH": str(home / "venv" / "bin"), "PYTHONPATH": ""}
    where = subprocess.run(
        [str(python), "-c", "import signaling.locations as places; print(places.ASSETS)"],
        check=True, capture_output=True, text=True, cwd=home, env={**os.environ, **environment},
    ).stdout.strip()  # fmt: skip
    assert Path(where).is_relative_to(home / "venv"), where

    port = free_port()
    command = [str(home / "venv" / "bin" / "peerserver"), "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port)]
    health = f"http://127.0.0.1:{port}/healthz"
    with running(command, health, cwd=home, env=environment, quiet=True, timeout=60):
        with urllib.request.urlopen(health, timeout=10) as answer:
            service_url = json.load(answer)["publicUrl"]
        # One of the templates the wheel carries, used by a visitor: Flask, sqlite3, a session.
        served = serve_site(browser, service_url, "installed", "login")
        visitor = browser.new_context()
        try:
            page = visitor.new_page()
            page.goto(served.url)
            site = page.frame_locator("#site")
            make_account(site, "ada", "lovelace")
            expect(site.get_by_role("heading", name="Login!")).to_be_visible()
            submit_login(site, "ada", "lovelace")
            expect(site.get_by_role("heading", name="Welcome ada!")).to_be_visible()
        finally:
            visitor.close()
            served.context.close()
