"""First-call latency of bulk evaluation in a fresh process: cold compile vs warm cache.

Each round starts a new Python process that imports fastlr and Numba, initializes Numba's CPU
target (its own one-time cost, which includes probing SciPy's BLAS when SciPy is installed), then
times ``fastlr.evaluate(WarmupCosineDecay, 10**6)``. ``cold`` uses empty cache folders, ``warm``
the folders a previous process filled. The phases are in ``extra_info``; the timed value is the
whole fresh process (interpreter start to the first 10**6 values), and the phases measured
inside the child (import, Numba's init, fastlr's first call) are printed and kept in
``extra_info`` (``--benchmark-json``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

SCRIPT = r"""
import json, time
t0 = time.perf_counter()
import numba, numpy as np
import fastlr
t1 = time.perf_counter()
from numba.core.registry import cpu_target
cpu_target.target_context.refresh(); cpu_target.typing_context.refresh()
t2 = time.perf_counter()
s = fastlr.WarmupCosineDecay(0.1, 10**6, warmup_steps=1000, min_lr=1e-5)
fastlr.evaluate(s, 10**6)
t3 = time.perf_counter()
print("PHASES" + json.dumps({"import": t1 - t0, "numba_init": t2 - t1, "first_call": t3 - t2}))
"""


def _fresh_process(cache: str) -> dict:
    env = {**os.environ, "FASTLR_CACHE_DIR": cache + "/k", "NUMBA_CACHE_DIR": cache + "/n"}
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    line = next(x for x in out.stdout.splitlines() if x.startswith("PHASES"))
    return json.loads(line[len("PHASES") :])


@pytest.mark.parametrize("cache", ["cold", "warm"])
def test_first_call_in_fresh_process(benchmark, cache):
    benchmark.group = "fresh process to the first 10**6 values (wall time)"
    phases: list[dict] = []
    warm_dir = tempfile.mkdtemp(prefix="fastlr-warm-")
    if cache == "warm":
        _fresh_process(warm_dir)  # fill the caches once

    def once():
        folder = tempfile.mkdtemp(prefix="fastlr-cold-") if cache == "cold" else warm_dir
        p = _fresh_process(folder)
        phases.append(p)
        return p

    benchmark.pedantic(once, rounds=3, iterations=1)
    summary = []
    for key in ("import", "numba_init", "first_call"):
        values = sorted(p[key] for p in phases)
        benchmark.extra_info[f"{key}_median_s"] = values[len(values) // 2]
        summary.append(f"{key} {values[len(values) // 2]:.3f} s")
    print(f"\n{cache} cache, medians inside the child: " + ", ".join(summary))
