"""What a step is: the one definition shared by ``fastlr.evaluate`` and ``schedule(step)``.

A step is an optimizer iteration: a whole number ``>= 0`` and ``< 2**63`` (an int64). It may be
written as an int or as a whole-number float (``3`` or ``3.0``).

* **Host values** (Python and NumPy numbers, lists, NumPy arrays), given to
  :func:`fastlr.evaluate` as ``steps`` or to a Keras call ``schedule(step)``, are checked by
  :func:`check`: NaN, infinite, fractional, negative and ``>= 2**63`` values are refused with the
  same ``ValueError``, naming the argument and the reason.
* **Tensors** (TensorFlow, JAX, PyTorch, a Keras variable such as ``optimizer.iterations``) are
  read inside a compiled step, where nothing can raise per step. There the mapping is total, the
  same on every engine (:data:`GRAPH_MAPPING`): floats are floored, anything below 0 (``-inf``
  included) counts as 0, anything at or past 2**63 (``+inf`` included) as ``2**63 - 1``, and NaN
  as 0.

No TensorFlow, Keras or Numba here: NumPy only.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

LIMIT = 2**63
"""Steps are below this (int64)."""

RULE = "must be whole numbers >= 0 and < 2**63 (ints or whole-number floats)"
"""The requirement, as the error messages state it."""

GRAPH_MAPPING = (
    "floats floored; below 0 (and -inf) -> 0; at or past 2**63 (and +inf) -> 2**63 - 1; NaN -> 0"
)
"""How a tensor step becomes an int64 step inside a compiled graph (documented, tested)."""


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _reason(x: float) -> str:
    if math.isnan(x):
        return "NaN is not a step"
    if math.isinf(x):
        return f"{x} is not a step"
    if x < 0:
        return f"{_fmt(x)} is negative"
    if x != math.floor(x):
        return f"{x!r} is fractional"
    return f"{_fmt(x)} is not below 2**63"


def _int_reason(x: int) -> str:
    return f"{x} is negative" if x < 0 else f"{x} is not below 2**63"


def _fmt(x: Any) -> str:
    return repr(int(x)) if float(x).is_integer() else repr(float(x))


def _refuse(name: str, value: Any, reason: str) -> None:
    raise ValueError(f"Argument `{name}` {RULE}: {reason}. Received: {name}={_short(value)}")


def check(name: str, value: Any) -> np.ndarray:
    """``value`` (a host number, list or array of steps) as an int64 array of the same shape.

    Raises:
        ValueError: naming ``name``, for a NaN, infinite, fractional, negative or too large step
            (the first one found), or a value that holds no numbers.
        TypeError: a bool, a string or another non-numeric value.
    """
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"Argument `{name}` must be a number, not a bool. Received: {name}={value}")
    if isinstance(value, numbers.Integral):  # a Python int may exceed int64
        if value < 0 or value >= LIMIT:
            _refuse(name, value, _int_reason(int(value)))
        return np.asarray(int(value), np.int64)
    try:
        arr = np.asarray(value)
    except (OverflowError, ValueError) as e:  # ragged lists
        raise ValueError(f"Argument `{name}` {RULE}. Received: {name}={_short(value)}") from e
    if arr.dtype == object:
        items = arr.ravel().tolist()
        if all(isinstance(x, numbers.Integral) and not isinstance(x, bool) for x in items):
            for x in items:  # Python ints past int64
                if x < 0 or x >= LIMIT:
                    _refuse(name, value, _int_reason(x))
            return np.asarray([int(x) for x in items], np.int64).reshape(arr.shape)
        raise TypeError(f"Argument `{name}` must hold numbers. Received: {name}={_short(value)}")
    kind = arr.dtype.kind
    if kind == "b" or kind not in "iuf":
        raise TypeError(
            f"Argument `{name}` must hold integers or whole-number floats. Received: {name}="
            f"{_short(value)} (dtype {arr.dtype})"
        )
    if arr.size == 0:
        return arr.astype(np.int64)
    if kind == "u":
        if arr.max() >= LIMIT:
            _refuse(name, value, f"{int(arr.max())} is not below 2**63")
        return arr.astype(np.int64)
    if kind == "i":
        low = arr.min()
        if low < 0:
            _refuse(name, value, f"{int(low)} is negative")
        return arr.astype(np.int64, copy=False)
    x = arr.astype(np.float64, copy=False)
    bad = ~np.isfinite(x) | (x < 0) | (x >= 2.0**63) | (np.floor(x) != x)
    if bad.any():
        first = float(x.ravel()[int(np.argmax(bad.ravel()))])
        _refuse(name, value, _reason(first))
    return x.astype(np.int64)
