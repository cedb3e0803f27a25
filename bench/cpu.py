"""Where the machine's cores go during a benchmark: CPU time of each process the bench started
(Chromium's browser, renderers, GPU and network processes, `flask run`, the service), read from
/proc, and the share of all cores busy.

Latency and throughput are compared with `flask run` on the same two cores, so what a request
costs in CPU, summed over every process on its path, bounds how many the machine can answer
per second, whatever the code does with its time.
"""

from __future__ import annotations

import bisect
import os
import threading
import time
from pathlib import Path
from typing import Any

from playwright.sync_api import Page

TICKS_PER_S = os.sysconf("SC_CLK_TCK")
BURST_MS = 400  # busy time that singles out a page's renderer among the others


def _stat_fields(stat: int | str) -> list[str]:
    text = Path(f"/proc/{stat}/stat").read_text()
    return text[text.rindex(")") + 2 :].split()  # the name in parentheses may hold spaces


def _cpu_s(stat: str) -> float:
    fields = _stat_fields(stat)  # fields[0] is the state, so utime and stime are [11] and [12]
    return (int(fields[11]) + int(fields[12])) / TICKS_PER_S


def threads_cpu_s(pid: int) -> dict[str, float]:
    """CPU seconds of a process's threads, summed by thread name (Chromium names its threads:
    CrRendererMain, DedicatedWorker thread, WebRTC's network and signaling threads, ...)."""
    times: dict[str, float] = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            name = (task / "comm").read_text().strip()
            times[name] = times.get(name, 0.0) + _cpu_s(f"{pid}/task/{task.name}")
        except (FileNotFoundError, ProcessLookupError):
            continue  # the thread ended
    return times


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                tree.setdefault(int(_stat_fields(int(entry.name))[1]), []).append(int(entry.name))
            except (FileNotFoundError, ProcessLookupError):
                continue  # gone while the tree was read
    return tree


def descendants(root: int) -> list[int]:
    tree, found, todo = _children(), [], [root]
    while todo:
        for child in tree.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kind(pid: int) -> str:
    """A process's part: Chromium's by its --type (the network service apart), else its program."""
    arguments = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    words = [argument.decode(errors="replace") for argument in arguments if argument]
    if not words:
        return "processes that ended meanwhile"  # a zombie's command line is empty
    types = [word.split("=", 1)[1] for word in words if word.startswith("--type=")]
    if "chrom" in Path(words[0]).name:
        if not types:
            return "Chromium browser process"
        if any("NetworkService" in word for word in words):
            return "Chromium network service"
        return {"gpu-process": "Chromium GPU process"}.get(types[0], f"Chromium {types[0]}")
    if any(word == "flask" for word in words):
        return "flask run"
    if any(word in ("signaling", "serve") for word in words):
        return "PeerServer service"
    return Path(words[0]).name


def cpu_times() -> dict[int, float]:
    """CPU seconds so far of every process under this one (Playwright's driver and browser)."""
    times = {}
    for pid in descendants(os.getpid()):
        try:
            times[pid] = _cpu_s(pid)
        except (FileNotFoundError, ProcessLookupError):
            continue
    return times


def machine_busy_s() -> float:
    """CPU seconds all cores have been busy since boot (neither idle nor waiting for I/O)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle, iowait = fields[3], fields[4]
    return (sum(fields[:8]) - idle - iowait) / TICKS_PER_S


def renderer_of(page: Page, attempts: int = 5) -> int:
    """The renderer process running ``page``: the one that grows by a burst of busy JavaScript
    (and only it: if another process was as busy meanwhile, the burst is tried again)."""
    for _ in range(attempts):
        before = cpu_times()
        page.evaluate(
            "(ms) => { const end = performance.now() + ms; while (performance.now() < end); }",
            BURST_MS,
        )
        after = cpu_times()
        busy = [pid for pid in after if after[pid] - before.get(pid, 0.0) > BURST_MS / 1000 / 2]
        if len(busy) == 1:
            return busy[0]
    raise RuntimeError("the page's renderer could not be told apart from other busy processes")


class CpuAccount:
    """The CPU time every process spends inside a ``with`` block, per kind of process (the pids
    of ``named`` under their own name, and thread by thread), and how many of the machine's
    cores were busy."""

    def __init__(self, named: dict[int, str]) -> None:
        self.named = named
        self.spent: dict[str, float] = {}
        self.threads: dict[str, dict[str, float]] = {}
        self.cores_busy = 0.0

    def __enter__(self) -> CpuAccount:
        threads = {pid: threads_cpu_s(pid) for pid in self.named}
        self.started = (os.times().elapsed, machine_busy_s(), cpu_times(), threads)
        return self

    def __exit__(self, *exc_info: object) -> None:
        wall, busy, before, threads_before = self.started
        after = cpu_times()
        self.cores_busy = (machine_busy_s() - busy) / (os.times().elapsed - wall)
        for pid, seconds in after.items():
            try:
                label = self.named.get(pid) or kind(pid)
            except (FileNotFoundError, ProcessLookupError):
                continue
            self.spent[label] = self.spent.get(label, 0.0) + seconds - before.get(pid, 0.0)
        for pid, label in self.named.items():
            was = threads_before[pid]
            now = threads_cpu_s(pid)
            self.threads[label] = {name: now[name] - was.get(name, 0.0) for name in now}

    def per_request(self, requests: int) -> dict[str, Any]:
        """Milliseconds of CPU per request by kind of process, busiest first, then the total,
        the cores busy and, for the named processes, their busiest threads."""

        def per(spent: dict[str, float]) -> dict[str, float]:
            ordered = sorted(spent.items(), key=lambda item: -item[1])
            return {label: round(s * 1000 / requests, 2) for label, s in ordered if s > 0}

        figures: dict[str, Any] = per(self.spent)
        figures["total"] = round(sum(self.spent.values()) * 1000 / requests, 2)
        figures["cores busy (machine)"] = round(self.cores_busy, 2)
        figures["threads"] = {
            label: {name: ms for name, ms in per(threads).items() if ms >= 0.05}
            for label, threads in self.threads.items()
        }
        return figures


QUIET_CORES = 0.3  # busy cores, over QUIET_WINDOW_S, below which the machine counts as quiet
QUIET_WINDOW_S = 0.5


def wait_until_quiet(timeout_s: float = 15) -> float:
    """Wait until the machine is quiet: what a tab did before (Python's WebAssembly compiled to
    its top tier in the background for a second or so after a boot, a snapshot kept) is over, so
    that a measure starting now is of the path measured alone. Returns the busy cores of the
    last window (at most ``timeout_s``: then whatever the machine is doing stays)."""
    deadline = time.monotonic() + timeout_s
    while True:
        start = machine_busy_s()
        time.sleep(QUIET_WINDOW_S)
        busy = (machine_busy_s() - start) / QUIET_WINDOW_S
        if busy < QUIET_CORES or time.monotonic() >= deadline:
            return round(busy, 2)


class BusySampler:
    """How busy the machine's cores were between two instants measured elsewhere (a page's
    clock, in seconds since the epoch): /proc/stat sampled every 10 ms in a thread while the
    ``with`` block runs."""

    INTERVAL_S = 0.01

    def __init__(self) -> None:
        self.samples: list[tuple[float, float]] = []  # (time.time(), machine_busy_s())
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), machine_busy_s()))
            self._stop.wait(self.INTERVAL_S)

    def __enter__(self) -> BusySampler:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()

    def cores_busy(self, start_s: float, end_s: float) -> float:
        """The average number of busy cores from ``start_s`` to ``end_s``."""
        times = [at for at, _ in self.samples]
        first = max(0, bisect.bisect_right(times, start_s) - 1)
        last = min(len(times) - 1, bisect.bisect_left(times, end_s))
        (t0, busy0), (t1, busy1) = self.samples[first], self.samples[last]
        return round((busy1 - busy0) / (t1 - t0), 2) if t1 > t0 else 0.0
