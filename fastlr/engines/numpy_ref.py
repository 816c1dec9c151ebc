"""NumPy float64 engine: the formulas on NumPy arrays, in float64 (the values the compiled engines
are compared with in the tests, besides the independent per-step references of ``tests/``)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from fastlr.engines._structure import evaluate_tree


class NumpyOps:
    """Float64 NumPy engine: the reference every other engine is compared against."""

    name = "numpy"

    @staticmethod
    def f(x):
        return np.asarray(x, dtype=np.float64)

    where = staticmethod(np.where)
    minimum = staticmethod(np.minimum)
    maximum = staticmethod(np.maximum)
    floor = staticmethod(np.floor)
    cos = staticmethod(np.cos)
    exp = staticmethod(np.exp)
    log = staticmethod(np.log)
    log1p = staticmethod(np.log1p)
    sqrt = staticmethod(np.sqrt)

    @staticmethod
    def power(a, b):
        return np.power(np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64))

    @staticmethod
    def floordiv(a, b):
        return np.floor_divide(a, b)

    @staticmethod
    def ceildiv(a, b):
        return -np.floor_divide(-np.asarray(a), b)

    @staticmethod
    def cos_remaining(r):
        """``(1 - cos(pi*r)) / 2`` as ``sin(pi*r/2)**2``: exact relative accuracy as ``r -> 0``."""
        s = np.sin(np.asarray(r, dtype=np.float64) * (0.5 * math.pi))
        return s * s

    @staticmethod
    def count_less(boundaries, x):
        """How many ``boundaries`` (sorted) are ``< x``."""
        return np.searchsorted(np.asarray(boundaries), x, side="left")

    @staticmethod
    def take(values, idx):
        return np.asarray(values, dtype=np.float64)[idx]

    @staticmethod
    def div(a, b):
        return np.asarray(a, dtype=np.float64) / np.asarray(b, dtype=np.float64)

    @staticmethod
    def ldexp(x, k):
        return np.ldexp(np.asarray(x, dtype=np.float64), np.clip(k, -2200, 2200).astype(np.int64))

    @staticmethod
    def ilog2(n):
        n = np.asarray(n, dtype=np.int64)
        # float(n) may round up to the next power of two: the shift tells
        e = np.frexp(n.astype(np.float64))[1].astype(np.int64) - 1
        return e - (np.right_shift(n, e) == 0)

    @staticmethod
    def iexp2(k):
        return np.left_shift(np.int64(1), np.asarray(k, dtype=np.int64))


def evaluate_into(schedule: Any, steps: np.ndarray, out: np.ndarray) -> None:
    """Write ``schedule`` at ``steps`` (int64, any values) into ``out`` (float32/float64)."""
    s = np.maximum(np.asarray(steps, dtype=np.int64), 0)
    with np.errstate(all="ignore"):  # `where` evaluates both sides; guarded sides are discarded
        y = np.asarray(evaluate_tree(schedule, NumpyOps, s), dtype=np.float64)
    out[...] = np.broadcast_to(y, s.shape)


def reference(schedule: Any, steps: Any) -> np.ndarray:
    """Float64 values of ``schedule`` at integer ``steps`` (array-like)."""
    s = np.asarray(steps, dtype=np.int64)
    out = np.empty(s.shape, dtype=np.float64)
    evaluate_into(schedule, s, out)
    return out
