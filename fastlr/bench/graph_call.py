"""What one schedule call costs inside compiled TensorFlow code: fastlr vs Keras's built-in.

An optimizer reads its learning rate once per training step, at a scalar int64 step, inside the
compiled train step. :func:`prepare` traces and compiles ``schedule(step)`` under
``tf.function(jit_compile=True)`` and returns the warm callable to time (one call and its
``.numpy()``). The pairs (:data:`PAIRS`) are fastlr's classes that keep a Keras built-in's name and
parameters, so both sides compute the same values. The vectorized case (a schedule on 10**6
steps at once under XLA) is the bulk benchmark's ``tf_xla`` and ``keras_xla`` engines
(:mod:`fastlr.bench.throughput`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

PAIRS: dict[str, dict[str, Any]] = {
    "CosineDecay": dict(
        initial_learning_rate=0.0,
        decay_steps=10_000,
        alpha=0.01,
        warmup_target=0.1,
        warmup_steps=500,
    ),
    "CosineDecayRestarts": dict(initial_learning_rate=0.1, first_decay_steps=1000, t_mul=2.0),
    "PolynomialDecay": dict(initial_learning_rate=0.1, decay_steps=1000, power=2.0, cycle=True),
    "ExponentialDecay": dict(initial_learning_rate=0.1, decay_steps=1000, decay_rate=0.9),
}
"""Class name -> parameters, shared by fastlr's class and Keras's built-in of that name."""

IMPLS = ("fastlr", "keras")
STEP = 12_345
"""The step every call is made at."""


def schedule(name: str, impl: str) -> Any:
    """fastlr's or Keras's schedule ``name`` with the parameters of :data:`PAIRS`."""
    if name not in PAIRS or impl not in IMPLS:
        raise ValueError(
            f"Arguments `name`, `impl` must be in {sorted(PAIRS)}, {IMPLS}. "
            f"Received: name={name!r}, impl={impl!r}"
        )
    from fastlr._quiet_import import import_tensorflow_quietly

    import_tensorflow_quietly()
    import keras

    import fastlr

    module = fastlr if impl == "fastlr" else keras.optimizers.schedules
    return getattr(module, name)(**PAIRS[name])


def prepare(name: str, impl: str) -> Callable[[], object]:
    """A warm callable: one call of the schedule at :data:`STEP` under XLA, then ``.numpy()``
    (traced and compiled here, outside the timed region)."""
    s = schedule(name, impl)
    import tensorflow as tf

    fn = tf.function(lambda step: s(step), jit_compile=True)
    step = tf.constant(STEP, tf.int64)
    fn(step)
    return lambda: fn(step).numpy()


def row(name: str, impl: str, median_s: float, min_s: float, rounds: int) -> dict:
    """The result row of one timed pair member."""
    return {"schedule": name, "impl": impl, "median_s": median_s, "min_s": min_s, "rounds": rounds}
