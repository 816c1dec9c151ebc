"""PyTorch engine: how a formula runs in Keras's train step on the PyTorch backend.

int64 phase arithmetic and float64 math on torch tensors (on the step's device), exactly as on
TensorFlow; the value leaves as float32.
"""

from __future__ import annotations

import math
from typing import Any

import torch

_I64_MAX = 2**63 - 1
_F64 = torch.float64
_I64 = torch.int64


def _f(x):
    if isinstance(x, torch.Tensor):
        return x.to(_F64)
    return torch.tensor(x, dtype=_F64)


def _i(x):
    if isinstance(x, torch.Tensor):
        return x.to(_I64)
    return torch.tensor(x, dtype=_I64)


def _tensor(x, like):
    """``x`` as a tensor: Python numbers take float64/int64 (or bool), on ``like``'s device."""
    if isinstance(x, torch.Tensor):
        return x
    device = like.device if isinstance(like, torch.Tensor) else None
    if isinstance(x, bool):
        return torch.tensor(x, device=device)
    dtype = _I64 if isinstance(x, int) else _F64
    if isinstance(x, int) and isinstance(like, torch.Tensor) and like.dtype.is_floating_point:
        dtype = like.dtype
    return torch.tensor(x, dtype=dtype, device=device)


def _pair(a, b):
    return _tensor(a, b), _tensor(b, a)


def _unified(a, b):
    """``a, b`` as tensors of one dtype (float64 where they differ)."""
    a, b = _pair(a, b)
    if a.dtype != b.dtype:
        a, b = a.to(_F64), b.to(_F64)
    return a, b


def _pow2(k):
    """``2.0**k`` for an int64 ``k`` in ``[-1022, 1023]``, from exponent bits (exact)."""
    return torch.bitwise_left_shift(k + 1023, 52).view(_F64)


class TorchOps:
    """The formula vocabulary on torch ops (float64 math, int64 phases)."""

    name = "torch"
    module_per_binding = True  # torch.compile guards a function's globals by its module's name
    f = staticmethod(_f)

    @staticmethod
    def where(c, a, b):
        a, b = _unified(a, b)
        return torch.where(_tensor(c, a), a, b)

    @staticmethod
    def minimum(a, b):
        return torch.minimum(*_unified(a, b))

    @staticmethod
    def maximum(a, b):
        return torch.maximum(*_unified(a, b))

    @staticmethod
    def floor(x):
        return torch.floor(_f(x))

    @staticmethod
    def cos(x):
        return torch.cos(_f(x))

    @staticmethod
    def exp(x):
        return torch.exp(_f(x))

    @staticmethod
    def log(x):
        return torch.log(_f(x))

    @staticmethod
    def log1p(x):
        return torch.log1p(_f(x))

    @staticmethod
    def sqrt(x):
        return torch.sqrt(_f(x))

    @staticmethod
    def power(a, b):
        a, b = _pair(a, b)
        return torch.pow(a.to(_F64), b.to(_F64))

    @staticmethod
    def floordiv(a, b):
        a, b = _pair(a, b)
        if not a.dtype.is_floating_point and not b.dtype.is_floating_point:
            return torch.div(a, b, rounding_mode="floor")
        a, b = a.to(_F64), b.to(_F64)
        # the exact floor of the quotient: fmod is exact, (a - r) / b rounds to a whole number
        r = torch.remainder(a, b)
        return torch.round((a - r) / b)

    @staticmethod
    def ceildiv(a, b):
        return -TorchOps.floordiv(-_tensor(a, b), b)

    @staticmethod
    def cos_remaining(r):
        s = torch.sin(_f(r) * (0.5 * math.pi))
        return s * s

    @staticmethod
    def count_less(boundaries, x):
        # Unrolled compare-and-count; integer boundaries compare with the int64 step exactly.
        x = _tensor(x, None)
        whole = all(isinstance(b, int) for b in boundaries) and not x.dtype.is_floating_point
        xv = x.to(_I64) if whole else x.to(_F64)
        total = torch.zeros_like(xv, dtype=_I64)
        for b in boundaries:
            total = total + (xv > b).to(_I64)
        return total

    @staticmethod
    def take(values, idx):
        idx = _i(idx)
        return torch.tensor(values, dtype=_F64, device=idx.device)[idx]

    @staticmethod
    def div(a, b):
        a, b = _pair(a, b)
        return a.to(_F64) / b.to(_F64)

    @staticmethod
    def ldexp(x, k):
        # two halves, so every factor is a normal number: exact where the result is normal
        k = torch.clamp(_i(k), -2044, 2046)
        half = torch.bitwise_right_shift(k, 1)
        return _tensor(x, k).to(_F64) * _pow2(half) * _pow2(k - half)

    @staticmethod
    def ilog2(n):
        n = _i(n)
        # float(n) may round up to the next power of two: the shift tells
        e = torch.bitwise_right_shift(n.to(_F64).view(_I64), 52) - 1023
        return e - (torch.bitwise_right_shift(n, e) == 0).to(_I64)

    @staticmethod
    def iexp2(k):
        k = _i(k)
        return torch.bitwise_left_shift(torch.ones_like(k), k)


def as_step(step: Any) -> torch.Tensor:
    """Any step input -> int64 tensor in ``[0, 2**63 - 1]`` of the same shape: floats floored,
    negatives and -inf to 0, steps at or past 2**63 and +inf to 2**63 - 1, NaN to 0
    (:data:`fastlr._steps.GRAPH_MAPPING`)."""
    if not isinstance(step, torch.Tensor):
        import numpy as np

        arr = np.asarray(step)
        if arr.dtype == object or arr.dtype.kind not in "iuf":
            raise TypeError(
                "Argument `step` must be an integer (or float) scalar, array or tensor. "
                f"Received: step={step!r}"
            )
        if arr.dtype == np.uint64:
            arr = np.minimum(arr, np.uint64(_I64_MAX)).astype(np.int64)
        step = torch.as_tensor(arr)
    if step.dtype == torch.bool or step.is_complex():
        raise TypeError(f"Argument `step` must be numeric. Received: step with dtype {step.dtype}")
    if step.dtype.is_floating_point:
        s = torch.floor(step.to(_F64))
        big = s >= 2.0**63
        inside = (s >= 0.0) & ~big  # False for NaN (a plain cast reads NaN as -2**63)
        s = torch.where(inside, s, torch.zeros_like(s)).to(_I64)
        return torch.where(big, torch.full_like(s, _I64_MAX), s)
    return torch.clamp(step.to(_I64), min=0)


def call(schedule: Any, step: Any, dtype: Any = torch.float32) -> torch.Tensor:
    """Evaluate ``schedule`` at ``step`` with torch ops; ``dtype`` of ``step``'s shape."""
    from fastlr.engines._structure import evaluate_tree

    s = as_step(step)
    y = evaluate_tree(schedule, TorchOps, s)
    y = _tensor(y, s).to(device=s.device, dtype=_F64)
    return torch.broadcast_to(y, s.shape).to(dtype)
