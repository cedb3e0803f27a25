"""`nox -s bench`: the whole path measured in real headless Chromium tabs, side by side with its
limits (the raw data channel) and with `flask run` serving the same app under CPython.

Every figure is a median over repeated runs (``BENCH_REPEATS``, default 5), and every comparison
is measured in the same run, because the machine is shared and noisy. Nothing here asserts a
time. Writes bench/results.json, then bench/report.md and bench/report.png (see bench.report).
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import Browser, BrowserContext, Frame, Page, expect, sync_playwright

from bench import report
from bench.cpu import BusySampler, CpuAccount, renderer_of, wait_until_quiet
from bench.figures import REPEATS, log, median, p99
from bench.signaling_load import signaling_figures
from bench.standby import bench_standby
from tests.deployment import redis_server
from tests.harness import (
    REPO,
    ServedSite,
    chromium_launch_args,
    free_port,
    peerserver_service,
    running,
)
from tests.measure import (
    REQUESTS_ON_PAGE,
    download,
    heap_peak_mb,
    in_tab,
    kept_snapshot,
    raw_channel_throughput,
    shell_pool,
    site_frame,
    start_heap_watch,
    worker_memory_mb,
)

BENCH = REPO / "bench"
SITES = BENCH / "sites"
BOOT_TIMEOUT = 120_000
LATENCY_REQUESTS = 300
THROUGHPUT_REQUESTS = 600
IN_FLIGHT = 6
ROUTES = {"trivial": "/ping", "jinja2_sqlite": "/items"}
SCALE_VISITORS = (1, 10, 50)
SCALE_REQUESTS = 500  # in all, spread over the visitors of one step


# -- 1. server tab cold boot ------------------------------------------------------------------


# Resolves once the server tab serves (its "peerserver:serving" mark), or false after the time.
SERVING = """(timeoutMs) => new Promise((resolve) => {
    const serving = () => performance.getEntriesByName("peerserver:serving").length > 0;
    const observer = new PerformanceObserver(() => serving() && resolve(true));
    observer.observe({type: "mark", buffered: true});
    setTimeout(() => resolve(serving()), timeoutMs);
})"""


def boot_once(page: Page, url: str) -> dict[str, float]:
    """Open ``url``, a server tab, and time its boot. As for a new visitor (first_paint_ms),
    nothing is asked of the page's content while it boots: one promise waits for its mark."""
    page.goto(url, wait_until="commit")
    if not page.evaluate(SERVING, BOOT_TIMEOUT):
        expect(page.get_by_role("status")).to_have_text("Serving")  # says what it shows
    return page.evaluate(
        """() => ({
            total_ms: performance.getEntriesByName("peerserver:serving")[0].startTime,
            ...window.peerServerHost.bootTimings,
        })"""
    )


# Whether this browser keeps a Python snapshot yet (runtime/server-tab/python-snapshot.js).
SNAPSHOT_KEPT = """() => new Promise((resolve) => {
    const opening = indexedDB.open("peerserver-python", 1);
    opening.onupgradeneeded = () => opening.result.createObjectStore("snapshots");
    opening.onsuccess = () => {
        const reading = opening.result.transaction("snapshots").objectStore("snapshots")
            .get("latest");
        reading.onsuccess = () => resolve(Boolean(reading.result));
    };
})"""


@contextmanager
def private_context(browser: Browser) -> Iterator[BrowserContext]:
    """A new off-the-record context (Playwright's ``new_context``), as a private window."""
    context = browser.new_context()
    try:
        yield context
    finally:
        context.close()


@contextmanager
def profile_context(browser: Browser) -> Iterator[BrowserContext]:
    """A browser of its own with a new profile on disk, as a person's browser has. Chromium keeps
    the code V8 compiled (of JavaScript and of WebAssembly: Pyodide's 9.6 MB module) in a
    profile's code cache on disk, never for an off-the-record context."""
    with tempfile.TemporaryDirectory() as folder:
        launch = browser.browser_type.launch_persistent_context
        context = launch(folder, **chromium_launch_args())
        try:
            yield context
        finally:
            context.close()


def bench_boot(
    contexts: Callable[[], AbstractContextManager[BrowserContext]], service: str, kind: str
) -> dict[str, Any]:
    """From opening /server/NAME to "Serving", in each of ``contexts`` (``kind`` names them in
    the results): a browser's first (an empty HTTP cache and no Python snapshot), then a later
    one (both there, and the code cache where the browser keeps one: the snapshot is made in
    the background a few seconds after the first boot)."""
    runs: dict[str, list[dict[str, float]]] = {f"first_{kind}": [], f"later_{kind}": []}
    for n in range(REPEATS):
        with contexts() as context:
            for boot in runs:
                wait_until_quiet()
                page = context.new_page()
                name = f"{boot}-{n}".replace("_", "-")  # a server name has no "_"
                runs[boot].append(boot_once(page, f"{service}server/{name}"))
                deadline = time.monotonic() + 60
                while not page.evaluate(SNAPSHOT_KEPT):
                    assert time.monotonic() < deadline, "no Python snapshot was kept"
                    time.sleep(0.25)
                page.close()
        log(f"boot, {kind} {n + 1}/{REPEATS}: {[values[-1] for values in runs.values()]}")
    return {boot: summarize(values) for boot, values in runs.items()}


def summarize(runs: list[dict[str, float]]) -> dict[str, float]:
    """The median of each part over the runs."""
    return {key: median([run[key] for run in runs]) for key in runs[0]}


# -- 2. a new visitor -------------------------------------------------------------------------


def first_paint_ms(page: Page, site_url: str) -> dict[str, float]:
    """Open ``site_url`` in ``page`` and time its first page. Nothing is asked of the page until
    the site's frame has loaded: Playwright's waits on a page's content (``expect``, locators)
    evaluate its injected script there, a 330 KB DevTools message and 11-20 ms of the page's
    main thread, twice, which a trace showed delaying the connection's steps by as much."""
    with page.expect_event("framenavigated", predicate=showing_site, timeout=60_000) as shown:
        page.goto(site_url, wait_until="commit")
    frame = shown.value
    frame.wait_for_load_state("load", timeout=60_000)
    frame.wait_for_function(
        "() => performance.getEntriesByName('first-contentful-paint').length", timeout=10_000
    )
    expect(frame.get_by_role("heading", name="Bench")).to_be_visible()
    inner = frame.evaluate(
        """() => ({origin: performance.timeOrigin,
                   paint: performance.getEntriesByName("first-contentful-paint")[0].startTime})"""
    )
    shell = page.evaluate(
        """() => ({origin: performance.timeOrigin,
                   worker: performance.getEntriesByName("peerserver:service-worker")[0].startTime,
                   connected: performance.getEntriesByName("peerserver:connected")[0].startTime})"""
    )
    # The service worker and the connection are made side by side; the page asks for the site
    # once it has both.
    painted = inner["origin"] + inner["paint"] - shell["origin"]
    return {
        "total_ms": painted,
        "service_worker_ready_ms": shell["worker"],
        "connected_ms": shell["connected"],
        "first_response_and_paint_ms": painted - max(shell["worker"], shell["connected"]),
        **{f"at_{step}_ms": at for step, at in page.evaluate(CONNECTION_STEPS).items()},
    }


def showing_site(frame: Frame) -> bool:
    """Whether ``frame`` is a shell's site frame, with a page of the site in it."""
    return frame.name == "site" and frame.url.startswith("http")


# When each step of a new visitor's start happened, from the navigation's start: the shell's
# modules all in, then the connection (runtime/visitor/site-client.js marks its steps).
CONNECTION_STEPS = """() => {
    const modules = performance.getEntriesByType("resource")
        .filter((entry) => entry.name.endsWith(".js") && !entry.name.endsWith("/sw.js"));
    const steps = {"modules loaded": Math.max(...modules.map((entry) => entry.responseEnd))};
    for (const step of ["signaling-open", "server-online", "configured", "offer-sent", "answer",
                        "peer-connected", "connected"]) {
        steps[step] = performance.getEntriesByName(`peerserver:${step}`)[0].startTime;
    }
    return steps;
}"""


def bench_visitor(browser: Browser, site_url: str) -> dict[str, float]:
    """From opening the site in a fresh browser context to its first page painted."""
    runs = []
    for n in range(REPEATS):
        wait_until_quiet()
        context = browser.new_context()
        try:
            with BusySampler() as machine_load:
                page = context.new_page()
                figures = first_paint_ms(page, site_url)
            # How busy the machine was from the navigation's start to the paint.
            start_s = page.evaluate("() => performance.timeOrigin") / 1000
            end_s = start_s + figures["total_ms"] / 1000
            figures["cores_busy"] = machine_load.cores_busy(start_s, end_s)
            runs.append(figures)
        finally:
            context.close()
        log(f"visitor {n + 1}/{REPEATS}: {runs[-1]}")
    return summarize(runs)


def open_site(context: BrowserContext, site_url: str) -> Page:
    """A visitor's page showing the bench site."""
    page = context.new_page()
    page.goto(site_url)
    expect(page.frame_locator("#site").get_by_role("heading", name="Bench")).to_be_visible()
    return page


# -- 3. and 4. latency and throughput, next to `flask run` ----------------------------------

SEQUENTIAL = """async ({path, count}) => {
    const times = [];
    for (let i = 0; i < count; i++) {
        const started = performance.now();
        const response = await fetch(path, {cache: "no-store"});
        await response.text();
        if (!response.ok) throw new Error(`${path}: ${response.status}`);
        times.push(performance.now() - started);
    }
    return times;
}"""

CONCURRENT = """async ({path, count, inFlight}) => {
    let next = 0, errors = 0;
    const started = performance.now();
    await Promise.all(Array.from({length: inFlight}, async () => {
        while (next < count) {
            next++;
            const response = await fetch(path, {cache: "no-store"});
            await response.text();
            if (!response.ok) errors++;
        }
    }));
    return {ms: performance.now() - started, errors};
}"""


def request_figures(
    frame: Frame, processes: dict[int, str], routes: dict[str, str] = ROUTES
) -> dict[str, Any]:
    """Latency (sequential) and throughput (6 in flight) of each of ``routes``, from a page's
    frame, with the CPU time per request of every process during the throughput runs
    (``processes``: the pids to name by their role)."""
    figures: dict[str, Any] = {}
    for name, path in routes.items():
        frame.evaluate(SEQUENTIAL, {"path": path, "count": 20})  # warm-up
        times = frame.evaluate(SEQUENTIAL, {"path": path, "count": LATENCY_REQUESTS})
        rps = []
        with CpuAccount(processes) as cpu:
            for _ in range(REPEATS):
                arguments = {"path": path, "count": THROUGHPUT_REQUESTS, "inFlight": IN_FLIGHT}
                run = frame.evaluate(CONCURRENT, arguments)
                if run["errors"]:
                    raise RuntimeError(f"{path}: {run['errors']} errors")
                rps.append(THROUGHPUT_REQUESTS / (run["ms"] / 1000))
        figures[name] = {
            "latency_median_ms": median(times),
            "latency_p99_ms": p99(times),
            "requests_per_s": median(rps),
            "cpu_ms_per_request": cpu.per_request(REPEATS * THROUGHPUT_REQUESTS),
        }
    return figures


WATERFALL_REQUESTS = 100
TIMED = """async ({path, count}) => {
    const clock = () => performance.timeOrigin + performance.now();
    const runs = [];
    for (let i = 0; i < count; i++) {
        const target = `${path}?waterfall=${i}`;
        const start = clock();
        const response = await fetch(target, {cache: "no-store"});
        const head = clock();
        await response.text();
        runs.push({target, start, head, end: clock()});
    }
    return runs;
}"""
# Each layer's mark, in the order a request passes them (runtime/request-timings.js); the page's
# own times are "start", "head" (the response's head in hand) and "end".
WATERFALL = (
    ("page to service worker", "start", "service-worker"),
    ("service worker to the shell's request worker", "service-worker", "shell"),
    ("request worker to channel", "shell", "channel-sent"),
    ("channel to server tab", "channel-sent", "server-tab"),
    ("server tab and worker, but Python", "server-tab", "server-tab-head"),
    ("channel back to the request worker", "server-tab-head", "shell-head"),
    ("request worker to service worker to page", "shell-head", "head"),
    ("body to the page", "head", "end"),
)


def waterfall(page: Page, server: Page, path: str) -> dict[str, float]:
    """Where the time of one request goes, layer by layer: medians over sequential requests.
    Every layer stamps the request with the machine's clock; Python's own time (h11, WSGI and
    the app) comes from the server tab's request log and is taken out of the worker's part."""
    runs = site_frame(page).evaluate(TIMED, {"path": path, "count": WATERFALL_REQUESTS})
    marks: dict[str, dict[str, float]] = {run["target"]: dict(run) for run in runs}
    # Each tab's marks are its worker's where the channels were handed to it.
    script = "() => globalThis.peerserverRequestTimings?.entries() ?? []"
    for entries in [*in_tab(page, script), *in_tab(server, script)]:
        for target, stage, at in entries:
            if target in marks:
                marks[target][stage] = at
    durations = server.evaluate("() => window.__durations")
    parts: dict[str, list[float]] = {label: [] for label, _, _ in WATERFALL}
    parts["Python: h11, WSGI and the app"] = []
    for target, mark in marks.items():
        python = median(durations[target])
        for label, start, end in WATERFALL:
            spent = mark[end] - mark[start]
            parts[label].append(spent - python if label.startswith("server tab") else spent)
        parts["Python: h11, WSGI and the app"].append(python)
        parts.setdefault("total", []).append(mark["end"] - mark["start"])
    return {label: round(median(values), 2) for label, values in parts.items()}


RECORD_DURATIONS = """() => {
    window.__durations = {};
    window.peerServerHost.addEventListener("request", ({detail}) => {
        (window.__durations[detail.target] ??= []).push(detail.duration_ms);
    });
}"""


def peerserver_figures(page: Page, server: Page) -> dict[str, Any]:
    """request_figures from a visitor's ``page`` of the site ``server`` serves."""
    processes = {renderer_of(page): report.VISITOR, renderer_of(server): report.SERVER_TAB}
    return request_figures(site_frame(page), processes)


def new_visitor_figures(
    browser: Browser, site: ServedSite, init_script: str | None = None
) -> dict[str, Any]:
    """peerserver_figures from a new visitor of ``site`` (whose pages first run
    ``init_script``, if given)."""
    context = browser.new_context()
    try:
        if init_script:
            context.add_init_script(init_script)
        return peerserver_figures(open_site(context, site.url), site.server)
    finally:
        context.close()


REGISTER_FLOOR = """async () => {
    await navigator.serviceWorker.register("/floor-sw.js", {scope: "/"});
    await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
        await new Promise((resolve) => navigator.serviceWorker.addEventListener(
            "controllerchange", resolve, {once: true}));
    }
}"""


def service_worker_floor(browser: Browser, flask_url: str) -> dict[str, Any]:
    """The trivial route, from a page whose own service worker answers it from memory (the
    bench site's /floor-sw.js, under `flask run`): what a page pays for a service worker
    answering its requests, with nothing behind it, in a browser context of its own."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(flask_url)
        page.evaluate(REGISTER_FLOOR)
        processes = {renderer_of(page): report.FLOOR}
        return request_figures(page.main_frame, processes, {"trivial": ROUTES["trivial"]})
    finally:
        context.close()


def bench_requests(
    browser: Browser, server: Page, site_url: str, flask_url: str, relaying: ServedSite
) -> dict[str, Any]:
    """PeerServer next to `flask run`; and PeerServer's two ways of holding a visitor's channel
    at either end side by side: in the server tab, handed to the Python worker (``server``), or
    relayed by the tab's main thread (``relaying``, a tab opened with ``?channels=tab``); in the
    visitor's shell, handed to its request worker, or kept by its page, which answers the
    requests (``REQUESTS_ON_PAGE``). Each other way is measured before and after the default
    one, so that what the order does shows."""
    served = ServedSite(context=server.context, server=server, url=site_url)

    def other_ways(when: str) -> tuple[dict[str, Any], dict[str, Any]]:
        by_tab = new_visitor_figures(browser, relaying)
        log(f"requests, PeerServer relaying by the tab, {when}: {by_tab}")
        on_page = new_visitor_figures(browser, served, REQUESTS_ON_PAGE)
        log(f"requests, PeerServer answered on the visitor's page, {when}: {on_page}")
        return by_tab, on_page

    before = other_ways("before")
    context = browser.new_context()
    try:
        page = open_site(context, site_url)
        server.evaluate(RECORD_DURATIONS)
        peerserver = peerserver_figures(page, server)
        # The server tab's own measure of each request: h11, WSGI and the app, in the worker.
        durations = server.evaluate("() => window.__durations")
        for name, path in ROUTES.items():
            peerserver[name]["in_python_median_ms"] = median(durations[path])
        log(f"requests, PeerServer: {peerserver}")
        timeline = waterfall(page, server, ROUTES["trivial"])
        log(f"requests, waterfall of the trivial route: {timeline}")
        direct = context.new_page()
        direct.goto(flask_url)
        processes = {renderer_of(direct): "visitor's renderer (page)"}
        flask_run = request_figures(direct.main_frame, processes)
        log(f"requests, flask run: {flask_run}")
    finally:
        context.close()
    after = other_ways("after")
    floor = service_worker_floor(browser, flask_url)
    log(f"requests, a page's own service worker answering: {floor}")
    ratios = {
        name: round(peerserver[name]["requests_per_s"] / flask_run[name]["requests_per_s"], 2)
        for name in ROUTES
    }
    return {
        "peerserver": peerserver,
        "relayed_by_tab": [before[0], after[0]],
        "answered_on_page": [before[1], after[1]],
        "service_worker_floor": floor,
        "flask_run": flask_run,
        "throughput_ratio": ratios,
        "waterfall_trivial_ms": timeline,
    }


# -- 5. a 100 MB download next to the raw channel --------------------------------------------


def bench_download(browser: Browser, server: Page, site_url: str) -> dict[str, Any]:
    context = browser.new_context()
    runs = []
    try:
        page = open_site(context, site_url)
        frame = site_frame(page)
        frame.evaluate("async () => (await fetch('/big.bin', {method: 'HEAD'})).status")
        for n in range(max(3, REPEATS // 2)):
            raw = raw_channel_throughput(server, page)
            visitor_start, server_start = start_heap_watch(page), start_heap_watch(server)
            worker_before = worker_memory_mb(server)
            result = download(frame, "/big.bin")
            if not result["exact"]:
                raise RuntimeError("the download's bytes were wrong")
            runs.append(
                {
                    "download_mb_per_s": result["bytes"] / 1e6 / (result["ms"] / 1000),
                    "raw_channel_mb_per_s": raw,
                    "visitor_heap_growth_mb": heap_peak_mb(page) - visitor_start,
                    "server_heap_growth_mb": heap_peak_mb(server) - server_start,
                    "worker_memory_growth_mb": worker_memory_mb(server) - worker_before,
                }
            )
            log(f"download {n + 1}: {runs[-1]}")
    finally:
        context.close()
    figures = summarize(runs)
    figures["ratio"] = round(figures["download_mb_per_s"] / figures["raw_channel_mb_per_s"], 2)
    return figures


# -- 6. many visitors on one server tab ------------------------------------------------------

VISITORS = """async ({count, perVisitor, path}) => {
    const {SiteClient} = await import("/__ps/runtime/visitor/site-client.js");
    const clients = Array.from({length: count}, () => new SiteClient());
    for (const client of clients) client.start();
    await Promise.all(clients.map((client) => client.connected(60000)));
    const latencies = [];
    let errors = 0;
    const get = (client) => new Promise((resolve) => {
        const started = performance.now();
        let status = 0;
        client.requests.request({method: "GET", target: path, headers: [], body: null}, {
            head: (head) => { status = head.status; },
            data: () => {},
            end: () => {
                latencies.push(performance.now() - started);
                if (status !== 200) errors++;
                resolve();
            },
            error: () => { errors++; resolve(); },
        });
    });
    const started = performance.now();
    await Promise.all(clients.map(async (client) => {
        for (let i = 0; i < perVisitor; i++) await get(client);
    }));
    const ms = performance.now() - started;
    for (const client of clients) {
        client.signaling.close();
        client.disconnect("offline");
    }
    return {latencies, errors, ms};
}"""


def bench_scale(browser: Browser, server: Page, site_url: str) -> dict[str, Any]:
    """1, 10 and 50 visitors at once, each its own peer connection, one request in flight each."""
    context = browser.new_context()
    figures = {}
    try:
        page = open_site(context, site_url)
        for count in SCALE_VISITORS:
            per_visitor = max(1, SCALE_REQUESTS // count)
            arguments = {"count": count, "perVisitor": per_visitor, "path": ROUTES["jinja2_sqlite"]}
            run = page.evaluate(VISITORS, arguments)
            figures[str(count)] = {
                "requests": len(run["latencies"]),
                "requests_per_s": round(len(run["latencies"]) / (run["ms"] / 1000), 1),
                "latency_median_ms": median(run["latencies"]),
                "latency_p99_ms": p99(run["latencies"]),
                "errors": run["errors"],
            }
            log(f"scale {count}: {figures[str(count)]}")
            expect(server.get_by_text("Connected: 1", exact=True)).to_be_visible(timeout=30_000)
    finally:
        context.close()
    return figures


def flask_scale(flask_url: str, count: int = 50) -> dict[str, Any]:
    """`flask run` under the load of bench_scale's ``count`` visitors: as many clients, each its
    own connection with one request in flight (a browser page would hold six connections to
    it at most)."""

    async def load() -> dict[str, Any]:
        latencies: list[float] = []
        errors = 0

        async def client() -> None:
            nonlocal errors
            async with httpx.AsyncClient(base_url=flask_url, timeout=60) as http:
                for _ in range(max(1, SCALE_REQUESTS // count)):
                    started = time.perf_counter()
                    response = await http.get(ROUTES["jinja2_sqlite"])
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += response.status_code != 200

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(count)))
        return {
            "requests": len(latencies),
            "requests_per_s": round(len(latencies) / (time.perf_counter() - started), 1),
            "latency_median_ms": median(latencies),
            "latency_p99_ms": p99(latencies),
            "errors": errors,
        }

    return asyncio.run(load())


# -- the run -----------------------------------------------------------------------------------


# -- 7. a second view of an asset-heavy page, next to `flask run` ---------------------------

GARAGE_SALE = REPO / "site_templates" / "garage-sale"
# In the page's own document: once every image is in, when the last of its resources ended
# (ms from the document's navigation), and the bytes `flask run` sent for it all (transfer
# sizes: a 304 is its headers only). Over a peer connection the resources come from the
# service worker, whose transfer sizes are 0: its bytes are counted on the channels instead.
PAGE_DONE = """async () => {
    await Promise.all([...document.images].map((image) => image.complete ? null :
        new Promise((resolve) => { image.onload = image.onerror = resolve; })));
    const entries = performance.getEntriesByType("resource");
    const navigation = performance.getEntriesByType("navigation")[0];
    return {
        ms: Math.max(navigation.responseEnd, ...entries.map((entry) => entry.responseEnd)),
        bytes: [navigation, ...entries].reduce((sum, entry) => sum + entry.transferSize, 0),
        images: document.images.length,
    };
}"""


def view_sale(shell: Page, page: Frame, again: bool) -> dict[str, float]:
    """Measure the sale's page in ``page`` (shown by ``shell``), after going back to it by its
    own link if ``again``, as a visitor does."""
    before = shell_pool(shell, "received")
    if again:
        with page.expect_navigation():
            page.get_by_role("link", name="Garage Sale").click()
    expect(page.get_by_role("img")).to_have_count(10)
    figures = page.evaluate(PAGE_DONE)
    if before is not None:  # the bytes over the peer connection's channels
        figures["bytes"] = shell_pool(shell, "received") - (before if again else 0)
    return {"ms": round(figures["ms"], 1), "bytes": figures["bytes"]}


def bench_second_view(browser: Browser, service: str) -> dict[str, Any]:
    """The Garage Sale's page, a first and a second time (its ten images and stylesheet are
    revalidated: Flask sends them with an ETag and no-cache), through a server tab and from
    `flask run` serving the same template, each run in a fresh browser context."""
    runs: dict[str, list[dict[str, dict[str, float]]]] = {"peerserver": [], "flask_run": []}
    owner = browser.new_context()
    with tempfile.TemporaryDirectory() as folder:
        project = Path(folder) / "garage-sale"
        shutil.copytree(GARAGE_SALE, project)
        port = free_port()
        command = [sys.executable, "-m", "flask", "--app", str(project / "app.py")]
        direct = f"http://127.0.0.1:{port}/"
        try:
            server = owner.new_page()
            server.goto(f"{service}server/garage?template=garage-sale")
            expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
            site_url = service.replace("localhost", "garage.localhost")
            serve = [*command, "run", "--port", str(port)]
            with running(serve, direct, quiet=True, cwd=project):  # its database is relative
                for n in range(REPEATS):
                    for name, url in (("peerserver", site_url), ("flask_run", direct)):
                        context = browser.new_context()
                        try:
                            shell = context.new_page()
                            shell.goto(url)
                            if name == "peerserver":
                                expect(
                                    shell.frame_locator("#site").get_by_role("img")
                                ).to_have_count(10)
                            page = site_frame(shell) if name == "peerserver" else shell.main_frame
                            runs[name].append(
                                {
                                    "first": view_sale(shell, page, again=False),
                                    "second": view_sale(shell, page, again=True),
                                }
                            )
                        finally:
                            context.close()
                    log(f"second view {n + 1}/{REPEATS}: {runs['peerserver'][-1]}")
                    log(f"    flask run: {runs['flask_run'][-1]}")
        finally:
            owner.close()
    return {
        name: {
            view: {key: median([run[view][key] for run in server_runs]) for key in ("ms", "bytes")}
            for view in ("first", "second")
        }
        for name, server_runs in runs.items()
    }


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "repeats": REPEATS,
        "date": time.strftime("%Y-%m-%d %H:%M"),
    }


def raise_open_files_limit() -> None:
    """The signaling figures need a socket per client, in this process and in the service."""
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def open_relaying_tab(browser: Browser, service: str) -> ServedSite:
    """A second server tab of the bench site, in a browser of its own, that keeps its visitors'
    channels on its main thread and relays their bytes to Python (``?channels=tab``)."""
    context = browser.new_context()
    server = context.new_page()
    server.goto(f"{service}server/bench-relay?template=bench&channels=tab")
    expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
    return ServedSite(context, server, service.replace("localhost", "bench-relay.localhost"))


def browser_figures(browser: Browser, service: str, flask_url: str) -> dict[str, Any]:
    results = {
        "boot": {
            **bench_boot(lambda: private_context(browser), service, "private"),
            **bench_boot(lambda: profile_context(browser), service, "profile"),
        }
    }
    owner = browser.new_context()
    try:
        server = owner.new_page()
        server.goto(f"{service}server/bench?template=bench")
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        kept_snapshot(server)  # made in the background after a first boot: measure after it
        site_url = service.replace("localhost", "bench.localhost")
        results["visitor"] = bench_visitor(browser, site_url)
        relaying = open_relaying_tab(browser, service)
        try:
            results["requests"] = bench_requests(browser, server, site_url, flask_url, relaying)
        finally:
            relaying.context.close()
        results["download_100mb"] = bench_download(browser, server, site_url)
        results["scale"] = bench_scale(browser, server, site_url)
    finally:
        owner.close()
    results["second_view"] = bench_second_view(browser, service)
    log(f"second view: {results['second_view']}")
    results["standby"] = bench_standby(browser)
    return results


# Every load comes from this one machine's address: its limits are the benchmark's to set.
UNLIMITED = [
    "--max-sockets-per-address", "100000", "--max-messages-per-second", "1000000",
    "--message-burst", "1000000", "--max-visitors-per-site", "1000",
]  # fmt: skip


def two_instances_figures() -> dict[str, Any]:
    """The signaling figures of two `peerserver serve --redis` sharing one redis-server; the
    memory per client counts both instances and Redis."""
    with tempfile.TemporaryDirectory() as folder, redis_server(Path(folder)) as url:
        redis_pid = int(Path(folder, "redis.pid").read_text())
        with (
            peerserver_service(SITES, options=[*UNLIMITED, "--redis", url]) as (one, first),
            peerserver_service(SITES, options=[*UNLIMITED, "--redis", url]) as (two, second),
        ):
            bases = [service.replace("http", "ws", 1) for service in (one, two)]
            figures = asyncio.run(signaling_figures(bases, [first.pid, second.pid, redis_pid]))
    return figures


def main() -> None:
    raise_open_files_limit()
    results: dict[str, Any] = {"machine": machine()}
    flask_port = free_port()
    flask_command = [sys.executable, "-m", "flask", "--app", str(SITES / "bench" / "app.py")]
    flask_command += ["run", "--port", str(flask_port)]
    flask_url = f"http://127.0.0.1:{flask_port}/"
    with (
        peerserver_service(SITES, options=UNLIMITED) as (service, process),
        running(flask_command, flask_url, quiet=True),
    ):
        results["flask_scale_50"] = flask_scale(flask_url)
        log(f"flask run, 50 clients: {results['flask_scale_50']}")
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(**chromium_launch_args())
            try:
                results.update(browser_figures(browser, service, flask_url))
            finally:
                browser.close()
        results["signaling"] = asyncio.run(
            signaling_figures([service.replace("http", "ws", 1)], [process.pid])
        )
        log(f"signaling, one process: {results['signaling']}")
    results["signaling_redis"] = two_instances_figures()
    log(f"signaling, two instances sharing Redis: {results['signaling_redis']}")
    (BENCH / "results.json").write_text(json.dumps(results, indent=2) + "\n")
    report.write(results, BENCH)
    log(f"wrote {BENCH / 'results.json'}, {BENCH / 'report.md'}, {BENCH / 'report.png'}")


if __name__ == "__main__":
    main()
