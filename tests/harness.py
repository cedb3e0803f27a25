"""Real processes and Chromium for the end-to-end tests and the benchmarks: a `peerserver serve`
on a free loopback port, a `flask run` next to it, and the flags Chromium runs with here."""

from __future__ import annotations

import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from signaling.locations import DEFAULT_BUNDLE

if TYPE_CHECKING:
    from playwright.sync_api import BrowserContext, Page

REPO = Path(__file__).resolve().parent.parent
TESTS = REPO / "tests"  # the projects and sites the tests serve are in its folders
# Debian's Chromium where installed; elsewhere Playwright's own (`playwright install chromium`).
SYSTEM_CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# A name reserved for testing (RFC 2606): the public address of the deployment tests, which
# Chromium resolves to 127.0.0.1.
TEST_DOMAIN = "peer.test"
# Chromium reads only the last --disable-features it is given, so ours repeats the features
# Playwright itself disables (playwright-core's chromiumSwitches.ts) before adding to them.
PLAYWRIGHT_DISABLED_FEATURES = (
    "AvoidUnnecessaryBeforeUnloadCheckSync", "DestroyProfileOnBrowserClose", "HttpsUpgrades",
    "HttpsFirstBalancedModeAutoEnable", "LensOverlay", "MediaRouter", "PaintHolding",
    "ThirdPartyStoragePartitioning", "AvoidCorsURLLoaderRestartOnRedirect", "OptimizationHints",
    "NetworkTimeServiceQuerying", "AimEnabled", "PreconnectToSearch",
)  # fmt: skip
# Chromium's omnibox popup is a WebUI page that it loads, in a renderer of its own, for each new
# window: each browser context here. That cost 0.8 s of CPU per new context (/proc, a blank
# page), which competed with a server tab's boot and a new visitor's first page for this
# machine's 2 cores. A person's browser loaded it when its window opened, long before the site.
OMNIBOX_WEBUI = ("WebUIOmniboxPopup", "WebUIOmniboxAimPopup")


def disabled_features(*more: str) -> str:
    """The one --disable-features switch: Playwright's, the omnibox's WebUI, and ``more``."""
    return "--disable-features=" + ",".join((*PLAYWRIGHT_DISABLED_FEATURES, *OMNIBOX_WEBUI, *more))


CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
    disabled_features(),
    "--enable-precise-memory-info",  # performance.memory, for the tests that report memory
    "--js-flags=--expose-gc",  # so that they can start from a collected heap
    # Anything not on this machine fails at once instead of waiting for a network.
    f"--host-resolver-rules=MAP {TEST_DOMAIN} 127.0.0.1, MAP *.{TEST_DOMAIN} 127.0.0.1, "
    "MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE *.localhost, EXCLUDE 127.0.0.1, EXCLUDE *.local",
]


@dataclass
class ServedSite:
    """A server tab serving a site, in a browser context of its own."""

    context: BrowserContext
    server: Page
    url: str


def chromium_launch_args(base: dict | None = None, trusted_spki: str | None = None) -> dict:
    """Playwright's launch arguments: Debian's Chromium where there is one, with our flags;
    ``trusted_spki`` (base64 SHA-256 of a certificate's public key) is a test certificate that
    Chromium accepts."""
    extra = [f"--ignore-certificate-errors-spki-list={trusted_spki}"] if trusted_spki else []
    args = {**(base or {}), "args": CHROMIUM_ARGS + extra}
    if os.path.exists(SYSTEM_CHROMIUM):
        args["executable_path"] = SYSTEM_CHROMIUM
    return args


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def running(
    command: list[str],
    ready_url: str,
    quiet: bool = False,
    timeout: float = 30,
    env: dict[str, str] | None = None,
    context: ssl.SSLContext | None = None,
    cwd: Path = REPO,
    expect_status: int | None = None,
) -> Iterator[subprocess.Popen]:
    """Run ``command`` (in ``cwd``) until the block ends; enter once ``ready_url`` answers with a
    2xx status, or ``expect_status`` (within ``timeout`` seconds). ``env`` adds to the
    environment; ``context`` checks an https:// ``ready_url``.

    ``quiet`` drops what it prints (a server's access log, say)."""
    output = subprocess.DEVNULL if quiet else None
    environment = {**os.environ, **(env or {})}
    process = subprocess.Popen(command, cwd=cwd, stdout=output, stderr=output, env=environment)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                with urllib.request.urlopen(ready_url, timeout=10, context=context):
                    break
            except urllib.error.HTTPError as error:
                if error.code == expect_status:
                    break
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command)} answered {error.code}") from None
                time.sleep(0.2)
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"{' '.join(command)} did not start") from None
                time.sleep(0.2)
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen) -> None:
    """Ask ``process`` to end; kill it if it has not within 10 seconds."""
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


def offline_pip(package_index: Path) -> dict[str, str]:
    """pip's settings that make ``package_index`` (a folder of wheels) its only source."""
    return {
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(package_index),
        "PIP_CONFIG_FILE": os.devnull,
    }


@contextmanager
def peerserver_service(
    extra_templates: Path,
    package_index: Path | None = None,
    options: Sequence[str] = (),
    port: int | None = None,
    context: ssl.SSLContext | None = None,
) -> Iterator[tuple[str, subprocess.Popen]]:
    """`peerserver serve` with ``extra_templates`` and more ``options`` (a public URL, TLS,
    ICE servers), on ``port`` or a free one: yields its public URL and its process.

    With ``package_index``, a folder of wheels, pip finds the packages of a site's
    requirements.txt there and nowhere else (no network). ``context`` is for a service that
    terminates TLS itself."""
    if not (DEFAULT_BUNDLE / "manifest.json").is_file():
        raise RuntimeError(f"no runtime bundle in {DEFAULT_BUNDLE}: run `nox -s build` first")
    port = port or free_port()
    command = [sys.executable, "-m", "signaling", "serve", "--host", "127.0.0.1"]
    command += ["--port", str(port), "--extra-templates", str(extra_templates), *options]
    env = offline_pip(package_index) if package_index else None
    scheme = "https" if context else "http"
    with tempfile.TemporaryDirectory(prefix="peerserver-test-packages-") as packages:
        if "--packages-dir" not in options:  # not the user's cache: each test starts empty
            command += ["--packages-dir", packages]
        if "--operator-key-file" not in options:  # nor the user's operator key
            command += ["--operator-key-file", f"{packages}/operator-key"]
        if not {"--pyodide-packages", "--pyodide-cdn"} & set(options):  # tests stay offline
            command += ["--pyodide-packages", "none"]
        with running(
            command, f"{scheme}://127.0.0.1:{port}/healthz", env=env, context=context
        ) as process:
            health = f"{scheme}://127.0.0.1:{port}/healthz"
            with urllib.request.urlopen(health, context=context) as answer:
                public_url = json.load(answer)["publicUrl"]
            yield public_url, process
