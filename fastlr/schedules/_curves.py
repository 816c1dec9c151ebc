"""Curve pieces shared by several formulas (written once, re-bound per engine like formulas)."""

from __future__ import annotations

import math

from fastlr._ops import formula, xp


@formula
def cycle_start(k, first, mult):
    """Start step of cycle ``k`` when cycle ``j`` lasts ``first * mult**j`` (``mult > 1``)."""
    return first * (xp.power(mult, k) - 1.0) / (mult - 1.0)


@formula
def geometric_cycle(step, first, mult):
    """``(k, start, length)`` of the cycle holding ``step``; cycle ``k`` lasts ``first*mult**k``.

    ``mult == 1``: integer division on the int64 step (exact at any step). ``mult > 1``: the closed
    form ``k = floor(log1p(step*(mult-1)/first) / log(mult))``, then corrected by one either way
    against the exactly computed cycle starts, so a step on a boundary is never misplaced.
    All three results are float64.
    """
    if mult == 1.0:
        k = xp.f(xp.floordiv(step, first))
        return k, k * first, xp.f(first)
    s = xp.f(step)
    k = xp.floor(xp.log1p(s * ((mult - 1.0) / first)) / math.log(mult))
    k = k - xp.where(s < cycle_start(k, first, mult), 1.0, 0.0)
    k = k + xp.where(s >= cycle_start(k + 1.0, first, mult), 1.0, 0.0)
    return k, cycle_start(k, first, mult), first * xp.power(mult, k)
