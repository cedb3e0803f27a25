"""A Flask project with threads, as people write one: flask-sock serves a WebSocket on the
request's own connection (simple-websocket reads it on a thread of its own), and APScheduler's
BackgroundScheduler runs a job every second on its thread pool."""

from datetime import datetime

from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, jsonify
from flask_sock import Sock

app = Flask(__name__)
sock = Sock(app)
RUNS: list[str] = []  # when the job ran


def job() -> None:
    RUNS.append(datetime.now().isoformat(timespec="milliseconds"))


scheduler = BackgroundScheduler()
scheduler.add_job(job, "interval", seconds=1, id="every-second")
scheduler.start()


@sock.route("/echo")
def echo(ws) -> None:
    while True:
        message = ws.receive()
        if message == "bye":
            ws.close(reason=1000, message="bye to you too")
            return
        ws.send(f"echo: {message}")


@app.get("/")
def home() -> str:
    return "<h1>Threads</h1>"


@app.get("/runs")
def runs():
    return jsonify(count=len(RUNS), last=RUNS[-1] if RUNS else None)
