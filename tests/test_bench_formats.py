"""Every benchmark harness writes the one results format (:mod:`fastlr.bench.schema`) and the
report reads each: ``fastlr bench`` (its output is checked in ``test_cli.py`` and
``test_bench.py``), the pytest-benchmark suites (``--results-json``) and
``benchmarks/gpu_bench.py`` (in Numba's CUDA simulator, with TensorFlow and Keras blocked, as on a
GPU machine without them). Every committed result is referenced by a page and still renders.

No timing assertions: the runs are tiny smoke runs.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import run_fresh_python

from fastlr.bench import report, schema

ROOT = Path(__file__).resolve().parents[1]

BLOCK_TENSORFLOW = r"""
import sys


class Block:
    '''Refuses TensorFlow and Keras, and remembers who asked (even an import that is caught).'''

    tried = []

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "keras"):
            self.tried.append(name)
            raise ModuleNotFoundError(f"No module named {name!r} (blocked)")
        return None


sys.meta_path.insert(0, Block())
"""

GPU_BENCH = (
    BLOCK_TENSORFLOW
    + r"""
import json, runpy
script, out = sys.argv[1:3]
sys.argv = [script, "--sizes", "1000,2000", "--budget", "0.01", "--min-rounds", "2", "-o", out]
try:
    runpy.run_path(script, run_name="__main__")
    code = 0
except SystemExit as exit_:
    code = exit_.code
heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
print("RESULT" + json.dumps({"code": code, "tried": Block.tried, "loaded": heavy}))
"""
)


def test_gpu_bench_runs_without_tensorflow_and_writes_the_results_format(tmp_path):
    out = tmp_path / "gpu.json"
    script = str(ROOT / "benchmarks/gpu_bench.py")
    got = run_fresh_python(GPU_BENCH, script, str(out), env={"NUMBA_ENABLE_CUDASIM": "1"})
    assert got == {"code": 0, "tried": [], "loaded": []}
    results = report.read(out)
    assert results["schema"] == schema.SCHEMA and results["harness"] == "gpu_bench"
    assert set(schema.HEADER) <= set(results) and results["device"] == "cuda"
    assert results["machine"]["versions"]["numba-cuda"]  # the GPU packages are recorded
    assert "jax" in results["machine"]["versions"] and "cupy" in results["machine"]["versions"]
    info = results["cuda_info"]
    assert info["simulated"] is True and info["device"] == "simulator"
    assert info["workload"].startswith("float32 WarmupCosineDecay")
    rows = {(r["engine"], r["n"]): r for r in results["cuda"]}
    for n in (1000, 2000):
        ours, copy = rows["fastlr", n], rows["copy", n]
        # the fraction of the device-to-device copy, and the ratios to the peers that ran
        assert ours["fraction_of_copy"] == copy["median_s"] / ours["median_s"]
        for peer in ("cupy", "jax"):
            if (peer, n) in rows:
                assert ours[f"vs_{peer}"] == rows[peer, n]["median_s"] / ours["median_s"]
            else:  # a missing peer is said, not silently dropped
                assert f"vs_{peer}" not in ours
                assert any(note.startswith(f"{peer}:") for note in info["notes"])
    md = report.markdown(results)
    assert "**GPU: simulator, WarmupCosineDecay float32 (Numba's CUDA simulator" in md
    assert "| N | fastlr median | fastlr M/s | CuPy M/s | JAX M/s | copy M/s |" in md
    assert "| fastlr of copy | vs CuPy | vs JAX |" in md
    assert "(quick run of gpu_bench" in md
    assert report.main([str(out)]) == 0


K = (
    "(test_family_throughput and WarmupCosineDecay and (fastlr or python)) or test_write_limit "
    "or (test_cost_vs_cycles and CyclicalLearningRate) or (test_composite and depth) "
    "or (test_scalar and ExponentialDecay) or (test_step_overhead and (constant or eager))"
)
"""A few benchmarks of every pytest-benchmark suite that records rows (first_call's fresh
processes are left out: ``test_bench.py`` runs them)."""


@pytest.mark.slow
def test_pytest_benchmark_suites_write_the_results_format(tmp_path):
    out = tmp_path / "pytest.json"
    argv = ["-q", "-n", "0", "-p", "no:cacheprovider", "benchmarks", "-k", K]
    argv += ["--results-json", str(out)]
    argv += ["--benchmark-max-time=0.01", "--benchmark-min-rounds=3", "--benchmark-warmup=off"]
    # (not as a pytest-xdist worker: pytest-benchmark switches itself off inside one)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_XDIST", "PYTEST_CURRENT"))
    }
    env.update(FASTLR_BENCH_N="1000", FASTLR_BENCH_STEPS="3")
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", *argv],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    results = report.read(out)
    assert results["harness"] == "pytest-benchmark" and set(schema.HEADER) <= set(results)
    assert results["quick"] and results["command"].startswith("pytest -q")
    sections = {"bulk", "cycles", "composites", "graph_call", "step_overhead"}
    assert sections <= set(results)
    bulk = {(r["family"], r["engine"]): r for r in results["bulk"]}
    assert set(bulk) == {
        ("WarmupCosineDecay", "fastlr"),
        ("WarmupCosineDecay", "python"),
        ("-", "fill"),
        ("-", "fill_parallel"),
    }
    python = bulk["WarmupCosineDecay", "python"]  # timed on a few steps, scaled to N
    assert python["n"] == 1000 and python["n_measured"] == 200 and python["extrapolated"]
    assert not bulk["WarmupCosineDecay", "fastlr"]["extrapolated"]
    assert list(results["keras_xla_missing"]) == ["WarmupCosineDecay"]
    assert [r["cycles"] for r in results["cycles"]] == [1, 64, 4096]
    assert {(r["schedule"], r["impl"]) for r in results["graph_call"]} == {
        ("ExponentialDecay", "fastlr"),
        ("ExponentialDecay", "keras"),
    }
    steps = {r["variant"]: r for r in results["step_overhead"]}
    assert steps["constant"]["ratio_vs_constant"] == 1.0 and steps["eager_counter"]["steps"] == 3
    md = report.markdown(results)
    assert "(quick run of pytest-benchmark" in md and "pytest-benchmark timed every" in md
    for title in (
        "**WarmupCosineDecay, N = 1,000 float32 steps**",
        "Cost vs number of cycles",
        "Composites vs their parts",
        "One call at a scalar step",
        "Training step inside model.fit",
    ):
        assert title in md
    assert re.search(r"Python loop of schedule\(step\) \(extrapolated from N=200\)", md)
    paths = report.write(results, tmp_path / "out")
    assert sorted(p.name for p in paths) == [
        "report.md",
        "results.json",
        "step_overhead.png",
        "throughput.png",
    ]


def test_the_report_refuses_what_is_not_a_results_file(tmp_path, capsys):
    other = tmp_path / "pytest-benchmark-own.json"
    other.write_text(json.dumps({"machine_info": {}, "benchmarks": []}))
    with pytest.raises(SystemExit) as exit_:
        report.main([str(other)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "is not a fastlr benchmark results file (no integer `schema` key)" in err
    assert "--results-json" in err and err.count("\n") == 1
    broken = {"schema": 3, "harness": "gpu_bench", "date": "x", "machine": {}, "cuda": [{}]}
    found = schema.problems(broken)
    assert "missing top-level key 'command'" in found and any("cuda[0] lacks" in f for f in found)


def test_every_committed_result_is_referenced_and_renders():
    pages = (ROOT / "README.md").read_text() + "".join(
        p.read_text() for p in (ROOT / "docs").rglob("*") if p.suffix in (".md", ".py", ".rst")
    )
    files = sorted((ROOT / "benchmarks/results").glob("*"))
    assert files, "benchmarks/results/ holds the README's run"
    for path in files:
        name = path.relative_to(ROOT).as_posix()
        assert name in pages, f"{name}: no page refers to it (reference it or delete it)"
        results = report.read(path)
        assert report.markdown(results).startswith("# fastlr benchmark report")
