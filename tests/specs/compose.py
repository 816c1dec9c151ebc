"""Specs of the composites: :class:`fastlr.Warmup`, :class:`fastlr.Sequential`,
:class:`fastlr.Offset`, :class:`fastlr.Scale`, :class:`fastlr.Product`, :class:`fastlr.PerEpoch`,
:class:`fastlr.Noise` and :class:`fastlr.Clip`.

Their model (range, phases, end, decay start, step change, last exact step) is built from their
children's, through the dispatchers of :mod:`specs`; their valid parameters draw children from
every spec (nested up to ``depth`` composites).
"""

from __future__ import annotations

import bisect
import math
from fractions import Fraction
from statistics import NormalDist

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

import specs
from specs import TOP, Case, Invalid, Spec
from specs._kinds import (
    COUNT,
    NAN,
    NONNEG_COUNT,
    OPTIONAL_RATE,
    POSITIVE,
    RATE,
    Child,
    Custom,
    Example,
    KerasBuiltin,
    Kind,
    _bad,
    _negative_int,
    _not_an_int,
    _too_big_int,
    _with,
    choice,
    counts,
    rates,
)
from specs._oracle import as_step, child_value, lerp

# -- children: valid and not -----------------------------------------------------------------------
_NOT_A_SCHEDULE = st.one_of(
    st.sampled_from(
        [
            0.1,
            1,
            None,
            "CosineDecay",
            specs.REGISTRY["CosineDecay"],  # the class, not an instance
            {"class_name": "Constant", "config": {"learning_rate": 0.1}},  # a config
            lambda step: 0.1,
        ]
    ),
    st.floats(),
    st.text(max_size=4),
)
"""Not a fastlr schedule (Keras built-ins: see test_validation, which keeps this module light)."""


_BAD_CHILD = _with(_NOT_A_SCHEDULE, TypeError)
_BAD_CHILD_LIST = st.deferred(  # a list of one schedule where one schedule is expected
    lambda: _with(specs.schedules(0).map(lambda s: [s]), TypeError)
)

CHILD = Kind(
    None,  # drawn by each composite's ``valid`` (children nested up to ``depth``)
    (
        (KerasBuiltin("CosineDecay"), TypeError),
        (KerasBuiltin("PiecewiseConstantDecay"), TypeError),
        (Custom(), TypeError),
        (0.1, TypeError),
        (1, TypeError),
        (None, TypeError),
        ("CosineDecay", TypeError),
        (specs.REGISTRY["CosineDecay"], TypeError),  # the class
        (lambda step: 0.1, TypeError),
        ({"class_name": "Constant", "config": {"learning_rate": 0.1}}, TypeError),  # a config
        ([Example("Constant", 0)], TypeError),  # a list of one schedule
    ),
    _bad(_BAD_CHILD, _BAD_CHILD_LIST),
)
"""A child schedule: fastlr schedules only (instances, not classes, configs or Keras's)."""
OFFSET = NONNEG_COUNT.plus(
    (np.float64(3.0), TypeError), (NAN, TypeError), (False, TypeError), (2**53 + 1, ValueError)
)
"""An int >= 0, up to 2**53."""


def _leaf_examples() -> list:
    """Every leaf spec's examples, built once."""
    return [
        specs.build_example(name, i)
        for name in specs.LEAVES
        for i in range(len(specs.SPECS[name].examples))
    ]


_EXAMPLE_CHILD = st.deferred(lambda: st.sampled_from(_leaf_examples()))


def _child(depth: int):
    """A child: three times in four one of the leaf examples (a few structures, whose compiled
    kernels are reused across draws: a composite's logic does not depend on its children's
    parameters, which their own specs draw at random), else any schedule drawn at random."""
    return st.one_of(_EXAMPLE_CHILD, _EXAMPLE_CHILD, _EXAMPLE_CHILD, specs.schedules(depth - 1))


def _kw(required: dict, optional: dict | None = None):
    return st.fixed_dictionaries(required, optional=optional or {})


# -- Warmup ----------------------------------------------------------------------------------------
def reference_warmup(step, *, schedule, warmup_steps, start_lr=0.0):
    """``start_lr + (child(0) - start_lr) * step / W`` while ``step < W``, then
    ``child(step - W)`` (the child starts at its own step 0 when the warmup ends)."""
    s = as_step(step)
    if s < warmup_steps:
        return lerp(start_lr, child_value(schedule, 0), Fraction(s, warmup_steps))
    return child_value(schedule, s - warmup_steps)


def _warmup_phases(s, near):
    w = s.warmup_steps
    inner = specs.phases_of(s.schedule, {max(x - w, 0) for x in near})
    return {w} | {w + b for b in inner}


def _warmup_final(s):
    end = specs.final_of(s.schedule)
    return None if end is None else (Fraction(end[0]) + s.warmup_steps, end[1])


def _warmup_decays_from(s):
    start = specs.decays_from(s.schedule)
    return None if start is None else s.warmup_steps + start


def _warmup_step_change(s, b: int) -> float | None:
    w = s.warmup_steps
    if b >= w:
        return specs.step_change(s.schedule, b - w)
    # The ramp, up to and including its join at step w (where it meets the schedule's step-0
    # value: continuous there), rises by |target - start_lr| / w per step.
    return abs(child_value(s.schedule, 0) - s.start_lr) / w


def _warmup_last_exact_step(s) -> int:
    return min(TOP, specs.last_exact_step(s.schedule) + s.warmup_steps)


# -- Sequential ------------------------------------------------------------------------------------
def reference_sequential(step, *, schedules, boundaries):
    """optax ``join_schedules``: ``schedules[0](step)`` before ``boundaries[0]``; from
    ``boundaries[i]`` on, ``schedules[i + 1](step - boundaries[i])``."""
    s = as_step(step)
    if len(boundaries) != len(schedules) - 1:
        raise ValueError("need len(schedules) - 1 boundaries")
    i, start = 0, 0
    for j, b in enumerate(boundaries):
        if s >= b:
            i, start = j + 1, b
    return child_value(schedules[i], s - start)


@st.composite
def _sequential_valid(draw, depth: int) -> dict:
    n = draw(st.integers(1, 3))
    bounds = draw(st.lists(counts(1), min_size=n - 1, max_size=n - 1, unique_by=int))
    children = draw(st.lists(_child(depth), min_size=n, max_size=n))
    return dict(schedules=children, boundaries=sorted(bounds, key=int))


@st.composite
def _sequential_invalid(draw) -> Invalid:
    kw = dict(draw(specs.valid_kwargs("Sequential", depth=1)))
    kids, bounds = list(kw["schedules"]), list(kw["boundaries"])
    kind = draw(
        st.sampled_from(["child", "empty", "not_list", "length", "order", "bound", "bounds_type"])
    )
    if kind == "child":
        i = draw(st.integers(0, len(kids) - 1))
        kids[i], exc = draw(_BAD_CHILD)
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


# Example 0: schedules [Constant, CosineDecay, Constant], boundaries [10, 110].
_A, _B, _C = Example("Constant", 0), Example("CosineDecay", 0), Example("Constant", 1)
_KERAS_COSINE = KerasBuiltin("CosineDecay")
_SEQUENTIAL_CASES = (
    # not a (non-empty) list of schedules
    Case("Sequential", "schedules", _A, TypeError),  # one schedule, not a list
    Case("Sequential", "schedules", None, TypeError),
    Case("Sequential", "schedules", "Constant", TypeError),
    Case("Sequential", "schedules", 0.1, TypeError),
    Case("Sequential", "schedules", [], ValueError),
    Case("Sequential", "schedules", (), ValueError),
    # elements that are not fastlr schedules: the message names the element
    Case(
        "Sequential",
        "schedules",
        [_A, _KERAS_COSINE, _C],
        TypeError,
        name="schedules[1]",
        received=_KERAS_COSINE,
    ),
    Case("Sequential", "schedules", [_A, _B, 0.1], TypeError, name="schedules[2]", received=0.1),
    Case("Sequential", "schedules", [None, _B, _C], TypeError, name="schedules[0]", received=None),
    Case(
        "Sequential",
        "schedules",
        [_A, specs.REGISTRY["CosineDecay"], _C],
        TypeError,
        name="schedules[1]",
        received=specs.REGISTRY["CosineDecay"],
    ),
    Case(
        "Sequential",
        "schedules",
        [_A, _B, Custom()],
        TypeError,
        name="schedules[2]",
        received=Custom(),
    ),
    Case(
        "Sequential",
        "schedules",
        [_A, "CosineDecay", _C],
        TypeError,
        name="schedules[1]",
        received="CosineDecay",
    ),
    # counts that do not match: the message blames `boundaries` (and shows it)
    Case("Sequential", "schedules", [_A, _B], ValueError, name="boundaries", received=[10, 110]),
    Case(
        "Sequential",
        "schedules",
        [_A, _B, _C, _A],
        ValueError,
        name="boundaries",
        received=[10, 110],
    ),
    Case("Sequential", "boundaries", [10], ValueError),
    Case("Sequential", "boundaries", [10, 110, 200], ValueError),
    Case("Sequential", "boundaries", [], ValueError),
    # unsorted / duplicate boundaries
    Case("Sequential", "boundaries", [110, 10], ValueError),
    Case("Sequential", "boundaries", [10, 10], ValueError),
    # bad elements: ints > 0 (no floats, bools or strings); the message names the element
    Case("Sequential", "boundaries", [0, 110], ValueError, name="boundaries[0]", received=0),
    Case("Sequential", "boundaries", [-5, 110], ValueError, name="boundaries[0]", received=-5),
    Case("Sequential", "boundaries", [10.0, 110], TypeError, name="boundaries[0]", received=10.0),
    Case("Sequential", "boundaries", [10, 110.5], TypeError, name="boundaries[1]", received=110.5),
    Case(
        "Sequential",
        "boundaries",
        np.array([10.0, 110.0]),
        TypeError,
        name="boundaries[0]",
        received=10.0,
    ),
    Case("Sequential", "boundaries", [True, 110], TypeError, name="boundaries[0]", received=True),
    Case("Sequential", "boundaries", [10, NAN], TypeError, name="boundaries[1]", received=NAN),
    Case("Sequential", "boundaries", ["10", 110], TypeError, name="boundaries[0]", received="10"),
    Case("Sequential", "boundaries", [10, None], TypeError, name="boundaries[1]", received=None),
    Case(
        "Sequential",
        "boundaries",
        [10, 2**53 + 1],
        ValueError,
        name="boundaries[1]",
        received=2**53 + 1,
    ),
    # not a list
    Case("Sequential", "boundaries", "10,110", TypeError),
    Case("Sequential", "boundaries", 10, TypeError),
    Case("Sequential", "boundaries", None, TypeError),
)


def _sequential_phases(s, near):
    """Its switches, and each child's phases while it runs (shifted to its boundary)."""
    starts, ends = [0, *s.boundaries], [*s.boundaries, None]
    out = set(s.boundaries)
    for child, start, end in zip(s.schedules, starts, ends, strict=True):
        mine = {x - start for x in near if x >= start and (end is None or x < end)}
        mine |= {0} if end is None else {0, end - start}
        inner = specs.phases_of(child, mine)
        out |= {start + b for b in inner if end is None or start + b <= end + 1}
    return out


def _sequential_final(s):
    end = specs.final_of(s.schedules[-1])
    shift = s.boundaries[-1] if s.boundaries else 0
    return None if end is None else (Fraction(end[0]) + shift, end[1])


def _sequential_step_change(s, b: int) -> float | None:
    if b + 1 in s.boundaries:
        return None  # a join: the next schedule starts from its own step 0
    k = bisect.bisect_right(s.boundaries, b)
    return specs.step_change(s.schedules[k], b - ([0, *s.boundaries][k]))


def _sequential_last_exact_step(s) -> int:
    shifts = [0, *s.boundaries]
    lasts = [specs.last_exact_step(c) + k for c, k in zip(s.schedules, shifts, strict=True)]
    return min([TOP, *lasts])


# -- Offset ----------------------------------------------------------------------------------------
def reference_offset(step, *, schedule, offset):
    """``child(step + offset)``, the child's step saturating at 2**63 - 1 (the int64 range)."""
    return child_value(schedule, min(as_step(step) + offset, 2**63 - 1))


def _offset_phases(s, near):
    k = s.offset
    inner = specs.phases_of(s.schedule, {k} | {x + k for x in near})
    return {b - k for b in inner if b - k >= -1}


def _offset_final(s):
    end = specs.final_of(s.schedule)
    return None if end is None else (max(0, Fraction(end[0]) - s.offset), end[1])


def _offset_decays_from(s):
    start = specs.decays_from(s.schedule)
    return None if start is None else max(0, start - s.offset)


def _offset_last_exact_step(s) -> int:
    last = specs.last_exact_step(s.schedule)
    return TOP if last == TOP else last - s.offset


# -- Scale -----------------------------------------------------------------------------------------
def reference_scale(step, *, schedule, factor):
    """``factor * child(step)``, rounded once."""
    return float(Fraction(factor) * Fraction(child_value(schedule, as_step(step))))


def _scale_final(s):
    end = specs.final_of(s.schedule)
    return None if end is None else (end[0], end[1] * s.factor)


def _scale_step_change(s, b: int) -> float | None:
    inner = specs.step_change(s.schedule, b)
    return None if inner is None else s.factor * inner


# -- Product ---------------------------------------------------------------------------------------
def reference_product(step, *, schedules):
    """``schedules[0](step) * schedules[1](step) * ...``, every child at the same step, each
    product rounded once, left to right."""
    s = as_step(step)
    out = None
    for child in schedules:
        value = child_value(child, s)
        out = value if out is None else float(Fraction(out) * Fraction(value))
    return out


@st.composite
def _product_valid(draw, depth: int) -> dict:
    return dict(schedules=draw(st.lists(_child(depth), min_size=1, max_size=3)))


@st.composite
def _product_invalid(draw) -> Invalid:
    kw = dict(draw(specs.valid_kwargs("Product", depth=1)))
    kids = list(kw["schedules"])
    kind = draw(st.sampled_from(["child", "empty", "not_list"]))
    if kind == "child":
        i = draw(st.integers(0, len(kids) - 1))
        kids[i], exc = draw(_BAD_CHILD)
        return Invalid("Product", dict(schedules=kids), (f"schedules[{i}]",), exc)
    if kind == "empty":
        return Invalid(
            "Product", dict(schedules=draw(st.sampled_from([[], ()]))), ("schedules",), ValueError
        )
    return Invalid("Product", dict(schedules=kids[0]), ("schedules",), TypeError)


_PRODUCT_CASES = (
    Case("Product", "schedules", _A, TypeError),  # one schedule, not a list
    Case("Product", "schedules", None, TypeError),
    Case("Product", "schedules", 0.1, TypeError),
    Case("Product", "schedules", [], ValueError),
    Case(
        "Product",
        "schedules",
        [_A, _KERAS_COSINE],
        TypeError,
        name="schedules[1]",
        received=_KERAS_COSINE,
    ),
    Case("Product", "schedules", [None, _B], TypeError, name="schedules[0]", received=None),
    Case("Product", "schedules", [_A, 0.5], TypeError, name="schedules[1]", received=0.5),
)


def _product_bounds(s) -> tuple[float, float]:
    """Every factor is >= 0: the products of the lower and of the upper bounds."""
    lo = hi = 1.0
    for child in s.schedules:
        a, b = specs.bounds_of(child)
        lo, hi = lo * a, hi * b
    return lo, hi


def _product_phases(s, near):
    return set().union(*(specs.phases_of(c, near) for c in s.schedules))


def _product_final(s):
    ends = [specs.final_of(c) for c in s.schedules]
    if any(e is None for e in ends):
        return None
    value = None
    for _, v in ends:
        value = v if value is None else value * v
    return max(Fraction(e[0]) for e in ends), value


def _product_decays_from(s):
    """Non-negative non-increasing factors make a non-increasing product."""
    starts = [specs.decays_from(c) for c in s.schedules]
    return None if any(x is None for x in starts) else max(starts)


def _product_step_change(s, b: int) -> float | None:
    """``|d(f g)| <= |df| max g + max f |dg|``, over every factor."""
    changes = [specs.step_change(c, b) for c in s.schedules]
    if any(c is None for c in changes):
        return None
    tops = [specs.bounds_of(c)[1] for c in s.schedules]
    total = 0.0
    for i, change in enumerate(changes):
        others = 1.0
        for j, top in enumerate(tops):
            others *= top if j != i else 1.0
        total += change * others
    return total


def _union(*ranges: tuple[float, float]) -> tuple[float, float]:
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


# -- PerEpoch --------------------------------------------------------------------------------------
def reference_per_epoch(step, *, schedule, steps_per_epoch):
    """``child(step // steps_per_epoch)``."""
    return child_value(schedule, as_step(step) // steps_per_epoch)


def _per_epoch_phases(s, near):
    """A child's phase ``p`` (between its steps ``floor(p)`` and ``ceil(p)``) is the first step
    of epoch ``ceil(p)``."""
    n = s.steps_per_epoch
    inner = specs.phases_of(s.schedule, {x // n for x in near})
    return {math.ceil(p) * n for p in inner if math.isfinite(p) and math.ceil(p) * n <= TOP}


def _per_epoch_final(s):
    end = specs.final_of(s.schedule)
    if end is None or math.ceil(end[0]) * s.steps_per_epoch > TOP:
        return None
    return math.ceil(end[0]) * s.steps_per_epoch, end[1]


def _per_epoch_decays_from(s):
    start = specs.decays_from(s.schedule)
    return None if start is None else math.ceil(start) * s.steps_per_epoch


def _per_epoch_step_change(s, b: int) -> float | None:
    """Held through an epoch; across one, the child's change over one of its steps."""
    n = s.steps_per_epoch
    return 0.0 if (b + 1) % n else specs.step_change(s.schedule, b // n)


def _per_epoch_last_exact_step(s) -> int:
    last = specs.last_exact_step(s.schedule)
    return TOP if last == TOP else min(TOP, last * s.steps_per_epoch + s.steps_per_epoch - 1)


# -- Noise -----------------------------------------------------------------------------------------
_P = 33554393  # the documented modulus, a prime just below 2**25


def noise_uniform(step: int, seed: int) -> float:
    """The documented hash (``fastlr.schedules._random``), in Python integers: the step's
    base-``P`` digits folded in by ``h -> (h + c)**5 mod P``, then ``(h + 1/2) / P``."""
    k0, k1, k2 = seed % _P, (seed // _P) % _P, seed // _P // _P
    d0, d1, d2 = step % _P, (step // _P) % _P, step // _P // _P
    h = pow(d0 + k0, 5, _P)
    h = pow(h + d1 + k1, 5, _P)
    h = pow(h + d2 + k2 + 12345678, 5, _P)
    h = pow(h + 9876543, 5, _P)
    return (h + 0.5) / _P


def noise_value(step: int, *, pct, std, seed, distribution) -> float:
    """The noise ``n`` at ``step``: a normal of deviation ``std`` truncated to ``(-pct, pct)``
    as the quantile of a uniform on the central interval of probability ``P(|Z| < pct/std)``,
    or uniform on ``(-pct, pct)``."""
    u = noise_uniform(step, seed)
    if distribution == "uniform":
        return 2.0 * pct * (u - 0.5)
    mass = math.erf(pct / std / math.sqrt(2.0))
    return std * NormalDist().inv_cdf(0.5 + (u - 0.5) * mass)


def reference_noise(
    step, *, schedule, start=0, end=None, pct=0.67, std=1.0, seed=42, distribution="normal"
):
    """timm's ``v + v * noise`` for steps in ``[start, end)``, else the child's value."""
    s = as_step(step)
    value = child_value(schedule, s)
    if s < start or (end is not None and s >= end):
        return value
    n = noise_value(s, pct=pct, std=std, seed=seed, distribution=distribution)
    return value + value * n


_pcts = st.one_of(st.sampled_from([0, 0.0, 0.67, 0.5]), st.floats(0.0, 1.0, exclude_max=True))
_stds = st.one_of(st.sampled_from([1, 1.0, 0.5]), st.floats(0.25, 10.0))
"""Deviations whose truncation keeps the normal within 4 deviations (where the oracle's
quantile of ``1/2 + q`` keeps 1e-13 absolute: ``std`` itself is valid down to any value > 0)."""
_seeds = st.one_of(st.sampled_from([0, 42, 2**31 - 1, 2**53]), st.integers(0, 2**53))


@st.composite
def _noise_valid(draw, depth: int) -> dict:
    start = draw(st.one_of(st.just(0), counts(0, 100), counts(0)))
    kw = dict(schedule=draw(_child(depth)), start=start)
    if draw(st.booleans()) and start < 2**53:  # ends are ints up to 2**53
        kw["end"] = draw(st.one_of(st.just(start + 1), counts(start + 1, 2**53)))
    for name, values in (
        ("pct", _pcts),
        ("std", _stds),
        ("seed", _seeds),
        ("distribution", st.sampled_from(["normal", "uniform"])),
    ):
        if draw(st.booleans()):
            kw[name] = draw(values)
    return kw


@st.composite
def _noise_invalid(draw) -> Invalid:
    """An end at or before the start (each alone valid)."""
    kw = dict(draw(specs.valid_kwargs("Noise", depth=1)))
    kw["start"] = start = draw(st.integers(1, 2**53))
    kw["end"] = draw(st.one_of(st.just(start), st.integers(0, start)))
    return Invalid("Noise", kw, ("end",), ValueError)


_END = Kind(
    st.none() | counts(1),
    ((0, ValueError), (-1, ValueError), (5.0, TypeError), ("5", TypeError), (True, TypeError)),
    _bad(_not_an_int.filter(lambda b: b[0] is not None), _with([0, -(2**40)], ValueError)),
)
"""``end``: None or an int > ``start`` (0 in the examples)."""
_NOISE_PCT = Kind(
    _pcts,
    ((1, ValueError), (1.0, ValueError), (-0.1, ValueError), (NAN, ValueError), ("0.5", TypeError)),
    _bad(_with(st.floats(1.0, 1e300), ValueError), _with(st.floats(max_value=-1e-300), ValueError)),
    real=True,
)
"""``pct``: in ``[0, 1)``."""
_SEED = Kind(
    _seeds,
    ((-1, ValueError), (2**53 + 1, ValueError), (1.0, TypeError), (None, TypeError)),
    _bad(_negative_int, _with(st.integers(2**53 + 1, 2**80), ValueError)),
)
"""``seed``: an int in ``[0, 2**53]``."""


def _noise_bounds(s) -> tuple[float, float]:
    lo, hi = specs.bounds_of(s.schedule)
    return lo * (1 - s.pct), hi * (1 + s.pct)


def _noise_phases(s, near):
    ends = {s.start} | ({s.end} if s.end is not None else set())
    return set(specs.phases_of(s.schedule, near)) | ends


def _noise_final(s):
    end = specs.final_of(s.schedule)
    if end is None or s.end is None:
        return None
    return max(Fraction(end[0]), Fraction(s.end)), end[1]


# -- Clip ------------------------------------------------------------------------------------------
def reference_clip(step, *, schedule, min_lr=None, max_lr=None):
    """``min(max(child(step), min_lr), max_lr)``, a ``None`` bound left open."""
    value = child_value(schedule, as_step(step))
    if min_lr is not None:
        value = max(value, float(min_lr))
    if max_lr is not None:
        value = min(value, float(max_lr))
    return value


def _clipped(s, x: float) -> float:
    if s.min_lr is not None:
        x = max(x, s.min_lr)
    return x if s.max_lr is None else min(x, s.max_lr)


@st.composite
def _clip_valid(draw, depth: int) -> dict:
    child = draw(_child(depth))
    which = draw(st.sampled_from(["min", "max", "both"]))
    kw = dict(schedule=child)
    if which in ("min", "both"):
        kw["min_lr"] = draw(rates)
    if which in ("max", "both"):
        lo = float(kw.get("min_lr", 0.0))
        kw["max_lr"] = draw(st.one_of(st.just(lo), st.floats(lo, max(2 * lo, 1e4)), rates))
        if kw["max_lr"] < lo:
            kw["max_lr"] = lo
    return kw


@st.composite
def _clip_invalid(draw) -> Invalid:
    kw = dict(draw(specs.valid_kwargs("Clip", depth=1)))
    if draw(st.booleans()):  # neither bound
        kw["min_lr"] = kw["max_lr"] = None
        return Invalid("Clip", kw, ("min_lr", "max_lr"), ValueError)
    lo = draw(st.floats(1e-6, 1e4))
    kw["min_lr"], kw["max_lr"] = lo, lo * draw(st.floats(0.0, 1.0, exclude_max=True))
    assume(kw["max_lr"] < lo)
    return Invalid("Clip", kw, ("max_lr", "min_lr"), ValueError)


def _clip_final(s):
    end = specs.final_of(s.schedule)
    return None if end is None else (end[0], _clipped(s, end[1]))


def _union(*ranges: tuple[float, float]) -> tuple[float, float]:
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


SPECS = (
    Spec(
        "Warmup",
        reference=reference_warmup,
        examples=(
            dict(schedule=Example("CosineDecay", 0), warmup_steps=10, start_lr=0.001),
            dict(schedule=Example("WarmupCosineRestarts", 2), warmup_steps=7),
        ),
        params={
            "schedule": CHILD,
            "warmup_steps": NONNEG_COUNT.plus((2**53 + 1, ValueError)),
            "start_lr": RATE,
        },
        valid=lambda depth: _kw(
            dict(schedule=_child(depth), warmup_steps=counts(0)), dict(start_lr=rates)
        ),
        # the ramp runs from start_lr to the child's step-0 value, then the child
        bounds=lambda s: _union(specs.bounds_of(s.schedule), (s.start_lr, s.start_lr)),
        phases=_warmup_phases,
        int_rates=dict(
            schedule=Child("Constant", dict(learning_rate=1)), warmup_steps=10, start_lr=0
        ),
        final=_warmup_final,
        decays_from=_warmup_decays_from,
        step_change=_warmup_step_change,
        last_exact_step=_warmup_last_exact_step,
    ),
    Spec(
        "Sequential",
        reference=reference_sequential,
        examples=(
            dict(
                schedules=[
                    Example("Constant", 0),
                    Example("CosineDecay", 0),
                    Example("Constant", 1),
                ],
                boundaries=[10, 110],
            ),
            dict(schedules=[Example("Warmup", 0), Example("Offset", 0)], boundaries=[60]),
        ),
        params={},  # the lists: _sequential_invalid and _SEQUENTIAL_CASES
        valid=lambda depth: _sequential_valid(depth),
        invalid=(_sequential_invalid,),
        cases=_SEQUENTIAL_CASES,
        # one of the children at a time
        bounds=lambda s: _union(*(specs.bounds_of(c) for c in s.schedules)),
        phases=_sequential_phases,
        int_rates=dict(
            schedules=[
                Child("Constant", dict(learning_rate=3)),
                Child(
                    "PolynomialDecay",
                    dict(initial_learning_rate=1, decay_steps=100, end_learning_rate=0, power=2),
                ),
                Child(
                    "Warmup",
                    dict(schedule=Child("Constant", dict(learning_rate=2)), warmup_steps=5),
                ),
            ],
            boundaries=[100, 150],
        ),
        final=_sequential_final,
        # not a decay: each schedule restarts from its own step 0 at its boundary, so the joins
        # may rise (e.g. a decay after a warmup)
        step_change=_sequential_step_change,
        last_exact_step=_sequential_last_exact_step,
    ),
    Spec(
        "Offset",
        reference=reference_offset,
        examples=(
            dict(schedule=Example("WarmupCosineDecay", 0), offset=10),
            dict(schedule=Example("CyclicalLearningRate", 1), offset=2**40 + 3),
        ),
        params={"schedule": CHILD, "offset": OFFSET},
        valid=lambda depth: _kw(dict(schedule=_child(depth), offset=counts(0))),
        bounds=lambda s: specs.bounds_of(s.schedule),  # the child, shifted
        phases=_offset_phases,
        int_rates=dict(
            schedule=Child("ExponentialRange", dict(start_lr=1, end_lr=100, num_steps=10)),
            offset=5,
        ),
        final=_offset_final,
        decays_from=_offset_decays_from,
        step_change=lambda s, b: specs.step_change(s.schedule, b + s.offset),
        last_exact_step=_offset_last_exact_step,
    ),
    Spec(
        "Scale",
        reference=reference_scale,
        examples=(
            dict(schedule=Example("CosineDecayRestarts", 0), factor=0.1),
            dict(schedule=Example("Sequential", 1), factor=3.0),
        ),
        params={"schedule": CHILD, "factor": RATE},
        valid=lambda depth: _kw(
            dict(
                schedule=_child(depth),
                factor=st.floats(0.0, 1e3) | st.sampled_from([0, 1, 2]),
            )
        ),
        # the child, times the factor
        bounds=lambda s: tuple(s.factor * b for b in specs.bounds_of(s.schedule)),
        phases=lambda s, near: specs.phases_of(s.schedule, near),
        int_rates=dict(schedule=Child("Constant", dict(learning_rate=2)), factor=3),
        final=_scale_final,
        decays_from=lambda s: specs.decays_from(s.schedule),
        step_change=_scale_step_change,
        last_exact_step=lambda s: specs.last_exact_step(s.schedule),
    ),
    Spec(
        "Product",
        reference=reference_product,
        examples=(
            dict(schedules=[Example("ExponentialDecay", 0), Example("PolynomialDecay", 0)]),
            dict(schedules=[Example("CosineAnnealing", 1), Example("Warmup", 0)]),
        ),
        params={},  # the list: _product_invalid and _PRODUCT_CASES
        valid=lambda depth: _product_valid(depth),
        invalid=(_product_invalid,),
        cases=_PRODUCT_CASES,
        bounds=_product_bounds,
        phases=_product_phases,
        int_rates=dict(
            schedules=[
                Child("Constant", dict(learning_rate=2)),
                Child("PolynomialDecay", dict(initial_learning_rate=1, decay_steps=10, power=1)),
            ]
        ),
        final=_product_final,
        decays_from=_product_decays_from,
        step_change=_product_step_change,
        last_exact_step=lambda s: min(specs.last_exact_step(c) for c in s.schedules),
    ),
    Spec(
        "PerEpoch",
        reference=reference_per_epoch,
        examples=(
            dict(schedule=Example("ExponentialDecay", 0), steps_per_epoch=3),
            dict(schedule=Example("CosineCycles", 1), steps_per_epoch=100),
        ),
        params={"schedule": CHILD, "steps_per_epoch": COUNT},
        valid=lambda depth: _kw(dict(schedule=_child(depth), steps_per_epoch=counts(1))),
        bounds=lambda s: specs.bounds_of(s.schedule),  # the child, held through each epoch
        phases=_per_epoch_phases,
        int_rates=dict(schedule=Child("Constant", dict(learning_rate=2)), steps_per_epoch=3),
        final=_per_epoch_final,
        decays_from=_per_epoch_decays_from,
        step_change=_per_epoch_step_change,
        last_exact_step=_per_epoch_last_exact_step,
    ),
    Spec(
        "Noise",
        reference=reference_noise,
        examples=(
            dict(schedule=Example("Constant", 0), start=2, pct=0.1, seed=7),
            dict(
                schedule=Example("CosineCycles", 1),
                start=5,
                end=40,
                pct=0.5,
                std=0.5,
                seed=2**40 + 3,
                distribution="uniform",
            ),
            dict(schedule=Example("PolyCycles", 1)),
        ),
        params={
            "schedule": CHILD,
            "start": NONNEG_COUNT,
            "end": _END,
            "pct": _NOISE_PCT,
            "std": POSITIVE,
            "seed": _SEED,
            "distribution": choice(("normal", "uniform"), "Normal", "gaussian"),
        },
        valid=lambda depth: _noise_valid(depth),
        invalid=(_noise_invalid,),
        cases=(Case("Noise", "end", 2, ValueError),),  # == start in example 0
        bounds=_noise_bounds,
        phases=_noise_phases,
        int_rates=dict(
            schedule=Child("Constant", dict(learning_rate=2)), start=2, pct=0, std=1, seed=3
        ),
        final=_noise_final,
        last_exact_step=lambda s: specs.last_exact_step(s.schedule),
    ),
    Spec(
        "Clip",
        reference=reference_clip,
        examples=(
            dict(schedule=Example("ExponentialDecay", 0), min_lr=0.02),
            dict(schedule=Example("CyclicalLearningRate", 0), min_lr=0.2, max_lr=0.6),
            dict(schedule=Example("Warmup", 0), max_lr=0.05),
        ),
        params={"schedule": CHILD, "min_lr": OPTIONAL_RATE, "max_lr": OPTIONAL_RATE},
        valid=lambda depth: _clip_valid(depth),
        invalid=(_clip_invalid,),
        cases=(
            Case("Clip", "min_lr", None, ValueError),  # max_lr is None too
            Case("Clip", "max_lr", None, ValueError, base=2, name="min_lr", received=None),
            Case("Clip", "max_lr", 0.1, ValueError, base=1),  # below min_lr=0.2
            Case("Clip", "min_lr", 0.06, ValueError, base=2, name="max_lr", received=0.05),
        ),
        # the child's range, clipped
        bounds=lambda s: tuple(_clipped(s, b) for b in specs.bounds_of(s.schedule)),
        phases=lambda s, near: specs.phases_of(s.schedule, near),
        int_rates=dict(schedule=Child("Constant", dict(learning_rate=2)), min_lr=1, max_lr=3),
        final=_clip_final,
        decays_from=lambda s: specs.decays_from(s.schedule),  # clipping keeps the order
        step_change=lambda s, b: specs.step_change(s.schedule, b),  # and is 1-Lipschitz
        last_exact_step=lambda s: specs.last_exact_step(s.schedule),
    ),
)
