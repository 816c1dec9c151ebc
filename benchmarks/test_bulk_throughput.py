"""Bulk precomputation throughput: every family x N x engine, cost vs cycles, composites.

The workloads are :mod:`fastlr.bench.throughput` (shared with ``fastlr bench``): each engine
computes the float32 values of the same schedule at steps ``0 .. N-1``, warm-up and compilation
outside the timed region. Engines: ``fastlr`` (Numba, all cores), ``numpy`` (float64 reference
engine), ``fill`` / ``fill_parallel`` (NumPy's single-threaded fill and an all-core Numba fill of
the same buffer: the write limit), then ``tf_graph`` / ``tf_xla`` (vectorized over ``tf.range``),
``keras_xla`` (Keras's own built-in of the same name, for the families that have one taking a
vector of steps) and ``python`` (a loop of ``schedule(step)``, timed on at most
``PYTHON_LOOP_STEPS`` steps, its row scaled to N and marked ``extrapolated``).

One process: pytest-benchmark times every engine in pytest's own process. TensorFlow's thread
pools, once a TF op has run, stay and take cores from a parallel Numba kernel in the same process
(a 2-thread kernel at 10**6 steps went from ~0.6 ms to ~8 ms). So the TensorFlow-free benchmarks
are defined first, and run before any TF op; the TF engines come last. ``fastlr bench`` is the
reference comparison: it runs each engine kind in its own worker process, interleaving the rounds
of all engines (:mod:`fastlr.bench.interleave`).

Every timed callable comes from :func:`fastlr.bench.throughput.prepare` on the schedules of
``families``, ``cycle_schedules`` and ``composites``; the rows from
:func:`fastlr.bench.schema.timing` (the ``record`` fixture, ``benchmarks/conftest.py``).

Run ``pytest benchmarks/test_bulk_throughput.py`` (add ``--results-json=FILE`` to keep the rows
in the format of ``fastlr bench``); ``FASTLR_BENCH_N`` caps N (default 10**8; CI's smoke run uses
a small cap, and with ``--benchmark-disable`` the Python loop runs 2 steps). M steps/s = N /
median.
"""

from __future__ import annotations

import os

import pytest

from fastlr.bench import throughput as tp
from fastlr.bench.schema import timing

N = int(os.environ.get("FASTLR_BENCH_N", 10**8))
SIZES = [n for n in tp.SIZES if n <= N] or [N]
FAMILIES = list(tp.families(1000))
TF_ENGINES = [e for e in tp.ENGINES if tp.WORKER_OF[e] == "tf"]
_BUFFERS: dict[int, object] = {}


def _buffer(n: int):
    top = max(SIZES)
    if top not in _BUFFERS:
        _BUFFERS[top] = tp.buffer(top)
    return _BUFFERS[top][:n]


def _row(record, n: int, steps: int, **fields) -> dict | None:
    """The row of the benchmark just timed: ``fields``, then its timing scaled from ``steps``
    to ``n`` steps (``None`` when timing is disabled)."""
    stats = record.stats()
    return None if stats is None else {**fields, **timing(**stats, n=n, n_measured=steps)}


def _bulk(record, family: str, engine: str, n: int, steps: int) -> None:
    schedule = "-" if family == "-" else repr(tp.families(n)[family])
    row = _row(record, n, steps, family=family, schedule=schedule, engine=engine)
    record.add("bulk", row and {**row, "reps": 1, "worker": "pytest"})


# ------------------------------------------------------- TensorFlow-free: these run first


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("engine", ["fastlr", "numpy"])
@pytest.mark.parametrize("family", FAMILIES)
def test_family_throughput(benchmark, record, family, engine, n):
    benchmark.group = f"bulk {family}, N={n:.0e} float32"
    fn = tp.prepare(engine, tp.families(n)[family], _buffer(n))
    benchmark.pedantic(fn, rounds=3 if n >= 10**7 else 10, iterations=1)
    _bulk(record, family, engine, n, n)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("engine", tp.FILLS)
def test_write_limit(benchmark, record, engine, n):
    benchmark.group = f"write limit (fill, all-core fill), N={n:.0e} float32"
    fn = tp.prepare(engine, None, _buffer(n))
    benchmark.pedantic(fn, rounds=10, iterations=1)
    _bulk(record, "-", engine, n, n)


@pytest.mark.parametrize("key", list(tp.cycle_schedules(10**6)), ids=lambda k: f"{k[0]}-x{k[1]}")
def test_cost_vs_cycles(benchmark, record, key):
    """Cost must not grow with the number of cycles (closed-form cycle index)."""
    n = max(min(N // 4, 25 * 10**6), 10**5)
    out = _buffer(min(n, max(SIZES)))
    fn = tp.prepare("fastlr", tp.cycle_schedules(out.size)[key], out)
    benchmark.group = f"cost vs cycles: {key[0]} {out.size:.0e} steps"
    benchmark.pedantic(fn, rounds=5, iterations=1)
    family, cycles = key
    record.add(
        "cycles", _row(record, out.size, out.size, family=family, cycles=cycles, engine="fastlr")
    )


@pytest.mark.parametrize("name", list(tp.composites(100)))
def test_composite_vs_parts(benchmark, record, name):
    out = _buffer(max(SIZES) // 4 or 1)
    n = out.size
    fn = tp.prepare("fastlr", tp.composites(max(n, 100))[name], out)
    benchmark.group = f"composites vs their parts: {n:.0e} steps float32"
    benchmark(fn)
    record.add("composites", _row(record, n, n, family=name, engine="fastlr"))


# ------------------------------------------- TensorFlow engines: last (their threads stay)


def _tf_cells() -> list:
    cells = []
    for family, schedule in tp.families(1000).items():
        for engine in TF_ENGINES:
            if engine != "keras_xla" or tp.keras_xla_reason(schedule) is None:
                cells.append(pytest.param(family, engine, id=f"{family}-{engine}"))
    return cells


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize(("family", "engine"), _tf_cells())
def test_family_throughput_tensorflow(benchmark, record, family, engine, n):
    benchmark.group = f"bulk {family}, N={n:.0e} float32"
    steps = n
    if engine == "python":  # timed on a few steps, its row extrapolated to N
        steps = 2 if benchmark.disabled else min(n, tp.PYTHON_LOOP_STEPS)
    fn = tp.prepare(engine, tp.families(n)[family], _buffer(steps))
    benchmark.pedantic(fn, rounds=3 if n >= 10**7 or engine == "python" else 10, iterations=1)
    _bulk(record, family, engine, n, steps)
