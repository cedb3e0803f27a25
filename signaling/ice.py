"""The ICE servers the service hands to every peer: STUN, and TURN with short-lived credentials.

TURN credentials follow coturn's ``use-auth-secret`` mode (the "TURN REST API",
draft-uberti-behave-turn-rest): the username is ``EXPIRY:ID`` (a Unix time, then an opaque
id) and the password is the base64 HMAC-SHA1 of that username under a secret shared by the
service and the TURN server. The TURN server checks both without asking anyone, and the
secret itself never leaves the service. coturn checks the expiry when an allocation is made,
so a peer needs credentials that are valid when it connects, not for as long as it stays.

No I/O here: the time comes in as an argument.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from typing import Any

from signaling.messages import ice_servers

DEFAULT_CREDENTIAL_SECONDS = 3600


def turn_credentials(secret: str, username: str) -> str:
    """The password coturn expects for ``username`` under the shared ``secret``."""
    digest = hmac.new(secret.encode(), username.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


@dataclass(frozen=True)
class IceConfig:
    """What the operator configured: STUN and TURN URLs, the TURN secret, the policy.

    ``relay_only`` makes every peer use TURN relays only (no host or server-reflexive
    candidates): peers then never learn each other's addresses, and tests can prove the relay
    path works."""

    stun: tuple[str, ...] = ()
    turn: tuple[str, ...] = ()
    turn_secret: str | None = None
    credential_seconds: int = DEFAULT_CREDENTIAL_SECONDS
    relay_only: bool = False

    def __post_init__(self) -> None:
        for url in self.stun:
            if not url.startswith(("stun:", "stuns:")):
                raise ValueError(f"{url!r} is not a STUN URL (stun:HOST[:PORT])")
        for url in self.turn:
            if not url.startswith(("turn:", "turns:")):
                raise ValueError(f"{url!r} is not a TURN URL (turn:HOST[:PORT][?transport=udp])")
        if self.turn and not self.turn_secret:
            raise ValueError("TURN needs the secret it shares with the service (--turn-secret)")
        if self.relay_only and not self.turn:
            raise ValueError("relay-only ICE needs a TURN server (--turn)")
        if self.credential_seconds < 60:
            raise ValueError("TURN credentials must live at least 60 seconds")

    def for_peer(self, peer_id: str, now: float) -> dict[str, Any]:
        """The ``ice-servers`` message for one peer at Unix time ``now``.

        ``iceServers`` is an RTCConfiguration's list as browsers take it; ``expires`` (Unix
        seconds, or None) says when to ask again (``{"type": "ice-servers"}``)."""
        servers: list[dict[str, Any]] = []
        if self.stun:
            servers.append({"urls": list(self.stun)})
        expires = None
        if self.turn:
            assert self.turn_secret is not None
            expires = int(now) + self.credential_seconds
            username = f"{expires}:{peer_id}"
            servers.append(
                {
                    "urls": list(self.turn),
                    "username": username,
                    "credential": turn_credentials(self.turn_secret, username),
                }
            )
        return ice_servers(servers, self.relay_only, expires)
