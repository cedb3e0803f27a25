"""The signaling service: FastAPI edges around :class:`signaling.hub.Hub`.

Two kinds of origin are served by one process, both derived from the public URL
(:mod:`signaling.public_url`):

* the service's own origin (``https://example.org``, by default ``http://localhost:PORT``):
  the home page, server tabs, the runtime bundle, name checks, the server tabs' signaling
  WebSocket, and the packages a site's ``requirements.txt`` asks for;
* one origin per site (``https://NAME.example.org``): the client shell for every navigation,
  its assets and service worker under ``/__ps/``, and the visitors' signaling WebSocket.

Behind a TLS-terminating reverse proxy, uvicorn takes the scheme from ``X-Forwarded-Proto``
only when the proxy's address is trusted (``peerserver serve --trusted-proxy``). A request
that still arrives as plain HTTP while the public URL is HTTPS is sent to the HTTPS address.
"""

from __future__ import annotations

import contextlib
import json
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI, HTTPException, Request, WebSocket
from fastapi.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.datastructures import Headers
from starlette.middleware.cors import CORSMiddleware
from starlette.routing import Host, Mount, Route, Router, WebSocketRoute, request_response
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope
from starlette.types import Send as ASGISend
from starlette.websockets import WebSocketDisconnect

from signaling.bundle import is_content_named
from signaling.hub import Hub, SendMessage
from signaling.limits import Limits
from signaling.locations import ASSETS, DEFAULT_BUNDLE
from signaling.messages import error
from signaling.names import name_problem
from signaling.operator import KEY_HEADER, OPERATOR_PATH, authorized, operate
from signaling.packages.fairness import Busy
from signaling.packages.service import MAX_REQUIREMENTS_BYTES, PackageService, PackageSettings
from signaling.public_url import PublicURL
from signaling.site_templates import Templates
from signaling.stores import StoreUnavailable

WEB = ASSETS / "web"
RUNTIME = ASSETS / "runtime"
SHELL_PREFIX = "/__ps"
HEALTH_PATH = "/healthz"
_NO_CACHE = {"Cache-Control": "no-cache"}
# What never changes under its name: kept a year, and not asked for again meanwhile.
_IMMUTABLE = {"Cache-Control": "public, max-age=31536000, immutable"}
_NDJSON = "application/x-ndjson"


class NoCacheStaticFiles(StaticFiles):
    """Static files revalidated on every use, so an updated file is never stale."""

    def file_response(self, *args: Any, **kwargs: Any) -> Response:
        response = super().file_response(*args, **kwargs)
        response.headers.update(_NO_CACHE)
        return response


def accepts_gzip(accept_encoding: str) -> bool:
    """Whether a request's Accept-Encoding (RFC 9110, 12.5.3) takes gzip: named, or "*", with
    a weight above 0 (``gzip;q=0`` refuses it, even beside ``*``)."""
    weights = {}
    for item in accept_encoding.split(","):
        coding, _, parameters = item.strip().partition(";")
        weight = 1.0
        name, _, value = parameters.strip().partition("=")
        if name.strip().lower() == "q":
            try:
                weight = float(value)
            except ValueError:
                weight = 0.0
        weights[coding.strip().lower()] = weight
    named = weights.get("gzip", weights.get("x-gzip"))
    return (named if named is not None else weights.get("*", 0.0)) > 0


class BundleFiles(NoCacheStaticFiles):
    """The built bundle's files. With ``gzipped``, where the build left a gzipped copy beside
    a file (NAME.gz: see signaling.bundle), a browser that takes gzip gets that, as from
    nginx's gzip_static: a server tab's first boot then fetches about half the bytes, and the
    service spends no time compressing. Not for a service only this machine reaches: there is
    no network to spare there, and a browser decodes what it cached at every later boot too
    (measured over loopback: +230 ms for a first boot, +75 ms for a later one).

    A chunk named by its content (signaling.bundle's is_content_named) is sent as immutable:
    a later boot reads the pages' chunks from its cache without asking again (a later boot in
    a browser profile took 824 ms against 866, medians of 12 over loopback)."""

    def __init__(self, *, gzipped: bool, **options: Any) -> None:
        super().__init__(**options)
        self.gzipped = gzipped

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        response = None
        if self.gzipped and accepts_gzip(Headers(scope=scope).get("accept-encoding", "")):
            gzipped = f"{full_path}.gz"
            with contextlib.suppress(FileNotFoundError):
                # Its type is the file's (mimetypes reads "x.wasm.gz" as application/wasm).
                response = super().file_response(gzipped, os.stat(gzipped), scope, status_code)
                if response.status_code != 304:
                    response.headers["Content-Encoding"] = "gzip"
        if response is None:
            response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.add_vary_header("Accept-Encoding")
        if is_content_named(os.path.basename(full_path)):
            response.headers.update(_IMMUTABLE)
        return response


def _page(name: str) -> str:
    """A page of web/; its module is one of the bundle's, built with all it imports
    (signaling.bundle)."""
    return (WEB / name).read_text(encoding="utf-8")


def readable_anywhere(app: ASGIApp) -> ASGIApp:
    """Let any origin read what ``app`` serves: the server tab's Python worker has an opaque
    origin of its own (so that a site's code cannot reach the owner's other sites), and loads
    the runtime, the bundle and packages from here. Nothing here depends on who asks."""
    return CORSMiddleware(
        app,
        allow_origins=["*"],
        allow_methods=["GET", "POST"],
        allow_headers=["Content-Type", "Authorization"],
    )


_RATE_LIMITED = error(
    "rate-limited", "Too many messages from your address: this one was dropped. Slow down."
)


async def run_socket(
    websocket: WebSocket,
    hub: Hub,
    limits: Limits,
    connect: Callable[[SendMessage, str], Awaitable[str]],
) -> None:
    """Carry one peer's WebSocket: its messages to the hub, the hub's to it, within the limits
    of its address (``connect`` is given how to send to it, and the address)."""
    address = websocket.client.host if websocket.client else "unknown"
    if not limits.open(address, time.monotonic()):
        await websocket.close(code=1008, reason="Too many connections from your address.")
        return

    async def send(message: dict[str, Any]) -> None:
        # A socket that is closing is cleaned up by its own loop below.
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            await websocket.send_json(message)

    try:
        await websocket.accept()
        peer = await connect(send, address)
    except BaseException:
        limits.close(address, time.monotonic())
        raise
    try:
        while True:
            event = await websocket.receive()
            if event["type"] == "websocket.disconnect":
                break
            if limits.message(address, time.monotonic()):
                await hub.receive(peer, event.get("text"))
            else:
                await send(_RATE_LIMITED)
    except WebSocketDisconnect:
        pass
    finally:
        limits.close(address, time.monotonic())
        # Even when the service is stopping: the peers it talked to are told it left.
        with anyio.move_on_after(10, shield=True):
            await hub.disconnect(peer)


class SecureOnly:
    """With an HTTPS public URL, send what arrives over plain HTTP to the HTTPS address.

    The redirect names the public host (or the site's subdomain of it), never the Host header
    as given, so that it cannot be turned into an open redirect."""

    def __init__(self, app: ASGIApp, public_url: PublicURL) -> None:
        self.app = app
        self.public_url = public_url

    async def __call__(self, scope: Scope, receive: Receive, send: ASGISend) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or scope["scheme"] in ("https", "wss")
            or scope["path"] == HEALTH_PATH  # a proxy or load balancer checks the backend
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "websocket":
            await send({"type": "websocket.close", "code": 1008, "reason": "Use wss://."})
            return
        host = dict(scope["headers"]).get(b"host", b"").decode("latin-1").split(":")[0]
        suffix = f".{self.public_url.host}"
        name = host[: -len(suffix)] if host.endswith(suffix) else ""
        valid = name and name_problem(name) is None
        origin = self.public_url.site_origin(name) if valid else self.public_url.origin
        query = scope["query_string"].decode("latin-1")
        target = origin + scope["raw_path"].decode("latin-1") + (f"?{query}" if query else "")
        await RedirectResponse(target, status_code=308)(scope, receive, send)


def create_app(
    bundle: Path = DEFAULT_BUNDLE,
    public_url: PublicURL | None = None,
    hub: Hub | None = None,
    extra_templates: Sequence[Path] = (),
    package_settings: PackageSettings | None = None,
    operator_key: str | None = None,
) -> FastAPI:
    """The whole service, at ``public_url`` (by default ``http://localhost:8000``).
    ``operator_key`` opens ``/api/operator`` to ``peerserver names`` (without one, it is shut)."""
    public_url = public_url or PublicURL.local(8000)
    hub = hub or Hub()
    limits = Limits(hub.limits)
    site_templates = Templates(extra_templates)
    packages = PackageService(bundle, package_settings, shared=hub.store)
    gzipped = not public_url.is_this_machine  # the bundle's gzipped copies (BundleFiles)

    # -- the service's own origin ----------------------------------------------------------

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "publicUrl": str(public_url)}, headers=_NO_CACHE)

    home_page = _page("home.html")
    server_page = _page("server-tab.html")

    async def home(request: Request) -> Response:
        return HTMLResponse(home_page, headers=_NO_CACHE)

    async def server_tab(request: Request) -> Response:
        return HTMLResponse(server_page, headers=_NO_CACHE)

    async def name_status(request: Request) -> Response:
        query = request.query_params
        try:
            status = await hub.name_status(query.get("name", ""), query.get("token"))
        except StoreUnavailable as problem:
            raise HTTPException(503, str(problem)) from None
        return JSONResponse(status)

    async def templates(request: Request) -> Response:
        return JSONResponse(site_templates.listing())

    async def template_archive(request: Request) -> Response:
        try:
            data = site_templates.zip(request.path_params["template"])
        except KeyError:
            raise HTTPException(404, "No such template.") from None
        return Response(data, media_type="application/zip", headers=_NO_CACHE)

    async def config(request: Request) -> Response:
        pyodide = packages.pyodide
        return JSONResponse(
            {
                "publicUrl": str(public_url),
                "siteUrl": public_url.site_origin("{name}") + "/",
                # Where the server tab's Pyodide loads Pyodide's own packages from, if it does.
                "pyodidePackages": pyodide.location
                if pyodide and pyodide.loaded_by_the_tab
                else None,
            }
        )

    async def ticket_holder(request: Request) -> str:
        """The name whose server tab sent this request (its package ticket), or a 401."""
        scheme, _, ticket = request.headers.get("authorization", "").partition(" ")
        name = None
        if scheme.lower() == "bearer":
            name = (await hub.tickets()).holder(ticket.strip(), time.time())
        if name is None:
            raise HTTPException(
                401,
                "The package service answers server tabs only: send the package ticket your "
                "tab got when it registered its name (Authorization: Bearer ...).",
            )
        return name

    async def resolve_packages(request: Request) -> Response:
        await ticket_holder(request)
        body = await request.body()
        if len(body) > MAX_REQUIREMENTS_BYTES:
            raise HTTPException(413, "requirements.txt is too large.")
        try:
            asked = json.loads(body)
            text, installed = asked["requirements"], asked.get("installed", {})
            if not isinstance(text, str) or not isinstance(installed, dict):
                raise TypeError
            if not all(isinstance(v, str) for v in [*installed, *installed.values()]):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            raise HTTPException(
                400, 'Expected {"requirements": "<text>", "installed": {"name": "version"}}.'
            ) from None
        # Lines of JSON: what the service is doing (so that the tab can show it), then the
        # answer, or the error that stopped it.
        cached = packages.cached(text, installed)
        if cached is not None:
            return Response(json.dumps({"result": cached}) + "\n", media_type=_NDJSON)
        address = request.client.host if request.client else "unknown"
        try:
            packages.admit(address)
        except Busy as busy:
            return JSONResponse(
                {"error": str(busy)}, 429, headers={"Retry-After": str(busy.retry_after)}
            )

        async def lines() -> AsyncIterator[str]:
            updates, received = anyio.create_memory_object_stream[str](64)

            async def progress(text: str) -> None:
                with contextlib.suppress(anyio.WouldBlock):
                    updates.send_nowait(json.dumps({"progress": text}) + "\n")

            async def work() -> None:
                async with updates:
                    try:
                        answer = {"result": await packages.run(text, installed, address, progress)}
                    except Busy as busy:
                        answer = {"error": str(busy), "retryAfter": busy.retry_after}
                    await updates.send(json.dumps(answer) + "\n")

            async with anyio.create_task_group() as tasks:
                tasks.start_soon(work)
                async with received:
                    async for line in received:
                        yield line

        return StreamingResponse(lines(), media_type=_NDJSON, headers=_NO_CACHE)

    async def package_file(request: Request) -> Response:
        # Named by its hash: whoever asks gets exactly the bytes a resolution chose.
        path = await packages.file(request.path_params["sha256"])
        if path is None:
            raise HTTPException(404, "No such package file.")
        return FileResponse(
            path,
            media_type="application/octet-stream",
            headers=_IMMUTABLE,
        )

    async def package_upgrade(request: Request) -> Response:
        await ticket_holder(request)
        name, version = request.query_params.get("name"), request.query_params.get("version")
        if not name or not version:
            raise HTTPException(400, "Give ?name=PACKAGE&version=PINNED.")
        return JSONResponse(await packages.upgrade(name, version))

    async def operator_action(request: Request) -> Response:
        # `peerserver names`: the operator's view of the names (see signaling.operator).
        if operator_key is None or not authorized(request.headers.get(KEY_HEADER), operator_key):
            raise HTTPException(401, "The operator key is needed.")
        try:
            body = await request.json()
            asked = [str(body.get(key, "")) for key in ("action", "name", "address")]
            result = await operate(hub, *asked)
        except (ValueError, AttributeError) as problem:
            raise HTTPException(400, str(problem)) from None
        return JSONResponse(result, headers=_NO_CACHE)

    async def server_socket(websocket: WebSocket) -> None:
        await run_socket(websocket, hub, limits, hub.connect_server)

    # -- a site's origin -------------------------------------------------------------------

    shell_page = _page("shell.html")

    async def shell(request: Request) -> Response:
        return HTMLResponse(shell_page, headers=_NO_CACHE)

    async def service_worker(request: Request) -> Response:
        # The worker (signaling.bundle built it with its modules) lives under /__ps/ but must
        # control the whole origin; its source map is beside it.
        name = request.url.path.removeprefix(f"{SHELL_PREFIX}/")
        return FileResponse(
            bundle / "shell" / name,
            media_type="text/javascript" if name == "sw.js" else "application/json",
            headers={**_NO_CACHE, "Service-Worker-Allowed": "/"},
        )

    async def client_socket(websocket: WebSocket) -> None:
        name = websocket.path_params["name"]
        await run_socket(
            websocket, hub, limits, lambda send, _address: hub.connect_visitor(name, send)
        )

    site = Router(
        routes=[
            Route(f"{SHELL_PREFIX}/sw.js", service_worker),
            Route(f"{SHELL_PREFIX}/sw.js.map", service_worker),
            Mount(f"{SHELL_PREFIX}/runtime", NoCacheStaticFiles(directory=RUNTIME)),
            Mount(f"{SHELL_PREFIX}/web", NoCacheStaticFiles(directory=WEB)),
            # The shell's module, and what the site's service worker imports (signaling.bundle).
            Mount(
                f"{SHELL_PREFIX}/bundle",
                BundleFiles(directory=bundle / "shell", check_dir=False, gzipped=gzipped),
            ),
            WebSocketRoute(f"{SHELL_PREFIX}/signal", client_socket),
            Route("/{path:path}", shell, methods=["GET", "HEAD"]),
        ]
    )

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await hub.start()
        try:
            yield
        finally:
            await hub.close()
            packages.close()

    app = FastAPI(
        title="PeerServer signaling",
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
        lifespan=lifespan,
    )
    app.router.routes.extend(
        [
            Host(f"{{name}}.{public_url.host}", site),
            Route("/", home),
            Route(HEALTH_PATH, health),
            Route("/server/{name}", server_tab),
            # A standby link: the same page, which uses the link's grant (in the fragment, which
            # no server sees) and carries on at /server/NAME.
            Route("/standby/{name}", server_tab),
            Route("/api/name-status", name_status),
            Route("/api/templates", templates),
            Route("/api/config", config),
            Route(
                "/api/packages",
                readable_anywhere(request_response(resolve_packages)),
                methods=["POST", "OPTIONS"],
            ),
            Route(
                "/api/packages/upgrade",
                readable_anywhere(request_response(package_upgrade)),
                methods=["GET", "OPTIONS"],
            ),
            Route(
                "/packages/{sha256}/{filename}",
                readable_anywhere(request_response(package_file)),
                methods=["GET", "HEAD"],
            ),
            Route("/templates/{template}.zip", template_archive),
            Route(OPERATOR_PATH, operator_action, methods=["POST"]),
            WebSocketRoute("/ws/server", server_socket),
            # Visitors that are not browsers (peerserver tunnel) have no site origin to come from.
            WebSocketRoute("/ws/visit/{name}", client_socket),
            Mount("/web", NoCacheStaticFiles(directory=WEB)),
            Mount(
                "/bundle",
                readable_anywhere(BundleFiles(directory=bundle, check_dir=False, gzipped=gzipped)),
            ),
        ]
    )
    app.state.packages = packages
    if public_url.is_secure:
        app.add_middleware(SecureOnly, public_url=public_url)
    return app
