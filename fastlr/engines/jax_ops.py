"""JAX engine: how a formula runs inside Keras's compiled step on the JAX backend (``jax.jit``).

The formula is traced with 64-bit types switched on for its own ops only (``jax.enable_x64`` as
a context around the trace): int64 phase arithmetic and float64 math exactly as on TensorFlow,
whatever the process's ``jax_enable_x64`` setting, and the value leaves as float32. With 64-bit
types off (JAX's default) Keras's step counter is int32, so steps are below 2**31 there.
"""

from __future__ import annotations

import math
from typing import Any

import jax
import jax.numpy as jnp
from jax import lax

_I64_MAX = 2**63 - 1


def _f(x):
    return jnp.asarray(x, dtype=jnp.float64)


def _i(x):
    return jnp.asarray(x, dtype=jnp.int64)


def _pow2(k):
    """``2.0**k`` for an int64 ``k`` in ``[-1022, 1023]``, from exponent bits (exact)."""
    return lax.bitcast_convert_type(jnp.left_shift(k + 1023, 52), jnp.float64)


class JaxOps:
    """The formula vocabulary on ``jax.numpy`` (float64 math, int64 phases)."""

    name = "jax"
    f = staticmethod(_f)

    @staticmethod
    def where(c, a, b):
        return jnp.where(c, a, b)

    minimum = staticmethod(jnp.minimum)
    maximum = staticmethod(jnp.maximum)

    @staticmethod
    def floor(x):
        return jnp.floor(_f(x))

    @staticmethod
    def cos(x):
        return jnp.cos(_f(x))

    @staticmethod
    def exp(x):
        return jnp.exp(_f(x))

    @staticmethod
    def log(x):
        return jnp.log(_f(x))

    @staticmethod
    def log1p(x):
        # XLA's own float64 log1p is off by ~100 ulps on the CPU near x = -0.4: log(u) * x / (u - 1)
        # with u = 1 + x is within a few ulps (Goldberg), exact where u - 1 == 0 (then x).
        x = _f(x)
        u = 1.0 + x
        d = u - 1.0
        ratio = jnp.where(d == 0.0, 1.0, x / jnp.where(d == 0.0, 1.0, d))
        y = jnp.where(d == 0.0, x, jnp.log(u) * ratio)
        return jnp.where(jnp.isinf(u), u, y)

    @staticmethod
    def sqrt(x):
        return jnp.sqrt(_f(x))

    @staticmethod
    def power(a, b):
        return jnp.power(_f(a), _f(b))

    @staticmethod
    def floordiv(a, b):
        # integers: exact; floats: NumPy's fmod-corrected floor division (exact quotient floor)
        return jnp.floor_divide(a, b)

    @staticmethod
    def ceildiv(a, b):
        return -jnp.floor_divide(-jnp.asarray(a), b)

    @staticmethod
    def cos_remaining(r):
        s = jnp.sin(_f(r) * (0.5 * math.pi))
        return s * s

    @staticmethod
    def count_less(boundaries, x):
        # Unrolled compare-and-count; integer boundaries compare with the int64 step exactly.
        whole = all(isinstance(b, int) for b in boundaries) and jnp.issubdtype(
            jnp.asarray(x).dtype, jnp.integer
        )
        xv = _i(x) if whole else _f(x)
        total = jnp.zeros(jnp.shape(xv), dtype=jnp.int64)
        for b in boundaries:
            total = total + (xv > b).astype(jnp.int64)
        return total

    @staticmethod
    def take(values, idx):
        return jnp.asarray(values, dtype=jnp.float64)[idx]

    @staticmethod
    def div(a, b):
        return _f(a) / _f(b)

    @staticmethod
    def ldexp(x, k):
        # two halves, so every factor is a normal number: exact where the result is normal
        k = jnp.clip(_i(k), -2044, 2046)
        half = jnp.right_shift(k, 1)
        return _f(x) * _pow2(half) * _pow2(k - half)

    @staticmethod
    def ilog2(n):
        n = _i(n)
        # float(n) may round up to the next power of two: the shift tells
        e = jnp.right_shift(lax.bitcast_convert_type(_f(n), jnp.int64), 52) - 1023
        return e - (jnp.right_shift(n, e) == 0).astype(jnp.int64)

    @staticmethod
    def iexp2(k):
        return jnp.left_shift(jnp.int64(1), _i(k))


def as_step(step: Any) -> jax.Array:
    """Any step input -> int64 array in ``[0, 2**63 - 1]`` of the same shape (call inside
    ``jax.enable_x64``): floats floored, negatives and -inf to 0, steps at or past 2**63 and +inf
    to 2**63 - 1, NaN to 0 (:data:`fastlr._steps.GRAPH_MAPPING`)."""
    step = jnp.asarray(step)
    if step.dtype == jnp.bool_ or not (
        jnp.issubdtype(step.dtype, jnp.integer) or jnp.issubdtype(step.dtype, jnp.floating)
    ):
        raise TypeError(f"Argument `step` must be numeric. Received: step with dtype {step.dtype}")
    if jnp.issubdtype(step.dtype, jnp.floating):
        s = jnp.floor(step.astype(jnp.float64))
        big = s >= 2.0**63
        inside = (s >= 0.0) & ~big  # False for NaN
        return jnp.where(big, _I64_MAX, jnp.where(inside, s, 0.0).astype(jnp.int64))
    if step.dtype == jnp.uint64:
        step = jnp.minimum(step, jnp.uint64(_I64_MAX))
    return jnp.maximum(step.astype(jnp.int64), 0)


def call(schedule: Any, step: Any, dtype: Any = "float32") -> jax.Array:
    """Evaluate ``schedule`` at ``step`` with JAX ops; ``dtype`` of ``step``'s shape."""
    from fastlr.engines._structure import evaluate_tree

    with jax.enable_x64(True):
        s = as_step(step)
        y = _f(evaluate_tree(schedule, JaxOps, s))
        return jnp.broadcast_to(y, s.shape).astype(dtype)
