"""server_py under CPython: request bytes in, response bytes out, parsed back by an h11 client."""

from __future__ import annotations

import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from wsgiref.validate import validator

import h11
import pytest
from flask import Flask, Response, request, stream_with_context

from server_py.http import MAX_CHUNK, HTTPConnection, RequestRecord


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes = b""
    chunks: list[bytes] = field(default_factory=list)


def parse(data: bytes, methods: list[str]) -> list[Reply]:
    """Parse the server's bytes as the client that sent requests with ``methods`` would."""
    client = h11.Connection(h11.CLIENT)
    replies: list[Reply] = []
    client.receive_data(data)
    for method in methods:
        client.send(h11.Request(method=method, target="/", headers=[("Host", "x")]))
        client.send(h11.EndOfMessage())
        while True:
            event = client.next_event()
            if isinstance(event, h11.Response):
                headers = {k.decode().lower(): v.decode() for k, v in event.headers}
                replies.append(Reply(event.status_code, headers))
            elif isinstance(event, h11.Data):
                replies[-1].body += event.data
                replies[-1].chunks.append(bytes(event.data))
            elif isinstance(event, h11.EndOfMessage):
                break
            else:
                raise AssertionError(f"incomplete response: {event}")
        if client.our_state is h11.DONE and client.their_state is h11.DONE:
            client.start_next_cycle()
    return replies


def drain(connection: HTTPConnection, max_bytes: int = MAX_CHUNK) -> bytes:
    out = b""
    while chunk := connection.data_to_send(max_bytes):
        assert len(chunk) <= max_bytes
        out += chunk
    return out


def get(path: str, *headers: str) -> bytes:
    extra = "".join(f"{header}\r\n" for header in headers)
    return f"GET {path} HTTP/1.1\r\nHost: site.localhost:8000\r\n{extra}\r\n".encode()


@pytest.fixture
def app() -> Flask:
    app = Flask(__name__)

    @app.route("/")
    def index():
        return "Hello, world."

    @app.route("/echo", methods=["POST", "PUT"])
    def echo():
        return {
            "form": request.form.to_dict(),
            "data": request.get_data(as_text=True),
            "url": request.url,
            "scheme": request.scheme,
            "remote": request.remote_addr,
        }

    @app.route("/stream")
    def stream():
        def generate():
            for number in range(3):
                yield f"part {number}\n"

        return Response(stream_with_context(generate()), mimetype="text/plain")

    @app.route("/big")
    def big():
        return b"x" * (3 * MAX_CHUNK + 5)

    @app.route("/boom")
    def boom():
        raise RuntimeError("the site's own bug")

    @app.route("/empty")
    def empty():
        return "", 204

    return app


def test_a_request_gets_the_apps_answer(app: Flask) -> None:
    records: list[RequestRecord] = []
    connection = HTTPConnection(app, client="visitor 1", on_response=records.append)
    connection.receive_data(get("/"))
    [reply] = parse(drain(connection), ["GET"])
    assert reply.status == 200
    assert reply.body == b"Hello, world."
    assert reply.headers["content-type"] == "text/html; charset=utf-8"
    assert "date" in reply.headers
    assert records[0].method == "GET" and records[0].target == "/" and records[0].status == 200
    assert records[0].client == "visitor 1"
    assert not connection.should_close


def test_unknown_route_is_404(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/nowhere"))
    [reply] = parse(drain(connection), ["GET"])
    assert reply.status == 404


def test_keep_alive_and_pipelining(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/") + get("/nowhere") + get("/"))
    replies = parse(drain(connection), ["GET", "GET", "GET"])
    assert [reply.status for reply in replies] == [200, 404, 200]
    connection.receive_data(get("/"))  # and the connection is still good afterwards
    assert parse(drain(connection), ["GET"])[0].body == b"Hello, world."


def test_request_split_across_many_messages(app: Flask) -> None:
    connection = HTTPConnection(app)
    for byte in get("/"):
        assert connection.data_to_send() == b""
        connection.receive_data(bytes([byte]))
    assert parse(drain(connection), ["GET"])[0].body == b"Hello, world."


def test_form_post_and_environ(app: Flask) -> None:
    body = b"name=J%C3%BCrgen&city=Z%C3%BCrich"
    connection = HTTPConnection(app, url_scheme="https", client="visitor 7")
    connection.receive_data(
        b"POST /echo?x=1 HTTP/1.1\r\nHost: site.localhost:8000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
    )
    reply = parse(drain(connection), ["POST"])[0]
    import json

    answer = json.loads(reply.body)
    assert answer["form"] == {"name": "Jürgen", "city": "Zürich"}
    assert answer["url"] == "https://site.localhost:8000/echo?x=1"
    assert answer["scheme"] == "https"
    assert answer["remote"] == "visitor 7"


def test_chunked_request_body(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(
        b"PUT /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Content-Type: text/plain\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"
    )
    import json

    assert json.loads(parse(drain(connection), ["PUT"])[0].body)["data"] == "hello world"


def test_an_empty_body_said_so_has_a_content_length_of_zero() -> None:
    """``Content-Length: 0`` reaches the app as CONTENT_LENGTH "0"; no header, no key."""

    def length(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [repr(environ.get("CONTENT_LENGTH")).encode()]

    for header, seen in ((b"Content-Length: 0\r\n", b"'0'"), (b"", b"None")):
        connection = HTTPConnection(length)
        connection.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\n" + header + b"\r\n")
        assert parse(drain(connection), ["POST"])[0].body == seen


def test_streaming_response_is_pulled_lazily(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/stream"))
    first = connection.data_to_send(40)
    assert first.startswith(b"HTTP/1.1 200 ")
    assert connection.has_pending_output  # the generator has not been run to its end
    reply = parse(first + drain(connection), ["GET"])[0]
    assert reply.headers["transfer-encoding"] == "chunked"
    assert reply.body == b"part 0\npart 1\npart 2\n"


def test_the_head_leaves_with_the_bodys_first_bytes(app: Flask) -> None:
    """One message for a small response, not a head and then a body (PEP 3333 holds the head
    until the first non-empty chunk), and the response is done once its Content-Length is
    sent, with no call more to learn so; a stream's later chunks are still not waited for."""
    records: list[RequestRecord] = []
    connection = HTTPConnection(app, on_response=records.append)
    connection.receive_data(get("/"))
    first = connection.data_to_send()
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"\r\n\r\nHello, world.")
    assert not connection.has_pending_output and [record.status for record in records] == [200]
    streaming = HTTPConnection(app)
    streaming.receive_data(get("/stream"))
    first = streaming.data_to_send()
    assert first.startswith(b"HTTP/1.1 200 ") and first.endswith(b"\r\n\r\n7\r\npart 0\n\r\n")


def test_output_comes_in_bounded_pieces(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/big"))
    pieces = []
    while piece := connection.data_to_send(MAX_CHUNK):
        pieces.append(piece)
    assert all(len(piece) <= MAX_CHUNK for piece in pieces)
    assert parse(b"".join(pieces), ["GET"])[0].body == b"x" * (3 * MAX_CHUNK + 5)


def test_head_and_204_have_no_body(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(b"HEAD / HTTP/1.1\r\nHost: x\r\n\r\n" + get("/empty"))
    head, empty = parse(drain(connection), ["HEAD", "GET"])
    assert head.status == 200 and head.body == b""
    assert head.headers["content-length"] == str(len(b"Hello, world."))
    assert empty.status == 204 and empty.body == b""


def test_exception_in_a_flask_view_is_a_500_and_logged(app: Flask, caplog) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/boom") + get("/"))
    boom, after = parse(drain(connection), ["GET", "GET"])
    assert boom.status == 500
    assert after.status == 200  # the connection survives the site's error
    [record] = [r for r in caplog.records if r.exc_info]
    assert "the site's own bug" in str(record.exc_info[1])


def test_exception_outside_flask_is_a_500() -> None:
    def broken(environ, start_response):
        raise ValueError("not even started")

    errors = io.StringIO()
    connection = HTTPConnection(broken, errors=errors)
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].status == 500
    assert "ValueError: not even started" in errors.getvalue()


def test_exception_mid_stream_cuts_the_connection() -> None:
    def half(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        yield b"first part"
        raise RuntimeError("broke halfway")

    errors = io.StringIO()
    connection = HTTPConnection(half, errors=errors)
    connection.receive_data(get("/"))
    out = drain(connection)
    assert b"first part" in out
    assert connection.should_close
    assert "broke halfway" in errors.getvalue()


def test_invalid_header_from_the_app_is_a_500() -> None:
    def bad(environ, start_response):
        start_response("200 OK", [("X-Bad", "line\r\nbreak")])
        return [b"body"]

    errors = io.StringIO()
    connection = HTTPConnection(bad, errors=errors)
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].status == 500
    assert "invalid response" in errors.getvalue()


def test_whitespace_around_a_header_value_is_not_part_of_it() -> None:
    """Django's WSGI handler writes its cookies as ``" csrftoken=..."``."""

    def django_like(environ, start_response):
        start_response("200 OK", [("Set-Cookie", " csrftoken=abc; Path=/"), ("X-Tab", "\tv ")])
        return [b"ok"]

    connection = HTTPConnection(django_like)
    connection.receive_data(get("/"))
    response = parse(drain(connection), ["GET"])[0]
    assert response.status == 200
    assert (response.headers["set-cookie"], response.headers["x-tab"]) == (
        "csrftoken=abc; Path=/",
        "v",
    )


def test_malformed_request_gets_400_and_close(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(b"THIS IS NOT HTTP\r\n\r\n")
    out = drain(connection)
    assert out.startswith(b"HTTP/1.1 400 ")
    assert connection.should_close


def test_connection_close_is_honoured(app: Flask) -> None:
    connection = HTTPConnection(app)
    connection.receive_data(get("/", "Connection: close"))
    reply = parse(drain(connection), ["GET"])[0]
    assert reply.headers["connection"] == "close"
    assert connection.should_close


def test_late_start_response_and_close_are_handled() -> None:
    closed = []

    class Body:
        def __init__(self, start_response):
            self.start_response = start_response

        def __iter__(self) -> Iterator[bytes]:
            self.start_response("200 OK", [("Content-Type", "text/plain")])
            yield b"late"

        def close(self) -> None:
            closed.append(True)

    connection = HTTPConnection(lambda environ, start_response: Body(start_response))
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].body == b"late"
    assert closed == [True]


def test_the_bridge_passes_wsgiref_validate(app: Flask) -> None:
    """wsgiref.validate checks both sides: the environ we build and how we drive the app."""
    connection = HTTPConnection(validator(app))
    body = b"a=1"
    connection.receive_data(
        get("/") + get("/stream") + b"POST /echo HTTP/1.1\r\nHost: x\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\n\r\n" + body
    )
    replies = parse(drain(connection), ["GET", "GET", "POST"])
    assert [reply.status for reply in replies] == [200, 200, 200]


def test_a_peer_that_goes_away_stops_the_response() -> None:
    """Its channel closed in the middle of an endless stream: the app's generator is closed at
    once (its finally runs), nothing more is produced, and the request is logged."""
    produced, closed, records = [], [], []

    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "application/octet-stream")])

        def forever():
            try:
                while True:
                    produced.append(1)
                    yield b"x" * MAX_CHUNK
            finally:
                closed.append(True)

        return forever()

    conn = HTTPConnection(app, on_response=records.append)
    conn.receive_data(get("/"))
    for _ in range(5):
        assert conn.data_to_send()
    conn.close()
    assert closed == [True]
    made = len(produced)
    assert conn.data_to_send() == b"" and len(produced) == made
    assert conn.should_close
    assert [record.status for record in records] == [200]
