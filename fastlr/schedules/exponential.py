"""Keras's ExponentialDecay, exact at any step."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import exp_segment, exp_small, exp_span


@register
class ExponentialDecay(Schedule):
    """Drop-in for ``keras.optimizers.schedules.ExponentialDecay`` (same parameters and values).

    Formula: ``lr(step) = initial_learning_rate * decay_rate ** p`` with ``p = step / decay_steps``,
    or ``p = floor(step / decay_steps)`` (integer division) when ``staircase=True``. Without the
    staircase it is computed as ``exp(c * step)`` with ``c = log(decay_rate) / decay_steps`` in
    segments of steps (:func:`~fastlr.schedules._curves.exp_segment`): one ``exp`` per segment
    and a short polynomial per step where the steps form a range.

    Args:
        initial_learning_rate: value at step 0, >= 0.
        decay_steps: > 0 (int, or float as Keras allows: >= 2**-53).
        decay_rate: in ``(0, 1]`` (growth past 1 would overflow; use ``ExponentialRange``).
        staircase: decay in discrete intervals.
        name: Keras's op name, kept for config compatibility.

    Example:
        >>> from fastlr import ExponentialDecay
        >>> s = ExponentialDecay(0.1, decay_steps=100, decay_rate=0.5)
        >>> s.evaluate([0, 100, 150, 200], dtype="float64").round(6).tolist()
        [0.1, 0.05, 0.035355, 0.025]
    """

    config_only = ("name",)
    static = ("staircase",)

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | float,
        decay_rate: float,
        staircase: bool = False,
        name: str = "ExponentialDecay",
    ) -> None:
        super().__init__(
            initial_learning_rate=v.rate("initial_learning_rate", initial_learning_rate),
            decay_steps=v.steps_like("decay_steps", decay_steps, gt=0),
            decay_rate=v.real("decay_rate", decay_rate, gt=0, le=1),
            staircase=v.flag("staircase", staircase),
            name=v.text("name", name),
        )

    def phases(self) -> dict[str, int]:
        return {"first drop": math.ceil(self.decay_steps)} if self.staircase else {}

    def formula_args(self) -> tuple:
        p = self._params
        c = math.log(p["decay_rate"]) / p["decay_steps"]
        return (*super().formula_args(), c, exp_span(c))

    @staticmethod
    def segment(step, initial_learning_rate, decay_steps, decay_rate, staircase, c, span):
        if staircase:  # a segment of one step: the stair's power computed per step
            p = xp.f(xp.floordiv(step, decay_steps))
            return step, step, initial_learning_rate * xp.power(decay_rate, p)
        last, b, e = exp_segment(step, 0.0, c, span)
        return last, b, initial_learning_rate * e

    @staticmethod
    def inside(step, seg, initial_learning_rate, decay_steps, decay_rate, staircase, c, span):
        _, b, scale = seg
        if staircase:
            return scale
        return scale * exp_small(xp.f(step - b) * c)
