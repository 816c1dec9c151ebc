"""Plots (the optional ``plot`` extra: ``pip install 'fastlr[plot]'``).

Both helpers use matplotlib's object API (no pyplot, no display needed), return the
``Figure`` and save a PNG when given ``path``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def _figure(ax: Any) -> tuple[Any, Any]:
    try:
        from matplotlib.figure import Figure
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("fastlr's plots need matplotlib: pip install 'fastlr[plot]'") from err
    if ax is not None:
        return ax.figure, ax
    fig = Figure(figsize=(7, 4), layout="constrained")
    return fig, fig.subplots()


MAX_POINTS = 10_000
"""A range of more steps than this is plotted on this many evenly spaced samples (plus its phase
steps): a figure of 840 pixels cannot show more, and ``--steps 10**12`` must not need 8 TB."""


def sample_steps(schedule: Any, steps: range, max_points: int = MAX_POINTS) -> Any:
    """The steps :func:`plot_schedule` evaluates for a ``range``: all of them up to
    ``max_points``; beyond, ``max_points`` evenly spaced ones (the first and the last included)
    plus each phase step of ``schedule.phases()`` inside the range and the step before it, so a
    restart or a boundary stays a vertical jump. A sorted int64 array (exact integer arithmetic:
    no float rounding even near 2**63)."""
    import numpy as np

    n = len(steps)
    if n <= max_points:
        return np.arange(steps.start, steps.stop, steps.step, dtype=np.int64)
    picked = {steps[i * (n - 1) // (max_points - 1)] for i in range(max_points)}
    for p in schedule.phases().values():
        p = int(p)  # a Python int: `in` on a range is then O(1)
        picked.update(q for q in (p - steps.step, p) if q in steps)
    return np.array(sorted(picked), dtype=np.int64)


def plot_schedule(
    schedule: Any,
    steps: Any = 1000,
    *,
    ax: Any = None,
    path: str | None = None,
    log_scale: bool = False,
) -> Any:
    """Plot ``schedule`` over ``steps`` (an int N, a range or an array of steps).

    An int or a range of more than :data:`MAX_POINTS` (10,000) steps is sampled
    (:func:`sample_steps`): 10,000 evenly spaced steps plus the schedule's phase steps
    (``schedule.phases()``: warmup end, restarts, boundaries) inside the range and the step before
    each, so a plot of ``10**12`` steps costs what one of 10,000 does. Periodic schedules with more
    cycles than that in the range alias: plot a shorter range to see the cycles. An array of steps
    is plotted as given. ``fastlr plot`` calls this function.

    Returns the matplotlib ``Figure``; writes a PNG if ``path`` is given, whole or not at all (a
    temporary file in the same folder renamed into place: a failed write leaves any earlier file
    at ``path`` untouched).
    """
    import numpy as np

    from fastlr.bulk import as_steps, evaluate

    s = as_steps(steps)
    x = sample_steps(schedule, s) if isinstance(s, range) else np.asarray(s)
    y = evaluate(schedule, x, dtype="float64")
    fig, ax = _figure(ax)
    ax.plot(x, y, lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(type(schedule).__name__)
    ax.grid(alpha=0.3)
    if path is not None:
        _save(fig, path)
    return fig


def _save(fig: Any, path: str) -> None:
    from fastlr._files import replacing

    suffix = Path(path).suffix
    with replacing(path) as tmp:  # the format from path's suffix, as savefig(path) would
        fig.savefig(tmp, dpi=120, format=suffix[1:] if suffix else "png")


def plot_lr_finder(result: Any, *, ax: Any = None, path: str | None = None) -> Any:
    """Plot an LR range test: smoothed loss vs learning rate (log), suggestions marked."""
    import numpy as np

    fig, ax = _figure(ax)
    lrs = np.asarray(result.learning_rates)
    ax.plot(lrs, result.losses, lw=0.8, alpha=0.35, label="loss")
    ax.plot(lrs, result.smoothed_losses, lw=1.8, label="smoothed loss")
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss")
    finite = np.asarray(result.smoothed_losses)[np.isfinite(result.smoothed_losses)]
    if finite.size:
        lo, hi = float(finite.min()), float(finite[0])
        ax.set_ylim(lo - 0.1 * abs(hi - lo), max(hi, lo) + 0.5 * abs(hi - lo) + 1e-12)
    markers = {"valley": "o", "steepest": "s", "minimum": "v"}
    for method, marker in markers.items():
        lr = result.suggest(method)
        i = int(np.argmin(np.abs(np.log(lrs) - np.log(lr))))
        ax.plot([lr], [result.smoothed_losses[i]], marker, ms=8, label=f"{method}: {lr:.2e}")
    ax.legend()
    ax.grid(alpha=0.3, which="both")
    ax.set_title("LR range test")
    if path is not None:
        _save(fig, path)
    return fig
