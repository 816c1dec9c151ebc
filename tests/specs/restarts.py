"""Specs of the restart schedules: :class:`fastlr.CosineDecayRestarts` (Keras's SGDR) and
:class:`fastlr.WarmupCosineRestarts` (SGDR with a warmup in every cycle)."""

from __future__ import annotations

import bisect
import functools
import math
from fractions import Fraction

from hypothesis import strategies as st

from specs import TOP, Case, Invalid, Spec, valid_kwargs
from specs._kinds import (
    COUNT,
    FLAG,
    KERAS_STEPS,
    MULT,
    NAME,
    NONNEG_COUNT,
    OPEN_UNIT,
    POSITIVE_RATE,
    RATE,
    UNIT,
    above,
    below,
    bools,
    counts,
    mults,
    open_unit,
    positive_rates,
)
from specs._oracle import as_step, cycle_of, cycles_within_reach, exact, half_cos
from specs._phases import cycle_starts, pieces_change


def reference_cosine_decay_restarts(
    step,
    *,
    initial_learning_rate,
    first_decay_steps,
    t_mul=2.0,
    m_mul=1.0,
    alpha=0.0,
    name=None,
):
    """Keras SGDR: cycle ``i`` lasts ``first * t_mul**i``; inside it, with ``x`` its completed
    fraction, ``initial * ((1 - alpha) * m_mul**i * (1 + cos(pi x)) / 2 + alpha)``.

    The cycle index is computed exactly (Keras's closed form in float32 is not)."""
    s = as_step(step)
    k, start, length = cycle_of(s, first_decay_steps, t_mul)
    x = (s - start) / length
    return initial_learning_rate * ((1 - alpha) * math.pow(m_mul, k) * half_cos(x) + alpha)


MAX_WHOLE_CYCLES = 4096
"""Documented: with ``whole_cycles=True`` at most 4096 cycles may start below step 2**63."""


@functools.lru_cache(maxsize=128)
def recipe_cycles(first: int, mult: float, warmup: int, scale: bool) -> tuple | None:
    """The blog recipe's cycles, walked as its Python counter walks them: ``T`` and ``W``
    start at ``total_step`` and ``warmup_step`` and are multiplied by ``1 + multi`` (here
    ``mult``, in float64, as the recipe does) at each restart; the counter restarts once it
    reaches ``T``, so a cycle lasts ``ceil(T)`` steps. ``(starts, T, W)``: the cycles' first
    steps (sums of the whole lengths, exact ints) up to the first past 2**63 - 1, and their
    float ``T_k``, ``W_k``; None past :data:`MAX_WHOLE_CYCLES` cycles below it."""
    starts, lengths, warms = [0], [], []
    t, w = float(first), float(warmup)
    while starts[-1] <= TOP:
        if len(lengths) >= MAX_WHOLE_CYCLES:
            return None
        lengths.append(t)
        warms.append(w)
        starts.append(starts[-1] + math.ceil(t))
        t, w = t * mult, (w * mult if scale else w)
    return tuple(starts), tuple(lengths), tuple(warms)


def whole_cycle_of(step: int, s) -> tuple[int, int, Fraction, Fraction]:
    """``(k, start, T_k, W_k)`` of the recipe's cycle holding ``step`` (schedule or config
    ``s``): its index, first step, and real length and warmup (exact values of its floats)."""
    starts, lengths, warms = recipe_cycles(
        s["first_cycle_steps"], s["cycle_mult"], s["warmup_steps"], s["scale_warmup"]
    )
    k = bisect.bisect_right(starts, step) - 1
    return k, starts[k], Fraction(lengths[k]), Fraction(warms[k])


def reference_warmup_cosine_restarts(
    step,
    *,
    max_lr,
    first_cycle_steps,
    cycle_mult=1.0,
    warmup_steps=0,
    min_lr=0.0,
    gamma=1.0,
    scale_warmup=True,
    whole_cycles=False,
):
    """SGDR with a linear warmup at the start of every cycle (cycles walked exactly).

    Cycle ``k``: length ``L_k = first * mult**k``, warmup ``W_k = warmup * mult**k`` (or
    ``warmup``), amplitude ``A_k = (max_lr - min_lr) * gamma**k``; ``s`` = step in the cycle:
    ``min + A_k * s / W_k`` while ``s < W_k``, else
    ``min + A_k * (1 + cos(pi * (s - W_k) / (L_k - W_k))) / 2``.

    ``whole_cycles``: the blog recipe's Python counter, which restarts at 0 once it reaches the
    cycle length ``T`` (a float multiplied by ``cycle_mult`` at each restart, as is the warmup
    ``W``): cycle ``k`` lasts ``ceil(T_k)`` whole steps from the sum of the whole lengths
    before it; ``s`` counts from there and the pieces use the recipe's ``W_k`` and ``T_k``.
    """
    s_abs = as_step(step)
    if whole_cycles and cycle_mult != 1:  # equal cycles of first_cycle_steps: whole already
        config = dict(
            first_cycle_steps=first_cycle_steps,
            cycle_mult=cycle_mult,
            warmup_steps=warmup_steps,
            scale_warmup=scale_warmup,
        )
        k, start, length, warm = whole_cycle_of(s_abs, config)
        s = s_abs - start
        amplitude = (max_lr - min_lr) * math.pow(gamma, k)
        if s < warm:
            return min_lr + amplitude * float(s / warm)
        return min_lr + amplitude * half_cos((s - warm) / (length - warm))
    k, start, length = cycle_of(s_abs, first_cycle_steps, cycle_mult)
    mult = exact(cycle_mult)
    warm = exact(warmup_steps) * mult**k if scale_warmup else exact(warmup_steps)
    s = s_abs - start
    amplitude = (max_lr - min_lr) * math.pow(gamma, k)
    if s < warm:
        return min_lr + amplitude * float(s / warm)
    return min_lr + amplitude * half_cos((s - warm) / (length - warm))


# -- CosineDecayRestarts ---------------------------------------------------------------------------
def _cdr_last_exact_step(s) -> int:
    """Equal cycles of a fractional length are exact while ``step / length < 2**53``; every
    other restart schedule at every int64 step."""
    if s.t_mul == 1.0 and not isinstance(s.first_decay_steps, int):
        return min(TOP, math.floor(s.first_decay_steps * (2**53 - 1)))
    return TOP


def _cycle_change(first, mult, b: int, pieces) -> float | None:
    """A bound on the change from ``b`` to ``b + 1`` inside one cycle (None across a restart or
    out of the oracle's reach); ``pieces(k, start, length)`` are cycle ``k``'s pieces."""
    if not cycles_within_reach(first, mult, b + 2):
        return None
    k, start, length = cycle_of(b, first, mult)
    # A restart between the steps, or a cycle start within the documented 2**-42 steps of
    # either (``_curves.cycle_segment``: real-valued starts, e.g. 15 * 0.8 = 12 + 7e-16, may be
    # placed on the nearest step): either side of it is allowed.
    near = Fraction(1, 2**42)
    if len({cycle_of(max(x, 0), first, mult)[0] for x in (b - near, b, b + 1, b + 1 + near)}) > 1:
        return None
    return pieces_change(pieces(k, start, length), b)


def _cdr_step_change(s, b: int) -> float | None:
    def pieces(k, start, length):
        amp = s.initial_learning_rate * (1 - s.alpha) * s.m_mul**k
        return [(start, start + length, "cos", amp)]

    return _cycle_change(s.first_decay_steps, s.t_mul, b, pieces)


# -- WarmupCosineRestarts --------------------------------------------------------------------------
whole_mults = st.one_of(
    st.sampled_from([1, 1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0, 2.0**53]),
    st.floats(1.01, 1.1),  # up to about 4,000 cycles below 2**63: the documented reach
    st.floats(1.1, 4.0),
    st.floats(4.0, 2.0**53),
)
"""Multipliers valid with ``whole_cycles=True`` for every ``first_cycle_steps`` (>= 1.01)."""


@st.composite
def _wcr_valid(draw) -> dict:
    first = draw(counts(1, 2**40))
    max_lr = draw(positive_rates)
    whole = draw(bools)
    return dict(
        max_lr=max_lr,
        first_cycle_steps=first,
        cycle_mult=draw(whole_mults if whole else mults),
        warmup_steps=draw(st.one_of(st.just(0), st.just(first - 1), st.integers(0, first - 1))),
        min_lr=draw(below(float(max_lr))),
        gamma=draw(open_unit),
        scale_warmup=draw(bools),
        whole_cycles=whole,
    )


@st.composite
def _wcr_invalid(draw) -> Invalid:
    """min_lr above max_lr, a warmup as long as the first cycle, or whole cycles of a multiplier
    so close to 1 that more than 4096 start below 2**63 (each value alone valid)."""
    kw = dict(draw(valid_kwargs("WarmupCosineRestarts")))
    pick = draw(st.sampled_from(["min_lr", "warmup_steps", "cycle_mult"]))
    if pick == "min_lr":
        kw["min_lr"] = above(draw, kw["max_lr"])
        return Invalid("WarmupCosineRestarts", kw, ("min_lr",), ValueError)
    if pick == "warmup_steps":
        kw["warmup_steps"] = draw(st.integers(int(kw["first_cycle_steps"]), 2**53))
        return Invalid("WarmupCosineRestarts", kw, ("warmup_steps",), ValueError)
    # first <= 1000, mult <= 1 + 1e-4: over 270,000 cycles (each at least first steps long)
    kw["first_cycle_steps"] = first = draw(st.integers(1, 1000))
    kw["warmup_steps"] = draw(st.integers(0, first - 1))
    kw["cycle_mult"] = draw(st.floats(1.0, 1.0001, exclude_min=True))
    kw["whole_cycles"] = True
    return Invalid("WarmupCosineRestarts", kw, ("cycle_mult",), ValueError)


def _wcr_warmup(s, k: int, length):
    return s.warmup_steps * length / s.first_cycle_steps if s.scale_warmup else s.warmup_steps


def _wcr_pieces(s):
    def pieces(k, start, length):
        warm = _wcr_warmup(s, k, length)
        amp = (s.max_lr - s.min_lr) * s.gamma**k
        return [(start + warm, start + length, "cos", amp), (start, start + warm, "lin", amp)]

    return pieces


def _recipe(s) -> bool:
    """Whole cycles that are not the real ones already (``cycle_mult`` 1: equal whole cycles)."""
    return s.whole_cycles and s.cycle_mult != 1


def _wcr_step_change(s, b: int) -> float | None:
    if not _recipe(s):
        return _cycle_change(s.first_cycle_steps, s.cycle_mult, b, _wcr_pieces(s))
    config = s.get_config()
    k, start, length, warm = whole_cycle_of(b, config)
    if whole_cycle_of(b + 1, config)[0] != k:
        return None  # a restart between the steps
    amp = (s.max_lr - s.min_lr) * s.gamma**k
    pieces = [(start + warm, start + length, "cos", amp), (start, start + warm, "lin", amp)]
    return pieces_change(pieces, b)


def _wcr_phases(s, near) -> set:
    """Cycle starts and warmup ends: the real boundaries, or with ``whole_cycles`` the recipe's
    (sums of whole lengths, and ``W_k`` after them) of the first dozen cycles and of those
    around each ``near`` step."""
    first, mult = s.first_cycle_steps, s.cycle_mult
    if not _recipe(s):
        inner = lambda k, length: (_wcr_warmup(s, k, length),)  # noqa: E731
        return cycle_starts(first, mult, near, inner)
    config = s.get_config()
    starts, _, warms = recipe_cycles(first, mult, s.warmup_steps, s.scale_warmup)
    ks = set(range(min(12, len(warms))))
    for x in near:
        k = whole_cycle_of(x, config)[0]
        ks |= {j for j in (k - 1, k, k + 1) if 0 <= j < len(warms)}
    return {p for k in ks for p in (starts[k], starts[k] + Fraction(warms[k]))}


def _wcr_within_reach(s) -> bool:
    """The recipe's cycles are a table of floats (cheap at every step); the real-valued ones
    cost ``mult**k`` exactly."""
    return _recipe(s) or cycles_within_reach(s.first_cycle_steps, s.cycle_mult)


SPECS = (
    Spec(
        "CosineDecayRestarts",
        reference=reference_cosine_decay_restarts,
        examples=(
            dict(initial_learning_rate=1.0, first_decay_steps=2, t_mul=1.0),
            dict(initial_learning_rate=1.0, first_decay_steps=7, t_mul=1.5, m_mul=0.9, alpha=0.1),
            dict(initial_learning_rate=0.1, first_decay_steps=10),
        ),
        keras_parity=(
            dict(initial_learning_rate=0.1, first_decay_steps=100),
            dict(initial_learning_rate=1.0, first_decay_steps=2, t_mul=1.0),
            dict(initial_learning_rate=1.0, first_decay_steps=50, t_mul=1.0, m_mul=0.8, alpha=0.1),
            dict(initial_learning_rate=1.0, first_decay_steps=7, t_mul=1.5, m_mul=0.9, alpha=0.1),
            dict(initial_learning_rate=0.5, first_decay_steps=10, t_mul=2.0, m_mul=0.5),
            dict(initial_learning_rate=1.0, first_decay_steps=12.5, t_mul=1.0),
            dict(initial_learning_rate=1.0, first_decay_steps=1e2, t_mul=1.5, alpha=0.05),
            dict(initial_learning_rate=0.3, first_decay_steps=16, t_mul=2.0, m_mul=0.7, alpha=0.2),
        ),
        params={
            "initial_learning_rate": RATE,
            "first_decay_steps": KERAS_STEPS,
            "t_mul": MULT,
            "m_mul": OPEN_UNIT,  # peaks would grow without bound above 1
            "alpha": UNIT,
            "name": NAME,
        },
        # m_mul <= 1: every peak <= initial; the floor is alpha * initial
        bounds=lambda s: (s.initial_learning_rate * s.alpha, s.initial_learning_rate),
        phases=lambda s, near: cycle_starts(s.first_decay_steps, s.t_mul, near),
        int_rates=dict(initial_learning_rate=1, first_decay_steps=10, t_mul=2, m_mul=1, alpha=0),
        step_change=_cdr_step_change,
        last_exact_step=_cdr_last_exact_step,
        within_reach=lambda s: cycles_within_reach(s.first_decay_steps, s.t_mul),
    ),
    Spec(
        "WarmupCosineRestarts",
        reference=reference_warmup_cosine_restarts,
        examples=(
            dict(
                max_lr=1.0,
                first_cycle_steps=10,
                cycle_mult=2.0,
                warmup_steps=3,
                min_lr=0.1,
                gamma=0.8,
            ),
            dict(max_lr=0.5, first_cycle_steps=7, warmup_steps=2, scale_warmup=False),
            dict(max_lr=1.0, first_cycle_steps=4, cycle_mult=1.5, warmup_steps=1),
            # the blog recipe's own example (multi=0.25, total_step=20, warmup_step=5)
            dict(
                max_lr=0.01,
                first_cycle_steps=20,
                cycle_mult=1.25,
                warmup_steps=5,
                min_lr=1e-6,
                whole_cycles=True,
            ),
            dict(
                max_lr=1.0,
                first_cycle_steps=7,
                cycle_mult=1.5,
                warmup_steps=3,
                gamma=0.9,
                scale_warmup=False,
                whole_cycles=True,
            ),
        ),
        params={
            "max_lr": POSITIVE_RATE,
            "first_cycle_steps": COUNT,
            "cycle_mult": MULT,
            "warmup_steps": NONNEG_COUNT,
            "min_lr": RATE,
            "gamma": OPEN_UNIT,
            "scale_warmup": FLAG,
            "whole_cycles": FLAG,
        },
        valid=_wcr_valid(),
        invalid=(_wcr_invalid,),
        cases=(
            Case("WarmupCosineRestarts", "min_lr", 1.01, ValueError),  # max_lr=1.0
            Case("WarmupCosineRestarts", "warmup_steps", 10, ValueError),  # == first_cycle_steps
            Case("WarmupCosineRestarts", "warmup_steps", 11, ValueError),
            Case(
                "WarmupCosineRestarts",
                "first_cycle_steps",
                3,
                ValueError,
                name="warmup_steps",
                received=3,
            ),
            # whole cycles of 1.001: over 30,000 start below 2**63 (first_cycle_steps=20)
            Case("WarmupCosineRestarts", "cycle_mult", 1.001, ValueError, base=3),
            Case("WarmupCosineRestarts", "cycle_mult", 1.0 + 2**-52, ValueError, base=3),
        ),
        # min_lr + (max_lr - min_lr) * gamma**k * [0, 1] with gamma <= 1
        bounds=lambda s: (s.min_lr, s.max_lr),
        phases=_wcr_phases,
        int_rates=dict(
            max_lr=1, first_cycle_steps=10, cycle_mult=2, warmup_steps=2, min_lr=0, gamma=1
        ),
        step_change=_wcr_step_change,
        within_reach=_wcr_within_reach,
    ),
)
