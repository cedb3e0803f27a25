"""The data-channel protocol between a visitor and a server tab, as the tunnel speaks it.

Written down, with every message, in ``runtime/protocol/channels.js``, which the browser's ends
import; this is the same for the one non-browser visitor. ``tests/signaling/
test_channel_protocol.py`` checks that both agree.
"""

from __future__ import annotations

import json
from typing import Any

from server_py.wsgi import MAX_CHUNK as MAX_MESSAGE_BYTES  # the server tab's, in Python

__all__ = ["CONTROL", "HTTP", "MAX_MESSAGE_BYTES", "channel_protocol", "parse_server_control"]

CONTROL = "control"
HTTP = "http"
MAX_STREAM_ID = 65535


def channel_protocol(scheme: str, httponly_by_server: bool = False, window: bool = False) -> str:
    """The protocol string of an "http" channel: the scheme its visitor sees, whether the server
    tab keeps the visitor's HttpOnly cookies, and whether the visitor grants a window."""
    return "; ".join(
        [
            scheme,
            *(["httponly=server"] if httponly_by_server else []),
            *(["window"] if window else []),
        ]
    )


def parse_server_control(text: str | bytes) -> dict[str, Any] | None:
    """A server tab's control message as a visitor takes it: ``{"type": "hello"}``,
    ``{"type": "moved"}``, ``{"type": "lost", "channels": [{"id", "answer"}]}`` (the "http"
    channels, by id, whose server's Python restarted: each closes, and a request on one that
    still waits gets ``answer``, a whole response as text, if not None; entries of another shape
    are left out), or None for anything else."""
    try:
        message = json.loads(text)
    except (ValueError, TypeError):
        return None
    kind = message.get("type") if isinstance(message, dict) else None
    if kind in ("hello", "moved"):
        return {"type": kind}
    if kind != "lost" or not isinstance(message.get("channels"), list):
        return None
    return {
        "type": kind,
        "channels": [
            {"id": int(channel["id"]), "answer": channel["answer"]}
            for channel in message["channels"]
            if isinstance(channel, dict)
            and _is_stream_id(channel.get("id"))
            and "answer" in channel
            and (channel["answer"] is None or isinstance(channel["answer"], str))
        ],
    }


def _is_stream_id(value: object) -> bool:
    """Whether ``value`` is a data channel's id (an SCTP stream's: 0 to 65535)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return float(value).is_integer() and 0 <= value <= MAX_STREAM_ID
