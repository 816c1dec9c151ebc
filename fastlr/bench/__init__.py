"""Benchmark runners shared by ``fastlr bench`` and the pytest-benchmark suites in ``benchmarks/``.

* :mod:`fastlr.bench.throughput`: bulk evaluation per family x N x engine, and cost vs cycles;
* :mod:`fastlr.bench.training`: what a schedule costs per step inside ``model.fit``;
* :mod:`fastlr.bench.first_call`: fresh-process latency, cold compile vs warm cache;
* :mod:`fastlr.bench.cuda`: the GPU rows (numba-cuda vs CuPy vs JAX, with the copy bandwidth);
* :mod:`fastlr.bench.report`: ``results.json`` -> ``report.md``, PNG plots and the README table.

:func:`run` runs the suite and returns the results as one JSON-ready dict.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from collections.abc import Callable
from typing import Any

from fastlr.bench.timing import Timing, measure

__all__ = ["SECTIONS", "Timing", "bulk", "bulk_plan", "cycles", "environment", "measure", "run"]

Progress = Callable[[str], None]


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gib() -> float | None:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    return round(int(line.split()[1]) / 2**20, 1)
    except OSError:
        pass
    return None


def environment() -> dict[str, Any]:
    """The machine and the versions a result depends on."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in ("fastlr", "numpy", "numba", "llvmlite", "tensorflow", "keras", "numba-cuda"):
        try:
            versions[pkg] = version(pkg)
        except PackageNotFoundError:
            versions[pkg] = None
    return {
        "node": platform.node(),
        "cpu": _cpu_model(),
        "cores": os.cpu_count(),
        "memory_gib": _memory_gib(),
        "platform": platform.platform(),
        "python": sys.version.split()[0],
        "versions": versions,
    }


SECTIONS = ("bulk", "cycles", "step", "first-call")
"""What :func:`run` can measure (``fastlr bench --only``)."""


def bulk_plan(quick: bool) -> list[tuple[int, list[str]]]:
    """``[(N, families)]``: full: every family at every N; quick: every family at 10**6 and
    the N sweep (10**3 .. 10**7) on WarmupCosineDecay."""
    from fastlr.bench import throughput as tp

    if quick:
        plan = [(n, ["WarmupCosineDecay"]) for n in (10**3, 10**5, 10**7)]
        plan.insert(2, (10**6, list(tp.families(10**6))))
        return plan
    return [(n, list(tp.families(n))) for n in tp.SIZES]


def bulk(
    plan: list[tuple[int, list[str]]], *, budget_s: float = 1.0, progress: Progress = print
) -> list[dict]:
    """Time every engine on every ``(N, family)`` of ``plan``, plus ``np.fill`` at each N.

    Rows: ``family, schedule, engine, n, median_s, min_s, rounds, extrapolated``.
    """
    from fastlr.bench import throughput as tp

    total = sum(len(names) * (len(tp.ENGINES) - 1) + 1 for _, names in plan)
    rows, done = [], 0
    for n, names in plan:
        out = tp.buffer(n)
        schedules = tp.families(n)
        # every engine but fill on each family, then fill once for this N
        cells = [(f, e) for f in names for e in tp.ENGINES if e != "fill"] + [(None, "fill")]
        for family, engine in cells:
            done += 1
            fn, scale = tp.prepare(engine, schedules.get(family), out)
            t = measure(fn, min_rounds=3 if n <= 10**7 else 2, budget_s=budget_s)
            row = {
                "family": family or "-",
                "schedule": repr(schedules[family]) if family else "-",
                "engine": engine,
                "n": n,
                "median_s": t.median_s * scale,
                "min_s": t.min_s * scale,
                "rounds": t.rounds,
                "extrapolated": scale != 1.0,
            }
            rows.append(row)
            progress(
                f"[{done}/{total}] bulk N={n:.0e} {row['family']} {engine}: "
                f"{n / row['median_s'] / 1e6:,.1f} M steps/s"
            )
        del out
    return rows


def cycles(quick: bool, progress: Progress = print) -> list[dict]:
    """fastlr's time on the same N with 1 to 4096 cycles (see ``throughput.cycle_schedules``)."""
    from fastlr.bench import throughput as tp

    n = 10**6 if quick else 25 * 10**6
    out = tp.buffer(n)
    rows = []
    for (family, cycles), schedule in tp.cycle_schedules(n).items():
        fn, _ = tp.prepare("fastlr", schedule, out)
        t = measure(fn, budget_s=0.2 if quick else 1.0)
        rows.append({"family": family, "cycles": cycles, "n": n, **t.as_dict()})
        progress(f"cycles {family} x{cycles}: {n / t.median_s / 1e6:,.1f} M steps/s")
    return rows


def run(
    *,
    quick: bool = False,
    device: str = "cpu",
    sections: tuple[str, ...] = SECTIONS,
    progress: Progress = lambda msg: None,
) -> dict[str, Any]:
    """Run the benchmark suite; return raw numbers and the environment as a JSON-ready dict.

    Args:
        quick: a reduced plan (:func:`bulk_plan`, short timing budgets, fewer rounds) that
            finishes in under 3 minutes on 2 cores.
        device: ``"cpu"``; ``"cuda"`` adds the GPU rows (needs a GPU and numba-cuda).
        sections: which of :data:`SECTIONS` to run.
        progress: called with one line of text per measurement.
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"Argument `device` must be 'cpu' or 'cuda'. Received: device={device!r}")
    unknown = [x for x in sections if x not in SECTIONS]
    if unknown or not sections:
        raise ValueError(
            f"Argument `sections` must name some of {SECTIONS}. Received: sections={sections!r}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import time

    t0 = time.perf_counter()
    results: dict[str, Any] = {
        "schema": 1,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "device": device,
        "machine": environment(),
    }
    if device == "cuda":  # first: fail fast when there is no GPU
        if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
            raise RuntimeError(
                "Argument `device`='cuda' benchmarks need a real GPU: Numba's CUDA simulator is "
                "on (NUMBA_ENABLE_CUDASIM=1). Received: device='cuda'"
            )
        from fastlr.bench.cuda import run_cuda

        sizes = (10**6, 10**7, 10**8) if quick else (10**6, 10**7, 10**8, 10**9)
        results["cuda"] = run_cuda(sizes=sizes, progress=progress)
    if "bulk" in sections:
        results["bulk"] = bulk(bulk_plan(quick), budget_s=0.2 if quick else 1.0, progress=progress)
    if "cycles" in sections:
        results["cycles"] = cycles(quick, progress)
    if "step" in sections:
        from fastlr.bench.training import step_overhead

        results["step_overhead"] = step_overhead(quick=quick, progress=progress)
    if "first-call" in sections:
        from fastlr.bench.first_call import first_call

        results["first_call"] = first_call(rounds=1 if quick else 3, progress=progress)
    results["elapsed_s"] = time.perf_counter() - t0
    return results
