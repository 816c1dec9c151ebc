"""Spec of :class:`fastlr.WarmupCosineDecay` (linear warmup, hold, cosine decay)."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import strategies as st

from specs import Case, Spec
from specs._kinds import (
    COUNT,
    NONNEG_COUNT,
    POSITIVE,
    RATE,
    below,
    counts,
    min_above_peak_or_too_long,
    rates,
)
from specs._oracle import as_step, half_cos, lerp
from specs._phases import warmup_decay_change


def reference_warmup_cosine_decay(
    step,
    *,
    target_lr,
    total_steps,
    warmup_steps=0,
    hold_steps=0,
    start_lr=0.0,
    min_lr=0.0,
    exponent=1.0,
):
    """Linear warmup from ``start_lr``, hold at ``target_lr``, cosine (to the power
    ``exponent``) to ``min_lr`` at ``T``."""
    t = min(as_step(step), total_steps)
    w, h, total = warmup_steps, hold_steps, total_steps
    if t < w:
        return lerp(start_lr, target_lr, Fraction(t, w))
    if t < w + h:
        return float(target_lr)
    if t >= total:  # documented: exactly min_lr at T and afterwards
        return float(min_lr)
    x = Fraction(t - w - h, total - w - h)
    return min_lr + (target_lr - min_lr) * half_cos(x) ** exponent


@st.composite
def _valid(draw) -> dict:
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
        **draw(st.fixed_dictionaries({}, optional=dict(exponent=POSITIVE.good))),
    )


def _step_change(s, b: int) -> float | None:
    w, h, t = s.warmup_steps, s.hold_steps, s.total_steps
    amp = s.target_lr - s.min_lr
    decay = (w + h, t, "cos", amp) if s.exponent == 1 else (w + h, t, "cospow", amp, s.exponent)
    return warmup_decay_change(b, w, abs(s.target_lr - s.start_lr), decay)


SPECS = (
    Spec(
        "WarmupCosineDecay",
        reference=reference_warmup_cosine_decay,
        examples=(
            dict(
                target_lr=0.1,
                total_steps=100,
                warmup_steps=10,
                hold_steps=5,
                start_lr=0.01,
                min_lr=0.001,
            ),
            dict(target_lr=1.0, total_steps=1000),
            dict(target_lr=0.1, total_steps=100, warmup_steps=10, min_lr=0.001, exponent=2.0),
            dict(target_lr=1.0, total_steps=37, hold_steps=3, exponent=0.3),
        ),
        params={
            "target_lr": RATE,
            "total_steps": COUNT,
            "warmup_steps": NONNEG_COUNT,
            "hold_steps": NONNEG_COUNT,
            "start_lr": RATE,
            "min_lr": RATE,
            "exponent": POSITIVE,
        },
        valid=_valid(),
        invalid=(
            min_above_peak_or_too_long(
                "WarmupCosineDecay", "target_lr", "hold_steps", "warmup_steps"
            ),
        ),
        cases=(
            Case("WarmupCosineDecay", "min_lr", 0.2, ValueError),  # target_lr=0.1
            Case("WarmupCosineDecay", "min_lr", 2, ValueError, base=1),  # target_lr=1.0
            Case("WarmupCosineDecay", "warmup_steps", 96, ValueError),  # + hold 5 > total 100
            Case("WarmupCosineDecay", "warmup_steps", 1001, ValueError, base=1),  # > total 1000
            Case(
                "WarmupCosineDecay", "hold_steps", 91, ValueError, name="warmup_steps", received=10
            ),
            Case(
                "WarmupCosineDecay", "total_steps", 14, ValueError, name="warmup_steps", received=10
            ),
        ),
        # warmup start_lr -> target_lr, hold, cosine down to min_lr <= target_lr
        bounds=lambda s: (min(s.start_lr, s.min_lr), max(s.start_lr, s.target_lr)),
        phases=lambda s, near: (s.warmup_steps, s.warmup_steps + s.hold_steps, s.total_steps),
        int_rates=dict(
            target_lr=1, total_steps=100, warmup_steps=10, start_lr=0, min_lr=0, exponent=2
        ),
        final=lambda s: (s.total_steps, s.min_lr),
        decays_from=lambda s: s.warmup_steps,
        step_change=_step_change,
    ),
)
