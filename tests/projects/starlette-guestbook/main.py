"""A guestbook written with Starlette, as its documentation writes apps; run with
`uvicorn main:app` on a computer, or in a PeerServer tab."""

import contextlib
import sqlite3

from greeting import hello
from starlette.applications import Starlette
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

DATABASE = "guestbook.sqlite"
templates = Jinja2Templates(directory="templates")


@contextlib.asynccontextmanager
async def lifespan(app):
    db = sqlite3.connect(DATABASE)
    db.execute("CREATE TABLE IF NOT EXISTS entry (id INTEGER PRIMARY KEY, name TEXT, note TEXT)")
    db.commit()
    yield {"db": db}
    db.close()


async def index(request):
    entries = request.state.db.execute("SELECT name, note FROM entry ORDER BY id").fetchall()
    return templates.TemplateResponse(request, "index.html", {"entries": entries})


async def sign(request):
    async with request.form() as form:
        request.state.db.execute(
            "INSERT INTO entry (name, note) VALUES (?, ?)", (form["name"], form["note"])
        )
    request.state.db.commit()
    return RedirectResponse(request.url_for("index"), status_code=303)


def entries(request):  # a plain function: Starlette runs it in a thread pool
    rows = request.state.db.execute("SELECT name, note FROM entry ORDER BY id").fetchall()
    return JSONResponse([{"name": name, "note": note} for name, note in rows])


async def greet(request):
    return PlainTextResponse(hello(request.path_params["name"]))


app = Starlette(
    routes=[
        Route("/", index, name="index"),
        Route("/sign", sign, methods=["POST"], name="sign"),
        Route("/entries.json", entries),
        Route("/hello/{name}", greet),
        Mount("/static", StaticFiles(directory="static"), name="static"),
    ],
    lifespan=lifespan,
)
