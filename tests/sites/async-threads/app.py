"""Threads in an ASGI app, as real ones use them: a database writer on a thread of its own that
answers each request's write through the event loop (``call_soon_threadsafe``, as janus and
Datasette do), ``asyncio.to_thread`` on a call that waits for another thread, a thread pool's
work awaited with ``run_in_executor``, and requests that sleep on the loop side by side.
A bare ASGI callable: no package is needed."""

import asyncio
import json
import queue
import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

WRITES: queue.Queue = queue.Queue()
POOL = ThreadPoolExecutor(max_workers=2, thread_name_prefix="pool")


def writer() -> None:
    """The one thread that writes to the database; each write is answered on its loop."""
    db = sqlite3.connect(":memory:")
    db.execute("CREATE TABLE entries (id INTEGER PRIMARY KEY, text TEXT)")
    while True:
        text, loop, answered = WRITES.get()
        entry = db.execute("INSERT INTO entries (text) VALUES (?)", (text,)).lastrowid
        db.commit()
        loop.call_soon_threadsafe(
            answered.set_result, {"id": entry, "text": text, "by": threading.current_thread().name}
        )


threading.Thread(target=writer, name="db-writer", daemon=True).start()


def wait_for_a_timer_thread() -> str:
    """Blocks until another thread (a threading.Timer) sets the event."""
    done = threading.Event()
    said = []

    def fire() -> None:
        said.append(threading.current_thread().name)
        done.set()

    timer = threading.Timer(0.3, fire)
    timer.name = "timer"
    timer.start()
    if not done.wait(10):
        return "not woken"
    return said[0]


def square(n: int) -> list:
    return [n * n, threading.current_thread().name.rsplit("_", 1)[0]]


async def write(text: str) -> dict:
    loop = asyncio.get_running_loop()
    answered = loop.create_future()
    WRITES.put((text, loop, answered))
    return await answered


async def answer(path: str, query: str) -> dict:
    if path == "/write":
        return await write(query)
    if path == "/to-thread":
        return {"set_by": await asyncio.to_thread(wait_for_a_timer_thread)}
    if path == "/executor":
        loop = asyncio.get_running_loop()
        done = await asyncio.gather(*(loop.run_in_executor(POOL, square, n) for n in range(6)))
        return {"squares": [d[0] for d in done], "threads": sorted({d[1] for d in done})}
    if path == "/sleep":
        await asyncio.sleep(float(query))
        return {"slept": float(query)}
    return {"paths": ["/write", "/to-thread", "/executor", "/sleep"]}


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    body = json.dumps(await answer(scope["path"], scope["query_string"].decode())).encode()
    headers = [(b"content-type", b"application/json")]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})
