"""A 100 MB send_file download streams through the whole path with flat memory on both tabs.

The figures (MB/s, memory peaks, and the raw data-channel throughput between the same two tabs
in the same run) are printed and written to build/measurements/download-100mb.json.
"""

from __future__ import annotations

import json

import pytest
from playwright.sync_api import Browser, expect

from tests.conftest import serve_site
from tests.harness import REPO
from tests.measure import (
    download,
    heap_peak_mb,
    raw_channel_throughput,
    site_frame,
    start_heap_watch,
    worker_memory_mb,
)

pytestmark = pytest.mark.e2e

SIZE = 100 * 1024 * 1024
# A download held in memory anywhere on the way would grow a heap by the whole file (105 MB);
# streaming leaves only what the garbage collector has not yet reclaimed.
FLAT_GROWTH_MB = 50


def test_a_100_mb_download_streams_with_flat_memory(browser: Browser, service_url: str) -> None:
    served = serve_site(browser, service_url, "bulk", "web")
    visitor = browser.new_context()
    try:
        page = visitor.new_page()
        page.goto(served.url)
        site = page.frame_locator("#site")
        expect(site.get_by_role("heading", name="Web test site")).to_be_visible()
        frame = site.locator("html")
        # The site writes its 100 MB file on first use: do that before measuring.
        assert (
            frame.evaluate("async () => (await fetch('/big.bin', {method: 'HEAD'})).status") == 200
        )

        raw_mb_s = raw_channel_throughput(served.server, page)
        worker_before = worker_memory_mb(served.server)
        visitor_start = start_heap_watch(page)
        server_start = start_heap_watch(served.server)
        result = download(site_frame(page), "/big.bin")
        visitor_peak = heap_peak_mb(page)
        server_peak = heap_peak_mb(served.server)
        worker_after = worker_memory_mb(served.server)
    finally:
        visitor.close()
        served.context.close()

    assert result["bytes"] == SIZE
    assert result["exact"]
    download_mb_s = SIZE / 1_000_000 / (result["ms"] / 1000)
    figures = {
        "download_mb_per_s": round(download_mb_s, 1),
        "raw_channel_mb_per_s": round(raw_mb_s, 1),
        "download_to_raw_ratio": round(download_mb_s / raw_mb_s, 2),
        "visitor_tab_js_heap_mb_start": round(visitor_start, 1),
        "visitor_tab_js_heap_peak_mb": round(visitor_peak, 1),
        "server_tab_js_heap_mb_start": round(server_start, 1),
        "server_tab_js_heap_peak_mb": round(server_peak, 1),
        "server_worker_memory_mb_before": round(worker_before, 1),
        "server_worker_memory_mb_after": round(worker_after, 1),
    }
    out = REPO / "build" / "measurements"
    out.mkdir(parents=True, exist_ok=True)
    (out / "download-100mb.json").write_text(json.dumps(figures, indent=2) + "\n")
    print("100 MB download:", json.dumps(figures))

    assert visitor_peak - visitor_start < FLAT_GROWTH_MB
    assert server_peak - server_start < FLAT_GROWTH_MB
    assert worker_after - worker_before < FLAT_GROWTH_MB
