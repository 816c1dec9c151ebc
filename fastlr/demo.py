"""``fastlr demo``: a small Keras model trained under XLA with a fastlr schedule, its LR history
rebuilt in one bulk evaluation, 10**7 steps precomputed, and a plot."""

from __future__ import annotations

import time
from pathlib import Path

from fastlr._quiet_import import import_tensorflow_quietly


def tour(epochs: int, plot_path: Path | None = None) -> int:
    """The newcomer's tour: train under XLA, show the LRs, precompute 10**7 steps, plot.

    Prints as it goes; returns 0 when the bulk history equals the LR the optimizer used at every
    epoch start, else 1 (the exit code of ``fastlr demo``).
    """
    import_tensorflow_quietly()
    import numpy as np

    import fastlr

    t0 = time.perf_counter()
    import keras

    batch_size, n = 64, 2048
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
    print(f"1. a schedule is a pure function of the step:\n   {schedule!r}")
    check = fastlr.dry_run(schedule, epochs=epochs, steps_per_epoch=steps_per_epoch)
    print(
        "   checked before training (fastlr.dry_run): "
        + ("no problems" if check.ok else "; ".join(check.problems))
    )
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
    print(
        f"\n2. it trains a Keras model under jit_compile=True (XLA): {total} steps in "
        f"{time.perf_counter() - t0:.1f} s, no eager mode, nothing mutated\n"
    )
    print(f"{'epoch':>5}  {'first step':>10}  {'lr':>9}  {'last step':>9}  {'lr':>9}  {'loss':>8}")
    for epoch, s0, lr0, s1, lr1, loss in rows:
        print(f"{epoch:>5}  {s0:>10}  {lr0:>9.6f}  {s1:>9}  {lr1:>9.6f}  {loss:>8.4f}")

    history = fastlr.evaluate(schedule, int(optimizer.iterations))
    used = np.array([r[2] for r in rows], dtype="float32")
    same = np.array_equal(history[[r[1] for r in rows]], used)
    print(
        f"\n3. the whole LR history is one bulk evaluation: {history.size} values, "
        f"min {history.min():.6f}, max {history.max():.6f}; "
        f"equal to the optimizer's LR at every epoch start: {same}"
    )

    big = fastlr.WarmupCosineDecay(0.1, 10**7, warmup_steps=10**5, hold_steps=10**5, min_lr=1e-5)
    fastlr.evaluate(big, 1000)  # compile (or load from the cache) outside the timing
    t1 = time.perf_counter()
    values = fastlr.evaluate(big, 10**7)
    dt = time.perf_counter() - t1
    print(
        f"\n4. bulk precompute of 10**7 steps of {type(big).__name__} in {dt * 1e3:.1f} ms "
        f"({10**7 / dt / 1e6:,.0f} M steps/s, {values.nbytes / 2**20:.0f} MiB float32); "
        f"step 5,000,000 -> {values[5_000_000]:.6f}"
    )
    if plot_path is not None:
        try:
            from fastlr.plot import plot_schedule

            plot_schedule(schedule, total, path=str(plot_path))
            print(f"\n5. the schedule's plot: {plot_path}")
        except ImportError:
            print("\n5. no plot: matplotlib is missing (pip install 'fastlr[plot]')")
    return 0 if same else 1
