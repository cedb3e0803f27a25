"""A site that exercises what visitors' browsers do with an ordinary web server."""

import hashlib
import os
import threading
import time
from collections import Counter

from flask import (
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    session,
    stream_with_context,
    url_for,
)

app = Flask(__name__)
app.secret_key = "a test secret, not for production"

BIG_FILE = "/tmp/big.bin"
BIG_SIZE = 100 * 1024 * 1024


@app.route("/")
def index():
    elsewhere = request.host_url.replace(request.host.split(".")[0] + ".", "", 1)
    return render_template("index.html", elsewhere=elsewhere)


@app.route("/about")
def about():
    return render_template("page.html", title="About", body="About this site.")


@app.route("/docs/page")
def docs_page():
    return render_template("docs.html", args=request.args)


@app.route("/docs/other")
def docs_other():
    return render_template("page.html", title="Other doc", body="Reached by a relative link.")


@app.route("/submit", methods=["GET", "POST"])
def submit():
    fields = request.values.to_dict(flat=False)
    return render_template("submitted.html", method=request.method, fields=fields)


@app.route("/upload", methods=["POST"])
def upload():
    upload = request.files["document"]
    data = upload.read()
    return render_template(
        "uploaded.html",
        filename=upload.filename,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        note=request.form.get("note", ""),
    )


@app.route("/api/echo", methods=["GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"])
def api_echo():
    body = request.get_json(silent=True)
    return jsonify(
        method=request.method,
        args=request.args.to_dict(),
        json=body,
        form=request.form.to_dict(),
        files={name: len(f.read()) for name, f in request.files.items()},
    )


@app.route("/status/<int:code>")
def status(code):
    return Response(f"status {code}", status=code, mimetype="text/plain")


@app.route("/redirect/<int:code>", methods=["GET", "POST"])
def redirect_with(code):
    return redirect(url_for("landed", via=code), code=code)


@app.route("/landed", methods=["GET", "POST"])
def landed():
    data = request.get_data(as_text=True)
    return render_template("page.html", title="Landed", body=f"{request.method} {data}".strip())


@app.route("/headers")
def headers():
    response = jsonify(ok=True)
    response.headers["X-Custom"] = "custom value"
    response.headers["Cache-Control"] = "no-store"
    return response


@app.route("/binary")
def binary():
    return Response(bytes(range(256)) * 1024, mimetype="application/octet-stream")


@app.route("/stream")
def stream():
    def ticks():
        for number in range(1, 6):
            yield f"tick {number}\n"
            time.sleep(0.4)

    return Response(stream_with_context(ticks()), mimetype="text/plain")


@app.route("/big.bin")
def big():
    if not os.path.exists(BIG_FILE):
        block = bytes(range(256)) * 4096  # 1 MiB
        with open(BIG_FILE, "wb") as out:
            for _ in range(BIG_SIZE // len(block)):
                out.write(block)
    return send_file(BIG_FILE, mimetype="application/octet-stream")


@app.route("/spin")
def spin():
    """A request that never finishes: the server tab's time limit has to stop it."""
    while True:
        pass


@app.route("/fetcher.js")
def fetcher():
    """A worker of the page's own: it fetches each path it is sent, and says when the answer
    had come (by the machine's clock, the same in every page and worker)."""
    script = """onmessage = async ({data}) => {
        const text = await (await fetch(data)).text();
        postMessage({text, at: performance.timeOrigin + performance.now()});
    };"""
    return Response(script, mimetype="text/javascript")


@app.route("/sized/<int:n>")
def sized(n):
    return Response(str(n) * n, mimetype="text/plain")


ARRIVED: Counter[str] = Counter()
GATHERING = threading.Condition()


@app.route("/gathered/<group>/<int:count>/<int:n>")
def gathered(group, count, n):
    """Answered once ``count`` requests of ``group`` have come: so many were in flight at once
    (each connection is a thread of its own, waiting here without holding the others back).
    After 10 s without them, a 503 that says how many came."""
    with GATHERING:
        ARRIVED[group] += 1
        GATHERING.notify_all()
        if not GATHERING.wait_for(lambda: ARRIVED[group] >= count, timeout=10):
            return Response(f"{ARRIVED[group]} of {count} came", status=503)
    return sized(n)


@app.route("/login", methods=["GET", "POST"])
def login():
    if request.method == "POST":
        session["user"] = request.form["user"]
        return redirect(url_for("whoami"))
    return render_template("login.html")


@app.route("/whoami")
def whoami():
    return render_template("page.html", title="Who", body=f"Logged in as {session.get('user')}")


@app.route("/logout")
def logout():
    session.clear()
    return redirect(url_for("whoami"))


@app.route("/cookies/set")
def cookies_set():
    response = jsonify(ok=True)
    response.set_cookie("visible", "v1")
    response.set_cookie("hidden", "h1", httponly=True)
    response.set_cookie("scoped", "s1", path="/docs")
    # Long enough to be seen on a loaded machine, short enough to watch it run out.
    response.set_cookie("brief", "b1", max_age=3, httponly=True)
    return response


@app.route("/cookies/show")
@app.route("/docs/cookies")
def cookies_show():
    return jsonify(request.cookies.to_dict())


@app.route("/cookies/delete")
def cookies_delete():
    response = jsonify(ok=True)
    response.delete_cookie("visible")
    response.delete_cookie("hidden", httponly=True)
    return response


@app.route("/boom")
def boom():
    raise ZeroDivisionError("the site divided by zero")


@app.route("/teapot")
def teapot():
    abort(418)
