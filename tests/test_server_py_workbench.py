"""The workbench under CPython: files, export/import, databases, console and flask commands."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest

from server_py.workbench import WorkbenchError, file_kind
from server_py.worker import SiteServer
from tests.test_server_py_site import write

APP = '''\
import sqlite3
import click
from flask import Flask, g

app = Flask(__name__)
DATABASE = "instance/site.db"


@app.cli.command("init-db")
def init_db():
    """Create the tables."""
    db = sqlite3.connect(DATABASE)
    db.executescript("CREATE TABLE item (id INTEGER PRIMARY KEY, name TEXT, picture BLOB);"
                     "INSERT INTO item (name, picture) VALUES ('lamp', x'00ff');")
    db.commit()
    click.echo("Initialized the database.")


@app.route("/")
def index():
    return "home"
'''


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteServer:
    monkeypatch.setattr("sys.modules", dict(__import__("sys").modules))
    monkeypatch.chdir(tmp_path)
    root = write(
        tmp_path / "site",
        {
            "app.py": APP,
            "index.html": "<p>hi</p>",
            "static/logo.png": b"\x89PNG\x00\x01",
            "instance/.keep": "",
        },
    )
    site_server = SiteServer(str(root))
    assert site_server.load()["ok"]
    return site_server


def test_file_kinds() -> None:
    assert [
        file_kind(p)
        for p in [
            "app.py",
            "templates/base.html",
            "index.html",
            "a/b.css",
            "x.js",
            "img/cat.JPG",
            "instance/site.db",
            "README",
        ]
    ] == ["python", "template", "html", "css", "javascript", "image", "database", "other"]


def test_files_create_read_rename_delete(server: SiteServer) -> None:
    bench = server.workbench
    bench.write_file("pages/new.html", b"<p>new</p>")
    assert bench.read_file("pages/new.html") == b"<p>new</p>"
    bench.rename("pages/new.html", "pages/renamed.html")
    paths = [entry["path"] for entry in bench.list_files()]
    assert "pages/renamed.html" in paths and "pages/new.html" not in paths
    bench.delete("pages/renamed.html")
    assert not (server.site.root / "pages").exists()  # emptied folders go too
    assert bench.read_file("static/logo.png") == b"\x89PNG\x00\x01"


@pytest.mark.parametrize("bad", ["../outside.txt", "/etc/passwd", "", " ", "x/../../y"])
def test_paths_outside_the_site_are_refused(server: SiteServer, bad: str) -> None:
    with pytest.raises(WorkbenchError):
        server.workbench.write_file(bad, b"x")


def test_rename_onto_an_existing_file_is_refused(server: SiteServer) -> None:
    with pytest.raises(WorkbenchError, match="already exists"):
        server.workbench.rename("index.html", "app.py")


def test_flask_commands_and_the_database(server: SiteServer) -> None:
    bench = server.workbench
    assert bench.run("flask init-db") == "Initialized the database.\n"
    assert bench.databases() == ["instance/site.db"]
    assert bench.tables("instance/site.db") == [{"name": "item", "rows": 1}]
    page = bench.rows("instance/site.db", "item")
    assert page["columns"] == ["id", "name", "picture"]
    assert page["rows"] == [[1, "lamp", "00ff"]]
    changed = bench.query("instance/site.db", "INSERT INTO item (name) VALUES ('couch')")
    assert changed["changed"] == 1
    result = bench.query("instance/site.db", "SELECT name FROM item ORDER BY id")
    assert result["rows"] == [["lamp"], ["couch"]]
    with pytest.raises(WorkbenchError, match="no such table: missing"):
        bench.query("instance/site.db", "SELECT * FROM missing")
    assert "No such command" in bench.run("flask no-such-command")


def test_console_runs_with_the_app_context(server: SiteServer) -> None:
    bench = server.workbench
    assert bench.run("1 + 2") == "3\n"
    assert bench.run("from flask import current_app\ncurrent_app.name") == ""
    assert bench.run("current_app.name") == "'app'\n"
    assert bench.run("x = 5") == ""
    assert bench.run("print(x * 2)") == "10\n"  # the namespace lives on
    assert "ZeroDivisionError" in bench.run("1 / 0")


def test_export_and_import_round_trip(server: SiteServer, tmp_path: Path) -> None:
    bench = server.workbench
    bench.run("flask init-db")
    exported = bench.export_zip()
    assert "instance/site.db" in zipfile.ZipFile(io.BytesIO(exported)).namelist()
    bench.write_file("index.html", b"<p>changed</p>")
    bench.import_zip(exported)
    assert bench.read_file("index.html") == b"<p>hi</p>"
    assert bench.rows("instance/site.db", "item")["rows"][0][1] == "lamp"


def test_import_takes_off_a_single_top_folder(server: SiteServer) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("project-main/flaskr/__init__.py", "def create_app(): pass\n")
        archive.writestr("project-main/README.md", "hello")
    assert server.workbench.import_zip(buffer.getvalue()) == ["README.md", "flaskr/__init__.py"]


@pytest.mark.parametrize(
    "content, message",
    [
        (b"not a zip", "not a zip archive"),
        ("empty", "holds no files"),
        ("no-site", "is not a site"),
        ("unsafe", "unsafe path"),
    ],
)
def test_invalid_archives_are_refused_and_the_site_stays(
    server: SiteServer, content: bytes | str, message: str
) -> None:
    if isinstance(content, str):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            if content == "no-site":
                archive.writestr("notes.txt", "just notes")
            elif content == "unsafe":
                archive.writestr("../evil.py", "x")
        content = buffer.getvalue()
    before = server.workbench.list_files()
    with pytest.raises(WorkbenchError, match=message):
        server.workbench.import_zip(content)
    assert server.workbench.list_files() == before
