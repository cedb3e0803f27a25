"""Your site's Flask app.

Files next to this one (index.html, 404.html, style.css, images, ...) are served as they are;
a route defined here takes precedence over a file with the same path.
"""

from flask import Flask, render_template, request

app = Flask(__name__)


@app.route("/hello")
def hello():
    name = request.args.get("name", "world")
    return render_template("hello.html", name=name)
