"""Spec of :class:`fastlr.InverseTimeDecay` (Keras's parameters and semantics)."""

from __future__ import annotations

import math
from fractions import Fraction

from specs import Spec
from specs._kinds import FLAG, KERAS_STEPS, NAME, NONNEG, RATE
from specs._oracle import as_step, exact
from specs._phases import multiples


def reference_inverse_time_decay(
    step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None
):
    """Keras: ``initial / (1 + decay_rate * step / decay_steps)`` (``floor`` if staircase)."""
    p = Fraction(as_step(step)) / exact(decay_steps)
    if staircase:
        p = Fraction(math.floor(p))
    return initial_learning_rate / float(1 + exact(decay_rate) * p)


def _step_change(s, b: int) -> float | None:
    """Without staircase: ``|d/dt initial / (1 + rate * t / d)| <= initial * rate / d``."""
    if s.staircase:
        return None
    return s.initial_learning_rate * s.decay_rate / s.decay_steps


SPECS = (
    Spec(
        "InverseTimeDecay",
        reference=reference_inverse_time_decay,
        examples=(
            dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=1.0),
            dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True),
        ),
        keras_parity=(
            dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5),
            dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.5, staircase=True),
            dict(initial_learning_rate=1.0, decay_steps=12.5, decay_rate=2.0),
            dict(initial_learning_rate=1.0, decay_steps=1e3, decay_rate=1.0, staircase=True),
            dict(initial_learning_rate=0.3, decay_steps=12.5, decay_rate=0.25, staircase=True),
        ),
        params={
            "initial_learning_rate": RATE,
            "decay_steps": KERAS_STEPS,
            "decay_rate": NONNEG,
            "staircase": FLAG,
            "name": NAME,
        },
        # decay_rate >= 0: initial / (1 + rate * p) in (0, initial]
        bounds=lambda s: (0.0, s.initial_learning_rate),
        phases=lambda s, near: multiples(s.decay_steps, near),
        int_rates=dict(initial_learning_rate=1, decay_steps=10, decay_rate=2),
        decays_from=lambda s: 0,
        step_change=_step_change,
    ),
)
