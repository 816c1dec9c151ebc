"""Spec of :class:`fastlr.ExponentialDecay` (Keras's parameters and semantics)."""

from __future__ import annotations

import math
from fractions import Fraction

from specs import Spec
from specs._kinds import FLAG, KERAS_STEPS, NAME, OPEN_UNIT, RATE
from specs._oracle import as_step, exact
from specs._phases import multiples


def reference_exponential_decay(
    step, *, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None
):
    """Keras: ``initial * decay_rate ** (step / decay_steps)`` (``floor`` of it if staircase)."""
    p = Fraction(as_step(step)) / exact(decay_steps)
    if staircase:
        p = Fraction(math.floor(p))
    return initial_learning_rate * math.pow(decay_rate, float(p))


def _step_change(s, b: int) -> float | None:
    """Without staircase: ``|d/dt initial * rate**(t / d)| <= initial * -ln(rate) / d``."""
    if s.staircase:
        return None
    return s.initial_learning_rate * -math.log(s.decay_rate) / s.decay_steps


SPECS = (
    Spec(
        "ExponentialDecay",
        reference=reference_exponential_decay,
        examples=(
            dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5),
            dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9, staircase=True),
        ),
        keras_parity=(
            dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.96),
            dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.96, staircase=True),
            dict(initial_learning_rate=1.0, decay_steps=1e3, decay_rate=0.5),
            dict(initial_learning_rate=0.05, decay_steps=12.5, decay_rate=0.9),
            dict(initial_learning_rate=0.05, decay_steps=12.5, decay_rate=0.9, staircase=True),
            dict(
                initial_learning_rate=2.0,
                decay_steps=7,
                decay_rate=0.97,
                staircase=True,
                name="exp",
            ),
        ),
        params={
            "initial_learning_rate": RATE,
            "decay_steps": KERAS_STEPS,
            "decay_rate": OPEN_UNIT,
            "staircase": FLAG,
            "name": NAME,
        },
        # decay_rate <= 1: from initial_learning_rate down towards 0 (never below)
        bounds=lambda s: (0.0, s.initial_learning_rate),
        phases=lambda s, near: multiples(s.decay_steps, near),
        int_rates=dict(initial_learning_rate=1, decay_steps=100, decay_rate=1),
        decays_from=lambda s: 0,
        step_change=_step_change,
    ),
)
