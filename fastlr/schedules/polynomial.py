"""Keras's PolynomialDecay (with cycles), exact at any step."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register

_ARGS = ("initial_learning_rate", "decay_steps", "end_learning_rate", "power", "cycle")
_SHAPES = {1.0: 1, 2.0: 2, 0.5: 3}
"""Powers computed without ``power`` (same correctly rounded values, as XLA special-cases)."""


@register
class PolynomialDecay(Schedule):
    """Drop-in for ``keras.optimizers.schedules.PolynomialDecay`` (same parameters and values).

    Formula: ``lr(step) = (initial - end) * (1 - p) ** power + end`` with ``p = t / D``:

    * ``cycle=False``: ``t = min(step, decay_steps)``, ``D = decay_steps``;
    * ``cycle=True``: ``t = step``, ``D = decay_steps * max(1, ceil(step / decay_steps))``
      (the ceiling by integer division, so cycles stay exact past 2**24).

    ``1 - p`` is computed as ``(D - t) / D`` to avoid cancellation near the end.

    Args:
        initial_learning_rate: value at step 0, >= 0.
        decay_steps: > 0 (int, or float as Keras allows: >= 2**-53).
        end_learning_rate: final value, >= 0.
        power: exponent, > 0.
        cycle: restart the decay every ``decay_steps`` (from an ever-longer horizon, as Keras).
        name: Keras's op name, kept for config compatibility.

    Example:
        >>> from fastlr import PolynomialDecay
        >>> s = PolynomialDecay(0.1, decay_steps=100, end_learning_rate=0.0, power=2.0)
        >>> s.evaluate([0, 50, 100, 200], dtype="float64").round(6).tolist()
        [0.1, 0.025, 0.0, 0.0]
    """

    config_only = ("name",)
    static = ("cycle", "shape", "whole")

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | float,
        end_learning_rate: float = 0.0001,
        power: float = 1.0,
        cycle: bool = False,
        name: str = "PolynomialDecay",
    ) -> None:
        super().__init__(
            initial_learning_rate=v.rate("initial_learning_rate", initial_learning_rate),
            decay_steps=v.steps_like("decay_steps", decay_steps, gt=0),
            end_learning_rate=v.rate("end_learning_rate", end_learning_rate),
            power=v.real("power", power, gt=0),
            cycle=v.flag("cycle", cycle),
            name=v.text("name", name),
        )

    def formula_args(self) -> tuple:
        p = self._params
        shape = _SHAPES.get(p["power"], 0)
        return (*(p[k] for k in _ARGS), shape, isinstance(p["decay_steps"], int))

    def phases(self) -> dict[str, int]:
        end = math.ceil(self.decay_steps)
        return {"end of cycle 1": end, "cycle 2": end + 1} if self.cycle else {"end": end}

    @staticmethod
    def formula(
        step, initial_learning_rate, decay_steps, end_learning_rate, power, cycle, shape, whole
    ):
        if cycle:
            n = xp.maximum(xp.ceildiv(step, decay_steps), 1)
            horizon = xp.f(n) * decay_steps
            if whole:  # the steps left, exact in int64 (the product may wrap, the difference not)
                left = xp.f(n * decay_steps - step)
            else:
                left = horizon - xp.f(step)
            # >= 0 even where the cycle count is past 2**53 (a float decay_steps < 1) and
            # horizon rounds below step: a negative base gives NaN powers.
            remaining = xp.maximum(left / horizon, 0.0)
        else:
            remaining = xp.div(decay_steps - xp.minimum(step, decay_steps), decay_steps)
        delta = initial_learning_rate - end_learning_rate
        if shape == 1:
            decayed = remaining
        elif shape == 2:
            decayed = remaining * remaining  # x**2 rounds like pow(x, 2)
        elif shape == 3:
            decayed = xp.sqrt(remaining)  # x**0.5 rounds like pow(x, 0.5)
        else:
            decayed = xp.power(remaining, power)
        return delta * decayed + end_learning_rate
