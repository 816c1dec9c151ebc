"""Bulk-evaluation workloads: one schedule per family, engines that fill the same buffer.

Every engine writes ``N`` float32 learning rates of the same schedule into (or as) a buffer, so
their times compare directly:

* ``fastlr``: ``fastlr.evaluate(schedule, N, out=buf)`` (Numba, all cores);
* ``numpy``: the same formula on NumPy float64, in 2**20-step chunks (fastlr's reference engine);
* ``tf_graph`` / ``tf_xla``: the schedule called on ``tf.range`` inside ``tf.function``, without and
  with ``jit_compile=True``, then ``.numpy()``; the start step is an argument so XLA cannot fold
  the whole computation into a constant;
* ``python``: a plain Python loop calling ``schedule(step)`` (eager TensorFlow), the way LR lists
  are usually precomputed; timed on :data:`PYTHON_LOOP_STEPS` steps and extrapolated linearly;
* ``fill``: ``buf.fill(x)``, the write limit of this machine for this buffer, in the same run.

:func:`prepare` returns a warmed-up callable (kernels compiled, graphs traced, pages faulted in):
timing it measures evaluation only.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import numpy as np

ENGINES: dict[str, str] = {
    "fastlr": "fastlr.evaluate (Numba, parallel)",
    "numpy": "NumPy float64, same formula",
    "tf_graph": "TF graph, vectorized",
    "tf_xla": "TF XLA, vectorized",
    "python": "Python loop of schedule(step) (extrapolated)",
    "fill": "np.fill of the output (write limit)",
}
"""Engine key -> the label used in reports."""

PYTHON_LOOP_STEPS = 200
"""Steps the ``python`` engine really runs; its time is scaled to ``N``."""

SIZES = (10**3, 10**5, 10**6, 10**7, 10**8)
"""``N`` of the full run."""


def families(n: int) -> dict[str, Any]:
    """One representative schedule per family, sized for ``n`` steps (``n >= 1000``)."""
    import fastlr

    w = max(n // 100, 1)
    return {
        "WarmupCosineDecay": fastlr.WarmupCosineDecay(
            0.1, n, warmup_steps=w, hold_steps=w, min_lr=1e-5
        ),
        "CosineDecay (Keras)": fastlr.CosineDecay(
            0.0, n - w, alpha=0.01, warmup_target=0.1, warmup_steps=w
        ),
        "CosineDecayRestarts t_mul=1": fastlr.CosineDecayRestarts(0.1, max(n // 64, 1), t_mul=1.0),
        "WarmupCosineRestarts cycle_mult=2": fastlr.WarmupCosineRestarts(
            0.1, max(n // 1023, 2), cycle_mult=2.0, warmup_steps=1, min_lr=1e-5
        ),
        "PolynomialDecay cycle": fastlr.PolynomialDecay(0.1, max(n // 8, 1), power=2.0, cycle=True),
        "CyclicalLearningRate triangular2": fastlr.CyclicalLearningRate(
            1e-4, 0.1, step_size=max(n // 64, 1), mode="triangular2"
        ),
        "OneCycle": fastlr.OneCycle(0.1, n),
        "WarmupStableDecay": fastlr.WarmupStableDecay(0.1, n, warmup_steps=w, decay_steps=n // 10),
        "InverseSqrtDecay": fastlr.InverseSqrtDecay(0.1, warmup_steps=w),
        "ExponentialRange": fastlr.ExponentialRange(1e-7, 10.0, n),
        "ExponentialDecay (Keras)": fastlr.ExponentialDecay(0.1, max(n // 10, 1), 0.5),
        "InverseTimeDecay (Keras)": fastlr.InverseTimeDecay(0.1, max(n // 100, 1), 0.5),
        "PiecewiseConstantDecay (Keras)": fastlr.PiecewiseConstantDecay(
            [n // 4, n // 2, 3 * n // 4], [0.1, 0.05, 0.01, 0.001]
        ),
        "Sequential(Warmup(CosineDecay), Constant)": fastlr.Sequential(
            [fastlr.Warmup(fastlr.CosineDecay(0.1, n - 2 * w), w), fastlr.Constant(1e-5)],
            [n - w],
        ),
    }


def cycle_schedules(n: int) -> dict[tuple[str, int], Any]:
    """``(family, cycles) -> schedule`` with that many cycles in ``n`` steps.

    The cost of a step must not grow with the number of cycles (closed-form cycle index).
    """
    import fastlr

    out: dict[tuple[str, int], Any] = {}
    for cycles in (1, 64, 4096):
        out["CosineDecayRestarts t_mul=1", cycles] = fastlr.CosineDecayRestarts(
            0.1, max(n // cycles, 1), t_mul=1.0
        )
        out["CyclicalLearningRate", cycles] = fastlr.CyclicalLearningRate(
            1e-4, 0.1, step_size=max(n // (2 * cycles), 1)
        )
    for cycles in (1, 8, 16):  # cycle k lasts first * 2**k: `cycles` cycles fill n steps
        first = max(n // (2**cycles - 1), 2)
        out["WarmupCosineRestarts cycle_mult=2", cycles] = fastlr.WarmupCosineRestarts(
            0.1, first, cycle_mult=2.0, warmup_steps=1
        )
    return out


def buffer(n: int) -> np.ndarray:
    """A float32 buffer of ``n`` values with its pages faulted in."""
    out = np.empty(n, dtype=np.float32)
    out.fill(0.0)
    return out


def _numpy(schedule: Any, out: np.ndarray) -> None:
    from fastlr.engines.numpy_ref import evaluate_into

    chunk = 1 << 20
    for lo in range(0, out.size, chunk):
        hi = min(lo + chunk, out.size)
        evaluate_into(schedule, np.arange(lo, hi, dtype=np.int64), out[lo:hi])


def _tensorflow(schedule: Any, n: int, xla: bool) -> Callable[[], object]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    fn = tf.function(
        lambda start: schedule(tf.range(start, start + n, dtype=tf.int64)), jit_compile=xla
    )
    start = tf.constant(0, tf.int64)
    fn(start)  # trace (and compile) outside the timed region
    return lambda: fn(start).numpy()


def _python_loop(schedule: Any) -> Callable[[], object]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    float(schedule(0))  # the eager TF path, once, before timing

    def loop() -> list[float]:
        return [float(schedule(step)) for step in range(PYTHON_LOOP_STEPS)]

    return loop


def prepare(engine: str, schedule: Any, out: np.ndarray) -> tuple[Callable[[], object], float]:
    """A warmed-up callable computing ``out.size`` values with ``engine``, and its time scale.

    The scale is 1 except for ``python``, whose callable runs :data:`PYTHON_LOOP_STEPS` steps:
    multiply its time by the scale to extrapolate to ``out.size`` steps.
    """
    import fastlr

    n = out.size
    if engine == "fastlr":
        fastlr.evaluate(schedule, min(n, 1000), out=out[: min(n, 1000)])  # compile / load
        return (lambda: fastlr.evaluate(schedule, n, out=out)), 1.0
    if engine == "numpy":
        return (lambda: _numpy(schedule, out)), 1.0
    if engine in ("tf_graph", "tf_xla"):
        return _tensorflow(schedule, n, xla=engine == "tf_xla"), 1.0
    if engine == "python":
        return _python_loop(schedule), n / PYTHON_LOOP_STEPS
    if engine == "fill":
        return (lambda: out.fill(0.5)), 1.0
    raise ValueError(
        f"Argument `engine` must be one of {list(ENGINES)}. Received: engine={engine!r}"
    )
