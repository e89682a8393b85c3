"""Benchmarks: each `bench_*.py` module has `run(quick=False) -> list[Measurement]`."""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class Measurement:
    """One timed workload beside a baseline measured in the same run."""

    name: str
    seconds: float
    baseline_name: str
    baseline_seconds: float
    target: str = ""
    passed: bool | None = None  # None: informational, no target to meet

    @property
    def ratio(self) -> float:
        """How many baselines the workload costs."""
        return self.seconds / self.baseline_seconds if self.baseline_seconds else float("inf")


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Best wall-clock time of `repeat` calls (bounded: callers pick small repeats)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best
