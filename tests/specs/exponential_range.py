"""Spec of :class:`fastlr.ExponentialRange` (the LR range test's geometric ramp)."""

from __future__ import annotations

import decimal
import math
from decimal import Decimal

from specs import Spec
from specs._kinds import COUNT, POSITIVE_RATE
from specs._oracle import as_step


def reference_exponential_range(step, *, start_lr, end_lr, num_steps):
    """``start * (end / start) ** (min(step, N) / N)`` (LR range test ramp), ``end`` from ``N``."""
    t = min(as_step(step), num_steps)
    if t >= num_steps:
        return float(end_lr)
    # In 50-digit decimal logs, ``exp((1 - p) ln start + p ln end)``: the ratio of two valid
    # rates may overflow (5e-324 to 1e4), and the power of a rounded ratio would not be exact.
    with decimal.localcontext(prec=50):
        p = Decimal(t) / Decimal(num_steps)
        return float(((1 - p) * Decimal(start_lr).ln() + p * Decimal(end_lr).ln()).exp())


def _step_change(s, b: int) -> float:
    """``|d/dt start * (end / start)**(t / N)| <= max(start, end) * |ln(end / start)| / N``."""
    # (the logs apart: the ratio of two valid rates may overflow or underflow)
    return max(s.start_lr, s.end_lr) * abs(math.log(s.end_lr) - math.log(s.start_lr)) / s.num_steps


SPECS = (
    Spec(
        "ExponentialRange",
        reference=reference_exponential_range,
        examples=(
            dict(start_lr=1e-4, end_lr=1.0, num_steps=50),
            dict(start_lr=1.0, end_lr=1e-3, num_steps=7),
        ),
        params={"start_lr": POSITIVE_RATE, "end_lr": POSITIVE_RATE, "num_steps": COUNT},
        # the geometric ramp between its two ends
        bounds=lambda s: (min(s.start_lr, s.end_lr), max(s.start_lr, s.end_lr)),
        phases=lambda s, near: (s.num_steps,),
        int_rates=dict(start_lr=1, end_lr=100, num_steps=10),
        final=lambda s: (s.num_steps, s.end_lr),
        decays_from=lambda s: 0 if s.end_lr <= s.start_lr else None,
        step_change=_step_change,
    ),
)
