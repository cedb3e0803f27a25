"""Standbys in `nox -s bench`: what synchronous replication costs a write, and how long a site
goes unanswered when its serving tab goes away, with the service's default lease.

Write latency is measured side by side: two Ledger sites served from the same browser, one with
a standby in sync (every write waits for the standby to keep it) and one without, the same
visitor writing to each in turn. Failover is measured as the end-to-end tests measure it
(tests/standbys.py): from the loss to the first write answered by the tab that serves next.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

from playwright.sync_api import Browser, Frame, expect

from bench.figures import REPEATS, log, median, p99
from signaling.leases import DEFAULT_LEASE_SECONDS
from tests.conftest import BOOT_TIMEOUT, TEST_SITES, site_url
from tests.harness import peerserver_service
from tests.measure import site_frame
from tests.standbys import (
    crash,
    recovery_seconds,
    serving_with_standby,
    start_writing,
    writes_after,
)

WRITES = 100  # per round and site

SEQUENTIAL_WRITES = """async ({count, from}) => {
    await fetch("/login", {method: "POST", body: new URLSearchParams({name: "bench"})});
    const times = [];
    for (let n = from; n < from + count; n++) {
        const started = performance.now();
        const response = await fetch("/write", {
            method: "POST", body: new URLSearchParams({n: String(n)}),
        });
        await response.text();
        if (!response.ok) throw new Error(`write ${n}: ${response.status}`);
        times.push(performance.now() - started);
    }
    return times;
}"""


def write_latency(browser: Browser, service: str) -> dict[str, Any]:
    """Sequential writes, a round on each site in turn: one alone, one with a standby."""
    alone = browser.new_context()
    paired = serving_with_standby(browser, service, "bench-paired")
    visitor = browser.new_context()
    try:
        server = alone.new_page()
        server.goto(f"{service}server/bench-alone?template=ledger")
        expect(server.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        frames: dict[str, Frame] = {}
        for label, name in (("without_standby", "bench-alone"), ("with_standby", "bench-paired")):
            page = visitor.new_page()
            page.goto(site_url(service, name))
            expect(page.frame_locator("#site").locator("h1")).to_have_text("Ledger")
            frames[label] = site_frame(page)
            frames[label].evaluate(SEQUENTIAL_WRITES, {"count": 20, "from": 0})  # warm-up
        times: dict[str, list[float]] = {label: [] for label in frames}
        for round_ in range(REPEATS):
            for label, frame in frames.items():
                arguments = {"count": WRITES, "from": 1000 * (round_ + 1)}
                times[label] += frame.evaluate(SEQUENTIAL_WRITES, arguments)
            log(f"writes, round {round_ + 1}/{REPEATS}: "
                f"{ {label: median(t) for label, t in times.items()} }")  # fmt: skip
    finally:
        visitor.close()
        for context in (alone, paired[0], paired[2].context):
            context.close()
    figures = {
        label: {"median_ms": median(values), "p99_ms": p99(values), "writes": len(values)}
        for label, values in times.items()
    }
    figures["cost_median_ms"] = round(
        figures["with_standby"]["median_ms"] - figures["without_standby"]["median_ms"], 2
    )
    figures["ratio"] = round(
        figures["with_standby"]["median_ms"] / figures["without_standby"]["median_ms"], 2
    )
    return figures


def failover(browser: Browser, service: str, case: str, n: int) -> float:
    """One failover of ``case``: seconds from the loss to the first write the standby answered
    (for a planned move, the longest a write waited)."""
    name = f"fo-{case.split()[0]}-{n}"
    owner, server, standby = serving_with_standby(browser, service, name)
    visitor = browser.new_context()
    try:
        frame = start_writing(visitor, site_url(service, name))
        lost = time.time()
        if case == "crashed":
            lost = crash(server)
        elif case == "closed":
            server.close()
        else:
            server.get_by_role("button", name="Move serving to").click()
        expect(standby.get_by_role("status")).to_have_text("Serving", timeout=BOOT_TIMEOUT)
        writes = writes_after(frame, lost)
        if case == "planned move":
            answered = [write["at"] for write in writes]
            return max(b - a for a, b in itertools.pairwise(answered)) / 1000
        return recovery_seconds(writes, lost)
    finally:
        for context in (visitor, standby.context, owner):
            context.close()


def bench_standby(browser: Browser) -> dict[str, Any]:
    """Write latency with and without a standby, and failover times, with a service of its own
    (the default lease; the Ledger site of the tests)."""
    with peerserver_service(TEST_SITES) as (service, _process):
        results: dict[str, Any] = {"writes": write_latency(browser, service)}
        log(f"writes: {results['writes']}")
        times: dict[str, list[float]] = {}
        for case in ("closed", "crashed", "planned move"):
            for n in range(max(3, REPEATS // 2)):
                times.setdefault(case, []).append(failover(browser, service, case, n))
                log(f"failover, {case} {n + 1}: {times[case][-1]:.2f} s")
    results["failover_seconds"] = {case: median(values) for case, values in times.items()}
    results["lease_seconds"] = DEFAULT_LEASE_SECONDS
    return results
