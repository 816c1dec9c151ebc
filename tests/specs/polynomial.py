"""Spec of :class:`fastlr.PolynomialDecay` (Keras's parameters and semantics)."""

from __future__ import annotations

import math
from fractions import Fraction

from specs import Spec
from specs._kinds import FLAG, KERAS_STEPS, NAME, POSITIVE, RATE
from specs._oracle import as_step, exact
from specs._phases import multiples, pieces_change


def reference_polynomial_decay(
    step,
    *,
    initial_learning_rate,
    decay_steps,
    end_learning_rate=0.0001,
    power=1.0,
    cycle=False,
    name=None,
):
    """Keras: ``(initial - end) * (1 - p) ** power + end``, ``p = step / decay_steps``.

    ``cycle=True``: ``decay_steps *= 1 if step == 0 else ceil(step / decay_steps)`` (no clamp);
    otherwise ``step = min(step, decay_steps)``.
    """
    s = Fraction(as_step(step))
    d = exact(decay_steps)
    if cycle:
        multiplier = 1 if s == 0 else math.ceil(s / d)
        d = d * multiplier
    else:
        s = min(s, d)
    p = s / d
    return (initial_learning_rate - end_learning_rate) * math.pow(
        float(1 - p), power
    ) + end_learning_rate


def _step_change(s, b: int) -> float | None:
    if s.cycle:
        return None  # each cycle restarts from initial_learning_rate: a jump
    amp = abs(s.initial_learning_rate - s.end_learning_rate)
    return pieces_change([(0, s.decay_steps, "pow", amp, s.power)], b)


SPECS = (
    Spec(
        "PolynomialDecay",
        reference=reference_polynomial_decay,
        examples=(
            dict(initial_learning_rate=0.1, decay_steps=100),
            dict(
                initial_learning_rate=0.1,
                decay_steps=7,
                end_learning_rate=0.01,
                power=2.0,
                cycle=True,
            ),
        ),
        keras_parity=(
            dict(initial_learning_rate=0.1, decay_steps=1000),
            dict(initial_learning_rate=0.1, decay_steps=300, end_learning_rate=0.001, power=2.0),
            dict(
                initial_learning_rate=0.1,
                decay_steps=300,
                end_learning_rate=0.01,
                power=0.5,
                cycle=True,
            ),
            dict(
                initial_learning_rate=0.1,
                decay_steps=7,
                end_learning_rate=0.0,
                power=3.0,
                cycle=True,
            ),
            dict(
                initial_learning_rate=1.0,
                decay_steps=12.5,
                end_learning_rate=0.1,
                power=1.5,
                cycle=True,
            ),
            dict(initial_learning_rate=0.1, decay_steps=1e3, cycle=True),
            dict(initial_learning_rate=0.5, decay_steps=12.5, end_learning_rate=0.05),
        ),
        params={
            "initial_learning_rate": RATE,
            "decay_steps": KERAS_STEPS,
            "end_learning_rate": RATE,
            "power": POSITIVE,
            "cycle": FLAG,
            "name": NAME,
        },
        # (initial - end) * (1 - p)**power + end with 0 <= 1 - p <= 1: between the two
        bounds=lambda s: (
            min(s.initial_learning_rate, s.end_learning_rate),
            max(s.initial_learning_rate, s.end_learning_rate),
        ),
        phases=lambda s, near: multiples(s.decay_steps, near),
        int_rates=dict(initial_learning_rate=1, decay_steps=100, end_learning_rate=0, power=2),
        final=lambda s: None if s.cycle else (s.decay_steps, s.end_learning_rate),
        decays_from=lambda s: (
            0 if not s.cycle and s.initial_learning_rate >= s.end_learning_rate else None
        ),
        step_change=_step_change,
    ),
)
