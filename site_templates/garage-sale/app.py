"""Garage Sale: an image-heavy store with item pages and a cart kept in the session.

Items live in instance/store.db (seeded on first start); their photos are files under
static/items/. Checking out marks the items sold for everyone.
"""

import sqlite3

from flask import Flask, abort, flash, g, redirect, render_template, request, session, url_for

app = Flask(__name__)
app.secret_key = "change me: a long random string"
app.config["DATABASE"] = "instance/store.db"

ITEMS = [
    ("childrens-books", "Children's books", 800, "A box of twenty picture books, well loved."),
    ("couch", "Couch", 12000, "Three-seat couch, grey, no stains, cats never allowed."),
    ("darth-vader-helmet", "Darth Vader helmet", 4500, "Full-size replica, breathing extra."),
    ("futon", "Futon", 9000, "Folds into a double bed in ten seconds."),
    ("lambchop", "Lamb Chop puppet", 1500, "The original sock puppet, in fine voice."),
    ("owl-lamp", "Owl lamp", 2500, "Ceramic owl with warm light in its eyes."),
    ("rice-cooker", "Rice cooker", 2000, "Five cups, keeps warm, sings when it is done."),
    ("schwinn-breeze", "Schwinn Breeze", 15000, "Classic city bike, new tires, three speeds."),
    ("sock-monkey-hat", "Sock monkey hat", 1200, "Knitted, with ear flaps and a pom-pom."),
    ("trek-elance-300", "Trek Elance 300", 22000, "Road bike, 56 cm steel frame, fast."),
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
        "CREATE TABLE IF NOT EXISTS item ("
        " slug TEXT PRIMARY KEY, name TEXT NOT NULL, price_cents INTEGER NOT NULL,"
        " description TEXT NOT NULL, sold INTEGER NOT NULL DEFAULT 0)"
    )
    if db.execute("SELECT count(*) FROM item").fetchone()[0] == 0:
        db.executemany(
            "INSERT INTO item (slug, name, price_cents, description) VALUES (?, ?, ?, ?)", ITEMS
        )
        db.commit()


with app.app_context():
    init_db()


@app.template_filter("money")
def money(cents):
    return f"${cents / 100:,.2f}"


def cart_items():
    slugs = session.get("cart", [])
    if not slugs:
        return []
    marks = ",".join("?" * len(slugs))
    rows = get_db().execute(f"SELECT * FROM item WHERE slug IN ({marks})", slugs).fetchall()
    return sorted(rows, key=lambda row: slugs.index(row["slug"]))


@app.context_processor
def cart_count():
    return {"cart_count": len(session.get("cart", []))}


@app.route("/")
def index():
    items = get_db().execute("SELECT * FROM item ORDER BY name").fetchall()
    return render_template("index.html", items=items)


@app.route("/item/<slug>")
def item(slug):
    row = get_db().execute("SELECT * FROM item WHERE slug = ?", (slug,)).fetchone()
    if row is None:
        abort(404)
    return render_template("item.html", item=row, in_cart=slug in session.get("cart", []))


@app.route("/cart", methods=["GET", "POST"])
def cart():
    if request.method == "POST":
        slug = request.form["slug"]
        cart = session.get("cart", [])
        if request.form.get("action") == "remove":
            cart = [other for other in cart if other != slug]
        elif slug not in cart:
            cart.append(slug)
            flash("Added to your cart.")
        session["cart"] = cart
        return redirect(url_for("cart"))
    items = cart_items()
    return render_template("cart.html", items=items,
                           total=sum(row["price_cents"] for row in items))


@app.route("/checkout", methods=["POST"])
def checkout():
    items = [row for row in cart_items() if not row["sold"]]
    db = get_db()
    db.executemany("UPDATE item SET sold = 1 WHERE slug = ?", [(row["slug"],) for row in items])
    db.commit()
    session["cart"] = []
    names = ", ".join(row["name"] for row in items) or "nothing"
    flash(f"Thank you! You bought: {names}.")
    return redirect(url_for("index"))
