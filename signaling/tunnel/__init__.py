"""``peerserver tunnel NAME --port N``: a browser-hosted site on a local TCP port.

A non-browser WebRTC peer (aiortc) joins the site like any visitor. Each TCP connection
accepted on the local port becomes one HTTP data channel to the server tab and the bytes are
copied both ways unchanged: the data channels already carry plain HTTP/1.1, so curl, Python
``requests`` or a load tool talk to the Flask app in the tab as to any web server.

It uses the ICE servers the service hands out, as browsers do. Without a TURN server, the
server tab's browser must give real host candidates (Chromium hides them behind mDNS names,
which aiortc cannot resolve, unless started with
``--disable-features=WebRtcHideLocalIpsWithMdns``); with one, its relay candidates do. TURN
credentials expire: before it connects with old ones, it asks the service for new ones.

A client is answered 503 with the reason when the site cannot be reached: the server tab is
offline, serves as many visitors as it may (the next client's request tries again), or no
network path was found. When the server tab's Python restarts, it says on the control channel
which channels were lost: their TCP connections close, a request still waiting with the answer
the server tab gave for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any

import websockets
from aiortc import (
    RTCConfiguration,
    RTCDataChannel,
    RTCIceServer,
    RTCPeerConnection,
    RTCSessionDescription,
)
from aiortc.sdp import candidate_from_sdp

from signaling import messages
from signaling.tunnel.channels import (
    CONTROL,
    HTTP,
    MAX_MESSAGE_BYTES,
    channel_protocol,
    parse_server_control,
)

log = logging.getLogger("peerserver.tunnel")

HIGH_WATER = 1024 * 1024
CONNECT_TIMEOUT = 30.0
RENEW_MARGIN_S = 60  # fresh TURN credentials this long before they expire (runtime/ice.js too)


class Tunnel:
    """One peer connection to the site ``name``, shared by every TCP connection."""

    def __init__(self, name: str, service_url: str) -> None:
        self.name = name
        base = service_url.rstrip("/").replace("http", "ws", 1)
        self.signaling_url = f"{base}/ws/visit/{name}"
        self.pc: RTCPeerConnection | None = None
        self.connected = asyncio.Event()
        self.ice_message: dict[str, Any] = {}  # the service's last ice-servers message
        self._connect_when_renewed = False  # the server is online; credentials were stale
        self.server_online = False
        # Why the site cannot be reached now (offline, busy), for the answer to a client;
        # None while that is not known yet or a connection is being made.
        self.unavailable: str | None = None
        self._changed = asyncio.Event()  # connected, or unavailable, changed
        self._socket = None
        # The open HTTP channels by id: what to do when the server tab says one was lost.
        self._on_lost: dict[int, Callable[[str | None], None]] = {}

    async def run(self) -> None:
        """Keep a signaling connection, and a peer connection whenever the site is online."""
        async for socket in websockets.connect(self.signaling_url):
            self._socket = socket
            try:
                async for text in socket:
                    await self._on_signal(json.loads(text))
            except websockets.ConnectionClosed:
                log.warning("signaling connection lost; reconnecting")

    async def _on_signal(self, message: dict) -> None:
        kind = message.get("type")
        if kind == messages.ICE_SERVERS:
            self.ice_message = message
            if self._connect_when_renewed:
                self._connect_when_renewed = False
                await self._connect()
        elif kind == messages.SERVER_STATUS:
            self.server_online = bool(message.get("online"))
            if self.server_online:
                await self._connect_with_fresh_credentials()
            else:
                log.warning('the server "%s" is offline', self.name)
                await self._disconnect(f'The server "{self.name}" is offline.')
        elif kind == messages.SIGNAL and self.pc is not None:
            data = message.get("data") or {}
            sdp = data.get("sdp") or {}
            if sdp.get("type") == "answer":
                await self.pc.setRemoteDescription(RTCSessionDescription(sdp["sdp"], "answer"))
            elif "candidate" in data:  # the server tab trickles its candidates
                await self._add_candidate(data["candidate"])
            elif isinstance(data.get("busy"), str):  # it serves as many visitors as it may
                log.warning("%s", data["busy"])
                await self._disconnect(data["busy"])
        elif kind == messages.ERROR:
            log.warning("signaling: %s", message.get("message"))

    async def _connect_with_fresh_credentials(self) -> None:
        """Connect now, or once the service has sent TURN credentials that are still good
        (those of the last ice-servers message may have expired since: coturn refuses them)."""
        self.unavailable = None  # trying again
        if needs_renewal(self.ice_message, time.time()):
            if not self._connect_when_renewed:
                self._connect_when_renewed = True
                await self._socket.send(json.dumps(messages.ask_ice_servers()))
        else:
            await self._connect()

    async def _add_candidate(self, candidate: Any) -> None:
        assert self.pc is not None
        if candidate is None:
            await self.pc.addIceCandidate(None)  # end of candidates
            return
        try:
            parsed = candidate_from_sdp(candidate["candidate"].removeprefix("candidate:"))
            parsed.sdpMid = candidate.get("sdpMid")
            parsed.sdpMLineIndex = candidate.get("sdpMLineIndex")
        except (KeyError, TypeError, ValueError, IndexError, AttributeError):
            log.warning("ignored a malformed ICE candidate: %r", candidate)
            return
        await self.pc.addIceCandidate(parsed)

    async def _connect(self) -> None:
        await self._disconnect(None)
        pc = RTCPeerConnection(RTCConfiguration(iceServers=ice_servers(self.ice_message)))
        self.pc = pc
        control = pc.createDataChannel(CONTROL)

        @control.on("open")
        def on_open() -> None:
            if self.pc is pc:
                self.connected.set()
                self._changed.set()

        @control.on("message")
        def on_control(data: str | bytes) -> None:
            message = parse_server_control(data)
            if self.pc is pc and message is not None and message["type"] == "lost":
                for channel in message["channels"]:
                    if lost := self._on_lost.get(channel["id"]):
                        lost(channel["answer"])

        @pc.on("connectionstatechange")
        async def on_state() -> None:
            if pc.connectionState in ("failed", "closed") and self.pc is pc:
                await self._disconnect(
                    f'The server "{self.name}" cannot be reached from here: the connection '
                    f"{pc.connectionState}."
                )

        await pc.setLocalDescription(await pc.createOffer())
        sdp = pc.localDescription.sdp
        if self.ice_message.get("iceTransportPolicy") == "relay":
            sdp = relay_only(sdp)
        offer = {"type": pc.localDescription.type, "sdp": sdp}
        await self._socket.send(json.dumps(messages.signal({"sdp": offer})))

    async def _disconnect(self, reason: str | None) -> None:
        """Close the peer connection; ``reason`` says why the site is unavailable meanwhile
        (``None`` while a new connection is being made)."""
        self.connected.clear()
        self.unavailable = reason
        self._changed.set()
        if self.pc is not None:
            pc, self.pc = self.pc, None
            await pc.close()

    async def _reachable(self) -> None:
        """Return once connected; raise ConnectionError with the reason the site is not, or
        TimeoutError when connecting takes too long."""
        if self.unavailable and self.server_online and self.pc is None:
            # Turned away (busy, no path): a place may be free by now, as a reload would ask.
            await self._connect_with_fresh_credentials()
        async with asyncio.timeout(CONNECT_TIMEOUT):
            while not self.connected.is_set():
                if self.unavailable:
                    raise ConnectionError(self.unavailable)
                self._changed.clear()
                await self._changed.wait()

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Bridge one accepted TCP connection to a new HTTP data channel."""
        try:
            await self._reachable()
            channel = await self._open_channel()
        except (TimeoutError, ConnectionError) as error:
            reason = (
                str(error)
                if isinstance(error, ConnectionError) and str(error)
                else (f'The server "{self.name}" did not answer within {CONNECT_TIMEOUT:.0f} s.')
            )
            body = f"{reason}\n".encode()
            writer.write(
                b"HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\n"
                b"Content-Length: %d\r\nConnection: close\r\n\r\n%s" % (len(body), body)
            )
            await _close(writer)
            return
        closed = asyncio.Event()
        waiting = False  # a request went out and no byte of its response came yet

        def sent() -> None:
            nonlocal waiting
            waiting = True

        @channel.on("message")
        def on_message(data: bytes | str) -> None:
            nonlocal waiting
            waiting = False
            writer.write(data if isinstance(data, bytes) else data.encode())

        @channel.on("close")
        def on_close() -> None:
            closed.set()

        def on_lost(answer: str | None) -> None:
            if waiting and answer is not None:
                writer.write(answer.encode())
            closed.set()

        self._on_lost[channel.id] = on_lost
        copy = asyncio.ensure_future(self._copy_to_channel(reader, channel, sent))
        try:
            await asyncio.wait(
                [copy, asyncio.ensure_future(closed.wait())], return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            if self._on_lost.get(channel.id) is on_lost:
                del self._on_lost[channel.id]
        copy.cancel()
        channel.close()
        await _close(writer)

    async def _open_channel(self) -> RTCDataChannel:
        if self.pc is None:
            raise ConnectionError("not connected")
        # Its clients keep their own cookies, and TCP gives them flow control of their own.
        channel = self.pc.createDataChannel(HTTP, protocol=channel_protocol("http"))
        opened = asyncio.Event()
        channel.on("open", opened.set)
        await asyncio.wait_for(opened.wait(), CONNECT_TIMEOUT)
        return channel

    async def _copy_to_channel(
        self, reader: asyncio.StreamReader, channel: RTCDataChannel, sent: Callable[[], None]
    ) -> None:
        low = asyncio.Event()
        channel.bufferedAmountLowThreshold = HIGH_WATER // 4
        channel.on("bufferedamountlow", low.set)
        while chunk := await reader.read(MAX_MESSAGE_BYTES):
            if channel.readyState != "open":
                return
            while channel.bufferedAmount > HIGH_WATER:
                low.clear()
                await low.wait()
            channel.send(chunk)
            sent()


def needs_renewal(message: dict[str, Any], now_s: float) -> bool:
    """Whether the TURN credentials of an ice-servers ``message`` are too close to expiring."""
    expires = message.get("expires")
    return isinstance(expires, int | float) and now_s >= expires - RENEW_MARGIN_S


def relay_only(sdp: str) -> str:
    """An offer that shows the server tab the tunnel's relay (TURN) candidates only, and no
    address of the tunnel's own, as the service's ``--relay-only`` promises.

    aiortc has no relay-only policy: it gathers host and server-reflexive candidates too, and
    puts its first one in the ``c=`` lines. Its checks from those reach no relay, whose
    permissions are for the candidates the other peer was given."""
    lines = sdp.split("\r\n")
    relays = [line for line in lines if line.startswith("a=candidate:") and " typ relay" in line]
    address = relays[0].split()[4] if relays else "0.0.0.0"
    kept = []
    for line in lines:
        if line.startswith("a=candidate:"):
            if " typ relay" not in line:
                continue
            # A relay candidate's related address is the tunnel's own, as the relay saw it.
            line = re.sub(r" raddr \S+ rport \d+", " raddr 0.0.0.0 rport 0", line)
        if line.startswith("c=IN IP4 ") or line.startswith("c=IN IP6 "):
            line = f"c=IN IP4 {address}"
        kept.append(line)
    return "\r\n".join(kept)


def ice_servers(message: dict[str, Any]) -> list[RTCIceServer]:
    """aiortc's ICE servers from the service's ``ice-servers`` message."""
    servers = []
    for server in message.get("iceServers") or []:
        urls = server.get("urls")
        servers.append(
            RTCIceServer(
                urls=urls if isinstance(urls, list) else [urls],
                username=server.get("username"),
                credential=server.get("credential"),
            )
        )
    return servers


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()


async def serve_tunnel(name: str, port: int, service_url: str, host: str = "127.0.0.1") -> None:
    """Run the tunnel until cancelled."""
    tunnel = Tunnel(name, service_url)
    server = await asyncio.start_server(tunnel.handle, host, port)
    print(f'http://{host}:{port}/ is the site "{name}" (through {service_url})', flush=True)
    async with server:
        await tunnel.run()
