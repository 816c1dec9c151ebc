"""Hypothesis strategies over the whole schedule registry, for ``tests/test_fuzz.py``.

Five tables, each keyed by class name and each required to cover :data:`fastlr.REGISTRY` (a test
fails when a new schedule lacks an entry):

* :data:`VALID`: random *valid* constructor kwargs over the documented ranges, edge values
  included: 0, tiny (down to the smallest subnormal) and large rates, Python ints where floats are
  accepted, NumPy scalars, step counts from 1 to 2**40 (and 2**53, the validation limit), Keras's
  float step counts (fractional, tiny and above 2**53), every mode and option. Composites get
  children drawn from the same table (:func:`schedules`, nested up to ``depth`` composites).
* :data:`BOUNDS`: the documented range ``[lo, hi]`` of values, derived from the parameters.
* :data:`PHASES`: where the interesting steps are (phase joins, cycle starts near 2**24, 2**31
  and 2**52, the end of finite schedules); :func:`steps_for` takes ±1 around each.
* :data:`INVALID`: random *invalid* kwargs (one parameter out of range, of the wrong type,
  NaN/inf, a bool where a number is expected, negative, a list of the wrong length or unsorted,
  a cross-parameter constraint broken) with the parameter names the error message may blame;
  :data:`BAD` holds the bad values per parameter it draws from.

Rates stay below 1e4 so every value is finite in float32 too (valid rates up to 1.8e308 exist,
but a float32 learning rate above 3.4e38 is inf by definition, not a schedule bug).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from fastlr.schedules import REGISTRY

MAX_STEP = 2**53 - 1
"""The largest step drawn by ``steps_for`` (steps past it come from ``BEYOND_STEPS`` and the fuzz's
``beyond_steps``: exact too, except where ``test_fuzz.exact_past_2_53`` says otherwise)."""
SPECIAL_STEPS = [0, 1, 2, 2**24 - 1, 2**24, 2**24 + 1, 2**31 - 1, 2**31, 2**31 + 1, MAX_STEP]
"""Steps where exactness is most at risk: float32's and int32's limits, int64-as-float64's."""
BEYOND_STEPS = [2**53, 2**53 + 1, 2**62, 2**63 - 1]
"""Valid int64 steps past 2**53, up to 2**63 - 1."""

# -- valid parameters: building blocks ------------------------------------------------------------
_np_float = st.sampled_from([np.float32, np.float64])
rates = st.one_of(
    st.just(0.0),
    st.just(0),  # ints are accepted wherever a rate is
    st.integers(1, 10),
    st.floats(1e-6, 10.0),
    st.floats(1e-300, 1e-6),  # tiny
    st.just(5e-324),  # the smallest subnormal
    st.floats(10.0, 1e4),  # large
    st.tuples(_np_float, st.floats(0.0, 10.0, width=32)).map(lambda t: t[0](t[1])),
)
"""A learning rate: finite and >= 0 (kept < 1e4: finite in float32)."""
positive_rates = rates.filter(lambda x: x > 0)


def counts(lo: int = 1, hi: int = 2**53) -> st.SearchStrategy[int]:
    """An integer step count in ``[lo, hi]``: small, medium, up to 2**40, and the limit 2**53."""
    edges = [x for x in (2**24 - 1, 2**24, 2**24 + 1, 2**31, 2**40, 2**53) if lo <= x <= hi]
    parts = [
        st.integers(lo, min(hi, lo + 20)),
        st.integers(lo, min(hi, max(lo, 10**4))),
        st.integers(lo, min(hi, max(lo, 2**40))),
        st.integers(lo, min(hi, max(lo, 2**40))).map(np.int64),  # NumPy ints are accepted
    ]
    if edges:
        parts.append(st.sampled_from(edges))
    return st.one_of(*parts)


keras_steps = st.one_of(
    counts(1),
    st.floats(0.5, 1e6),  # Keras accepts float step counts (fractional ones stay float)
    st.integers(1, 10**6).map(float),  # integral floats normalize to ints
    st.floats(2.0**-53, 0.5),  # tiny
    st.just(2.0**-53),  # the shortest accepted float length
    st.floats(2.0**53, 1e18),  # floats above 2**53 stay floats
)
"""Keras's ``decay_steps``-style counts: int, or float >= 2**-53."""
keras_nonneg_steps = st.one_of(st.just(0), st.just(0.0), keras_steps)
unit = st.one_of(st.sampled_from([0, 0.0, 1, 1.0]), st.floats(0.0, 1.0), st.floats(0.0, 1e-6))
"""In ``[0, 1]`` (Keras's ``alpha``)."""
open_unit = st.one_of(
    st.sampled_from([1, 1.0, 1e-300]),
    st.floats(1e-6, 1.0),
    st.floats(0.999, 1.0),
    st.floats(1e-300, 1e-6),
)
"""In ``(0, 1]`` (decay rates, gammas, ``m_mul``: bases of powers). Normal floats only: TF runs
with denormals flushed to zero, so a subnormal base (< 2.2e-308) is 0 in the graph engine (as in
Keras), and ``5e-324 ** 1e-9`` reads 0 instead of 1 there."""
mults = st.one_of(
    st.sampled_from([1, 1.0, 2, 2.0, 3.0, 2.0**53]),
    st.floats(1.0, 4.0),
    st.floats(1.0, 1.0 + 1e-9),  # barely above 1
    st.floats(4.0, 1e3),
    st.floats(1e3, 2.0**53),  # huge: the second cycle outlasts every step
)
"""Cycle length multipliers, in ``[1, 2**53]``."""
bools = st.one_of(st.booleans(), st.sampled_from([np.True_, np.False_]))
names = st.text(max_size=8)


@st.composite
def below(draw, x: float) -> float:
    """A rate in ``[0, x]``, edges included."""
    pick = draw(st.sampled_from(["zero", "equal", "fraction"]))
    if pick == "zero" or not x:
        return 0.0
    if pick == "equal":
        return x
    return float(x) * draw(st.floats(0.0, 1.0))


def _kw(required: dict, optional: dict | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(required, optional=optional or {})


# -- valid parameters: one strategy per class ------------------------------------------------------
@st.composite
def _piecewise(draw) -> dict:
    element = st.one_of(
        st.integers(-(10**6), 10**4),
        st.integers(-(2**40), 2**53),
        st.floats(-1e6, 1e6).filter(lambda x: not float(x).is_integer()),
        st.floats(2.0**53, 1e18),
    )
    raw = draw(st.lists(element, min_size=1, max_size=6, unique_by=float))
    bounds = sorted(raw, key=float)
    values = draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return dict(boundaries=draw(st.sampled_from([list, tuple]))(bounds), values=values)


@st.composite
def _warmup_cosine_decay(draw) -> dict:
    total = draw(counts(1))
    warmup = draw(st.one_of(st.just(0), st.just(total), st.integers(0, total)))
    hold = draw(st.one_of(st.just(0), st.just(total - warmup), st.integers(0, total - warmup)))
    target = draw(rates)
    return dict(
        target_lr=target,
        total_steps=total,
        warmup_steps=warmup,
        hold_steps=hold,
        start_lr=draw(rates),
        min_lr=draw(below(float(target))),
    )


@st.composite
def _warmup_cosine_restarts(draw) -> dict:
    first = draw(counts(1, 2**40))
    max_lr = draw(positive_rates)
    return dict(
        max_lr=max_lr,
        first_cycle_steps=first,
        cycle_mult=draw(mults),
        warmup_steps=draw(st.one_of(st.just(0), st.just(first - 1), st.integers(0, first - 1))),
        min_lr=draw(below(float(max_lr))),
        gamma=draw(open_unit),
        scale_warmup=draw(bools),
    )


@st.composite
def _cyclical(draw) -> dict:
    low = draw(rates)
    high = st.one_of(st.just(0.0), rates).map(lambda x: float(low) + float(x))
    return dict(
        initial_learning_rate=low,
        # usually above; below is a momentum curve (it dips: see momentum_schedule)
        maximal_learning_rate=draw(st.one_of(high, high, rates)),
        step_size=draw(counts(1, 2**40)),
        mode=draw(st.sampled_from(["triangular", "triangular2", "exp_range"])),
        gamma=draw(open_unit),
        step_size_down=draw(st.none() | counts(1, 2**40)),
    )


@st.composite
def _one_cycle(draw) -> dict:
    total = draw(counts(2))
    three = draw(bools)
    # Valid pct_start: pct * total > 1, and with three phases 2 * pct * total - 2 < total - 1.
    lo = 1.0 / total
    hi = min(1.0, (total + 1) / (2 * total)) if three else 1.0
    pct = draw(
        st.one_of(
            st.floats(lo, hi, exclude_min=True, exclude_max=True),
            st.sampled_from([np.nextafter(lo, 2.0), np.nextafter(hi, 0.0), 0.3, 0.5]),
        )
    )
    assume(0 < pct < 1 and pct * total > 1 and (not three or 2 * pct * total - 2 < total - 1))
    return dict(
        max_lr=draw(rates),
        total_steps=total,
        pct_start=float(pct),
        div_factor=draw(st.one_of(st.floats(1e-3, 1e6), st.integers(1, 100), st.just(25.0))),
        final_div_factor=draw(st.one_of(st.floats(1e-3, 1e8), st.integers(1, 10**4))),
        anneal_strategy=draw(st.sampled_from(["cos", "linear"])),
        three_phase=three,
    )


@st.composite
def _wsd(draw) -> dict:
    total = draw(counts(1))
    decay = draw(st.one_of(st.just(total), st.just(1), st.integers(1, total)))
    warmup = draw(st.one_of(st.just(0), st.just(total - decay), st.integers(0, total - decay)))
    peak = draw(rates)
    return dict(
        peak_lr=peak,
        total_steps=total,
        warmup_steps=warmup,
        decay_steps=decay,
        min_lr=draw(below(float(peak))),
        start_lr=draw(rates),
        decay_type=draw(st.sampled_from(["linear", "cosine", "1-sqrt"])),
    )


_table_values = st.one_of(
    st.lists(rates, min_size=1, max_size=40),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8).map(np.array),
    st.lists(st.floats(0.0, 1.0, width=32), min_size=1, max_size=8).map(
        lambda x: np.array(x, dtype=np.float32)
    ),
    st.lists(st.integers(0, 5), min_size=1, max_size=8).map(np.array),  # an int array
    st.lists(rates, min_size=1, max_size=8).map(tuple),
)

LEAF_VALID: dict[str, st.SearchStrategy[dict]] = {
    "Constant": _kw({"learning_rate": rates}),
    "ExponentialDecay": _kw(
        dict(
            initial_learning_rate=rates,
            decay_steps=keras_steps,
            decay_rate=open_unit,
            staircase=bools,
        ),
        dict(name=names),
    ),
    "InverseTimeDecay": _kw(
        dict(
            initial_learning_rate=rates,
            decay_steps=keras_steps,
            decay_rate=st.one_of(st.just(0), st.floats(0.0, 1e3), st.integers(0, 100)),
            staircase=bools,
        ),
        dict(name=names),
    ),
    "PolynomialDecay": _kw(
        dict(initial_learning_rate=rates, decay_steps=keras_steps),
        dict(
            end_learning_rate=rates,
            power=st.one_of(st.sampled_from([1, 1.0, 2]), st.floats(1e-3, 10.0)),
            cycle=bools,
            name=names,
        ),
    ),
    "PiecewiseConstantDecay": _piecewise(),
    "CosineDecay": _kw(
        dict(initial_learning_rate=rates, decay_steps=keras_steps),
        dict(
            alpha=unit,
            name=names,
            warmup_target=st.none() | rates,
            warmup_steps=keras_nonneg_steps,
        ),
    ),
    "CosineDecayRestarts": _kw(
        dict(initial_learning_rate=rates, first_decay_steps=keras_steps),
        dict(t_mul=mults, m_mul=open_unit, alpha=unit, name=names),
    ),
    "WarmupCosineDecay": _warmup_cosine_decay(),
    "WarmupCosineRestarts": _warmup_cosine_restarts(),
    "CyclicalLearningRate": _cyclical(),
    "OneCycle": _one_cycle(),
    "WarmupStableDecay": _wsd(),
    "InverseSqrtDecay": _kw(
        dict(peak_lr=rates, warmup_steps=counts(0)),
        dict(timescale=st.none() | counts(1)),
    ),
    "ExponentialRange": _kw(
        dict(start_lr=positive_rates, end_lr=positive_rates, num_steps=counts(1))
    ),
    "Table": _kw({"values": _table_values}),
}
LEAVES = tuple(sorted(LEAF_VALID))
COMPOSITES = ("Offset", "Scale", "Sequential", "Warmup")


def schedules(depth: int = 2, names: tuple[str, ...] | None = None) -> st.SearchStrategy:
    """Schedules of the classes ``names`` (default: all), nested up to ``depth`` composites."""
    names = names or tuple(sorted(REGISTRY))
    if depth <= 0:
        names = tuple(n for n in names if n not in COMPOSITES) or LEAVES
    return st.sampled_from(names).flatmap(
        lambda n: valid_kwargs(n, depth).map(lambda kw: REGISTRY[n](**kw))
    )


@st.composite
def _sequential(draw, depth: int) -> dict:
    n = draw(st.integers(1, 3))
    bounds = draw(st.lists(counts(1), min_size=n - 1, max_size=n - 1, unique_by=int))
    children = draw(st.lists(schedules(depth - 1), min_size=n, max_size=n))
    return dict(schedules=children, boundaries=sorted(bounds, key=int))


def valid_kwargs(name: str, depth: int = 2) -> st.SearchStrategy[dict]:
    """Valid constructor kwargs of ``name``; composites' children have < ``depth`` levels."""
    if name in LEAF_VALID:
        return LEAF_VALID[name]
    child = schedules(depth - 1)
    if name == "Warmup":
        return _kw(dict(schedule=child, warmup_steps=counts(0)), dict(start_lr=rates))
    if name == "Offset":
        return _kw(dict(schedule=child, offset=counts(0)))
    if name == "Scale":
        return _kw(dict(schedule=child, factor=st.floats(0.0, 1e3) | st.sampled_from([0, 1, 2])))
    if name == "Sequential":
        return _sequential(depth)
    raise KeyError(name)


VALID: dict[str, st.SearchStrategy[dict]] = {n: valid_kwargs(n) for n in sorted(REGISTRY)}
"""Valid constructor kwargs per class (composites: children nested up to two levels)."""


# -- documented value ranges -----------------------------------------------------------------------
def _onecycle_levels(s) -> tuple[float, float]:
    initial = s.max_lr / s.div_factor
    return initial, initial / s.final_div_factor


def _cosine_peak(s) -> float:
    return s.initial_learning_rate if s.warmup_target is None else s.warmup_target


def _union(*ranges: tuple[float, float]) -> tuple[float, float]:
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def bounds_of(s) -> tuple[float, float]:
    """``[lo, hi]`` of schedule ``s`` (dispatch on :data:`BOUNDS`)."""
    return BOUNDS[type(s).__name__](s)


BOUNDS: dict[str, Callable[[Any], tuple[float, float]]] = {
    # lr == learning_rate
    "Constant": lambda s: (s.learning_rate, s.learning_rate),
    # decay_rate <= 1: from initial_learning_rate down towards 0 (never below)
    "ExponentialDecay": lambda s: (0.0, s.initial_learning_rate),
    # decay_rate >= 0: initial / (1 + rate * p) in (0, initial]
    "InverseTimeDecay": lambda s: (0.0, s.initial_learning_rate),
    # (initial - end) * (1 - p)**power + end with 0 <= 1 - p <= 1: between the two
    "PolynomialDecay": lambda s: (
        min(s.initial_learning_rate, s.end_learning_rate),
        max(s.initial_learning_rate, s.end_learning_rate),
    ),
    # one of the values
    "PiecewiseConstantDecay": lambda s: (min(s.values), max(s.values)),
    # warmup from initial to peak, then peak * [(1 - alpha) * c + alpha] with c in [0, 1]
    "CosineDecay": lambda s: (
        min(s.initial_learning_rate, _cosine_peak(s) * s.alpha),
        max(s.initial_learning_rate, _cosine_peak(s)),
    ),
    # m_mul <= 1: every peak <= initial; the floor is alpha * initial
    "CosineDecayRestarts": lambda s: (
        s.initial_learning_rate * s.alpha,
        s.initial_learning_rate,
    ),
    # warmup start_lr -> target_lr, hold, cosine down to min_lr <= target_lr
    "WarmupCosineDecay": lambda s: (min(s.start_lr, s.min_lr), max(s.start_lr, s.target_lr)),
    # min_lr + (max_lr - min_lr) * gamma**k * [0, 1] with gamma <= 1
    "WarmupCosineRestarts": lambda s: (s.min_lr, s.max_lr),
    # initial + (maximal - initial) * x * scale with x, scale in [0, 1]
    "CyclicalLearningRate": lambda s: tuple(
        sorted((s.initial_learning_rate, s.maximal_learning_rate))
    ),  # between its two levels (a momentum curve dips: maximal < initial)
    # phases between initial = max_lr / div_factor, max_lr and low = initial / final_div_factor
    "OneCycle": lambda s: (
        min(*_onecycle_levels(s), s.max_lr),
        max(*_onecycle_levels(s), s.max_lr),
    ),
    # warmup start_lr -> peak_lr, stable, decay down to min_lr <= peak_lr
    "WarmupStableDecay": lambda s: (min(s.start_lr, s.min_lr), max(s.start_lr, s.peak_lr)),
    # warmup 0 -> peak_lr, then peak_lr * sqrt(timescale / (>= timescale)) <= peak_lr
    "InverseSqrtDecay": lambda s: (0.0, s.peak_lr),
    # the geometric ramp between its two ends
    "ExponentialRange": lambda s: (min(s.start_lr, s.end_lr), max(s.start_lr, s.end_lr)),
    # one of the values
    "Table": lambda s: (min(s.values), max(s.values)),
    # the ramp runs from start_lr to the child's step-0 value, then the child
    "Warmup": lambda s: _union(bounds_of(s.schedule), (s.start_lr, s.start_lr)),
    # the child, shifted
    "Offset": lambda s: bounds_of(s.schedule),
    # the child, times the factor
    "Scale": lambda s: tuple(s.factor * b for b in bounds_of(s.schedule)),
    # one of the children at a time
    "Sequential": lambda s: _union(*(bounds_of(c) for c in s.schedules)),
}
"""The documented range of values per class, from the parameters (each line says why)."""


# -- phase boundaries ----------------------------------------------------------------------------
_TARGETS = (2.0**24, 2.0**31, 2.0**40, 2.0**52)  # cycle starts near these steps are probed


def _multiples(period: float) -> list[float]:
    """``period`` and its multiples near the steps where float32/int32/float64 run out."""
    out = [period, 2 * period]
    for target in _TARGETS:
        k = target / period
        if k < 2.0**62:  # not for tiny float periods (every step is a phase boundary there)
            out += [math.floor(k) * period, (math.floor(k) + 1) * period]
    return out


def _geometric_starts(first: float, mult: float, extra: Callable[[int], float] | None = None):
    """Cycle starts ``first * (mult**k - 1) / (mult - 1)`` for small ``k`` and near the targets."""
    ks = {1, 2, 3}
    for t in _TARGETS:
        k = t / first if mult == 1.0 else math.log1p(t * (mult - 1) / first) / math.log(mult)
        if k < 2.0**62:  # not for tiny float lengths (every step is a restart there)
            ks |= {math.floor(k), math.floor(k) + 1}
    out = []
    for k in sorted(ks):
        if mult != 1.0 and k * math.log(mult) > 700:
            continue
        start = first * k if mult == 1.0 else first * math.expm1(k * math.log(mult)) / (mult - 1)
        if start > 2.0**54:
            continue
        out.append(start)
        if extra is not None:
            out.append(start + extra(k))
    return out


def _restart_warmups(s):
    def warm(k: int) -> float:
        return s.warmup_steps * s.cycle_mult**k if s.scale_warmup else s.warmup_steps

    return _geometric_starts(s.first_cycle_steps, s.cycle_mult, warm)


def _children_phases(s) -> list[float]:
    n = type(s).__name__
    if n == "Warmup":
        return [s.warmup_steps] + [p + s.warmup_steps for p in phases_of(s.schedule)]
    if n == "Offset":
        return [p - s.offset for p in phases_of(s.schedule) if p >= s.offset]
    if n == "Scale":
        return phases_of(s.schedule)
    starts = [0, *s.boundaries]
    out = list(s.boundaries)
    for start, child in zip(starts, s.schedules, strict=True):
        out += [p + start for p in phases_of(child)]
    return out


def phases_of(s) -> list[float]:
    """Real-valued steps where ``s`` changes phase (dispatch on :data:`PHASES`)."""
    return PHASES[type(s).__name__](s)


def _cyclical_phases(s) -> list[float]:
    up = s.step_size
    period = up + (s.step_size_down or up)
    return [x for m in _multiples(period) for x in (m, m + up)] + [up]


def _onecycle_phases(s) -> list[float]:
    e1 = s.pct_start * s.total_steps - 1
    return [e1, 2 * e1, s.total_steps - 1]


PHASES: dict[str, Callable[[Any], list[float]]] = {
    "Constant": lambda s: [],
    "ExponentialDecay": lambda s: _multiples(s.decay_steps),
    "InverseTimeDecay": lambda s: _multiples(s.decay_steps),
    "PolynomialDecay": lambda s: _multiples(s.decay_steps),
    "PiecewiseConstantDecay": lambda s: list(s.boundaries),
    "CosineDecay": lambda s: (
        [s.decay_steps]
        if s.warmup_target is None
        else [s.warmup_steps, s.warmup_steps + s.decay_steps]
    ),
    "CosineDecayRestarts": lambda s: _geometric_starts(s.first_decay_steps, s.t_mul),
    "WarmupCosineDecay": lambda s: [
        s.warmup_steps,
        s.warmup_steps + s.hold_steps,
        s.total_steps,
    ],
    "WarmupCosineRestarts": _restart_warmups,
    "CyclicalLearningRate": _cyclical_phases,
    "OneCycle": _onecycle_phases,
    "WarmupStableDecay": lambda s: [
        s.warmup_steps,
        s.total_steps - s.decay_steps,
        s.total_steps,
    ],
    "InverseSqrtDecay": lambda s: [s.warmup_steps],
    "ExponentialRange": lambda s: [s.num_steps],
    "Table": lambda s: [len(s.values) - 1],
    "Warmup": _children_phases,
    "Offset": _children_phases,
    "Scale": _children_phases,
    "Sequential": _children_phases,
}
"""Phase boundaries per class: warmup/hold/decay ends, cycle starts (small and near 2**24, 2**31,
2**40, 2**52), multiples of ``decay_steps``, ``boundaries``, the end of finite schedules."""


@st.composite
def steps_for(draw, s, max_step: int = MAX_STEP) -> np.ndarray:
    """An int64 vector of steps for ``s``: every special step, ±1 around (up to 60 of) its phase
    boundaries, and random steps (small, around 2**32, anywhere up to ``max_step``), shuffled."""
    near: set[int] = set()
    for p in phases_of(s):
        if not math.isfinite(p) or p > 2.0**62:
            continue
        for b in {math.floor(p), math.ceil(p)}:
            near |= {b - 1, b, b + 1}
    near_list = sorted(x for x in near if 0 <= x <= max_step)
    if len(near_list) > 60:
        near_list = draw(st.permutations(near_list))[:60]
    special = [x for x in SPECIAL_STEPS if x <= max_step]
    random = draw(
        st.lists(
            st.one_of(
                st.integers(0, 100),
                st.integers(0, 2**33),
                st.integers(0, max_step),
                st.integers(max(0, max_step - 1000), max_step),
            ),
            max_size=24,
        )
    )
    steps = np.array(special + near_list + random, dtype=np.int64)
    return steps[np.asarray(draw(st.permutations(range(len(steps)))), dtype=np.int64)]


# -- invalid parameters --------------------------------------------------------------------------
class Invalid(NamedTuple):
    """Constructor kwargs with one problem, the names the message may blame, the exception."""

    cls: str
    kwargs: dict
    names: tuple[str, ...]
    exc: type[Exception]


NAN, INF = float("nan"), float("inf")


def _with(values, exc: type[Exception]) -> st.SearchStrategy[tuple[Any, type[Exception]]]:
    strategy = values if isinstance(values, st.SearchStrategy) else st.sampled_from(values)
    return strategy.map(lambda x: (x, exc))


def _bad(*parts) -> st.SearchStrategy[tuple[Any, type[Exception]]]:
    return st.one_of(*parts)


_not_a_number = _with(
    st.one_of(
        st.sampled_from([True, False, np.True_, None, "0.1", "", b"1", [0.1], (1,), {}, 1 + 0j]),
        st.text(max_size=4),
        st.complex_numbers(allow_nan=False),
    ),
    TypeError,
)
_non_finite = _with(
    [NAN, INF, -INF, np.float32("nan"), np.float64("inf"), np.float32("-inf")], ValueError
)
_negative = _with(
    st.one_of(
        st.floats(max_value=-5e-324, allow_infinity=False),
        st.integers(max_value=-1),
        st.sampled_from([np.float32(-0.5), np.int64(-3), -1e-300]),
    ),
    ValueError,
)
_zero = _with([0, 0.0, -0.0, np.float64(0.0), np.int64(0)], ValueError)
_above_one = _with(
    st.one_of(
        st.floats(1.0, 1e300, exclude_min=True),
        st.integers(2, 10**20),
        st.just(float(np.nextafter(1.0, 2.0))),
    ),
    ValueError,
)
BAD_RATE = _bad(_not_a_number, _non_finite, _negative)
BAD_POSITIVE = _bad(BAD_RATE, _zero)
BAD_UNIT = _bad(BAD_RATE, _above_one)
BAD_OPEN_UNIT = _bad(BAD_UNIT, _zero)
BAD_PCT = _bad(BAD_OPEN_UNIT, _with([1, 1.0], ValueError))
BAD_MULT = _bad(
    _not_a_number,
    _non_finite,
    _with(st.floats(-1e300, 1.0, exclude_max=True), ValueError),
    _with(st.integers(max_value=0), ValueError),
    _with(st.floats(2.0**53, 1e300, exclude_min=True), ValueError),  # > 2**53
    _with(st.integers(2**53 + 2, 2**70), ValueError),  # (2**53 + 1 rounds to 2**53: valid)
)

_not_an_int = _with(
    st.one_of(
        st.floats(),  # any float, NaN and integral ones included: counts are ints
        st.sampled_from([True, False, np.True_, None, "10", [3], np.float64(3.0), 1 + 0j]),
    ),
    TypeError,
)
_too_big_int = _with(
    st.one_of(
        st.integers(2**53 + 1, 2**80),
        st.sampled_from([np.int64(2**62), np.uint64(2**63), 2**53 + 1]),
    ),
    ValueError,
)
_negative_int = _with(
    st.one_of(st.integers(-(2**70), -1), st.sampled_from([np.int64(-1), -(2**53)])), ValueError
)
BAD_NONNEG_COUNT = _bad(_not_an_int, _too_big_int, _negative_int)
BAD_COUNT = _bad(BAD_NONNEG_COUNT, _with([0, np.int64(0), np.uint8(0)], ValueError))

_keras_not_a_number = _with(
    st.sampled_from([True, False, None, "100", [10], 1 + 0j, np.True_]), TypeError
)
BAD_KERAS_NONNEG_STEPS = _bad(
    _keras_not_a_number,
    _non_finite,
    _negative,
    _with(st.integers(2**53 + 1, 2**80), ValueError),
)
BAD_KERAS_STEPS = _bad(
    BAD_KERAS_NONNEG_STEPS,
    _zero,
    _with(st.floats(5e-324, 2.0**-53, exclude_max=True), ValueError),  # too short (< 2**-53)
)
BAD_FLAG = _with(
    st.one_of(st.integers(), st.floats(), st.text(max_size=3), st.none(), st.just([True])),
    TypeError,
)
BAD_NAME = _with(st.one_of(st.integers(), st.floats(), st.none(), st.binary(max_size=3)), TypeError)


def bad_choice(options: tuple[str, ...]) -> st.SearchStrategy:
    return _with(
        st.one_of(
            st.text(max_size=8).filter(lambda x: x not in options),
            st.sampled_from([o.upper() for o in options if o.upper() not in options]),
            st.integers(),
            st.none(),
        ),
        ValueError,
    )


_NOT_A_SCHEDULE = st.one_of(
    st.sampled_from(
        [
            0.1,
            1,
            None,
            "CosineDecay",
            REGISTRY["CosineDecay"],  # the class, not an instance
            {"class_name": "Constant", "config": {"learning_rate": 0.1}},  # a config
            lambda step: 0.1,
        ]
    ),
    st.floats(),
    st.text(max_size=4),
)
"""Not a fastlr schedule (Keras built-ins: see test_validation, which keeps this module light)."""


BAD_CHILD = _with(_NOT_A_SCHEDULE, TypeError)
BAD_CHILD_LIST = st.deferred(  # a list of one schedule where one schedule is expected
    lambda: _with(schedules(0).map(lambda s: [s]), TypeError)
)

BAD: dict[str, dict[str, st.SearchStrategy]] = {
    "Constant": {"learning_rate": BAD_RATE},
    "ExponentialDecay": {
        "initial_learning_rate": BAD_RATE,
        "decay_steps": BAD_KERAS_STEPS,
        "decay_rate": BAD_OPEN_UNIT,
        "staircase": BAD_FLAG,
        "name": BAD_NAME,
    },
    "InverseTimeDecay": {
        "initial_learning_rate": BAD_RATE,
        "decay_steps": BAD_KERAS_STEPS,
        "decay_rate": BAD_RATE,
        "staircase": BAD_FLAG,
        "name": BAD_NAME,
    },
    "PolynomialDecay": {
        "initial_learning_rate": BAD_RATE,
        "decay_steps": BAD_KERAS_STEPS,
        "end_learning_rate": BAD_RATE,
        "power": BAD_POSITIVE,
        "cycle": BAD_FLAG,
        "name": BAD_NAME,
    },
    "PiecewiseConstantDecay": {"name": BAD_NAME},  # the lists: see _bad_piecewise
    "CosineDecay": {
        "initial_learning_rate": BAD_RATE,
        "decay_steps": BAD_KERAS_STEPS,
        "alpha": BAD_UNIT,
        "name": BAD_NAME,
        "warmup_target": BAD_RATE.filter(lambda b: b[0] is not None),  # None: no warmup
        "warmup_steps": BAD_KERAS_NONNEG_STEPS,
    },
    "CosineDecayRestarts": {
        "initial_learning_rate": BAD_RATE,
        "first_decay_steps": BAD_KERAS_STEPS,
        "t_mul": BAD_MULT,
        "m_mul": BAD_OPEN_UNIT,
        "alpha": BAD_UNIT,
        "name": BAD_NAME,
    },
    "WarmupCosineDecay": {
        "target_lr": BAD_RATE,
        "total_steps": BAD_COUNT,
        "warmup_steps": BAD_NONNEG_COUNT,
        "hold_steps": BAD_NONNEG_COUNT,
        "start_lr": BAD_RATE,
        "min_lr": BAD_RATE,
    },
    "WarmupCosineRestarts": {
        "max_lr": BAD_POSITIVE,
        "first_cycle_steps": BAD_COUNT,
        "cycle_mult": BAD_MULT,
        "warmup_steps": BAD_NONNEG_COUNT,
        "min_lr": BAD_RATE,
        "gamma": BAD_OPEN_UNIT,
        "scale_warmup": BAD_FLAG,
    },
    "CyclicalLearningRate": {
        "initial_learning_rate": BAD_RATE,
        "maximal_learning_rate": BAD_RATE,
        "step_size": BAD_COUNT,
        "mode": bad_choice(("triangular", "triangular2", "exp_range")),
        "gamma": BAD_OPEN_UNIT,
        "step_size_down": BAD_COUNT.filter(lambda b: b[0] is not None),  # None: symmetric
    },
    "OneCycle": {
        "max_lr": BAD_RATE,
        "total_steps": _bad(BAD_COUNT, _with([1, np.int64(1)], ValueError)),
        "pct_start": BAD_PCT,
        "div_factor": BAD_POSITIVE,
        "final_div_factor": BAD_POSITIVE,
        "anneal_strategy": bad_choice(("cos", "linear")),
        "three_phase": BAD_FLAG,
    },
    "WarmupStableDecay": {
        "peak_lr": BAD_RATE,
        "total_steps": BAD_COUNT,
        "warmup_steps": BAD_NONNEG_COUNT,
        "decay_steps": BAD_COUNT,
        "min_lr": BAD_RATE,
        "start_lr": BAD_RATE,
        "decay_type": bad_choice(("linear", "cosine", "1-sqrt")),
    },
    "InverseSqrtDecay": {
        "peak_lr": BAD_RATE,
        "warmup_steps": BAD_NONNEG_COUNT,
        "timescale": BAD_COUNT.filter(lambda b: b[0] is not None),  # None: the default
    },
    "ExponentialRange": {
        "start_lr": BAD_POSITIVE,
        "end_lr": BAD_POSITIVE,
        "num_steps": BAD_COUNT,
    },
    "Table": {},  # the list: see _bad_table
    "Warmup": {
        "schedule": _bad(BAD_CHILD, BAD_CHILD_LIST),
        "warmup_steps": BAD_NONNEG_COUNT,
        "start_lr": BAD_RATE,
    },
    "Offset": {"schedule": _bad(BAD_CHILD, BAD_CHILD_LIST), "offset": BAD_NONNEG_COUNT},
    "Scale": {"schedule": _bad(BAD_CHILD, BAD_CHILD_LIST), "factor": BAD_RATE},
    "Sequential": {},  # the lists: see _bad_sequential
}
"""Bad values per class and parameter, each with the exception it must raise."""


@st.composite
def _break_one(draw, name: str) -> Invalid:
    """Valid kwargs with one parameter replaced by a bad value (of any kind for that parameter)."""
    kwargs = dict(draw(valid_kwargs(name, depth=1)))
    param = draw(st.sampled_from(sorted(BAD[name])))
    bad, exc = draw(BAD[name][param])
    kwargs[param] = bad
    return Invalid(name, kwargs, (param,), exc)


@st.composite
def _cross(draw, name: str) -> Invalid:
    """A cross-parameter constraint broken (each value alone valid)."""
    kw = dict(draw(valid_kwargs(name, depth=1)))

    def above(x) -> float:
        """A rate > x."""
        return float(
            draw(
                st.one_of(
                    st.just(float(np.nextafter(float(x), INF))),
                    st.floats(float(x), float(x) + 1e4, exclude_min=True),
                )
            )
        )

    if name in ("WarmupCosineDecay", "WarmupStableDecay", "WarmupCosineRestarts"):
        peak = {"WarmupCosineDecay": "target_lr", "WarmupStableDecay": "peak_lr"}.get(
            name, "max_lr"
        )
        which = draw(st.sampled_from(["min_lr", "steps"]))
        if which == "min_lr":
            kw["min_lr"] = above(kw[peak])
            return Invalid(name, kw, ("min_lr",), ValueError)
        total = int(kw.get("total_steps", kw.get("first_cycle_steps")))
        if name == "WarmupCosineRestarts":  # warmup >= first cycle
            kw["warmup_steps"] = draw(st.integers(total, 2**53))
            return Invalid(name, kw, ("warmup_steps",), ValueError)
        # The other phase (each value alone valid, <= 2**53) is too long for total_steps.
        least = total - int(kw["warmup_steps"]) + 1
        assume(least <= 2**53)
        other = draw(st.one_of(st.just(least), st.integers(least, 2**53)))
        if name == "WarmupCosineDecay":  # warmup + hold > total
            kw["hold_steps"] = other
            return Invalid(name, kw, ("warmup_steps",), ValueError)
        kw["decay_steps"] = other  # WarmupStableDecay: warmup + decay > total
        return Invalid(name, kw, ("decay_steps",), ValueError)
    if name == "OneCycle":
        total = int(kw["total_steps"])
        if draw(st.booleans()):  # pct_start * total_steps <= 1
            kw["pct_start"] = draw(st.floats(0.0, 1.0 / total, exclude_min=True))
            assume(kw["pct_start"] * total <= 1)
        else:  # three phases that do not fit: 2 * pct * total - 2 >= total - 1
            lo = min((total + 1) / (2 * total), 1.0)
            kw["pct_start"] = draw(st.floats(lo, 1.0, exclude_max=True))
            kw["three_phase"] = True
            assume(2 * kw["pct_start"] * total - 2 >= total - 1 and kw["pct_start"] * total > 1)
        return Invalid(name, kw, ("pct_start",), ValueError)
    raise AssertionError(name)


_bad_element = _bad(_not_a_number.filter(lambda b: not isinstance(b[0], (list, tuple, dict))))


@st.composite
def _bad_piecewise(draw) -> Invalid:
    kw = dict(draw(valid_kwargs("PiecewiseConstantDecay")))
    b, vals = list(kw["boundaries"]), list(kw["values"])
    kind = draw(st.sampled_from(["length", "empty", "order", "boundary", "value", "not_list"]))
    if kind == "length":  # len(values) != len(boundaries) + 1
        n = draw(st.integers(0, 8).filter(lambda n: n != len(b) + 1))
        kw["values"] = (vals * 9)[:n]
        return Invalid("PiecewiseConstantDecay", kw, ("values", "boundaries"), ValueError)
    if kind == "empty":
        kw["boundaries"], kw["values"] = [], vals[:1]
        return Invalid("PiecewiseConstantDecay", kw, ("boundaries",), ValueError)
    if kind == "order":  # not strictly increasing: a duplicate or a swap
        assume(len(b) >= 1)
        if len(b) == 1 or draw(st.booleans()):
            i = draw(st.integers(0, len(b) - 1))
            b.insert(i, b[i])  # a duplicate
        else:
            b.reverse()
        kw["boundaries"], kw["values"] = b, (vals * 9)[: len(b) + 1]
        return Invalid("PiecewiseConstantDecay", kw, ("boundaries",), ValueError)
    if kind == "boundary":  # NaN/inf, a bool or a string, or an int past 2**53
        i = draw(st.integers(0, len(b) - 1))
        bad, exc = draw(
            _bad(
                _with([NAN, INF, -INF, 2**53 + 1, -(2**60)], ValueError),
                _with([True, "100", None, 1 + 0j], TypeError),
            )
        )
        b[i] = bad
        kw["boundaries"] = b
        return Invalid("PiecewiseConstantDecay", kw, (f"boundaries[{i}]",), exc)
    if kind == "value":
        i = draw(st.integers(0, len(vals) - 1))
        bad, exc = draw(_bad(_non_finite, _negative, _bad_element))
        vals[i] = bad
        kw["values"] = vals
        return Invalid("PiecewiseConstantDecay", kw, (f"values[{i}]",), exc)
    param = draw(st.sampled_from(["boundaries", "values"]))
    kw[param] = draw(st.sampled_from([100, 0.1, None, "100,200"]))
    return Invalid("PiecewiseConstantDecay", kw, (param,), TypeError)


@st.composite
def _bad_table(draw) -> Invalid:
    kind = draw(st.sampled_from(["empty", "element", "type", "2d", "not_list"]))
    if kind == "empty":
        empty = draw(st.sampled_from([[], (), np.array([])]))
        return Invalid("Table", {"values": empty}, ("values",), ValueError)
    if kind == "2d":
        shape = draw(st.sampled_from([(1, 1), (2, 2), (3, 1), ()]))
        return Invalid("Table", {"values": np.full(shape, 0.1)}, ("values",), ValueError)
    if kind == "not_list":
        bad = draw(st.sampled_from([0.1, None, "0.1, 0.05", 3]))
        return Invalid("Table", {"values": bad}, ("values",), TypeError)
    values = list(draw(st.lists(rates, min_size=1, max_size=10)))
    i = draw(st.integers(0, len(values)))
    bad, exc = draw(_bad(_non_finite, _negative) if kind == "element" else _bad_element)
    values.insert(i, bad)
    if draw(st.booleans()) and exc is ValueError:
        values = np.array(values, dtype=np.float64)  # (float32 would round -1e-300 to -0.0)
    return Invalid("Table", {"values": values}, ("values",), exc)


@st.composite
def _bad_sequential(draw) -> Invalid:
    kw = dict(draw(valid_kwargs("Sequential", depth=1)))
    kids, bounds = list(kw["schedules"]), list(kw["boundaries"])
    kind = draw(
        st.sampled_from(["child", "empty", "not_list", "length", "order", "bound", "bounds_type"])
    )
    if kind == "child":
        i = draw(st.integers(0, len(kids) - 1))
        kids[i], exc = draw(BAD_CHILD)
        kw["schedules"] = kids
        return Invalid("Sequential", kw, (f"schedules[{i}]",), exc)
    if kind == "empty":
        kw["schedules"], kw["boundaries"] = draw(st.sampled_from([[], ()])), []
        return Invalid("Sequential", kw, ("schedules",), ValueError)
    if kind == "not_list":
        if draw(st.booleans()):
            kw["schedules"] = kids[0]  # one schedule, not a list
            return Invalid("Sequential", kw, ("schedules",), TypeError)
        kw["boundaries"] = draw(st.sampled_from([10, None, "10,110", 1.5]))
        return Invalid("Sequential", kw, ("boundaries",), TypeError)
    if kind == "length":  # len(boundaries) != len(schedules) - 1
        n = draw(st.integers(0, 5).filter(lambda n: n != len(kids) - 1))
        kw["boundaries"] = list(range(1, n + 1))
        return Invalid("Sequential", kw, ("boundaries",), ValueError)
    if kind == "order":
        assume(len(bounds) >= 1)
        bounds = [bounds[0], *bounds] if len(bounds) == 1 else bounds[::-1]
        kw["schedules"] = (kids * 3)[: len(bounds) + 1]
        kw["boundaries"] = bounds
        return Invalid("Sequential", kw, ("boundaries",), ValueError)
    assume(bounds)
    i = draw(st.integers(0, len(bounds) - 1))
    if kind == "bound":  # <= 0 or past 2**53
        bounds[i], exc = draw(_bad(_with(st.integers(-(2**60), 0), ValueError), _too_big_int))
    else:  # floats (even integral), bools, strings: boundaries are ints
        bounds[i], exc = draw(_not_an_int)
    kw["boundaries"] = bounds
    return Invalid("Sequential", kw, (f"boundaries[{i}]",), exc)


INVALID: dict[str, st.SearchStrategy[Invalid]] = {}
for _name in sorted(REGISTRY):
    _parts = [_break_one(_name)] if BAD[_name] else []
    if _name in (
        "WarmupCosineDecay",
        "WarmupStableDecay",
        "WarmupCosineRestarts",
        "OneCycle",
    ):
        _parts.append(_cross(_name))
    _parts += {
        "PiecewiseConstantDecay": [_bad_piecewise()],
        "Table": [_bad_table()],
        "Sequential": [_bad_sequential()],
    }.get(_name, [])
    INVALID[_name] = st.one_of(*_parts)
"""Invalid kwargs per class: :data:`BAD` one parameter at a time, cross-parameter constraints,
and the list parameters (lengths, order, elements)."""
