"""NumPy float64 engine: the reference values every other engine is tested against."""

from __future__ import annotations

from typing import Any

import numpy as np

from fastlr._ops import NumpyOps, evaluate_tree


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
