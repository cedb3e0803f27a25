"""A live page as Starlette's documentation writes one: a chat room over a WebSocket, an echo
socket, a clock that ticks, a worker of the page's that opens a socket of its own, and a
handler with a bug that never yields."""

import asyncio

from starlette.applications import Starlette
from starlette.responses import FileResponse, PlainTextResponse
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

room: dict[WebSocket, str] = {}
endings: list[str] = []  # how each echo socket ended, newest last


async def broadcast(line: str) -> None:
    for member in list(room):
        await member.send_text(line)


async def chat(websocket: WebSocket) -> None:
    await websocket.accept()
    name = websocket.query_params.get("name", "someone")
    room[websocket] = name
    await broadcast(f"{name} joined")
    try:
        async for line in websocket.iter_text():
            await broadcast(f"{name}: {line}")
    except WebSocketDisconnect:
        pass
    finally:
        room.pop(websocket, None)
    await broadcast(f"{name} left")


async def echo(websocket: WebSocket) -> None:
    offered = websocket.scope["subprotocols"]
    await websocket.accept(subprotocol="echo.v1" if "echo.v1" in offered else None)
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            endings.append(f"visitor closed {message['code']}")
            return
        text = message.get("text")
        if text is not None and text.startswith("close:"):
            _, code, reason = text.split(":", 2)
            await websocket.close(int(code), reason)
            endings.append(f"app closed {code}")
            return
        if text is not None:
            await websocket.send_text(text)
        else:
            await websocket.send_bytes(message["bytes"])


async def clock(websocket: WebSocket) -> None:
    await websocket.accept()
    tick = 0
    while True:
        await asyncio.sleep(0.2)
        await websocket.send_text(f"tick {tick}")
        tick += 1


async def stuck(websocket: WebSocket) -> None:
    """A handler with a bug: its first message sends it into a loop that never yields."""
    await websocket.accept()
    await websocket.receive_text()
    while True:
        pass


async def home(request):
    return FileResponse("static/index.html")


async def how_sockets_ended(request):
    return PlainTextResponse("\n".join(endings))


app = Starlette(
    routes=[
        Route("/", home),
        Route("/endings", how_sockets_ended),
        WebSocketRoute("/chat", chat),
        WebSocketRoute("/echo", echo),
        WebSocketRoute("/clock", clock),
        WebSocketRoute("/stuck", stuck),
        Mount("/static", StaticFiles(directory="static")),
    ]
)
