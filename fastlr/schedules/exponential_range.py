"""The exponential ramp of the LR range test."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import LAST_STEP, exp_segment, exp_small, exp_span


@register
class ExponentialRange(Schedule):
    """Exponential ramp from ``start_lr`` to ``end_lr`` over ``num_steps``, then ``end_lr``.

    Formula: ``lr(step) = start_lr * (end_lr / start_lr) ** (min(step, num_steps) / num_steps)``
    (the ramp of Smith's LR range test and fast.ai's ``lr_find``), computed as
    ``exp(log(start_lr) + c * step)`` with ``c = log(end_lr / start_lr) / num_steps`` in segments
    of steps (:func:`~fastlr.schedules._curves.exp_segment`).

    Args:
        start_lr: first value, > 0.
        end_lr: last value, > 0.
        num_steps: int > 0.

    Example:
        >>> from fastlr import ExponentialRange
        >>> s = ExponentialRange(1e-4, 1.0, num_steps=4)
        >>> s.evaluate([0, 1, 2, 4, 9], dtype="float64").round(6).tolist()
        [0.0001, 0.001, 0.01, 1.0, 1.0]
    """

    def __init__(self, start_lr: float, end_lr: float, num_steps: int) -> None:
        super().__init__(
            start_lr=v.rate("start_lr", start_lr, positive=True),
            end_lr=v.rate("end_lr", end_lr, positive=True),
            num_steps=v.integer("num_steps", num_steps, gt=0),
        )

    def formula_args(self) -> tuple:
        p = self._params
        log_start = math.log(p["start_lr"])
        # Logs of each end, not of their ratio: the ratio itself may overflow (1e300 / 1e-300).
        c = (math.log(p["end_lr"]) - log_start) / p["num_steps"]
        return (p["end_lr"], p["num_steps"], log_start, c, exp_span(c))

    def phases(self) -> dict[str, int]:
        return {"end": self.num_steps}

    @staticmethod
    def segment(step, end_lr, num_steps, log_start, c, span):
        # the ramp in segments (none past its end), then one segment from num_steps on
        last, b, e = exp_segment(step, log_start, c, span)
        ramp = step < num_steps
        return (
            xp.where(ramp, xp.minimum(last, num_steps - 1), LAST_STEP),
            xp.where(ramp, b, num_steps),
            xp.where(ramp, e, end_lr),
        )

    @staticmethod
    def inside(step, seg, end_lr, num_steps, log_start, c, span):
        _, b, scale = seg
        return xp.where(step < num_steps, scale * exp_small(xp.f(step - b) * c), scale)
