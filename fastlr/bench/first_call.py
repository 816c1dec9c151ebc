"""First-call latency of bulk evaluation in a fresh process: cold compile vs warm cache.

Each measurement starts a new Python process that imports fastlr and Numba, initializes Numba's
CPU target (its own one-time cost, which includes probing SciPy's BLAS when SciPy is installed),
then times ``fastlr.evaluate(WarmupCosineDecay, 10**6)``. ``cold`` gives the process empty cache
folders; ``warm`` gives it folders a previous process filled. The whole process (interpreter start
to the first 10**6 values) is timed from outside; the phases are timed inside the child.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time

from fastlr.bench.timing import median

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
phases = {"import_s": t1 - t0, "numba_init_s": t2 - t1, "first_call_s": t3 - t2}
print("PHASES" + json.dumps(phases))
"""

PHASES = ("import_s", "numba_init_s", "first_call_s")
CACHES = ("cold", "warm")


def fresh_process(cache: str) -> dict[str, float]:
    """Run :data:`SCRIPT` in a new interpreter with its caches under ``cache``.

    Returns the child's phases and ``total_s``, the wall time of the whole process.
    """
    env = {**os.environ, "FASTLR_CACHE_DIR": cache + "/k", "NUMBA_CACHE_DIR": cache + "/n"}
    t0 = time.perf_counter()
    out = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    total = time.perf_counter() - t0
    if out.returncode != 0:
        raise RuntimeError(f"first-call child failed:\n{out.stderr[-2000:]}")
    line = next(x for x in out.stdout.splitlines() if x.startswith("PHASES"))
    return {**json.loads(line[len("PHASES") :]), "total_s": total}


def folder(cache: str, warm_dir: str) -> str:
    """The cache folder of one fresh process: a new empty one (``cold``) or ``warm_dir``, which
    :func:`fill` filled (``warm``)."""
    if cache not in CACHES:
        raise ValueError(f"Argument `cache` must be one of {CACHES}. Received: cache={cache!r}")
    return tempfile.mkdtemp(prefix="fastlr-cold-") if cache == "cold" else warm_dir


def fill() -> str:
    """A cache folder that one fresh process has filled (the ``warm`` processes reuse it)."""
    warm_dir = tempfile.mkdtemp(prefix="fastlr-warm-")
    fresh_process(warm_dir)
    return warm_dir


def row(cache: str, runs: list[dict[str, float]]) -> dict:
    """The result row of ``runs`` (:func:`fresh_process` results): the median of every phase."""
    out: dict = {"cache": cache, "rounds": len(runs)}
    for key in (*PHASES, "total_s"):
        out[key] = median([r[key] for r in runs])
    return out


def first_call(*, rounds: int = 3, progress=lambda msg: None) -> list[dict]:
    """Median phases of ``rounds`` cold and ``rounds`` warm fresh processes (one row each)."""
    warm_dir = fill()
    rows = []
    for cache in CACHES:
        runs = []
        for i in range(rounds):
            progress(f"first call, {cache} cache, process {i + 1}/{rounds}")
            runs.append(fresh_process(folder(cache, warm_dir)))
        rows.append(row(cache, runs))
    return rows
