"""Argument checks with Keras-style messages.

Every check names the parameter and the value received, e.g.
``Argument `total_steps` must be > 0. Received: total_steps=0``. Checks return the normalized
value (Python ``int``/``float``/``bool``/``tuple``) so schedules store plain, serializable numbers.
"""

from __future__ import annotations

import itertools
import math
import numbers
from collections.abc import Sequence
from typing import Any

import numpy as np


def _received(name: str, value: Any) -> str:
    return f"Received: {name}={value!r}"


def fail(name: str, requirement: str, value: Any, exc: type[Exception] = ValueError) -> None:
    """Raise ``exc`` with the Keras-style message for parameter ``name``."""
    raise exc(f"Argument `{name}` {requirement}. {_received(name, value)}")


def _bounds(name: str, x: float, original: Any, gt, ge, lt, le) -> None:
    if gt is not None and not x > gt:
        fail(name, f"must be > {gt}", original)
    if ge is not None and not x >= ge:
        fail(name, f"must be >= {ge}", original)
    if lt is not None and not x < lt:
        fail(name, f"must be < {lt}", original)
    if le is not None and not x <= le:
        fail(name, f"must be <= {le}", original)


def real(name: str, value: Any, *, gt=None, ge=None, lt=None, le=None) -> float:
    """A finite real number (ints accepted, bools and strings refused) -> ``float``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        fail(name, "must be a real number", value, TypeError)
    x = float(value)
    if not math.isfinite(x):
        fail(name, "must be finite", value)
    _bounds(name, x, value, gt, ge, lt, le)
    return x


def rate(name: str, value: Any, *, positive: bool = False) -> float:
    """A learning rate: finite and >= 0 (> 0 with ``positive=True``)."""
    return real(name, value, gt=0 if positive else None, ge=None if positive else 0)


def integer(name: str, value: Any, *, gt=None, ge=None, lt=None, le=None) -> int:
    """An integer (Python or NumPy int; bools and floats refused) -> ``int``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(name, "must be an integer", value, TypeError)
    x = int(value)
    _bounds(name, x, value, gt, ge, lt, le)
    if abs(x) > 2**53:
        fail(name, "must be at most 2**53 in magnitude", value)
    return x


def whole(name: str, value: Any, *, gt=None, ge=None, lt=None, le=None) -> int:
    """An integer, or a float with a whole-number value (``step_size=128.0``, as the
    keras-contrib callbacks pass it) -> ``int``; other floats (``128.5``, NaN, inf) are refused
    as :func:`integer` refuses them."""
    if isinstance(value, numbers.Real) and not isinstance(value, (bool, numbers.Integral)):
        x = float(value)
        if not x.is_integer():
            fail(name, "must be an integer", value, TypeError)
        _bounds(name, x, value, gt, ge, lt, le)
        if abs(x) > 2**53:
            fail(name, "must be at most 2**53 in magnitude", value)
        return int(x)
    return integer(name, value, gt=gt, ge=ge, lt=lt, le=le)


MIN_LENGTH = 2.0**-53
"""The shortest float length (``decay_steps > 0``) accepted: shorter ones overflow float64 in
``step / decay_steps`` or the restart cycle arithmetic at large steps (NaN, or OverflowError)."""


def steps_like(name: str, value: Any, *, gt=None, ge=None) -> int | float:
    """A step count that Keras accepts as int or float (``decay_steps=1e5``).

    Integral values become ``int`` so phase arithmetic stays exact; others stay ``float``. A
    positive length (``gt=0``) given as a float must be at least :data:`MIN_LENGTH` (2**-53).
    """
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        return integer(name, value, gt=gt, ge=ge)
    x = real(name, value, gt=gt, ge=ge)
    if gt is not None and gt >= 0 and x < MIN_LENGTH:
        fail(name, "must be >= 2**-53 (a shorter length overflows `step / length`)", value)
    return int(x) if x.is_integer() and abs(x) <= 2**53 else x


def flag(name: str, value: Any) -> bool:
    """A boolean (Python or NumPy bool)."""
    if not isinstance(value, (bool, np.bool_)):
        fail(name, "must be a bool", value, TypeError)
    return bool(value)


def choice(name: str, value: Any, options: Sequence[str]) -> str:
    """One of ``options`` (strings)."""
    if not isinstance(value, str) or value not in options:
        allowed = ", ".join(repr(o) for o in options)
        fail(name, f"must be one of {allowed}", value)
    return value


def text(name: str, value: Any) -> str:
    """A string (used for Keras's ``name``)."""
    if not isinstance(value, str):
        fail(name, "must be a string", value, TypeError)
    return value


def sequence(name: str, value: Any, *, min_len: int = 0) -> tuple:
    """A list/tuple/1-D array -> ``tuple`` (strings and scalars refused)."""
    if isinstance(value, (str, bytes)) or not hasattr(value, "__len__"):
        fail(name, "must be a list or tuple", value, TypeError)
    items = tuple(value.tolist() if hasattr(value, "tolist") else value)
    if len(items) < min_len:
        fail(name, f"must have at least {min_len} element(s)", value)
    return items


def increasing(name: str, items: Sequence[float], original: Any) -> None:
    """Require strictly increasing items."""
    for a, b in itertools.pairwise(items):
        if not b > a:
            fail(name, "must be strictly increasing", original)


def require(ok: bool, name: str, requirement: str, value: Any) -> None:
    """Raise the Keras-style ``ValueError`` for ``name`` unless ``ok``."""
    if not ok:
        fail(name, requirement, value)
