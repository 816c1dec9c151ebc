"""The ``fastlr`` command (also ``python -m fastlr``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence


def _quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their start-up chatter.

    TF 2.21 prints absl lines from C++ before its logging is configured, so
    ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them: file descriptor 2 is pointed at
    ``/dev/null`` for the duration of the import only (errors after it are shown as usual).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def demo(args: argparse.Namespace) -> int:
    """Train a small model under XLA with a fastlr schedule and show the LR used each epoch."""
    _quiet_tensorflow()
    import numpy as np

    import fastlr

    t0 = time.perf_counter()
    import keras

    epochs, batch_size, n = args.epochs, 64, 2048
    steps_per_epoch = n // batch_size
    total = epochs * steps_per_epoch
    schedule = fastlr.WarmupCosineDecay(
        target_lr=0.05,
        total_steps=total,
        warmup_steps=steps_per_epoch,
        hold_steps=steps_per_epoch // 2,
        start_lr=0.0,
        min_lr=1e-3,
    )
    print(f"schedule: {schedule!r}")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) + 0.1 * rng.normal(size=(n, 1))).astype("float32")

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)]
    )
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=True)

    rows = []

    class EpochLR(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            # The optimizer reads its schedule at its iteration counter: the LR of the next step.
            self.first = (int(optimizer.iterations), float(optimizer.learning_rate))

        def on_epoch_end(self, epoch, logs=None):
            last_step = int(optimizer.iterations) - 1
            rows.append(
                (epoch + 1, *self.first, last_step, float(schedule(last_step)), logs["loss"])
            )

    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[EpochLR()])
    print(f"trained {total} steps under jit_compile=True in {time.perf_counter() - t0:.1f} s\n")
    print(f"{'epoch':>5}  {'first step':>10}  {'lr':>9}  {'last step':>9}  {'lr':>9}  {'loss':>8}")
    for epoch, s0, lr0, s1, lr1, loss in rows:
        print(f"{epoch:>5}  {s0:>10}  {lr0:>9.6f}  {s1:>9}  {lr1:>9.6f}  {loss:>8.4f}")

    history = fastlr.evaluate(schedule, int(optimizer.iterations))
    used = np.array([r[2] for r in rows], dtype="float32")
    same = np.array_equal(history[[r[1] for r in rows]], used)
    print(
        f"\nwhole LR history by bulk evaluation: {history.size} values, "
        f"min {history.min():.6f}, max {history.max():.6f}; "
        f"matches the optimizer at every epoch start: {same}"
    )
    return 0 if same else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastlr", description="Fast, exact, compile-safe learning-rate schedules for Keras."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train a small model under XLA with a fastlr schedule")
    p.add_argument("--epochs", type=int, default=6, help="epochs to train (default 6)")
    p.set_defaults(func=demo)
    return parser


def _version() -> str:
    from fastlr import __version__

    return f"fastlr {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if getattr(args, "epochs", 1) < 1:
        print(
            f"fastlr: error: Argument `epochs` must be >= 1. Received: epochs={args.epochs}",
            file=sys.stderr,
        )
        return 2
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
