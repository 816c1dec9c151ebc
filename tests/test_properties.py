"""Property tests (hypothesis): random valid parameters and steps for every schedule.

Properties: finite values inside the documented range; non-increasing decays after their warmup;
continuity at phase joins, bounded by the largest slope the published formula allows over one
step; the final value held after the end of finite schedules; exact restart values at cycle
starts (integer cycle multipliers, any step up to 2**53 - 1); a vector evaluation equal to
step-by-step evaluation. Evaluation uses the float64 bulk path (``s.evaluate(..., "float64")``).

Composites (Warmup, Sequential, Offset) get random children drawn from the strategies of the other
classes, nested up to two composites deep; their model (range, phase boundaries, decay start, end,
slope bound) is built from their children's, and checked on the NumPy reference engine (see
``model_values``: a compiled kernel per random structure would cost about a second). Their own
semantics (a linear ramp into the wrapped schedule, each schedule from its boundary, a shift) are
checked on the bulk engine against the children's reference values, within its float64 budget.
"""

from __future__ import annotations

import bisect
import math

import numpy as np
import pytest
from conftest import assert_within_budget, example_schedules
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from fastlr.engines.numpy_ref import reference
from fastlr.schedules import REGISTRY

MAX_STEP = 2**53 - 1
SPECIAL_STEPS = [
    0,
    1,
    2,
    2**24 - 1,
    2**24,
    2**24 + 1,
    2**31 - 1,
    2**31,
    2**31 + 1,
    2**53 - 2,
    MAX_STEP,
]
SETTINGS = settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
# Composites compile one kernel per structure (about a second): fewer examples where they do.
COMPOSITE_SETTINGS = settings(SETTINGS, max_examples=15)
REL = 1e-12  # relative float tolerance for range and monotonicity checks

# -- parameter strategies (documented constraints) ------------------------------------------------
rates = st.one_of(st.just(0.0), st.floats(1e-6, 10.0), st.integers(0, 5))
positive_rates = st.one_of(st.floats(1e-6, 10.0), st.integers(1, 5))
counts = st.one_of(st.integers(1, 50), st.integers(1, 10**6), st.integers(1, 2**40))
keras_steps = st.one_of(counts, st.floats(0.5, 1e5))
fractions = st.one_of(st.just(0.0), st.just(1.0), st.floats(0.0, 1.0))
open_unit = st.one_of(st.just(1.0), st.floats(1e-3, 1.0))
# Integer multipliers keep cycle starts integral (exact restart checks); floats cover the rest.
multipliers = st.one_of(st.sampled_from([1.0, 2.0, 3.0]), st.floats(1.0, 4.0))


@st.composite
def cosine_decay(draw):
    return dict(
        initial_learning_rate=draw(rates),
        decay_steps=draw(keras_steps),
        alpha=draw(fractions),
        warmup_target=draw(st.none() | rates),
        warmup_steps=draw(st.one_of(st.integers(0, 1000), st.floats(0.0, 1e3), counts)),
    )


@st.composite
def piecewise(draw):
    bounds = draw(st.lists(st.integers(-10, 10**7), min_size=1, max_size=5, unique=True))
    bounds.sort()
    values = draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return dict(boundaries=bounds, values=values)


@st.composite
def warmup_cosine_decay(draw):
    total = draw(counts)
    warmup = draw(st.integers(0, total))
    hold = draw(st.integers(0, total - warmup))
    target = draw(rates)
    return dict(
        target_lr=target,
        total_steps=total,
        warmup_steps=warmup,
        hold_steps=hold,
        start_lr=draw(rates),
        min_lr=target * draw(fractions),
    )


@st.composite
def warmup_cosine_restarts(draw):
    first = draw(st.one_of(st.integers(1, 100), st.integers(1, 10**6)))
    max_lr = draw(positive_rates)
    return dict(
        max_lr=max_lr,
        first_cycle_steps=first,
        cycle_mult=draw(multipliers),
        warmup_steps=draw(st.integers(0, first - 1)),
        min_lr=max_lr * draw(fractions),
        gamma=draw(open_unit),
        scale_warmup=draw(st.booleans()),
    )


@st.composite
def cyclical(draw):
    low = draw(rates)
    return dict(
        initial_learning_rate=low,
        maximal_learning_rate=low + draw(rates),
        step_size=draw(st.one_of(st.integers(1, 100), counts)),
        mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        gamma=draw(st.one_of(st.just(1.0), st.floats(0.5, 1.0))),
        step_size_down=draw(st.none() | st.integers(1, 100) | counts),
    )


@st.composite
def one_cycle(draw):
    total = draw(st.one_of(st.integers(2, 100), st.integers(2, 10**6), st.integers(2, 2**40)))
    three = draw(st.booleans())
    lo = 1.0 / total
    hi = min(1.0, (total + 1) / (2 * total)) if three else 1.0
    pct = lo + (hi - lo) * draw(st.floats(0.0, 1.0, exclude_min=True, exclude_max=True))
    assume(0 < pct < 1 and pct * total > 1 and (not three or 2 * pct * total - 2 < total - 1))
    return dict(
        max_lr=draw(rates),
        total_steps=total,
        pct_start=pct,
        div_factor=draw(st.floats(0.1, 1e4)),
        final_div_factor=draw(st.floats(0.1, 1e5)),
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        three_phase=three,
    )


@st.composite
def wsd(draw):
    total = draw(counts)
    decay = draw(st.integers(1, total))
    peak = draw(rates)
    return dict(
        peak_lr=peak,
        total_steps=total,
        warmup_steps=draw(st.integers(0, total - decay)),
        decay_steps=decay,
        min_lr=peak * draw(fractions),
        start_lr=draw(rates),
        decay_type=draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
    )


PARAMS = {
    "Constant": st.fixed_dictionaries({"learning_rate": rates}),
    "ExponentialDecay": st.fixed_dictionaries(
        dict(
            initial_learning_rate=rates,
            decay_steps=keras_steps,
            decay_rate=open_unit,
            staircase=st.booleans(),
        )
    ),
    "InverseTimeDecay": st.fixed_dictionaries(
        dict(
            initial_learning_rate=rates,
            decay_steps=keras_steps,
            decay_rate=st.one_of(st.just(0.0), st.floats(0.0, 100.0)),
            staircase=st.booleans(),
        )
    ),
    "PolynomialDecay": st.fixed_dictionaries(
        dict(
            initial_learning_rate=rates,
            decay_steps=keras_steps,
            end_learning_rate=rates,
            power=st.one_of(st.just(1.0), st.floats(0.1, 5.0)),
            cycle=st.booleans(),
        )
    ),
    "PiecewiseConstantDecay": piecewise(),
    "CosineDecay": cosine_decay(),
    # m_mul <= 1 here: above 1 the peaks grow without bound (see test_restart_peaks_stay_finite).
    "CosineDecayRestarts": st.fixed_dictionaries(
        dict(
            initial_learning_rate=rates,
            first_decay_steps=st.one_of(
                st.integers(1, 100), st.integers(1, 10**6), st.floats(0.5, 1e3)
            ),
            t_mul=multipliers,
            m_mul=open_unit,
            alpha=fractions,
        )
    ),
    "WarmupCosineDecay": warmup_cosine_decay(),
    "WarmupCosineRestarts": warmup_cosine_restarts(),
    "CyclicalLearningRate": cyclical(),
    "OneCycle": one_cycle(),
    "WarmupStableDecay": wsd(),
    "InverseSqrtDecay": st.fixed_dictionaries(
        dict(
            peak_lr=rates,
            warmup_steps=st.one_of(st.integers(0, 1000), counts),
            timescale=st.none() | counts,
        )
    ),
    "ExponentialRange": st.fixed_dictionaries(
        dict(start_lr=st.floats(1e-8, 10.0), end_lr=st.floats(1e-8, 10.0), num_steps=counts)
    ),
}
PARAMS["Table"] = st.fixed_dictionaries(
    {
        "values": st.one_of(
            st.lists(rates, min_size=1, max_size=30),
            st.lists(st.floats(0.0, 1.0), min_size=1, max_size=5).map(np.array),
        )
    }
)

# -- composites: children from the strategies above, nested up to two composites deep -----------
COMPOSITES = ("Warmup", "Sequential", "Offset", "Scale")  # the classes with child schedules
LEAVES = sorted(PARAMS)  # every other class (Table included)


def leaf_schedules():
    return st.sampled_from(LEAVES).flatmap(
        lambda name: PARAMS[name].map(lambda kw: REGISTRY[name](**kw))
    )


def any_schedule(depth: int):
    """A schedule with at most ``depth`` levels of composites."""
    if depth <= 0:
        return leaf_schedules()
    return st.one_of(leaf_schedules(), composite_schedules(depth))


def composite_schedules(depth: int):
    return st.sampled_from(COMPOSITES).flatmap(
        lambda name: composite_params(name, depth).map(lambda kw: REGISTRY[name](**kw))
    )


@st.composite
def sequential_params(draw, depth: int):
    n = draw(st.integers(1, 3))
    bound = st.one_of(st.integers(1, 200), st.integers(1, 10**6), st.integers(1, 2**40))
    bounds = sorted(draw(st.lists(bound, min_size=n - 1, max_size=n - 1, unique=True)))
    children = draw(st.lists(any_schedule(depth - 1), min_size=n, max_size=n))
    return dict(schedules=children, boundaries=bounds)


def composite_params(name: str, depth: int):
    """Constructor kwargs of composite ``name`` whose children have at most ``depth - 1`` levels."""
    if name == "Warmup":
        return st.fixed_dictionaries(
            dict(
                schedule=any_schedule(depth - 1),
                warmup_steps=st.one_of(st.integers(0, 100), counts),
                start_lr=rates,
            )
        )
    if name == "Offset":
        return st.fixed_dictionaries(
            dict(
                schedule=any_schedule(depth - 1),
                offset=st.one_of(
                    st.integers(0, 1000), st.integers(0, 10**6), st.integers(0, 2**40)
                ),
            )
        )
    if name == "Scale":
        return st.fixed_dictionaries(
            dict(schedule=any_schedule(depth - 1), factor=st.one_of(st.just(0.0), rates))
        )
    if name == "Sequential":
        return sequential_params(depth)
    raise AssertionError(name)


for _name in COMPOSITES:
    PARAMS[_name] = composite_params(_name, depth=2)
NAMES = sorted(REGISTRY)


def test_every_registered_class_has_a_strategy():
    assert set(PARAMS) == set(REGISTRY)


# -- the model of each schedule: range, phases, end ------------------------------------------------
def onecycle_points(s):
    initial = s.max_lr / s.div_factor
    low = initial / s.final_div_factor
    e1 = s.pct_start * s.total_steps - 1.0
    e2 = 2.0 * s.pct_start * s.total_steps - 2.0
    return initial, low, e1, e2, s.total_steps - 1.0


def cosine_peak(s):
    return s.initial_learning_rate if s.warmup_target is None else s.warmup_target


def cosine_warmup(s):
    return 0 if s.warmup_target is None else s.warmup_steps


def value_range(s) -> tuple[float, float]:
    """The documented range of values."""
    n = type(s).__name__
    if n == "Constant":
        return s.learning_rate, s.learning_rate
    if n in ("ExponentialDecay", "InverseTimeDecay"):
        return 0.0, s.initial_learning_rate
    if n == "PolynomialDecay":
        a, b = s.initial_learning_rate, s.end_learning_rate
        return min(a, b), max(a, b)
    if n == "PiecewiseConstantDecay":
        return min(s.values), max(s.values)
    if n == "CosineDecay":
        peak = cosine_peak(s)
        return min(s.initial_learning_rate, peak * s.alpha), max(s.initial_learning_rate, peak)
    if n == "CosineDecayRestarts":
        return s.initial_learning_rate * s.alpha, s.initial_learning_rate
    if n == "WarmupCosineDecay":
        return min(s.start_lr, s.min_lr), max(s.start_lr, s.target_lr)
    if n == "WarmupCosineRestarts":
        return s.min_lr, s.max_lr
    if n == "CyclicalLearningRate":
        return tuple(sorted((s.initial_learning_rate, s.maximal_learning_rate)))
    if n == "OneCycle":
        initial, low, *_ = onecycle_points(s)
        return min(initial, low, s.max_lr), max(initial, low, s.max_lr)
    if n == "WarmupStableDecay":
        return min(s.start_lr, s.min_lr), max(s.start_lr, s.peak_lr)
    if n == "InverseSqrtDecay":
        return 0.0, s.peak_lr
    if n == "ExponentialRange":
        return min(s.start_lr, s.end_lr), max(s.start_lr, s.end_lr)
    if n == "Table":
        return min(s.values), max(s.values)
    if n == "Warmup":  # the ramp runs from start_lr to the schedule's step-0 value
        lo, hi = value_range(s.schedule)
        return min(lo, s.start_lr), max(hi, s.start_lr)
    if n == "Offset":
        return value_range(s.schedule)
    if n == "Scale":
        lo, hi = value_range(s.schedule)
        return s.factor * lo, s.factor * hi
    if n == "Sequential":
        ranges = [value_range(c) for c in s.schedules]
        return min(lo for lo, _ in ranges), max(hi for _, hi in ranges)
    raise AssertionError(n)


def end_of(s) -> tuple[float, float] | None:
    """``(end step, final value)`` for schedules documented to hold their final value."""
    n = type(s).__name__
    if n == "WarmupCosineDecay":
        return s.total_steps, s.min_lr
    if n == "WarmupStableDecay":
        return s.total_steps, s.min_lr
    if n == "OneCycle":
        return s.total_steps - 1, onecycle_points(s)[1]
    if n == "ExponentialRange":
        return s.num_steps, s.end_lr
    if n == "CosineDecay":
        return cosine_warmup(s) + s.decay_steps, cosine_peak(s) * s.alpha
    if n == "PolynomialDecay" and not s.cycle:
        return s.decay_steps, s.end_learning_rate
    if n == "Table":
        return len(s.values) - 1, s.values[-1]
    if n in ("Warmup", "Offset", "Sequential", "Scale"):
        child = s.schedules[-1] if n == "Sequential" else s.schedule
        end = end_of(child)
        if end is None:
            return None
        shift = {
            "Warmup": lambda: s.warmup_steps,
            "Offset": lambda: -s.offset,
            "Sequential": lambda: s.boundaries[-1] if s.boundaries else 0,
            "Scale": lambda: 0,
        }[n]()
        return max(0, end[0] + shift), end[1] * (s.factor if n == "Scale" else 1.0)
    return None


def decay_start(s) -> float | None:
    """Where a decaying schedule starts being non-increasing (None: not a decay)."""
    n = type(s).__name__
    if n in ("ExponentialDecay", "InverseTimeDecay", "Constant"):
        return 0
    if n == "PolynomialDecay":
        return 0 if not s.cycle and s.initial_learning_rate >= s.end_learning_rate else None
    if n == "CosineDecay":
        return cosine_warmup(s)
    if n in ("WarmupCosineDecay", "WarmupStableDecay", "InverseSqrtDecay"):
        return s.warmup_steps
    if n == "OneCycle":
        initial, low, e1, *_ = onecycle_points(s)
        return e1 if low <= initial <= s.max_lr else None
    if n == "ExponentialRange":
        return 0 if s.end_lr <= s.start_lr else None
    if n in ("PiecewiseConstantDecay", "Table"):
        return 0 if list(s.values) == sorted(s.values, reverse=True) else None
    if n == "Warmup":  # the wrapped schedule from step warmup_steps on
        start = decay_start(s.schedule)
        return None if start is None else s.warmup_steps + start
    if n == "Offset":
        start = decay_start(s.schedule)
        return None if start is None else max(0, start - s.offset)
    if n == "Scale":
        return decay_start(s.schedule)
    # Sequential: each schedule restarts from its own step 0 at its boundary, so the joins may
    # rise (e.g. a decay after a warmup); not a decay in general.
    return None


def cycles(s):
    """``(multiplier, first length)`` of the restart schedules."""
    if type(s).__name__ == "CosineDecayRestarts":
        return s.t_mul, s.first_decay_steps
    return s.cycle_mult, s.first_cycle_steps


def integral_cycles(s) -> bool:
    m, first = cycles(s)
    return float(m).is_integer() and float(first).is_integer()


def cycle_start(s, k: int) -> int:
    m, first = int(cycles(s)[0]), int(cycles(s)[1])
    return k * first if m == 1 else first * (m**k - 1) // (m - 1)


def cycle_of(s, step: int) -> int:
    m, first = int(cycles(s)[0]), int(cycles(s)[1])
    if m == 1:
        return step // first
    k = 0
    while cycle_start(s, k + 1) <= step:
        k += 1
    return k


def restart_value(s, step: int) -> float:
    """The published formula, in Python floats, for integral cycle starts."""
    k = cycle_of(s, step)
    m, first = int(cycles(s)[0]), int(cycles(s)[1])
    start, length = cycle_start(s, k), first * m**k
    if type(s).__name__ == "CosineDecayRestarts":
        cos = math.sin(math.pi / 2 * (start + length - step) / length) ** 2
        return s.initial_learning_rate * ((1 - s.alpha) * s.m_mul**k * cos + s.alpha)
    warm = s.warmup_steps * m**k if s.scale_warmup else s.warmup_steps
    amplitude = (s.max_lr - s.min_lr) * s.gamma**k
    within = step - start
    if within < warm:
        return s.min_lr + amplitude * within / warm
    return s.min_lr + amplitude * math.sin(math.pi / 2 * (length - within) / (length - warm)) ** 2


def boundaries(s) -> list[float]:
    """Phase boundaries (real-valued) where the interesting steps are."""
    n = type(s).__name__
    if n == "CosineDecay":
        w = cosine_warmup(s)
        return [w, w + s.decay_steps]
    if n == "WarmupCosineDecay":
        return [s.warmup_steps, s.warmup_steps + s.hold_steps, s.total_steps]
    if n == "WarmupStableDecay":
        return [s.warmup_steps, s.total_steps - s.decay_steps, s.total_steps]
    if n == "OneCycle":
        _, _, e1, e2, last = onecycle_points(s)
        return [e1, e2, last] if s.three_phase else [e1, last]
    if n == "CyclicalLearningRate":
        up = s.step_size
        period = up + (s.step_size_down or up)
        big = (2**31 // period) * period
        return [up, period, period + up, 2 * period, big, big + up, (MAX_STEP // period) * period]
    if n in ("InverseSqrtDecay",):
        return [s.warmup_steps]
    if n == "ExponentialRange":
        return [s.num_steps]
    if n in ("ExponentialDecay", "InverseTimeDecay", "PolynomialDecay"):
        d = s.decay_steps
        return [d, 2 * d, 3 * d, (2**31 // d) * d, (MAX_STEP // d) * d]
    if n == "PiecewiseConstantDecay":
        return list(s.boundaries)
    if n == "Table":
        return [len(s.values) - 1]
    if n == "Warmup":
        w = s.warmup_steps
        return [w, *(w + b for b in boundaries(s.schedule))]
    if n == "Offset":
        return [b - s.offset for b in boundaries(s.schedule) if b >= s.offset]
    if n == "Scale":
        return boundaries(s.schedule)
    if n == "Sequential":
        starts = [0, *s.boundaries]
        inner = [a + b for a, c in zip(starts, s.schedules, strict=True) for b in boundaries(c)]
        return [*s.boundaries, *inner]
    if n in ("CosineDecayRestarts", "WarmupCosineRestarts"):
        m, first = cycles(s)
        points = [first * (m**k - 1) / (m - 1) if m > 1 else k * first for k in range(1, 5)]
        if integral_cycles(s):
            last = cycle_of(s, MAX_STEP)
            points += [cycle_start(s, k) for k in (last - 1, last, cycle_of(s, 2**31))]
            if n == "WarmupCosineRestarts" and s.warmup_steps:
                points += [
                    p + s.warmup_steps * (m**k if s.scale_warmup else 1)
                    for k, p in ((k, cycle_start(s, k)) for k in (1, 2, last))
                ]
        return points
    return []


@st.composite
def schedule_and_steps(draw, name):
    s = REGISTRY[name](**draw(PARAMS[name]))
    near = set()
    for b in boundaries(s):
        if math.isfinite(b):
            for base in {math.floor(b), math.ceil(b)}:
                near.update(base + d for d in (-2, -1, 0, 1, 2))
    randoms = draw(st.lists(st.one_of(st.integers(0, 1000), st.integers(0, MAX_STEP)), max_size=20))
    steps = sorted({x for x in [*SPECIAL_STEPS, *near, *randoms] if 0 <= x <= MAX_STEP})
    return s, np.array(steps, dtype=np.int64)


def values(s, steps) -> np.ndarray:
    """The bulk engine's float64 values."""
    return s.evaluate(np.asarray(steps, dtype=np.int64), dtype="float64")


def model_values(s, steps) -> np.ndarray:
    """Values for the model-based properties (range, decay, final value, slope).

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
    lo, hi = value_range(s)
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
@pytest.mark.parametrize("name", NAMES)
@SETTINGS
@given(data=st.data())
def test_values_are_finite_and_inside_the_documented_range(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    v = model_values(s, steps)
    assert np.isfinite(v).all(), (s, steps[~np.isfinite(v)], v[~np.isfinite(v)])
    lo, hi = value_range(s)
    eps = tol(s)
    bad = (v < lo - eps) | (v > hi + eps)
    assert not bad.any(), (s, (lo, hi), steps[bad], v[bad])
    if name == "PiecewiseConstantDecay":
        assert set(v.tolist()) <= set(s.values)
    if name == "Table":  # values[min(step, len - 1)], exactly
        want = np.array(s.values)[np.minimum(steps, len(s.values) - 1)]
        np.testing.assert_array_equal(v, want)


DECAYS = [
    "Constant",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PolynomialDecay",
    "PiecewiseConstantDecay",
    "CosineDecay",
    "WarmupCosineDecay",
    "WarmupStableDecay",
    "InverseSqrtDecay",
    "OneCycle",
    "ExponentialRange",
    "Table",
    "Warmup",
    "Offset",
    "Scale",
    # Not Sequential: a join may rise (see decay_start).
]


@pytest.mark.parametrize("name", DECAYS)
@SETTINGS
@given(data=st.data())
def test_decays_are_non_increasing_after_their_warmup(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    start = decay_start(s)
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


FINITE = [
    "WarmupCosineDecay",
    "WarmupStableDecay",
    "OneCycle",
    "ExponentialRange",
    "CosineDecay",
    "PolynomialDecay",
    "Table",
    "Warmup",
    "Offset",
    "Scale",
    "Sequential",
]


@pytest.mark.parametrize("name", FINITE)
@SETTINGS
@given(data=st.data())
def test_finite_schedules_hold_their_final_value(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    end = end_of(s)
    assume(end is not None)
    end_step, final = end
    first = math.ceil(end_step)
    after = np.array(
        sorted({first, first + 1, first + 7, *steps[steps >= first].tolist()}), dtype=np.int64
    )
    after = after[after <= MAX_STEP]
    v = model_values(s, after)
    assert (v == v[0]).all(), (s, after[v != v[0]], v[v != v[0]], v[0])
    assert math.isclose(v[0], final, rel_tol=1e-12, abs_tol=1e-300), (s, v[0], final)


# -- continuity -----------------------------------------------------------------------------------
def _piece_bound(kind: str, amp: float, length: float, overlap: float, power: float = 1.0):
    """Largest change of a piece of ``kind`` (span ``amp`` over ``length``) over ``overlap``."""
    if overlap <= 0 or amp == 0:
        return 0.0
    if length <= 0:
        return math.inf  # a zero-length piece is a jump
    x = overlap / length
    if kind == "lin":
        return amp * min(1.0, x)
    if kind == "cos":
        return amp * min(1.0, math.pi / 2 * x)
    if kind == "sqrt":  # 1 - sqrt(p) from its start: Hölder-1/2
        return amp * min(1.0, math.sqrt(x))
    if kind == "pow":  # (1 - p)**power
        return amp * min(1.0, power * x if power >= 1 else x**power)
    raise AssertionError(kind)


def pieces(s) -> list[tuple] | None:
    """Continuous pieces ``(start, end, kind, amplitude[, power])``; None: not continuous."""
    n = type(s).__name__
    if n == "Constant":
        return []
    if n == "CosineDecay":
        w, d, peak = cosine_warmup(s), s.decay_steps, cosine_peak(s)
        ps = [(w, w + d, "cos", peak * (1 - s.alpha))]
        if w > 0:
            ps.append((0, w, "lin", abs(peak - s.initial_learning_rate)))
        return ps
    if n == "WarmupCosineDecay":
        w, h, t = s.warmup_steps, s.hold_steps, s.total_steps
        ps = [(w + h, t, "cos", s.target_lr - s.min_lr)]
        if w > 0:
            ps.append((0, w, "lin", abs(s.target_lr - s.start_lr)))
        return ps
    if n == "WarmupStableDecay":
        w, t, d = s.warmup_steps, s.total_steps, s.decay_steps
        kind = {"linear": "lin", "cosine": "cos", "1-sqrt": "sqrt"}[s.decay_type]
        ps = [(t - d, t, kind, s.peak_lr - s.min_lr)]
        if w > 0:
            ps.append((0, w, "lin", abs(s.peak_lr - s.start_lr)))
        return ps
    if n == "OneCycle":
        initial, low, e1, e2, last = onecycle_points(s)
        kind = "lin" if s.anneal_strategy == "linear" else "cos"
        if s.three_phase:
            return [
                (0, e1, kind, abs(s.max_lr - initial)),
                (e1, e2, kind, abs(s.max_lr - initial)),
                (e2, last, kind, abs(initial - low)),
            ]
        return [(0, e1, kind, abs(s.max_lr - initial)), (e1, last, kind, abs(s.max_lr - low))]
    if n == "PolynomialDecay":
        if s.cycle:
            return None
        return [
            (0, s.decay_steps, "pow", abs(s.initial_learning_rate - s.end_learning_rate), s.power)
        ]
    return None


def lipschitz(s) -> float | None:
    """Largest change over one step for schedules with a simple slope bound."""
    n = type(s).__name__
    if n == "CyclicalLearningRate":
        up, down = s.step_size, s.step_size_down or s.step_size
        extra = (1 - s.gamma) if s.mode == "exp_range" else 0.0
        height = abs(s.maximal_learning_rate - s.initial_learning_rate)
        return height * (1 / min(up, down) + extra)
    if n == "ExponentialDecay" and not s.staircase:
        return s.initial_learning_rate * -math.log(s.decay_rate) / s.decay_steps
    if n == "InverseTimeDecay" and not s.staircase:
        return s.initial_learning_rate * s.decay_rate / s.decay_steps
    if n == "ExponentialRange":
        return max(s.start_lr, s.end_lr) * abs(math.log(s.end_lr / s.start_lr)) / s.num_steps
    if n == "InverseSqrtDecay":
        w = s.warmup_steps
        timescale = s.timescale or w or 10_000
        return s.peak_lr * max(1 / w if w else 0.0, 1 / (2 * timescale))
    return None


def jump_bound(s, b: int) -> float | None:
    """Bound on ``|f(b + 1) - f(b)|``; None where the formula jumps (or no model)."""
    n = type(s).__name__
    if n == "Table":
        last = len(s.values) - 1
        return abs(s.values[min(b + 1, last)] - s.values[min(b, last)])
    if n == "Warmup":
        w = s.warmup_steps
        if b >= w:
            return jump_bound(s.schedule, b - w)
        # The ramp, up to and including its join at step w (where it meets the schedule's step-0
        # value: continuous there), rises by |target - start_lr| / w per step.
        target = float(reference(s.schedule, [0])[0])
        return abs(target - s.start_lr) / w
    if n == "Offset":
        return jump_bound(s.schedule, b + s.offset)
    if n == "Scale":
        inner = jump_bound(s.schedule, b)
        return None if inner is None else s.factor * inner
    if n == "Sequential":
        if b + 1 in s.boundaries:
            return None  # a join: the next schedule starts from its own step 0
        k = bisect.bisect_right(s.boundaries, b)
        return jump_bound(s.schedules[k], b - ([0, *s.boundaries][k]))
    lip = lipschitz(s)
    if lip is not None:
        return lip
    if type(s).__name__ in ("CosineDecayRestarts", "WarmupCosineRestarts"):
        if not integral_cycles(s) or cycle_of(s, b + 1) != cycle_of(s, b):
            return None  # restart (or a cycle start between the steps)
        k = cycle_of(s, b)
        m, first = int(cycles(s)[0]), int(cycles(s)[1])
        start, length = cycle_start(s, k), first * m**k
        if type(s).__name__ == "CosineDecayRestarts":
            amp = s.initial_learning_rate * (1 - s.alpha) * s.m_mul**k
            return _piece_bound("cos", amp, length, 1.0)
        warm = s.warmup_steps * m**k if s.scale_warmup else s.warmup_steps
        amp = (s.max_lr - s.min_lr) * s.gamma**k
        ps = [(start + warm, start + length, "cos", amp)]
        if warm:
            ps.append((start, start + warm, "lin", amp))
    else:
        ps = pieces(s)
        if ps is None:
            return None
    total = 0.0
    for p in ps:
        lo, hi, kind, amp = p[:4]
        overlap = min(hi, b + 1) - max(lo, b)
        if hi - lo <= 0 and lo <= b + 1 and hi > b:
            return None  # zero-length phase: a documented jump
        total += _piece_bound(kind, amp, hi - lo, overlap, *p[4:])
    return total


CONTINUOUS = [
    "CosineDecay",
    "WarmupCosineDecay",
    "WarmupStableDecay",
    "OneCycle",
    "CyclicalLearningRate",
    "PolynomialDecay",
    "ExponentialDecay",
    "InverseTimeDecay",
    "ExponentialRange",
    "InverseSqrtDecay",
    "CosineDecayRestarts",
    "WarmupCosineRestarts",
    "Constant",
    "Table",
    "Warmup",
    "Offset",
    "Scale",
    "Sequential",
]


@pytest.mark.parametrize("name", CONTINUOUS)
@SETTINGS
@given(data=st.data())
def test_consecutive_steps_differ_by_at_most_the_max_slope(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    steps = steps[steps < MAX_STEP]
    v0, v1 = model_values(s, steps), model_values(s, steps + 1)
    checked = 0
    for b, a, c in zip(steps.tolist(), v0.tolist(), v1.tolist(), strict=True):
        bound = jump_bound(s, b)
        if bound is None:
            continue
        checked += 1
        allowed = bound * 1.01 + 4 * tol(s)
        assert abs(c - a) <= allowed, (s, b, a, c, abs(c - a), bound)
    assume(checked)


@pytest.mark.parametrize("name", ["CosineDecayRestarts", "WarmupCosineRestarts"])
@SETTINGS
@given(data=st.data())
def test_restarts_follow_the_formula_at_any_step(name, data):
    s, steps = data.draw(schedule_and_steps(name))
    assume(integral_cycles(s))
    v = values(s, steps)
    scale = max(abs(x) for x in value_range(s))
    for b, got in zip(steps.tolist(), v.tolist(), strict=True):
        want = restart_value(s, b)
        assert math.isclose(got, want, rel_tol=1e-9, abs_tol=1e-12 * scale + 1e-300), (
            s,
            b,
            got,
            want,
        )


@pytest.mark.parametrize("name", NAMES)
@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
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
    lo, hi = value_range(s)
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


def test_negative_steps_are_refused_by_evaluate_and_clamped_by_the_graph():
    import tensorflow as tf  # a required dependency: never skipped

    for param in example_schedules():
        (s,) = param.values
        with pytest.raises(ValueError, match="`steps`"):
            s.evaluate(np.array([-5, 0]), dtype="float64")
        at_zero = s(0).numpy()
        assert s(-5).numpy() == at_zero, s
        assert s(tf.constant(-1, tf.int64)).numpy() == at_zero, s
        np.testing.assert_array_equal(s(np.array([-5, -1, 0])).numpy(), [at_zero] * 3)
