"""Plots (the optional ``plot`` extra: ``pip install 'fastlr[plot]'``).

Both helpers use matplotlib's object API (no pyplot, no display needed), return the
``Figure`` and save a PNG when given ``path``.
"""

from __future__ import annotations

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


def plot_schedule(
    schedule: Any,
    steps: Any = 1000,
    *,
    ax: Any = None,
    path: str | None = None,
    log_scale: bool = False,
) -> Any:
    """Plot ``schedule`` over ``steps`` (an int N, a range or an array of steps).

    Returns the matplotlib ``Figure``; writes a PNG if ``path`` is given.
    """
    import numpy as np

    from fastlr.bulk import as_steps, evaluate

    s = as_steps(steps)
    x = np.arange(s.start, s.stop, s.step) if isinstance(s, range) else np.asarray(s)
    y = evaluate(schedule, s, dtype="float64")
    fig, ax = _figure(ax)
    ax.plot(x, y, lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    if log_scale:
        ax.set_yscale("log")
    ax.set_title(type(schedule).__name__)
    ax.grid(alpha=0.3)
    if path is not None:
        fig.savefig(path, dpi=120)
    return fig


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
        fig.savefig(path, dpi=120)
    return fig
