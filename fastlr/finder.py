"""The LR range test (Smith 2015; fast.ai's ``lr_find``) for compiled Keras 3 models.

``find_lr`` drives an :class:`~fastlr.ExponentialRange` ramp through the model's own compiled
train step (``train_on_batch``: ``jit_compile`` is respected, the LR is computed in-graph from
the optimizer's iteration counter), records the loss of every step, stops once the smoothed loss
exceeds ``diverge_threshold`` times its minimum, and restores every model and optimizer variable
bit for bit. The suggestion functions are pure functions of ``(learning_rates, losses)``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from fastlr import _validate as v


def steepest(learning_rates: np.ndarray, losses: np.ndarray) -> float:
    """The LR where the (smoothed) loss falls fastest against ``log(lr)``.

    The slope is a secant over a window of a tenth of the points (robust to the noise a
    point-wise gradient latches onto), searched up to the loss minimum (past it the loss is
    diverging, not learning); the result is the LR at the centre of the steepest window.
    """
    lrs, ls = _finite(learning_rates, losses)
    n = lrs.size
    if n < 3:
        return float(lrs[0])
    w = max(2, n // 10)
    end = max(int(np.argmin(ls)), w)
    x = np.log(lrs)
    starts = np.arange(0, max(end - w, 0) + 1)
    starts = starts[starts + w < n]
    slope = (ls[starts + w] - ls[starts]) / (x[starts + w] - x[starts])
    return float(lrs[int(starts[int(np.argmin(slope))]) + w // 2])


def minimum(learning_rates: np.ndarray, losses: np.ndarray) -> float:
    """A tenth of the LR at the minimum loss (fast.ai's ``minimum``)."""
    lrs, ls = _finite(learning_rates, losses)
    return float(lrs[int(np.argmin(ls))]) / 10.0


def valley(learning_rates: np.ndarray, losses: np.ndarray) -> float:
    """fast.ai's ``valley``: inside the longest run of decreasing losses, two thirds of the way
    between its start and end (well before the minimum, where training is still stable)."""
    lrs, ls = _finite(learning_rates, losses)
    n = ls.size
    run = np.ones(n, dtype=np.int64)  # longest decreasing subsequence ending at i
    best_end = 0
    for i in range(1, n):
        prev = run[:i][ls[:i] > ls[i]]
        if prev.size:
            run[i] = prev.max() + 1
        if run[i] > run[best_end]:
            best_end = i
    start = best_end - run[best_end] + 1
    third = (best_end - start) / 3
    idx = start + int(third) + int(third / 2)
    return float(lrs[min(max(idx, 0), n - 1)])


SUGGESTIONS = {"steepest": steepest, "minimum": minimum, "valley": valley}


def _finite(learning_rates, losses) -> tuple[np.ndarray, np.ndarray]:
    lrs = np.asarray(learning_rates, dtype=np.float64)
    ls = np.asarray(losses, dtype=np.float64)
    if lrs.shape != ls.shape or lrs.ndim != 1:
        raise ValueError("learning_rates and losses must be 1-D and of the same length")
    keep = np.isfinite(ls) & np.isfinite(lrs) & (lrs > 0)
    if not keep.any():
        raise ValueError("no finite (learning rate, loss) pair to suggest from")
    return lrs[keep], ls[keep]


@dataclass(frozen=True)
class LRFinderResult:
    """What :func:`find_lr` measured: one entry per step it ran."""

    learning_rates: np.ndarray
    losses: np.ndarray
    smoothed_losses: np.ndarray
    method: str = "valley"
    stopped_early: bool = field(default=False)

    @property
    def suggestion(self) -> float:
        """The suggested LR by the default method."""
        return self.suggest(self.method)

    def suggest(self, method: str = "valley") -> float:
        """Suggested LR by ``method``: ``"steepest"``, ``"minimum"`` or ``"valley"``."""
        v.choice("method", method, tuple(SUGGESTIONS))
        return SUGGESTIONS[method](self.learning_rates, self.smoothed_losses)

    def plot(self, *, ax: Any = None, path: str | None = None) -> Any:
        """Loss vs LR (log scale) with the suggestions marked; returns the matplotlib Figure."""
        from fastlr.plot import plot_lr_finder

        return plot_lr_finder(self, ax=ax, path=path)


def _batches(x: Any, y: Any, batch_size: int, seed: int):
    """Endless batches: shuffled NumPy slices per epoch, or a repeated ``tf.data.Dataset``."""
    import tensorflow as tf

    if isinstance(x, tf.data.Dataset):
        for element in x.repeat():
            yield element if isinstance(element, tuple) else (element,)
        return
    xs = np.asarray(x)
    ys = None if y is None else np.asarray(y)
    rng = np.random.default_rng(seed)
    n = len(xs)
    while True:
        order = rng.permutation(n)
        for lo in range(0, n - batch_size + 1 if n >= batch_size else 1, batch_size):
            idx = order[lo : lo + batch_size]
            yield (xs[idx],) if ys is None else (xs[idx], ys[idx])


def find_lr(
    model: Any,
    x: Any,
    y: Any = None,
    *,
    batch_size: int = 32,
    start_lr: float = 1e-7,
    end_lr: float = 10.0,
    num_steps: int = 100,
    smoothing: float = 0.98,
    diverge_threshold: float = 4.0,
    method: str = "valley",
    seed: int = 0,
) -> LRFinderResult:
    """Run the LR range test on a compiled Keras model and restore it afterwards.

    Step ``i`` trains one batch at ``lr_i = start_lr * (end_lr / start_lr) ** (i / (num_steps -
    1))``. The loss is smoothed as ``avg = smoothing * avg + (1 - smoothing) * loss`` with bias
    correction ``avg / (1 - smoothing ** (i + 1))``; the test stops when that exceeds
    ``diverge_threshold * min`` (or the loss is not finite). All model and optimizer variables
    (weights, slots, iteration count) are restored exactly, whatever happens.

    With a ``MultiOptimizer`` (e.g. :func:`fastlr.discriminative`) every group ramps at its
    ratio to the head's (last group's) learning rate, ``Scale(ramp, ratio)``, and the result's
    ``learning_rates`` are the head's: the suggestion is the head's LR, the groups keep their
    ratios to it.

    Args:
        model: a compiled Keras model (any ``jit_compile``).
        x: inputs (NumPy array) or a ``tf.data.Dataset`` of ``(x, y[, sample_weight])`` batches.
        y: targets, required when ``x`` is an array (``None`` for a dataset).
        batch_size: batch size for arrays (ignored for datasets).
        start_lr, end_lr: the ramp's ends (> 0).
        num_steps: steps of the ramp, >= 2.
        smoothing: EMA factor in [0, 1).
        diverge_threshold: stop when the smoothed loss exceeds this multiple of its minimum (> 1).
        method: default suggestion method of the result.
        seed: shuffling seed for arrays.

    Returns:
        An :class:`LRFinderResult`.
    """
    from fastlr._optimizer_lr import current_learning_rate, groups_of, optimizer_of
    from fastlr.schedules import ExponentialRange

    start_lr = v.rate("start_lr", start_lr, positive=True)
    end_lr = v.real("end_lr", end_lr, gt=0)
    if not end_lr > start_lr:
        raise ValueError(
            "Arguments `start_lr` and `end_lr` must satisfy start_lr < end_lr (the ramp goes "
            f"up). Received: start_lr={start_lr!r}, end_lr={end_lr!r}"
        )
    num_steps = v.integer("num_steps", num_steps, ge=2)
    batch_size = v.integer("batch_size", batch_size, gt=0)
    smoothing = v.real("smoothing", smoothing, ge=0, lt=1)
    diverge_threshold = v.real("diverge_threshold", diverge_threshold, gt=1)
    v.choice("method", method, tuple(SUGGESTIONS))
    seed = v.integer("seed", seed, ge=0)
    optimizer = optimizer_of(model, "find_lr")
    _check_data(model, x, y)
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    groups = groups_of(optimizer) or [optimizer]
    ratios = [_ratio(group, groups[-1]) for group in groups]

    saved_model = [var.numpy().copy() for var in model.variables]
    saved_optimizer = [var.numpy().copy() for var in optimizer.variables]
    saved_lrs = [group._learning_rate for group in groups]
    batches = _batches(x, y, batch_size, seed)
    lrs, losses, smoothed = [], [], []
    avg, best, stopped = 0.0, math.inf, False
    try:
        ramp = ExponentialRange(start_lr, end_lr, num_steps - 1)
        for group, ratio in zip(groups, ratios, strict=True):
            group._learning_rate = ramp if ratio == 1.0 else ramp * ratio
            group.iterations.assign(0)
        optimizer.iterations.assign(0)
        model.make_train_function(force=True)
        for i in range(num_steps):
            batch = next(batches)
            lr = current_learning_rate(groups[-1])
            loss = float(model.train_on_batch(*batch, return_dict=True)["loss"])
            avg = smoothing * avg + (1.0 - smoothing) * loss
            smooth = avg / (1.0 - smoothing ** (i + 1))
            lrs.append(lr)
            losses.append(loss)
            smoothed.append(smooth)
            best = min(best, smooth)
            if not math.isfinite(loss) or smooth > diverge_threshold * best:
                stopped = True
                break
    finally:
        for group, saved_lr in zip(groups, saved_lrs, strict=True):
            group._learning_rate = saved_lr
        for var, value in zip(model.variables, saved_model, strict=True):
            var.assign(value)
        for var, value in zip(optimizer.variables, saved_optimizer, strict=True):
            var.assign(value)
        model.make_train_function(force=True)
    return LRFinderResult(
        learning_rates=np.asarray(lrs),
        losses=np.asarray(losses),
        smoothed_losses=np.asarray(smoothed),
        method=method,
        stopped_early=stopped,
    )


def _check_data(model: Any, x: Any, y: Any) -> None:
    """``x`` a ``tf.data.Dataset`` of ``(x, y)`` batches, or an array with its targets ``y``
    (which a model compiled with a loss needs; one trained by ``add_loss`` alone may go
    without)."""
    import sys

    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(x, tf.data.Dataset):
        if y is not None:
            raise ValueError(
                "Argument `y` must be None when `x` is a tf.data.Dataset (its elements carry "
                f"the targets). Received: y of type {type(y).__name__}"
            )
        return
    if x is None or isinstance(x, (str, bytes, dict)) or not hasattr(x, "__len__"):
        v.fail("x", "must be a NumPy array or a tf.data.Dataset of (x, y) batches", x, TypeError)
    if y is None and getattr(model, "loss", None) is not None:
        raise ValueError(
            "Argument `y` must be given when `x` is an array: find_lr(model, x, y) (the range "
            "test trains on (x, y) batches; for data that carries its targets pass a "
            "tf.data.Dataset of (x, y) batches as `x`). Received: y=None"
        )
    if y is not None and len(x) != len(y):
        raise ValueError(
            "Arguments `x` and `y` must have the same length. "
            f"Received: len(x)={len(x)}, len(y)={len(y)}"
        )
    if len(x) == 0:
        v.fail("x", "must hold at least one sample", f"array of length {len(x)}")


def _ratio(group: Any, head: Any) -> float:
    """``group``'s learning rate over ``head``'s: the factor of a :class:`fastlr.Scale` of the
    head's schedule, else the ratio of their current values."""
    from fastlr._optimizer_lr import current_learning_rate
    from fastlr.schedules import Scale

    lr, head_lr = group._learning_rate, head._learning_rate
    if lr is head_lr:
        return 1.0
    if isinstance(lr, Scale) and lr.schedule == head_lr:
        return lr.factor
    now, head_now = current_learning_rate(group), current_learning_rate(head)
    if head_now <= 0.0:
        raise ValueError(
            f"find_lr ramps every group at its ratio to the head's learning rate, but the "
            f"head's ({head.name}) is {head_now} now and group {group.name}'s is not a "
            "fastlr.Scale of it: the ratio is unknown."
        )
    return now / head_now
