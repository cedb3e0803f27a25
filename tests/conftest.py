"""Fixtures shared by the test suite: a running service, and Chromium for Playwright."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.harness import REPO, chromium_launch_args, peerserver_service

LOCAL_HOSTS = ("localhost", "127.0.0.1")
TEST_SITES = REPO / "tests" / "sites"
BOOT_TIMEOUT = 90_000  # ms: a cold Pyodide boot on a busy 2-core machine


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict) -> dict:
    return chromium_launch_args(browser_type_launch_args)


@pytest.fixture(scope="session")
def service_url() -> Iterator[str]:
    """A `peerserver serve` process on a free loopback port, stopped after the session."""
    with peerserver_service(TEST_SITES) as (url, _process):
        yield url


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
