"""First-call latency of bulk evaluation in a fresh process: cold compile vs warm cache.

The workload is :func:`fastlr.bench.first_call.fresh_process` (shared with ``fastlr bench``):
a new interpreter imports fastlr and Numba, initializes Numba's CPU target and times
``fastlr.evaluate(WarmupCosineDecay, 10**6)``; ``cold`` gets empty cache folders, ``warm`` the
folders a previous process filled. The timed value is the whole fresh process; the phases measured
inside the child are printed and kept in ``extra_info`` (``--benchmark-json``).
"""

from __future__ import annotations

import tempfile

import pytest

from fastlr.bench.first_call import PHASES, fresh_process
from fastlr.bench.timing import median


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_first_call_in_fresh_process(benchmark, cache):
    benchmark.group = "fresh process to the first 10**6 values (wall time)"
    phases: list[dict] = []
    warm_dir = tempfile.mkdtemp(prefix="fastlr-warm-")
    if cache == "warm":
        fresh_process(warm_dir)  # fill the caches once

    def once():
        folder = tempfile.mkdtemp(prefix="fastlr-cold-") if cache == "cold" else warm_dir
        phases.append(fresh_process(folder))

    benchmark.pedantic(once, rounds=3, iterations=1)
    summary = []
    for key in PHASES:
        mid = median([p[key] for p in phases])
        benchmark.extra_info[f"{key[:-2]}_median_s"] = mid
        summary.append(f"{key[:-2]} {mid:.3f} s")
    print(f"\n{cache} cache, medians inside the child: " + ", ".join(summary))
