"""The signaling protocol's messages, as the service reads and writes them: no I/O.

runtime/protocol/signaling.js writes the same for the browser's ends (a server tab, a standby,
a visitor's shell); tests/signaling/test_signaling_protocol.py checks that the two agree. The
tunnel (:mod:`signaling.tunnel`), a visitor written in Python, uses this module's.

Peers are named ``INSTANCE/N``: the service instance that holds the peer's WebSocket, and a
number there. Messages are JSON objects with a ``type``:

server tab -> service  ``register {name, token, n, complete}`` (the owner's tab) or ``register
                       {name, member, memberToken, n, complete}`` (a standby's), ``join {name,
                       grant, where}`` (a standby link used), ``signal {to, data}``,
                       ``package-ticket``; while it serves (with its lease's ``epoch``):
                       ``renew {n}``, ``sync {inSync}``, ``standby-grant``,
                       ``standby-remove {member}``, ``handover {to}``, ``resign``
standby -> service     ``signal {data}`` (to the serving tab); the owner's tab while it stands
                       by: ``take-over`` (asks the serving tab to move the site to it)
service -> server tab  ``registered {name, maxVisitors, packagesTicket, epoch, leaseSeconds, n,
                       members}`` (it serves: registered, or promoted with ``n`` null),
                       ``standby {name, member, online, [epoch]}`` (it stands by),
                       ``joined {name, member, memberToken}``, ``renew-lease`` (asks for a
                       ``renew``), ``lease {epoch, n, seconds}``, ``synced {n, inSync}``,
                       ``members {members}``, ``standby-grant {grant, expires}``,
                       ``signal {from, data, [standby]}`` (``standby``: the member id of a
                       standby's tab; to a standby: ``signal {data}``), ``client-left
                       {client}``, ``server-status`` (to a standby), ``package-ticket
                       {ticket}``, ``replaced`` (another tab of the same browser took over),
                       ``demoted {epoch}`` (another member's tab serves now), ``handed-over
                       {epoch}``, ``move-to {member}`` (the owner's tab asks for the site),
                       ``removed`` (the owner removed this standby), ``error {code:
                       "released"}`` (the service's operator released the name)
visitor -> service     ``signal {data}``
service -> visitor     ``server-status {online, [epoch]}``, ``signal {data}`` (``data`` may be
                       ``{busy}`` or ``{moved: true}``: the tab will not answer this offer)
peer -> service        ``ice-servers``: asks for fresh ICE servers (TURN credentials expire)
service -> peer        ``ice-servers {iceServers, iceTransportPolicy, expires}``, first thing
                       on every connection and whenever asked (see :mod:`signaling.ice`)
either way             ``error {code, message, [suggestion]}``; the connection stays usable

``n`` numbers a tab's requests, so that it knows which answer is whose (it counts its lease
from when it asked). A signal's ``data`` is ``{sdp}`` (an offer or an answer) or
``{candidate}`` (one trickled ICE candidate, null when there are no more); it passes through
the service opaque.
"""

from __future__ import annotations

import json
from typing import Any

Message = dict[str, Any]

MAX_MESSAGE_BYTES = 64 * 1024

# What peers send.
REGISTER = "register"
JOIN = "join"
SIGNAL = "signal"
PACKAGE_TICKET = "package-ticket"
RENEW = "renew"
SYNC = "sync"
STANDBY_GRANT = "standby-grant"
STANDBY_REMOVE = "standby-remove"
HANDOVER = "handover"
RESIGN = "resign"
TAKE_OVER = "take-over"
ICE_SERVERS = "ice-servers"
# What the service sends (and SIGNAL, PACKAGE_TICKET, STANDBY_GRANT, ICE_SERVERS: the answers).
REGISTERED = "registered"
STANDBY = "standby"
JOINED = "joined"
RENEW_LEASE = "renew-lease"
LEASE = "lease"
SYNCED = "synced"
MEMBERS = "members"
CLIENT_LEFT = "client-left"
SERVER_STATUS = "server-status"
REPLACED = "replaced"
DEMOTED = "demoted"
HANDED_OVER = "handed-over"
MOVE_TO = "move-to"
REMOVED = "removed"
ERROR = "error"

# The requests of a tab that serves, each with its lease's epoch.
LEASE_REQUESTS = frozenset({RENEW, SYNC, STANDBY_GRANT, STANDBY_REMOVE, HANDOVER, RESIGN})
# What a server tab may say before it serves or stands by, and while it serves.
SERVER_TAB_SENDS = frozenset({REGISTER, JOIN, SIGNAL, PACKAGE_TICKET, *LEASE_REQUESTS})
STANDBY_SENDS = frozenset({SIGNAL, TAKE_OVER})
VISITOR_SENDS = frozenset({SIGNAL})
EVERY_PEER_SENDS = frozenset({ICE_SERVERS})
SERVICE_SENDS = frozenset(
    {
        *(REGISTERED, STANDBY, JOINED, RENEW_LEASE, LEASE, SYNCED, MEMBERS, STANDBY_GRANT),
        *(SIGNAL, CLIENT_LEFT, SERVER_STATUS, PACKAGE_TICKET, REPLACED, DEMOTED, HANDED_OVER),
        *(MOVE_TO, REMOVED, ERROR, ICE_SERVERS),
    }
)
# Messages after which a tab neither serves nor stands by: its socket may register again.
STOPS_SERVING = frozenset({REPLACED, DEMOTED, HANDED_OVER, REMOVED})

# The error codes a server tab acts on: the name is not (or no longer) the tab's; a planned
# move is refused. And every code the service sends.
NAME_LOST = frozenset(
    {"taken", "invalid", "quota", "released", "not-a-standby", "bad-grant", "too-many"}
)
MOVE_REFUSED = frozenset({"not-in-sync", "not-serving"})
ERROR_CODES = NAME_LOST | MOVE_REFUSED | {"bad-message", "busy", "not-registered", "offline"}
ERROR_CODES |= {"too-many-offers", "unavailable", "unknown-peer", "rate-limited"}


class ProtocolError(Exception):
    """A message that gets an error reply; the connection stays usable."""

    def __init__(self, reply: Message) -> None:
        super().__init__(reply["message"])
        self.reply = reply


def parse(text: str | None) -> Message:
    """A message from a peer's WebSocket, or raise :class:`ProtocolError` with the reply."""
    if text is None:
        raise ProtocolError(error("bad-message", "Messages must be text (JSON)."))
    if len(text.encode()) > MAX_MESSAGE_BYTES:
        raise ProtocolError(
            error("bad-message", f"Messages are limited to {MAX_MESSAGE_BYTES} bytes.")
        )
    try:
        message = json.loads(text)
    except ValueError:
        raise ProtocolError(error("bad-message", "Messages must be JSON objects.")) from None
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        raise ProtocolError(error("bad-message", 'Messages must be JSON objects with a "type".'))
    return message


def number(message: Message) -> int | None:
    """The number ``n`` a tab gave its request (so that it knows which answer is whose)."""
    n = message.get("n")
    return n if isinstance(n, int) and not isinstance(n, bool) else None


def sdp_type(data: Any) -> str | None:
    """ "offer" or "answer" for a signal's ``data`` carrying a description, else None."""
    sdp = data.get("sdp") if isinstance(data, dict) else None
    kind = sdp.get("type") if isinstance(sdp, dict) else None
    return kind if isinstance(kind, str) else None


def answers_offer(data: Any) -> bool:
    """Whether a server tab's signal to a visitor settles one of its offers: an answer, or its
    word that it will not answer (it serves as many as it may; the site moved)."""
    if sdp_type(data) == "answer":
        return True
    return isinstance(data, dict) and ("busy" in data or data.get("moved") is True)


# -- the service's messages ----------------------------------------------------------------


def error(code: str, message: str, **extra: Any) -> Message:
    """``error {code, message, ...}``; ``code`` is one of :data:`ERROR_CODES`."""
    if code not in ERROR_CODES:
        raise ValueError(f"{code!r} is not an error code of the signaling protocol")
    return {"type": ERROR, "code": code, "message": message, **extra}


def registered(
    name: str,
    *,
    max_visitors: int,
    packages_ticket: str,
    epoch: int,
    lease_seconds: float,
    n: int | None,
    members: list[dict[str, Any]],
) -> Message:
    return {
        "type": REGISTERED,
        "name": name,
        "maxVisitors": max_visitors,
        "packagesTicket": packages_ticket,
        "epoch": epoch,
        "leaseSeconds": lease_seconds,
        "n": n,
        "members": members,
    }


def server_status(online: bool, epoch: int) -> Message:
    """What visitors and standbys are told of their site: whether it is served, and in which
    epoch of its lease (a new one: another tab serves it now)."""
    return {"type": SERVER_STATUS, "online": online, **({"epoch": epoch} if online else {})}


def standby(name: str, member: str, online: bool, epoch: int) -> Message:
    """The tab stands by for ``name`` as ``member``; the site's status as in server-status."""
    return {**server_status(online, epoch), "type": STANDBY, "name": name, "member": member}


def joined(name: str, member: str, member_token: str) -> Message:
    return {"type": JOINED, "name": name, "member": member, "memberToken": member_token}


def renew_lease() -> Message:
    return {"type": RENEW_LEASE}


def lease(epoch: int, n: int | None, seconds: float) -> Message:
    return {"type": LEASE, "epoch": epoch, "n": n, "seconds": seconds}


def synced(n: int | None, in_sync: list[str]) -> Message:
    return {"type": SYNCED, "n": n, "inSync": in_sync}


def members(described: list[dict[str, Any]]) -> Message:
    return {"type": MEMBERS, "members": described}


def standby_grant(grant: str, expires: float) -> Message:
    return {"type": STANDBY_GRANT, "grant": grant, "expires": expires}


def signal_to_server(sender: str, data: Any, standby: str | None = None) -> Message:
    """A visitor's signal (or, with ``standby``, a standby's: its member id) to the serving tab."""
    return {
        "type": SIGNAL,
        "from": sender,
        "data": data,
        **({"standby": standby} if standby else {}),
    }


def signal(data: Any) -> Message:
    """A signal to a visitor or to a standby, from the serving tab; and a visitor's to it."""
    return {"type": SIGNAL, "data": data}


def client_left(client: str) -> Message:
    return {"type": CLIENT_LEFT, "client": client}


def package_ticket(ticket: str) -> Message:
    return {"type": PACKAGE_TICKET, "ticket": ticket}


def replaced() -> Message:
    return {"type": REPLACED}


def demoted(epoch: int) -> Message:
    return {"type": DEMOTED, "epoch": epoch}


def handed_over(epoch: int) -> Message:
    return {"type": HANDED_OVER, "epoch": epoch}


def move_to(member: str) -> Message:
    return {"type": MOVE_TO, "member": member}


def removed() -> Message:
    return {"type": REMOVED}


def ice_servers(servers: list[dict[str, Any]], relay_only: bool, expires: int | None) -> Message:
    """The ICE servers a peer connects with; ``expires`` (Unix seconds, or None) says when
    their TURN credentials do."""
    policy = "relay" if relay_only else "all"
    return {
        "type": ICE_SERVERS,
        "iceServers": servers,
        "iceTransportPolicy": policy,
        "expires": expires,
    }


# -- a visitor's messages (the tunnel's) ---------------------------------------------------


def ask_ice_servers() -> Message:
    return {"type": ICE_SERVERS}
