"""What every part of the benchmarks reports its figures with: medians and 99th percentiles over
repeated runs (``BENCH_REPEATS``, default 5), and a line of progress."""

from __future__ import annotations

import math
import os
import statistics

REPEATS = int(os.environ.get("BENCH_REPEATS", "5"))


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def p99(values: list[float]) -> float:
    ordered = sorted(values)
    return round(ordered[max(0, math.ceil(0.99 * len(ordered)) - 1)], 2)


def log(text: str) -> None:
    print(f"[bench] {text}", flush=True)
