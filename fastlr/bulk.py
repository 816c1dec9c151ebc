"""``evaluate(schedule, steps)``: bulk precomputation on the host or a CUDA GPU.

This module checks arguments, resolves ``steps`` (``N``, a ``range`` or an integer array), handles
the output buffer (``out=`` may be a ``np.memmap`` larger than RAM, or with ``device="cuda"`` a
device array) and walks it in chunks; the Numba engines (:mod:`fastlr.engines.numba_cpu`,
:mod:`fastlr.engines.numba_cuda`) compute. No schedule math here.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from fastlr import _steps

CHUNK = 1 << 24
"""Steps per kernel call: keeps a huge (memmapped) evaluation interruptible between chunks."""

_DTYPES = {"float32": np.float32, "float64": np.float64}
_DEVICES = ("cpu", "cuda")


def _dtype(dtype: Any) -> np.dtype:
    try:
        dt = None if dtype is None else np.dtype(dtype)  # np.dtype(None) would mean float64
    except TypeError:
        dt = None
    if dt is None or dt.name not in _DTYPES:
        raise ValueError(
            f"Argument `dtype` must be 'float32' or 'float64'. Received: dtype={dtype!r}"
        )
    return dt


def as_steps(steps: Any) -> range | np.ndarray:
    """Resolve ``steps`` as :func:`evaluate` takes them (an int ``N``, a ``range`` or a 1-D array
    of steps) into a ``range`` (no index array) or a 1-D int64 array, refusing anything else with
    a ``ValueError`` naming ``steps`` (shared with :func:`fastlr.plot.plot_schedule`). The steps
    of an array follow the one rule of :mod:`fastlr._steps`, which ``schedule(step)`` applies to
    host values too: whole numbers >= 0 and < 2**63, ints or whole-number floats."""
    if isinstance(steps, numbers.Integral) and not isinstance(steps, bool):
        if steps < 0:
            raise ValueError(f"Argument `steps` must be >= 0 when an int. Received: steps={steps}")
        return range(int(steps))
    if isinstance(steps, range):
        if steps.step <= 0 or (len(steps) and steps.start < 0):
            raise ValueError(
                "Argument `steps` as a range must have step > 0 and start >= 0. "
                f"Received: steps={steps!r}"
            )
        if len(steps) and steps[-1] >= 2**63:
            raise ValueError(f"Argument `steps` must stay below 2**63. Received: steps={steps!r}")
        return steps
    if isinstance(steps, bool) or steps is None or isinstance(steps, (str, bytes, float)):
        raise ValueError(
            "Argument `steps` must be an int N, a range or a 1-D integer array. "
            f"Received: steps={steps!r}"
        )
    arr = np.asarray(steps) if isinstance(steps, np.ndarray) else _as_array(steps)
    if arr.ndim != 1:
        raise ValueError(f"Argument `steps` must be 1-D. Received: steps with shape {arr.shape}")
    if arr.dtype.kind not in "iufO":
        raise ValueError(
            "Argument `steps` must be an int N, a range or a 1-D array of steps (integers or "
            f"whole-number floats). Received: steps of dtype {arr.dtype}"
        )
    return _steps.check("steps", arr)


def _as_array(steps: Any) -> np.ndarray:
    """A list of steps as an array; Python ints past int64 are refused by the step rule."""
    try:
        return np.asarray(steps)
    except (OverflowError, ValueError):
        return np.asarray(steps, dtype=object)


def _out(out: Any, n: int, dt: np.dtype, device: str = "cpu") -> np.ndarray:
    if out is None:
        return np.empty(n, dtype=dt)
    if not isinstance(out, np.ndarray):
        allowed = "a NumPy array or memmap"
        if device == "cuda":
            allowed += " or a CUDA device array (`__cuda_array_interface__`)"
        raise ValueError(f"Argument `out` must be {allowed}. Received: out of type {type(out)}")
    if out.shape != (n,):
        raise ValueError(f"Argument `out` must have shape ({n},). Received: out.shape={out.shape}")
    if out.dtype != dt:
        raise ValueError(
            f"Argument `out` must have dtype {dt.name}. Received: out.dtype={out.dtype}"
        )
    if not out.flags.writeable:
        raise ValueError("Argument `out` must be writeable. Received: a read-only array")
    return out


def evaluate(
    schedule: Any,
    steps: Any,
    *,
    dtype: Any = "float32",
    out: Any = None,
    device: str = "cpu",
    to_host: bool = True,
) -> Any:
    """Evaluate ``schedule`` at many steps at once.

    Args:
        schedule: a fastlr schedule.
        steps: an int ``N`` (steps ``0 .. N-1``; no index array is allocated), a ``range``
            (start >= 0, step > 0) or a 1-D array (or list) of steps of any int dtype, order and
            stride, or of whole-number floats: whole numbers >= 0 and < 2**63, the rule
            ``schedule(step)`` applies to host values too (:mod:`fastlr._steps`); NaN, inf,
            fractional and negative steps raise ``ValueError`` naming ``steps`` and the reason.
        dtype: ``"float32"`` (default) or ``"float64"``.
        out: optional preallocated 1-D array of that dtype and length: a NumPy array or
            ``np.memmap``; with ``device="cuda"`` also a device array (a Numba device array or
            any object with ``__cuda_array_interface__``: CuPy, PyTorch...), written in place on
            the GPU with no copy.
        device: ``"cpu"`` (Numba, all cores) or ``"cuda"`` (numba-cuda, the current GPU: needs
            ``pip install 'fastlr[cuda]'`` and a GPU). Both compile the same formulas; their
            results agree within one float32 ulp (float64: a few ulp, libdevice vs libm).
        to_host: with ``device="cuda"`` and ``out=None``: ``True`` (default) returns a NumPy
            array; ``False`` keeps the result on the GPU and returns a Numba device array, which
            CuPy, PyTorch and JAX take without a copy (``__cuda_array_interface__``, DLPack).
            Must be ``True`` on the CPU or with a NumPy ``out``.

    Returns:
        ``out`` (or a new array) holding the learning rate at each step. The GPU work is
        finished when this returns.

    Example:
        >>> import fastlr
        >>> s = fastlr.WarmupCosineDecay(0.1, total_steps=1000, warmup_steps=100)
        >>> fastlr.evaluate(s, range(0, 1001, 250), dtype="float64").round(6).tolist()
        [0.0, 0.093301, 0.058682, 0.017861, 0.0]
    """
    from fastlr.schedules import Schedule

    if not isinstance(schedule, Schedule):
        raise TypeError(
            "Argument `schedule` must be a fastlr schedule. "
            f"Received: schedule of type {type(schedule).__name__}"
        )
    dt = _dtype(dtype)
    if not isinstance(device, str) or device not in _DEVICES:
        raise ValueError(
            f"Argument `device` must be one of {_DEVICES}. Received: device={device!r}"
        )
    if not isinstance(to_host, (bool, np.bool_)):
        raise ValueError(f"Argument `to_host` must be True or False. Received: to_host={to_host!r}")
    if not to_host and device != "cuda":
        raise ValueError(
            "Argument `to_host`=False keeps the result on a GPU: it needs device='cuda'. "
            f"Received: to_host=False with device={device!r}"
        )
    s = as_steps(steps)
    n = len(s)
    if device == "cuda":
        return _evaluate_cuda(schedule, s, n, dt, out, bool(to_host))
    result = _out(out, n, dt)
    if n == 0:
        return result
    from fastlr.engines import numba_cpu

    if not isinstance(s, range) and s.dtype != np.int64:
        s = s.astype(np.int64)  # one kernel per layout instead of one per integer dtype
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        if isinstance(s, range):
            numba_cpu.evaluate_range(schedule, s.start + lo * s.step, s.step, result[lo:hi])
        else:
            numba_cpu.evaluate_array(schedule, s[lo:hi], result[lo:hi])
    return result


def _evaluate_cuda(
    schedule: Any, s: range | np.ndarray, n: int, dt: np.dtype, out: Any, to_host: bool
) -> Any:
    """The GPU path: into a device ``out`` in one launch, else chunk by chunk to the host."""
    from fastlr.engines import numba_cuda

    numba_cuda.require()
    on_device = out is not None and not isinstance(out, np.ndarray)
    if on_device and not numba_cuda.is_device_array(out):
        _out(out, n, dt, device="cuda")  # raises: neither a host nor a device array
    if not to_host and out is not None and not on_device:
        raise ValueError(
            "Argument `to_host`=False keeps the result on the GPU: `out` must then be None or "
            "a device array. Received: a NumPy `out`"
        )
    if on_device or not to_host:
        target = numba_cuda.as_device_out(out, n, dt) if on_device else None
        if target is None:
            target = numba_cuda.device_array(n, dt)
        if n:
            _cuda_fill(numba_cuda, schedule, s, target, 0, n)
            numba_cuda.synchronize()
        return out if on_device else target
    result = _out(out, n, dt, device="cuda")
    if n == 0:
        return result
    args = numba_cuda.device_args(schedule)
    buffer = numba_cuda.device_array(min(n, CHUNK), dt)
    for lo in range(0, n, CHUNK):
        hi = min(lo + CHUNK, n)
        part = buffer[: hi - lo]
        _cuda_fill(numba_cuda, schedule, s, part, lo, hi, args)
        if result[lo:hi].flags.c_contiguous:
            part.copy_to_host(result[lo:hi])
        else:
            result[lo:hi] = part.copy_to_host()
    return result


def _cuda_fill(engine, schedule, s, target, lo: int, hi: int, args=None) -> None:
    """``target[:] = schedule(s[lo:hi])`` on the GPU (``target``: a device array)."""
    if isinstance(s, range):
        engine.launch_range(schedule, s.start + lo * s.step, s.step, target, args)
    else:
        engine.launch_array(schedule, engine.to_device(s[lo:hi].astype(np.int64)), target, args)
