"""Fixtures shared by the test suite: a running service, and Chromium for Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from signaling.bundle import DEFAULT_BUNDLE

REPO = Path(__file__).resolve().parent.parent
# Debian's Chromium where installed; elsewhere Playwright's own (`playwright install chromium`).
SYSTEM_CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    "--enable-precise-memory-info",  # performance.memory, for the tests that report memory
    "--js-flags=--expose-gc",  # so that they can start from a collected heap
    # Anything not on this machine fails at once instead of waiting for a network.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE *.localhost, "
    "EXCLUDE 127.0.0.1, EXCLUDE *.local",
]
LOCAL_HOSTS = ("localhost", "127.0.0.1")
TEST_SITES = REPO / "tests" / "sites"
BOOT_TIMEOUT = 90_000  # ms: a cold Pyodide boot on a busy 2-core machine


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    args = {**browser_type_launch_args, "args": CHROMIUM_ARGS}
    if os.path.exists(SYSTEM_CHROMIUM):
        args["executable_path"] = SYSTEM_CHROMIUM
    return args


@pytest.fixture(scope="session")
def service_url() -> Iterator[str]:
    """A `peerserver serve` process on a free loopback port, stopped after the session."""
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        pytest.fail(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "signaling",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--extra-templates",
            str(TEST_SITES),
        ],
        cwd=REPO,
    )
    url = f"http://localhost:{port}/"
    deadline = time.monotonic() + 30
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("peerserver serve did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def is_local(url: str) -> bool:
    """Whether ``url`` stays on this machine: the service, a site origin, or no host at all."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    return host in LOCAL_HOSTS or host.endswith(".localhost")


@dataclass
class ServedSite:
    """A server tab serving a site, in a browser context of its own."""

    context: BrowserContext
    server: Page
    url: str


def serve_site(browser: Browser, service_url: str, name: str, template: str) -> ServedSite:
    """Open a server tab for ``name`` with ``template`` and wait until it is serving."""
    context = browser.new_context()
    server = context.new_page()
    server.goto(f"{service_url}server/{name}?template={template}")
    expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    return ServedSite(context, server, service_url.replace("localhost", f"{name}.localhost"))
