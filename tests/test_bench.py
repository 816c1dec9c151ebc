"""fastlr.bench: the workloads compute what they claim, the workers, the interleaving, the time
budget, the runner and the report are consistent.

No timing assertions: speed is checked by running the benchmarks, not by tests.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from pathlib import Path

import numpy as np
import pytest

import fastlr
from fastlr.bench import SECTIONS, Budget, bulk, cycles, measure, report, run, schema, tables
from fastlr.bench import throughput as tp
from fastlr.bench.first_call import PHASES, fresh_process
from fastlr.bench.interleave import Cell, Runner, fit
from fastlr.bench.worker import KINDS, Pool

ROOT = Path(__file__).resolve().parents[1]
TINY = Budget(
    call_s=0.5, slow_call_s=0.5, python_call_s=0.05, cell_s=0.0, round_s=0.001, settle_s=0.0
)
"""Three rounds per cell, nothing capped at N <= 2000 but the Python loop; no settle pauses."""


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
    assert set(fastlr.REGISTRY) - used <= {"Table", "Offset", "Scale", "Product"}, (
        set(fastlr.REGISTRY) - used
    )


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


@pytest.mark.parametrize("engine", [e for e in tp.ENGINES if e != "keras_xla"])
def test_every_engine_computes_the_schedule(engine):
    n = 1000
    s = tp.families(n)["Sequential(Warmup(CosineDecay), Constant)"]
    want = fastlr.evaluate(s, n, dtype="float64")
    steps = tp.PYTHON_LOOP_STEPS if engine == "python" else n
    out = tp.buffer(steps)
    got = tp.prepare(engine, s, out)()
    if engine in tp.FILLS:
        np.testing.assert_array_equal(out, 0.5)
        return
    if engine in ("fastlr", "numpy"):
        got = out
    np.testing.assert_allclose(np.asarray(got, dtype=np.float64), want[:steps], rtol=2**-23, atol=0)


def _keras_families() -> dict[str, object]:
    return {f: s for f, s in tp.families(1000).items() if tp.keras_xla_reason(s) is None}


def test_keras_xla_covers_the_keras_named_families_that_take_a_vector():
    assert sorted(_keras_families()) == [
        "CosineDecayRestarts t_mul=1",
        "ExponentialDecay (Keras)",
        "InverseTimeDecay (Keras)",
        "PiecewiseConstantDecay (Keras)",
        "PolynomialDecay cycle",
    ]
    reasons = {f: tp.keras_xla_reason(s) for f, s in tp.families(1000).items()}
    assert "`cond`" in reasons["CosineDecay (Keras)"]
    assert reasons["Sequential(Warmup(CosineDecay), Constant)"].startswith("Keras has no built-in")
    # without warmup Keras's CosineDecay takes a vector, and keras_xla would run it
    assert tp.keras_xla_reason(fastlr.CosineDecay(0.1, 100, alpha=0.01)) is None


@pytest.mark.parametrize("family", list(_keras_families()))
def test_keras_xla_computes_fastlr_values(family):
    n = 1000
    s = tp.families(n)[family]
    got = np.asarray(tp.prepare("keras_xla", s, tp.buffer(n))(), dtype=np.float64)
    want = fastlr.evaluate(s, n, dtype="float64")
    # Keras computes in float32 with its own operation order: a few float32 ulps of the peak;
    # its restarts take the phase from step / first_decay_steps in float32 (66 cycles here:
    # an ulp of 2**-17 in the phase, times the cosine's slope)
    scale = 2**-16 if family.startswith("CosineDecayRestarts") else 2**-20
    if family == "PolynomialDecay cycle":
        # TF turns `step / decay_steps` into `step * (1 / decay_steps)`, so Keras's
        # ceil(3 * 125 / 125) can be 4: at some cycle ends it starts the next cycle one step
        # early (fastlr's cycle index is integer arithmetic). Compare the other steps.
        at_end = np.arange(n) % s.get_config()["decay_steps"] == 0
        assert at_end.sum() < 10
        got, want = got[~at_end], want[~at_end]
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=scale * np.abs(want).max())


def test_keras_cosine_decay_with_warmup_cannot_take_a_vector_under_xla():
    import tensorflow as tf

    s = tp.families(1000)["CosineDecay (Keras)"]
    with pytest.raises(tp.NotCovered, match="cond"):
        tp.prepare("keras_xla", s, tp.buffer(1000))
    import keras

    builtin = keras.optimizers.schedules.CosineDecay.from_config(s.get_config())
    with pytest.raises(tf.errors.InvalidArgumentError, match="must be a scalar"):
        tp._tensorflow(builtin, 1000, xla=True)
    no_warmup = fastlr.CosineDecay(0.1, 1000, alpha=0.01)
    got = tp.prepare("keras_xla", no_warmup, tp.buffer(1000))()
    want = fastlr.evaluate(no_warmup, 1000, dtype="float64")
    np.testing.assert_allclose(got, want, rtol=2e-5, atol=2**-20 * 0.1)


def test_unknown_engine_is_refused():
    with pytest.raises(ValueError, match=r"Argument `engine`.*Received: engine='gpu'"):
        tp.prepare("gpu", fastlr.Constant(0.1), tp.buffer(10))


def test_run_refuses_bad_device_and_sections():
    with pytest.raises(ValueError, match=r"Argument `device`.*Received: device='tpu'"):
        run(device="tpu")
    with pytest.raises(ValueError, match=r"Argument `sections`"):
        run(sections=("bulk", "warp"))
    assert SECTIONS == ("bulk", "cycles", "step", "first-call")


# ------------------------------------------------------------------ workers (real processes)


@pytest.fixture(scope="module")
def pool():
    """The three worker processes, shared by this module's tests."""
    with Pool() as workers:
        workers.start(list(tp.ENGINES))
        yield workers


def test_workers_run_their_engines_and_return_timings(pool):
    assert {kind: set(engines) for kind, engines in KINDS.items()} == {
        "numba": {"fastlr", "fill", "fill_parallel"},
        "numpy": {"numpy"},
        "tf": {"tf_graph", "tf_xla", "keras_xla", "python"},
    }
    for engine in tp.ENGINES:
        family = None if engine in tp.FILLS else "ExponentialDecay (Keras)"
        worker = pool.of(engine)
        reply = worker.request(
            op="prepare", id="t", engine=engine, family=family, n=1000, steps=50, round_s=0.0
        )
        assert reply["ok"] and reply["call_s"] > 0 and reply["reps"] == 1, (engine, reply)
        assert worker.request(op="round", id="t")["s"] > 0
        worker.request(op="release", id="t")
    reply = pool.of("keras_xla").request(
        op="prepare", id="k", engine="keras_xla", family="OneCycle", n=1000, steps=10, round_s=0
    )
    assert not reply["ok"] and "no built-in" in reply["unsupported"]
    with pytest.raises(RuntimeError, match="does not run engine 'tf_xla'"):
        pool.of("fastlr").request(
            op="prepare", id="x", engine="tf_xla", family="OneCycle", n=1000, steps=10, round_s=0
        )


def test_numba_and_numpy_workers_never_import_tensorflow(pool):
    for engine in ("fastlr", "fill_parallel", "numpy"):  # make them compute first
        pool.of(engine).request(
            op="prepare", id="m", engine=engine, family="OneCycle", n=1000, steps=1000, round_s=0
        )
    info = pool.describe()
    assert set(info) == {"numba", "numpy", "tf"}
    assert len({w["pid"] for w in info.values()} | {os.getpid()}) == 4  # 3 processes + this one
    for kind in ("numba", "numpy"):
        assert not info[kind]["tensorflow"] and not info[kind]["keras"], info[kind]
    assert info["numba"]["numba"] and info["tf"]["tensorflow"]


# ------------------------------------------------ interleaving and budgets (a simulated pool)


class FakeWorker:
    """Answers like a worker; a call of ``steps`` steps takes ``per_step[engine] * steps``."""

    def __init__(self, per_step: dict[str, float], unsupported=()):
        self.pid = os.getpid()
        self.per_step, self.unsupported, self.cells = per_step, unsupported, {}
        self.prepared: list[tuple[str, int]] = []

    def request(self, op, **msg):
        if op == "prepare":
            if msg["engine"] in self.unsupported:
                return {"ok": False, "unsupported": "not here"}
            self.prepared.append((msg["engine"], msg["steps"]))
            call_s = self.per_step[msg["engine"]] * msg["steps"]
            self.cells[msg["id"]] = call_s
            return {"ok": True, "call_s": call_s, "reps": 1, "prepare_s": 0.0}
        if op == "round":
            return {"ok": True, "s": self.cells[msg["id"]]}
        return {"ok": True}


class FakePool:
    def __init__(self, **kw):
        self.worker = FakeWorker(**kw)
        self.workers = {"fake": self.worker}

    def of(self, engine):
        return self.worker


def test_rounds_are_interleaved_after_every_engine_is_prepared():
    fake = FakePool(per_step={"fastlr": 1e-9, "tf_xla": 1e-8, "numpy": 1e-6}, unsupported=["x"])
    budget = dataclasses.replace(TINY, cell_s=0.01, max_rounds=6)  # rounds: 6, 6, 3
    runner = Runner(fake, budget)
    cells = [Cell(e, "OneCycle", 10**4) for e in ("fastlr", "tf_xla", "numpy", "x")]
    measured = runner.group(cells)
    assert [c.engine for c in measured] == ["fastlr", "tf_xla", "numpy"]
    assert cells[3].skipped == "not here"
    ops = [(op, engine) for op, engine, _ in runner.order]
    first_round = ops.index(("round", "fastlr"))
    assert {op for op, _ in ops[:first_round]} == {"prepare"}  # every engine prepared first
    rounds = [e for op, e in ops if op == "round"]
    assert rounds == ["fastlr", "tf_xla", "numpy"] * 3 + ["fastlr", "tf_xla"] * 3
    assert {op for op, _ in ops[len(ops) - 3 :]} == {"release"}
    assert [len(c.times) for c in measured] == [6, 6, 3]


def test_fit_picks_the_largest_round_step_count_within_the_budget():
    assert fit(1.0, 1e-6, 10**8) == 10**6
    assert fit(1.0, 3e-6, 10**8) == 300_000
    assert fit(1.0, 1e-9, 10**8) == 10**8
    assert fit(1.0, 7e-9, 10**9) == 100_000_000
    assert fit(1e-3, 1.0, 10**8) == 1


def test_the_time_budget_caps_slow_engines_and_marks_rows_extrapolated():
    # fastlr 1 ns/step fits at 10**7; numpy 100 ns/step does not (cap 0.1 s -> 10**6 steps);
    # python (cap 0.01 s, 1 ms/step) runs 10 steps
    fake = FakePool(per_step={"fastlr": 1e-9, "numpy": 1e-7, "python": 1e-3})
    budget = dataclasses.replace(TINY, call_s=0.5, slow_call_s=0.1, python_call_s=0.01)
    runner = Runner(fake, budget)
    rows = {}
    for n in (10**5, 10**7):
        cells = [Cell(e, "OneCycle", n) for e in ("fastlr", "numpy", "python")]
        rows[n] = {c.engine: runner.row(c) for c in runner.group(cells)}
    big = rows[10**7]
    assert big["fastlr"]["n_measured"] == 10**7 and not big["fastlr"]["extrapolated"]
    assert big["numpy"]["n_measured"] == 10**6 and big["numpy"]["extrapolated"]
    assert big["numpy"]["median_s"] == pytest.approx(1e-7 * 10**7)  # scaled to N
    assert big["python"]["n_measured"] == 10 and big["python"]["extrapolated"]
    assert not rows[10**5]["numpy"]["extrapolated"]
    # at 10**7 the estimate from 10**5 picked the size at once: one prepare per engine
    assert fake.worker.prepared[-3:] == [("fastlr", 10**7), ("numpy", 10**6), ("python", 10)]


def test_without_an_estimate_a_probe_picks_the_size_and_a_far_off_call_shrinks_it():
    fake = FakePool(per_step={"numpy": 1e-7, "python": 1e-3, "tf_graph": 1e-6})
    budget = dataclasses.replace(TINY, slow_call_s=0.1, python_call_s=0.01)
    runner = Runner(fake, budget)
    cells = [Cell(e, "OneCycle", 10**6) for e in ("numpy", "python", "tf_graph")]
    got = {c.engine: runner.row(c)["n_measured"] for c in runner.group(cells)}
    assert got == {"numpy": 10**6, "python": 10, "tf_graph": 100_000}
    assert fake.worker.prepared == [
        ("numpy", 10**4),  # probe, then the full N fits
        ("numpy", 10**6),
        ("python", 1),  # one step, then as many as fit
        ("python", 10),
        ("tf_graph", 10**6),  # the first call at N is the probe: 1 s > 1.5 x 0.1 s
        ("tf_graph", 100_000),
    ]


# ------------------------------------------------------------ a real (tiny) run and the report


@pytest.fixture(scope="module")
def small_results(pool):
    """A real (tiny) run: two families at N=1000 on every engine, one at 2000, the cost-vs-cycles
    rows, through the worker processes."""
    messages: list[str] = []
    plan = [
        (1000, ["WarmupCosineDecay", "ExponentialDecay (Keras)"]),
        (2000, ["WarmupCosineDecay"]),
    ]
    rows = bulk(plan, budget=TINY, pool=pool, progress=messages.append)
    results = {
        "schema": 2,
        "date": "2026-12-01T00:00:00+00:00",
        "quick": True,
        "device": "cpu",
        "machine": fastlr.bench.environment(),
        "bulk": rows,
        "keras_xla_missing": fastlr.bench.keras_xla_missing(plan),
        "cycles": cycles(quick=True, progress=messages.append, pool=pool, budget=TINY),
        "method": {"workers": pool.describe(), "budget": TINY.as_dict()},
        "elapsed_s": 1.0,
    }
    return results, messages


def test_bulk_rows_and_progress(small_results):
    results, messages = small_results
    rows = results["bulk"]
    # WarmupCosineDecay: 5 engines (no Keras built-in) + the 2 fills at each N; ExponentialDecay: 6
    assert len(rows) == 7 + 6 + 7
    assert {(r["family"], r["n"]) for r in rows if r["engine"] in tp.FILLS} == {
        ("-", 1000),
        ("-", 2000),
    }
    assert {r["family"] for r in rows if r["engine"] == "keras_xla"} == {"ExponentialDecay (Keras)"}
    for r in rows:
        assert r["median_s"] > 0 and r["min_s"] <= r["median_s"] and r["rounds"] >= 3
        assert r["extrapolated"] == (r["engine"] == "python") == (r["n_measured"] < r["n"])
        assert r["worker"] == tp.WORKER_OF[r["engine"]]
    assert messages[0].startswith(f"[1/{len(rows)}] bulk N=1e+03 WarmupCosineDecay fastlr:")
    assert "(measured at N=" in next(m for m in messages if " python:" in m)
    assert sum("cycles" in m for m in messages) == len(results["cycles"]) == 9
    assert all(r["n_measured"] == r["n"] for r in results["cycles"])


def test_run_records_the_results_schema_with_the_workers_and_budget(monkeypatch):
    plan = [(1000, ["ExponentialDecay (Keras)", "CosineDecay (Keras)"])]
    monkeypatch.setattr(fastlr.bench, "bulk_plan", lambda quick: plan)
    monkeypatch.setattr(fastlr.bench, "QUICK", TINY)
    results = run(quick=True, sections=("bulk",))
    assert results["schema"] == schema.SCHEMA == 3 and results["machine"]["cores"] >= 1
    assert results["harness"] == "fastlr bench" and schema.problems(results) == []
    assert {r["worker"] for r in results["bulk"]} == {"numba", "numpy", "tf"}
    method = results["method"]
    assert "own worker process" in method["isolation"] and method["budget"] == TINY.as_dict()
    assert not method["workers"]["numba"]["tensorflow"] and method["workers"]["tf"]["tensorflow"]
    assert list(results["keras_xla_missing"]) == ["CosineDecay (Keras)"]
    json.dumps(results)  # JSON-ready


def test_report_tables_follow_the_rows(small_results, tmp_path):
    results, _ = small_results
    md = report.markdown(results, "fastlr bench --quick")
    index = {(r["family"], r["n"], r["engine"]): r for r in results["bulk"]}
    fastlr_row = index["WarmupCosineDecay", 2000, "fastlr"]
    numpy_row = index["WarmupCosineDecay", 2000, "numpy"]
    head = report.headline_table(results)
    assert "N = 2,000 float32 steps" in head  # the headline uses the largest N of the family
    assert "| of all-core fill | of np.fill |" in head
    ratio = numpy_row["median_s"] / fastlr_row["median_s"]
    assert re.search(
        r"\| NumPy float64, same formula \| [^|]+ \| [^|]+ \| "
        + re.escape(tables._fmt(ratio, "x")),
        head,
    )
    assert re.search(r"Python loop of schedule\(step\) \(extrapolated from N=\d+\)", head)
    families = report.families_table(results)
    assert "N = 1,000 float32 steps" in families  # where 2 families ran
    assert (
        "| family | fastlr M/s | TF XLA M/s | Keras XLA M/s | fastlr/TF XLA | fastlr/Keras XLA "
        "| fastlr of all-core fill | fastlr of np.fill |"
    ) in families
    f, k = (
        index["ExponentialDecay (Keras)", 1000, "fastlr"],
        index["ExponentialDecay (Keras)", 1000, "keras_xla"],
    )
    fill = index["-", 1000, "fill_parallel"]
    line = next(x for x in families.splitlines() if x.startswith("| ExponentialDecay"))
    assert tables._fmt(k["median_s"] / f["median_s"], "x") in line
    assert f"{fill['median_s'] / f['median_s']:.0%}" in line
    warmup_cosine = next(x for x in families.splitlines() if x.startswith("| WarmupCosineDecay"))
    assert warmup_cosine.split(" | ")[3] == "-"  # no Keras built-in
    assert "- WarmupCosineDecay: Keras has no built-in" in md
    assert "Each engine kind ran in its own worker process" in md
    for title in ("Every family", "Every engine", "M steps/s over N", "Cost vs number of cycles"):
        assert title in md
    paths = report.write(results, tmp_path / "out", "fastlr bench --quick")
    names = sorted(p.name for p in paths)
    assert names == ["report.md", "results.json", "throughput.png"]
    assert json.loads((tmp_path / "out" / "results.json").read_text()) == results
    assert (tmp_path / "out" / "throughput.png").read_bytes()[:4] == b"\x89PNG"


def _row(family, engine, n, mps, n_measured=None):
    n_measured = n if n_measured is None else n_measured
    return {
        "family": family,
        "engine": engine,
        "n": n,
        "n_measured": n_measured,
        "median_s": n / mps / 1e6,
        "min_s": n / mps / 1e6,
        "rounds": 3,
        "extrapolated": n_measured != n,
    }


def test_family_tables_at_1e6_and_1e8_mark_extrapolated_values():
    rows = []
    for n in (10**6, 10**8):
        rows += [_row("-", "fill", n, 2000), _row("-", "fill_parallel", n, 4000)]
        for family in ("WarmupCosineDecay", "ExponentialDecay (Keras)"):
            rows += [_row(family, "fastlr", n, 1000), _row(family, "tf_xla", n, 250)]
        rows.append(_row("ExponentialDecay (Keras)", "keras_xla", n, 500, n_measured=n // 10))
    results = {"schema": 2, "bulk": rows}
    assert report.family_sizes(results) == [10**6, 10**8]
    table = report.families_table(results, 10**8)
    assert "N = 100,000,000" in table and "all-core fill: 4,000 M/s, np.fill: 2,000 M/s" in table
    line = next(x for x in table.splitlines() if x.startswith("| ExponentialDecay"))
    assert line == "| ExponentialDecay (Keras) | 1,000 | 250 | 500* | 4.0x | 2.0x* | 25% | 50% |"


def test_schema_1_results_still_render():
    # a quick run of 2026-12-01 (every engine in one process), kept as the schema-1 fixture
    results = json.loads((ROOT / "tests/data/bench-schema-1-quick.json").read_text())
    assert results["schema"] == 1
    md = report.markdown(results)
    assert "Schema 1 run" in md and "Every family, N = 1,000,000" in md
    assert report.readme_table(results, "x.json").startswith(report.README_START)


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


@pytest.mark.parametrize("page", ["README.md", "docs/benchmarks.md"])
def test_benchmark_sections_are_generated_from_the_committed_results(page):
    """README.md has the headline table, docs/benchmarks.md every table, both generated from the
    same committed run (the raw-numbers link relative to each file)."""
    text = (ROOT / page).read_text()
    section = text[text.index(report.README_START) : text.index(report.README_END)]
    source = re.search(r"raw numbers: \[`([^`]+)`\]", section).group(1)
    results = json.loads((ROOT / source).read_text())
    full = page != "README.md"
    link = os.path.relpath(source, os.path.dirname(page) or ".")
    want = report.readme_table(results, source, full=full, link=link)
    assert results.get("schema", 1) >= 2, f"{source}: a schema-1 run (engines in one process)"
    assert section + report.README_END == want, "run: " + (
        f"python -m fastlr.bench.report {source} --readme README.md --docs docs/benchmarks.md"
    )


def test_report_command_writes_the_readme_and_the_docs_page(small_results, tmp_path, monkeypatch):
    """``--readme`` gets the headline table, ``--docs`` every table, linked from its folder."""
    results, _ = small_results
    source = tmp_path / "results.json"
    source.write_text(json.dumps(results))
    (tmp_path / "docs").mkdir()
    pages = {"README.md": tmp_path / "README.md", "docs": tmp_path / "docs" / "benchmarks.md"}
    for path in pages.values():
        path.write_text(f"intro\n\n{report.README_START}\n{report.README_END}\n")
    monkeypatch.chdir(tmp_path)
    report.main(["results.json", "--readme", "README.md", "--docs", "docs/benchmarks.md"])
    readme, docs = (p.read_text() for p in pages.values())
    assert "](results.json)" in readme and "](../results.json)" in docs
    assert report.headline_table(results) in readme and report.headline_table(results) in docs
    assert report.method_text(results) in docs and report.method_text(results) not in readme


def test_fresh_process_reports_every_phase(tmp_path):
    phases = fresh_process(str(tmp_path))
    assert set(phases) == {*PHASES, "total_s"}
    assert all(v > 0 for v in phases.values())
    assert phases["total_s"] > phases["first_call_s"]
