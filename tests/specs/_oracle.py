"""Helpers of the independent per-step reference functions (the test oracle in each spec).

Every spec's ``reference`` is written from the *published* formula (Keras 3
``keras.optimizers.schedules``, PyTorch's ``CyclicLR`` / ``OneCycleLR``, Hugging Face's
``get_wsd_schedule`` / ``get_inverse_sqrt_schedule``, optax's ``join_schedules``, and fastlr's
documented formulas for its own schedules and composites), one Python ``int`` step at a time, with
plain ``math`` and :class:`fractions.Fraction`: the reference functions and this module import
nothing from fastlr, NumPy or TensorFlow.

Accuracy policy: every rational quantity (step / length, the position inside a cycle or phase, the
cycle index) is computed *exactly* with integers and Fractions (parameters given as floats are
taken at their exact binary value), and rounded to float64 once before a transcendental function.
The cosine bump ``(1 + cos(pi * x)) / 2`` is evaluated as ``cos(pi x / 2)**2`` or
``sin(pi (1 - x) / 2)**2`` (the same number, without cancellation next to ``x = 1``), so the
reference is accurate to a few float64 ulps in relative terms, also near zero.

Each reference takes the schedule class's constructor keywords (``reference(step,
**schedule.get_config())`` works; a ``name`` key is ignored). Steps below 0 count as 0.
Composites get their children as ``get_config()`` gives them (Keras-serialized dicts) and evaluate
each with its own reference function (:func:`child_value`), at the child's step (clamped at 0).
"""

from __future__ import annotations

import math
from fractions import Fraction


# --------------------------------------------------------------------------------------------
# helpers
# --------------------------------------------------------------------------------------------
def as_step(step) -> int:
    """Any integer-like step -> Python int >= 0 (negative steps count as 0)."""
    s = int(step)
    if s != step:
        raise ValueError(f"step must be an integer, got {step!r}")
    return max(s, 0)


def exact(x) -> Fraction:
    """The exact rational value of an int / float parameter."""
    return Fraction(x)


def half_cos(x: Fraction) -> float:
    """``(1 + cos(pi * x)) / 2`` for rational ``x`` in ``[0, 1]``, relative-accurate everywhere.

    ``cos(pi x / 2)**2`` on ``[0, 1/4]``, ``(1 - sin(pi (x - 1/2))) / 2`` on ``(1/4, 3/4)`` (exactly
    1/2 at ``x = 1/2``), ``sin(pi (1 - x) / 2)**2`` on ``[3/4, 1]``: the same number, computed
    without cancellation.
    """
    x = Fraction(x)
    if x <= 0:
        return 1.0
    if x >= 1:
        return 0.0
    if x <= Fraction(1, 4):
        c = math.cos(math.pi / 2 * float(x))
        return c * c
    if x < Fraction(3, 4):
        return (1.0 - math.sin(math.pi * float(x - Fraction(1, 2)))) / 2
    s = math.sin(math.pi / 2 * float(1 - x))
    return s * s


def lerp(a: float, b: float, frac: Fraction) -> float:
    """``a + (b - a) * frac``, linear interpolation at rational ``frac``."""
    return a + (b - a) * float(frac)


def cycle_start(k: int, first: Fraction, mult: Fraction) -> Fraction:
    """Exact start of cycle ``k`` when cycle ``j`` lasts ``first * mult**j``."""
    if mult == 1:
        return first * k
    return first * (mult**k - 1) / (mult - 1)


def cycle_of(step: int, first, mult) -> tuple[int, Fraction, Fraction]:
    """``(k, start, length)`` of the cycle holding ``step``; cycle ``j`` lasts ``first * mult**j``.

    Exact: cycle boundaries are rationals, the index is found by walking them (from a float
    estimate a couple of cycles early, so that huge steps stay cheap).
    """
    first, mult = exact(first), exact(mult)
    s = Fraction(step)
    if mult == 1:
        k = math.floor(s / first)
        return k, first * k, first
    # A float estimate, started early, then walk the exact boundaries forward.
    est = math.log1p(float(s) * float(mult - 1) / float(first)) / math.log(float(mult))
    k = max(int(est) - 2, 0)
    while k > 0 and cycle_start(k, first, mult) > s:
        k -= 1
    while cycle_start(k + 1, first, mult) <= s:
        k += 1
    start = cycle_start(k, first, mult)
    return k, start, first * mult**k


# --------------------------------------------------------------------------------------------


EXACT_BITS_LIMIT = 20_000
"""The largest exact ``mult**k`` (in bits of its numerator and denominator) :func:`cycle_of` is
asked for: a float multiplier is a Fraction with a 52-bit denominator, so its thousandth power has
about 100,000 bits, and walking cycles there costs seconds per step (see
:func:`cycles_within_reach`)."""


def cycles_within_reach(first, mult, last_step: int = 2**63 - 1) -> bool:
    """Whether :func:`cycle_of` stays cheap up to ``last_step``: equal cycles (any length), or
    ``mult**k`` at the cycle index ``k`` there below :data:`EXACT_BITS_LIMIT` bits."""
    if mult == 1:
        return True
    m = Fraction(mult)
    k = math.log1p(last_step * (float(mult) - 1) / float(first)) / math.log(float(mult))
    return k * (m.numerator.bit_length() + m.denominator.bit_length()) <= EXACT_BITS_LIMIT


def child_value(child, step: int) -> float:
    """A child schedule's reference value at ``step`` (clamped at 0).

    ``child`` is what ``get_config()`` holds for it: a Keras-serialized dict
    ``{"class_name": ..., "config": {...}, ...}`` (any object with ``get_config()`` is accepted
    too, dispatched on its class name). Its ``name`` key (Keras's) is dropped.
    """
    from specs import SPECS

    if isinstance(child, dict):
        name, config = child["class_name"], child["config"]
    else:
        name, config = type(child).__name__, child.get_config()
    config = {k: v for k, v in config.items() if k != "name"}
    return SPECS[name].reference(max(int(step), 0), **config)
