"""Mixed precision: schedules under ``mixed_float16`` / ``mixed_bfloat16`` stay float32 and exact.

Under a mixed policy the layers compute in float16/bfloat16 but keep float32 variables, and
``compile`` wraps the optimizer in a ``LossScaleOptimizer`` for ``mixed_float16``. The LR must
still be the float32 schedule value: the optimizer's ``learning_rate`` is float32 and equals
``fastlr.evaluate(schedule, steps)``, and the float32 weight update ``w - lr * grad`` (grad 1:
the probe model of ``conftest``, whose gradient is exactly 1 in any of these dtypes, loss scaling
included) applies exactly that value, with and without XLA.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import kernel_recorder, probe_model

import fastlr

POLICIES = ["mixed_float16", "mixed_bfloat16"]
BATCH, STEPS_PER_EPOCH, EPOCHS = 4, 5, 3
N = STEPS_PER_EPOCH * EPOCHS

SCHEDULES = {
    "warmup-cosine": fastlr.WarmupCosineDecay(
        1.0, total_steps=N, warmup_steps=4, hold_steps=2, start_lr=0.1, min_lr=0.05
    ),
    # A composite: warmup into a cosine, then a constant tail.
    "composite": fastlr.Sequential(
        [
            fastlr.Warmup(fastlr.CosineDecay(0.7, 8, alpha=0.2), 3, start_lr=0.1),
            fastlr.Constant(0.3),
        ],
        [10],
    ),
}


@pytest.fixture(params=POLICIES)
def policy(request):
    keras.mixed_precision.set_global_policy(request.param)
    try:
        yield request.param
    finally:
        keras.mixed_precision.set_global_policy("float32")


def data():
    x = np.ones((BATCH * STEPS_PER_EPOCH, 1), np.float32)
    return x, np.zeros_like(x)


class LearningRates(keras.callbacks.Callback):
    """The optimizer's ``learning_rate`` before every step, as the tensor it is."""

    def __init__(self):
        super().__init__()
        self.values = []

    def on_train_batch_begin(self, batch, logs=None):
        self.values.append(tf.convert_to_tensor(self.model.optimizer.learning_rate))


def assert_applied(kernels, want):
    kernels = np.asarray(kernels, np.float64)
    applied = kernels[:-1] - kernels[1:]  # gradient 1: the per-step decrease is the LR
    tol = 2 * np.spacing(np.maximum(np.abs(kernels[:-1]), np.abs(kernels[1:])).astype(np.float32))
    bad = np.flatnonzero(np.abs(applied - want) > tol)
    assert bad.size == 0, (bad, applied[bad], want[bad])


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("name", list(SCHEDULES))
def test_fit_applies_float32_schedule(policy, name, jit_compile):
    schedule = SCHEDULES[name]
    model = probe_model(schedule, jit_compile=jit_compile)
    layer = model.layers[0]
    assert layer.compute_dtype == policy.split("_")[1]  # the layer really runs in half precision
    assert layer.kernel.dtype == "float32"
    optimizer = model.optimizer
    if policy == "mixed_float16":  # compile wraps the optimizer for loss scaling
        assert isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
        assert optimizer.inner_optimizer._learning_rate is schedule
    else:
        assert not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    recorder, lrs = kernel_recorder(), LearningRates()
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[recorder, lrs])
    assert int(optimizer.iterations.numpy()) == N
    want = fastlr.evaluate(schedule, N)
    assert want.dtype == np.float32
    assert all(v.dtype == tf.float32 for v in lrs.values)
    np.testing.assert_array_equal(np.array([v.numpy() for v in lrs.values]), want)
    assert_applied(recorder.kernels, want.astype(np.float64))
    # The schedule itself, called under the policy: float32, whatever the step dtype.
    for dtype in (tf.int64, tf.int32, tf.float16, tf.float32):
        out = schedule(tf.constant(7, dtype))
        assert out.dtype == tf.float32
        assert out.numpy() == want[7]


def test_plateau_under_mixed_precision(policy):
    """The plateau callback scales the (inner) optimizer's schedule, LossScaleOptimizer or not."""
    schedule = SCHEDULES["warmup-cosine"]
    model = probe_model(schedule)
    recorder, lrs = kernel_recorder(), LearningRates()
    # The probe loss decreases every epoch; mode="max" makes every epoch a non-improvement.
    plateau = fastlr.ReduceLROnPlateau(monitor="loss", mode="max", factor=0.5, patience=1)
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[plateau, recorder, lrs])
    # Epoch 1 sets best; epochs 2 and 3 reduce (patience 1): at steps 10 and 15.
    scale = np.ones(N, np.float32)
    scale[2 * STEPS_PER_EPOCH :] = 0.5
    want = fastlr.evaluate(schedule, N) * scale
    assert all(v.dtype == tf.float32 for v in lrs.values)
    np.testing.assert_array_equal(np.array([v.numpy() for v in lrs.values]), want)
    assert_applied(recorder.kernels, want.astype(np.float64))
    optimizer = getattr(model.optimizer, "inner_optimizer", model.optimizer)
    wrapped = optimizer._learning_rate
    assert isinstance(wrapped, fastlr.ScaledLearningRate)
    assert wrapped.changes == [[10, 0.5], [15, 0.25]]
    np.testing.assert_array_equal(fastlr.learning_rate_history(model), want)


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
def test_scheduled_momentum_under_mixed_precision(policy, jit_compile):
    """``fastlr.optimizers.SGD``'s scheduled momentum (inside the ``LossScaleOptimizer`` for
    ``mixed_float16``) is the schedule's float32 value at each step."""
    lr = SCHEDULES["warmup-cosine"]
    momentum = fastlr.OneCycle(0.1, N).momentum_schedule(0.8, 0.95)
    model = probe_model(lr, jit_compile=jit_compile)
    model.compile(
        optimizer=fastlr.optimizers.SGD(lr, momentum=momentum),
        loss=lambda y_true, y_pred: keras.ops.mean(y_pred),
        jit_compile=jit_compile,
    )
    recorder = kernel_recorder()
    x, y = data()
    model.fit(x, y, batch_size=BATCH, epochs=EPOCHS, verbose=0, callbacks=[recorder])
    lrs = fastlr.evaluate(lr, N).astype(np.float64)
    ms = fastlr.evaluate(momentum, N).astype(np.float64)
    v, w, want = 0.0, 0.0, [0.0]
    for t in range(N):  # Keras's SGD with gradient 1: v = m v - lr; w += v
        v = ms[t] * v - lrs[t]
        w += v
        want.append(w)
    np.testing.assert_allclose(recorder.kernels, want, rtol=1e-6, atol=1e-6)


def test_policy_is_restored_after_each_test():
    assert keras.mixed_precision.global_policy().name == "float32"
