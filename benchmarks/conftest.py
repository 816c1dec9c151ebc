"""Benchmark setup: quiet TensorFlow, a private Numba cache, and the results file.

Every benchmark times a callable prepared by :mod:`fastlr.bench` (the runners ``fastlr bench``
uses) and hands its numbers to the ``record`` fixture, which turns pytest-benchmark's statistics
into rows of the one results format (:mod:`fastlr.bench.schema`, harness ``"pytest-benchmark"``).
``pytest benchmarks --results-json FILE`` writes them; ``python -m fastlr.bench.report FILE``
renders it like the output of ``fastlr bench``. The rows also go into each benchmark's
``extra_info`` (pytest-benchmark's own ``--benchmark-json``). With ``--benchmark-disable`` nothing
is timed and no rows are recorded.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("NUMBA_CACHE_DIR", tempfile.mkdtemp(prefix="fastlr-bench-cache-"))

ROWS: dict[str, list[dict]] = {}
"""Section -> rows recorded in this session."""
_START = pytest.StashKey[float]()

METHOD = (
    "pytest-benchmark timed every benchmark in pytest's own process, in file order, the "
    "TensorFlow-free bulk benchmarks before any TensorFlow op (TensorFlow's idle threads slow a "
    "parallel Numba kernel in the same process); a row is pytest-benchmark's median and minimum "
    "over its rounds of one call, warm-up and compilation outside the timed region. The Python "
    "loop is timed on at most 200 steps and scaled to N (marked `*`). `fastlr bench` runs the same "
    "workloads with each engine kind in its own process and interleaved rounds."
)


def pytest_configure(config: pytest.Config) -> None:
    """Benchmarks time one process at a time: the test suite's parallel workers (``-n auto`` in
    ``pyproject.toml``) are switched off here, before pytest-xdist starts them."""
    if hasattr(config.option, "numprocesses"):  # pytest-xdist is installed
        config.option.numprocesses = 0
        config.option.dist = "no"  # (pytest-benchmark disables itself under any other mode)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.getgroup("fastlr").addoption(
        "--results-json",
        metavar="PATH",
        default=None,
        help="write the timings as a fastlr results file (the format of `fastlr bench`; "
        "`python -m fastlr.bench.report PATH` renders it)",
    )


def pytest_sessionstart(session: pytest.Session) -> None:
    ROWS.clear()
    session.config.stash[_START] = time.perf_counter()


class Recorder:
    """One benchmark's rows: :meth:`timing` reads pytest-benchmark's statistics (``None`` when
    timing is disabled), :meth:`add` records a row built by a :mod:`fastlr.bench` runner."""

    def __init__(self, benchmark) -> None:
        self.benchmark = benchmark

    @property
    def timed(self) -> bool:
        return not self.benchmark.disabled and self.benchmark.stats is not None

    def stats(self) -> dict | None:
        """``median_s``, ``min_s`` and ``rounds`` per call of the timed function."""
        if not self.timed:
            return None
        s = self.benchmark.stats.stats
        return {"median_s": s.median, "min_s": s.min, "rounds": s.rounds}

    def add(self, section: str, row: dict | None) -> None:
        if row is None or not self.timed:
            return
        ROWS.setdefault(section, []).append(row)
        self.benchmark.extra_info.update(row)


@pytest.fixture
def record(benchmark) -> Recorder:
    return Recorder(benchmark)


def pytest_sessionfinish(session: pytest.Session) -> None:
    path = session.config.getoption("--results-json")
    if not path:
        return
    from fastlr.bench import schema, training

    n = int(os.environ.get("FASTLR_BENCH_N", 10**8))
    command = " ".join(["pytest", *session.config.invocation_params.args])
    results = schema.header("pytest-benchmark", quick=n < 10**8, command=command)
    results["method"] = {
        "summary": METHOD,
        "env": {
            k: os.environ[k] for k in ("FASTLR_BENCH_N", "FASTLR_BENCH_STEPS") if k in os.environ
        },
    }
    for section, rows in ROWS.items():
        results[section] = training.with_ratios(rows) if section == "step_overhead" else rows
    if "bulk" in ROWS:
        from fastlr.bench import keras_xla_missing, throughput

        names = set(throughput.families(1000))
        cells = dict.fromkeys((r["n"], r["family"]) for r in ROWS["bulk"] if r["family"] in names)
        results["keras_xla_missing"] = keras_xla_missing([(n, [f]) for n, f in cells])
    results["elapsed_s"] = time.perf_counter() - session.config.stash.get(
        _START, time.perf_counter()
    )
    found = schema.problems(results)
    assert not found, found
    Path(path).write_text(json.dumps(results, indent=1) + "\n")
    print(f"\nwrote {path}", file=sys.stderr)
