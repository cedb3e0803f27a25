"""Ledger: signed-in visitors write numbered entries into the site's sqlite database; each
write is answered with its row's id. The failover tests write in a loop and then count what
the database holds against what was answered."""

import os
import sqlite3

from flask import Flask, abort, g, jsonify, request, session

app = Flask(__name__)
app.config["SECRET_KEY"] = "ledger: the standbys' copies sign sessions alike"
app.config["DATABASE"] = os.path.join(app.instance_path, "ledger.db")
os.makedirs(app.instance_path, exist_ok=True)
SCHEMA = (
    "CREATE TABLE IF NOT EXISTS entry "
    "(id INTEGER PRIMARY KEY, n INTEGER NOT NULL, writer TEXT NOT NULL)"
)


def db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
        g.db.execute(SCHEMA)
    return g.db


@app.teardown_appcontext
def close_db(error):
    connection = g.pop("db", None)
    if connection is not None:
        connection.close()


@app.route("/")
def home():
    who = session.get("writer")
    return f"<h1>Ledger</h1><p id='who'>{'Signed in as ' + who if who else 'Not signed in'}</p>"


@app.post("/login")
def login():
    session["writer"] = request.form["name"]
    return jsonify(writer=session["writer"])


@app.get("/whoami")
def whoami():
    return jsonify(writer=session.get("writer"))


@app.post("/write")
def write():
    writer = session.get("writer")
    if writer is None:
        abort(401)
    cursor = db().execute(
        "INSERT INTO entry (n, writer) VALUES (?, ?)", (int(request.form["n"]), writer)
    )
    db().commit()
    return jsonify(id=cursor.lastrowid, n=int(request.form["n"]), writer=writer)


@app.get("/entries")
def entries():
    rows = db().execute("SELECT id, n, writer FROM entry ORDER BY id").fetchall()
    return jsonify([{"id": i, "n": n, "writer": w} for i, n, w in rows])
