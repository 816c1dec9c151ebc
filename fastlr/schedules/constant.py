"""Constant learning rate."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr.schedules._base import Schedule, register


@register
class Constant(Schedule):
    """A constant learning rate, as a schedule (handy inside composites and for baselines).

    Formula: ``lr(step) = learning_rate``.

    Args:
        learning_rate: the value, >= 0.

    Example:
        >>> from fastlr import Constant
        >>> Constant(0.01).evaluate([0, 10**9], dtype="float64").tolist()
        [0.01, 0.01]
    """

    def __init__(self, learning_rate: float) -> None:
        super().__init__(learning_rate=v.rate("learning_rate", learning_rate))

    @staticmethod
    def formula(step, learning_rate):
        return learning_rate
