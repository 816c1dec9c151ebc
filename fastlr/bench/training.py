"""Training-step overhead: what a learning-rate schedule costs inside ``model.fit``.

The same small model (an MLP ``Dense(64) - Dense(64) - Dense(1)`` on 8 features, batch 64, SGD
with momentum, mean squared error, synthetic in-memory data) is trained with each LR variant of
:data:`VARIANTS`, and the time per training step is compared with the constant LR's:

* ``constant``: a constant float LR, the baseline (``jit_compile=True``);
* ``fastlr``: :class:`fastlr.CosineDecay` with warmup, a pure function of the step, compiled into
  the XLA train step (``jit_compile=True``);
* ``fastlr_warmup_cosine``: :class:`fastlr.WarmupCosineDecay` (warmup, hold, cosine to a floor);
* ``keras``: ``keras.optimizers.schedules.CosineDecay`` with the same parameters as ``fastlr``;
* ``eager_counter``: the recipe found in blog posts, a ``LearningRateSchedule`` subclass that
  ignores the step it is given, bumps a Python counter and appends to a ``learning_rate_list``
  on every call (warmup + cosine in Python :mod:`math`). A Python side effect only happens on
  every step if the step runs eagerly, so this recipe needs
  ``tf.config.run_functions_eagerly(True)`` and therefore ``jit_compile=False`` (XLA cannot run
  eagerly); compiled, the counter would only move while tracing and the LR would be frozen.

What is timed: one call of ``model.fit(dataset, epochs=1, verbose=0)`` over a fixed, cached
``tf.data`` dataset of ``steps`` batches, i.e. everything a user's ``fit`` pays per step (the
compiled train step, Keras's per-batch Python loop and callbacks) plus a small per-call cost
(the epoch iterator, the callback list) shared equally by every variant and amortized over
``steps``. The model, its optimizer and the compiled train function are built and warmed up by
:func:`prepare` (one full ``fit``, which traces and compiles), outside the timed region; Keras
keeps ``model.train_function`` between ``fit`` calls and the dataset's element spec is fixed
(``drop_remainder=True``), so later calls do not retrace (``tests/test_bench_training.py``
checks this). The schedule's step keeps growing across calls, as it does in training.
``fit`` rather than a ``train_on_batch`` loop is timed because it is what users run, and the
eager recipe's cost is a property of ``fit``'s whole step; the per-call cost (about 10 ms on a
2-core machine) adds about 0.1 ms to each of 100 steps, equally for every variant.

The compiled variants run the same ``steps`` per round; the eager one runs ``steps // 10``: it
is about an order of magnitude slower per step, and the figure that matters is the time per
step. :func:`step_overhead` interleaves the variants' rounds, so a busy spell of the machine
(TF's small ops are very sensitive to another process taking a core) hits all of them alike.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

from fastlr.bench.timing import measure, median

VARIANTS: dict[str, str] = {
    "constant": "constant float LR (jit_compile=True)",
    "fastlr": "fastlr.CosineDecay with warmup (jit_compile=True)",
    "fastlr_warmup_cosine": "fastlr.WarmupCosineDecay (jit_compile=True)",
    "keras": "keras.optimizers.schedules.CosineDecay with warmup (jit_compile=True)",
    "eager_counter": "Python-counter schedule under run_functions_eagerly (jit_compile=False)",
}
"""Variant name -> human label, in report order."""

BATCH_SIZE = 64
FEATURES = 8
PEAK_LR = 0.01
COSINE_PARAMS: dict[str, Any] = dict(
    initial_learning_rate=0.0,
    decay_steps=10_000,
    alpha=0.01,
    warmup_target=PEAK_LR,
    warmup_steps=500,
)
"""Parameters shared by the ``fastlr`` and ``keras`` variants (Keras's ``CosineDecay``)."""

WARMUP_COSINE_PARAMS: dict[str, Any] = dict(
    target_lr=PEAK_LR, total_steps=10_500, warmup_steps=500, hold_steps=0, min_lr=1e-4
)
"""Parameters of ``fastlr_warmup_cosine`` and of the ``eager_counter`` recipe (same curve)."""

EAGER_DIVISOR = 10
"""The eager variant runs ``max(1, steps // EAGER_DIVISOR)`` steps per round."""

# (steps per round of the compiled variants, timing passes (= min rounds), max rounds,
#  time budget per variant in seconds)
_QUICK = (100, 5, 20, 2.0)
_FULL = (500, 8, 64, 16.0)


def _tf():
    """TensorFlow and Keras, imported quietly on first use."""
    from fastlr._quiet_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras
    import tensorflow as tf

    return tf, keras


def _eager_counter_schedule(
    target_lr: float, total_steps: int, warmup_steps: int, hold_steps: int, min_lr: float
):
    """The stateful blog-post recipe, as a ``LearningRateSchedule`` instance.

    Its values at calls ``0, 1, 2, ...`` are those of :class:`fastlr.WarmupCosineDecay` with the
    same arguments at steps ``0, 1, 2, ...``, so only the way they are computed differs.
    """
    _, keras = _tf()

    class EagerCounterSchedule(keras.optimizers.schedules.LearningRateSchedule):
        def __init__(self) -> None:
            super().__init__()
            self.step = 0
            self.learning_rate_list: list[float] = []

        def __call__(self, step):  # ignores ``step``: the Python counter is the clock
            s = min(self.step, total_steps)
            if s < warmup_steps:
                lr = target_lr * s / warmup_steps
            elif s < warmup_steps + hold_steps:
                lr = target_lr
            else:
                frac = (s - warmup_steps - hold_steps) / (total_steps - warmup_steps - hold_steps)
                lr = min_lr + 0.5 * (target_lr - min_lr) * (1.0 + math.cos(math.pi * frac))
            self.step += 1
            self.learning_rate_list.append(lr)
            return lr

        def get_config(self) -> dict:
            return dict(
                target_lr=target_lr,
                total_steps=total_steps,
                warmup_steps=warmup_steps,
                hold_steps=hold_steps,
                min_lr=min_lr,
            )

    return EagerCounterSchedule()


def make_learning_rate(variant: str):
    """The ``learning_rate`` argument of the optimizer for ``variant`` (a float or a schedule)."""
    if variant == "constant":
        return PEAK_LR
    if variant == "fastlr":
        import fastlr

        _tf()  # fastlr schedules become Keras schedules once Keras is imported
        return fastlr.CosineDecay(**COSINE_PARAMS)
    if variant == "fastlr_warmup_cosine":
        import fastlr

        _tf()
        return fastlr.WarmupCosineDecay(**WARMUP_COSINE_PARAMS)
    if variant == "keras":
        _, keras = _tf()
        return keras.optimizers.schedules.CosineDecay(**COSINE_PARAMS)
    if variant == "eager_counter":
        return _eager_counter_schedule(**WARMUP_COSINE_PARAMS)
    raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(VARIANTS)}")


class Runner:
    """A warmed-up training run: calling it trains ``steps`` steps with ``model.fit``.

    Attributes:
        variant: the key of :data:`VARIANTS`.
        steps: training steps per call.
        model: the compiled Keras model (its optimizer holds the LR variant).
        learning_rate: what the optimizer was given (a float or a schedule).
        dataset: the cached ``tf.data`` dataset of ``steps`` batches.
        eager: whether calls run under ``tf.config.run_functions_eagerly(True)``.
    """

    def __init__(self, variant: str, steps: int, model, learning_rate, dataset, eager: bool):
        self.variant = variant
        self.steps = steps
        self.model = model
        self.learning_rate = learning_rate
        self.dataset = dataset
        self.eager = eager

    def __call__(self) -> None:
        """Train ``steps`` steps (one epoch over the dataset, ``verbose=0``)."""
        if not self.eager:
            self.model.fit(self.dataset, epochs=1, verbose=0, shuffle=False)
            return
        tf, _ = _tf()
        tf.config.run_functions_eagerly(True)
        try:
            self.model.fit(self.dataset, epochs=1, verbose=0, shuffle=False)
        finally:
            tf.config.run_functions_eagerly(False)


def build(variant: str, steps: int) -> Runner:
    """Build the model, optimizer and dataset of ``variant`` without training (not warm)."""
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; expected one of {sorted(VARIANTS)}")
    if steps < 1:
        raise ValueError(f"steps must be >= 1, got {steps}")
    import numpy as np

    tf, keras = _tf()
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    n = steps * BATCH_SIZE
    x = rng.standard_normal((n, FEATURES)).astype(np.float32)
    w = rng.standard_normal((FEATURES, 1)).astype(np.float32)
    y = (np.tanh(x @ w) + 0.1 * rng.standard_normal((n, 1))).astype(np.float32)
    dataset = (
        tf.data.Dataset.from_tensor_slices((x, y)).batch(BATCH_SIZE, drop_remainder=True).cache()
    )
    model = keras.Sequential(
        [
            keras.Input((FEATURES,)),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(64, activation="relu"),
            keras.layers.Dense(1),
        ]
    )
    lr = make_learning_rate(variant)
    eager = variant == "eager_counter"
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=lr, momentum=0.9),
        loss="mse",
        jit_compile=not eager,
    )
    return Runner(variant, steps, model, lr, dataset, eager)


def prepare(variant: str, steps: int) -> Callable[[], None]:
    """Build ``variant``'s model and data, warm it up, and return the callable to time.

    The warm-up is one full call (``steps`` training steps): it traces and compiles the train
    step and fills the dataset's cache. ``tf.config.run_functions_eagerly`` is back to ``False``
    when this returns or raises, and after every call of the returned :class:`Runner`.

    Args:
        variant: a key of :data:`VARIANTS`.
        steps: training steps per call of the returned callable, >= 1.

    Returns:
        A :class:`Runner`: calling it runs ``steps`` steps of ``model.fit``.
    """
    runner = build(variant, steps)
    runner()
    return runner


def _steps_for(variant: str, steps: int) -> int:
    return max(1, steps // EAGER_DIVISOR) if variant == "eager_counter" else steps


def step_overhead(
    *,
    quick: bool = False,
    progress: Callable[[str], None] = lambda msg: None,
    steps: int | None = None,
    variants: Iterable[str] | None = None,
) -> list[dict]:
    """Median time per training step of each variant, and its ratio to the constant LR.

    All variants are prepared first (built, compiled, warmed up), then timed in interleaved
    passes: each pass gives every variant a share of its time budget through
    :func:`fastlr.bench.timing.measure`, so a slow spell of the machine (another process, CPU
    frequency) spreads over all variants instead of skewing one ratio. The median and minimum
    are over all rounds of a variant, every pass together.

    Args:
        quick: fewer steps per round and a smaller time budget (well under a minute on 2 cores);
            the full run takes about two minutes.
        progress: called with a one-line message as the run advances.
        steps: steps per round of the compiled variants (the eager one runs
            ``max(1, steps // 10)``); default 100 (quick) or 500.
        variants: which keys of :data:`VARIANTS` to run, default all (in :data:`VARIANTS` order).

    Returns:
        One dict per variant: ``variant``, ``label``, ``per_step_s`` (median over rounds of the
        round's time / steps), ``min_per_step_s``, ``rounds``, ``steps`` (per round) and
        ``ratio_vs_constant`` (``per_step_s`` over the constant's, ``None`` without it).
    """
    import time

    default_steps, passes, max_rounds, budget_s = _QUICK if quick else _FULL
    base = default_steps if steps is None else int(steps)
    names = list(VARIANTS) if variants is None else list(variants)
    for name in names:
        if name not in VARIANTS:
            raise ValueError(f"unknown variant {name!r}; expected one of {sorted(VARIANTS)}")
    runners: dict[str, Runner] = {}
    for name in names:
        n = _steps_for(name, base)
        progress(f"{name}: building and warming up ({n} steps per round)")
        runners[name] = prepare(name, n)
    times: dict[str, list[float]] = {name: [] for name in names}
    for p in range(passes):
        progress(f"timing pass {p + 1}/{passes}")
        for name, runner in runners.items():
            sink = times[name]

            def timed(runner: Runner = runner, sink: list[float] = sink) -> None:
                t0 = time.perf_counter()
                runner()
                sink.append(time.perf_counter() - t0)

            measure(
                timed,
                min_rounds=1,
                max_rounds=max(1, max_rounds // passes),
                budget_s=budget_s / passes,
            )
    rows = [
        row(name, runners[name].steps, median(times[name]), min(times[name]), len(times[name]))
        for name in names
    ]
    for r in with_ratios(rows):
        progress(f"{r['variant']}: {1e3 * r['per_step_s']:.3f} ms/step ({r['rounds']} rounds)")
    return rows


def row(variant: str, steps: int, median_s: float, min_s: float, rounds: int) -> dict:
    """The result row of ``variant`` from its round times (``steps`` training steps a round);
    :func:`with_ratios` adds ``ratio_vs_constant``."""
    return dict(
        variant=variant,
        label=VARIANTS[variant],
        per_step_s=median_s / steps,
        min_per_step_s=min_s / steps,
        rounds=rounds,
        steps=steps,
    )


def with_ratios(rows: list[dict]) -> list[dict]:
    """Set every row's ``ratio_vs_constant`` (``per_step_s`` over the constant LR's; ``None``
    without a constant row); returns ``rows``."""
    ref = next((r["per_step_s"] for r in rows if r["variant"] == "constant"), None)
    for r in rows:
        r["ratio_vs_constant"] = None if ref is None else r["per_step_s"] / ref
    return rows
