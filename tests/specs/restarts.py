"""Specs of the restart schedules: :class:`fastlr.CosineDecayRestarts` (Keras's SGDR) and
:class:`fastlr.WarmupCosineRestarts` (SGDR with a warmup in every cycle)."""

from __future__ import annotations

import math

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
):
    """SGDR with a linear warmup at the start of every cycle (cycles walked exactly).

    Cycle ``k``: length ``L_k = first * mult**k``, warmup ``W_k = warmup * mult**k`` (or
    ``warmup``), amplitude ``A_k = (max_lr - min_lr) * gamma**k``; ``s`` = step in the cycle:
    ``min + A_k * s / W_k`` while ``s < W_k``, else
    ``min + A_k * (1 + cos(pi * (s - W_k) / (L_k - W_k))) / 2``.
    """
    s_abs = as_step(step)
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
    if not cycles_within_reach(first, mult, b + 1):
        return None
    k, start, length = cycle_of(b, first, mult)
    if cycle_of(b + 1, first, mult)[0] != k:
        return None  # a restart between the steps
    return pieces_change(pieces(k, start, length), b)


def _cdr_step_change(s, b: int) -> float | None:
    def pieces(k, start, length):
        amp = s.initial_learning_rate * (1 - s.alpha) * s.m_mul**k
        return [(start, start + length, "cos", amp)]

    return _cycle_change(s.first_decay_steps, s.t_mul, b, pieces)


# -- WarmupCosineRestarts --------------------------------------------------------------------------
@st.composite
def _wcr_valid(draw) -> dict:
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
def _wcr_invalid(draw) -> Invalid:
    """min_lr above max_lr, or a warmup as long as the first cycle (each value alone valid)."""
    kw = dict(draw(valid_kwargs("WarmupCosineRestarts")))
    if draw(st.booleans()):
        kw["min_lr"] = above(draw, kw["max_lr"])
        return Invalid("WarmupCosineRestarts", kw, ("min_lr",), ValueError)
    kw["warmup_steps"] = draw(st.integers(int(kw["first_cycle_steps"]), 2**53))
    return Invalid("WarmupCosineRestarts", kw, ("warmup_steps",), ValueError)


def _wcr_warmup(s, k: int, length):
    return s.warmup_steps * length / s.first_cycle_steps if s.scale_warmup else s.warmup_steps


def _wcr_step_change(s, b: int) -> float | None:
    def pieces(k, start, length):
        warm = _wcr_warmup(s, k, length)
        amp = (s.max_lr - s.min_lr) * s.gamma**k
        return [(start + warm, start + length, "cos", amp), (start, start + warm, "lin", amp)]

    return _cycle_change(s.first_cycle_steps, s.cycle_mult, b, pieces)


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
        ),
        params={
            "max_lr": POSITIVE_RATE,
            "first_cycle_steps": COUNT,
            "cycle_mult": MULT,
            "warmup_steps": NONNEG_COUNT,
            "min_lr": RATE,
            "gamma": OPEN_UNIT,
            "scale_warmup": FLAG,
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
        ),
        # min_lr + (max_lr - min_lr) * gamma**k * [0, 1] with gamma <= 1
        bounds=lambda s: (s.min_lr, s.max_lr),
        phases=lambda s, near: cycle_starts(
            s.first_cycle_steps,
            s.cycle_mult,
            near,
            lambda k, length: (_wcr_warmup(s, k, length),),
        ),
        int_rates=dict(
            max_lr=1, first_cycle_steps=10, cycle_mult=2, warmup_steps=2, min_lr=0, gamma=1
        ),
        step_change=_wcr_step_change,
        within_reach=lambda s: cycles_within_reach(s.first_cycle_steps, s.cycle_mult),
    ),
)
