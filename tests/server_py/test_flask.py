"""Flask's conventions in a site, one by one: config.from_* (object, mapping, pyfile, file,
prefixed_env, envvar), the instance folder and open_instance_resource, blueprints and url_for,
before_request/after_request/teardown_appcontext with g, flash messages, and a click command run
from the console; and Flask-SQLAlchemy, the extension most tutorials build on, with its database
in the instance folder.

Also run inside Pyodide (tests/pyodide/test_unit.py).
"""

from __future__ import annotations

import contextlib
import sqlite3
from pathlib import Path

# Imported before a test swaps sys.modules for a copy: SQLAlchemy's circular imports fail there.
import flask_sqlalchemy  # noqa: F401
import pytest
from werkzeug.test import Client

from server_py.worker import SiteServer
from tests.server_py.test_site import isolated_imports, write  # noqa: F401  (a fixture)

# Each test's sites are imported afresh: what they add to sys.path and sys.modules goes.
pytestmark = pytest.mark.usefixtures("isolated_imports")

PROJECT = {
    "shop/__init__.py": '''\
import json
import os

import click
from flask import Flask, current_app, g, request


class Defaults:
    GREETING = "from_object"


def create_app():
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(Defaults)
    app.config.from_mapping(SECRET_KEY="dev", MAPPED="from_mapping")
    app.config.from_pyfile("settings.cfg", silent=True)
    app.config.from_file("extra.json", load=json.load)
    app.config.from_prefixed_env("SHOP")
    app.config.from_envvar("SHOP_SETTINGS")
    os.makedirs(app.instance_path, exist_ok=True)

    from . import admin, views

    app.register_blueprint(views.bp)
    app.register_blueprint(admin.bp, url_prefix="/admin")

    @app.before_request
    def who_is_it():
        g.user = request.cookies.get("user", "guest")

    @app.after_request
    def stamp(response):
        response.headers["X-User"] = g.user
        return response

    @app.teardown_appcontext
    def count_teardowns(error):
        app.extensions["teardowns"] = app.extensions.get("teardowns", 0) + 1

    @app.cli.command("count-notes")
    @click.option("--prefix", default="notes:")
    def count_notes(prefix):
        """Count the notes in the instance folder."""
        with current_app.open_instance_resource("notes.txt", "r") as notes:
            click.echo(f"{prefix} {len(notes.read().splitlines())}")

    return app
''',
    "shop/views.py": """\
from flask import (Blueprint, current_app, flash, g, get_flashed_messages, redirect, request,
                   url_for)

bp = Blueprint("views", __name__)


@bp.route("/")
def index():
    config = current_app.config
    return "|".join([
        g.user, config["GREETING"], config["MAPPED"], config["FROM_PYFILE"],
        config["FROM_JSON"], str(config["COLOR"]), config["FROM_ENVVAR"],
        url_for("admin.panel", _external=True), url_for("static", filename="app.css"),
    ])


@bp.route("/note", methods=["POST"])
def add_note():
    with current_app.open_instance_resource("notes.txt", "a") as notes:
        notes.write(request.form["text"] + "\\n")
    flash("Saved.")
    return redirect(url_for(".show"))


@bp.route("/notes")
def show():
    with current_app.open_instance_resource("notes.txt", "r") as notes:
        text = notes.read()
    return " ".join(get_flashed_messages()) + "|" + text
""",
    "shop/admin.py": """\
from flask import Blueprint

bp = Blueprint("admin", __name__)


@bp.route("/")
def panel():
    return "the admin panel"
""",
    "shop/static/app.css": "body { margin: 0 }",
    "instance/settings.cfg": 'FROM_PYFILE = "from_pyfile"\n',
    "instance/extra.json": '{"FROM_JSON": "from_file"}',
    "instance/env.cfg": 'FROM_ENVVAR = "from_envvar"\n',
}


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SiteServer:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SHOP_COLOR", '["blue", 2]')  # from_prefixed_env parses JSON values
    monkeypatch.setenv("SHOP_SETTINGS", "env.cfg")  # relative to the instance folder
    site_server = SiteServer(str(write(tmp_path / "site", PROJECT)))
    assert site_server.load() == {
        "ok": True,
        "module": "shop:create_app()",
        "noApp": None,
        "mainFile": "shop/__init__.py",
    }
    return site_server


def client(server: SiteServer) -> Client:
    return Client(server.site.load(), use_cookies=True)


def test_config_blueprints_url_for_and_request_hooks(server: SiteServer) -> None:
    visitor = client(server)
    page = visitor.get("/", base_url="http://shop.localhost:8000")
    assert page.text == (
        "guest|from_object|from_mapping|from_pyfile|from_file|['blue', 2]|from_envvar"
        "|http://shop.localhost:8000/admin/|/static/app.css"
    )
    assert page.headers["X-User"] == "guest"
    visitor.set_cookie("user", "ada", domain="shop.localhost")
    assert visitor.get("/", base_url="http://shop.localhost:8000").text.startswith("ada|")
    assert visitor.get("/admin/").text == "the admin panel"
    assert visitor.get("/static/app.css").text == "body { margin: 0 }"
    assert server.site.app.extensions["teardowns"] == 4  # one per request, static too


def test_instance_resources_flash_messages_and_a_click_command(server: SiteServer) -> None:
    visitor = client(server)
    saved = visitor.post("/note", data={"text": "first"}, follow_redirects=True)
    assert saved.text == "Saved.|first\n"
    assert visitor.get("/notes").text == "|first\n"  # a flash message shows once
    visitor.post("/note", data={"text": "second"})
    instance = server.site.root / "instance"
    assert (instance / "notes.txt").read_text() == "first\nsecond\n"  # inside the site
    assert server.console.run("flask count-notes") == "notes: 2\n"
    assert server.console.run("flask count-notes --prefix total:") == "total: 2\n"
    assert "Count the notes" in server.console.run("flask --help")


SQLALCHEMY_SITE = {
    "app.py": """\
from flask import Flask, redirect, request, url_for
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy.orm import Mapped, mapped_column

app = Flask(__name__)
app.config["SQLALCHEMY_DATABASE_URI"] = "sqlite:///shop.db"  # in the instance folder
db = SQLAlchemy(app)


class Item(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)


@app.cli.command("init-db")
def init_db():
    db.create_all()
    print("Created the tables.")


@app.route("/")
def index():
    return ", ".join(db.session.scalars(db.select(Item.name).order_by(Item.id)))


@app.post("/items")
def add_item():
    db.session.add(Item(name=request.form["name"]))
    db.session.commit()
    return redirect(url_for("index"))
""",
}


def test_a_flask_sqlalchemy_site(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    site_server = SiteServer(str(write(tmp_path / "site", SQLALCHEMY_SITE)))
    assert site_server.load() == {
        "ok": True,
        "module": "app.py",
        "noApp": None,
        "mainFile": "app.py",
    }
    assert site_server.console.run("flask init-db") == "Created the tables.\n"
    visitor = client(site_server)
    for name in ("apples", "pears"):
        assert visitor.post("/items", data={"name": name}).status_code == 302
    assert visitor.get("/").text == "apples, pears"
    assert visitor.post("/items", data={"name": "pears"}).status_code == 500  # unique
    database = site_server.site.root / "instance" / "shop.db"
    with contextlib.closing(sqlite3.connect(database)) as connection:
        assert connection.execute("SELECT name FROM item").fetchall() == [("apples",), ("pears",)]
