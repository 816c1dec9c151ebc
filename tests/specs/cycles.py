"""Specs of timm's cycle schedules: :class:`fastlr.CosineCycles`, :class:`fastlr.PolyCycles`
and :class:`fastlr.TanhCycles`.

The reference is timm's ``_get_lr`` (``timm/scheduler/cosine_lr.py``, ``poly_lr.py``,
``tanh_lr.py``) without warmup and noise, with the cycle found exactly (timm's float
logarithm can misplace a restart by a step): cycle ``i`` lasts ``t_initial * cycle_mul**i``, its
peak is ``base * cycle_decay**i``, and from cycle ``cycle_limit`` on the value is ``lr_min``.
"""

from __future__ import annotations

import math
from fractions import Fraction

from hypothesis import strategies as st

from specs import TOP, Case, Spec
from specs._kinds import (
    BAD_UNIT,
    COUNT,
    MULT,
    NONNEG,
    POSITIVE,
    RATE,
    Kind,
    _bad,
    _negative_int,
    _non_finite,
    _not_a_number,
    _not_an_int,
    _with,
    counts,
    mults,
    open_unit,
    rates,
)
from specs._oracle import (
    EXACT_BITS_LIMIT,
    as_step,
    cycle_of,
    cycle_start,
    cycles_within_reach,
    half_cos,
)
from specs._phases import cycle_starts


def _position(step, cycle_steps, cycle_mult) -> tuple[int, Fraction]:
    """``(i, x)``: the cycle index and the exact fraction of it done."""
    k, start, length = cycle_of(as_step(step), cycle_steps, cycle_mult)
    return k, (as_step(step) - start) / length


def _one_minus_power(x: Fraction, k: float) -> float:
    """``1 - x**k`` for rational ``x`` in ``[0, 1)``, as ``-expm1(k * log(x))`` with ``log(x)``
    from the exact ``x`` (``log1p(x - 1)`` near 1), so it is relative-accurate when small."""
    if x == 0:
        return 1.0
    if k == 1:
        return float(1 - x)
    log_x = math.log1p(float(x - 1)) if x > Fraction(1, 2) else math.log(float(x))
    return -math.expm1(k * log_x)


def _cycles(step, curve, max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit):
    i, x = _position(step, cycle_steps, cycle_mult)
    if cycle_limit is not None and i >= cycle_limit:
        return min_lr
    peak = max_lr * math.pow(cycle_decay, i)
    return min_lr + (peak - min_lr) * curve(x)


def reference_cosine_cycles(
    step,
    *,
    max_lr,
    cycle_steps,
    min_lr=0.0,
    cycle_mult=1.0,
    cycle_decay=1.0,
    cycle_limit=1,
    k_decay=1.0,
):
    """timm's cosine: ``lr_min + 0.5 * (peak - lr_min) * (1 + cos(pi * x**k_decay))``, the
    bump ``(1 + cos(pi y)) / 2`` taken from ``1 - y`` without cancellation."""

    def curve(x):
        return half_cos(1 - Fraction(_one_minus_power(x, k_decay)))

    common = (max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
    return _cycles(step, curve, *common)


def reference_poly_cycles(
    step,
    *,
    max_lr,
    cycle_steps,
    power=0.5,
    min_lr=0.0,
    cycle_mult=1.0,
    cycle_decay=1.0,
    cycle_limit=1,
    k_decay=1.0,
):
    """timm's polynomial: ``lr_min + (peak - lr_min) * (1 - x**k_decay)**power``."""
    common = (max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
    return _cycles(step, lambda x: math.pow(_one_minus_power(x, k_decay), power), *common)


def reference_tanh_cycles(
    step,
    *,
    max_lr,
    cycle_steps,
    lb=-7.0,
    ub=3.0,
    min_lr=0.0,
    cycle_mult=1.0,
    cycle_decay=1.0,
    cycle_limit=1,
):
    """timm's tanh: ``lr_min + 0.5 * (peak - lr_min) * (1 - tanh(lb * (1 - x) + ub * x))``,
    with ``(1 - tanh z) / 2 = 1 / (1 + exp(2 z))`` and ``z`` exact before rounding."""

    def curve(x):
        z = Fraction(lb) * (1 - x) + Fraction(ub) * x
        return 1.0 / (1.0 + math.exp(min(2.0 * float(z), 700.0)))

    common = (max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
    return _cycles(step, curve, *common)


# -- the model ---------------------------------------------------------------------------------
def _end(s) -> Fraction | None:
    """First step held at ``min_lr`` (the start of cycle ``cycle_limit``); None: no limit, or past
    every int64 step."""
    if s.cycle_limit is None:
        return None
    mult = Fraction(s.cycle_mult)
    if s.cycle_limit and mult != 1:
        if s.cycle_limit * math.log2(s.cycle_mult) > 64:
            return None  # past every int64 step
        bits = mult.numerator.bit_length() + mult.denominator.bit_length()
        if s.cycle_limit * bits > EXACT_BITS_LIMIT:
            return None  # mult**cycle_limit too costly to compute exactly: no claim
    start = cycle_start(s.cycle_limit, Fraction(s.cycle_steps), mult)
    return start if start <= TOP else None


def _bounds(s) -> tuple[float, float]:
    """Between ``min_lr`` and the peaks (which decay towards 0 when ``cycle_decay < 1``)."""
    lowest_peak = s.max_lr if s.cycle_decay == 1 else 0.0
    return min(s.min_lr, lowest_peak), max(s.min_lr, s.max_lr)


def _phases(s, near) -> set:
    out = cycle_starts(s.cycle_steps, s.cycle_mult, near)
    end = _end(s)
    return out if end is None else {p for p in out if p <= end} | {end}


def _final(s):
    end = _end(s)
    return None if end is None else (end, s.min_lr)


def _decays_from(s):
    """One cycle (or none) decaying to ``min_lr``, then ``min_lr``: a decay from step 0 when
    ``min_lr <= max_lr``."""
    if s.cycle_limit is not None and s.cycle_limit <= 1 and s.min_lr <= s.max_lr:
        return 0
    return None


_LIMIT_BAD = (
    (-1, ValueError),
    (2**53 + 1, ValueError),
    (1.0, TypeError),
    (1.5, TypeError),
    (True, TypeError),
    ("1", TypeError),
)
LIMIT = Kind(
    st.one_of(st.none(), counts(0, 20), counts(0)),
    _LIMIT_BAD,
    _bad(
        _not_an_int.filter(lambda b: b[0] is not None),
        _negative_int,
        _with(st.integers(2**53 + 1, 2**80), ValueError),
    ),
)
"""``cycle_limit``: an int in ``[0, 2**53]``, or None (no limit)."""

DECAY = RATE.but(
    good=st.one_of(st.just(0), st.just(0.0), open_unit),
    bad=(*RATE.bad, (1.0000001, ValueError), (2, ValueError)),
    fuzz=BAD_UNIT,
)
"""``cycle_decay``: in ``[0, 1]`` (normal floats: see ``open_unit``)."""

REAL = Kind(
    st.floats(-50.0, 50.0),
    ((math.nan, ValueError), (math.inf, ValueError), ("1", TypeError), (None, TypeError)),
    _bad(_not_a_number, _non_finite),
    real=True,
)
"""Any finite real (the tanh's arguments; their order: ``valid`` and ``cases``)."""

_COMMON = {
    "max_lr": RATE,
    "cycle_steps": COUNT,
    "min_lr": RATE,
    "cycle_mult": MULT,
    "cycle_decay": DECAY,
    "cycle_limit": LIMIT,
}
_INT_RATES = dict(max_lr=1, cycle_steps=10, min_lr=0, cycle_mult=2, cycle_decay=1, cycle_limit=3)


@st.composite
def _tanh_valid(draw) -> dict:
    lb = draw(st.floats(-50.0, 10.0))
    ub = draw(st.floats(lb, 50.0, exclude_min=True))
    return dict(
        max_lr=draw(rates),
        cycle_steps=draw(counts(1)),
        lb=lb,
        ub=ub,
        min_lr=draw(rates),
        cycle_mult=draw(mults),
        cycle_decay=draw(DECAY.good),
        cycle_limit=draw(LIMIT.good),
    )


def _within_reach(s) -> bool:
    return cycles_within_reach(s.cycle_steps, s.cycle_mult)


SPECS = (
    Spec(
        "CosineCycles",
        reference=reference_cosine_cycles,
        examples=(
            dict(max_lr=1.0, cycle_steps=10, min_lr=0.1),
            dict(
                max_lr=1.0,
                cycle_steps=10,
                min_lr=0.1,
                cycle_mult=2.0,
                cycle_decay=0.5,
                cycle_limit=3,
            ),
            dict(max_lr=0.5, cycle_steps=7, cycle_mult=1.5, cycle_limit=None, k_decay=2.0),
            dict(max_lr=1.0, cycle_steps=5, cycle_decay=0.9, cycle_limit=None, k_decay=0.3),
        ),
        params={**_COMMON, "k_decay": POSITIVE},
        bounds=_bounds,
        phases=_phases,
        int_rates=dict(_INT_RATES, k_decay=2),
        final=_final,
        decays_from=_decays_from,
        within_reach=_within_reach,
    ),
    Spec(
        "PolyCycles",
        reference=reference_poly_cycles,
        examples=(
            dict(max_lr=1.0, cycle_steps=10),
            dict(max_lr=1.0, cycle_steps=10, power=2.0, cycle_limit=None),
            dict(
                max_lr=0.1,
                cycle_steps=6,
                power=1.0,
                min_lr=0.01,
                cycle_mult=3.0,
                cycle_decay=0.7,
                cycle_limit=4,
                k_decay=1.5,
            ),
        ),
        params={**_COMMON, "power": NONNEG, "k_decay": POSITIVE},
        bounds=_bounds,
        phases=_phases,
        int_rates=dict(_INT_RATES, power=2, k_decay=1),
        final=_final,
        decays_from=_decays_from,
        within_reach=_within_reach,
    ),
    Spec(
        "TanhCycles",
        reference=reference_tanh_cycles,
        examples=(
            dict(max_lr=1.0, cycle_steps=10),
            dict(max_lr=1.0, cycle_steps=10, cycle_limit=None),
            dict(
                max_lr=0.1,
                cycle_steps=8,
                lb=-3.0,
                ub=5.0,
                min_lr=0.001,
                cycle_mult=1.5,
                cycle_decay=0.8,
                cycle_limit=5,
            ),
        ),
        params={
            **_COMMON,
            "lb": REAL.but(good=st.floats(-50.0, 2.0)),
            "ub": REAL.but(good=st.floats(3.0, 50.0)),
        },
        valid=_tanh_valid(),
        cases=(
            Case("TanhCycles", "lb", 3.0, ValueError, name="ub", received=3.0),  # lb == ub
            Case("TanhCycles", "ub", -8.0, ValueError),  # ub < lb
        ),
        bounds=_bounds,
        phases=_phases,
        int_rates=dict(_INT_RATES, lb=-7, ub=3),
        final=_final,
        decays_from=_decays_from,
        within_reach=_within_reach,
    ),
)
