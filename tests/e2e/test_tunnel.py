"""`peerserver tunnel`: curl and Python requests reach a site served by a real server tab."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from playwright.sync_api import Browser, expect

from tests.conftest import BOOT_TIMEOUT, serve_site, set_time_limit
from tests.harness import free_port, running

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def tunnel(real_ip_browser: Browser, service_url: str) -> Iterator[tuple[str, object]]:
    served = serve_site(real_ip_browser, service_url, "tunneled", "web")
    port = free_port()
    command = [sys.executable, "-m", "signaling", "tunnel", "tunneled", "--port", str(port)]
    base = f"http://127.0.0.1:{port}"
    try:
        # The service's address from PEERSERVER_URL, as the README offers (not --service).
        environment = {"PEERSERVER_URL": service_url}
        with running(command, f"{base}/about", timeout=60, env=environment):
            yield base, served
    finally:
        served.context.close()


def curl(*args: str) -> str:
    return subprocess.run(
        ["curl", "-sS", "--max-time", "30", *args], check=True, capture_output=True, text=True
    ).stdout


def test_curl_reaches_the_site(tunnel) -> None:
    base, served = tunnel
    page = curl("-i", f"{base}/about")
    assert page.startswith("HTTP/1.1 200 OK")
    assert "About this site." in page
    posted = curl("--data-urlencode", "comment=from curl", f"{base}/submit")
    assert "Submitted by POST" in posted and "from curl" in posted
    head = curl("-I", f"{base}/binary")
    assert "content-type: application/octet-stream" in head.lower()
    missing = curl("-i", f"{base}/no/such/page")
    assert missing.startswith("HTTP/1.1 404") and "Nothing at this address" in missing
    expect(served.server.get_by_text(re.compile(r"POST /submit 200"))).to_be_visible()


def test_requests_gets_sessions_redirects_and_bytes(tunnel) -> None:
    base, _ = tunnel
    with requests.Session() as session:
        landed = session.post(f"{base}/login", data={"user": "ada"}, timeout=30)
        assert landed.url == f"{base}/whoami"  # followed the redirect
        assert "Logged in as ada" in landed.text
        assert "Logged in as ada" in session.get(f"{base}/whoami", timeout=30).text
        binary = session.get(f"{base}/binary", timeout=30).content
        assert hashlib.sha256(binary).digest() == hashlib.sha256(bytes(range(256)) * 1024).digest()
        assert session.get(f"{base}/teapot", timeout=30).status_code == 418
        echoed = session.put(f"{base}/api/echo", json={"x": 1}, timeout=30).json()
        assert echoed["method"] == "PUT" and echoed["json"] == {"x": 1}
    assert "Logged in as None" in requests.get(f"{base}/whoami", timeout=30).text


def test_a_restart_answers_the_tunnels_clients(tunnel) -> None:
    """Python restarts past the time limit: the channels the server tab's worker held are lost,
    and the tunnel gives its clients the answers the server tab sent on the control channel."""
    base, served = tunnel
    set_time_limit(served.server, 2)
    with ThreadPoolExecutor(2) as pool:
        stuck = pool.submit(requests.get, f"{base}/spin", timeout=30)
        time.sleep(0.3)
        waiting = pool.submit(requests.get, f"{base}/about", timeout=30)
        assert stuck.result().status_code == 504
        assert "GET /spin ran longer than 2 s" in stuck.result().text
        assert waiting.result().status_code == 503
    expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    assert "About this site." in requests.get(f"{base}/about", timeout=30).text
