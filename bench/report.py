"""bench/results.json as a page a person reads at a glance: report.md (tables) and report.png.

Run on its own to redraw from an existing results.json: ``python -m bench.report``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display: write files only
import matplotlib.pyplot as plt

BENCH = Path(__file__).resolve().parent
PEERSERVER, FLASK_RUN, RAW = "#3b6fd8", "#999999", "#2a9d8f"


def table(header: list[str], rows: list[list[Any]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# The renderers whose CPU a PeerServer request costs, as bench/run.py names them.
SERVER_TAB = "server tab's renderer (tab, Python worker)"
VISITOR = "visitor's renderer (page, service worker, shell, request worker)"
# The kinds of browser a boot is measured in (bench.run's bench_boot).
BROWSERS = {"private": "off-the-record context", "profile": "a profile on disk"}
FLOOR = "renderer of a page its service worker answers (page, service worker)"


def goals(results: dict[str, Any]) -> list[list[Any]]:
    """Issue 32's goals beside this run's figures: [measure, this run, goal, met]. Each ratio
    is PeerServer's over `flask run`'s, measured side by side in this run."""
    boot, visitor, requests = results["boot"], results["visitor"], results["requests"]
    peerserver, flask_run = requests["peerserver"], requests["flask_run"]
    fifty, flask_fifty = results["scale"].get("50", {}), results.get("flask_scale_50", {})
    cpu = peerserver["trivial"]["cpu_ms_per_request"]
    flask_cpu = flask_run["trivial"]["cpu_ms_per_request"]
    ratios = requests["throughput_ratio"]
    flask_trivial = flask_run["trivial"]["latency_median_ms"]
    flask_p99 = flask_fifty.get("latency_p99_ms")
    rows = [
        (
            "server tab CPU per trivial request / flask run's process",
            ratio(cpu.get(SERVER_TAB), flask_cpu["flask run"]),
            "≤ 1.3",
            1.3,
        ),
        (
            "visitor's CPU per trivial request / a page fetching from flask run",
            ratio(
                cpu.get(VISITOR),
                flask_cpu.get("visitor's renderer (page)"),
            ),
            "≤ 1.3",
            1.3,
        ),
        ("throughput vs flask run, trivial", ratios["trivial"], "≥ 1.0", -1.0),
        ("throughput vs flask run, Jinja2 + sqlite3", ratios["jinja2_sqlite"], "≥ 0.9", -0.9),
        (
            "trivial route median (ms)",
            peerserver["trivial"]["latency_median_ms"],
            f"≤ flask run's {flask_trivial}",
            flask_trivial,
        ),
        (
            "50 visitors, p99 (ms)",
            fifty.get("latency_p99_ms"),
            f"≤ twice flask run's {flask_p99}, no errors",
            2 * flask_p99 if flask_p99 else 0,
        ),
        (
            "server tab boot, a later one, in a browser profile (ms)",
            boot["later_profile"]["total_ms"],
            "≤ 800",
            800,
        ),
        ("new visitor to first page (ms)", visitor["total_ms"], "≤ 250", 250),
    ]
    table_rows = []
    for measure, value, goal, bound in rows:
        # A negative bound is a floor (at least), a positive one a ceiling (at most).
        met = value is not None and (value >= -bound if bound < 0 else value <= bound)
        if measure.startswith("50 visitors"):
            met = met and fifty.get("errors") == 0
        table_rows.append([measure, value, goal, "yes" if met else "no"])
    return table_rows


def flask_scale_line(figures: dict[str, Any] | None) -> str:
    if not figures:
        return ""
    return (
        f"`flask run` under the same load (50 clients, each its own connection and one request "
        f"in flight, {figures['requests']} requests): {figures['requests_per_s']} requests/s, "
        f"median {figures['latency_median_ms']} ms, p99 {figures['latency_p99_ms']} ms, "
        f"{figures['errors']} errors."
    )


def ratio(value: float | None, other: float | None) -> float | None:
    return round(value / other, 2) if value is not None and other else None


def cpu_table(requests: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    """CPU ms per request by process, a column per server and route."""
    columns = [
        (f"{server_label} {route}", requests[server][route].get("cpu_ms_per_request", {}))
        for route in requests["throughput_ratio"]
        for server, server_label in (("peerserver", "PeerServer"), ("flask_run", "flask run"))
    ]
    summary = ["total", "cores busy (machine)"]
    processes: list[str] = []
    for _, cpu in columns:
        processes += [label for label in cpu if label not in [*processes, *summary, "threads"]]
    processes += summary
    rows = [[label, *(cpu.get(label, "-") for _, cpu in columns)] for label in processes]
    return ["process (ms per request)", *(label for label, _ in columns)], rows


def two_ways_table(
    requests: dict[str, Any],
    other: str,
    ways: tuple[str, str, str],
    process: tuple[str, str],
    threads: dict[str, str],
) -> tuple[list[str], list[list[Any]]]:
    """A default way beside another, measured before and after it (``requests[other]``):
    ``ways`` names the columns' first header, the other way and the default way; ``process``
    (header, label) is the renderer whose CPU is shown, with that of its ``threads`` (header:
    thread name)."""
    held_by, other_way, default_way = ways
    cpu_header, renderer = process
    headers = ["route", held_by, "requests/s", "median ms", cpu_header, *threads]
    rows = []
    before, after = requests.get(other, [{}, {}])
    for route in requests["throughput_ratio"]:
        for label, figures in (
            (f"{other_way} (measured first)", before.get(route)),
            (default_way, requests["peerserver"][route]),
            (f"{other_way} (measured last)", after.get(route)),
        ):
            if not figures:
                continue
            cpu = figures["cpu_ms_per_request"]
            busy = cpu.get("threads", {}).get(renderer, {})
            rows.append(
                [
                    route,
                    label,
                    figures["requests_per_s"],
                    figures["latency_median_ms"],
                    cpu.get(renderer, "-"),
                    *(busy.get(thread, "-") for thread in threads.values()),
                ]
            )
    return headers, rows


def service_worker_floor(requests: dict[str, Any]) -> list[str]:
    """What a page pays for any service worker answering its requests, beside PeerServer's
    visitor and a page fetching from `flask run`."""
    floor = requests.get("service_worker_floor", {}).get("trivial")
    if not floor:
        return []
    rows = []
    for label, cpu, renderer in (
        (
            "a page fetching from flask run",
            requests["flask_run"]["trivial"]["cpu_ms_per_request"],
            "visitor's renderer (page)",
        ),
        ("a page its own service worker answers, from memory", floor["cpu_ms_per_request"], FLOOR),
        ("PeerServer's visitor", requests["peerserver"]["trivial"]["cpu_ms_per_request"], VISITOR),
    ):
        threads = cpu.get("threads", {}).get(renderer, {})
        busiest = ", ".join(f"{name} {ms}" for name, ms in threads.items())
        rows.append([label, cpu.get(renderer, "-"), busiest])
    return [
        "### What a service worker costs a page, whatever answers behind it",
        "A page of `flask run`'s whose own service worker answers the trivial route from memory "
        "(the bench site's `/floor-sw.js`: no server, no network behind it), measured as the "
        "others (6 in flight): the renderer's CPU ms per request, beside a page fetching from "
        "`flask run` and PeerServer's visitor, whose pages a service worker must answer.",
        table(["page", "renderer CPU ms per request", "its busiest threads"], rows),
    ]


def markdown(results: dict[str, Any]) -> str:
    machine = results["machine"]
    boot, visitor = results["boot"], results["visitor"]
    requests, download = results["requests"], results["download_100mb"]
    scale, signaling = results["scale"], results["signaling"]
    parts = [
        "# PeerServer benchmarks",
        f"{machine['date']}, {machine['cpus']} CPUs, {machine['platform']}; headless Chromium. "
        f"Every figure is a median of {machine['repeats']} runs unless it says otherwise; "
        "comparisons were measured side by side in the same run. Each boot and each new "
        "visitor starts once the machine is quiet (under 0.3 of its cores busy for half a "
        "second, waiting at most 15 s). Chromium runs without its "
        "omnibox popup's WebUI, which it loads for each new window, each browser context here, "
        "at 0.8 s of CPU: a browser's own start-up cost, not a site's (tests/harness.py).",
        "![figures](report.png)",
        "## Goals (issue 32)",
        table(["measure", "this run", "goal", "met"], goals(results)),
        '## 1. Server tab boot (opening /server/NAME to "Serving")',
        "A browser's first boot starts Python from scratch (byte-compiled at build time); a "
        "worker of its own then makes a memory snapshot with the Flask stack imported, in the "
        "background, which later boots restore. The wheels' files, which a snapshot does not "
        "hold, are written by JavaScript from uncompressed zips (runtime/python-worker/"
        "wheel-files.js). Each boot is measured in two kinds of browser: an off-the-record "
        "context (a private window: Playwright's new context, as everywhere else here), and a "
        "browser with a profile on disk, as a person's: only there does Chromium keep the code "
        "V8 compiled (its code cache), of the JavaScript and of Pyodide's WebAssembly module, "
        "which a later boot then reads instead of compiling again.",
        table(
            ["browser", "boot", "from snapshot", "total ms", "Python ms", "wheels ms", "site ms"],
            [
                [
                    BROWSERS[name.split("_")[1]],
                    name.split("_")[0],
                    "yes" if b.get("snapshot") else "no",
                    b["total_ms"],
                    b["pyodide_ms"],
                    b["wheels_ms"],
                    b["site_ms"],
                ]
                for name, b in boot.items()
            ],
        ),
        "## 2. New visitor (fresh browser context to first page painted)",
        "The shell page registers its service worker, starts its request worker and opens its "
        "signaling socket before its modules have loaded; then it connects to the server tab "
        "(ICE, the first channels) while the service worker starts. Both are timed from the "
        "navigation's start. Nothing is asked of the page until its site's frame has loaded: "
        "Playwright's waits on a page's content run its own 330 KB script in the page, which "
        "took 11-20 ms of the shell's main thread, twice, while it connected.",
        table(
            [
                "total ms",
                "service worker ready at ms",
                "connected at ms",
                "first response + paint ms",
            ],
            [
                [
                    visitor["total_ms"],
                    visitor["service_worker_ready_ms"],
                    visitor["connected_ms"],
                    visitor["first_response_and_paint_ms"],
                ]
            ],
        ),
        "Its steps (ms from the navigation's start): "
        + ", ".join(
            f"{key[3:-3]} {value}" for key, value in visitor.items() if key.startswith("at_")
        )
        + ". The visitor's certificate (kept in IndexedDB, see "
        "`runtime/visitor/visitor-identity.js`) "
        'and the ICE servers come between "server-online" and "configured". From the '
        f"navigation's start to the paint, {visitor.get('cores_busy', '-')} of the machine's "
        f"{machine['cpus']} cores were busy on average (/proc/stat, sampled every 10 ms).",
        "## 3 and 4. Latency and throughput (one tab; throughput with 6 requests in flight)",
        table(
            ["route", "server", "median ms", "p99 ms", "requests/s", "of which in Python ms"],
            [
                [
                    route,
                    server,
                    f[route]["latency_median_ms"],
                    f[route]["latency_p99_ms"],
                    f[route]["requests_per_s"],
                    f[route].get("in_python_median_ms", "-"),
                ]
                for route in requests["throughput_ratio"]
                for server, f in (
                    ("PeerServer", requests["peerserver"]),
                    ("flask run", requests["flask_run"]),
                )
            ],
        ),
        "Throughput of PeerServer relative to `flask run`: "
        + ", ".join(f"{route} {ratio}" for route, ratio in requests["throughput_ratio"].items())
        + ".",
        "### Where the time of one request goes (trivial route, medians, sequential)",
        "Each layer stamps the request with the machine's clock (`runtime/request-timings.js`); "
        "the medians of the parts need not add up to the median of the whole.",
        table(
            ["part", "ms"],
            [[part, ms] for part, ms in requests.get("waterfall_trivial_ms", {}).items()],
        ),
        "### CPU time per request, every process (throughput runs, 6 in flight)",
        'Read from /proc during the throughput runs (`bench/cpu.py`); "cores busy" is the '
        "whole machine's average over the run, of its "
        f"{machine['cpus']}. Both servers keep the machine's cores busy, so requests per second "
        "are what the cores can give divided by the CPU time a request costs along its path; the "
        "browser's part is there for `flask run` too (its page's fetch).",
        table(*cpu_table(requests)),
        "Busiest threads of the two renderers, PeerServer, trivial route (ms per request; the "
        'main thread is "chromium"):',
        table(
            ["renderer", "threads"],
            [
                [label, ", ".join(f"{name} {ms}" for name, ms in threads.items())]
                for label, threads in requests["peerserver"]["trivial"]["cpu_ms_per_request"]
                .get("threads", {})
                .items()
            ],
        ),
        *service_worker_floor(requests),
        "### The server tab's two ways of holding a visitor's channel",
        "By default Chromium's server tab hands each visitor's HTTP channel to its Python worker "
        "(`runtime/http-channels.js`), so that no request crosses the tab's main thread; a tab "
        "opened with `?channels=tab` keeps the channels on its main thread and relays their "
        "bytes to the worker, as in a browser that cannot transfer a data channel. Both in this "
        "run, each its own server tab and visitor, 6 requests in flight, the relaying tab "
        "measured before and after the other; CPU ms per request.",
        table(
            *two_ways_table(
                requests,
                "relayed_by_tab",
                ("channels held by", "the tab", "the Python worker"),
                ("server tab CPU", SERVER_TAB),
                {"its main thread": "chromium", "its Python worker": "DedicatedWorker"},
            )
        ),
        "### The visitor's two ways of answering the site's requests",
        "By default the visitor's shell hands the connection's HTTP channels to a request worker "
        "of its own (`runtime/visitor/request-worker.js`), which answers the service worker's "
        "requests, so that none waits on the page's main thread, which the site's pages share; "
        "with sessionStorage's `peerserver.requests` set to `page`, the shell's page answers "
        "them, as in a browser that cannot transfer a data channel. Both in this run, the same "
        "server tab, each its own visitor, 6 requests in flight, the page's way measured before "
        "and after the other; CPU ms per request.",
        table(
            *two_ways_table(
                requests,
                "answered_on_page",
                ("requests answered by", "the page", "the request worker"),
                ("visitor CPU", VISITOR),
                {
                    "its main thread": "chromium",
                    "its request worker": "DedicatedWorker",
                    "its service worker": "ServiceWorker t",
                },
            )
        ),
        "## 5. 100 MB download",
        table(
            [
                "download MB/s",
                "raw channel MB/s",
                "ratio",
                "visitor heap growth MB",
                "server tab heap growth MB",
                "worker memory growth MB",
            ],
            [
                [
                    download["download_mb_per_s"],
                    download["raw_channel_mb_per_s"],
                    download["ratio"],
                    download["visitor_heap_growth_mb"],
                    download["server_heap_growth_mb"],
                    download["worker_memory_growth_mb"],
                ]
            ],
        ),
        "## 6. Simultaneous visitors (each its own peer connection, Jinja2 + sqlite3 route)",
        table(
            ["visitors", "requests", "requests/s", "median ms", "p99 ms", "errors"],
            [
                [
                    count,
                    s["requests"],
                    s["requests_per_s"],
                    s["latency_median_ms"],
                    s["latency_p99_ms"],
                    s["errors"],
                ]
                for count, s in scale.items()
            ],
        ),
        flask_scale_line(results.get("flask_scale_50")),
        "## 7. Signaling service: one process, and two instances sharing Redis",
        "With Redis the server tab is on the first instance and the handshaking visitors on the "
        "second, so every offer and answer crosses between them; memory counts both instances "
        "and Redis.",
        table(
            [
                "store",
                "clients held",
                "limit",
                "memory per client KB",
                "handshakes/s",
                "handshake median ms",
                "handshake p99 ms",
            ],
            [
                [
                    label,
                    s["clients_held"],
                    s["limit_reached"],
                    s["memory_per_client_kb"],
                    s["handshakes_per_s"],
                    s["handshake_median_ms"],
                    s.get("handshake_p99_ms", "-"),
                ]
                for label, s in (
                    ("in memory, one process", signaling),
                    ("Redis, two instances", results.get("signaling_redis")),
                )
                if s
            ],
        ),
    ]
    if "second_view" in results:
        parts += second_view(results["second_view"])
    if "standby" in results:
        parts += standby(results["standby"])
    return "\n\n".join(parts) + "\n"


def second_view(views: dict[str, Any]) -> list[str]:
    """Section 8: the visitor's HTTP cache, next to a browser's own with `flask run`."""
    return [
        "## 8. A second view of an asset-heavy page (the Garage Sale template)",
        "Its page, then the same page again by its own link, in a fresh browser context each "
        "run. Flask sends the ten images and the stylesheet with an ETag and `no-cache`: the "
        "second view revalidates them, and the site answers 304 with no body. Times are from "
        "the page's navigation to its last resource; bytes are those over the data channels "
        "for PeerServer (the service worker's HTTP cache, runtime/visitor/http-cache.js) and "
        "the transfer sizes for `flask run` (Chromium's own HTTP cache).",
        table(
            ["server", "first view ms", "first view bytes", "second view ms", "second view bytes"],
            [
                [
                    label,
                    views[name]["first"]["ms"],
                    int(views[name]["first"]["bytes"]),
                    views[name]["second"]["ms"],
                    int(views[name]["second"]["bytes"]),
                ]
                for name, label in (("peerserver", "PeerServer"), ("flask_run", "flask run"))
            ],
        ),
    ]


def standby(figures: dict[str, Any]) -> list[str]:
    """Section 9: what a standby costs a write, and how long a failover takes."""
    writes, failover = figures["writes"], figures["failover_seconds"]
    return [
        "## 9. Standbys: a write's cost, and a failover's length",
        "Sequential writes (an sqlite3 insert and commit) to two Ledger sites served from the "
        "same browser, side by side: one with a standby in sync (the write is answered once "
        "the standby has kept it), one without.",
        table(
            ["site", "write median ms", "write p99 ms", "writes"],
            [
                [label, writes[key]["median_ms"], writes[key]["p99_ms"], writes[key]["writes"]]
                for key, label in (("without_standby", "alone"), ("with_standby", "with a standby"))
            ],
        ),
        f"A standby costs a write {writes['cost_median_ms']} ms at the median "
        f"({writes['ratio']} times as long).",
        f"From the loss to the first write the standby answered, with the service's default "
        f"lease ({figures['lease_seconds']:g} s); for a planned move, the longest a write "
        "waited (none failed).",
        table(
            ["serving tab", "seconds"],
            [[case, seconds] for case, seconds in failover.items()],
        ),
    ]


def plot(results: dict[str, Any], target: Path) -> None:
    figure, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    figure.suptitle("PeerServer benchmarks (medians)", fontsize=14)

    ax = axes[0][0]
    boot = results["boot"]
    for row, b in enumerate(boot.values()):
        left = 0.0
        for part, colour in (
            ("pyodide_ms", "#3b6fd8"),
            ("wheels_ms", "#f4a261"),
            ("site_ms", "#2a9d8f"),
        ):
            ax.barh(row, b[part], left=left, color=colour, label=part[:-3] if row == 0 else None)
            left += b[part]
        ax.text(b["total_ms"], row, f" {b['total_ms'] / 1000:.1f} s total", va="center")
    ax.set_yticks(range(len(boot)), [name.replace("_", " ") for name in boot])
    ax.set_xlabel("ms")
    ax.set_title("1. Server tab boot")
    ax.legend(loc="lower right", fontsize=8)

    ax = axes[0][1]
    v = results["visitor"]
    # Side by side from the start: the service worker and the connection, then the first page.
    both = max(v["service_worker_ready_ms"], v["connected_ms"])
    for row, (part, colour) in enumerate(
        (("service_worker_ready_ms", "#3b6fd8"), ("connected_ms", "#f4a261"))
    ):
        ax.barh(row, v[part], color=colour, label=part[:-3].replace("_", " "))
        ax.barh(row, v["first_response_and_paint_ms"], left=both, color="#2a9d8f",
                label="first response + paint" if row == 0 else None)  # fmt: skip
    ax.set_yticks([0, 1], ["service worker", "connection"])
    ax.set_xlabel("ms")
    ax.set_title(f"2. First page painted: {v['total_ms']:.0f} ms")
    ax.legend(loc="upper right", fontsize=8)

    ax = axes[0][2]
    requests = results["requests"]
    routes = list(requests["throughput_ratio"])
    xs = range(len(routes))
    ax.bar(
        [x - 0.2 for x in xs],
        [requests["peerserver"][r]["requests_per_s"] for r in routes],
        0.4,
        color=PEERSERVER,
        label="PeerServer",
    )
    ax.bar(
        [x + 0.2 for x in xs],
        [requests["flask_run"][r]["requests_per_s"] for r in routes],
        0.4,
        color=FLASK_RUN,
        label="flask run",
    )
    ax.set_xticks(list(xs), [f"{r}\n(ratio {requests['throughput_ratio'][r]})" for r in routes])
    ax.set_ylabel("requests/s (6 in flight)")
    ax.set_title("4. Throughput")
    ax.legend(fontsize=8)

    ax = axes[1][0]
    for x, route in enumerate(routes):
        for offset, (server, colour) in (
            (-0.2, ("peerserver", PEERSERVER)),
            (0.2, ("flask_run", FLASK_RUN)),
        ):
            f = requests[server][route]
            ax.bar(x + offset, f["latency_median_ms"], 0.4, color=colour)
            ax.plot([x + offset] * 2, [f["latency_median_ms"], f["latency_p99_ms"]], color="k")
    ax.set_xticks(list(xs), routes)
    ax.set_ylabel("ms (bar: median, line: to p99)")
    ax.set_title("3. Latency (blue: PeerServer, grey: flask run)")

    ax = axes[1][1]
    d = results["download_100mb"]
    ax.bar([0, 1], [d["download_mb_per_s"], d["raw_channel_mb_per_s"]], color=[PEERSERVER, RAW])
    ax.set_xticks([0, 1], ["100 MB send_file", "raw data channel"])
    ax.set_ylabel("MB/s")
    ax.set_title(f"5. Large transfer (ratio {d['ratio']})")

    ax = axes[1][2]
    scale = results["scale"]
    counts = list(scale)
    ax.bar(counts, [scale[c]["requests_per_s"] for c in counts], color=PEERSERVER)
    ax.set_xlabel("simultaneous visitors")
    ax.set_ylabel("requests/s", color=PEERSERVER)
    twin = ax.twinx()
    twin.plot(counts, [scale[c]["latency_p99_ms"] for c in counts], "o-", color="#e76f51")
    twin.set_ylabel("p99 ms", color="#e76f51")
    errors = sum(scale[c]["errors"] for c in counts)
    ax.set_title(f"6. Visitors on one tab ({errors} errors)")

    figure.tight_layout()
    figure.savefig(target, dpi=100)
    plt.close(figure)


def write(results: dict[str, Any], folder: Path = BENCH) -> None:
    (folder / "report.md").write_text(markdown(results))
    plot(results, folder / "report.png")


if __name__ == "__main__":
    write(json.loads((BENCH / "results.json").read_text()))
