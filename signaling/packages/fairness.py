"""What one client may take of the package service, and in which order waiting clients are
served. Resolutions are costly (index pages, metadata, downloads): the service runs a few at a
time, and a client with many (or slow) ones waits its turn behind nobody else's.

:class:`RateLimit` is a token bucket per client (:func:`signaling.limits.client_key`: IPv6
counted per /64, one machine's addresses), with the time given as an argument.
:class:`FairQueue` hands the running slots out round-robin over the addresses that wait, not
in arrival order.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

_PRUNE_AT = 4096


class Busy(Exception):
    """The client must come back later: ``retry_after`` seconds, and the reason."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimit:
    def __init__(self, per_minute: float, burst: int) -> None:
        self.per_second = per_minute / 60
        self.burst = burst
        self._buckets: dict[str, _Bucket] = {}

    def take(self, key: str, now: float) -> int:
        """Spend one token of ``key``'s; 0 if it could, else the seconds until it can."""
        if key not in self._buckets and len(self._buckets) >= _PRUNE_AT:
            full = self.burst / self.per_second
            self._buckets = {k: b for k, b in self._buckets.items() if now - b.updated < full}
        bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.per_second)
        bucket.updated = now
        if bucket.tokens < 1:
            return max(1, round((1 - bucket.tokens) / self.per_second))
        bucket.tokens -= 1
        return 0


class FairQueue:
    """At most ``slots`` holders at once; the others wait, served one address at a time."""

    def __init__(self, slots: int, waiting_per_key: int) -> None:
        self.slots = slots
        self.waiting_per_key = waiting_per_key
        self._running = 0
        self._waiting: OrderedDict[str, deque[asyncio.Future[None]]] = OrderedDict()

    @contextlib.asynccontextmanager
    async def slot(
        self, key: str, waiting: Callable[[int], Awaitable[None]] | None = None
    ) -> AsyncIterator[None]:
        """Hold a slot for the block. ``waiting(n)`` is told how many are served before this
        one, while it waits. Raises :class:`Busy` if ``key`` already has too many waiting."""
        if self._running < self.slots and not self._waiting:
            self._running += 1
        else:
            await self._wait(key, waiting)
        try:
            yield
        finally:
            self._release()

    def check_room(self, key: str) -> None:
        """Raise :class:`Busy` if ``key`` has as many waiting as it may."""
        queue = self._waiting.get(key)
        if queue is not None and len(queue) >= self.waiting_per_key:
            raise Busy(
                "Your address already has resolutions waiting for the package service; "
                "try again when they are done.",
                retry_after=30,
            )

    async def _wait(self, key: str, waiting: Callable[[int], Awaitable[None]] | None) -> None:
        self.check_room(key)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(key, deque()).append(turn)
        try:
            while True:
                if waiting is not None:
                    await waiting(self.ahead_of(turn))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(turn), 2)
                    return
        except BaseException:
            if turn.done() and not turn.cancelled():
                self._release()  # it was handed a slot it will not use
            else:
                turn.cancel()
                self._forget(key, turn)
            raise

    def ahead_of(self, turn: asyncio.Future[None]) -> int:
        """How many waiting turns are served before ``turn``, round-robin."""
        queues = [list(queue) for queue in self._waiting.values()]
        order = []
        for depth in range(max((len(queue) for queue in queues), default=0)):
            order += [queue[depth] for queue in queues if depth < len(queue)]
        return order.index(turn) if turn in order else 0

    def _release(self) -> None:
        while self._waiting:
            key, queue = self._waiting.popitem(last=False)
            turn = queue.popleft()
            if queue:
                self._waiting[key] = queue  # to the back: the next key goes first
            if not turn.done():
                turn.set_result(None)  # the slot passes on: _running stays as it is
                return
        self._running -= 1

    def _forget(self, key: str, turn: asyncio.Future[None]) -> None:
        queue = self._waiting.get(key)
        if queue is None:
            return
        with contextlib.suppress(ValueError):
            queue.remove(turn)
        if not queue:
            del self._waiting[key]
