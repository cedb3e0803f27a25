"""Site folders under CPython: app discovery, static files around the app, load errors, reloads."""

from __future__ import annotations

import io
import os
import sys
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.test import Client

from server_py.http import HTTPConnection
from server_py.site import Site, SiteLoadError
from server_py.static_files import is_public
from server_py.worker import SiteServer
from tests.harness import REPO
from tests.server_py.test_http import drain, get, parse

EMPTY_TEMPLATE = REPO / "site_templates" / "empty"


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for name, content in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return root


@pytest.fixture
def environ() -> Iterator[os._Environ[str]]:
    """``os.environ``, put back as it was after the test."""
    saved = dict(os.environ)
    yield os.environ
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def isolated_imports(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """(For the server_py tests, which run in Pyodide without the conftest.) What loading a site
    (under the test's ``tmp_path``) adds to sys.path and sys.modules is
    undone after the test, so that the next test's app.py is not mistaken for this one's.
    sys.modules is emptied of the sites' modules, not replaced by a copy: the import system
    keeps using the dict it has, and a module it imports meanwhile would be half in each."""
    monkeypatch.setattr("sys.path", list(sys.path))
    before = set(sys.modules)
    yield
    for name in set(sys.modules) - before:
        if str(getattr(sys.modules[name], "__file__", None) or "").startswith(str(tmp_path)):
            del sys.modules[name]


@pytest.fixture
def site_root(
    isolated_imports: None,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    environ: os._Environ[str],
) -> Path:
    # Undone after the test: sys.path, sys.modules, and os.environ (which a site's .flaskenv and
    # .env change) through the environ fixture.
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.chdir(tmp_path)  # SiteServer.load() changes into the site, as `flask run` would
    return write(
        tmp_path / "site",
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n\n"
            "@app.route('/')\ndef index():\n    return 'from the app'\n\n"
            "@app.route('/style.css')\ndef style():\n    return 'a route wins'\n",
            "index.html": "<p>the index file</p>",
            "about.html": "<p>about</p>",
            "404.html": "<p>the site's 404 page</p>",
            "style.css": "body { color: red }",
            "docs/index.html": "<p>docs</p>",
            "image.png": bytes(range(256)) * 4,
            "secret.db": "rows",
            "templates/page.html": "{{ secret }}",
            "instance/config.py": "SECRET = 1",
            ".env": "KEY=1",
        },
    )


def client_for(root: Path) -> Client:
    return Client(Site(root).load())


def test_the_app_answers_first_then_files(site_root: Path) -> None:
    client = client_for(site_root)
    assert client.get("/").text == "from the app"
    assert client.get("/style.css").text == "a route wins"
    assert client.get("/about.html").text == "<p>about</p>"
    image = client.get("/image.png")
    assert image.data == bytes(range(256)) * 4
    assert image.mimetype == "image/png"


def test_a_routes_own_404_stands_and_flask_static_misses_get_the_sites_page(
    site_root: Path,
) -> None:
    write(
        site_root,
        {
            "app.py": "from flask import Flask\napp = Flask(__name__)\n\n"
            "@app.route('/gone')\ndef gone():\n    return 'gone for good', 404\n",
            "static/logo.txt": "logo",
        },
    )
    client = client_for(site_root)
    gone = client.get("/gone")
    assert (gone.status_code, gone.text) == (404, "gone for good")
    assert client.get("/static/logo.txt").text == "logo"
    missing = client.get("/static/missing.txt")
    assert (missing.status_code, missing.text) == (404, "<p>the site's 404 page</p>")
    assert client.post("/gone").status_code == 405  # a route is there, for another method


def test_folders_serve_their_index_and_redirect_to_the_slash(site_root: Path) -> None:
    client = client_for(site_root)
    assert client.get("/docs/").text == "<p>docs</p>"
    moved = client.get("/docs?page=2")
    assert moved.status_code == 308
    assert moved.headers["Location"] == "/docs/?page=2"


def test_unknown_paths_get_the_sites_404_page(site_root: Path) -> None:
    response = client_for(site_root).get("/no/such/page")
    assert response.status_code == 404
    assert response.text == "<p>the site's 404 page</p>"


@pytest.mark.parametrize(
    "path",
    [
        "/app.py",
        "/secret.db",
        "/templates/page.html",
        "/instance/config.py",
        "/.env",
        "/../site/app.py",
        "/__pycache__/app.cpython-311.pyc",
    ],
)
def test_source_and_data_are_never_served(site_root: Path, path: str) -> None:
    client = client_for(site_root)
    client.get("/")  # leaves a __pycache__ behind
    response = client.get(path)
    assert response.status_code == 404
    assert response.text == "<p>the site's 404 page</p>"


def test_is_public() -> None:
    assert is_public("img/cat.jpg")
    assert not is_public("pkg/models.py")
    assert not is_public("static/.hidden")
    assert not is_public("")


def test_a_site_without_an_app_is_static(tmp_path: Path) -> None:
    root = write(tmp_path, {"index.html": "<p>static</p>"})
    site = Site(root)
    client = Client(site.load())
    assert site.app_module is None
    assert client.get("/").text == "<p>static</p>"
    assert client.get("/missing").status_code == 404


def test_a_site_with_python_but_no_app_says_what_was_tried(site_root: Path) -> None:
    (site_root / "app.py").unlink()
    root = write(
        site_root,
        {
            "helpers.py": "X = 1\n",
            "blog/__init__.py": "from .models import Post\n",  # its own import fails
            "tools/__init__.py": "",  # a package without an app
            "my-package/__init__.py": "",
        },
    )
    site = Site(root)
    site.load()
    assert site.app_module is None
    reason = site.no_app_reason or ""
    assert reason.startswith("No app found: FLASK_APP is not set in .flaskenv or .env; ")
    assert "there is no wsgi.py, app.py, asgi.py, main.py" in reason
    assert "package blog: While importing 'blog', an ImportError was raised" in reason
    assert "No module named 'blog.models'" in reason
    assert "package tools: Failed to find Flask application or factory" in reason
    assert "my-package/ is not a name Python can import" in reason
    (root / "app.py").write_text("from flask import Flask\napp = Flask(__name__)\n")
    site.load()
    assert site.app_module == "app.py" and site.no_app_reason is None


def test_wsgi_py_is_found_too(site_root: Path) -> None:
    (site_root / "app.py").rename(site_root / "wsgi.py")
    site = Site(site_root)
    assert Client(site.load()).get("/").text == "from the app"
    assert site.app_module == "wsgi.py"


PACKAGE_PROJECT = {
    "flaskr/__init__.py": "import os\nfrom flask import Flask\n\n"
    "def create_app():\n"
    "    app = Flask(__name__, instance_relative_config=True)\n"
    "    os.makedirs(app.instance_path, exist_ok=True)\n"
    "    from . import views\n"
    "    app.register_blueprint(views.bp)\n"
    "    return app\n",
    "flaskr/views.py": "from flask import Blueprint, current_app\n"
    "bp = Blueprint('views', __name__)\n\n"
    "@bp.route('/')\ndef index():\n    return current_app.instance_path\n",
    "flaskr/templates/base.html": "<title>{% block title %}{% endblock %}</title>",
}


def test_a_package_with_an_app_factory_is_found(tmp_path: Path, site_root: Path) -> None:
    (site_root / "app.py").unlink()
    write(site_root, PACKAGE_PROJECT)
    site = Site(site_root)
    client = Client(site.load())
    assert site.app_module == "flaskr:create_app()"
    assert client.get("/").text == str(site_root / "instance")
    # A package project's folder is its source, not public files.
    assert client.get("/flaskr/views.py").status_code == 404


def test_a_package_that_exports_an_asgi_app_is_found(site_root: Path) -> None:
    """A FastAPI (or Starlette) project as a package: ``project/__init__.py`` imports its
    ``app``, as uvicorn is told ``project:app``."""
    (site_root / "app.py").unlink()
    write(
        site_root,
        {
            "project/__init__.py": "from .web import app\n",
            "project/web.py": "async def app(scope, receive, send):\n"
            "    assert scope['type'] == 'http'  # no lifespan: it stops at once\n"
            "    await send({'type': 'http.response.start', 'status': 200, 'headers': []})\n"
            "    await send({'type': 'http.response.body', 'body': b'from the package'})\n",
        },
    )
    site = Site(site_root)
    client = Client(site.load())
    assert site.app_module == "project:app"
    assert client.get("/").text == "from the package"


def test_the_instance_folder_stays_in_the_site_under_pyodides_prefix(
    site_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Pyodide's sys.prefix is "/": Flask would take the site for an installed package.
    (site_root / "app.py").unlink()
    write(site_root, PACKAGE_PROJECT)
    monkeypatch.setattr("sys.prefix", "/")
    assert Client(Site(site_root).load()).get("/").text == str(site_root / "instance")


def test_flaskenv_names_the_app(site_root: Path) -> None:
    write(
        site_root,
        {
            ".flaskenv": "FLASK_DEBUG=1\nFLASK_APP=hello:make()\n",
            "hello.py": "from flask import Flask\n\ndef make():\n"
            "    app = Flask(__name__)\n"
            "    app.add_url_rule('/', 'index', lambda: 'hello from the factory')\n"
            "    return app\n",
        },
    )
    site = Site(site_root)
    assert Client(site.load()).get("/").text == "hello from the factory"
    assert site.app_module == "hello:make()"
    write(site_root, {".flaskenv": "FLASK_APP=missing_module\n"})
    with pytest.raises(SiteLoadError, match=r"^\.flaskenv: FLASK_APP=missing_module"):
        site.load()


def test_flask_debug_shows_the_traceback_without_the_console(site_root: Path) -> None:
    write(
        site_root,
        {
            ".flaskenv": "FLASK_DEBUG=1\n",
            "app.py": "from flask import Flask\napp = Flask(__name__)\n"
            "@app.route('/boom')\ndef boom():\n    raise ValueError('kaboom')\n",
        },
    )
    errors = io.StringIO()
    connection = HTTPConnection(Site(site_root).load(), errors=errors)
    connection.receive_data(
        get("/boom")
        + get("/?__debugger__=yes&cmd=resource&f=style.css")
        + get("/index.html")  # the site's files are still served
    )
    page, style, index = parse(drain(connection), ["GET"] * 3)
    assert page.status == 500
    assert b"ValueError: kaboom" in page.body and b"raise ValueError('kaboom')" in page.body
    assert b"EVALEX = false" in page.body  # no Python console in the page
    assert "ValueError: kaboom" in errors.getvalue()  # and the owner's log has it too
    assert style.status == 200 and style.headers["content-type"].startswith("text/css")
    assert index.body == b"<p>the index file</p>"


def test_env_files_set_the_environment_as_flask_run_does(
    site_root: Path, environ: os._Environ[str]
) -> None:
    environ["PEERSERVER_TEST_OUTSIDE"] = "from the environment"
    write(
        site_root,
        {
            ".flaskenv": "FLASK_APP=config_app.py\nexport GREETING='from .flaskenv'\n"
            "FLASK_COLOR=blue\nPEERSERVER_TEST_OUTSIDE=from .flaskenv\n",
            ".env": 'GREETING="from .env"\nFLASK_SECRET_KEY="s3cret"\nURL=${GREETING}/db\n',
            "config_app.py": "import os\nfrom flask import Flask\napp = Flask(__name__)\n"
            "app.config.from_prefixed_env()\n"
            "@app.route('/')\ndef index():\n    return '|'.join([os.environ['GREETING'],"
            " os.environ.get('URL', '-'), app.config['SECRET_KEY'], app.config['COLOR'],"
            " os.environ['PEERSERVER_TEST_OUTSIDE']])\n",
        },
    )
    site = Site(site_root)
    assert Client(site.load()).get("/").text == (
        "from .env|from .env/db|s3cret|blue|from the environment"
    )
    assert site.app_module == "config_app.py"

    # What a reload no longer finds in the files is gone from the environment too.
    write(site_root, {".env": "FLASK_SECRET_KEY=other\n"})
    assert Client(site.load()).get("/").text == ("from .flaskenv|-|other|blue|from the environment")
    assert "URL" not in environ

    write(site_root, {".env": "FLASK_APP=nowhere\n"})
    with pytest.raises(SiteLoadError, match=r"^\.env: FLASK_APP=nowhere"):
        site.load()


def test_syntax_error_names_file_and_line(site_root: Path) -> None:
    write(site_root, {"app.py": "from flask import Flask\napp = Flask(__name__\n"})
    with pytest.raises(SiteLoadError) as caught:
        Site(site_root).load()
    assert caught.value.filename == "app.py"
    assert caught.value.lineno == 2
    assert "SyntaxError" in caught.value.message


def test_import_error_names_the_sites_own_line(site_root: Path) -> None:
    write(
        site_root,
        {
            "app.py": "from flask import Flask\nimport helpers\napp = Flask(__name__)\n",
            "helpers.py": "x = 1\nimport no_such_module\n",
        },
    )
    with pytest.raises(SiteLoadError) as caught:
        Site(site_root).load()
    assert (caught.value.filename, caught.value.lineno) == ("helpers.py", 2)
    assert "No module named 'no_such_module'" in caught.value.message
    assert "Traceback" in caught.value.traceback_text


def test_an_error_inside_an_installed_package_names_the_package(site_root: Path) -> None:
    """An old pin fails inside its own code: the owner is told which package (and its version),
    so that a release for this Python can be offered."""
    import importlib.metadata

    write(site_root, {"app.py": "import flask\napp = flask.Flask(None)\n"})  # raises in flask
    with pytest.raises(SiteLoadError) as caught:
        Site(site_root).load()
    assert caught.value.package == {"name": "Flask", "version": importlib.metadata.version("flask")}
    write(site_root, {"app.py": "import json\njson.loads('{')\n"})  # the standard library
    with pytest.raises(SiteLoadError) as caught:
        Site(site_root).load()
    assert caught.value.package is None
    assert caught.value.filename == "app.py"


def test_a_plain_wsgi_application_is_served_with_the_sites_files(site_root: Path) -> None:
    # No framework: a WSGI callable named `application`, in wsgi.py as mod_wsgi would want it.
    (site_root / "app.py").unlink()
    write(
        site_root,
        {
            "wsgi.py": "def application(environ, start_response):\n"
            "    if environ['PATH_INFO'] != '/hello':\n"
            "        start_response('404 Not Found', [('Content-Type', 'text/plain')])\n"
            "        return [b'not mine']\n"
            "    start_response('200 OK', [('Content-Type', 'text/plain')])\n"
            "    return [b'hello from ', environ['SERVER_NAME'].encode()]\n"
        },
    )
    site = Site(site_root)
    client = Client(site.load())
    assert site.app_module == "wsgi.py"
    assert client.get("/hello", base_url="http://plain.localhost:8000").text == (
        "hello from plain.localhost"
    )
    assert client.get("/style.css").text == "body { color: red }"  # the app said 404


def test_a_module_without_an_app_says_so(site_root: Path) -> None:
    write(site_root, {"app.py": "x = 1\n"})
    with pytest.raises(SiteLoadError, match="defines no app"):
        Site(site_root).load()


def test_reload_sees_new_code_in_every_module(site_root: Path) -> None:
    write(
        site_root,
        {
            "words.py": "WORD = 'first'\n",
            "app.py": "from flask import Flask\nfrom words import WORD\n"
            "app = Flask(__name__)\n\n"
            "@app.route('/')\ndef index():\n    return WORD\n",
        },
    )
    site = Site(site_root)
    assert Client(site.load()).get("/").text == "first"
    write(site_root, {"words.py": "WORD = 'second'\n"})
    assert Client(site.load()).get("/").text == "second"


def test_a_site_file_is_one_under_the_site_folder_followed_through_links(tmp_path: Path) -> None:
    root = write(tmp_path / "site", {"app.py": "", "pkg/m.py": ""})
    write(tmp_path, {"site2/app.py": "", "elsewhere/m.py": ""})
    (tmp_path / "elsewhere" / "into-site.py").symlink_to(root / "app.py")
    (root / "out-of-site.py").symlink_to(tmp_path / "elsewhere" / "m.py")
    site = Site(root)
    assert site.is_site_file(str(root / "pkg" / "m.py"))
    assert site.is_site_file(str(tmp_path / "site" / "pkg" / ".." / "app.py"))
    assert site.is_site_file(str(tmp_path / "elsewhere" / "into-site.py"))
    assert not site.is_site_file(str(tmp_path / "site2" / "app.py"))  # a name the root's begins
    assert not site.is_site_file(str(root / "out-of-site.py"))
    assert not site.is_site_file("/lib/python314.zip/json/__init__.py")


def test_site_server_keeps_the_old_app_when_a_reload_fails(site_root: Path) -> None:
    server = SiteServer(str(site_root))
    assert server.load() == {"ok": True, "module": "app.py", "noApp": None, "mainFile": "app.py"}
    write(site_root, {"app.py": "this is not python\n"})
    result = server.load()
    assert result["ok"] is False and result["filename"] == "app.py" and result["lineno"] == 1
    assert result["module"] == "app.py"  # what still serves
    server.open(1)
    server.receive(1, get("/"))
    assert parse(drain_server(server, 1), ["GET"])[0].body == b"from the app"


def test_site_server_unpacks_a_template_and_logs_requests(
    isolated_imports: None, tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.chdir(tmp_path)
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as bundle:
        for path in EMPTY_TEMPLATE.rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                bundle.write(path, path.relative_to(EMPTY_TEMPLATE).as_posix())
    records: list[dict] = []
    server = SiteServer(str(tmp_path / "site"), on_request=records.append)
    server.unpack(archive.getvalue())
    assert server.load()["ok"]
    server.open(7, "http", "visitor 3")
    server.receive(7, get("/") + get("/hello?name=Ada") + get("/nope"))
    index, hello, missing = parse(drain_server(server, 7), ["GET", "GET", "GET"])
    assert b"Hello, world." in index.body
    assert b"Hello from Flask, Ada!" in hello.body
    assert missing.status == 404 and b"404 - page not found" in missing.body
    assert [(r["target"], r["status"], r["client"]) for r in records] == [
        ("/", 200, "visitor 3"),
        ("/hello?name=Ada", 200, "visitor 3"),
        ("/nope", 404, "visitor 3"),
    ]
    server.close(7)


def drain_server(server: SiteServer, conn: int) -> bytes:
    out = b""
    while chunk := server.data_to_send(conn):
        out += chunk
    return out
