"""Package tickets: how a server tab's Python proves, to the package service, that it serves a
name.

The worker that asks for a site's packages runs with an opaque origin (a site's code must not
reach the owner's other sites), so it has no cookie or storage to authenticate with. The
server tab that started it holds a registered name over its signaling socket: the hub hands that
tab a ticket when it registers (and a fresh one when asked), the tab gives it to its worker, and
the worker sends it with each request. A ticket is the name and an expiry signed with
HMAC-SHA256 under a secret all instances share (kept in the store), so any instance checks it
without a lookup. It grants only package resolution, for that name, for a while.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from signaling.names import name_problem

TICKET_SECONDS = 3600


class Tickets:
    def __init__(self, secret: bytes, seconds: int = TICKET_SECONDS) -> None:
        self._secret = secret
        self.seconds = seconds

    def issue(self, name: str, now: float) -> str:
        payload = f"{name}.{int(now) + self.seconds}"
        return f"{payload}.{self._sign(payload)}"

    def holder(self, ticket: str, now: float) -> str | None:
        """The name a valid, unexpired ticket was issued for; None for any other string."""
        payload, _, signature = ticket.rpartition(".")
        name, _, expiry = payload.rpartition(".")
        if not (expiry.isdigit() and hmac.compare_digest(signature, self._sign(payload))):
            return None
        if int(expiry) < now or name_problem(name) is not None:
            return None
        return name

    def _sign(self, payload: str) -> str:
        digest = hmac.new(self._secret, payload.encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode().rstrip("=")
