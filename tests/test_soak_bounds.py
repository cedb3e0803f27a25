"""`nox -s soak`'s verdict (bench/soak.py): the run it recorded last passes, and a run with a
failed request or memory that kept growing does not."""

from __future__ import annotations

import copy
import json

from bench.soak import BENCH, failures


def test_the_recorded_soak_is_within_its_bounds_and_a_leak_is_not() -> None:
    recorded = json.loads((BENCH / "soak.json").read_text())
    assert failures(recorded) == []

    leaking = copy.deepcopy(recorded)
    leaking["errors"] = 3
    leaking["growth"]["worker_memory_mb"]["grew_mb"] = 16.0
    assert failures(leaking) == [
        f"3 of {recorded['requests']} requests failed",
        "worker_memory_mb grew by 16.0 MB after the warm-up (the most allowed: 4.0)",
    ]
