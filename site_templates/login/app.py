"""Login Demo: accounts with salted password hashes, log in, log out.

Passwords are stored only as salted hashes (werkzeug.security, scrypt by default); the
database is instance/users.db, created on first start. Try the Database tab to see it.
"""

import sqlite3

from flask import Flask, flash, g, redirect, render_template, request, session, url_for
from werkzeug.security import check_password_hash, generate_password_hash

app = Flask(__name__)
# Signs the session cookie. Change it: anyone who knows it can forge sessions.
app.secret_key = "change me: a long random string"
app.config["DATABASE"] = "instance/users.db"


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
    get_db().execute(
        "CREATE TABLE IF NOT EXISTS user ("
        " id INTEGER PRIMARY KEY AUTOINCREMENT,"
        " username TEXT UNIQUE NOT NULL,"
        " password TEXT NOT NULL)"
    )


with app.app_context():
    init_db()


@app.route("/")
def index():
    if session.get("user"):
        return redirect(url_for("welcome"))
    return render_template("login.html")


@app.route("/register", methods=["GET", "POST"])
def register():
    if request.method == "POST":
        username = request.form["username"].strip()
        password = request.form["password"]
        if not username or not password:
            flash("Please choose a username and a password.", "error")
        else:
            try:
                get_db().execute(
                    "INSERT INTO user (username, password) VALUES (?, ?)",
                    (username, generate_password_hash(password)),
                )
                get_db().commit()
            except sqlite3.IntegrityError:
                flash(f"Sorry, the username {username} is already taken.", "error")
            else:
                flash(f"Account created for {username}. You can log in now.", "success")
                return redirect(url_for("index"))
    return render_template("register.html")


@app.route("/login", methods=["POST"])
def login():
    username = request.form["username"].strip()
    user = get_db().execute("SELECT * FROM user WHERE username = ?", (username,)).fetchone()
    if user is None:
        flash(f"There is no account named {username}.", "error")
    elif not check_password_hash(user["password"], request.form["password"]):
        flash("That password is not right.", "error")
    else:
        session.clear()
        session["user"] = user["username"]
        return redirect(url_for("welcome"))
    return redirect(url_for("index"))


@app.route("/welcome")
def welcome():
    if not session.get("user"):
        return redirect(url_for("index"))
    return render_template("welcome.html", user=session["user"])


@app.route("/logout")
def logout():
    session.clear()
    flash("You are logged out.", "success")
    return redirect(url_for("index"))
