"""server_py's HTTP/1.1 connection against bytes nobody should send: random and malformed
requests, smuggling shapes, oversized heads and bodies, a slow drip. Whatever arrives, the
connection answers with a valid HTTP response or closes cleanly: no hang, no escaped exception,
no memory that grows with what the peer sends (Hypothesis)."""

from __future__ import annotations

import io

import h11
import pytest
from flask import Flask, request
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server_py.http import HTTPConnection

LIMIT = 64 * 1024  # the body limit in these tests
FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def make_app() -> Flask:
    app = Flask(__name__)

    @app.route("/", methods=["GET", "POST", "PUT"])
    def index():
        return f"{request.method} {len(request.get_data())}"

    return app


APP = make_app()


def connection() -> HTTPConnection:
    return HTTPConnection(APP, errors=io.StringIO(), max_body_bytes=LIMIT)


def run(pieces: list[bytes], close: bool = True) -> tuple[bytes, HTTPConnection]:
    """Feed ``pieces`` one after another, pulling output as a server would; then EOF."""
    conn = connection()
    out = b""
    for piece in pieces:
        conn.receive_data(piece)
        while chunk := conn.data_to_send():
            out += chunk
        if conn.should_close:
            break
    if close and not conn.should_close:
        conn.receive_data(b"")
        while chunk := conn.data_to_send():
            out += chunk
    return out, conn


def responses(out: bytes) -> list[tuple[int, bytes]]:
    """Parse what the server sent as a client would: complete responses, one after another
    (a malformed byte, or a response cut short, fails the test)."""
    found: list[tuple[int, bytes]] = []
    if not out:
        return found  # (h11 takes no bytes as the end of the connection)
    client = h11.Connection(h11.CLIENT)
    client.receive_data(out)
    complete = True
    while True:
        # One request per response, as far as the client side of h11 is concerned.
        if client.our_state is h11.IDLE:
            headers = [("Host", "x"), ("Transfer-Encoding", "chunked")]
            client.send(h11.Request(method="POST", target="/", headers=headers))
            client.send(h11.EndOfMessage())
        event = client.next_event()
        if isinstance(event, h11.Response):
            found.append((event.status_code, b""))
            complete = False
        elif isinstance(event, h11.Data):
            found[-1] = (found[-1][0], found[-1][1] + event.data)
        elif isinstance(event, h11.EndOfMessage):
            complete = True
            if client.our_state is not h11.DONE or client.their_state is not h11.DONE:
                return found
            client.start_next_cycle()
        else:  # NEED_DATA: all of it has been read
            assert complete, f"a response was cut short: {out[-200:]!r}"
            return found


def split(data: bytes, cuts: list[int]) -> list[bytes]:
    points = sorted({c % (len(data) + 1) for c in cuts})
    pieces, last = [], 0
    for point in [*points, len(data)]:
        pieces.append(data[last:point])
        last = point
    return [p for p in pieces if p]


@FUZZ
@given(st.binary(max_size=2048), st.lists(st.integers(min_value=0), max_size=8))
def test_random_bytes_get_a_valid_answer_or_a_clean_close(data: bytes, cuts: list[int]) -> None:
    out, conn = run(split(data, cuts))
    for status, _body in responses(out):
        assert 100 <= status <= 599
    assert conn.should_close or not conn.has_pending_output


REQUEST_LINE = st.sampled_from(
    [b"GET / HTTP/1.1", b"POST / HTTP/1.1", b"PUT / HTTP/1.1", b"GET /x?y=%zz HTTP/1.1",
     b"GET / HTTP/1.0", b"BREW / HTTP/1.1", b"GET  / HTTP/1.1", b"GET / HTTP/9.9", b"/ HTTP/1.1"]
)  # fmt: skip
HEADER = st.one_of(
    st.sampled_from(
        [b"Host: site.localhost", b"Content-Length: 5", b"Content-Length: 0",
         b"Content-Length: -1", b"Content-Length: 5, 6", b"Content-Length: 99999999999",
         b"Transfer-Encoding: chunked", b"Transfer-Encoding: gzip, chunked",
         b"Transfer-Encoding: identity", b"Connection: close", b"Expect: 100-continue",
         b" folded: continuation", b"No-Colon", b"Bad Name: x", b"X: \x00"]
    ),
    st.builds(lambda n, v: n + b": " + v, st.binary(min_size=1, max_size=12),
              st.binary(max_size=24)),
)  # fmt: skip
BODY = st.one_of(
    st.binary(max_size=64),
    st.sampled_from([b"5\r\nhello\r\n0\r\n\r\n", b"zz\r\n", b"ffffffffff\r\n", b"0\r\n\r\n"]),
)


@FUZZ
@given(
    st.lists(st.tuples(REQUEST_LINE, st.lists(HEADER, max_size=6), BODY), min_size=1, max_size=3),
    st.lists(st.integers(min_value=0), max_size=6),
)
def test_malformed_and_smuggling_shapes(requests, cuts: list[int]) -> None:
    """Conflicting Content-Length and Transfer-Encoding, duplicate or bad lengths, bad chunks,
    pipelined requests: each answered validly, and nothing is read past a framing error."""
    data = b"".join(
        line + b"\r\n" + b"".join(h + b"\r\n" for h in headers) + b"\r\n" + body
        for line, headers, body in requests
    )
    out, conn = run(split(data, cuts))
    answers = responses(out)
    for status, _ in answers:
        assert 100 <= status <= 599
    # A request refused for its framing is the last thing said on that connection: nothing
    # after it can be read as a request of its own.
    refused = [i for i, (status, _) in enumerate(answers) if status in (400, 413, 431, 501)]
    if refused:
        assert refused[0] == len(answers) - 1 and conn.should_close


def test_content_length_and_chunked_together_is_refused() -> None:
    smuggled = (
        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"0\r\n\r\nGET /admin HTTP/1.1\r\nHost: x\r\n\r\n"
    )
    out, conn = run([smuggled])
    [(status, _)] = responses(out)
    assert status == 400 and conn.should_close


def test_duplicate_differing_content_lengths_are_refused() -> None:
    out, _ = run(
        [b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"]
    )
    assert responses(out)[0][0] == 400


@pytest.mark.parametrize("where", ["line", "headers"])
def test_oversized_heads_get_431(where: str) -> None:
    big = b"a" * (64 * 1024 + 1)  # past the README's 64 KiB
    head = (
        b"GET /" + big + b" HTTP/1.1\r\nHost: x\r\n\r\n"
        if where == "line"
        else b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + big + b"\r\n\r\n"
    )
    out, conn = run([head[i : i + 4096] for i in range(0, len(head), 4096)])
    assert responses(out)[0][0] == 431 and conn.should_close


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_gets_413_and_is_not_read(chunked: bool) -> None:
    conn = connection()
    if chunked:
        conn.receive_data(b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
        piece = b"%x\r\n%s\r\n" % (4096, b"x" * 4096)
    else:
        conn.receive_data(
            b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n" % (LIMIT * 100)
        )
        piece = b"x" * 4096
    sent = 0
    while not conn.should_close and sent < LIMIT * 10:
        conn.receive_data(piece)
        sent += len(piece)
        out = conn.data_to_send()
        if out:
            [(status, body)] = responses(out + drain(conn))
            assert status == 413 and b"limited to" in body
            break
    assert conn.should_close
    # Refused before the limit was passed by much: the body was never read whole.
    assert sent <= LIMIT + 2 * len(piece)
    conn.receive_data(b"x" * 10_000_000)  # anything more is ignored, not buffered
    assert conn.data_to_send() == b""


def drain(conn: HTTPConnection) -> bytes:
    out = b""
    while chunk := conn.data_to_send():
        out += chunk
    return out


@settings(max_examples=30, deadline=None)
@given(st.sampled_from([b"GET / HTTP/1.1\r\nHost: x\r\n\r\n",
                        b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello",
                        b"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
                        b"5\r\nhello\r\n0\r\n\r\n"]))  # fmt: skip
def test_a_slow_drip_still_gets_its_answer(data: bytes) -> None:
    out, conn = run([bytes([b]) for b in data], close=False)
    [(status, body)] = responses(out)
    assert status == 200 and body.split()[0] in (b"GET", b"POST")
    assert not conn.should_close  # and the connection stays open for the next request


def test_a_body_over_512_mib_is_refused_before_it_is_read() -> None:
    """The README's limit, with the server's default: 413 as soon as the head says so, and no
    byte of the body read; a body of 512 MiB itself is read on as it comes."""
    head = b"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n"
    over = HTTPConnection(APP, errors=io.StringIO())
    over.receive_data(head % (512 * 1024 * 1024 + 1))
    assert over.data_to_send().startswith(b"HTTP/1.1 413 ") and over.should_close
    within = HTTPConnection(APP, errors=io.StringIO())
    within.receive_data(head % (512 * 1024 * 1024) + b"the start of the body")
    assert within.data_to_send() == b"" and not within.should_close
