"""Spec of :class:`fastlr.InverseSqrtDecay` (Hugging Face's ``get_inverse_sqrt_schedule``)."""

from __future__ import annotations

import math
from fractions import Fraction

from specs import Spec
from specs._kinds import NONNEG_COUNT, OPTIONAL_COUNT, RATE
from specs._oracle import as_step


def reference_inverse_sqrt_decay(step, *, peak_lr, warmup_steps, timescale=None):
    """Hugging Face ``get_inverse_sqrt_schedule`` times ``peak_lr``:
    ``step / max(1, W)`` during warmup, then ``1 / sqrt((step + timescale - W) / timescale)``;
    ``timescale`` defaults to ``W or 10_000``."""
    s = as_step(step)
    if timescale is None:
        timescale = warmup_steps or 10_000
    if s < warmup_steps:
        return peak_lr * float(Fraction(s, max(1, warmup_steps)))
    shift = timescale - warmup_steps
    return peak_lr * math.sqrt(float(Fraction(timescale, s + shift)))


def _step_change(s, b: int) -> float:
    """Warmup slope ``peak / W``; then ``peak * sqrt(tau / (t + tau - W))`` falls by at most
    ``peak / (2 tau)`` per step."""
    w = s.warmup_steps
    timescale = s.timescale or w or 10_000
    return s.peak_lr * max(1 / w if w else 0.0, 1 / (2 * timescale))


SPECS = (
    Spec(
        "InverseSqrtDecay",
        reference=reference_inverse_sqrt_decay,
        examples=(
            dict(peak_lr=1.0, warmup_steps=100),
            dict(peak_lr=0.5, warmup_steps=0),
            dict(peak_lr=0.5, warmup_steps=10, timescale=40),
        ),
        params={"peak_lr": RATE, "warmup_steps": NONNEG_COUNT, "timescale": OPTIONAL_COUNT},
        # warmup 0 -> peak_lr, then peak_lr * sqrt(timescale / (>= timescale)) <= peak_lr
        bounds=lambda s: (0.0, s.peak_lr),
        phases=lambda s, near: (s.warmup_steps,),
        int_rates=dict(peak_lr=1, warmup_steps=100),
        decays_from=lambda s: s.warmup_steps,
        step_change=_step_change,
    ),
)
