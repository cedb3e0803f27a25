"""The cases of CPython's test_threading that make sense in the server tab: the generic tests of
its synchronisation primitives (Lib/test/lock_tests.py), run against threading's own classes
as test_threading runs them. The rest of test_threading tests what this runtime has not
(processes, signals, sub-interpreters, the C lock's internals)."""

import threading
import unittest

from test import lock_tests


class LockTests(lock_tests.LockTests):
    locktype = staticmethod(threading.Lock)


class PyRLockTests(lock_tests.RLockTests):
    locktype = staticmethod(threading._PyRLock)


class RLockTests(lock_tests.RLockTests):
    locktype = staticmethod(threading.RLock)


class EventTests(lock_tests.EventTests):
    eventtype = staticmethod(threading.Event)


class ConditionAsRLockTests(lock_tests.RLockTests):
    # Condition uses an RLock by default and exports its API.
    locktype = staticmethod(threading.Condition)

    def test_recursion_count(self):
        self.skipTest("Condition does not expose _recursion_count()")  # as in CPython's


class ConditionTests(lock_tests.ConditionTests):
    condtype = staticmethod(threading.Condition)


class SemaphoreTests(lock_tests.SemaphoreTests):
    semtype = staticmethod(threading.Semaphore)


class BoundedSemaphoreTests(lock_tests.BoundedSemaphoreTests):
    semtype = staticmethod(threading.BoundedSemaphore)


class BarrierTests(lock_tests.BarrierTests):
    barriertype = staticmethod(threading.Barrier)


if __name__ == "__main__":
    unittest.main()
