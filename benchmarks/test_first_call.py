"""First-call latency of bulk evaluation in a fresh process: cold compile vs warm cache.

The workload is :func:`fastlr.bench.first_call.fresh_process` (shared with ``fastlr bench``):
a new interpreter imports fastlr and Numba, initializes Numba's CPU target and times
``fastlr.evaluate(WarmupCosineDecay, 10**6)``; ``cold`` gets empty cache folders, ``warm`` the
folders a previous process filled (:func:`~fastlr.bench.first_call.fill`). The timed value is the
whole fresh process; the row (:func:`~fastlr.bench.first_call.row`) holds the median of every
phase measured inside the child, like ``fastlr bench``'s.
"""

from __future__ import annotations

import pytest

from fastlr.bench import first_call as fc


@pytest.mark.parametrize("cache", fc.CACHES)
def test_first_call_in_fresh_process(benchmark, record, cache):
    benchmark.group = "fresh process to the first 10**6 values (wall time)"
    runs: list[dict] = []
    warm_dir = fc.fill() if cache == "warm" else ""

    def once():
        runs.append(fc.fresh_process(fc.folder(cache, warm_dir)))

    benchmark.pedantic(once, rounds=3, iterations=1)
    row = fc.row(cache, runs)
    record.add("first_call", row)
    summary = ", ".join(f"{key[:-2]} {row[key]:.3f} s" for key in fc.PHASES)
    print(f"\n{cache} cache, medians inside the child: {summary}")
