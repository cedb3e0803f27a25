"""What server_py.event_loop takes from asyncio's internals is still there, by name: a Python
upgrade that changes one of them fails here, not as a site that hangs."""

from __future__ import annotations

import asyncio
import collections
import inspect

from server_py.event_loop import EventLoop


def test_asyncio_still_has_what_the_loop_relies_on() -> None:
    run_once = inspect.getsource(asyncio.BaseEventLoop._run_once)
    assert "self._selector.select(timeout)" in run_once
    assert "self._process_events(event_list)" in run_once
    assert "self._write_to_self()" in inspect.getsource(asyncio.BaseEventLoop.call_soon_threadsafe)
    assert callable(asyncio._get_running_loop) and callable(asyncio._set_running_loop)
    loop = asyncio.BaseEventLoop()
    try:
        assert isinstance(loop._ready, collections.deque)
        assert isinstance(loop._scheduled, list)
    finally:
        loop.close()


def test_the_loop_runs_callbacks_and_timers_and_says_when_the_next_is_due() -> None:
    loop = EventLoop()
    heard: list[str] = []
    try:
        loop.call_soon(heard.append, "soon")
        loop.call_later(0.01, heard.append, "later")
        ran, next_timer = loop.turn()
        assert ran and heard == ["soon"]
        assert next_timer is not None and 0 <= next_timer <= 0.01
        task = loop.create_task(asyncio.sleep(0.02, result="slept"))
        loop.run_until_done(task)
        assert task.result() == "slept" and heard == ["soon", "later"]
        assert loop.turn() == (False, None)  # nothing left to run, no timer
    finally:
        loop.close()
