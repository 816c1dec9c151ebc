"""Spec of :class:`fastlr.Constant`."""

from __future__ import annotations

from specs import Spec
from specs._kinds import RATE
from specs._oracle import as_step


def reference_constant(step, *, learning_rate, name=None):
    as_step(step)
    return float(learning_rate)


SPECS = (
    Spec(
        "Constant",
        reference=reference_constant,
        examples=(dict(learning_rate=0.01), dict(learning_rate=3)),
        params={"learning_rate": RATE},
        # lr == learning_rate
        bounds=lambda s: (s.learning_rate, s.learning_rate),
        phases=lambda s, near: (),
        int_rates=dict(learning_rate=1),
        decays_from=lambda s: 0,
        step_change=lambda s, b: 0.0,
    ),
)
