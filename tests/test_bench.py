"""fastlr.bench: the workloads compute what they claim, the runner and the report are consistent.

No timing assertions: speed is checked by running the benchmarks, not by tests.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

import fastlr
from fastlr.bench import SECTIONS, bulk, cycles, measure, report, run
from fastlr.bench import throughput as tp
from fastlr.bench.first_call import PHASES, fresh_process

ROOT = Path(__file__).resolve().parents[1]


def test_measure_counts_rounds_within_bounds():
    calls = []
    t = measure(lambda: calls.append(1), min_rounds=4, max_rounds=9, budget_s=10.0)
    assert t.rounds == len(calls) == 9  # cheap calls: the round cap ends it, not the budget
    assert 0 <= t.min_s <= t.median_s
    t = measure(lambda: calls.append(1), min_rounds=2, max_rounds=50, budget_s=0.0)
    assert t.rounds == 2
    assert set(t.as_dict()) == {"median_s", "min_s", "rounds"}


def _tree(schedule) -> set[str]:
    return {type(schedule).__name__}.union(*(_tree(c) for c in schedule.children()))


def test_families_cover_the_registry():
    used = set().union(*(_tree(s) for s in tp.families(10**6).values()))
    assert set(fastlr.REGISTRY) - used <= {"Table", "Offset"}, set(fastlr.REGISTRY) - used


def test_cycle_schedules_have_the_cycles_they_claim():
    n = 10**6
    for (family, count), s in tp.cycle_schedules(n).items():
        cfg = s.get_config()
        if family.startswith("CosineDecayRestarts"):
            assert n / cfg["first_decay_steps"] == pytest.approx(count, rel=0.01)
        elif family == "CyclicalLearningRate":
            assert n / (2 * cfg["step_size"]) == pytest.approx(count, rel=0.01)
        else:  # geometric: cycles 0..count-1 fill n steps, the next one would not fit
            first = cfg["first_cycle_steps"]
            assert first * (2**count - 1) <= n < first * (2 ** (count + 1) - 1)


@pytest.mark.parametrize("engine", list(tp.ENGINES))
def test_every_engine_computes_the_schedule(engine):
    n = 1000
    s = tp.families(n)["Sequential(Warmup(CosineDecay), Constant)"]
    want = fastlr.evaluate(s, n, dtype="float64")
    out = tp.buffer(n)
    fn, scale = tp.prepare(engine, s, out)
    got = fn()
    if engine in ("fastlr", "numpy"):
        got = out
    elif engine == "fill":
        np.testing.assert_array_equal(out, 0.5)
        return
    got = np.asarray(got, dtype=np.float64)
    if engine == "python":
        assert scale == n / tp.PYTHON_LOOP_STEPS
        want = want[: tp.PYTHON_LOOP_STEPS]
    else:
        assert scale == 1.0
    np.testing.assert_allclose(got, want, rtol=2**-23, atol=0)


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match=r"Argument `engine`.*Received: engine='gpu'"):
        tp.prepare("gpu", fastlr.Constant(0.1), tp.buffer(10))


def test_run_refuses_bad_device_and_sections():
    with pytest.raises(ValueError, match=r"Argument `device`.*Received: device='tpu'"):
        run(device="tpu")
    with pytest.raises(ValueError, match=r"Argument `sections`"):
        run(sections=("bulk", "warp"))
    assert SECTIONS == ("bulk", "cycles", "step", "first-call")


@pytest.fixture(scope="module")
def small_results():
    """A real (tiny) run: two families at N=1000 on every engine, and the cost-vs-cycles rows."""
    messages: list[str] = []
    plan = [(1000, ["WarmupCosineDecay", "OneCycle"]), (2000, ["WarmupCosineDecay"])]
    rows = bulk(plan, budget_s=0.0, progress=messages.append)
    results = {
        "schema": 1,
        "date": "2026-12-01T00:00:00+00:00",
        "quick": True,
        "device": "cpu",
        "machine": fastlr.bench.environment(),
        "bulk": rows,
        "cycles": cycles(quick=True, progress=messages.append),
        "elapsed_s": 1.0,
    }
    return results, messages


def test_bulk_rows_and_progress(small_results):
    results, messages = small_results
    rows = results["bulk"]
    engines = [e for e in tp.ENGINES if e != "fill"]
    assert len(rows) == 3 * len(engines) + 2  # + one fill row per N
    assert {(r["family"], r["n"]) for r in rows if r["engine"] == "fill"} == {
        ("-", 1000),
        ("-", 2000),
    }
    for r in rows:
        assert r["median_s"] > 0 and r["min_s"] <= r["median_s"] and r["rounds"] >= 3
        assert r["extrapolated"] == (r["engine"] == "python")
    assert messages[0].startswith(f"[1/{len(rows)}] bulk N=1e+03 WarmupCosineDecay fastlr:")
    assert sum("cycles" in m for m in messages) == len(results["cycles"]) == 9


def test_report_tables_follow_the_rows(small_results, tmp_path):
    results, _ = small_results
    md = report.markdown(results, "fastlr bench --quick")
    index = {(r["family"], r["n"], r["engine"]): r for r in results["bulk"]}
    fastlr_row = index["WarmupCosineDecay", 2000, "fastlr"]
    numpy_row = index["WarmupCosineDecay", 2000, "numpy"]
    head = report.headline_table(results)
    assert "N = 2,000 float32 steps" in head  # the headline uses the largest N of the family
    ratio = numpy_row["median_s"] / fastlr_row["median_s"]
    assert re.search(
        r"\| NumPy float64, same formula \| [^|]+ \| [^|]+ \| "
        + re.escape(report._fmt(ratio, "x")),
        head,
    )
    assert "N = 1,000 float32 steps" in report.families_table(results)  # where 2 families ran
    assert "(extrapolated)" in head
    for title in ("Every family", "M steps/s over N", "Cost vs number of cycles"):
        assert title in md
    paths = report.write(results, tmp_path / "out", "fastlr bench --quick")
    names = sorted(p.name for p in paths)
    assert names == ["report.md", "results.json", "throughput.png"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == results
    assert (tmp_path / "out" / "throughput.png").read_bytes()[:4] == b"\x89PNG"


def test_readme_section_is_replaced_between_markers(small_results, tmp_path):
    results, _ = small_results
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n\n{report.README_START}\nold\n{report.README_END}\n\nrest\n")
    section = report.readme_table(results, "benchmarks/results/x.json")
    report.update_readme(readme, section)
    text = readme.read_text()
    assert text.startswith("intro\n\n" + report.README_START) and text.endswith(
        report.README_END + "\n\nrest\n"
    )
    assert "old" not in text and "benchmarks/results/x.json" in text
    readme.write_text("no markers")
    with pytest.raises(ValueError, match="no generated benchmark section"):
        report.update_readme(readme, section)


def test_readme_benchmark_section_is_generated_from_the_committed_results():
    text = (ROOT / "README.md").read_text()
    section = text[text.index(report.README_START) : text.index(report.README_END)]
    source = re.search(r"raw numbers: \[`([^`]+)`\]", section).group(1)
    results = json.loads((ROOT / source).read_text())
    want = report.readme_table(results, source)
    assert section + report.README_END == want, "run: " + (
        f"python -m fastlr.bench.report {source} --readme README.md"
    )


def test_fresh_process_reports_every_phase(tmp_path):
    phases = fresh_process(str(tmp_path))
    assert set(phases) == {*PHASES, "total_s"}
    assert all(v > 0 for v in phases.values())
    assert phases["total_s"] > phases["first_call_s"]
