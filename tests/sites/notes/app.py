"""Notes: visitors write rows into the site's sqlite database."""

import logging
import os
import sqlite3
import threading
import time

import click
from flask import Flask, g, redirect, render_template, request

app = Flask(__name__)
app.config["DATABASE"] = "instance/notes.db"
SCHEMA = "CREATE TABLE IF NOT EXISTS note (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"


def db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
    return g.db


@app.teardown_appcontext
def close_db(error):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@app.cli.command("init-db")
def init_db():
    """Create the notes table."""
    db().execute(SCHEMA)
    db().commit()
    click.echo("Initialized the database.")


@app.route("/", methods=["GET", "POST"])
def notes():
    db().execute(SCHEMA)
    if request.method == "POST":
        db().execute("INSERT INTO note (text) VALUES (?)", (request.form["text"],))
        db().commit()
        print(f"note added: {request.form['text']}")
        app.logger.warning("app.logger: %d characters", len(request.form["text"]))
        logging.getLogger("notes.audit").error("logging: a note was added")
        return redirect("/")
    rows = db().execute("SELECT text FROM note ORDER BY id").fetchall()
    return render_template("notes.html", notes=[row[0] for row in rows])


@app.route("/version")
def version():
    return "version one"


@app.route("/spin")
def spin():
    """A request that never finishes: the server tab's time limit has to stop it."""
    while True:
        pass


SPILLED = threading.Event()


@app.route("/spin-mid-write", methods=["POST"])
def spin_mid_write():
    """A bug in the middle of a big write transaction: with a cache of one page, sqlite writes
    the rows to the database file (its journal beside it) long before the commit, which never
    comes. The request waits a moment, while another is answered (and the site, half-written
    database and all, kept), then never finishes, until the time limit stops Python."""
    connection = db()
    connection.execute(SCHEMA)
    connection.execute("PRAGMA cache_size = 1")
    text = request.form["text"]
    rows = ((f"{text} {n} " + "." * 500,) for n in range(2000))
    connection.executemany("INSERT INTO note (text) VALUES (?)", rows)
    SPILLED.set()
    time.sleep(3)
    while True:
        pass


@app.route("/while-a-write-is-spilled")
def while_a_write_is_spilled():
    """Answered while /spin-mid-write's transaction is half on disk."""
    if not SPILLED.wait(30):
        return "no transaction was spilled", 500
    with open(os.path.join(app.instance_path, "answered.txt"), "w") as out:
        out.write("answered while another request wrote")
    return "answered"


@app.route("/attach", methods=["POST"])
def attach():
    """Keep a file of ``mb`` megabytes in the site (more than a small quota holds)."""
    megabytes = int(request.args.get("mb", "1"))
    folder = os.path.join(app.instance_path, "attachments")
    os.makedirs(folder, exist_ok=True)
    with open(os.path.join(folder, f"{megabytes}mb.bin"), "wb") as out:
        out.write(os.urandom(megabytes * 1024 * 1024))
    return f"attached {megabytes} MB"
