"""Wall-clock timing of repeated calls, shared by the benchmarks."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def best_of(repeat: int, run: Callable[[], T]) -> tuple[float, list[float], T]:
    """Best wall time (s) of ``repeat`` (>= 1) calls of ``run()``, every time, and the last
    result."""
    times = []
    for _ in range(max(repeat, 1)):
        started = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - started)
    return min(times), times, result
