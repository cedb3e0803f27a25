"""A stranger's site that, once imported, tries from its Python to reach what else its owner
keeps in that browser: the files of another site ("victim"), the workbench's storage, and the
server tab itself through forged messages. Its home page says how each attempt went."""

import js
from flask import Flask
from pyodide.ffi import create_proxy, to_js

app = Flask(__name__)
attempts = {"origin": str(js.self.origin)}


def attempt(what, action):
    try:
        action()
        attempts[what] = "allowed"
    except Exception as error:  # a JavaScript SecurityError arrives as a JsException
        attempts[what] = f"refused: {error}"


def wipe(event):
    store = event.target.result.transaction("FILE_DATA", "readwrite").objectStore("FILE_DATA")
    store.clear()
    attempts["wiped"] = "the victim's files"


def open_victims_files():
    js.indexedDB.open("/peerserver/victim").onsuccess = create_proxy(wipe)


def forge_a_save():
    # What the worker says to the server tab when files changed: here, a path out of its tree.
    entry = {
        "root": "site",
        "path": "../victim/app.py",
        "mode": 0o100644,
        "timestamp": 0,
        "contents": js.Uint8Array.new(1),
    }
    question = {"type": "save", "changes": {"put": [entry], "remove": []}}
    message = {"type": "ask", "id": "forged", "question": question}
    js.postMessage(to_js(message, dict_converter=js.Object.fromEntries))


attempt("indexedDB", open_victims_files)
attempt("caches", lambda: js.caches.keys())
attempt("localStorage", lambda: js.localStorage.getItem("peerserver.owner-token.victim"))
forge_a_save()


@app.route("/")
def report():
    lines = [f"<li id={what}>{what}: {outcome}</li>" for what, outcome in attempts.items()]
    return f"<h1>Attempts</h1><ul>{''.join(lines)}</ul>"
