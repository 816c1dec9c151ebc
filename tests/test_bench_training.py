"""The training-step overhead benchmark measures what it claims (no timing assertions)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import run_fresh_python

from fastlr.bench import training as tr
from fastlr.engines.numpy_ref import reference

STEPS = 4


@pytest.fixture(scope="module")
def runner():
    """``runner(variant)``: a prepared (warm) :class:`Runner` of ``STEPS`` steps, built once."""
    cache: dict[str, tr.Runner] = {}

    def get(variant: str) -> tr.Runner:
        if variant not in cache:
            cache[variant] = tr.prepare(variant, STEPS)
        return cache[variant]

    return get


def _eagerly() -> bool:
    import tensorflow as tf

    return tf.config.functions_run_eagerly()


def _weights(model) -> list[np.ndarray]:
    return [np.array(w) for w in model.get_weights()]


def test_import_does_not_load_tensorflow():
    script = (
        "import sys, json\n"
        "import fastlr.bench.training as t\n"
        "print('RESULT' + json.dumps([m in sys.modules for m in ('tensorflow', 'keras')]))\n"
    )
    assert run_fresh_python(script) == [False, False]


def test_variants_and_unknown_names():
    assert list(tr.VARIANTS) == [
        "constant",
        "fastlr",
        "fastlr_warmup_cosine",
        "keras",
        "eager_counter",
    ]
    assert all(isinstance(label, str) and label for label in tr.VARIANTS.values())
    assert "jit_compile=False" in tr.VARIANTS["eager_counter"]
    with pytest.raises(ValueError, match="unknown variant"):
        tr.prepare("nope", 3)
    with pytest.raises(ValueError, match="unknown variant"):
        tr.step_overhead(variants=["constant", "nope"])
    with pytest.raises(ValueError, match="steps"):
        tr.prepare("constant", 0)


@pytest.mark.parametrize("variant", list(tr.VARIANTS))
def test_each_variant_trains(runner, variant):
    r = runner(variant)
    assert r.steps == STEPS
    assert r.model.jit_compile is (variant != "eager_counter")
    it0 = int(r.model.optimizer.iterations.numpy())
    assert it0 == STEPS  # the warm-up ran one full call
    before = _weights(r.model)
    r()
    after = _weights(r.model)
    assert int(r.model.optimizer.iterations.numpy()) == it0 + STEPS
    assert all(np.isfinite(w).all() for w in after)
    assert any(not np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert not _eagerly()


@pytest.mark.parametrize("variant", ["fastlr", "fastlr_warmup_cosine", "keras"])
def test_compiled_schedules_are_not_called_again_no_retrace(runner, variant, monkeypatch):
    """In a compiled step the schedule is only called while tracing: a Python call during a
    timed fit would mean Keras retraced (or ran eagerly)."""
    r = runner(variant)
    calls = []
    cls = type(r.learning_rate)
    original = cls.__call__

    def counting(self, step):
        calls.append(step)
        return original(self, step)

    monkeypatch.setattr(cls, "__call__", counting)
    r()
    r()
    assert calls == []


def test_eager_counter_is_the_stateful_recipe(runner):
    r = runner("eager_counter")
    sched = r.learning_rate
    n0 = len(sched.learning_rate_list)
    # One Python call per training step so far (warm-up included).
    assert n0 == sched.step == int(r.model.optimizer.iterations.numpy()) >= STEPS
    r()
    assert len(sched.learning_rate_list) == sched.step == n0 + STEPS
    # Same curve as the compiled fastlr.WarmupCosineDecay row, computed in Python.
    import fastlr

    ref = reference(fastlr.WarmupCosineDecay(**tr.WARMUP_COSINE_PARAMS), np.arange(sched.step))
    np.testing.assert_allclose(sched.learning_rate_list, ref, rtol=1e-12, atol=1e-15)
    # The counter, not the step it is given, is the clock (why it needs eager execution).
    clock = sched.step
    want = reference(fastlr.WarmupCosineDecay(**tr.WARMUP_COSINE_PARAMS), [clock])
    assert sched(10**6) == pytest.approx(float(want[0]), rel=1e-12)
    assert sched.step == clock + 1


def test_eager_counter_curve_matches_at_every_phase():
    sched = tr._eager_counter_schedule(**tr.WARMUP_COSINE_PARAMS)
    total = tr.WARMUP_COSINE_PARAMS["total_steps"]
    got = [sched(None) for _ in range(total + 5)]
    import fastlr

    ref = reference(fastlr.WarmupCosineDecay(**tr.WARMUP_COSINE_PARAMS), np.arange(total + 5))
    np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-15)


def test_eager_flag_restored_on_error(runner, monkeypatch):
    r = runner("eager_counter")
    seen = []

    def failing_fit(*args, **kwargs):
        seen.append(_eagerly())
        raise RuntimeError("boom")

    monkeypatch.setattr(r.model, "fit", failing_fit)
    with pytest.raises(RuntimeError, match="boom"):
        r()
    assert seen == [True]
    assert not _eagerly()


def test_fastlr_and_keras_rows_apply_the_same_learning_rates(runner):
    import keras

    fl, ks = runner("fastlr"), runner("keras")
    assert isinstance(fl.learning_rate, keras.optimizers.schedules.LearningRateSchedule)
    k = int(fl.model.optimizer.iterations.numpy())
    assert k == int(ks.model.optimizer.iterations.numpy()) > 0
    lr_fl = float(np.asarray(fl.model.optimizer.learning_rate))
    lr_ks = float(np.asarray(ks.model.optimizer.learning_rate))
    assert lr_fl == pytest.approx(float(reference(fl.learning_rate, [k])[0]), rel=1e-6)
    assert lr_fl == pytest.approx(lr_ks, rel=1e-6)
    steps = [0, 1, 250, 499, 500, 501, 1000, 5000, 10_499, 10_500, 10_501, 20_000]
    ours = [float(np.asarray(fl.learning_rate(s))) for s in steps]
    theirs = [float(np.asarray(ks.learning_rate(s))) for s in steps]
    np.testing.assert_allclose(ours, theirs, rtol=2e-6, atol=1e-9)


def test_step_overhead_rows_are_well_formed():
    messages: list[str] = []
    rows = tr.step_overhead(
        quick=True, steps=5, variants=["constant", "eager_counter"], progress=messages.append
    )
    assert [r["variant"] for r in rows] == ["constant", "eager_counter"]
    keys = {"variant", "label", "per_step_s", "min_per_step_s", "rounds", "steps"}
    for r in rows:
        assert set(r) == keys | {"ratio_vs_constant"}
        assert r["label"] == tr.VARIANTS[r["variant"]]
        assert 0 < r["min_per_step_s"] <= r["per_step_s"]
        assert r["rounds"] >= 3
    assert rows[0]["steps"] == 5 and rows[1]["steps"] == 1
    assert rows[0]["ratio_vs_constant"] == 1.0
    assert rows[1]["ratio_vs_constant"] == rows[1]["per_step_s"] / rows[0]["per_step_s"]
    assert messages and not _eagerly()
    no_ref = tr.step_overhead(quick=True, steps=2, variants=["eager_counter"])
    assert no_ref[0]["ratio_vs_constant"] is None
