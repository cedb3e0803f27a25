"""Measuring real tabs: raw data-channel throughput between two pages, and memory peaks.

Used by the end-to-end tests that report figures and by the benchmarks; nothing here asserts.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import time
from typing import Any

from playwright.sync_api import Browser, Frame, Page
from playwright.sync_api import Error as PlaywrightError

MB = 1_000_000


def in_tab(page: Page, script: str) -> list[Any]:
    """What ``script`` gives in a tab's page and in each of its workers, where the channels may
    be: a server tab's visitors' channels are held by its Python worker, and a visitor's by its
    shell's request worker, where the browser can hand them over, else by the page. A worker
    that ended meanwhile gives nothing."""
    results = []
    for context in [page, *page.workers]:
        with contextlib.suppress(PlaywrightError):
            results.append(context.evaluate(script))
    return results


# Run in a visitor's pages before their scripts: its shells answer the site's requests on their
# page, as in a browser that cannot hand a data channel to a worker, not in their request worker.
REQUESTS_ON_PAGE = "sessionStorage.setItem('peerserver.requests', 'page')"
# A visitor shell's pool of HTTP channels (runtime/visitor/channel-pool.js): in its request
# worker, or on the page.
SHELL_POOL = "(globalThis.peerServerRequests ?? globalThis.peerServerClient?.requests)?.pool"


def shell_pool(shell: Page, attribute: str) -> Any:
    """``attribute`` of the visitor shell ``shell``'s pool of channels (None if it has none)."""
    found = in_tab(shell, f"() => {SHELL_POOL}?.{attribute} ?? null")
    return next((value for value in found if value is not None), None)


_OFFER = """async () => {
    const pc = new RTCPeerConnection({iceServers: []});
    window.__rawPc = pc;
    window.__rawChannel = pc.createDataChannel("raw", {ordered: true});
    await pc.setLocalDescription(await pc.createOffer());
    await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
        setTimeout(resolve, 3000);
    });
    return pc.localDescription.toJSON();
}"""

_ANSWER = """async ({offer, total}) => {
    const pc = new RTCPeerConnection({iceServers: []});
    window.__rawPc = pc;
    window.__rawDone = new Promise((resolve) => {
        pc.ondatachannel = ({channel}) => {
            channel.binaryType = "arraybuffer";
            let received = 0, first = 0;
            channel.onmessage = ({data}) => {
                if (!first) first = performance.now();
                received += data.byteLength;
                if (received >= total) resolve({bytes: received, ms: performance.now() - first});
            };
        };
    });
    await pc.setRemoteDescription(offer);
    await pc.setLocalDescription(await pc.createAnswer());
    await new Promise((resolve) => {
        if (pc.iceGatheringState === "complete") return resolve();
        pc.onicegatheringstatechange = () => pc.iceGatheringState === "complete" && resolve();
        setTimeout(resolve, 3000);
    });
    return pc.localDescription.toJSON();
}"""

_SEND = """async ({answer, total, size}) => {
    const pc = window.__rawPc, channel = window.__rawChannel;
    await pc.setRemoteDescription(answer);
    if (channel.readyState !== "open") {
        await new Promise((resolve) => channel.addEventListener("open", resolve, {once: true}));
    }
    const message = new Uint8Array(size);
    channel.bufferedAmountLowThreshold = 256 * 1024;
    for (let sent = 0; sent < total; sent += size) {
        if (channel.bufferedAmount > 1024 * 1024) {
            await new Promise((resolve) => {
                channel.addEventListener("bufferedamountlow", resolve, {once: true});
            });
        }
        channel.send(message);
    }
}"""


def raw_channel_throughput(
    sender: Page, receiver: Page, total: int = 100 * MB, message_size: int = 64 * 1024
) -> float:
    """One-way MB/s on a fresh data channel from ``sender`` to ``receiver``, 64 KiB messages
    with bufferedAmount backpressure: the ceiling any HTTP transfer between them can reach."""
    offer = sender.evaluate(_OFFER)
    answer = receiver.evaluate(_ANSWER, {"offer": offer, "total": total})
    sender.evaluate(_SEND, {"answer": answer, "total": total, "size": message_size})
    result = receiver.evaluate("async () => window.__rawDone")
    for page in (sender, receiver):
        page.evaluate("() => window.__rawPc.close()")
    return result["bytes"] / MB / (result["ms"] / 1000)


def start_heap_watch(page: Page) -> float:
    """Record the page's peak JS heap (its frames included) every 50 ms from now on.

    Returns the heap in use now, in MB, after a garbage collection where the browser allows one
    (Chromium started with ``--js-flags=--expose-gc``).
    """
    return (
        page.evaluate(
            """() => {
            globalThis.gc?.();
            window.__heapPeak = performance.memory.usedJSHeapSize;
            clearInterval(window.__heapTimer);
            window.__heapTimer = setInterval(() => {
                window.__heapPeak = Math.max(window.__heapPeak, performance.memory.usedJSHeapSize);
            }, 50);
            return window.__heapPeak;
        }"""
        )
        / MB
    )


def heap_peak_mb(page: Page) -> float:
    """The peak recorded since :func:`start_heap_watch`, in MB."""
    return (
        page.evaluate("() => { clearInterval(window.__heapTimer); return window.__heapPeak; }") / MB
    )


def worker_memory_mb(server: Page) -> float:
    """The Python worker's WebAssembly memory (Python's heap and its in-memory files), in MB."""
    stats = server.evaluate("async () => window.peerServerHost.workerStats()")
    return stats["memoryBytes"] / MB


_DOWNLOAD = """async (path) => {
    const started = performance.now();
    const reader = (await fetch(path)).body.getReader();
    let bytes = 0, exact = true;
    for (;;) {
        const {done, value} = await reader.read();
        if (done) break;
        for (let i = 0; i < value.length; i += 4093) {
            exact &&= value[i] === (bytes + i) % 256;
        }
        bytes += value.length;
    }
    return {bytes, exact, ms: performance.now() - started};
}"""


def download(frame: Frame, path: str) -> dict:
    """Fetch ``path`` from a frame and read its body as it streams in: returns ``bytes``, ``ms``
    and ``exact``, whether sampled bytes follow the pattern ``byte[i] == i % 256``."""
    return frame.evaluate(_DOWNLOAD, path)


def site_frame(shell: Page) -> Frame:
    """The frame in which a visitor's client shell shows the site."""
    handle = shell.locator("#site").element_handle()
    frame = handle.content_frame() if handle else None
    if frame is None:
        raise RuntimeError("the shell shows no site frame")
    return frame


class ServiceWorkerMemory:
    """The memory of a site's service worker, its V8 heap and its ArrayBuffers' backing stores,
    read over the Chrome DevTools Protocol (Chromium only): a service worker has no
    ``performance.memory`` of its own."""

    def __init__(self, browser: Browser, site_url: str) -> None:
        self._cdp = browser.new_browser_cdp_session()
        targets = self._cdp.send("Target.getTargets")["targetInfos"]
        target = next(
            t for t in targets if t["type"] == "service_worker" and t["url"].startswith(site_url)
        )
        attached = self._cdp.send(
            "Target.attachToTarget", {"targetId": target["targetId"], "flatten": False}
        )
        self._session = attached["sessionId"]
        self._replies: dict[int, dict] = {}
        self._ids = itertools.count(1)
        self._cdp.on("Target.receivedMessageFromTarget", self._on_message)

    def _on_message(self, event: dict) -> None:
        message = json.loads(event["message"])
        if "id" in message:
            self._replies[message["id"]] = message

    def bytes_in_use(self, page: Page) -> int:
        """Heap in use plus backing stores; ``page`` is any page of the browser, to wait on."""
        ask = next(self._ids)
        command = {"id": ask, "method": "Runtime.getHeapUsage"}
        self._cdp.send(
            "Target.sendMessageToTarget",
            {"sessionId": self._session, "message": json.dumps(command)},
        )
        for _ in range(250):
            if ask in self._replies:
                usage = self._replies.pop(ask)["result"]
                return usage["usedSize"] + usage["backingStorageSize"]
            page.wait_for_timeout(20)
        raise TimeoutError("the service worker did not answer")


def page_isolate_bytes(page: Page) -> int:
    """The heap in use and ArrayBuffer backing stores of ``page`` and its same-origin frames
    (one V8 isolate), over the Chrome DevTools Protocol."""
    session = page.context.new_cdp_session(page)
    try:
        usage = session.send("Runtime.getHeapUsage")
    finally:
        session.detach()
    return usage["usedSize"] + usage["backingStorageSize"]


_SNAPSHOT_RECORD = """(change) => new Promise((resolve, reject) => {
    const opening = indexedDB.open("peerserver-python", 1);
    opening.onerror = () => reject(opening.error);
    opening.onupgradeneeded = () => opening.result.createObjectStore("snapshots");
    opening.onsuccess = () => {
        const store = opening.result.transaction("snapshots", "readwrite").objectStore("snapshots");
        const reading = store.get("latest");
        reading.onsuccess = () => {
            const record = reading.result;
            if (!record) return resolve(null);
            const size = record.blob.size;
            if (change) {
                record.blob = new Blob([new Uint8Array(size).fill(7)]);
                store.put(record, "latest");
            }
            store.transaction.oncomplete = async () => resolve({ key: record.key, size,
                first: new Uint8Array(await record.blob.slice(0, 1).arrayBuffer())[0] });
        };
    };
})"""


def kept_snapshot(page: Page, overwrite: bool = False) -> dict:
    """The snapshot this browser keeps, once the server tab has saved it; ``overwrite`` fills
    its memory with garbage, its key left as it was."""
    deadline = time.monotonic() + 30
    while (record := page.evaluate(_SNAPSHOT_RECORD, overwrite)) is None:
        if time.monotonic() > deadline:
            raise TimeoutError("no Python snapshot was kept in 30 s")
        time.sleep(0.2)
    return record
