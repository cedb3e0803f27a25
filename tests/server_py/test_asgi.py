"""ASGI apps through the bridge: a bare ASGI callable, a Starlette app and a Quart site, as bytes
in and out.

Also run inside Pyodide (tests/pyodide/test_unit.py), where there are no threads and the host's
own event loop counts as running.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
from collections.abc import AsyncIterator
from pathlib import Path
from wsgiref.validate import validator

import pytest
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    StreamingResponse,
)
from starlette.routing import Route

from server_py.asgi import ASGIBridge, is_asgi_app
from server_py.http import MAX_CHUNK, HTTPConnection
from server_py.site import Site, SiteLoadError
from tests.server_py.test_http import drain, get, parse
from tests.server_py.test_site import isolated_imports  # noqa: F401  (a fixture)

# Each test's sites are imported afresh: what they add to sys.path and sys.modules goes.
pytestmark = pytest.mark.usefixtures("isolated_imports")


async def bare_app(scope, receive, send):
    """An ASGI app with no framework: echoes what it was sent."""
    assert scope["type"] == "http"
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    if scope["path"] == "/fail-early":
        raise ValueError("failed before the response")
    if scope["path"] == "/wait-forever":
        await receive()  # the body is over: this waits for a disconnect before any response
        await receive()
    reply = json.dumps({
        "method": scope["method"],
        "path": scope["path"],
        "query": scope["query_string"].decode(),
        "headers": {name.decode(): value.decode() for name, value in scope["headers"]},
        "server": list(scope["server"]),
        "length": len(body),
        "sha": __import__("hashlib").sha256(body).hexdigest(),
    }).encode()  # fmt: skip
    await send({
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"content-type", b"application/json"), (b"x-Custom", b"yes")],
    })  # fmt: skip
    await send({"type": "http.response.body", "body": reply})


def test_is_asgi_app() -> None:
    assert is_asgi_app(bare_app)
    assert is_asgi_app(Starlette())
    assert not is_asgi_app(lambda environ, start_response: [])
    assert not is_asgi_app(Starlette)


def test_a_bare_asgi_app_gets_the_request_and_answers() -> None:
    connection = HTTPConnection(ASGIBridge(bare_app))
    body = bytes(range(256)) * (MAX_CHUNK // 128)  # two and a bit receive() messages
    connection.receive_data(
        b"POST /caf%C3%A9?x=1 HTTP/1.1\r\nHost: site.localhost:8000\r\nX-Thing: a\r\n"
        + f"Content-Length: {len(body) + 3}\r\n\r\n".encode()
        + body
        + b"end"
    )
    [reply] = parse(drain(connection), ["POST"])
    assert reply.status == 201
    assert reply.headers["x-custom"] == "yes"
    seen = json.loads(reply.body)
    assert seen["method"] == "POST"
    assert seen["path"] == "/café"
    assert seen["query"] == "x=1"
    assert seen["headers"]["x-thing"] == "a"
    assert seen["headers"]["host"] == "site.localhost:8000"
    assert seen["server"] == ["site.localhost", 8000]
    assert seen["length"] == len(body) + 3
    assert seen["sha"] == __import__("hashlib").sha256(body + b"end").hexdigest()


def test_the_scope_has_the_headers_as_received() -> None:
    """Repeated headers apart and in order, ``_`` and ``-`` as sent (which a WSGI environ
    cannot tell apart); the body's framing undone, as for a WSGI app."""

    async def headers_app(scope, receive, send):
        while (await receive()).get("more_body"):
            pass
        said = [[name.decode(), value.decode()] for name, value in scope["headers"]]
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": json.dumps(said).encode()})

    connection = HTTPConnection(ASGIBridge(headers_app))
    connection.receive_data(
        b"POST / HTTP/1.1\r\nHost: site.localhost\r\nX-Tag: a\r\nX_Under: u\r\n"
        b"X-Tag: b\r\nX-Under: d\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3\r\nabc\r\n0\r\n\r\n"
    )
    [reply] = parse(drain(connection), ["POST"])
    assert json.loads(reply.body) == [
        ["host", "site.localhost"], ["x-tag", "a"], ["x_under", "u"], ["x-tag", "b"],
        ["x-under", "d"], ["content-length", "3"],
    ]  # fmt: skip


def test_errors_are_500s_with_their_traceback() -> None:
    errors = io.StringIO()
    connection = HTTPConnection(ASGIBridge(bare_app), errors=errors)
    connection.receive_data(get("/fail-early") + get("/wait-forever"))
    replies = parse(drain(connection), ["GET", "GET"])
    assert [reply.status for reply in replies] == [500, 500]
    assert "ValueError: failed before the response" in errors.getvalue()
    assert "waiting for an event that never comes" in errors.getvalue()


def test_a_streaming_response_is_produced_as_it_is_taken() -> None:
    produced = []

    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        for number in range(5):
            produced.append(number)
            await send({"type": "http.response.body", "body": b"x" * 1000, "more_body": True})
            await asyncio.sleep(0.001)  # timers work on the bridge's loop
        await send({"type": "http.response.body", "body": b""})

    connection = HTTPConnection(ASGIBridge(app))
    connection.receive_data(get("/"))
    out = connection.data_to_send()  # the head
    pulls = 0
    while chunk := connection.data_to_send():
        out += chunk
        pulls += 1
        assert len(produced) <= pulls + 1  # never runs ahead of the channel by more than one
    [reply] = parse(out, ["GET"])
    assert reply.body == b"x" * 5000
    assert len(reply.chunks) == 5


def test_executor_work_runs_inline() -> None:
    """run_in_executor and asyncio.to_thread where no thread of the site's could answer (here,
    as in a browser without stack switching): the work runs inline."""
    import threading

    async def app(scope, receive, send):
        loop = asyncio.get_running_loop()
        one = await loop.run_in_executor(None, threading.get_ident)
        two = await asyncio.to_thread(threading.get_ident)
        same = one == two == threading.get_ident()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"inline" if same else b"threads"})

    connection = HTTPConnection(ASGIBridge(app))
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].body == b"inline"


def test_an_exception_mid_stream_cuts_the_connection() -> None:
    async def app(scope, receive, send):
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"partial", "more_body": True})
        raise RuntimeError("broke halfway")

    errors = io.StringIO()
    connection = HTTPConnection(ASGIBridge(app), errors=errors)
    connection.receive_data(get("/"))
    out = drain(connection)
    assert b"partial" in out and out.endswith(b"partial\r\n")  # no final chunk: cut short
    assert connection.should_close
    assert "broke halfway" in errors.getvalue()


def test_lifespan_runs_at_startup_and_shutdown() -> None:
    events = []

    async def app(scope, receive, send):
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                events.append(message["type"])
                if message["type"] == "lifespan.startup":
                    scope["state"]["greeting"] = "from startup"
                    await send({"type": "lifespan.startup.complete"})
                else:
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": scope["state"]["greeting"].encode()})

    bridge = ASGIBridge(app)
    bridge.startup()
    connection = HTTPConnection(bridge)
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].body == b"from startup"
    bridge.shutdown()
    assert events == ["lifespan.startup", "lifespan.shutdown"]


def test_an_app_without_lifespan_is_served_all_the_same() -> None:
    bridge = ASGIBridge(bare_app)  # asserts scope["type"] == "http": lifespan raises
    bridge.startup()
    connection = HTTPConnection(bridge)
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].status == 201


def test_the_asgi_bridge_passes_wsgiref_validate() -> None:
    connection = HTTPConnection(validator(ASGIBridge(starlette_app(Path("/nonexistent")))))
    connection.receive_data(get("/") + get("/stream") + get("/sync"))
    replies = parse(drain(connection), ["GET", "GET", "GET"])
    assert [reply.status for reply in replies] == [200, 200, 200]


def starlette_app(files: Path, done: list[str] | None = None) -> Starlette:
    async def home(request: Request):
        return PlainTextResponse(f"Hello from Starlette at {request.url_for('home')}")

    def sync_view(request: Request):  # runs in anyio's thread pool, or inline in the browser
        return JSONResponse({"sync": True, "cookie": request.cookies.get("flavor")})

    async def form(request: Request):
        async with request.form() as data:
            upload = data["upload"]
            content = await upload.read()
            response = RedirectResponse(request.url_for("home"), status_code=303)
            response.set_cookie("flavor", data["flavor"])
            response.headers["x-upload"] = f"{upload.filename}:{len(content)}"
        return response

    async def stream(request: Request):
        async def numbers():
            for number in range(3):
                yield f"{number}\n"

        return StreamingResponse(numbers(), media_type="text/plain")

    async def file(request: Request):
        return FileResponse(files / "big.bin")

    async def later(request: Request):
        return PlainTextResponse("queued", background=BackgroundTask(done.append, "background"))

    async def boom(request: Request):
        raise KeyError("the site's own bug")

    return Starlette(
        routes=[
            Route("/", home, name="home"),
            Route("/sync", sync_view),
            Route("/form", form, methods=["POST"]),
            Route("/stream", stream),
            Route("/file", file),
            Route("/later", later),
            Route("/boom", boom),
        ]
    )


def test_a_starlette_app(tmp_path: Path) -> None:
    big = bytes(range(256)) * 1000
    (tmp_path / "big.bin").write_bytes(big)
    done: list[str] = []
    errors = io.StringIO()
    connection = HTTPConnection(ASGIBridge(starlette_app(tmp_path, done)), errors=errors)
    boundary = "XyZ"
    form = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="flavor"\r\n\r\nmint\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload"; filename="a.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{'z' * 5000}\r\n--{boundary}--\r\n"
    ).encode()
    connection.receive_data(
        get("/")
        + get("/sync", "Cookie: flavor=lemon")
        + b"POST /form HTTP/1.1\r\nHost: site.localhost:8000\r\n"
        + f"Content-Type: multipart/form-data; boundary={boundary}\r\n".encode()
        + f"Content-Length: {len(form)}\r\n\r\n".encode()
        + form
        + get("/stream")
        + get("/file")
        + get("/later")
        + get("/boom")
        + get("/missing")
    )
    replies = parse(drain(connection), ["GET", "GET", "POST"] + ["GET"] * 5)
    home, sync, posted, stream, file, later, boom, missing = replies
    assert home.body == b"Hello from Starlette at http://site.localhost:8000/"
    assert json.loads(sync.body) == {"sync": True, "cookie": "lemon"}
    assert posted.status == 303
    assert posted.headers["location"] == "http://site.localhost:8000/"
    assert posted.headers["set-cookie"].startswith("flavor=mint;")
    assert posted.headers["x-upload"] == "a.txt:5000"
    assert stream.body == b"0\n1\n2\n" and stream.headers["transfer-encoding"] == "chunked"
    assert file.body == big
    assert later.body == b"queued" and done == ["background"]
    assert boom.status == 500
    assert 'KeyError: "the site\'s own bug"' in errors.getvalue()
    assert missing.status == 404


STARLETTE_SITE = """
from contextlib import asynccontextmanager
from pathlib import Path
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

@asynccontextmanager
async def lifespan(app):
    yield {"motto": "MOTTO"}
    (Path(__file__).parent / "shutdown.txt").write_text("clean")

async def home(request):
    return PlainTextResponse(request.state.motto)

app = Starlette(routes=[Route("/", home)], lifespan=lifespan)
"""


def test_a_site_with_a_starlette_app_in_main_py(tmp_path: Path) -> None:
    (tmp_path / "main.py").write_text(STARLETTE_SITE.replace("MOTTO", "first"))
    (tmp_path / "style.css").write_text("p {}")
    site = Site(tmp_path)
    served = site.load()
    assert site.app_module == "main.py"
    assert type(site.app).__name__ == "Starlette"  # the console's `app`: the site's own
    connection = HTTPConnection(served)
    connection.receive_data(get("/") + get("/style.css"))
    home, style = parse(drain(connection), ["GET", "GET"])
    assert home.body == b"first" and style.body == b"p {}"

    (tmp_path / "main.py").write_text(STARLETTE_SITE.replace("MOTTO", "second"))
    connection = HTTPConnection(site.load())
    assert (tmp_path / "shutdown.txt").read_text() == "clean"  # the old app's lifespan ended
    connection.receive_data(get("/"))
    assert parse(drain(connection), ["GET"])[0].body == b"second"

    (tmp_path / "shutdown.txt").unlink()
    (tmp_path / "main.py").write_text("def app(environ, start_response):\n    return []\n")
    site.load()  # from ASGI to WSGI: the last ASGI app's lifespan ends too
    assert (tmp_path / "shutdown.txt").read_text() == "clean"


def test_flaskenv_can_name_an_asgi_app_and_a_failed_startup_is_reported(tmp_path: Path) -> None:
    (tmp_path / ".flaskenv").write_text("FLASK_APP=service:api\n")
    (tmp_path / "service.py").write_text(
        "async def api(scope, receive, send):\n"
        "    if scope['type'] == 'lifespan':\n"
        "        await receive()\n"
        "        await send({'type': 'lifespan.startup.failed', 'message': 'no database'})\n"
    )
    with pytest.raises(SiteLoadError, match="lifespan startup failed: no database"):
        Site(tmp_path).load()


QUART_SITE = {
    "app.py": """
from pathlib import Path
from quart import (Quart, flash, get_flashed_messages, redirect, render_template, request,
                   session, url_for)

app = Quart(__name__)
app.secret_key = "dev"
notes = []

@app.before_serving
async def open_notes():
    notes.append("opened")

@app.after_serving
async def close_notes():
    (Path(__file__).parent / "closed.txt").write_text(",".join(notes))

@app.route("/")
async def index():
    return await render_template("index.html", notes=notes, who=session.get("who"),
                                 flashed=get_flashed_messages())

@app.post("/notes")
async def add_note():
    form = await request.form
    notes.append(form["text"])
    session["who"] = form["who"]
    await flash("Saved.")
    return redirect(url_for("index", _external=True))

@app.route("/sync")
def sync_view():  # Quart runs it in an executor: inline, in the browser
    return {"sync": True, "args": dict(request.args)}

@app.route("/stream")
async def stream():
    async def lines():
        for number in range(3):
            yield f"{number}\\n".encode()
    return lines(), 200, {"Content-Type": "text/plain"}
""",
    "templates/index.html": (
        "{% for message in flashed %}<p>{{ message }}</p>{% endfor %}"
        "<h1>{{ notes|join(', ') }}</h1>{{ who or 'nobody' }}"
    ),
}


def test_a_quart_site(tmp_path: Path) -> None:
    """Quart: hypercorn, which it imports, needs multiprocessing (see server_py.shims)."""
    for name, text in QUART_SITE.items():
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text(text)
    site = Site(tmp_path)
    connection = HTTPConnection(site.load())
    assert type(site.app).__name__ == "Quart" and site.app_module == "app.py"
    form = b"text=first+note&who=ada"
    connection.receive_data(
        b"POST /notes HTTP/1.1\r\nHost: site.localhost:8000\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n"
        + f"Content-Length: {len(form)}\r\n\r\n".encode()
        + form
    )
    [posted] = parse(drain(connection), ["POST"])
    assert posted.status == 302
    assert posted.headers["location"] == "http://site.localhost:8000/"
    session = posted.headers["set-cookie"].split(";")[0]
    connection.receive_data(
        get("/", f"Cookie: {session}") + get("/sync?q=1") + get("/stream") + get("/missing")
    )
    page, sync, stream, missing = parse(drain(connection), ["GET"] * 4)
    assert page.body == b"<p>Saved.</p><h1>opened, first note</h1>ada"
    assert json.loads(sync.body) == {"sync": True, "args": {"q": "1"}}
    assert stream.body == b"0\n1\n2\n"
    assert missing.status == 404

    (tmp_path / "app.py").write_text("def app(environ, start_response):\n    return []\n")
    site.load()  # a reload ends the Quart app's lifespan: after_serving ran
    assert (tmp_path / "closed.txt").read_text() == "opened,first note"


def test_starlettes_test_client_runs_without_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    """Starlette's (and FastAPI's) TestClient opens anyio's blocking portal, a loop in a thread;
    the server tab's Python has no threads, and gets the inline portal (server_py.shims)."""
    import threading

    import anyio.from_thread
    from starlette.testclient import TestClient

    from server_py.event_loop import start_blocking_portal

    def no_thread(self: threading.Thread) -> None:
        raise RuntimeError("can't start new thread")  # as in the browser

    monkeypatch.setattr(anyio.from_thread, "start_blocking_portal", start_blocking_portal)
    monkeypatch.setattr(threading.Thread, "start", no_thread)
    events: list[str] = []

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    async def hello(request: Request) -> PlainTextResponse:
        body = await request.body()
        return PlainTextResponse(f"hello {body.decode()} after {events}")

    app = Starlette(routes=[Route("/", hello, methods=["POST"])], lifespan=lifespan)
    with TestClient(app) as client:
        assert client.post("/", content=b"you").text == "hello you after ['startup']"
    assert events == ["startup", "shutdown"]
    assert TestClient(app).post("/", content=b"again").status_code == 200  # no `with`
