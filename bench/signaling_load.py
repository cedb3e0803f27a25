"""Load on the signaling service: how many WebSocket clients it holds, its memory per client, and
how many handshakes (an offer to the server tab and its answer back) it relays per second —
once as one process with the embedded store, once as two instances sharing one Redis, the
server tab on the first and the handshaking visitors on the second, so that every offer and
answer crosses between instances. The clients are Python `websockets` peers speaking the
visitors' and server tab's protocol; the services are real `peerserver serve` processes."""

from __future__ import annotations

import asyncio
import itertools
import json
import statistics
import time
from pathlib import Path
from typing import Any

import websockets

NAME = "signal-bench"
CLIENT_STEPS = (1000, 2500, 5000, 10000)
HANDSHAKE_VISITORS = 50
HANDSHAKE_SECONDS = 5.0
# An SDP of the size Chromium sends for one data channel with host candidates (about 600 B).
SDP = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host generation 0\r\n" * 8


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def receive(socket: Any, kind: str) -> dict[str, Any]:
    """The next message of type ``kind`` (the ICE servers every peer gets first are skipped)."""
    while True:
        message = json.loads(await asyncio.wait_for(socket.recv(), 30))
        if message.get("type") == kind:
            return message
        if message.get("type") != "ice-servers":
            raise RuntimeError(f"expected {kind}, got {message}")


async def answer_every_offer(server: Any) -> None:
    async for raw in server:
        message = json.loads(raw)
        if message.get("type") == "signal":
            reply = {"type": "answer", "sdp": SDP}
            await server.send(json.dumps({"type": "signal", "to": message["from"], "data": reply}))


async def visitor(base: str) -> Any:
    socket = await websockets.connect(f"{base}ws/visit/{NAME}", open_timeout=30)
    status = await receive(socket, "server-status")
    if not status.get("online"):
        raise RuntimeError(f"the bench server is not online: {status}")
    return socket


async def handshakes(base: str) -> dict[str, float]:
    """Visitors each send offers one after another; count answered ones per second."""
    sockets = await asyncio.gather(*(visitor(base) for _ in range(HANDSHAKE_VISITORS)))
    times: list[float] = []
    deadline = time.monotonic() + HANDSHAKE_SECONDS

    async def offer_loop(socket: Any) -> None:
        while time.monotonic() < deadline:
            started = time.perf_counter()
            await socket.send(json.dumps({"type": "signal", "data": {"type": "offer", "sdp": SDP}}))
            await receive(socket, "signal")
            times.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(offer_loop(socket) for socket in sockets))
    elapsed = time.monotonic() - started
    await asyncio.gather(*(socket.close() for socket in sockets))
    return {
        "handshakes_per_s": round(len(times) / elapsed, 1),
        "handshake_median_ms": round(statistics.median(times), 2),
        "handshake_p99_ms": round(statistics.quantiles(times, n=100)[98], 2),
        "concurrent_visitors": HANDSHAKE_VISITORS,
    }


async def clients_held(bases: list[str], pids: list[int]) -> dict[str, Any]:
    """Open visitors' sockets in steps, spread evenly over the instances; their memory (RSS
    summed over the processes ``pids``) at each step."""
    baseline = sum(rss_mb(pid) for pid in pids)
    spread = itertools.cycle(bases)
    sockets: list[Any] = []
    steps = []
    failure = None
    for target in CLIENT_STEPS:
        try:
            while len(sockets) < target:
                batch = min(200, target - len(sockets))
                sockets += await asyncio.gather(*(visitor(next(spread)) for _ in range(batch)))
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            failure = f"{type(error).__name__} after {len(sockets)} clients: {error}"
            break
        await asyncio.sleep(1)  # let the services settle before reading their memory
        steps.append({"clients": len(sockets), "rss_mb": round(sum(rss_mb(p) for p in pids), 1)})
    held = len(sockets)
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    last = steps[-1] if steps else {"clients": 0, "rss_mb": baseline}
    per_client = (last["rss_mb"] - baseline) * 1024 / max(1, last["clients"])
    return {
        "clients_held": held,
        "limit_reached": failure or f"none up to {CLIENT_STEPS[-1]} (the benchmark's cap)",
        "rss_mb_idle": round(baseline, 1),
        "memory_per_client_kb": round(per_client, 1),
        "steps": steps,
    }


async def signaling_figures(bases: list[str], pids: list[int]) -> dict[str, Any]:
    """The figures for services at the WebSocket URLs ``bases`` (processes ``pids``): the server
    tab registers on the first, handshakes come from visitors on the last."""
    server = await websockets.connect(f"{bases[0]}ws/server", open_timeout=30)
    await receive(server, "ice-servers")
    await server.send(json.dumps({"type": "register", "name": NAME, "token": "bench-" * 4}))
    await receive(server, "registered")
    answering = asyncio.create_task(answer_every_offer(server))
    try:
        figures: dict[str, Any] = {"instances": len(bases)}
        figures.update(await handshakes(bases[-1]))
        figures.update(await clients_held(bases, pids))
    finally:
        answering.cancel()
        await server.close()
    return figures
