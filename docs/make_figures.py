"""Regenerate the figures of the README and docs/training.md: ``python docs/make_figures.py`` (needs
the ``plot`` extra)."""

from __future__ import annotations

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np

import fastlr

HERE = Path(__file__).resolve().parent


def lr_finder_figure() -> None:
    """The LR range test on a small MLP regression problem (synthetic data)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2048, 8)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] ** 2 + 0.05 * rng.normal(size=(2048, 1))).astype(
        "float32"
    )
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(keras.optimizers.SGD(0.01, momentum=0.9), "mse", jit_compile=True)
    result = fastlr.find_lr(model, x, y, batch_size=64, start_lr=1e-5, end_lr=10.0, num_steps=150)
    result.plot(path=HERE / "lr_finder.png")
    print({m: round(result.suggest(m), 6) for m in ("valley", "steepest", "minimum")})


def schedule_figure() -> None:
    s = fastlr.Sequential(
        [
            fastlr.Warmup(fastlr.CosineDecay(1e-3, decay_steps=9_000, alpha=0.01), 1_000),
            fastlr.Constant(1e-5),
        ],
        boundaries=[10_000],
    )
    fastlr.plot_schedule(s, 12_000, path=HERE / "composed_schedule.png")


if __name__ == "__main__":
    lr_finder_figure()
    schedule_figure()
