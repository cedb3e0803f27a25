"""The deployment tests' site: what a visitor on a public address needs to work.

Its session cookie is Secure, as a site served over HTTPS would make it, and it builds an
absolute URL, which must name the public address the visitor used."""

import hashlib

from flask import Flask, Response, redirect, render_template, request, session, url_for

app = Flask(__name__)
app.secret_key = "deployment tests"
app.config["SESSION_COOKIE_SECURE"] = True


@app.route("/")
def hello():
    return render_template("page.html", title="Hello", body="Hello, world.")


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        session["user"] = request.form["user"]
        return redirect(url_for("whoami"))
    return render_template("login.html")


@app.route("/whoami")
def whoami():
    return render_template("page.html", title="Who", body=f"Logged in as {session.get('user')}")


@app.route("/address")
def address():
    return render_template("page.html", title="Address", body=url_for("whoami", _external=True))


@app.route("/bytes/<int:megabytes>")
def some_bytes(megabytes):
    """``megabytes`` MB of bytes that are not all alike, with their SHA-256 in a header."""
    block = hashlib.sha256(b"peerserver").digest() * 2048  # 64 KiB
    count = megabytes * 16
    digest = hashlib.sha256(block * count).hexdigest()

    def blocks():
        for _ in range(count):
            yield block

    return Response(
        blocks(),
        mimetype="application/octet-stream",
        headers={"Content-Length": str(len(block) * count), "X-SHA256": digest},
    )


STREAM = {"produced": 0, "closed": False}


@app.route("/forever")
def forever():
    """An endless download; STREAM says how much was produced and whether it was stopped."""
    STREAM.update(produced=0, closed=False)

    def blocks():
        try:
            while True:
                STREAM["produced"] += 1
                yield b"x" * 65536
        finally:
            STREAM["closed"] = True

    return Response(blocks(), mimetype="application/octet-stream")


@app.route("/forever/status")
def forever_status():
    return dict(STREAM)


@app.route("/crash")
def crash():
    """Reads memory that does not exist: the Python runtime itself dies (not an exception)."""
    import ctypes

    return ctypes.string_at(0xFFFFFF00, 64)


@app.route("/slow")
def slow():
    import time

    time.sleep(float(request.args.get("seconds", "3")))
    return render_template("page.html", title="Slow", body="The slow page, at last.")


@app.route("/upload-digest", methods=["POST"])
def upload_digest():
    """The size and SHA-256 of the request body, read in pieces."""
    digest, size = hashlib.sha256(), 0
    while piece := request.stream.read(1 << 20):
        digest.update(piece)
        size += len(piece)
    return {"bytes": size, "sha256": digest.hexdigest()}
