"""Keras's InverseTimeDecay, exact at any step."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class InverseTimeDecay(Schedule):
    """Drop-in for ``keras.optimizers.schedules.InverseTimeDecay`` (same parameters and values).

    Formula: ``lr(step) = initial_learning_rate / (1 + decay_rate * p)`` with
    ``p = step / decay_steps`` (``floor`` of it, by integer division, when ``staircase=True``).

    Args:
        initial_learning_rate: value at step 0, >= 0.
        decay_steps: > 0 (int, or float as Keras allows: >= 2**-53).
        decay_rate: >= 0.
        staircase: decay in discrete intervals.
        name: Keras's op name, kept for config compatibility.

    Example:
        >>> from fastlr import InverseTimeDecay
        >>> s = InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
        >>> s.evaluate([0, 10, 30, 90], dtype="float64").round(6).tolist()
        [0.1, 0.05, 0.025, 0.01]
    """

    config_only = ("name",)
    static = ("staircase",)

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "InverseTimeDecay",
    ) -> None:
        super().__init__(
            initial_learning_rate=v.rate("initial_learning_rate", initial_learning_rate),
            decay_steps=v.steps_like("decay_steps", decay_steps, gt=0),
            decay_rate=v.real("decay_rate", decay_rate, ge=0),
            staircase=v.flag("staircase", staircase),
            name=v.text("name", name),
        )

    def phases(self) -> dict[str, int]:
        return {"first drop": math.ceil(self.decay_steps)} if self.staircase else {}

    @staticmethod
    def formula(step, initial_learning_rate, decay_steps, decay_rate, staircase):
        if staircase:
            p = xp.f(xp.floordiv(step, decay_steps))
        else:
            p = xp.div(step, decay_steps)
        return initial_learning_rate / (1.0 + decay_rate * p)
