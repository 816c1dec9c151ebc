"""Property tests (hypothesis): random valid parameters and steps for every schedule.

Parameters, phases and the model checked come from each class's spec (``tests/specs``):
non-increasing decays after their warmup (``decays_from``); consecutive steps differing by at most
the largest change the published formula allows (``step_change``), continuity at phase joins
included; the final value held after the end of finite schedules (``final``); a vector
evaluation equal to step-by-step evaluation; Piecewise and Table values taken from their lists
exactly. (Finite values inside the documented range, and agreement with the independent
reference at any step, are checked on the same draws by ``test_fuzz`` and ``test_reference``.)
Evaluation uses the float64 bulk path (``s.evaluate(..., "float64")``).

Composites (Warmup, Sequential, Offset, Scale, Product, Clip) get random children drawn from the
other specs, nested up to two composites deep; their model is built from their children's (see
``specs/compose.py``), and checked on the NumPy reference engine (see ``model_values``: a
compiled kernel per random structure would cost about a second). Their own semantics (a linear
ramp into the wrapped schedule, each schedule from its boundary, a shift) are checked on the bulk
engine against the children's reference values, within its float64 budget.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import assert_within_budget
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from specs import (
    MAX_STEP,
    SPECIAL_STEPS,
    SPECS,
    bounds_of,
    decays_from,
    example_schedules,
    final_of,
    step_change,
    steps_near,
    valid_kwargs,
)

from fastlr.engines.numpy_ref import reference
from fastlr.schedules import REGISTRY

SETTINGS = settings(
    max_examples=20,  # per class and property, fresh draws every run (CI's time budget)
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Composites compile one kernel per structure (about a second): fewer examples where they do.
COMPOSITE_SETTINGS = settings(SETTINGS, max_examples=15)
REL = 1e-12  # relative float tolerance for range and monotonicity checks
NAMES = sorted(REGISTRY)
DECAYS = [n for n, spec in SPECS.items() if spec.decays_from is not None]
FINITE = [n for n, spec in SPECS.items() if spec.final is not None]
CONTINUOUS = [n for n, spec in SPECS.items() if spec.step_change is not None]


@st.composite
def schedule_and_steps(draw, name):
    """A schedule of class ``name`` (its spec's valid parameters) and sorted int64 steps: the
    special steps, +-2 around its phase points, random ones (all up to 2**53 - 1)."""
    s = REGISTRY[name](**draw(valid_kwargs(name)))
    near = steps_near(s, width=2, top=MAX_STEP)
    randoms = draw(st.lists(st.one_of(st.integers(0, 1000), st.integers(0, MAX_STEP)), max_size=20))
    steps = sorted({x for x in [*SPECIAL_STEPS, *near, *randoms] if 0 <= x <= MAX_STEP})
    return s, np.array(steps, dtype=np.int64)


def values(s, steps) -> np.ndarray:
    """The bulk engine's float64 values."""
    return s.evaluate(np.asarray(steps, dtype=np.int64), dtype="float64")


def model_values(s, steps) -> np.ndarray:
    """Values for the model-based properties (decay, final value, slope).

    The bulk engine compiles one kernel per composite *structure* (about a second each), and
    random children make nearly every example a new structure, so composites are evaluated here
    by the NumPy reference engine (the same formulas, no compilation). Their compiled kernels are
    checked against the children's reference values in "composites follow their children" below
    (which implies these properties there, within the float64 budget) and by vector evaluation
    equal to step-by-step.
    """
    if s.children():
        return reference(s, np.asarray(steps, dtype=np.int64))
    return values(s, steps)


def tol(s) -> float:
    lo, hi = bounds_of(s)
    return REL * max(abs(lo), abs(hi)) + 1e-300


def test_a_subnormal_warmup_is_finite_on_every_engine():
    """Found by the slope property in CI: a subnormal ``warmup_steps`` has no float64 reciprocal,
    and the compiled division uses one (1 / w is inf, 0 * inf is NaN): the formula guards it."""
    s = REGISTRY["CosineDecay"](0.0, 1, warmup_target=0.5, warmup_steps=2.2250738585e-313)
    steps = np.array([0, 1, 2, 2**62], dtype=np.int64)
    want = [0.0, 0.0, 0.0, 0.0]  # step 0 is the warmup's start (0), then the cosine has ended
    np.testing.assert_array_equal(s.evaluate(steps, dtype="float64"), want)
    np.testing.assert_array_equal(reference(s, steps), want)
    np.testing.assert_array_equal(values(s, steps), want)


# -- properties -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", ["PiecewiseConstantDecay", "Table"])
@SETTINGS
@given(data=st.data())
def test_lists_give_exactly_their_values(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    v = model_values(s, steps)
    if name == "PiecewiseConstantDecay":
        assert set(v.tolist()) <= set(s.values)
    else:  # values[min(step, len - 1)], exactly
        want = np.array(s.values)[np.minimum(steps, len(s.values) - 1)]
        np.testing.assert_array_equal(v, want)


@pytest.mark.parametrize("name", DECAYS)
@SETTINGS
@given(data=st.data())
def test_decays_are_non_increasing_after_their_warmup(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    start = decays_from(s)
    assume(start is not None)
    after = steps[steps >= math.ceil(start)]
    v = model_values(s, after)
    rises = np.diff(v) > tol(s)
    assert not rises.any(), (s, after[1:][rises], np.diff(v)[rises])


@pytest.mark.parametrize("name", ["ExponentialRange"])
@SETTINGS
@given(data=st.data())
def test_ramps_are_monotonic(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    d = np.diff(model_values(s, steps))
    if s.end_lr >= s.start_lr:
        assert (d >= -tol(s)).all()
    else:
        assert (d <= tol(s)).all()


@pytest.mark.parametrize("name", FINITE)
@SETTINGS
@given(data=st.data())
def test_finite_schedules_hold_their_final_value(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    end = final_of(s)
    assume(end is not None)
    end_step, final = end
    first = math.ceil(end_step)
    after = np.array(
        sorted({first, first + 1, first + 7, *steps[steps >= first].tolist()}), dtype=np.int64
    )
    after = after[after <= MAX_STEP]
    assume(len(after))  # (a float end step may lie past 2**53)
    v = model_values(s, after)
    assert (v == v[0]).all(), (s, after[v != v[0]], v[v != v[0]], v[0])
    assert math.isclose(v[0], final, rel_tol=1e-12, abs_tol=1e-300), (s, v[0], final)


# -- continuity -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", CONTINUOUS)
@SETTINGS
@given(data=st.data())
def test_consecutive_steps_differ_by_at_most_the_max_slope(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    steps = steps[steps < MAX_STEP]
    v0, v1 = model_values(s, steps), model_values(s, steps + 1)
    checked = 0
    for b, a, c in zip(steps.tolist(), v0.tolist(), v1.tolist(), strict=True):
        bound = step_change(s, b)
        if bound is None:
            continue
        checked += 1
        allowed = bound * 1.01 + 4 * tol(s)
        assert abs(c - a) <= allowed, (s, b, a, c, abs(c - a), bound)
    assume(checked)


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_vector_evaluation_equals_step_by_step(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    v = values(s, steps)
    one_by_one = [s.evaluate([int(x)], dtype="float64")[0] for x in steps]
    np.testing.assert_array_equal(v, one_by_one)
    as_ranges = [s.evaluate(range(int(x), int(x) + 1), dtype="float64")[0] for x in steps[:5]]
    np.testing.assert_array_equal(v[:5], as_ranges)
    shuffled = data.draw(st.permutations(list(range(len(steps)))))
    np.testing.assert_array_equal(values(s, steps[shuffled]), v[shuffled])


# -- composites follow their children ----------------------------------------------------------
def assert_close_to_children(s, got, want) -> None:
    """The bulk engine's float64 budget against the children's NumPy reference values."""
    got = np.asarray(got)
    assert np.isfinite(got).all(), (s, got)
    lo, hi = bounds_of(s)
    assert_within_budget(got, want, "float64", max(abs(lo), abs(hi)))


@COMPOSITE_SETTINGS
@given(data=st.data())
def test_warmup_ramps_linearly_into_its_schedule(data):
    s, steps = data.draw(schedule_and_steps("Warmup"))
    w, start = s.warmup_steps, s.start_lr
    target = float(reference(s.schedule, [0])[0])  # the schedule at its own step 0
    ramp = steps < w
    want = np.empty(len(steps))
    want[ramp] = start + (target - start) * (steps[ramp] / max(w, 1))
    want[~ramp] = reference(s.schedule, steps[~ramp] - w)
    assert_close_to_children(s, values(s, steps), want)
    if w > 0:
        first, before, at = values(s, [0, w - 1, w])
        assert first == start, (s, first)
        # Continuous at the end of the warmup: the join lands on the schedule's step-0 value, one
        # ramp step away from the last warmup value.
        assert_close_to_children(s, [at], [target])
        assert abs(at - before) <= abs(target - start) / w * (1 + 1e-9) + 4 * tol(s), (
            s,
            before,
            at,
        )


@COMPOSITE_SETTINGS
@given(data=st.data())
def test_sequential_runs_each_schedule_from_its_boundary(data):
    s, steps = data.draw(schedule_and_steps("Sequential"))
    bounds = np.array(s.boundaries, dtype=np.int64)
    starts = np.array([0, *s.boundaries], dtype=np.int64)
    which = np.searchsorted(bounds, steps, side="right")
    want = np.empty(len(steps))
    for i, child in enumerate(s.schedules):
        mine = which == i
        want[mine] = reference(child, steps[mine] - starts[i])
    assert_close_to_children(s, values(s, steps), want)
    # At each boundary: the next schedule at its step 0; one step before, the previous one.
    for i, b in enumerate(s.boundaries):
        before, at = values(s, [b - 1, b])
        expected = [
            reference(s.schedules[i], [b - 1 - starts[i]])[0],
            reference(s.schedules[i + 1], [0])[0],
        ]
        assert_close_to_children(s, [before, at], expected)


@COMPOSITE_SETTINGS
@given(data=st.data())
def test_offset_is_its_schedule_shifted(data):
    s, steps = data.draw(schedule_and_steps("Offset"))
    # Documented exact while step + offset < 2**53 (the children's exact range).
    steps = steps[steps <= MAX_STEP - s.offset]
    assert_close_to_children(s, values(s, steps), reference(s.schedule, steps + s.offset))


# -- specific regressions found by the properties ---------------------------------------------
@pytest.mark.parametrize("initial", [0.0, 1.0])
def test_restart_peaks_stay_finite(initial):
    """Peaks ``m_mul**k`` would overflow to inf/NaN for ``m_mul > 1``: refused at construction;
    at the largest allowed ``m_mul`` (1) every step stays finite."""
    with pytest.raises(ValueError, match="`m_mul` must be <= 1"):
        REGISTRY["CosineDecayRestarts"](initial, 2, t_mul=1.0, m_mul=1.5)
    s = REGISTRY["CosineDecayRestarts"](initial, 2, t_mul=1.0, m_mul=1.0)
    v = values(s, [0, 2, 2**12, 2**31, MAX_STEP])
    assert np.isfinite(v).all(), (s, v)


@pytest.mark.parametrize(("start", "end"), [(1e-300, 1e300), (1e300, 1e-300), (1e-200, 1e200)])
def test_exponential_range_with_extreme_ratio(start, end):
    """Valid rates (> 0, finite) whose ratio overflows float64 must still ramp finitely."""
    s = REGISTRY["ExponentialRange"](start, end, num_steps=100)
    v = values(s, [0, 50, 99, 100, 1000])
    assert np.isfinite(v).all(), (s, v)
    assert v[0] == pytest.approx(start) and v[-1] == end


@pytest.mark.parametrize("steps", [np.array([0, 1, 5]), range(0, 6, 2), 3], ids=repr)
@pytest.mark.parametrize("outer", ["none", "Warmup", "Offset"])
def test_sequential_of_a_single_table(steps, outer):
    """A Sequential of one schedule has no boundaries; its child must still get integer steps
    (a Table indexes its values with them)."""
    table = REGISTRY["Table"]([0.5, 0.25, 0.125])
    s, t = REGISTRY["Sequential"]([table], []), table
    if outer == "Warmup":
        s, t = REGISTRY["Warmup"](s, 2), REGISTRY["Warmup"](t, 2)
    elif outer == "Offset":
        s, t = REGISTRY["Offset"](s, 1), REGISTRY["Offset"](t, 1)
    np.testing.assert_array_equal(
        s.evaluate(steps, dtype="float64"), t.evaluate(steps, dtype="float64")
    )


def test_negative_steps_are_refused_on_the_host_and_clamped_by_the_graph():
    """A host value (``evaluate``'s steps, ``s(-5)``) is checked; a tensor is mapped to 0."""
    import tensorflow as tf  # a required dependency: never skipped

    for param in example_schedules():
        (s,) = param.values
        with pytest.raises(ValueError, match=r"`steps`.*-5 is negative"):
            s.evaluate(np.array([-5, 0]), dtype="float64")
        with pytest.raises(ValueError, match=r"`step`.*-5 is negative"):
            s(-5)
        with pytest.raises(ValueError, match=r"`step`.*-5 is negative"):
            s(np.array([-5, -1, 0]))
        at_zero = s(0).numpy()
        assert s(tf.constant(-1, tf.int64)).numpy() == at_zero, s
        np.testing.assert_array_equal(s(tf.constant([-5, -1, 0], tf.int64)).numpy(), [at_zero] * 3)
