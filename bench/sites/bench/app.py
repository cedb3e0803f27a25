"""The benchmark site: a trivial route, a Jinja2 + sqlite3 route and a 100 MB download.

The same file runs in a server tab and under `flask run` (CPython), so that the two can be
measured side by side.
"""

import os
import sqlite3
import tempfile

from flask import Flask, g, render_template, send_file

app = Flask(__name__)
DATABASE = os.path.join(tempfile.gettempdir(), "peerserver-bench.db")
BIG_FILE = os.path.join(tempfile.gettempdir(), "peerserver-bench-100mb.bin")
BIG_SIZE = 100 * 1024 * 1024


def db():
    if "db" not in g:
        g.db = sqlite3.connect(DATABASE)
        g.db.execute(
            "CREATE TABLE IF NOT EXISTS item (id INTEGER PRIMARY KEY, name TEXT, price REAL)"
        )
        if not g.db.execute("SELECT count(*) FROM item").fetchone()[0]:
            g.db.executemany(
                "INSERT INTO item (name, price) VALUES (?, ?)",
                [(f"Item {n}", n * 1.25) for n in range(1, 101)],
            )
            g.db.commit()
    return g.db


@app.teardown_appcontext
def close_db(error):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@app.route("/")
def index():
    return "<!doctype html><title>Bench</title><h1>Bench</h1><p>Ready.</p>"


@app.route("/ping")
def ping():
    return "pong"


@app.route("/floor-sw.js")
def floor_service_worker():
    """A service worker that answers /ping itself, from memory, as /ping does: under `flask run`
    the benchmark measures with it what a page pays for any service worker answering its
    requests, whatever answers them behind it (PeerServer's visitors' pages have one)."""
    script = """
        self.addEventListener("install", () => self.skipWaiting());
        self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));
        self.addEventListener("fetch", (event) => {
            if (new URL(event.request.url).pathname !== "/ping") return;
            const headers = {"Content-Type": "text/html; charset=utf-8"};
            event.respondWith(new Response("pong", {headers}));
        });
    """
    return app.response_class(script, mimetype="text/javascript")


@app.route("/items")
def items():
    rows = db().execute("SELECT id, name, price FROM item ORDER BY id LIMIT 20").fetchall()
    return render_template("items.html", items=rows)


@app.route("/big.bin")
def big():
    if not os.path.exists(BIG_FILE) or os.path.getsize(BIG_FILE) != BIG_SIZE:
        block = bytes(range(256)) * 4096  # 1 MiB
        with open(BIG_FILE, "wb") as out:
            for _ in range(BIG_SIZE // len(block)):
                out.write(block)
    return send_file(BIG_FILE, mimetype="application/octet-stream")
