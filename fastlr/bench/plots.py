"""The PNG plots of the benchmark report (matplotlib, the optional ``plot`` extra)."""

from __future__ import annotations

from pathlib import Path

from fastlr.bench.tables import HEADLINE_FAMILY, _mps
from fastlr.bench.throughput import ENGINES


def plot_throughput(results: dict, path: Path) -> None:
    """Log-log M steps/s vs N for every engine on :data:`HEADLINE_FAMILY`."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 4.5), dpi=110)
    ax = fig.add_subplot()
    for engine, label in ENGINES.items():
        family = "-" if engine in ("fill", "fill_parallel") else HEADLINE_FAMILY
        pts = sorted(
            (r["n"], _mps(r))
            for r in results["bulk"]
            if r["engine"] == engine and r["family"] == family
        )
        if pts:
            style = "--" if engine in ("fill", "fill_parallel", "python") else "-"
            ax.plot(*zip(*pts, strict=True), style, marker="o", label=label)
    ax.set(xscale="log", yscale="log", xlabel="N (steps)", ylabel="M steps/s")
    ax.set_title(f"{HEADLINE_FAMILY}, float32: throughput vs N")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path)


def plot_step_overhead(results: dict, path: Path) -> None:
    """Horizontal bars: per-step time of each learning-rate variant inside ``model.fit``."""
    from matplotlib.figure import Figure

    rows = results["step_overhead"]
    fig = Figure(figsize=(7, 0.6 * len(rows) + 1.2), dpi=110)
    ax = fig.add_subplot()
    labels = [r["label"] for r in rows]
    values = [r["per_step_s"] * 1e3 for r in rows]
    bars = ax.barh(labels, values, color="tab:blue")
    for bar, r in zip(bars, rows, strict=True):
        ax.annotate(
            f" {r['ratio_vs_constant']:.2f}x",
            (bar.get_width(), bar.get_y() + bar.get_height() / 2),
            va="center",
            fontsize=8,
        )
    ax.invert_yaxis()
    ax.set(xlabel="ms per training step (median)")
    ax.set_title("model.fit: per-step time by learning-rate kind")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path)
