"""The data-channel protocol between a visitor and a server tab, as the tunnel speaks it.

Written down, with every message, in ``runtime/protocol/channels.js``, which the browser's ends
import; this is the same for the one non-browser visitor. ``tests/signaling/
test_channel_protocol.py`` checks that both agree.
"""

from __future__ import annotations

from server_py.wsgi import MAX_CHUNK as MAX_MESSAGE_BYTES  # the server tab's, in Python

__all__ = ["CONTROL", "HTTP", "MAX_MESSAGE_BYTES", "channel_protocol"]

CONTROL = "control"
HTTP = "http"


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
