"""Benchmark runners shared by every harness: ``fastlr bench``, the pytest-benchmark suites in
``benchmarks/`` and ``benchmarks/gpu_bench.py`` (each times the callables prepared here and
writes the one results format of :mod:`fastlr.bench.schema`).

* :mod:`fastlr.bench.throughput`: the bulk workloads, one schedule per family, and the engines;
* :mod:`fastlr.bench.worker`: one worker process per engine kind (the Numba and NumPy workers
  never import TensorFlow);
* :mod:`fastlr.bench.interleave`: interleaved rounds across engines, the per-cell time budget;
* :mod:`fastlr.bench.training`: what a schedule costs per step inside ``model.fit``;
* :mod:`fastlr.bench.first_call`: fresh-process latency, cold compile vs warm cache;
* :mod:`fastlr.bench.cuda` (peers in :mod:`~fastlr.bench.cuda_peers`): the GPU rows (numba-cuda
  vs CuPy vs JAX, with the copy bandwidth); NumPy only until they run, no TensorFlow;
* :mod:`fastlr.bench.graph_call`: one schedule call at a scalar step under XLA (pytest suite);
* :mod:`fastlr.bench.schema`: the one results format every harness writes (``"schema": 3``);
* :mod:`fastlr.bench.report` (with :mod:`~fastlr.bench.tables`,
  :mod:`~fastlr.bench.section_tables` and :mod:`~fastlr.bench.plots`): a results file ->
  ``report.md``, PNG plots and the README section.

:func:`run` runs the suite and returns the results as one JSON-ready dict
(:mod:`fastlr.bench.schema`, harness ``"fastlr bench"``).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from typing import Any

from fastlr.bench.interleave import Budget, Cell, Runner
from fastlr.bench.schema import SCHEMA, environment, header
from fastlr.bench.timing import Timing, measure
from fastlr.bench.worker import WARM_CALL_S, Pool

__all__ = [
    "FULL",
    "QUICK",
    "SCHEMA",
    "SECTIONS",
    "Budget",
    "Timing",
    "bulk",
    "bulk_plan",
    "check_device",
    "cycles",
    "environment",
    "header",
    "keras_xla_missing",
    "measure",
    "run",
]

Progress = Callable[[str], None]


SECTIONS = ("bulk", "cycles", "step", "first-call")
"""What :func:`run` can measure (``fastlr bench --only``)."""

QUICK = Budget(call_s=0.25, slow_call_s=0.1, python_call_s=0.03, cell_s=0.08, max_rounds=9)
"""Timing budgets of ``fastlr bench --quick``."""
FULL = Budget(call_s=0.5, slow_call_s=0.15, python_call_s=0.04, cell_s=0.15, max_rounds=15)
"""Timing budgets of the full ``fastlr bench``."""


BUSY_CORES = 0.25
"""Progress lines flag a group timed while other processes used more cores than this."""


def bulk_plan(quick: bool) -> list[tuple[int, list[str]]]:
    """``[(N, families)]``: full: every family at every N of ``SIZES``; quick: every family at
    10**6 and the N sweep (10**3 .. 10**7) on WarmupCosineDecay."""
    from fastlr.bench import throughput as tp

    if quick:
        plan = [(n, ["WarmupCosineDecay"]) for n in (10**3, 10**4, 10**5, 10**7)]
        plan.insert(3, (10**6, list(tp.families(10**6))))
        return plan
    return [(n, list(tp.families(n))) for n in tp.SIZES]


def _groups(plan: list[tuple[int, list[str]]]) -> list[tuple[int, str, list[str]]]:
    """``(N, family, engines)`` in measuring order; the fills join the first family of each N."""
    from fastlr.bench import throughput as tp

    groups = []
    for n, names in plan:
        schedules = tp.families(n)
        for i, family in enumerate(names):
            engines = [e for e in tp.ENGINES if e not in tp.FILLS]
            if tp.keras_xla_reason(schedules[family]) is not None:
                engines.remove("keras_xla")
            groups.append((n, family, engines + (list(tp.FILLS) if i == 0 else [])))
    return groups


def _pool(pool: Pool | None) -> contextlib.AbstractContextManager[Pool]:
    return contextlib.nullcontext(pool) if pool is not None else Pool()


def bulk(
    plan: list[tuple[int, list[str]]],
    *,
    budget: Budget = FULL,
    pool: Pool | None = None,
    progress: Progress = print,
    skipped: dict[str, str] | None = None,
) -> list[dict]:
    """Time every engine on every ``(N, family)`` of ``plan``, plus the fills at each N.

    Each engine runs in its worker process (:mod:`fastlr.bench.worker`), in rounds interleaved
    with the other engines of the same ``(N, family)`` and within ``budget``
    (:mod:`fastlr.bench.interleave`). Rows: ``family, schedule, engine, n, n_measured, median_s,
    min_s, rounds, reps, extrapolated, worker``; ``keras_xla`` has no row where
    :func:`~fastlr.bench.throughput.keras_xla_reason` gives a reason, nor where Keras's
    schedule failed on a vector of steps: ``skipped`` (if given) gets ``family -> why``.
    """
    from fastlr.bench import throughput as tp

    groups = _groups(plan)
    total = sum(len(engines) for _, _, engines in groups)
    rows: list[dict] = []
    with _pool(pool) as workers:
        workers.start([e for _, _, engines in groups for e in engines])
        runner = Runner(workers, budget)
        for n, family, engines in groups:
            schedule = tp.families(n)[family]
            cells = [Cell(e, None if e in tp.FILLS else family, n) for e in engines]
            measured = runner.group(cells)
            for cell in cells:
                if cell.skipped is not None:
                    progress(f"bulk N={n:.0e} {family} {cell.engine}: skipped ({cell.skipped})")
                    if skipped is not None:
                        skipped.setdefault(family, cell.skipped)
            for cell in measured:
                row = {
                    "family": cell.family or "-",
                    "schedule": repr(schedule) if cell.family else "-",
                    **runner.row(cell),
                    "worker": tp.WORKER_OF[cell.engine],
                }
                rows.append(row)
                note = f" (measured at N={cell.steps:.0e})" if row["extrapolated"] else ""
                if (row["load"] or 0) > BUSY_CORES:
                    note += f" [busy machine: other processes used {row['load']:.2f} cores]"
                progress(
                    f"[{len(rows)}/{total}] bulk N={n:.0e} {row['family']} {cell.engine}: "
                    f"{n / row['median_s'] / 1e6:,.1f} M steps/s{note}"
                )
    loads = sorted(r["load"] for r in rows if r["load"] is not None)
    if loads and loads[len(loads) // 2] > BUSY_CORES:
        progress(
            f"warning: other processes used {loads[len(loads) // 2]:.2f} cores (median) while "
            "the rounds ran: the all-core engines (fastlr, the parallel fill) lose the most; "
            "rerun on a quiet machine"
        )
    return rows


def keras_xla_missing(plan: list[tuple[int, list[str]]]) -> dict[str, str]:
    """``family -> why`` for the families of ``plan`` that have no ``keras_xla`` row."""
    from fastlr.bench import throughput as tp

    out = {}
    for n, names in plan:
        for family in names:
            reason = tp.keras_xla_reason(tp.families(n)[family])
            if reason is not None:
                out.setdefault(family, reason)
    return out


def cycles(
    quick: bool, progress: Progress = print, *, pool: Pool | None = None, budget: Budget = FULL
) -> list[dict]:
    """fastlr's time on the same N with 1 to 4096 cycles (see ``throughput.cycle_schedules``),
    in the Numba worker, the schedules' rounds interleaved; never extrapolated."""
    from fastlr.bench import throughput as tp

    n = 10**6 if quick else 25 * 10**6
    cells = [Cell("fastlr", family, n, count) for family, count in tp.cycle_schedules(n)]
    with _pool(pool) as workers:
        runner = Runner(workers, budget)
        measured = runner.group(cells, capped=False)
    rows = []
    for cell in measured:
        row = runner.row(cell)
        rows.append({"family": cell.family, "cycles": cell.cycles, "n": n, **row})
        progress(f"cycles {cell.family} x{cell.cycles}: {n / row['median_s'] / 1e6:,.1f} M steps/s")
    return rows


def check_device(device: str) -> None:
    """Raise unless ``device`` can be benchmarked here: ``"cpu"``, or ``"cuda"`` with numba-cuda
    and a real GPU (not Numba's simulator). :func:`run` calls it first, and ``fastlr bench``
    before it creates its output folder.

    Raises:
        ValueError: ``device`` is neither ``"cpu"`` nor ``"cuda"``.
        RuntimeError: ``"cuda"`` without numba-cuda, without a GPU, or in the simulator; the
            message names argument ``device`` and what is missing.
    """
    if device not in ("cpu", "cuda"):
        raise ValueError(f"Argument `device` must be 'cpu' or 'cuda'. Received: device={device!r}")
    if device == "cpu":
        return
    if os.environ.get("NUMBA_ENABLE_CUDASIM") == "1":
        raise RuntimeError(
            "Argument `device`='cuda' benchmarks need a real GPU: Numba's CUDA simulator is "
            "on (NUMBA_ENABLE_CUDASIM=1). Received: device='cuda'"
        )
    from fastlr.engines import numba_cuda

    numba_cuda.require()  # numba-cuda installed, a GPU and a driver found


def run(
    *,
    quick: bool = False,
    device: str = "cpu",
    sections: tuple[str, ...] = SECTIONS,
    progress: Progress = lambda msg: None,
) -> dict[str, Any]:
    """Run the benchmark suite; return raw numbers and the environment as a JSON-ready dict.

    Args:
        quick: a reduced plan (:func:`bulk_plan`, :data:`QUICK` budgets) that finishes in
            under 3 minutes on 2 cores; the full plan (:data:`FULL`) in under 10.
        device: ``"cpu"``; ``"cuda"`` adds the GPU rows (needs a GPU and numba-cuda).
        sections: which of :data:`SECTIONS` to run.
        progress: called with one line of text per measurement.
    """
    check_device(device)
    unknown = [x for x in sections if x not in SECTIONS]
    if unknown or not sections:
        raise ValueError(
            f"Argument `sections` must name some of {SECTIONS}. Received: sections={sections!r}"
        )
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import time

    t0 = time.perf_counter()
    from fastlr.bench import cuda  # NumPy only: numba-cuda loads when the GPU rows run

    gpu_packages = cuda.PACKAGES if device == "cuda" else ()
    results = header("fastlr bench", quick=quick, device=device, packages=gpu_packages)
    if device == "cuda":  # first: the GPU rows
        sizes = (10**6, 10**7, 10**8) if quick else (10**6, 10**7, 10**8, 10**9)
        results.update(cuda.section(sizes, progress=progress))
    budget = QUICK if quick else FULL
    if "bulk" in sections or "cycles" in sections:
        with Pool() as pool:
            if "bulk" in sections:
                plan = bulk_plan(quick)
                results["keras_xla_missing"] = missing = keras_xla_missing(plan)
                results["bulk"] = bulk(
                    plan, budget=budget, pool=pool, progress=progress, skipped=missing
                )
            if "cycles" in sections:
                results["cycles"] = cycles(quick, progress, pool=pool, budget=budget)
            workers = pool.describe()
            clean = not any(w["tensorflow"] for kind, w in workers.items() if kind != "tf")
            if not clean:
                progress("warning: a Numba or NumPy worker imported TensorFlow")
            results["method"] = {
                "isolation": "each engine kind ran in its own worker process "
                "(python -m fastlr.bench.worker KIND); the numba and numpy workers "
                + ("never imported TensorFlow" if clean else "imported TensorFlow (a bug)"),
                "interleaved": "per (family, N): every engine prepared, then round 1 of every "
                "engine, round 2 of every engine, ...; one worker computing at a time",
                "workers": workers,
                "budget": budget.as_dict(),
                "warm_call_s": WARM_CALL_S,
            }
    if "step" in sections:
        from fastlr.bench.training import step_overhead

        results["step_overhead"] = step_overhead(quick=quick, progress=progress)
    if "first-call" in sections:
        from fastlr.bench.first_call import first_call

        results["first_call"] = first_call(rounds=1 if quick else 3, progress=progress)
    results["elapsed_s"] = time.perf_counter() - t0
    return results
