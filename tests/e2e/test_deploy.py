"""A public deployment on this machine: the service at https://peer.test:PORT/ and its sites at
https://NAME.peer.test:PORT/, with a wildcard certificate from a test CA — once with the service
terminating TLS itself, once behind nginx started from deploy/nginx.conf.

Through the home page, a server tab and a visitor, everything that shows or builds an address
must name the public one: the share address, the redirect after a login, url_for(_external=True)
in the site, and the Secure session cookie must be kept (it is only sent over HTTPS)."""

from __future__ import annotations

import http.client
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from signaling.locations import DEFAULT_BUNDLE
from tests.conftest import TEST_SITES, create_from_home_page
from tests.deployment import Certificate, nginx
from tests.harness import TEST_DOMAIN, free_port, peerserver_service

pytestmark = pytest.mark.e2e

# A file of the runtime bundle as the server tab's page fetches it: how it came, and its size.
BUNDLE_FILE = """async (path) => {
    const response = await fetch(`/bundle/${path}`, {cache: "no-store"});
    const bytes = (await response.arrayBuffer()).byteLength;
    return {encoding: response.headers.get("content-encoding"), bytes};
}"""

# Pyodide's WebAssembly module, the bundle's largest file.
WASM = "pyodide/pyodide.asm.wasm"
PAGE_ENCODING = """async (path) =>
    (await fetch(path, {cache: "no-store"})).headers.get("content-encoding")"""


def create_server(browser: Browser, public_url: str, name: str) -> tuple[Page, str]:
    """Create a server from the home page, as a person would; returns its tab and the site's
    address as the tab shows it."""
    server = browser.new_context().new_page()
    create_from_home_page(server, public_url, name, "public")
    address = server.locator("#site-address").text_content()
    assert server.get_by_role("link", name="Open Browser").get_attribute("href") == address
    return server, address


def visit_and_log_in(browser: Browser, site_url: str) -> None:
    page = browser.new_context().new_page()
    page.goto(site_url)
    site = page.frame_locator("#site")
    expect(site.locator("#body")).to_have_text("Hello, world.")
    assert page.evaluate("isSecureContext")
    registration = "navigator.serviceWorker.getRegistration().then((r) => !!(r && r.active))"
    assert page.evaluate(registration)
    site.get_by_role("link", name="Log in").click()
    site.get_by_label("User").fill("ada")
    site.get_by_role("button", name="Log in").click()
    expect(site.locator("#body")).to_have_text("Logged in as ada")
    expect(page).to_have_url(f"{site_url}whoami")
    page.reload()  # the Secure session cookie is kept and sent over HTTPS
    expect(site.locator("#body")).to_have_text("Logged in as ada")
    page.goto(f"{site_url}address")
    expect(site.locator("#body")).to_have_text(f"{site_url}whoami")
    page.context.close()


def test_the_service_terminates_tls(browser: Browser, test_certificate: Certificate) -> None:
    port = free_port()
    options = ["--public-url", f"https://{TEST_DOMAIN}:{port}"]
    options += ["--tls-cert", str(test_certificate.cert), "--tls-key", str(test_certificate.key)]
    context = test_certificate.client_context()
    with peerserver_service(TEST_SITES, options=options, port=port, context=context) as (url, _):
        assert url == f"https://{TEST_DOMAIN}:{port}/"
        server, site_url = create_server(browser, url, "secure")
        assert site_url == f"https://secure.{TEST_DOMAIN}:{port}/"
        visit_and_log_in(browser, site_url)
        # The service sends the runtime bundle gzipped (the build's copies: signaling.bundle),
        # and the tab reads it whole; it booted from such files too.
        fetched = server.evaluate(BUNDLE_FILE, WASM)
        assert fetched == {"encoding": "gzip", "bytes": (DEFAULT_BUNDLE / WASM).stat().st_size}
        server.context.close()


def test_behind_nginx(browser: Browser, test_certificate: Certificate, tmp_path: Path) -> None:
    service_port = free_port()
    with nginx(tmp_path, test_certificate, service_port) as proxy_port:
        public = f"https://{TEST_DOMAIN}:{proxy_port}"
        options = ["--public-url", public, "--trusted-proxy", "127.0.0.1"]
        with peerserver_service(TEST_SITES, options=options, port=service_port) as (url, _):
            assert url == f"{public}/"
            server, site_url = create_server(browser, url, "proxied")
            assert site_url == f"https://proxied.{TEST_DOMAIN}:{proxy_port}/"
            visit_and_log_in(browser, site_url)
            # The runtime bundle crossed the proxy as the service sent it, gzipped, and whole.
            wheel = "python/server_py.zip"
            fetched = server.evaluate(BUNDLE_FILE, wheel)
            assert fetched == {"encoding": "gzip", "bytes": (DEFAULT_BUNDLE / wheel).stat().st_size}
            # What the service sends uncompressed, nginx compresses (deploy/nginx.conf).
            page = server.evaluate(PAGE_ENCODING, "/")
            assert page == "gzip"
            server.context.close()

            # The same request straight to the service from an address that is not the
            # proxy's: its forwarded headers are not believed, and plain HTTP goes to HTTPS.
            direct = http.client.HTTPConnection(
                "127.0.0.1", service_port, timeout=10, source_address=("127.0.0.2", 0)
            )
            forged = {"Host": f"{TEST_DOMAIN}:{proxy_port}", "X-Forwarded-Proto": "https"}
            direct.request("GET", "/server/x", headers=forged)
            response = direct.getresponse()
            assert response.status == 308
            assert response.getheader("location") == f"{public}/server/x"
            direct.close()
