"""A schedule given as a table of values (computed anywhere, used in a compiled train step)."""

from __future__ import annotations

import math
import numbers

import numpy as np

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class Table(Schedule):
    """A schedule given as a table of values: ``lr(step) = values[min(step, len(values) - 1)]``.

    For schedules computed anywhere (a CSV, another framework, a notebook) and used in a compiled
    train step; the last value holds after the end.

    Args:
        values: a non-empty list or 1-D array of finite learning rates >= 0.

    Example:
        >>> from fastlr import Table
        >>> Table([0.1, 0.05, 0.02]).evaluate([0, 1, 2, 3, 10**9], dtype="float64").tolist()
        [0.1, 0.05, 0.02, 0.02, 0.02]
    """

    def __init__(self, values: list[float] | np.ndarray) -> None:
        if isinstance(values, np.ndarray) and values.ndim != 1:
            v.fail("values", "must be 1-D", values)
        items = v.sequence("values", values, min_len=1)
        for i, x in enumerate(items):
            if isinstance(x, bool) or not isinstance(x, numbers.Real):
                v.fail(
                    "values", f"must hold real numbers (bad values[{i}]={x!r})", values, TypeError
                )
            if not math.isfinite(x) or x < 0:
                v.fail("values", f"must hold finite rates >= 0 (bad values[{i}]={x!r})", values)
        super().__init__(values=tuple(float(x) for x in items))

    def formula_args(self) -> tuple:
        return (self.values, len(self.values))

    def __repr__(self) -> str:
        n = len(self.values)
        shown = ", ".join(repr(x) for x in self.values[:4]) + (", ..." if n > 4 else "")
        return f"Table(values=[{shown}] ({n} values))"

    def phases(self) -> dict[str, int]:
        return {"end": len(self.values) - 1}

    @staticmethod
    def formula(step, values, n):
        return xp.take(values, xp.minimum(step, n - 1))
