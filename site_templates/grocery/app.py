"""Grocery List: a shared list that visitors add to and +1, refreshing live.

Everyone who opens the site sees the same list; each browser remembers who it is in the
session. The list lives in instance/grocery.db, seeded on first start.
"""

import sqlite3
from itertools import groupby

from flask import Flask, g, jsonify, redirect, render_template, request, session, url_for

app = Flask(__name__)
app.secret_key = "change me: a long random string"
app.config["DATABASE"] = "instance/grocery.db"

SECTIONS = ["Snacks", "Meals", "Sweets"]
SEED = [
    ("Snacks", "cheese", "daniel", "smoked gouda! chevre!"),
    ("Snacks", "cheese", "juliana", "brie"),
    ("Snacks", "strawberries", "daniel", ""),
    ("Snacks", "strawberries", "sarah", ""),
    ("Snacks", "strawberries", "amy", ""),
    ("Snacks", "raspberries", "daniel", "only if ripe"),
    ("Snacks", "grapes", "juliana", "green"),
    ("Snacks", "grapes", "daniel", ""),
    ("Snacks", "grapes", "sophia", "purple!"),
    ("Meals", "ham and cheese sandwiches", "juliana", "pepperjack cheese"),
    ("Meals", "portobello mushroom sandwich", "daniel", "as a meal"),
    ("Meals", "quinoa", "daniel", "precooked with cranberries"),
    ("Meals", "salad", "juliana", "walnuts"),
    ("Meals", "salad", "daniel", "balsamic vinegar"),
    ("Sweets", "dark chocolate", "daniel", "raw"),
    ("Sweets", "honey", "daniel", "in a bottle"),
    ("Sweets", "honey", "sophia", "lavender flavor"),
    ("Sweets", "cookies", "amy", "snickerdoodle"),
    ("Sweets", "cookies", "charlie", ""),
]


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(error):
    db = g.pop("db", None)
    if db is not None:
        db.close()


def init_db():
    db = get_db()
    db.execute(
        "CREATE TABLE IF NOT EXISTS request ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " section TEXT NOT NULL, food TEXT NOT NULL, user TEXT NOT NULL, details TEXT NOT NULL)"
    )
    if db.execute("SELECT count(*) FROM request").fetchone()[0] == 0:
        db.executemany(
            "INSERT INTO request (section, food, user, details) VALUES (?, ?, ?, ?)", SEED
        )
        db.commit()


with app.app_context():
    init_db()


@app.route("/")
def index():
    return render_template("index.html")


@app.route("/enter", methods=["POST"])
def enter():
    name = request.form.get("name", "").strip() or session.get("user")
    if not name:
        return redirect(url_for("index"))
    session["user"] = name
    return redirect(url_for("grocery_list"))


@app.route("/list")
def grocery_list():
    if not session.get("user"):
        return redirect(url_for("index"))
    return render_template("list.html", user=session["user"])


@app.route("/sections")
def sections():
    """The three sections as HTML, for the list page to refresh itself with."""
    rows = get_db().execute("SELECT * FROM request ORDER BY id").fetchall()
    user = session.get("user")
    columns = []
    for section in SECTIONS:
        foods = []
        in_section = [row for row in rows if row["section"] == section]
        first_seen = {}
        for row in in_section:
            first_seen.setdefault(row["food"], row["id"])
        for food, group in groupby(sorted(in_section, key=lambda r: first_seen[r["food"]]),
                                   key=lambda r: r["food"]):
            supporters = list(group)
            foods.append({
                "food": food,
                "supporters": supporters,
                "mine": any(row["user"] == user for row in supporters),
            })
        columns.append({"section": section, "foods": foods})
    return render_template("sections.html", columns=columns)


@app.route("/api/add", methods=["POST"])
def add():
    user = session.get("user")
    data = request.get_json(force=True)
    food = (data.get("food") or "").strip().lower()
    section = data.get("section")
    details = (data.get("details") or "").strip()
    if not user:
        return jsonify(error="Enter your name first."), 403
    if not food:
        return jsonify(error="Cannot create a blank food."), 400
    if section not in SECTIONS:
        return jsonify(error=f"There is no section {section}."), 400
    db = get_db()
    mine = db.execute(
        "SELECT id FROM request WHERE food = ? AND user = ?", (food, user)
    ).fetchone()
    if mine is not None:
        db.execute("UPDATE request SET details = ? WHERE id = ?", (details, mine["id"]))
        message = "Replaced previous request with new request."
    else:
        db.execute(
            "INSERT INTO request (section, food, user, details) VALUES (?, ?, ?, ?)",
            (section, food, user, details),
        )
        message = f"{food} successfully supported."
    db.commit()
    return jsonify(message=message)
