"""WebSockets through the server tab's Python, bytes in and out: a real RFC 6455 client (wsproto)
talks to Starlette's WebSocket routes through SiteServer, as a visitor's channel would.

Also run inside Pyodide (tests/pyodide/test_unit.py), where the ASGI loop is turned by the
worker's polls rather than by an event loop of its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from wsproto import ConnectionType, WSConnection
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.extensions import PerMessageDeflate

from server_py.worker import MAX_WEBSOCKETS_PER_VISITOR, SiteServer
from tests.server_py.test_site import isolated_imports, write  # noqa: F401  (a fixture)

pytestmark = pytest.mark.usefixtures("isolated_imports")

CHAT_SITE = """
import asyncio
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocketDisconnect

room = set()
heard = []  # what each socket's handler saw at its end

async def echo(websocket):
    await websocket.accept(subprotocol="echo.v1" if "echo.v1" in websocket.scope["subprotocols"]
                           else None)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                heard.append(("disconnect", message["code"], message.get("reason", "")))
                return
            if message.get("text") == "close please":
                await websocket.close(4001, "asked to")
                return
            if message.get("text") == "fail":
                raise ValueError("the handler failed")
            if message.get("text") is not None:
                await websocket.send_text(message["text"])
            else:
                await websocket.send_bytes(message["bytes"])
    finally:
        heard.append(("ended",))

async def chat(websocket):
    await websocket.accept()
    room.add(websocket)
    try:
        async for line in websocket.iter_text():
            for member in list(room):
                await member.send_text(line)
    finally:
        room.discard(websocket)

async def ticks(websocket):
    await websocket.accept()
    for n in range(3):
        await asyncio.sleep(0.05)
        await websocket.send_text(f"tick {n}")
    await websocket.close()

async def refuse(websocket):
    await websocket.close()

async def flood(websocket):
    await websocket.accept()
    for n in range(40):
        await websocket.send_bytes(bytes(256 * 1024))
        heard.append(("sent", n))
    await websocket.close()

async def heard_view(request):
    return PlainTextResponse(repr(heard))

app = Starlette(routes=[
    Route("/heard", heard_view),
    WebSocketRoute("/echo", echo),
    WebSocketRoute("/chat", chat),
    WebSocketRoute("/ticks", ticks),
    WebSocketRoute("/refuse", refuse),
    WebSocketRoute("/flood", flood),
])
"""


class Visitor:
    """One WebSocket client on connection ``conn`` of ``server``, driven by hand."""

    def __init__(
        self,
        server: SiteServer,
        conn: int,
        target: str = "/echo",
        subprotocols: tuple[str, ...] = (),
        client: str = "visitor 1",
        deflate: bool = False,
    ) -> None:
        self.server = server
        self.conn = conn
        self.ws = WSConnection(ConnectionType.CLIENT)
        server.open(conn, "http", client)
        request = Request(
            host="site.localhost",
            target=target,
            subprotocols=list(subprotocols),
            extensions=[PerMessageDeflate()] if deflate else [],
        )
        server.receive(conn, self.ws.send(request))

    def send(self, event: object) -> None:
        self.server.receive(self.conn, self.ws.send(event))

    def events(self) -> list[object]:
        """Let the app run, and take what it sent."""
        self.server.poll()
        data = b""
        while chunk := self.server.data_to_send(self.conn):
            data += chunk
        if data:
            self.ws.receive_data(data)
        return list(self.ws.events())


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SiteServer]:
    monkeypatch.chdir(tmp_path)
    site = write(tmp_path / "site", {"app.py": CHAT_SITE})
    records: list[dict] = []
    server = SiteServer(str(site), on_request=records.append)
    assert server.load()["ok"]
    server.records = records  # type: ignore[attr-defined]
    yield server
    server.stop("the test is over")  # the app's lifespan and its handlers end


def heard(server: SiteServer) -> str:
    server.open(99, "http", "checker")
    server.receive(99, b"GET /heard HTTP/1.1\r\nHost: site.localhost\r\n\r\n")
    answer = b""
    while chunk := server.data_to_send(99):
        answer += chunk
    server.close(99)
    return answer.decode()


def test_echo_text_binary_subprotocol_and_close_from_the_visitor(server: SiteServer) -> None:
    visitor = Visitor(server, 1, subprotocols=("echo.v1", "other"))
    [accepted] = visitor.events()
    assert isinstance(accepted, AcceptConnection)
    assert accepted.subprotocol == "echo.v1"
    visitor.send(TextMessage(data="héllo"))
    visitor.send(BytesMessage(data=b"\x00\xff" * 1000))
    echoed = visitor.events()
    assert [(type(e), e.data) for e in echoed] == [
        (TextMessage, "héllo"),
        (BytesMessage, b"\x00\xff" * 1000),
    ]
    visitor.send(CloseConnection(code=1001, reason="leaving"))
    [closed] = visitor.events()
    assert isinstance(closed, CloseConnection) and closed.code == 1001  # the handshake's answer
    assert server.should_close(1)
    server.close(1)
    assert "('disconnect', 1001, 'leaving')" in heard(server)
    notes = [record["note"] for record in server.records]  # type: ignore[attr-defined]
    assert notes[:2] == [
        "WebSocket open",
        "WebSocket closed 1001 (going away) · 2 messages in, 2 out",
    ]


def test_messages_in_many_frames_and_pings(server: SiteServer) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    visitor.send(TextMessage(data="in ", message_finished=False))
    visitor.send(TextMessage(data="three ", message_finished=False))
    visitor.send(Ping(payload=b"are you there"))
    visitor.send(TextMessage(data="frames"))
    events = visitor.events()
    assert [(type(e), getattr(e, "data", getattr(e, "payload", None))) for e in events] == [
        (Pong, b"are you there"),
        (TextMessage, "in three frames"),
    ]


def test_the_app_closes_with_its_code_and_reason(server: SiteServer) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    visitor.send(TextMessage(data="close please"))
    [closed] = visitor.events()
    assert (closed.code, closed.reason) == (4001, "asked to")
    visitor.send(closed.response())
    visitor.events()
    assert server.should_close(1)


def test_a_handler_that_fails_closes_with_1011_and_its_traceback_is_printed(
    server: SiteServer, capsys: pytest.CaptureFixture[str]
) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    visitor.send(TextMessage(data="fail"))
    [closed] = visitor.events()
    assert closed.code == 1011
    assert "ValueError: the handler failed" in capsys.readouterr().err


def test_a_socket_the_app_refuses_is_a_403(server: SiteServer) -> None:
    visitor = Visitor(server, 1, target="/refuse")
    events = visitor.events()
    assert isinstance(events[0], RejectConnection) and events[0].status_code == 403
    assert server.should_close(1)


def test_no_route_is_a_403_as_starlette_answers(server: SiteServer) -> None:
    visitor = Visitor(server, 1, target="/nowhere")
    events = visitor.events()
    assert isinstance(events[0], RejectConnection) and events[0].status_code == 403


def test_the_channel_closing_without_a_close_frame_is_1006(server: SiteServer) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    server.close(1)
    server.poll()
    assert "('disconnect', 1006, '')" in heard(server)


def test_a_chat_between_two_visitors(server: SiteServer) -> None:
    alice = Visitor(server, 1, target="/chat", client="alice")
    bob = Visitor(server, 2, target="/chat", client="bob")
    alice.events()
    bob.events()
    alice.send(TextMessage(data="hi bob"))
    bob.send(TextMessage(data="hi alice"))
    assert [e.data for e in alice.events()] == ["hi bob", "hi alice"]
    assert [e.data for e in bob.events()] == ["hi bob", "hi alice"]


def test_timers_of_a_handler_are_due_when_poll_says(server: SiteServer) -> None:
    visitor = Visitor(server, 1, target="/ticks")
    seen: list[str] = []
    deadline = time.monotonic() + 5
    while len(seen) < 3 and time.monotonic() < deadline:
        for event in visitor.events():
            if isinstance(event, TextMessage):
                seen.append(event.data)
        wake = server.poll()["wakeMs"]
        if wake is not None:
            assert wake <= 50
            time.sleep(wake / 1000)
    assert seen == ["tick 0", "tick 1", "tick 2"]


def test_the_apps_sends_wait_while_the_channel_is_full(server: SiteServer) -> None:
    """40 messages of 256 KiB: the app is held back past 1 MiB not yet sent, not all 10 MiB
    piled up in the worker."""
    visitor = Visitor(server, 1, target="/flood")
    server.poll()
    first = server.data_to_send(1, 64 * 1024)
    assert first.startswith(b"HTTP/1.1 101")
    visitor.ws.receive_data(first)
    server.poll()
    assert "('sent', 5)" not in heard(server)
    received = 0
    while not server.should_close(1):
        server.poll()
        while chunk := server.data_to_send(1, 64 * 1024):
            visitor.ws.receive_data(chunk)
        received += sum(len(e.data) for e in visitor.ws.events() if isinstance(e, BytesMessage))
        if received >= 40 * 256 * 1024:
            break
    assert received == 40 * 256 * 1024


def test_a_message_over_the_limit_closes_with_1009(tmp_path: Path) -> None:
    from server_py.websocket import WebSocket

    client = WSConnection(ConnectionType.CLIENT)
    request = client.send(Request(host="site", target="/"))
    head = request.split(b"\r\n\r\n")[0].split(b"\r\n")[1:]
    headers = [tuple(line.split(b": ", 1)) for line in head]
    socket = WebSocket(b"/", headers, max_message_bytes=1000)
    socket.accept()
    client.receive_data(socket.data_to_send(10_000))
    list(client.events())
    [event] = socket.receive_data(client.send(BytesMessage(data=bytes(1001))))
    assert event.code == 1009
    client.receive_data(socket.data_to_send(10_000))
    [closed] = client.events()
    assert closed.code == 1009 and "1000 bytes" in closed.reason


def test_a_visitor_has_a_bounded_number_of_sockets(server: SiteServer) -> None:
    visitors = [Visitor(server, n, target="/chat") for n in range(MAX_WEBSOCKETS_PER_VISITOR)]
    for visitor in visitors:
        assert isinstance(visitor.events()[0], AcceptConnection)
    one_more = Visitor(server, 1000, target="/chat")
    events = one_more.events()
    assert isinstance(events[0], AcceptConnection)
    assert isinstance(events[1], CloseConnection) and events[1].code == 1013
    assert "the most a visitor may have" in events[1].reason
    other = Visitor(server, 1001, target="/chat", client="visitor 2")
    assert isinstance(other.events()[0], AcceptConnection)


def test_reloading_the_code_closes_sockets_with_1012(server: SiteServer) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    assert server.load()["ok"]
    [closed] = visitor.events()
    assert closed.code == 1012 and closed.reason == "the site's code changed"


def test_stopping_python_closes_sockets_with_1012(server: SiteServer) -> None:
    visitor = Visitor(server, 1)
    visitor.events()
    assert server.stop("the server is restarting") == [1]
    [closed] = visitor.events()
    assert (closed.code, closed.reason) == (1012, "the server is restarting")


def test_permessage_deflate_is_agreed_when_offered(server: SiteServer) -> None:
    visitor = Visitor(server, 1, deflate=True)
    [accepted] = visitor.events()
    assert [extension.name for extension in accepted.extensions] == ["permessage-deflate"]
    visitor.send(TextMessage(data="squeezed " * 1000))
    [echoed] = visitor.events()
    assert echoed.data == "squeezed " * 1000


def test_a_wsgi_app_gets_the_upgrade_request_as_a_get(tmp_path: Path, monkeypatch) -> None:
    """A Flask app cannot take a WebSocket under WSGI: it answers the request like any other,
    and the page's socket fails, as under gunicorn's sync workers."""
    monkeypatch.chdir(tmp_path)
    site = write(
        tmp_path / "flask-site",
        {"app.py": "from flask import Flask\napp = Flask(__name__)\n"},
    )
    server = SiteServer(str(site))
    assert server.load()["ok"]
    visitor = Visitor(server, 1)
    [rejected, *_] = visitor.events()
    assert isinstance(rejected, RejectConnection) and rejected.status_code == 404


def test_an_unsupported_version_is_refused(server: SiteServer) -> None:
    server.open(1, "http", "visitor")
    server.receive(
        1,
        b"GET /echo HTTP/1.1\r\nHost: site\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
        b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n",
    )
    assert server.data_to_send(1).startswith(b"HTTP/1.1 400 ")
    assert server.should_close(1)


def test_rejection_with_a_body(tmp_path: Path, monkeypatch) -> None:
    """ASGI's websocket.http.response: the app refuses with a page of its own."""
    monkeypatch.chdir(tmp_path)
    site = write(
        tmp_path / "deny",
        {
            "app.py": "async def app(scope, receive, send):\n"
            "    if scope['type'] != 'websocket':\n        return\n"
            "    await send({'type': 'websocket.http.response.start', 'status': 401,\n"
            "                'headers': [(b'content-type', b'text/plain')]})\n"
            "    await send({'type': 'websocket.http.response.body', 'body': b'log in first'})\n"
        },
    )
    server = SiteServer(str(site))
    assert server.load()["ok"]
    visitor = Visitor(server, 1)
    events = visitor.events()
    assert isinstance(events[0], RejectConnection) and events[0].status_code == 401
    assert isinstance(events[1], RejectData) and events[1].data == b"log in first"


QUART_SITE = """
from quart import Quart, websocket

app = Quart(__name__)

@app.websocket("/ws")
async def ws():
    while True:
        data = await websocket.receive()
        await websocket.send(f"Quart heard {data}")
"""


def test_quarts_websockets_flasks_api_on_asgi(tmp_path: Path, monkeypatch) -> None:
    """What a Flask developer uses for WebSockets here: Quart, Flask's API on ASGI."""
    monkeypatch.chdir(tmp_path)
    site = write(tmp_path / "quart-site", {"app.py": QUART_SITE})
    server = SiteServer(str(site))
    assert server.load()["ok"]
    try:
        visitor = Visitor(server, 1, target="/ws")
        assert isinstance(visitor.events()[0], AcceptConnection)
        visitor.send(TextMessage(data="hello"))
        assert [event.data for event in visitor.events()] == ["Quart heard hello"]
    finally:
        server.stop("the test is over")


def test_a_wsgi_apps_refusal_says_what_can_serve_websockets(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    site = write(tmp_path / "flask-site", {"app.py": "from flask import Flask\napp = Flask('x')\n"})
    records: list[dict] = []
    server = SiteServer(str(site), on_request=records.append)
    assert server.load()["ok"]
    Visitor(server, 1, target="/socket").events()
    [record] = records
    assert record["status"] == 404
    assert "WSGI" in record["note"] and "Quart" in record["note"]
