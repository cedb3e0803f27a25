"""Load on the signaling service: how many WebSocket clients one process holds, its memory per
client, and how many handshakes (an offer to the server tab and its answer back) it relays per
second. The clients are Python `websockets` peers speaking the visitors' and server tab's
protocol; the service is a real `peerserver serve` process."""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import websockets

NAME = "signal-bench"
CLIENT_STEPS = (500, 1000, 2000, 4000)
HANDSHAKE_VISITORS = 50
HANDSHAKE_SECONDS = 5.0
# An SDP of the size Chromium sends for one data channel with host candidates (about 600 B).
SDP = "v=0\r\n" + "a=candidate:1 1 udp 2122260223 192.0.2.1 54400 typ host generation 0\r\n" * 8


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


async def answer_every_offer(server: Any) -> None:
    async for raw in server:
        message = json.loads(raw)
        if message.get("type") == "signal":
            reply = {"type": "answer", "sdp": SDP}
            await server.send(json.dumps({"type": "signal", "to": message["from"], "data": reply}))


async def visitor(base: str) -> Any:
    socket = await websockets.connect(f"{base}ws/visit/{NAME}", open_timeout=30)
    status = json.loads(await asyncio.wait_for(socket.recv(), 30))
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
            reply = json.loads(await asyncio.wait_for(socket.recv(), 30))
            if reply.get("type") != "signal":
                raise RuntimeError(f"unexpected reply: {reply}")
            times.append((time.perf_counter() - started) * 1000)

    started = time.monotonic()
    await asyncio.gather(*(offer_loop(socket) for socket in sockets))
    elapsed = time.monotonic() - started
    await asyncio.gather(*(socket.close() for socket in sockets))
    return {
        "handshakes_per_s": round(len(times) / elapsed, 1),
        "handshake_median_ms": round(statistics.median(times), 2),
        "concurrent_visitors": HANDSHAKE_VISITORS,
    }


async def clients_held(base: str, pid: int) -> dict[str, Any]:
    """Open visitors' sockets in steps; RSS of the service at each step."""
    baseline = rss_mb(pid)
    sockets: list[Any] = []
    steps = []
    failure = None
    for target in CLIENT_STEPS:
        try:
            while len(sockets) < target:
                batch = min(200, target - len(sockets))
                sockets += await asyncio.gather(*(visitor(base) for _ in range(batch)))
        except (OSError, TimeoutError, websockets.WebSocketException) as error:
            failure = f"{type(error).__name__} after {len(sockets)} clients: {error}"
            break
        await asyncio.sleep(1)  # let the service settle before reading its memory
        steps.append({"clients": len(sockets), "service_rss_mb": round(rss_mb(pid), 1)})
    held = len(sockets)
    await asyncio.gather(*(socket.close() for socket in sockets), return_exceptions=True)
    last = steps[-1] if steps else {"clients": 0, "service_rss_mb": baseline}
    per_client = (last["service_rss_mb"] - baseline) * 1024 / max(1, last["clients"])
    return {
        "clients_held": held,
        "limit_reached": failure or f"none up to {CLIENT_STEPS[-1]} (the benchmark's cap)",
        "service_rss_mb_idle": round(baseline, 1),
        "memory_per_client_kb": round(per_client, 1),
        "steps": steps,
    }


async def signaling_figures(ws_base: str, pid: int) -> dict[str, Any]:
    server = await websockets.connect(f"{ws_base}ws/server", open_timeout=30)
    await server.send(json.dumps({"type": "register", "name": NAME, "token": "bench-" * 4}))
    registered = json.loads(await asyncio.wait_for(server.recv(), 30))
    if registered.get("type") != "registered":
        raise RuntimeError(f"could not register {NAME}: {registered}")
    answering = asyncio.create_task(answer_every_offer(server))
    try:
        figures = await handshakes(ws_base)
        figures.update(await clients_held(ws_base, pid))
    finally:
        answering.cancel()
        await server.close()
    return figures
