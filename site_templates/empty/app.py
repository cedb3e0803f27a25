"""Your site's Flask app.

Files next to this one (index.html, 404.html, CSS, images, ...) are served as they are;
routes defined here take precedence over files with the same path.
"""

from flask import Flask

app = Flask(__name__)


@app.route("/hello")
def hello():
    return "Hello from Flask."
