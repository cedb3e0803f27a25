"""WebKitGTK (Safari's engine, Debian's webkit2gtk-driver) for the end-to-end tests: its
MiniBrowser on an Xvfb screen of its own, driven by WebKitWebDriver over plain W3C WebDriver
HTTP. Debian builds it without WebRTC, which makes it the real browser for "this browser
cannot connect" paths."""

from __future__ import annotations

import glob
import os
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from tests.deployment import require
from tests.harness import free_port, stop

TIMEOUT_S = 60


class WebDriver:
    """One W3C WebDriver session."""

    def __init__(self, base: str, session: str) -> None:
        self.url = f"{base}/session/{session}"

    def _call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        response = httpx.request(method, self.url + path, json=body, timeout=TIMEOUT_S)
        value = response.json()["value"]
        if response.status_code != 200:
            raise RuntimeError(f"WebDriver {path}: {value.get('error')}: {value.get('message')}")
        return value

    def goto(self, url: str) -> None:
        self._call("POST", "/url", {"url": url})

    def execute(self, script: str, *args: Any) -> Any:
        """The value of ``script`` (a function body) run in the page."""
        return self._call("POST", "/execute/sync", {"script": script, "args": list(args)})

    def wait_for(self, script: str, timeout_s: float) -> Any:
        """Poll ``script`` until it returns something truthy; that value."""
        deadline = time.monotonic() + timeout_s
        while True:
            value = self.execute(script)
            if value or time.monotonic() > deadline:
                return value
            time.sleep(0.2)


@contextmanager
def webkit() -> Iterator[WebDriver]:
    """MiniBrowser under a fresh Xvfb display, in a WebDriver session; all stopped after."""
    xvfb = require("Xvfb", "xvfb")
    driver = require("WebKitWebDriver", "webkit2gtk-driver")
    browsers = glob.glob("/usr/lib/*/webkit2gtk-4.*/MiniBrowser")
    if not browsers:
        raise RuntimeError("MiniBrowser is not installed: apt-get install webkit2gtk-driver")
    read, write = os.pipe()
    screen = subprocess.Popen(
        [xvfb, "-displayfd", str(write), "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    os.close(write)
    try:
        with os.fdopen(read) as chosen:
            display = f":{chosen.readline().strip()}"
        port = free_port()
        env = {**os.environ, "DISPLAY": display}
        server = subprocess.Popen(
            [driver, f"--port={port}", "--host=127.0.0.1"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        try:
            _wait_for(f"{base}/status")
            options = {"binary": browsers[0], "args": ["--automation"]}
            capabilities = {"browserName": "MiniBrowser", "webkitgtk:browserOptions": options}
            response = httpx.post(
                f"{base}/session",
                json={"capabilities": {"alwaysMatch": capabilities}},
                timeout=TIMEOUT_S,
            )
            session = response.json()["value"]["sessionId"]
            try:
                yield WebDriver(base, session)
            finally:
                httpx.delete(f"{base}/session/{session}", timeout=TIMEOUT_S)
        finally:
            stop(server)
    finally:
        stop(screen)


def _wait_for(url: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            httpx.get(url, timeout=5)
            return
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise RuntimeError("WebKitWebDriver did not start") from None
            time.sleep(0.2)
