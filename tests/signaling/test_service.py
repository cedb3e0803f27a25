"""The signaling service: names, the relay state machine, and the FastAPI app over WebSockets."""

from __future__ import annotations

import base64
import gzip
import hashlib
import hmac
import io
import itertools
import json
import random
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from signaling.app import accepts_gzip, create_app
from signaling.bundle import is_content_named
from signaling.ice import IceConfig, turn_credentials
from signaling.locations import DEFAULT_BUNDLE
from signaling.names import name_problem, suggestions
from signaling.packages.service import PackageSettings
from signaling.public_url import PublicURL
from signaling.tunnel import needs_renewal, relay_only

TOKEN = "a" * 32
OTHER_TOKEN = "b" * 32
REGISTERED = {
    "type": "registered",
    "name": "demo",
    "maxVisitors": 64,  # --max-visitors-per-site, as the README gives it
}
SITE_HOST = {"host": "demo.localhost:8000"}


def without_ticket(registered: dict[str, Any]) -> dict[str, Any]:
    """A "registered" message without its package ticket, which must name the name it is for
    (signaling.tickets), and without its lease (signaling.leases), which must be one."""
    message = dict(registered)
    ticket = message.pop("packagesTicket")
    assert ticket.startswith(f"{message['name']}.") and ticket.count(".") == 2
    lease = {key: message.pop(key) for key in ("epoch", "leaseSeconds", "n", "members")}
    assert isinstance(lease["epoch"], int) and lease["epoch"] >= 1
    assert lease["leaseSeconds"] > 0 and isinstance(lease["members"], list)
    return message


def online(epoch: int = 1) -> dict[str, Any]:
    """What visitors are told of a site served in ``epoch`` of its lease."""
    return {"type": "server-status", "online": True, "epoch": epoch}


# -- names ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["demo", "my-site", "a", "x1", "a" * 63])
def test_valid_names(name: str) -> None:
    assert name_problem(name) is None


@pytest.mark.parametrize(
    "name",
    ["", "My Site", "UPPER", "-dash", "dash-", "under_score", "dot.ted", "a" * 64, "www", "émoji"],
)
def test_invalid_names(name: str) -> None:
    assert name_problem(name)


def test_suggestions_come_nearest_first_and_are_valid() -> None:
    def first(name: str, count: int) -> list[str]:
        return list(itertools.islice(suggestions(name, random.Random(1)), count))

    assert first("My Site!", 3) == ["my-site", "my-site-2", "my-site-3"]
    assert all(name_problem(name) is None for name in first("___", 200))


# -- the app, over real WebSockets ---------------------------------------------------------


@pytest.fixture
def client() -> Iterator[TestClient]:
    # Entered, so that every WebSocket of a test shares one event loop, as under uvicorn (each
    # would otherwise get a loop of its own, and a relay between two would cross threads).
    with TestClient(create_app()) as client:
        yield client


def test_relay_between_two_websocket_peers(client: TestClient) -> None:
    with client.websocket_connect("/ws/server") as server:
        assert server.receive_json()["type"] == "ice-servers"
        server.send_json({"type": "register", "name": "demo", "token": TOKEN})
        assert without_ticket(server.receive_json()) == REGISTERED
        with client.websocket_connect("/__ps/signal", headers=SITE_HOST) as visitor:
            assert visitor.receive_json()["type"] == "ice-servers"
            assert visitor.receive_json() == online()
            visitor.send_json({"type": "signal", "data": {"sdp": "offer"}})
            message = server.receive_json()
            assert message["type"] == "signal" and message["data"] == {"sdp": "offer"}
            server.send_json({"type": "signal", "to": message["from"], "data": {"sdp": "answer"}})
            assert visitor.receive_json() == {"type": "signal", "data": {"sdp": "answer"}}
        assert server.receive_json() == {"type": "client-left", "client": message["from"]}


def test_malformed_message_gets_an_error_and_the_socket_stays_usable(client: TestClient) -> None:
    with client.websocket_connect("/ws/server") as server:
        server.receive_json()  # ice-servers
        server.send_text("{not json")
        assert server.receive_json()["code"] == "bad-message"
        server.send_bytes(b"\x00\x01")
        assert server.receive_json()["code"] == "bad-message"
        server.send_json({"type": "register", "name": "demo", "token": TOKEN})
        assert without_ticket(server.receive_json()) == REGISTERED


def test_taken_and_invalid_names_over_the_socket(client: TestClient) -> None:
    with client.websocket_connect("/ws/server") as first:
        first.receive_json()  # ice-servers
        first.send_json({"type": "register", "name": "demo", "token": TOKEN})
        first.receive_json()
        with client.websocket_connect("/ws/server") as second:
            second.receive_json()  # ice-servers
            second.send_json({"type": "register", "name": "demo", "token": OTHER_TOKEN})
            refusal = second.receive_json()
            assert refusal["code"] == "taken" and refusal["suggestion"] == "demo-2"
            second.send_json({"type": "register", "name": "No Good", "token": OTHER_TOKEN})
            refusal = second.receive_json()
            assert refusal["code"] == "invalid" and refusal["suggestion"] == "no-good"


def test_name_status_endpoint(client: TestClient) -> None:
    assert client.get("/api/name-status", params={"name": "free"}).json()["available"]
    status = client.get("/api/name-status", params={"name": ""}).json()
    assert status["reason"] == "invalid" and status["suggestion"]


def test_pages_and_the_shell_are_served_on_their_origins(client: TestClient) -> None:
    assert "Create PeerServer" in client.get("/").text
    assert client.get("/server/demo").status_code == 200
    shell = client.get("/any/path?x=1", headers=SITE_HOST)
    assert 'id="site"' in shell.text
    worker = client.get("/__ps/sw.js", headers=SITE_HOST)
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["content-type"].startswith("text/javascript")
    # Built with its modules (signaling.bundle): it imports only what the bundle built apart.
    imported = static_imports(worker.text)
    assert imported and all(name.startswith("/__ps/bundle/") for name in imported), imported
    assert "sourcesContent" in client.get("/__ps/sw.js.map", headers=SITE_HOST).text
    assert client.get("/__ps/runtime/visitor/site-client.js", headers=SITE_HOST).status_code == 200


def static_imports(module: str) -> list[str]:
    """What a module's static imports name (``import ... from "x"``, ``import "x"``): each a
    statement of its own, at a line's start or after a ``;``, not words in a string."""
    return re.findall(r'(?:^|;)import\s*(?:[\w$\s{},*]*?from\s*)?"([^"]+)"', module, flags=re.M)


@pytest.mark.parametrize(
    ("path", "headers"), [("/", {}), ("/server/demo", {}), ("/any/path", SITE_HOST)]
)
def test_each_page_runs_one_module_built_with_what_it_imports(
    client: TestClient, path: str, headers: dict[str, str]
) -> None:
    """The home page, the server tab and a site's shell each load one module of the bundle
    (signaling.bundle), which imports nothing but its own chunks: no module of runtime/ or
    web/ is left to fetch, one after the other, at a page's start."""
    page = client.get(path, headers=headers).text
    (entry,) = re.findall(r'<script type="module" src="([^"]+)">', page)
    module = client.get(entry, headers=headers)
    assert module.headers["content-type"].startswith("text/javascript")
    imported = static_imports(module.text)
    assert all(name.startswith("./chunk-") for name in imported), imported
    for name in imported:
        assert client.get(urljoin(entry, name), headers=headers).status_code == 200
    assert "sourcesContent" in client.get(f"{entry}.map", headers=headers).text


def test_the_python_workers_files_are_readable_from_its_opaque_origin(client: TestClient) -> None:
    """The server tab's Python worker has an opaque origin ("null"): what it loads must allow
    any origin; the pages and the APIs it does not use must not."""
    null = {"Origin": "null"}
    script = "/bundle/pages/python-worker.js"
    worker = client.get(script, headers=null)
    chunks = static_imports(worker.text)
    assert chunks  # what it shares with the server tab's page
    for response in [worker, *(client.get(urljoin(script, c), headers=null) for c in chunks)]:
        assert response.status_code == 200
        assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/api/packages",
        headers={
            **null,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type, authorization",
        },
    )
    assert preflight.status_code == 200
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert "authorization" in preflight.headers["access-control-allow-headers"].lower()
    # Readable, and refused without the ticket a server tab gets (tests/signaling/test_packages.py).
    refused = client.post("/api/packages", json={"requirements": ""}, headers=null)
    assert refused.status_code == 401 and refused.headers["access-control-allow-origin"]
    for path in ["/", "/server/demo", "/api/name-status?name=demo", "/web/server-tab.js"]:
        assert "access-control-allow-origin" not in client.get(path, headers=null).headers


@pytest.mark.parametrize(
    ("header", "takes"),
    [
        ("gzip, deflate, br, zstd", True),  # Chromium's
        ("GZIP", True),
        ("x-gzip", True),
        ("*", True),
        ("gzip;q=0.5", True),
        ("br;q=1.0, gzip;q=0.8, *;q=0.1", True),
        ("deflate, *;q=0.2", True),
        ("", False),
        ("identity", False),
        ("br, zstd", False),
        ("gzip;q=0", False),
        ("*;q=0", False),
        ("*, gzip;q=0", False),
        ("gzip;q=0, *", False),
        ("gzip;q=none", False),
    ],
)
def test_accept_encoding_says_whether_gzip_is_taken(header: str, takes: bool) -> None:
    assert accepts_gzip(header) is takes


PUBLIC = PublicURL.parse("http://example.org")  # reached over a network, not this machine's
BUNDLE_FILES = [
    ("/bundle/pyodide/pyodide.asm.wasm", "pyodide/pyodide.asm.wasm", "example.org"),
    ("/__ps/bundle/shell.js", "shell/shell.js", "demo.example.org"),
]


@pytest.mark.parametrize(("path", "built", "host"), BUNDLE_FILES)
def test_the_bundle_goes_gzipped_to_a_browser_that_takes_it(
    path: str, built: str, host: str
) -> None:
    client = TestClient(create_app(public_url=PUBLIC))
    whole = (DEFAULT_BUNDLE / built).read_bytes()
    plain = client.get(path, headers={"Host": host, "Accept-Encoding": "identity"})
    assert plain.content == whole and "content-encoding" not in plain.headers
    with client.stream("GET", path, headers={"Host": host, "Accept-Encoding": "gzip"}) as packed:
        sent = b"".join(packed.iter_raw())
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["content-type"] == plain.headers["content-type"]
    assert gzip.decompress(sent) == whole and len(sent) < 0.6 * len(whole)
    # Two representations: caches keep them apart, and each revalidates as itself.
    for response in (packed, plain):
        assert "Accept-Encoding" in response.headers["vary"].split(", ")
    assert packed.headers["etag"] != plain.headers["etag"]
    for response, encoding in ((packed, "gzip"), (plain, "identity")):
        again = client.get(
            path,
            headers={
                "Host": host,
                "Accept-Encoding": encoding,
                "If-None-Match": response.headers["etag"],
            },
        )
        assert again.status_code == 304 and "content-encoding" not in again.headers


@pytest.mark.parametrize(("path", "built", "host"), BUNDLE_FILES)
def test_a_service_only_this_machine_reaches_sends_the_bundle_as_it_is(
    client: TestClient, path: str, built: str, host: str
) -> None:
    """Over loopback there is no network to spare, only the decoding at every boot."""
    host = host.replace("example.org", "localhost:8000")
    with client.stream("GET", path, headers={"Host": host, "Accept-Encoding": "gzip"}) as sent:
        assert b"".join(sent.iter_raw()) == (DEFAULT_BUNDLE / built).read_bytes()
    assert "content-encoding" not in sent.headers


def test_chunks_named_by_their_content_are_kept_without_asking_again(
    client: TestClient,
) -> None:
    """The pages' chunks never change under their names; the entries that import them do."""
    entry = client.get("/bundle/pages/server-tab.js")
    assert entry.headers["cache-control"] == "no-cache"
    chunks = static_imports(entry.text)
    assert chunks
    for chunk in chunks:
        kept = client.get(urljoin("/bundle/pages/server-tab.js", chunk))
        assert kept.status_code == 200
        assert kept.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.parametrize(
    ("name", "content_named"),
    [
        ("chunk-RY6HFTB3.js", True),
        ("chunk-RY6HFTB3.js.map", True),
        ("server-tab.js", False),
        ("chunk-ry6hftb3.js", False),
        ("chunk-RY6HFTB3.js.gz", False),
        ("chunk-RY6HFTB.js", False),
        ("my-chunk-RY6HFTB3.js", False),
    ],
)
def test_content_named_files(name: str, content_named: bool) -> None:
    assert is_content_named(name) is content_named


def test_templates_are_zips_of_their_folders(client: TestClient) -> None:
    assert client.get("/api/templates").json()[0] == {"id": "empty", "title": "Empty"}
    archive = zipfile.ZipFile(io.BytesIO(client.get("/templates/empty.zip").content))
    assert {"app.py", "index.html", "404.html"} <= set(archive.namelist())
    assert client.get("/templates/nope.zip").status_code == 404


def test_config_gives_the_site_url_pattern(client: TestClient) -> None:
    assert client.get("http://localhost:8000/api/config").json() == {
        "publicUrl": "http://localhost:8000/",
        "siteUrl": "http://{name}.localhost:8000/",
        "pyodidePackages": None,
    }


def test_config_says_where_the_tab_loads_pyodides_packages_from(tmp_path: Path) -> None:
    settings = PackageSettings(folder=tmp_path, pyodide_mirror="https://mirror.example/full")
    client = TestClient(create_app(package_settings=settings))
    config = client.get("http://localhost:8000/api/config").json()
    assert config["pyodidePackages"] == "https://mirror.example/full/"


# -- the public URL --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "origin", "site"),
    [
        ("https://example.org", "https://example.org", "https://demo.example.org"),
        ("https://Example.org:443/", "https://example.org", "https://demo.example.org"),
        ("http://peer.test:8443", "http://peer.test:8443", "http://demo.peer.test:8443"),
    ],
)
def test_public_urls(text: str, origin: str, site: str) -> None:
    public_url = PublicURL.parse(text)
    assert public_url.origin == origin
    assert public_url.site_origin("demo") == site
    assert str(public_url) == origin + "/"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("ftp://example.org", "http:// or https://"),
        ("https://", "host name"),
        ("https://10.0.0.1", "not an IP address"),
        ("https://[::1]:8000", "not an IP address"),
        ("https://example.org/peers", "cannot have a path"),
        ("https://user:pw@example.org", "user name"),
        ("https://example.org:99999", "port"),
    ],
)
def test_public_urls_that_cannot_work_are_refused(text: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        PublicURL.parse(text)


@pytest.mark.parametrize(
    ("text", "this_machine"),
    [
        ("http://localhost:8000", True),
        ("https://peerserver.localhost", True),
        ("https://example.org", False),
        ("http://localhost.example.org", False),
        ("http://notlocalhost", False),
    ],
)
def test_a_public_url_says_whether_only_this_machine_reaches_it(
    text: str, this_machine: bool
) -> None:
    assert PublicURL.parse(text).is_this_machine is this_machine


def test_every_address_derives_from_the_public_url() -> None:
    public_url = PublicURL.parse("https://peers.example.org")
    client = TestClient(create_app(public_url=public_url), base_url="https://peers.example.org")
    assert client.get("/api/config").json() == {
        "publicUrl": "https://peers.example.org/",
        "siteUrl": "https://{name}.peers.example.org/",
        "pyodidePackages": None,
    }
    shell = client.get("https://demo.peers.example.org/any/page")
    assert 'id="site"' in shell.text
    # Over plain HTTP the same addresses send to HTTPS, named by the public URL, never by
    # whatever the Host header says.
    plain = TestClient(create_app(public_url=public_url), base_url="http://peers.example.org")
    moved = plain.get("/server/demo?template=empty", follow_redirects=False)
    assert moved.status_code == 308
    assert moved.headers["location"] == "https://peers.example.org/server/demo?template=empty"
    site = plain.get("http://demo.peers.example.org:8080/a?b=1", follow_redirects=False)
    assert site.headers["location"] == "https://demo.peers.example.org/a?b=1"
    hostile = plain.get(
        "/x", headers={"host": "evil.test/.peers.example.org"}, follow_redirects=False
    )
    assert hostile.headers["location"] == "https://peers.example.org/x"
    with pytest.raises(WebSocketDisconnect), plain.websocket_connect("/ws/server") as socket:
        socket.receive_json()


# -- ICE servers -------------------------------------------------------------------------------


def test_turn_credentials_are_the_rest_api_form() -> None:
    # The reference values: coturn's own turnutils and every TURN REST client compute
    # base64(HMAC-SHA1(secret, "EXPIRY:ID")).
    secret, username = "north", "1700000000:peer1"
    expected = base64.b64encode(
        hmac.new(b"north", b"1700000000:peer1", hashlib.sha1).digest()
    ).decode()
    assert turn_credentials(secret, username) == expected == "K5uDot1F2Xe8vV/LSdlGIqxmSXk="


def test_ice_servers_carry_short_lived_credentials_and_never_the_secret() -> None:
    config = IceConfig(
        stun=("stun:stun.example.org:3478",),
        turn=("turn:turn.example.org:3478?transport=udp",),
        turn_secret="s3cret",
        credential_seconds=600,
    )
    message = config.for_peer("peer1", 1_700_000_000.5)
    assert message["type"] == "ice-servers"
    assert message["iceTransportPolicy"] == "all"
    assert message["expires"] == 1_700_000_600
    stun, turn = message["iceServers"]
    assert stun == {"urls": ["stun:stun.example.org:3478"]}
    assert turn["username"] == "1700000600:peer1"
    assert turn["credential"] == turn_credentials("s3cret", turn["username"])
    assert "s3cret" not in json.dumps(message)
    relayed = IceConfig(turn=config.turn, turn_secret="s3cret", relay_only=True)
    assert relayed.for_peer("p", 0)["iceTransportPolicy"] == "relay"


def test_the_tunnel_renews_credentials_a_minute_before_they_expire() -> None:
    assert not needs_renewal({"expires": 1000}, 939)
    assert needs_renewal({"expires": 1000}, 940)
    assert not needs_renewal({}, 10**10)  # no TURN: nothing expires
    assert not needs_renewal({"expires": "1000"}, 10**10)


def test_ice_settings_that_cannot_work_are_refused() -> None:
    with pytest.raises(ValueError, match="turn-secret"):
        IceConfig(turn=("turn:t.example.org",))
    with pytest.raises(ValueError, match="STUN URL"):
        IceConfig(stun=("t.example.org:3478",))
    with pytest.raises(ValueError, match="TURN URL"):
        IceConfig(turn=("stun:t.example.org",), turn_secret="x")
    with pytest.raises(ValueError, match="needs a TURN server"):
        IceConfig(relay_only=True)
    assert IceConfig().for_peer("p", 0) == {
        "type": "ice-servers", "iceServers": [], "iceTransportPolicy": "all", "expires": None,
    }  # fmt: skip


def test_a_relay_only_tunnel_offers_its_relay_candidates_only() -> None:
    """aiortc gathers every kind of candidate: a relay-only service's tunnel shows none but
    its relay ones, and no address of its own in the connection lines."""
    sdp = "\r\n".join([
        "v=0", "c=IN IP4 192.168.1.20", "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
        "c=IN IP4 192.168.1.20",
        "a=candidate:1 1 udp 2130706431 192.168.1.20 50000 typ host",
        "a=candidate:2 1 udp 1694498815 203.0.113.9 50000 typ srflx raddr 192.168.1.20 rport 1",
        "a=candidate:3 1 udp 16777215 198.51.100.7 61000 typ relay raddr 203.0.113.9 rport 2",
        "a=end-of-candidates", "",
    ])  # fmt: skip
    offered = relay_only(sdp)
    assert "192.168.1.20" not in offered and "203.0.113.9" not in offered
    assert offered.count("a=candidate:") == 1 and "typ relay" in offered
    assert offered.count("c=IN IP4 198.51.100.7") == 2
