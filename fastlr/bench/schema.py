"""The one results format of every benchmark harness (``"schema": 3``).

``fastlr bench`` (:func:`fastlr.bench.run`), the pytest-benchmark suites
(``pytest benchmarks --results-json FILE``) and ``benchmarks/gpu_bench.py`` all write one JSON
object; ``python -m fastlr.bench.report FILE`` renders any of them.

Top level (:data:`HEADER`, from :func:`header`): ``schema``, ``harness`` (one of
:data:`HARNESSES`), ``date`` (UTC, ISO 8601), ``quick`` (a reduced plan), ``device`` (``"cpu"`` or
``"cuda"``), ``machine`` (:func:`environment`: CPU, cores, memory, platform, Python, package
versions), ``command`` (what was run) and ``elapsed_s``; then the sections that ran, each a list of
rows with at least the fields of :data:`ROW_FIELDS`, and what they need to be read:

* ``bulk``, ``cycles``, ``composites``: one engine on one schedule at ``n`` steps (rows carry
  :func:`timing`'s fields: ``n_measured`` steps were really timed, times scaled to ``n``);
  ``keras_xla_missing`` (family -> why no ``keras_xla`` row) goes with ``bulk``;
* ``graph_call``: one call at a scalar step inside ``tf.function(jit_compile=True)``;
* ``step_overhead``: per training step in ``model.fit``, with the ratio to a constant LR;
* ``first_call``: a fresh process to the first 10**6 values, cold and warm cache;
* ``cuda``: GPU rows (:mod:`fastlr.bench.cuda`), with ``cuda_info`` (GPU, driver, whether Numba's
  simulator ran them, workload, definitions, notes on missing peers);
* ``method``: how the rows were measured (worker processes and budgets for ``fastlr bench``; a
  ``summary`` sentence for the other harnesses).

Times are seconds (``median_s``, ``min_s`` per call). Schema 2 (``fastlr bench`` before the
harnesses were merged: no ``harness`` key) and schema 1 (every engine in one process) still render.

Nothing here imports TensorFlow, Keras or Numba: the GPU harness runs without TensorFlow.
"""

from __future__ import annotations

import datetime
import os
import platform
import sys
from collections.abc import Iterable
from typing import Any

SCHEMA = 3

HARNESSES = ("fastlr bench", "pytest-benchmark", "gpu_bench")
"""Who wrote a results file (its ``harness``)."""

HEADER = ("schema", "harness", "date", "quick", "device", "machine", "command", "elapsed_s")
"""Top-level keys of every results file of the current schema."""

TIMING = ("n", "n_measured", "median_s", "min_s", "rounds", "extrapolated")
"""The fields of :func:`timing`."""

ROW_FIELDS: dict[str, tuple[str, ...]] = {
    "bulk": ("family", "engine", *TIMING),
    "cycles": ("family", "cycles", "engine", *TIMING),
    "composites": ("family", "engine", *TIMING),
    "graph_call": ("schedule", "impl", "median_s", "min_s", "rounds"),
    "step_overhead": (
        "variant",
        "label",
        "per_step_s",
        "min_per_step_s",
        "rounds",
        "steps",
        "ratio_vs_constant",
    ),
    "first_call": ("cache", "rounds", "import_s", "numba_init_s", "first_call_s", "total_s"),
    "cuda": (
        "engine",
        "label",
        "n",
        "median_s",
        "min_s",
        "rounds",
        "device",
        "m_steps_per_s",
        "gb_s_written",
    ),
}
"""Section -> the fields every one of its rows has (the report reads these)."""

PACKAGES = ("fastlr", "numpy", "numba", "llvmlite", "tensorflow", "keras", "numba-cuda")
"""Packages whose versions :func:`environment` records (``None``: not installed)."""


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


def environment(packages: Iterable[str] = PACKAGES) -> dict[str, Any]:
    """The machine and the versions a result depends on (read from package metadata: nothing
    is imported)."""
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for pkg in dict.fromkeys(packages):
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


def header(
    harness: str,
    *,
    quick: bool = False,
    device: str = "cpu",
    command: str | None = None,
    packages: Iterable[str] = (),
) -> dict[str, Any]:
    """The top-level keys of a results file (``elapsed_s`` is set when the run ends).

    Args:
        harness: one of :data:`HARNESSES`.
        quick: whether the harness ran a reduced plan.
        device: ``"cpu"`` or ``"cuda"``.
        command: the command line that produced the file.
        packages: versions to record besides :data:`PACKAGES`.
    """
    if harness not in HARNESSES:
        raise ValueError(f"Argument `harness` must be one of {HARNESSES}. Received: {harness!r}")
    return {
        "schema": SCHEMA,
        "harness": harness,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "quick": quick,
        "device": device,
        "machine": environment((*PACKAGES, *packages)),
        "command": command,
        "elapsed_s": None,
    }


def timing(median_s: float, min_s: float, rounds: int, *, n: int, n_measured: int) -> dict:
    """The timing fields of a row timed on ``n_measured`` steps and reported for ``n`` (times
    scaled by ``n / n_measured``; ``extrapolated`` when they differ)."""
    scale = n / n_measured
    return {
        "n": n,
        "n_measured": n_measured,
        "median_s": median_s * scale,
        "min_s": min_s * scale,
        "rounds": rounds,
        "extrapolated": n_measured != n,
    }


def problems(results: Any) -> list[str]:
    """What keeps ``results`` from being a results file of this schema (empty: none).

    Files of older schemas (1, 2) are checked for ``schema``, ``date`` and ``machine`` only.
    """
    if not isinstance(results, dict) or not isinstance(results.get("schema"), int):
        return ["no integer `schema` key"]
    found = []
    if results["schema"] > SCHEMA:
        found.append(f"schema {results['schema']} is newer than this fastlr's ({SCHEMA})")
    required = HEADER if results["schema"] >= 3 else ("schema", "date", "machine")
    found += [f"missing top-level key {key!r}" for key in required if key not in results]
    if results["schema"] >= 3 and results.get("harness") not in HARNESSES:
        found.append(f"unknown harness {results.get('harness')!r}")
    if results["schema"] < 3:
        return found
    for section, fields in ROW_FIELDS.items():
        for i, row in enumerate(results.get(section) or []):
            missing = [f for f in fields if f not in row]
            if missing:
                found.append(f"{section}[{i}] lacks {', '.join(missing)}")
    return found
