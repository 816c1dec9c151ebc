"""Bulk-evaluation workloads: one schedule per family, engines that fill the same buffer.

Every engine computes the float32 learning rates of the same schedule at steps ``0 .. n-1``, into
(or as) a buffer, so their times compare directly:

* ``fastlr``: ``fastlr.evaluate(schedule, n, out=buf)`` into a preallocated float32 buffer (Numba,
  all cores);
* ``numpy``: the same formula on NumPy float64, in 2**20-step chunks (fastlr's reference engine);
* ``tf_graph`` / ``tf_xla``: the schedule called on ``tf.range`` inside ``tf.function``, without and
  with ``jit_compile=True``, then ``.numpy()``; the start step is an argument so XLA cannot fold
  the whole computation into a constant;
* ``keras_xla``: Keras's own built-in schedule of the same name and parameters (see
  :func:`keras_xla_reason` for the families that have none, or one that cannot take a vector of
  steps), called like ``tf_xla``;
* ``python``: a plain Python loop calling ``schedule(step)`` (eager TensorFlow), the way LR lists
  are usually precomputed; always timed on a few steps and extrapolated linearly;
* ``fill``: ``buf.fill(x)``, NumPy's single-threaded fill of the same buffer;
* ``fill_parallel``: a Numba ``prange`` kernel writing a constant into the same buffer on every
  core: the machine's write limit, which "fraction of the write limit" is computed against.

:func:`prepare` returns a warmed-up callable (kernels compiled, graphs traced, pages faulted in):
timing it measures evaluation only. ``fastlr bench`` runs each engine kind in its own worker
process (:data:`WORKER_OF`, :mod:`fastlr.bench.worker`); the Numba and NumPy workers never import
TensorFlow.
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
    "keras_xla": "Keras built-in under XLA, vectorized",
    "python": "Python loop of schedule(step) (extrapolated)",
    "fill": "np.fill of the output (1 core)",
    "fill_parallel": "parallel fill of the output (all cores, write limit)",
}
"""Engine key -> the label used in reports."""

FILLS = ("fill", "fill_parallel")
"""Engines that write a constant (no schedule): measured once per ``N``."""

WORKER_OF: dict[str, str] = {
    "fastlr": "numba",
    "fill": "numba",
    "fill_parallel": "numba",
    "numpy": "numpy",
    "tf_graph": "tf",
    "tf_xla": "tf",
    "keras_xla": "tf",
    "python": "tf",
}
"""Engine -> the worker process kind that runs it (one long-lived process per kind)."""

PYTHON_LOOP_STEPS = 200
"""The most steps the ``python`` engine really runs; its time is scaled to ``N``."""

SIZES = (10**3, 10**4, 10**5, 10**6, 10**7, 10**8)
"""``N`` of the full run."""

KERAS_BUILTINS = (
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
)
"""fastlr classes that keep the name and parameters of a ``keras.optimizers.schedules`` class."""


class NotCovered(ValueError):
    """An engine cannot run this schedule (e.g. Keras has no built-in for it); says why."""


def keras_xla_reason(schedule: Any) -> str | None:
    """Why ``keras_xla`` has no row for ``schedule`` (``None``: it has one).

    Checked in ``tests/test_bench.py``: the covered schedules compute fastlr's values, and
    Keras's ``CosineDecay`` with warmup really is refused on a vector of steps.
    """
    name = type(schedule).__name__
    if name not in KERAS_BUILTINS:
        kind = "composite" if schedule.children() else "schedule"
        return f"Keras has no built-in {kind} like {name}"
    if name == "CosineDecay" and schedule.get_config().get("warmup_target") is not None:
        return (
            "Keras's CosineDecay with warmup chooses warmup or decay with `cond` on the step: "
            "XLA refuses a vector of steps (Condition argument must be a scalar)"
        )
    return None


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
        "CosineAnnealing (torch)": fastlr.CosineAnnealing(0.1, max(n // 8, 1), min_lr=1e-5),
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
        "PiecewiseInterpolate cosine": fastlr.PiecewiseInterpolate(
            [0, 3 * n // 10, n], [0.004, 0.1, 4e-7], interpolation="cosine"
        ),
        "Clip(ExponentialDecay)": fastlr.Clip(
            fastlr.ExponentialDecay(0.1, max(n // 10, 1), 0.5), min_lr=1e-3
        ),
        "CosineCycles (timm) cycle_mult=2 k_decay": fastlr.CosineCycles(
            0.1,
            max(n // 15, 1),
            min_lr=1e-5,
            cycle_mult=2.0,
            cycle_decay=0.5,
            cycle_limit=4,
            k_decay=1.5,
        ),
        "PolyCycles (timm)": fastlr.PolyCycles(0.1, max(n // 4, 1), cycle_limit=None),
        "TanhCycles (timm)": fastlr.TanhCycles(0.1, max(n // 4, 1), cycle_limit=None),
        "Noise(PerEpoch(ExponentialDecay))": fastlr.Noise(
            fastlr.PerEpoch(fastlr.ExponentialDecay(0.1, 30, 0.1, staircase=True), max(n // 90, 1)),
            pct=0.1,
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


def composites(n: int) -> dict[str, Any]:
    """A flat schedule, its parts, and composites that build it from them, for ``n`` steps: what
    composition costs over the flat formula (every child is evaluated at every step)."""
    import fastlr

    w, h = n // 100, n // 100
    cosine = fastlr.CosineDecay(0.1, n - w - h, alpha=1e-4)
    return {
        "flat WarmupCosineDecay": fastlr.WarmupCosineDecay(0.1, n, w, h, min_lr=1e-5),
        "part CosineDecay": cosine,
        "part Constant": fastlr.Constant(1e-5),
        "depth 1 Warmup(CosineDecay)": fastlr.Warmup(cosine, w),
        # warmup + hold + cosine + floor, three levels deep
        "depth 3 Sequential(Warmup(Offset(CosineDecay)), Constant)": fastlr.Sequential(
            [fastlr.Warmup(fastlr.Offset(cosine, 0), w), fastlr.Constant(1e-5)], [n - h]
        ),
    }


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


def _tensorflow(fn: Callable[[Any], Any], n: int, xla: bool) -> Callable[[], object]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    graph = tf.function(
        lambda start: fn(tf.range(start, start + n, dtype=tf.int64)), jit_compile=xla
    )
    start = tf.constant(0, tf.int64)
    graph(start)  # trace (and compile) outside the timed region
    return lambda: graph(start).numpy()


def keras_builtin(schedule: Any) -> Any:
    """Keras's own schedule with ``schedule``'s class name and parameters.

    Raises:
        NotCovered: :func:`keras_xla_reason` says it has none (or none that takes a vector).
    """
    reason = keras_xla_reason(schedule)
    if reason is not None:
        raise NotCovered(reason)
    import keras

    return getattr(keras.optimizers.schedules, type(schedule).__name__).from_config(
        schedule.get_config()
    )


def _python_loop(schedule: Any, n: int) -> Callable[[], object]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    float(schedule(0))  # the eager TF path, once, before timing

    def loop() -> list[float]:
        return [float(schedule(step)) for step in range(n)]

    return loop


_FILL_KERNEL: Any = None


def _fill_parallel(out: np.ndarray) -> Callable[[], object]:
    global _FILL_KERNEL
    if _FILL_KERNEL is None:
        import numba

        @numba.njit(parallel=True)
        def kernel(out, value):  # pragma: no cover - compiled
            for i in numba.prange(out.size):
                out[i] = value

        _FILL_KERNEL = kernel
    value = np.float32(0.5)
    _FILL_KERNEL(out[:1], value)  # compile outside the timed region
    return lambda: _FILL_KERNEL(out, value)


def prepare(engine: str, schedule: Any, out: np.ndarray) -> Callable[[], object]:
    """A warmed-up callable computing the values of ``schedule`` at steps ``0 .. out.size-1``.

    ``fastlr``, ``numpy`` and the fills write into ``out``; the TF engines and ``python`` only use
    its size (a schedule sized for more steps than ``out.size`` is evaluated on its first
    ``out.size`` steps: the caller scales the time when it measures fewer steps than ``N``).

    Raises:
        ValueError: unknown ``engine``.
        NotCovered: ``keras_xla`` on a schedule Keras has no vectorizable built-in for.
    """
    import fastlr

    n = out.size
    if engine == "fastlr":
        fastlr.evaluate(schedule, min(n, 1000), out=out[: min(n, 1000)])  # compile / load
        return lambda: fastlr.evaluate(schedule, n, out=out)
    if engine == "numpy":
        return lambda: _numpy(schedule, out)
    if engine in ("tf_graph", "tf_xla"):
        return _tensorflow(schedule, n, xla=engine == "tf_xla")
    if engine == "keras_xla":
        builtin = keras_builtin(schedule)
        try:
            return _tensorflow(builtin, n, xla=True)
        except Exception as err:  # a Keras version whose schedule refuses a vector: say why
            why = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
            raise NotCovered(
                f"Keras's {type(builtin).__name__} failed on a vector of steps under XLA: {why}"
            ) from err
    if engine == "python":
        return _python_loop(schedule, n)
    if engine == "fill":
        return lambda: out.fill(0.5)
    if engine == "fill_parallel":
        return _fill_parallel(out)
    raise ValueError(
        f"Argument `engine` must be one of {list(ENGINES)}. Received: engine={engine!r}"
    )
