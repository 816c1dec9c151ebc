"""Timing primitives shared by ``fastlr bench`` and the pytest-benchmark suites in ``benchmarks/``.

A measurement calls a prepared, already warmed-up callable: compilation and tracing happen when it
is prepared, outside the timed region. Times are wall-clock (:func:`time.perf_counter`); the
median is reported, with the minimum and the number of rounds beside it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class Timing:
    """Wall-clock statistics of one measured callable, in seconds per call."""

    median_s: float
    min_s: float
    rounds: int

    def as_dict(self) -> dict:
        return asdict(self)


def measure(
    fn: Callable[[], object], *, min_rounds: int = 3, max_rounds: int = 50, budget_s: float = 1.0
) -> Timing:
    """Call ``fn`` at least ``min_rounds`` times (at most ``max_rounds``), for about ``budget_s``.

    ``fn`` must already be warm (compiled, traced, its buffers faulted in).
    """
    times: list[float] = []
    spent = 0.0
    while len(times) < max_rounds and (len(times) < min_rounds or spent < budget_s):
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
    return Timing(median_s=median(times), min_s=min(times), rounds=len(times))


def median(values: list[float]) -> float:
    """The median of a non-empty list (the mean of the middle two for an even count)."""
    v = sorted(values)
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])
