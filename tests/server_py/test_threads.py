"""server_py/threads.py's lock, driven directly: what a wait that runs out at the moment the lock
is handed over leaves (the site's threads themselves run in tests/e2e/test_threads.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from server_py.threads import Lock


class Signal:
    def __init__(self) -> None:
        self.given = False

    def give(self) -> None:
        self.given = True


class Scheduler:
    """Waits that do not switch: ``meanwhile()`` is what the other threads do during one,
    and a wait always runs out (it says whether its signal was given before that)."""

    def __init__(self) -> None:
        self.hooks = self
        self.meanwhile: Callable[[], None] = lambda: None

    def signal(self) -> Signal:
        return Signal()

    def can_wait(self) -> bool:
        return True

    def wait_for(self, signal: Signal, timeout: float | None) -> bool:
        self.meanwhile()
        return False  # the wait ran out, whatever happened meanwhile


@pytest.fixture
def scheduler(monkeypatch: pytest.MonkeyPatch) -> Scheduler:
    scheduler = Scheduler()
    monkeypatch.setattr(Lock, "scheduler", scheduler, raising=False)
    return scheduler


def test_a_wait_that_runs_out_gives_up_its_place(scheduler: Scheduler) -> None:
    lock = Lock()
    assert lock.acquire()
    assert lock.acquire(timeout=0.1) is False
    lock.release()  # no waiter left to hand it to: it is free
    assert not lock.locked()


def test_a_lock_handed_over_as_the_wait_runs_out_is_held(scheduler: Scheduler) -> None:
    """The owner releases it to the waiter, whose wait runs out before it runs again: the
    waiter holds the lock (else nobody would, and it would stay locked for ever)."""
    lock = Lock()
    assert lock.acquire()
    scheduler.meanwhile = lock.release
    assert lock.acquire(timeout=0.1) is True
    assert lock.locked()
    scheduler.meanwhile = lambda: None
    lock.release()
    assert not lock.locked()


def test_acquire_checks_its_arguments_as_cpython_does(scheduler: Scheduler) -> None:
    lock = Lock()
    with pytest.raises(ValueError, match="non-blocking"):
        lock.acquire(False, 1)
    with pytest.raises(ValueError, match="non-negative"):
        lock.acquire(timeout=-2)
    assert repr(lock).startswith("<unlocked server_py.threads.Lock object at 0x")
