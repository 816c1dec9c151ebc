"""Schedule.phases() and fastlr.dry_run: problems found before training, not hours into it."""

from __future__ import annotations

import numpy as np
import pytest
from specs import example_schedules

import fastlr
from fastlr.preflight import DIVIDES_BY_LR


@pytest.mark.parametrize("schedule", example_schedules())
def test_phases_are_where_the_curve_says(schedule):
    name = type(schedule).__name__
    phases = schedule.phases()
    starts = list(phases.values())
    assert all(isinstance(p, int) and p > 0 for p in starts), phases
    assert starts == sorted(starts), phases
    for key, p in phases.items():
        window = schedule.evaluate(np.arange(0, 2 * p + 20), dtype="float64")
        if key.endswith("end"):  # the final value, held from here on
            far = schedule.evaluate([p, p + 1, 2 * p + 7, 10 * p + 3], dtype="float64")
            np.testing.assert_allclose(far, far[0], rtol=1e-12, err_msg=f"{name} {key}")
            if p > 1:
                assert window[p - 1] != window[p] or window[p - 2] != window[p - 1], key
        elif key.endswith("peak"):  # the warmup's end: the curve's maximum, within a step
            top = window[: p + 2].max() * (1 - 1e-12)
            assert window[p - 1] >= top or window[p] >= top, f"{name} {key}"
        elif key.startswith("values[") or key.startswith("schedules["):
            pass  # checked below on concrete cases


def test_phases_of_composites_and_piecewise():
    pw = fastlr.PiecewiseConstantDecay([100, 250], [1.0, 0.5, 0.1])
    assert pw.phases() == {"values[1]": 101, "values[2]": 251}
    lr = pw.evaluate([100, 101, 250, 251], dtype="float64").tolist()
    assert lr == [1.0, 0.5, 0.5, 0.1]
    inner = fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=100, hold_steps=50)
    assert inner.phases() == {"peak": 100, "decay": 150, "end": 1000}
    assert fastlr.Warmup(fastlr.CosineDecay(0.1, 900), 100).phases() == {"peak": 100, "end": 1000}
    assert fastlr.Offset(inner, 120).phases() == {"decay": 30, "end": 880}
    seq = fastlr.Sequential([inner, fastlr.Constant(0.01)], [600])
    assert seq.phases() == {
        "schedules[0] peak": 100,
        "schedules[0] decay": 150,
        "schedules[1]": 600,
    }
    clr = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=20, step_size_down=30)
    assert clr.phases() == {"peak": 20, "cycle 2": 50}
    assert fastlr.CosineDecayRestarts(0.1, 2.5).phases() == {"cycle 2": 3}
    assert fastlr.ExponentialDecay(0.1, 10, 0.5).phases() == {}
    assert fastlr.ExponentialDecay(0.1, 10, 0.5, staircase=True).phases() == {"first drop": 10}


def test_a_well_planned_run_has_no_problems():
    s = fastlr.WarmupCosineDecay(0.1, 10_000, warmup_steps=500, min_lr=1e-5)
    report = fastlr.dry_run(s, epochs=10, steps_per_epoch=1000, optimizer="adam")
    assert report.ok and report.problems == [] and report.total_steps == 10_000
    assert report.phases == {"peak": (500, True), "end": (10_000, False)}
    assert report.max_step == 500 and report.max_lr == pytest.approx(0.1)
    assert "no problems found" in str(report)
    report.raise_if_problems()  # nothing to raise


def test_warmup_longer_than_the_run():
    s = fastlr.Warmup(fastlr.Constant(0.1), warmup_steps=2000)
    report = fastlr.dry_run(s, 1500)
    assert not report.ok
    assert report.problems == [
        "warmup longer than the run: the LR peaks at step 2000, but the run stops at step 1499 "
        "(lr 0.07495, 75% of the peak 0.1)"
    ]
    with pytest.raises(ValueError, match=r"found 1 problem\(s\):\n- warmup longer than the run"):
        report.raise_if_problems()


def test_phases_never_reached():
    s = fastlr.Sequential(
        [fastlr.Constant(0.1), fastlr.Constant(0.01), fastlr.Constant(0.001)], [500, 5000]
    )
    report = fastlr.dry_run(s, 3000)
    assert report.problems == [
        "phase 'schedules[2]' starts at step 5000, after the run's last step 2999: never reached",
        "the LR reaches its floor 0.01 at step 500 and stays there for the last 83% of the run "
        "(2500 steps)",
    ]
    clr = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=2000)
    assert "phase 'cycle 2' starts at step 4000" in fastlr.dry_run(clr, 3000).problems[0]
    short = fastlr.dry_run(fastlr.CosineDecay(0.1, 10_000), 5000)
    assert short.problems == [
        "the schedule ends at step 10000, after the run's last step 4999: the LR stops at "
        "0.0500157 instead of its final 0"
    ]


def test_floor_reached_long_before_the_end():
    s = fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=100, min_lr=1e-4)
    report = fastlr.dry_run(s, 4000)
    assert report.problems == [
        "the LR reaches its floor 0.0001 at step 1000 and stays there for the last 75% of the run "
        "(3000 steps)"
    ]
    assert fastlr.dry_run(s, 4000, floor_fraction=0.8).ok
    assert fastlr.dry_run(fastlr.Constant(0.1), 10**6).ok  # constant: no floor to reach


def test_zero_lr_with_an_optimizer_that_divides_by_it():
    s = fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=100)  # lr(0) = 0
    plain = fastlr.dry_run(s, 1000)
    assert plain.ok and plain.notes == ["the LR is 0 at step 0: the first step trains nothing"]
    import keras

    for optimizer in ("Ftrl", keras.optimizers.Ftrl, keras.optimizers.Ftrl(learning_rate=s)):
        report = fastlr.dry_run(s, 1000, optimizer=optimizer)
        assert report.problems == [
            "the LR is 0 at step 0 and Ftrl divides by the learning rate: its update becomes "
            "NaN or inf"
        ]
    assert fastlr.dry_run(s, 1000, optimizer=keras.optimizers.SGD(learning_rate=s)).ok


@pytest.mark.parametrize("name", (*DIVIDES_BY_LR, "SGD", "Adam"))
def test_which_keras_optimizers_divide_by_the_learning_rate(name):
    """The list is right: one step at LR 0 gives non-finite weights exactly for those optimizers."""
    import keras

    w = keras.Variable(np.ones(3, dtype="float32"))
    opt = getattr(keras.optimizers, name)(learning_rate=0.0)
    opt.apply_gradients([(keras.ops.convert_to_tensor(np.full(3, 0.5, dtype="float32")), w)])
    assert np.isfinite(np.asarray(w)).all() == (name not in DIVIDES_BY_LR)


def test_long_runs_are_sampled_and_keep_their_phase_edges():
    s = fastlr.OneCycle(0.1, 10**9)
    report = fastlr.dry_run(s, 10**9)
    assert report.ok and report.phases["peak"] == (299_999_999, True)
    # float64 rounds the last steps of the warmup to the peak itself: the first maximum is
    # within a step of it
    assert report.max_lr == 0.1 and 299_999_998 <= report.max_step <= 299_999_999
    assert report.last_lr == pytest.approx(0.1 / 25 / 1e4)


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(), "Give `total_steps`, or both `epochs` and `steps_per_epoch`"),
        (dict(total_steps=10, epochs=2), "Give either `total_steps` or `epochs`"),
        (dict(total_steps=0), "Argument `total_steps` must be > 0. Received: total_steps=0"),
        (dict(epochs=3, steps_per_epoch=0), "Argument `steps_per_epoch` must be > 0"),
        (dict(total_steps=10, floor_fraction=2), "Argument `floor_fraction` must be <= 1"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        fastlr.dry_run(fastlr.Constant(0.1), **kwargs)
    with pytest.raises(TypeError, match="Argument `schedule` must be a fastlr schedule"):
        fastlr.dry_run(0.1, 10)


def test_an_unknown_optimizer_name_is_refused_listing_the_choices():
    with pytest.raises(ValueError) as info:
        fastlr.dry_run(fastlr.Constant(0.1), 10, optimizer="adamm")
    message = str(info.value)
    assert message.startswith("Argument `optimizer` must be")
    assert "'Adam'" in message and "'SGD'" in message and "Received: optimizer='adamm'" in message


@pytest.mark.parametrize("optimizer", [3, 0.1, object(), int])
def test_a_non_optimizer_is_a_type_error(optimizer):
    with pytest.raises(TypeError, match="Argument `optimizer` must be a Keras optimizer"):
        fastlr.dry_run(fastlr.Constant(0.1), 10, optimizer=optimizer)


@pytest.mark.parametrize("name", ["adam", "SGD", "rmsprop", "Ftrl", "adamw"])
def test_optimizer_names_in_any_case(name):
    assert fastlr.dry_run(fastlr.Constant(0.1), 10, optimizer=name).ok
