"""Threads for the server tab's Python, which has one thread of its own: cooperative threads on
stacks of their own, switched where they wait.

Pyodide runs in a Web Worker, on that worker's one thread. With JavaScript Promise Integration
(stack switching, which Chromium has shipped since version 137), a call into Python made with
``callPromising`` can suspend (:func:`pyodide.ffi.run_sync`) until a promise settles, while the
worker's event loop goes on and other calls into Python run, each on a stack of its own. That is
the shape of a thread that runs until it waits: this module makes ``threading``'s threads so,
and makes what waits (locks and all built on them: ``Condition``, ``Event``, ``Semaphore``,
``queue.Queue``, ``Thread.join``, ``concurrent.futures``; ``time.sleep``) suspend the waiting
thread instead of the whole worker. A thread that never waits keeps the others from running, as
one Python thread holding the GIL would; the server tab's time limit stops it, as it stops a
request that runs too long.

Each thread, and each connection the server serves (as a threaded server would), has an
identity of its own (``get_ident``), so that ``threading.local`` and ``current_thread()`` tell
them apart. Only one of them runs at a time, and they switch only where they wait: code between
two waits runs alone, as under the GIL between two blocking calls.

What this relies on, besides ``run_sync``: CPython's ``threading`` as of 3.14 (the names in
``_THREADING_NAMES``, which ``install`` checks, refusing loudly where they changed: a test of the
runtime fails then), ``queue._PySimpleQueue``, and ``_threading_local``.
"""

from __future__ import annotations

import _thread
import _threading_local
import collections
import contextlib
import contextvars
import itertools
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

# What threading must have for this module to replace its threads (CPython 3.14).
_THREADING_NAMES = (
    "_start_joinable_thread", "_ThreadHandle", "_allocate_lock", "_CRLock", "_active",
    "_limbo", "_active_limbo_lock", "get_ident", "Lock", "local",
)  # fmt: skip

Hooks = Any  # runtime/python-worker/threads.js's: see Scheduler


class ThreadsUnavailable(RuntimeError):
    """What ``Thread.start`` raises where this Python cannot run threads, with the reason."""


class Scheduler:
    """Which cooperative thread runs now, and the waits that switch between them.

    ``hooks`` are the worker's (runtime/python-worker/threads.js): ``spawn(run, ident, name)``
    calls ``run`` soon as a call that may suspend; ``running(ident)`` and
    ``waiting(ident, suspended)`` say when a thread's code runs and stops running, waiting
    (``suspended``) or returning (the time limit counts only the first);
    ``sleep(ms)``, ``signal()`` (a promise, and ``give()`` that settles it) and
    ``within(promise, ms)`` (whether it settled in time) are what waits wait on."""

    def __init__(
        self, hooks: Hooks, run_sync: Callable[[Any], Any], can_run_sync: Callable[[], bool]
    ) -> None:
        self.hooks = hooks
        self._run_sync = run_sync
        self._can_run_sync = can_run_sync
        self.main = _thread.get_ident()
        self.current = self.main
        self._idents = itertools.count(self.main + 1)
        # Each thread's context variables, as each CPython thread has its own (Pyodide would
        # give each call from the worker a new context: a streamed response's generator, ended
        # in a later call than the one that started it, could not reset what it set).
        self._contexts: dict[int, contextvars.Context] = {}
        self._inside: set[int] = set()  # threads a call runs in now (or waits in)
        self.unsuspendable = 0  # > 0 while code runs that must not be suspended (see held)

    def new_ident(self) -> int:
        return next(self._idents)

    def call_as(self, ident: int, function: Callable[..., Any], *args: Any) -> Any:
        """Run ``function(*args)`` as the thread ``ident`` (a call from the worker), in its
        context; a second call while one waits (a taken socket closing) in a copy of it."""
        context = self._contexts.setdefault(ident, contextvars.Context())
        entered = ident not in self._inside
        run = context.run if entered else context.copy().run
        previous = self.current
        self.current = ident
        self._inside.add(ident)
        self.hooks.running(ident)
        try:
            return run(function, *args)
        finally:
            self.hooks.waiting(ident, False)
            if entered:
                self._inside.discard(ident)
            self.current = previous

    def forget(self, ident: int) -> None:
        """Thread ``ident`` ended (its connection closed)."""
        self._contexts.pop(ident, None)

    def can_wait(self) -> bool:
        return self.unsuspendable == 0 and self._can_run_sync()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Run what follows without switching threads: what would wait there waits as it
        does where threads cannot run (a sleep blocks; a lock held by another thread is an
        error). An ASGI app's private event loop runs so: a call suspended inside its turn
        never resumes (Pyodide's stack switching, measured), and another connection could not
        turn the loop meanwhile."""
        self.unsuspendable += 1
        try:
            yield
        finally:
            self.unsuspendable -= 1

    def wait(self, promise: Any) -> Any:
        """Suspend the running thread until ``promise`` settles; the others run meanwhile."""
        if not self.can_wait():
            raise RuntimeError(
                "this code waits for another thread where Python cannot wait (while the site "
                "loads, or inside an ASGI app's event loop): wait for it in a WSGI request, "
                "or in a thread of the site's"
            )
        me = self.current
        self.hooks.waiting(me, True)
        try:
            return self._run_sync(promise)
        finally:
            self.current = me
            self.hooks.running(me)

    def wait_for(self, signal: Any, timeout: float | None) -> bool:
        """Wait for ``signal`` (from ``hooks.signal()``), at most ``timeout`` seconds (None or
        negative: for ever); whether it was given."""
        if timeout is None or timeout < 0:
            self.wait(signal.promise)
            return True
        return bool(self.wait(self.hooks.within(signal.promise, timeout * 1000)))

    def sleep(self, seconds: float) -> None:
        self.wait(self.hooks.sleep(seconds * 1000))


class Lock:
    """A lock whose ``acquire`` makes the thread wait (the others run), handed over to the
    longest waiter on ``release``: what ``_thread.allocate_lock`` and ``threading.Lock`` make
    here. A class, as ``threading.Lock`` is one (Werkzeug keeps it as a class attribute)."""

    scheduler: Scheduler  # the installed one (see install)

    def __init__(self) -> None:
        self._scheduler = self.scheduler
        self._locked = False
        self._waiters: collections.deque[Any] = collections.deque()  # their signals, in order

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        _check_timeout(blocking, timeout)
        if not self._locked:
            self._locked = True
            return True
        if not blocking or (timeout >= 0 and not self._scheduler.can_wait()):
            return False
        handed = self._scheduler.hooks.signal()
        self._waiters.append(handed)
        if self._scheduler.wait_for(handed, timeout) or handed not in self._waiters:
            return True  # released to this thread (maybe as its wait ran out): it holds it
        self._waiters.remove(handed)
        return False

    def release(self) -> None:
        if not self._locked:
            raise RuntimeError("release unlocked lock")
        if self._waiters:
            self._waiters.popleft().give()  # it holds the lock now: it stays locked
        else:
            self._locked = False

    def locked(self) -> bool:
        return self._locked

    def _at_fork_reinit(self) -> None:
        self._locked = False
        self._waiters.clear()

    acquire_lock = acquire
    release_lock = release
    locked_lock = locked

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(self, *exc_info: object) -> None:
        self.release()

    def __repr__(self) -> str:
        kind = f"{type(self).__module__}.{type(self).__qualname__}"
        return f"<{'locked' if self._locked else 'unlocked'} {kind} object at {id(self):#x}>"


def _check_timeout(blocking: bool, timeout: float) -> None:
    """A lock's ``acquire`` arguments, checked as CPython's ``_thread`` checks them."""
    if not blocking and timeout != -1:
        raise ValueError("can't specify a timeout for a non-blocking call")
    if timeout < 0 and timeout != -1:
        raise ValueError("timeout value must be a non-negative number")
    if timeout > _thread.TIMEOUT_MAX:
        raise OverflowError("timeout value is too large")


class Flag:
    """What threads wait for until it is set; ``set`` never waits, so that code outside any
    thread (the worker handing over what a visitor sent) may set it."""

    def __init__(self, scheduler: Scheduler | None = None) -> None:
        self._scheduler = scheduler or Lock.scheduler
        self._set = False
        self._signal = self._scheduler.hooks.signal()

    def set(self) -> None:
        if not self._set:
            self._set = True
            self._signal.give()

    def clear(self) -> None:
        if self._set:
            self._set = False
            self._signal = self._scheduler.hooks.signal()

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float | None = None) -> bool:
        if not self._set:
            self._scheduler.wait_for(self._signal, timeout)
        return self._set


class ThreadHandle:
    """What ``threading.Thread`` keeps of its thread (``_thread._ThreadHandle`` in CPython)."""

    def __init__(self, scheduler: Scheduler, ident: int | None = None) -> None:
        self._scheduler = scheduler
        self.ident = ident
        self._finished = Flag(scheduler)

    def join(self, timeout: float | None = None) -> None:
        if self.ident == self._scheduler.current:
            raise RuntimeError("Cannot join current thread")
        self._finished.wait(timeout)

    def is_done(self) -> bool:
        return self._finished.is_set()

    def _set_done(self) -> None:
        self._finished.set()


class Threads:
    """Starting threads. ``lasting(run)`` makes a callable that JavaScript may keep (Pyodide's
    ``create_proxy``)."""

    def __init__(self, scheduler: Scheduler, lasting: Callable[[Callable[[], None]], Any]) -> None:
        self.scheduler = scheduler
        self._lasting = lasting

    def start_joinable_thread(
        self, function: Callable[[], None], handle: ThreadHandle | None = None, daemon: bool = True
    ) -> ThreadHandle:
        scheduler = self.scheduler
        if handle is None:
            handle = ThreadHandle(scheduler)
        ident = scheduler.new_ident()
        handle.ident = ident
        thread = getattr(function, "__self__", None)
        name = f"thread {ident}"
        if isinstance(thread, threading.Thread):
            # Thread.start waits for the thread to have started, which a caller that cannot
            # wait (code run as the site loads) could not: it has, as far as it can tell.
            thread._ident = ident
            thread._started.set()
            name = thread.name

        def run() -> None:
            try:
                scheduler.call_as(ident, function)
            except SystemExit:
                pass
            except BaseException:
                sys.excepthook(*sys.exc_info())
            finally:
                scheduler.forget(ident)
                handle._set_done()

        scheduler.hooks.spawn(self._lasting(run), ident, name)
        return handle

    def start_new_thread(
        self, function: Callable[..., Any], args: tuple = (), kwargs: dict | None = None
    ) -> int:
        handle = self.start_joinable_thread(lambda: function(*args, **(kwargs or {})))
        assert handle.ident is not None
        return handle.ident


def installed() -> bool:
    """Whether threads run here (``install`` was called)."""
    return hasattr(Lock, "scheduler")


def can_wait() -> bool:
    """Whether the code running now may wait for another thread (threads run here, and it runs
    as one of them)."""
    return installed() and Lock.scheduler.can_wait()


def held() -> contextlib.AbstractContextManager[None]:
    """See :meth:`Scheduler.held` (nothing to hold where threads do not run)."""
    return Lock.scheduler.held() if installed() else contextlib.nullcontext()


def install(hooks: Hooks) -> Scheduler:
    """Make this Python's threads cooperative ones (see the module's docstring), on the
    worker's ``hooks`` (see :class:`Scheduler`)."""
    from pyodide.ffi import can_run_sync, create_proxy, run_sync

    missing = [name for name in _THREADING_NAMES if not hasattr(threading, name)]
    if missing:
        raise RuntimeError(f"threading has changed (no {', '.join(missing)}): threads are off")
    scheduler = Scheduler(hooks, run_sync, can_run_sync)
    threads = Threads(scheduler, create_proxy)

    Lock.scheduler = scheduler

    def get_ident() -> int:
        return scheduler.current

    # Pyodide's own time.sleep switches stacks where it can: what it wraps blocks.
    blocking_sleep = getattr(time.sleep, "__wrapped__", time.sleep)

    def sleep(seconds: float, _sleep: Callable[[float], None] = blocking_sleep) -> None:
        if seconds < 0:
            raise ValueError("sleep length must be non-negative")
        if scheduler.can_wait():
            scheduler.sleep(seconds)
        else:
            _sleep(seconds)

    _thread.allocate_lock = Lock
    _thread.allocate = Lock
    _thread.LockType = Lock
    _thread.get_ident = get_ident
    _thread.start_new_thread = threads.start_new_thread
    _thread.start_new = threads.start_new_thread
    _thread.start_joinable_thread = threads.start_joinable_thread
    _thread._local = _threading_local.local
    threading._allocate_lock = Lock
    threading.Lock = Lock
    threading._CRLock = None  # RLock: threading's own, on these locks
    threading.get_ident = get_ident
    threading._start_joinable_thread = threads.start_joinable_thread
    threading._ThreadHandle = lambda: ThreadHandle(scheduler)
    threading.local = _threading_local.local
    queue.SimpleQueue = queue._PySimpleQueue
    time.sleep = sleep
    return scheduler


def refuse(reason: str) -> None:
    """This Python cannot run threads (``reason``): starting one says why."""

    def unavailable(*_args: Any, **_kwargs: Any) -> Any:
        raise ThreadsUnavailable(f"can't start new thread: {reason}")

    _thread.start_new_thread = unavailable
    _thread.start_joinable_thread = unavailable
    threading._start_joinable_thread = unavailable
