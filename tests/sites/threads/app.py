"""Threads in a site, as real projects use them: a request that waits on a queue another
request fills (a long poll), a background thread started as the site loads that writes every
second while requests are served, a thread pool that maps work, and a thread that never waits
(the time limit stops it)."""

import json
import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Flask, jsonify, request

app = Flask(__name__)
os.makedirs(app.instance_path, exist_ok=True)
TICKS = os.path.join(app.instance_path, "ticks.json")
MESSAGES: queue.Queue[str] = queue.Queue()


def tick() -> None:
    """Every second, one more second counted, kept in the site's files (counting on from what
    was kept before: the site's files outlive its Python)."""
    count = 0
    if os.path.exists(TICKS):
        with open(TICKS) as kept:
            count = json.load(kept)["count"]
    while True:
        time.sleep(1)
        count += 1
        with open(TICKS, "w") as out:
            json.dump({"count": count, "thread": threading.current_thread().name}, out)


threading.Thread(target=tick, name="ticker", daemon=True).start()


@app.get("/wait")
def wait():
    """A long poll: answered when another request puts a message, or after ``timeout`` s."""
    try:
        return jsonify(message=MESSAGES.get(timeout=float(request.args.get("timeout", "20"))))
    except queue.Empty:
        return jsonify(message=None)


@app.post("/put")
def put():
    MESSAGES.put(request.form["message"])
    return jsonify(queued=MESSAGES.qsize())


@app.get("/ticks")
def ticks():
    with open(TICKS) as kept:
        return jsonify(json.load(kept))


@app.get("/pool")
def pool():
    def square(n: int) -> tuple[int, str]:
        time.sleep(0.05)
        return n * n, threading.current_thread().name

    with ThreadPoolExecutor(max_workers=4, thread_name_prefix="worker") as executor:
        results = list(executor.map(square, range(8)))
    return jsonify(squares=[n for n, _ in results], threads=sorted({name for _, name in results}))


@app.post("/spin")
def spin():
    """A thread that never waits: nothing else runs until the time limit stops Python."""

    def forever() -> None:
        while True:
            pass

    threading.Thread(target=forever, name="spinner").start()
    return jsonify(started=True)
