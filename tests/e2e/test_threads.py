"""Threads in the server tab (server_py/threads.py), end to end in real Chromium: a request that
waits on a queue another request fills; a thread started as the site loads that writes every
second while requests are served (what it writes is kept); a thread pool mapping work; an ASGI
app whose database writer thread answers through its event loop, with asyncio.to_thread and
run_in_executor, and requests that wait on the loop side by side; a thread that never waits,
stopped by the time limit; from the real package index, flask-sock's WebSocket echo and
APScheduler's BackgroundScheduler running its job; and CPython's own tests of threading's locks,
events, conditions, semaphores and barriers, run in the Console."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import (
    BOOT_TIMEOUT,
    console_run,
    serve_project,
    serve_site,
    set_time_limit,
    site_url,
)
from tests.e2e.test_packages import INSTALL_TIMEOUT, PROJECTS
from tests.measure import site_frame

pytestmark = pytest.mark.e2e

JSON = "async (path) => (await fetch(path)).json()"


def test_threads_wait_without_holding_the_site_back(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "threaded", "threads")
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(f"{served.url}pool")
        expect(page.frame_locator("#site").locator("body")).to_contain_text("squares")
        frame = site_frame(page)
        # A thread pool maps the work over its four threads.
        pool = frame.evaluate(JSON, "/pool")
        assert pool == {"squares": [n * n for n in range(8)],
                        "threads": ["worker_0", "worker_1", "worker_2", "worker_3"]}  # fmt: skip
        # A long poll waits on a queue; the request that fills it is answered meanwhile.
        poll = frame.evaluate(
            """async () => {
                const waiting = fetch("/wait?timeout=20").then((response) => response.json());
                await new Promise((resolve) => setTimeout(resolve, 500));
                const body = new URLSearchParams({message: "hello"});
                const put = await (await fetch("/put", {method: "POST", body})).json();
                return {put, got: await waiting};
            }"""
        )
        assert poll == {"put": {"queued": 1}, "got": {"message": "hello"}}
        # The thread the site started as it loaded has been writing every second meanwhile.
        first = frame.evaluate(JSON, "/ticks")
        assert first["thread"] == "ticker" and first["count"] >= 1
        time.sleep(2.5)
        later = frame.evaluate(JSON, "/ticks")
        assert later["count"] >= first["count"] + 2
        # What it wrote is kept with the site: a reloaded server tab has it.
        served.server.reload()
        expect(served.server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        page.reload()
        expect(page.frame_locator("#site").locator("body")).to_contain_text("squares")
        assert site_frame(page).evaluate(JSON, "/ticks")["count"] >= later["count"]
    finally:
        visitor.close()
        served.context.close()


def test_a_thread_that_never_waits_is_stopped_by_the_time_limit(
    browser: Browser, service_url: str
) -> None:
    served = serve_site(browser, service_url, "spinning", "threads")
    server = served.server
    visitor = browser.new_context()
    try:
        set_time_limit(server, 2)
        page = visitor.new_page()
        page.goto(site_url(service_url, "spinning") + "pool")
        frame = site_frame(page)
        expect(page.frame_locator("#site").locator("body")).to_contain_text("squares")
        # Its answer may never leave: the thread runs as soon as the request lets it, and
        # holds everything until the time limit stops Python (the waiting request gets a 503).
        frame.evaluate("() => { fetch('/spin', {method: 'POST'}); }")
        expect(server.locator("#log")).to_contain_text(
            'The site\'s thread "spinner" ran longer than 2 s: stopped, restarting Python',
            timeout=30_000,
        )
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        assert frame.evaluate(JSON, "/pool")["squares"][-1] == 49  # the site serves again
    finally:
        visitor.close()
        served.context.close()


def test_flask_sock_and_apscheduler_from_the_index(
    browser: Browser, index_service_url: str, tmp_path: Path
) -> None:
    served = serve_project(
        browser, index_service_url, "flask-threads", PROJECTS / "flask-threads", tmp_path
    )
    server, visitor = served.server, browser.new_context()
    try:
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=INSTALL_TIMEOUT)
        log = server.locator("#log")
        expect(log).to_contain_text("flask-sock 0.")
        expect(log).to_contain_text("apscheduler 3.")
        page = visitor.new_page()
        page.goto(served.url)
        expect(page.frame_locator("#site").get_by_role("heading", name="Threads")).to_be_visible()
        frame = site_frame(page)
        echoed = frame.evaluate(
            """async () => {
                const socket = new WebSocket(location.origin.replace(/^http/, "ws") + "/echo");
                const said = [];
                const within = (promise, what) => Promise.race([promise, new Promise((_, reject) =>
                    setTimeout(() => reject(new Error(`${what} in 30 s`)), 30000))]);
                const closed = new Promise((resolve) => {
                    socket.onclose = (event) => resolve(`${event.code} ${event.reason}`);
                });
                socket.onmessage = (event) => {
                    said.push(event.data);
                    if (said.length === 2) socket.send("bye");
                };
                await within(new Promise((resolve, reject) => {
                    socket.onopen = resolve;
                    socket.onerror = () => reject(new Error("the socket failed"));
                }), "the socket did not open");
                socket.send("hello");
                socket.send("again");
                return {said, closed: await within(closed, `not closed (heard ${said})`)};
            }"""
        )
        assert echoed == {"said": ["echo: hello", "echo: again"], "closed": "1000 bye to you too"}
        # The scheduler's job has run every second since the site loaded.
        first = frame.evaluate(JSON, "/runs")["count"]
        time.sleep(2.5)
        assert frame.evaluate(JSON, "/runs")["count"] >= first + 2
    finally:
        visitor.close()
        served.context.close()


def test_cpythons_threading_tests_pass_in_the_console(
    browser: Browser, service_url: str, tmp_path: Path
) -> None:
    """CPython's Lib/test/lock_tests.py, as its test_threading runs it against threading's
    classes (tests/projects/cpython-threading), in the serving Python's Console."""
    served = serve_project(
        browser, service_url, "cpython-threads", PROJECTS / "cpython-threading", tmp_path
    )
    try:
        expect(served.server.locator("#file-tree")).to_contain_text("test_threading_here.py")
        output = console_run(
            served.server, "python -m unittest test_threading_here", timeout_ms=300_000
        )
        print(output[-300:])  # how many ran, and how many were skipped (fork)
        ran = re.search(r"Ran (\d+) tests", output)
        assert ran is not None and int(ran.group(1)) >= 100, output[-3000:]
        assert re.search(r"^OK \(skipped=\d+\)$", output, re.MULTILINE), output[-3000:]
    finally:
        served.context.close()


def test_an_asgi_apps_threads_answer_through_its_loop(browser: Browser, service_url: str) -> None:
    """A bare ASGI app whose database writer is a thread answering through the event loop, with
    asyncio.to_thread, run_in_executor, and requests that sleep on the loop side by side."""
    served = serve_site(browser, service_url, "async-threaded", "async-threads")
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(served.url)
        expect(page.frame_locator("#site").locator("body")).to_contain_text("/to-thread")
        frame = site_frame(page)
        answers = frame.evaluate(
            """async () => {
                const get = async (path) => {
                    const response = await fetch(path);
                    return response.ok ? response.json() : response.status;
                };
                return Promise.all([
                    get("/sleep?0.5"), get("/write?first"), get("/sleep?0.2"),
                    get("/write?second"), get("/to-thread"), get("/executor"),
                ]);
            }"""
        )
        slept, first, shorter, second, to_thread, executor = answers
        assert slept == {"slept": 0.5} and shorter == {"slept": 0.2}
        assert {first["text"], second["text"]} == {"first", "second"}
        assert {first["id"], second["id"]} == {1, 2}
        assert first["by"] == second["by"] == "db-writer"
        assert to_thread == {"set_by": "timer"}
        assert executor == {"squares": [n * n for n in range(6)], "threads": ["pool"]}
        expect(served.server.locator("#log")).to_contain_text("GET /executor 200")
    finally:
        visitor.close()
        served.context.close()
