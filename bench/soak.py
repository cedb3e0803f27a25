"""`nox -s soak`: one server tab serving a long stream of requests from visitors who come and go,
its memory sampled all along: the server tab's JS heap, its Python worker's WebAssembly memory,
and the service's resident memory. Not part of the test command (it takes minutes); figures in
bench/soak.json and a plot in bench/soak.png.

``SOAK_REQUESTS`` (default 100,000) requests in all, ``SOAK_PER_VISITOR`` (2,000) from each
visitor before it leaves and a new one (a fresh browser context, a new peer connection) comes;
``SOAK_SAMPLE_S`` (5) between samples. Memory that grows for the whole run, rather than
levelling off after the first visitors, is a leak: the run says which series grew.

It fails (exits non-zero, saying why) on any request that failed, and on memory that grew from
the warm-up to the end by more than ``GROWTH_LIMITS_MB``: a few MB of noise, far below what
the run's 100,000 requests would leave behind if each kept even a few dozen bytes.
"""

from __future__ import annotations

import json
import os
import statistics
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Browser, Page, expect, sync_playwright

from bench.run import BENCH, BOOT_TIMEOUT, CONCURRENT, SITES, UNLIMITED, log
from tests.harness import chromium_launch_args, peerserver_service
from tests.measure import MB, kept_snapshot, site_frame, worker_memory_mb

REQUESTS = int(os.environ.get("SOAK_REQUESTS", "100000"))
PER_VISITOR = int(os.environ.get("SOAK_PER_VISITOR", "2000"))
SAMPLE_S = float(os.environ.get("SOAK_SAMPLE_S", "5"))
BATCH = 500  # requests per call into the visitor's page
IN_FLIGHT = 6
# The most each series may grow from its warm-up (second fifth) to its last fifth. Measured on
# a run of 100,000: -0.27 (the heap), 0 (WebAssembly memory grows in 64 KiB pages and is never
# given back, so any growth that lasts is kept), 0.14 (the service).
GROWTH_LIMITS_MB = {"server_tab_heap_mb": 2.0, "worker_memory_mb": 4.0, "service_rss_mb": 8.0}


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def heap_mb(page: Page) -> float:
    """The page's JS heap in use, after a garbage collection."""
    return (
        page.evaluate("() => { globalThis.gc?.(); return performance.memory.usedJSHeapSize; }") / MB
    )


def soak(browser: Browser, server: Page, site_url: str, service_pid: int) -> list[dict[str, Any]]:
    samples: list[dict[str, Any]] = []
    done, errors, visitors = 0, 0, 0
    started = last_sample = time.monotonic()

    def sample() -> None:
        samples.append({
            "requests": done,
            "seconds": round(time.monotonic() - started, 1),
            "visitors": visitors,
            "server_tab_heap_mb": round(heap_mb(server), 2),
            "worker_memory_mb": round(worker_memory_mb(server), 2),
            "service_rss_mb": round(rss_mb(service_pid), 2),
            "errors": errors,
        })  # fmt: skip
        log(f"soak: {samples[-1]}")

    sample()
    while done < REQUESTS:
        context = browser.new_context()
        visitors += 1
        try:
            page = context.new_page()
            page.goto(site_url)
            expect(page.frame_locator("#site").get_by_role("heading", name="Bench")).to_be_visible()
            frame = site_frame(page)
            for _ in range(0, min(PER_VISITOR, REQUESTS - done), BATCH):
                count = min(BATCH, REQUESTS - done)
                run = frame.evaluate(
                    CONCURRENT, {"path": "/items", "count": count, "inFlight": IN_FLIGHT}
                )
                done += count
                errors += run["errors"]
                if time.monotonic() - last_sample >= SAMPLE_S:
                    last_sample = time.monotonic()
                    sample()
        finally:
            context.close()
    sample()
    return samples


def growth(samples: list[dict[str, Any]], key: str) -> dict[str, float]:
    """The series' median over its second fifth (after warming up) and over its last fifth."""
    fifth = max(1, len(samples) // 5)
    early = statistics.median(s[key] for s in samples[fifth : 2 * fifth] or samples[:1])
    late = statistics.median(s[key] for s in samples[-fifth:])
    return {
        "early_mb": round(early, 2),
        "late_mb": round(late, 2),
        "grew_mb": round(late - early, 2),
    }


def failures(result: dict[str, Any]) -> list[str]:
    """What in a soak's ``result`` is past its bounds, said as a person would read it."""
    said = []
    if result["errors"]:
        said.append(f"{result['errors']} of {result['requests']} requests failed")
    for key, limit in GROWTH_LIMITS_MB.items():
        grew = result["growth"][key]["grew_mb"]
        if grew > limit:
            said.append(f"{key} grew by {grew} MB after the warm-up (the most allowed: {limit})")
    return said


def plot(samples: list[dict[str, Any]], target: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(figsize=(9, 4.5))
    requests = [s["requests"] for s in samples]
    for key, label in (
        ("server_tab_heap_mb", "server tab's JS heap"),
        ("worker_memory_mb", "Python worker's WebAssembly memory"),
        ("service_rss_mb", "service's resident memory"),
    ):
        axes.plot(requests, [s[key] for s in samples], label=label, marker=".")
    axes.set_xlabel("requests served")
    axes.set_ylabel("MB")
    axes.set_title(f"Memory over {requests[-1]:,} requests from {samples[-1]['visitors']} visitors")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=110)


def main() -> None:
    with (
        peerserver_service(SITES, options=UNLIMITED) as (service, process),
        sync_playwright() as playwright,
    ):
        browser = playwright.chromium.launch(**chromium_launch_args())
        try:
            owner = browser.new_context()
            server = owner.new_page()
            server.goto(f"{service}server/bench?template=bench")
            expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
            kept_snapshot(server)
            site_url = service.replace("localhost", "bench.localhost")
            samples = soak(browser, server, site_url, process.pid)
        finally:
            browser.close()
    keys = ("server_tab_heap_mb", "worker_memory_mb", "service_rss_mb")
    result = {
        "requests": samples[-1]["requests"],
        "visitors": samples[-1]["visitors"],
        "seconds": samples[-1]["seconds"],
        "errors": samples[-1]["errors"],
        "growth": {key: growth(samples, key) for key in keys},
        "samples": samples,
    }
    (BENCH / "soak.json").write_text(json.dumps(result, indent=2) + "\n")
    plot(samples, BENCH / "soak.png")
    log(f"soak: {json.dumps({k: v for k, v in result.items() if k != 'samples'})}")
    if problems := failures(result):
        raise SystemExit("soak failed: " + "; ".join(problems))
    log("soak: within its bounds (no failed request, no lasting growth)")


if __name__ == "__main__":
    main()
