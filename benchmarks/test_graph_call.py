"""What a schedule costs inside compiled TensorFlow code (pytest-benchmark).

* ``scalar``: one call at a scalar int64 step inside ``tf.function(jit_compile=True)``, the way an
  optimizer reads its LR every training step: fastlr vs the Keras built-in of the same name.
* ``vector``: 10**6 steps at once under XLA (Keras's ``CosineDecay`` with warmup cannot do this:
  it uses ``cond``).

Run: ``pytest benchmarks/test_graph_call.py`` (timings) or with ``--benchmark-disable`` (smoke).
"""

from __future__ import annotations

import keras
import pytest
import tensorflow as tf

import fastlr

PAIRS = {
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


def _scalar_fn(schedule):
    fn = tf.function(lambda step: schedule(step), jit_compile=True)
    step = tf.constant(12_345, tf.int64)
    fn(step)  # trace + compile outside the timed region
    return lambda: fn(step).numpy()


@pytest.mark.parametrize("name", sorted(PAIRS))
@pytest.mark.parametrize("impl", ["fastlr", "keras"])
def test_scalar_step_xla(benchmark, name, impl):
    cls = getattr(fastlr if impl == "fastlr" else keras.optimizers.schedules, name)
    benchmark.group = f"xla scalar call: {name}"
    benchmark(_scalar_fn(cls(**PAIRS[name])))


@pytest.mark.parametrize("name", ["WarmupCosineDecay", "WarmupCosineRestarts", "OneCycle"])
def test_vector_xla_1e6(benchmark, name):
    schedule = {
        "WarmupCosineDecay": fastlr.WarmupCosineDecay(0.1, 10**6, warmup_steps=10**4),
        "WarmupCosineRestarts": fastlr.WarmupCosineRestarts(0.1, 1000, 2.0, warmup_steps=100),
        "OneCycle": fastlr.OneCycle(0.1, 10**6),
    }[name]
    # The start is an argument so XLA cannot constant-fold the whole computation.
    fn = tf.function(
        lambda start: schedule(tf.range(start, start + 10**6, dtype=tf.int64)), jit_compile=True
    )
    start = tf.constant(7, tf.int64)
    fn(start)
    benchmark.group = "xla vector 1e6 steps"
    benchmark(lambda: fn(start).numpy())
