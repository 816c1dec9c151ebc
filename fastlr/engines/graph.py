"""TensorFlow graph engine: how a formula runs inside ``model.fit`` and ``tf.function``.

* The step (a checked host value, an int/uint/float tensor or a Keras variable, any shape)
  becomes int64; tensor float steps are floored, steps below 0 (and -inf) count as 0, steps at
  or past 2**63 (uint64, float, +inf) count as 2**63 - 1 (the schedule holds there, as after any
  end: no wrap-around to a negative step), NaN counts as 0 (:data:`fastlr._steps.GRAPH_MAPPING`).
* Phase arithmetic runs on int64, the rest in float64 (one trace for every step value, no ``cond``,
  XLA-compilable); the result is rounded once to float32 and has the step's shape.
"""

from __future__ import annotations

import math
from typing import Any

import tensorflow as tf

_F64 = tf.float64
_I64 = tf.int64
_I64_MAX = 2**63 - 1


def _const(x: Any, dtype=None):
    if isinstance(x, (tf.Tensor, tf.Variable)):
        return x
    if dtype is None:
        dtype = tf.bool if isinstance(x, bool) else _I64 if isinstance(x, int) else _F64
    return tf.constant(x, dtype=dtype)


def _pair(a: Any, b: Any):
    """Convert Python numbers to tensors of the partner's dtype (float64/int64 by default)."""
    ta, tb = isinstance(a, (tf.Tensor, tf.Variable)), isinstance(b, (tf.Tensor, tf.Variable))
    if ta and tb:
        if a.dtype != b.dtype:
            a, b = tf.cast(a, _F64), tf.cast(b, _F64)
        return a, b
    if ta:
        if isinstance(b, float) and not a.dtype.is_floating:
            a = tf.cast(a, _F64)
        return a, _const(b, a.dtype)
    if tb:
        if isinstance(a, float) and not b.dtype.is_floating:
            b = tf.cast(b, _F64)
        return _const(a, b.dtype), b
    dtype = _F64 if isinstance(a, float) or isinstance(b, float) else None
    return _const(a, dtype), _const(b, dtype)


def _f(x):
    return tf.cast(x, _F64) if isinstance(x, (tf.Tensor, tf.Variable)) else tf.constant(x, _F64)


class TensorFlowOps:
    """The formula vocabulary on TensorFlow ops (float64 math, int64 phases)."""

    name = "tensorflow"
    f = staticmethod(_f)

    @staticmethod
    def where(c, a, b):
        a, b = _pair(a, b)
        return tf.where(_const(c), a, b)

    @staticmethod
    def minimum(a, b):
        return tf.minimum(*_pair(a, b))

    @staticmethod
    def maximum(a, b):
        return tf.maximum(*_pair(a, b))

    @staticmethod
    def floor(x):
        return tf.floor(_f(x))

    @staticmethod
    def cos(x):
        return tf.cos(_f(x))

    @staticmethod
    def exp(x):
        return tf.exp(_f(x))

    @staticmethod
    def log(x):
        return tf.math.log(_f(x))

    @staticmethod
    def log1p(x):
        return tf.math.log1p(_f(x))

    @staticmethod
    def sqrt(x):
        return tf.sqrt(_f(x))

    @staticmethod
    def power(a, b):
        return tf.pow(_f(a), _f(b))

    @staticmethod
    def floordiv(a, b):
        a, b = _pair(a, b)
        if not a.dtype.is_floating:
            return tf.math.floordiv(a, b)
        # TF's float floordiv is floor(a / b), wrong when the quotient rounds up to a whole number
        # (near 2**53). floormod is exact (fmod), so (a - r) / b is the quotient to within
        # rounding, and round() makes it the exact floor.
        return tf.round((a - tf.math.floormod(a, b)) / b)

    @staticmethod
    def ceildiv(a, b):
        return -TensorFlowOps.floordiv(-a, b)

    @staticmethod
    def cos_remaining(r):
        s = tf.sin(_f(r) * (0.5 * math.pi))
        return s * s

    @staticmethod
    def count_less(boundaries, x):
        # Unrolled compare-and-count: XLA-safe (no searchsorted kernel needed), any shape.
        # Integer boundaries compare with the int64 step exactly; others in float64.
        whole = all(isinstance(b, int) for b in boundaries) and x.dtype.is_integer
        xv = x if whole else _f(x)
        total = tf.zeros_like(xv, dtype=_I64)
        for b in boundaries:
            total += tf.cast(xv > tf.constant(b, xv.dtype), _I64)
        return total

    @staticmethod
    def take(values, idx):
        return tf.gather(tf.constant(values, _F64), idx)

    @staticmethod
    def div(a, b):
        return _f(a) / _f(b)

    @staticmethod
    def ldexp(x, k):
        # 2**k from exponent bits, in two halves so every factor is a normal number: exact,
        # where tf.pow(2.0, k) under XLA may not be.
        k = tf.clip_by_value(tf.cast(k, _I64), -2044, 2046)
        half = tf.bitwise.right_shift(k, tf.constant(1, _I64))
        y = _f(x)
        for part in (half, k - half):
            bits = tf.bitwise.left_shift(part + 1023, tf.constant(52, _I64))
            y = y * tf.bitcast(bits, _F64)
        return y

    @staticmethod
    def ilog2(n):
        n = tf.cast(n, _I64)
        # float(n) may round up to the next power of two: the shift tells
        bits = tf.bitcast(tf.cast(n, _F64), _I64)
        e = tf.bitwise.right_shift(bits, tf.constant(52, _I64)) - 1023
        return e - tf.cast(tf.equal(tf.bitwise.right_shift(n, e), 0), _I64)

    @staticmethod
    def iexp2(k):
        k = tf.cast(k, _I64)
        return tf.bitwise.left_shift(tf.ones_like(k), k)


def as_step(step: Any) -> tf.Tensor:
    """Any step input -> int64 tensor in ``[0, 2**63 - 1]`` of the same shape.

    A tensor (or Keras variable) step is mapped totally, as on every engine
    (:data:`fastlr._steps.GRAPH_MAPPING`): floats floored, below 0 and -inf -> 0, at or past
    2**63 and +inf -> 2**63 - 1, NaN -> 0. Out-of-range steps saturate explicitly: a plain cast
    would wrap a uint64 step >= 2**63 to a negative one (read as step 0), and casting a float
    step >= 2**63 or NaN is undefined (step 0 on the CPU, 2**63 - 1 under XLA). Host values
    (Python/NumPy) have already been checked by :func:`fastlr._steps.check` in
    :func:`fastlr.engines.backends.call`.
    """
    if not isinstance(step, (tf.Tensor, tf.Variable)):
        if hasattr(step, "value") and hasattr(step, "dtype") and hasattr(step, "assign"):
            step = tf.convert_to_tensor(step)  # Keras variable (optimizer.iterations)
        else:
            import numpy as np

            arr = np.asarray(step)
            if arr.dtype == object or arr.dtype.kind not in "iuf":
                raise TypeError(
                    "Argument `step` must be an integer (or float) scalar, array or tensor. "
                    f"Received: step={step!r}"
                )
            step = tf.constant(arr)
    if step.dtype.is_floating:
        step = tf.floor(tf.cast(step, _F64))
        big = step >= 2.0**63
        inside = tf.logical_and(step >= 0.0, tf.logical_not(big))  # False for NaN
        step = tf.where(
            big,
            tf.constant(_I64_MAX, _I64),
            tf.cast(tf.where(inside, step, tf.zeros_like(step)), _I64),
        )
    elif step.dtype == tf.bool or not step.dtype.is_integer:
        raise TypeError(f"Argument `step` must be numeric. Received: step with dtype {step.dtype}")
    elif step.dtype == tf.uint64:
        step = tf.minimum(step, tf.constant(_I64_MAX, tf.uint64))
    return tf.maximum(tf.cast(step, _I64), tf.constant(0, _I64))


def call(schedule: Any, step: Any, dtype: Any = tf.float32) -> tf.Tensor:
    """Evaluate ``schedule`` at ``step`` in the graph; returns ``dtype`` of ``step``'s shape."""
    s = as_step(step)
    from fastlr.engines._structure import evaluate_tree

    with tf.name_scope(type(schedule).__name__):
        y = evaluate_tree(schedule, TensorFlowOps, s)
        y = tf.cast(_f(y) if not isinstance(y, tf.Tensor) else y, _F64)
        return tf.broadcast_to(tf.cast(y, dtype), tf.shape(s))
