"""What one client address may take of the service, with no I/O: open WebSockets, and messages
per second (a token bucket per address). The endpoints in :mod:`signaling.app` ask before they
accept a socket or hand a message on; the time comes in as an argument.

Behind a reverse proxy the address is the one the proxy forwards, and only when the proxy is
trusted (``--trusted-proxy``); otherwise everybody behind the proxy would share one budget.
An IPv6 client is counted by its /64 network (:func:`client_key`): one machine has all of one.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

_PRUNE_AT = 4096  # remembered addresses before the idle ones are looked for


def client_key(address: str) -> str:
    """What limits are counted by: an IPv4 address, or an IPv6 address's /64 network."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


@dataclass(frozen=True)
class LimitSettings:
    sockets_per_address: int = 64
    messages_per_second: float = 100.0  # per address, over all its sockets
    message_burst: int = 400
    pending_offers_per_visitor: int = 4  # offers not answered yet
    visitors_per_site: int = 64  # peer connections a server tab accepts at once

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value <= 0:
                raise ValueError(f"{name.replace('_', ' ')} must be more than 0")


@dataclass
class _Bucket:
    tokens: float
    updated: float
    sockets: int = 0


@dataclass
class Limits:
    settings: LimitSettings = field(default_factory=LimitSettings)
    _addresses: dict[str, _Bucket] = field(default_factory=dict)

    def open(self, address: str, now: float) -> bool:
        """A socket from ``address`` wants in; True (and counted) if it may. Opening costs a
        message, so that reconnecting over and over is limited too."""
        bucket = self._bucket(client_key(address), now)
        if bucket.sockets >= self.settings.sockets_per_address or bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        bucket.sockets += 1
        return True

    def close(self, address: str, now: float) -> None:
        key = client_key(address)
        bucket = self._bucket(key, now)
        bucket.sockets -= 1
        if bucket.sockets <= 0 and bucket.tokens >= self.settings.message_burst:
            del self._addresses[key]  # nothing left to remember about it

    def message(self, address: str, now: float) -> bool:
        """A message from ``address``: True if its budget allows it (and spends one)."""
        bucket = self._bucket(client_key(address), now)
        if bucket.tokens < 1:
            return False
        bucket.tokens -= 1
        return True

    def tracked(self) -> int:
        """How many addresses are remembered (memory stays bounded by the live ones)."""
        return len(self._addresses)

    def _bucket(self, address: str, now: float) -> _Bucket:
        if address not in self._addresses and len(self._addresses) >= _PRUNE_AT:
            self._prune(now)
        burst = self.settings.message_burst
        bucket = self._addresses.setdefault(address, _Bucket(tokens=burst, updated=now))
        refill = (now - bucket.updated) * self.settings.messages_per_second
        bucket.tokens = min(burst, bucket.tokens + refill)
        bucket.updated = now
        return bucket

    def _prune(self, now: float) -> None:
        """Forget addresses with no socket whose budget has filled up again since."""
        full_after = self.settings.message_burst / self.settings.messages_per_second
        for address, bucket in list(self._addresses.items()):
            if bucket.sockets <= 0 and now - bucket.updated >= full_after:
                del self._addresses[address]
