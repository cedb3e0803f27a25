"""The event loop the ASGI bridge (:mod:`server_py.asgi`) runs apps on, and anyio's blocking
portal on the same kind of loop, for a worker where Pyodide's own loop cannot turn while Python
runs.

This leans on asyncio's internals, which no public API offers: ``BaseEventLoop._run_once``
asks ``self._selector.select(timeout)`` for events and hands them to
``self._process_events``; the ready callbacks and the timers are the lists ``_ready`` and
``_scheduled``; ``call_soon_threadsafe`` wakes the loop with ``_write_to_self``; and
``asyncio._get_running_loop``/``_set_running_loop`` say which loop counts as running.
tests/server_py/test_event_loop.py checks each of these, so that a Python upgrade that changes
one fails there, by name, rather than as a site that hangs.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import inspect
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from server_py import threads


class EventLoop(asyncio.BaseEventLoop):
    """An asyncio loop with callbacks and timers but no I/O.

    A browser worker has no sockets to select on (Pyodide cannot even make the self-pipe that
    asyncio's selector loop needs), so waiting for the next timer is a plain sleep, and waiting
    with no timer at all means the app waits for something that cannot happen: an error, not
    a hang. ``BaseEventLoop`` asks this of ``self._selector`` once per turn. Where the site's
    threads run and the loop's driver can wait, it waits between turns instead
    (``run_until_done``), and work handed to the default executor (``run_in_executor(None,
    ...)``, ``asyncio.to_thread``) runs on a thread; elsewhere that runs inline, as anyio's
    work does (see :func:`_threads_inline`).
    """

    def __init__(self) -> None:
        super().__init__()
        self._selector = self
        self._waiting: set[threads.Flag] = set()  # drivers waiting between turns
        self._threads_answer = False  # whether the turn running now can wait for a thread

    def run_in_executor(self, executor: Any, func: Callable[..., Any], *args: Any):
        if executor is None and not self._threads_answer:
            executor = _InlineExecutor()
        return super().run_in_executor(executor, func, *args)

    def turn(self) -> tuple[bool, float | None]:
        """See :meth:`ASGIBridge.run_ready`."""
        self._threads_answer = threads.can_wait()
        with _private(self):
            return self.run_ready()

    def run_until_done(self, future: asyncio.Future[Any]) -> None:
        """``run_until_complete(future)``, also where another loop counts as running; where
        the site's threads run, waiting between turns (see the module's docstring)."""
        if not threads.can_wait():
            self._threads_answer = False
            with _private(self):
                self.run_until_complete(future)
            return
        while not future.done():
            woken = threads.Flag()
            self._waiting.add(woken)  # before the turn: what it wakes is not missed
            try:
                _, next_timer = self.turn()
                if not future.done():
                    woken.wait(next_timer)
            finally:
                self._waiting.discard(woken)

    def select(self, timeout: float | None) -> list[Any]:
        if timeout is None:
            raise RuntimeError(
                "the ASGI app is waiting for an event that never comes (no timer is set and "
                "there is no other I/O in the browser)"
            )
        if timeout > 0:
            time.sleep(timeout)
        return []

    def _process_events(self, event_list: list[Any]) -> None:
        pass

    def _write_to_self(self) -> None:
        """Work for the loop (from another thread, or a future its drivers wait on settled):
        the drivers waiting between turns turn it."""
        for woken in self._waiting:
            woken.set()

    def run_ready(self) -> tuple[bool, float | None]:
        """See :meth:`ASGIBridge.run_ready`. A stop queued behind the ready callbacks ends
        each turn without waiting; ``_ready`` and ``_scheduled`` are the base loop's queues."""
        ran = False
        while self._ready or self._next_timer() == 0:
            ran = True
            self.call_soon(self.stop)
            self.run_forever()
        return ran, self._next_timer()

    def _next_timer(self) -> float | None:
        live = [handle.when() for handle in self._scheduled if not handle.cancelled()]
        return max(0.0, min(live) - self.time()) if live else None


class _InlineExecutor(concurrent.futures.Executor):
    """An executor that runs each call at once, in the calling thread: the loop's turn."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any):
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:
            future.set_exception(error)
        return future


@contextlib.contextmanager
def _private(loop: asyncio.AbstractEventLoop) -> Iterator[None]:
    """Where ``loop`` may run although another loop counts as running.

    Under Pyodide the host's event loop is always "running"; it cannot turn while Python runs
    anyway, so it is set aside for the moment. The site's threads do not switch meanwhile.
    """
    host = asyncio._get_running_loop()
    asyncio._set_running_loop(None)
    try:
        with _threads_inline(), threads.held():
            yield
    finally:
        asyncio._set_running_loop(host)


@contextlib.contextmanager
def _threads_inline() -> Iterator[None]:
    """Run anyio's thread work inline while the bridge's loop runs.

    anyio hands blocking calls (Starlette's sync endpoints, file reads) to worker threads. The
    bridge's loop could not hear back from one while it turns (see ``threads.held``): such calls
    run inline, one at a time, as a WSGI app's code does.
    """
    to_thread = sys.modules.get("anyio.to_thread")
    if to_thread is None:
        yield
        return
    import anyio.lowlevel

    async def run_sync(func: Callable[..., Any], *args: Any, **_options: Any) -> Any:
        await anyio.lowlevel.checkpoint()
        return func(*args)

    threaded, to_thread.run_sync = to_thread.run_sync, run_sync
    try:
        yield
    finally:
        to_thread.run_sync = threaded


class InlinePortal:
    """anyio's blocking portal for a Python that cannot start threads.

    A blocking portal runs async code for synchronous callers, on an event loop in a thread of
    its own; Starlette's (and so FastAPI's) ``TestClient`` opens one for each client. The
    server tab's worker has one thread: here the portal's loop is a private one (as the
    bridge's), turned by each call until the call is done. Tasks started with
    :meth:`start_task_soon` (the test client's lifespan) go on between calls. What needs a
    second thread to talk to the loop while it waits (the test client's WebSocket sessions,
    which block on a queue) cannot work this way.
    """

    def __init__(self) -> None:
        self._loop = EventLoop()
        self._tasks: set[asyncio.Task[Any]] = set()

    def call(self, func: Callable[..., Any], *args: Any) -> Any:
        """``func(*args)``, awaited if it is async, run inside the portal's loop (anyio looks
        for a running loop even in synchronous calls: ``CancelScope()``, ``Event()``)."""
        task = self._loop.create_task(_in_loop(func, args))
        self._loop.run_until_done(task)
        return task.result()

    def start_task_soon(
        self, func: Callable[..., Awaitable[Any]], *args: Any, name: object = None
    ) -> concurrent.futures.Future[Any]:
        future: concurrent.futures.Future[Any] = concurrent.futures.Future()
        task = self._loop.create_task(_in_loop(func, args))
        self._tasks.add(task)

        def done(task: asyncio.Task[Any]) -> None:
            self._tasks.discard(task)
            if task.cancelled():
                future.cancel()
            elif task.exception() is not None:
                future.set_exception(task.exception())  # type: ignore[arg-type]
            else:
                future.set_result(task.result())

        task.add_done_callback(done)
        return future

    @contextlib.contextmanager
    def wrap_async_context_manager(self, manager: Any) -> Iterator[Any]:
        value = self.call(manager.__aenter__)
        try:
            yield value
        except BaseException as error:
            if not self.call(manager.__aexit__, type(error), error, error.__traceback__):
                raise
        else:
            self.call(manager.__aexit__, None, None, None)

    def stop(self) -> None:
        """Cancel the tasks still running, let them end, and close the loop."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            gathered = asyncio.gather(*self._tasks, return_exceptions=True)
            self._loop.run_until_done(gathered)  # type: ignore[arg-type]
        self._loop.close()


async def _in_loop(func: Callable[..., Any], args: tuple[Any, ...]) -> Any:
    result = func(*args)
    return await result if inspect.isawaitable(result) else result


@contextlib.contextmanager
def start_blocking_portal(*_args: Any, **_options: Any) -> Iterator[InlinePortal]:
    """``anyio.from_thread.start_blocking_portal`` where no thread can start (see
    :class:`InlinePortal`)."""
    portal = InlinePortal()
    try:
        yield portal
    finally:
        portal.stop()
