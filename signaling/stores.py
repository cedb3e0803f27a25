"""Where the signaling service keeps names and how its instances reach each other's peers.

Two implementations of one small interface:

* :class:`MemoryStore`, the embedded default: one process, nothing to set up; names are
  forgotten when it stops.
* :class:`RedisStore` (``peerserver serve --redis redis://...``): names, owner tokens and
  reservations live in Redis and survive restarts; several instances share them and pass
  messages for each other's peers over Redis pub/sub, so that a server tab connected to one
  instance and a visitor connected to another meet.

A name's record is replaced only by compare-and-swap (:meth:`Store.swap`), so two instances
that register the same name at once cannot both win: the rules (:mod:`signaling.registry`)
decide from the record they read, and the loser reads again. Each record is also listed under
its owner's address and token (:func:`signaling.registry.indexes`), for the quotas; such lists
may name records that have ended since, which whoever reads them drops.

Neither store grows without bound: a reserved name's record goes when its reservation ends
(Redis expires it; the memory store prunes), and the lists expire when unused.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Protocol

from signaling.registry import NameRecord, indexes

log = logging.getLogger("peerserver.signaling")
_MAX_MEMORY_VALUES = 100_000  # past this, the memory store forgets expired values
_PRUNE_EVERY = 256  # writes of names between the memory store's looks for ended reservations
INDEX_SECONDS = 31 * 24 * 3600  # a quota's list, unused this long, goes

Envelope = dict[str, Any]
OnEnvelope = Callable[[Envelope], Awaitable[None]]


class StoreUnavailable(Exception):
    """The shared store cannot be reached; the service says so to the peer that asked."""


class Store(Protocol):
    """Names and the message bus between instances, as the hub needs them."""

    instance: str  # this instance's id: the first part of its peers' ids

    def attach(self, on_envelope: OnEnvelope) -> None:
        """Where envelopes sent to this instance (or to all) are handed."""

    async def start(self) -> None: ...

    async def close(self) -> None: ...

    async def get(self, name: str) -> NameRecord | None: ...

    async def get_many(self, names: Sequence[str]) -> list[NameRecord | None]: ...

    async def swap(
        self,
        name: str,
        expected: NameRecord | None,
        new: NameRecord | None,
        keep_seconds: float | None = None,
    ) -> bool:
        """Replace ``name``'s record with ``new`` if it is still ``expected``; True if done.

        ``keep_seconds`` lets the store forget ``new`` after that long (a reservation)."""
        ...

    async def held(self, index: str) -> list[str]:
        """The names listed under ``index`` (one of :func:`signaling.registry.indexes`)."""
        ...

    async def forget(self, index: str, names: Sequence[str]) -> None:
        """Take ``names`` off the list ``index``: their records ended, or moved."""

    async def names(self) -> list[str]:
        """Every name with a record (for the operator)."""
        ...

    async def send(self, instance: str, envelope: Envelope) -> None: ...

    async def broadcast(self, envelope: Envelope) -> None: ...

    async def alive(self, instance: str) -> bool: ...

    async def put_value(self, key: str, value: str, seconds: float) -> None:
        """Keep a small value shared by every instance, for ``seconds``."""

    async def get_value(self, key: str) -> str | None: ...

    async def take_value(self, key: str) -> str | None:
        """The value kept under ``key``, which is forgotten: only one caller ever gets it."""
        ...

    async def value_once(self, key: str, value: str) -> str:
        """The value kept under ``key``; ``value`` if none was kept (it is kept from then on)."""
        ...


class MemoryStore:
    """One process's memory: the embedded default."""

    def __init__(self) -> None:
        self.instance = "local"
        self._records: dict[str, NameRecord] = {}
        self._ends: dict[str, float] = {}  # name -> when its reservation ends (monotonic)
        self._indexes: dict[str, set[str]] = {}
        self._writes = 0
        self._values: dict[str, tuple[str, float]] = {}  # key -> (value, until when)
        self._on_envelope: OnEnvelope | None = None

    def attach(self, on_envelope: OnEnvelope) -> None:
        self._on_envelope = on_envelope

    async def start(self) -> None:
        pass

    async def close(self) -> None:
        pass

    async def get(self, name: str) -> NameRecord | None:
        # Expired reservations are the rules' business (Rules.live): they see the time.
        return self._records.get(name)

    async def get_many(self, names: Sequence[str]) -> list[NameRecord | None]:
        return [self._records.get(name) for name in names]

    async def swap(
        self,
        name: str,
        expected: NameRecord | None,
        new: NameRecord | None,
        keep_seconds: float | None = None,
    ) -> bool:
        if self._records.get(name) != expected:
            return False
        self._unlist(name)
        if new is None:
            self._records.pop(name, None)
        else:
            self._records[name] = new
            for index in indexes(new):
                self._indexes.setdefault(index, set()).add(name)
            if keep_seconds is not None:
                self._ends[name] = time.monotonic() + keep_seconds
        self._writes += 1
        if self._writes % _PRUNE_EVERY == 0:
            self.prune()
        return True

    def _unlist(self, name: str) -> None:
        record = self._records.get(name)
        self._ends.pop(name, None)
        for index in indexes(record) if record else ():
            self._take_off(index, [name])

    def _take_off(self, index: str, names: Sequence[str]) -> None:
        listed = self._indexes.get(index, set())
        listed.difference_update(names)
        if not listed:
            self._indexes.pop(index, None)

    def prune(self) -> None:
        """Forget the records whose reservations have ended."""
        now = time.monotonic()
        for name in [name for name, end in self._ends.items() if end <= now]:
            self._unlist(name)
            self._records.pop(name, None)

    def size(self) -> int:
        """How many names are kept (with their lists)."""
        return len(self._records)

    async def held(self, index: str) -> list[str]:
        return sorted(self._indexes.get(index, ()))

    async def forget(self, index: str, names: Sequence[str]) -> None:
        self._take_off(index, names)

    async def names(self) -> list[str]:
        return sorted(self._records)

    async def send(self, instance: str, envelope: Envelope) -> None:
        if instance == self.instance and self._on_envelope is not None:
            await self._on_envelope(envelope)

    async def broadcast(self, envelope: Envelope) -> None:
        if self._on_envelope is not None:
            await self._on_envelope(envelope)

    async def alive(self, instance: str) -> bool:
        return instance == self.instance

    async def put_value(self, key: str, value: str, seconds: float) -> None:
        now = time.monotonic()
        if len(self._values) >= _MAX_MEMORY_VALUES:
            self._values = {k: kept for k, kept in self._values.items() if kept[1] > now}
        self._values[key] = (value, now + seconds)

    async def get_value(self, key: str) -> str | None:
        value, until = self._values.get(key, (None, 0.0))
        return value if until > time.monotonic() else None

    async def take_value(self, key: str) -> str | None:
        value = await self.get_value(key)
        self._values.pop(key, None)
        return value

    async def value_once(self, key: str, value: str) -> str:
        kept = await self.get_value(key)
        if kept is None:
            self._values[key] = (value, float("inf"))
            return value
        return kept


HEARTBEAT_SECONDS = 5  # how often an instance says it is alive
HEARTBEAT_TTL_SECONDS = 15  # how long after its last word it counts as stopped


class RedisStore:
    """Names in Redis, shared by every instance pointed at it; messages over pub/sub.

    Each instance keeps a heartbeat key; a name whose tab was held by an instance without one
    (it stopped, or crashed) counts as away, so its owner can take it back and nobody else."""

    MAX_CONNECTIONS = 32
    ALIVE_CACHE_SECONDS = 1.0

    def __init__(
        self,
        url: str,
        prefix: str = "peerserver",
        heartbeat_seconds: float = HEARTBEAT_SECONDS,
        heartbeat_ttl_seconds: float = HEARTBEAT_TTL_SECONDS,
    ) -> None:
        import redis.asyncio  # imported here: the embedded default does not need it

        self.instance = secrets.token_hex(6)
        self.heartbeat_seconds = heartbeat_seconds
        self.heartbeat_ttl_seconds = heartbeat_ttl_seconds
        # Many peers at once share a few connections: past the pool's size they wait their turn
        # instead of failing.
        pool = redis.asyncio.BlockingConnectionPool.from_url(
            url, max_connections=self.MAX_CONNECTIONS, timeout=10, decode_responses=True
        )
        self._redis = redis.asyncio.Redis(connection_pool=pool)
        self._prefix = prefix
        self._on_envelope: OnEnvelope | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._pubsub: Any = None
        self._seen_alive: dict[str, float] = {}  # instance -> until when it counts as alive

    def _name_key(self, name: str) -> str:
        return f"{self._prefix}:name:{name}"

    def _index_key(self, index: str) -> str:
        return f"{self._prefix}:held:{index}"

    def _instance_key(self, instance: str) -> str:
        return f"{self._prefix}:instance:{instance}"

    def _channel(self, instance: str) -> str:
        return f"{self._prefix}:to:{instance}"

    def attach(self, on_envelope: OnEnvelope) -> None:
        self._on_envelope = on_envelope

    async def start(self) -> None:
        async with self._errors():
            await self._beat()
            self._pubsub = self._redis.pubsub(ignore_subscribe_messages=True)
            await self._pubsub.subscribe(self._channel(self.instance), self._channel("all"))
        self._tasks = [asyncio.create_task(self._heartbeat()), asyncio.create_task(self._listen())]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        with contextlib.suppress(Exception):
            await self._redis.delete(self._instance_key(self.instance))
        if self._pubsub is not None:
            with contextlib.suppress(Exception):
                await self._pubsub.aclose()
        await self._redis.aclose()

    async def _beat(self) -> None:
        ttl = max(1, int(self.heartbeat_ttl_seconds * 1000))
        await self._redis.set(self._instance_key(self.instance), "1", px=ttl)

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.heartbeat_seconds)
            try:
                await self._beat()
            except Exception as error:  # Redis away for a moment: keep trying
                log.warning("redis heartbeat failed: %s", error)

    async def _listen(self) -> None:
        while True:
            try:
                async for item in self._pubsub.listen():
                    await self._hand_over(item.get("data"))
            except asyncio.CancelledError:
                raise
            except Exception as error:
                log.warning("redis subscription lost (%s); subscribing again", error)
                await asyncio.sleep(1)

    async def _hand_over(self, data: Any) -> None:
        """One message from another instance; a malformed one is dropped and logged."""
        try:
            envelope = json.loads(data)
            if not isinstance(envelope, dict):
                raise ValueError("not an object")
        except (TypeError, ValueError) as error:
            log.warning("dropped a malformed message from another instance: %s", error)
            return
        if self._on_envelope is not None:
            try:
                await self._on_envelope(envelope)
            except Exception:
                log.exception("a message from another instance could not be delivered")

    @contextlib.asynccontextmanager
    async def _errors(self):  # type: ignore[no-untyped-def]
        import redis

        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError, OSError) as error:
            raise StoreUnavailable(f"the name store (Redis) cannot be reached: {error}") from None

    @staticmethod
    def _decode(text: str | None) -> NameRecord | None:
        if text is None:
            return None
        try:
            return NameRecord.from_json(text)
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed name record: %r", text[:200])
            return None

    async def get(self, name: str) -> NameRecord | None:
        async with self._errors():
            return self._decode(await self._redis.get(self._name_key(name)))

    async def get_many(self, names: Sequence[str]) -> list[NameRecord | None]:
        if not names:
            return []
        async with self._errors():
            values = await self._redis.mget([self._name_key(name) for name in names])
        return [self._decode(value) for value in values]

    async def swap(
        self,
        name: str,
        expected: NameRecord | None,
        new: NameRecord | None,
        keep_seconds: float | None = None,
    ) -> bool:
        import redis

        key = self._name_key(name)
        async with self._errors(), self._redis.pipeline(transaction=True) as pipe:
            try:
                await pipe.watch(key)
                if self._decode(await pipe.get(key)) != expected:
                    await pipe.unwatch()
                    return False
                pipe.multi()
                for index in indexes(expected) if expected else ():
                    pipe.srem(self._index_key(index), name)
                if new is None:
                    pipe.delete(key)
                else:
                    if keep_seconds is None:
                        pipe.set(key, new.to_json())
                    else:
                        pipe.set(key, new.to_json(), px=max(1, int(keep_seconds * 1000)))
                    for index in indexes(new):
                        pipe.sadd(self._index_key(index), name)
                        pipe.expire(self._index_key(index), INDEX_SECONDS)
                await pipe.execute()
                return True
            except redis.WatchError:
                return False

    async def held(self, index: str) -> list[str]:
        async with self._errors():
            return sorted(await self._redis.smembers(self._index_key(index)))

    async def forget(self, index: str, names: Sequence[str]) -> None:
        if names:
            async with self._errors():
                await self._redis.srem(self._index_key(index), *names)

    async def names(self) -> list[str]:
        prefix = self._name_key("")
        async with self._errors():
            keys = [key async for key in self._redis.scan_iter(match=f"{prefix}*", count=1000)]
        return sorted(key[len(prefix) :] for key in keys)

    async def send(self, instance: str, envelope: Envelope) -> None:
        async with self._errors():
            await self._redis.publish(self._channel(instance), json.dumps(envelope))

    async def broadcast(self, envelope: Envelope) -> None:
        await self.send("all", envelope)

    async def alive(self, instance: str) -> bool:
        # Asked on every signal to another instance's peer; a heartbeat seen lately will do.
        now = time.monotonic()
        if self._seen_alive.get(instance, -1.0) > now:
            return True
        async with self._errors():
            alive = bool(await self._redis.exists(self._instance_key(instance)))
        if alive:
            self._seen_alive[instance] = now + self.ALIVE_CACHE_SECONDS
        return alive

    def _value_key(self, key: str) -> str:
        return f"{self._prefix}:value:{key}"

    async def put_value(self, key: str, value: str, seconds: float) -> None:
        async with self._errors():
            await self._redis.set(self._value_key(key), value, px=max(1, int(seconds * 1000)))

    async def get_value(self, key: str) -> str | None:
        async with self._errors():
            return await self._redis.get(self._value_key(key))

    async def take_value(self, key: str) -> str | None:
        async with self._errors():
            return await self._redis.getdel(self._value_key(key))

    async def value_once(self, key: str, value: str) -> str:
        async with self._errors():
            await self._redis.set(self._value_key(key), value, nx=True)
            return await self._redis.get(self._value_key(key))
