"""Keras optimizers with scheduled hyperparameters (``fastlr.optimizers``), through weights.

1. With floats, every class is Keras's optimizer, bit for bit (same weights after training).
2. A scheduled momentum, beta or weight decay is the schedule's value at each optimizer step:
   checked against a float64 simulation of Keras's update rule on a one-weight probe model
   whose gradient is exactly 1 (SGD: ``v_t = m_t v_(t-1) - lr_t g``, ``w_t = w_(t-1) + v_t``).
3. Gradient accumulation: the LR of optimizer step ``n`` is the schedule at ``n`` (Keras's own
   optimizers run it ``k`` times too fast).
4. Save/load by name (``fastlr>SGD``) and an exact resume.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import keras
import numpy as np
import pytest

import fastlr
from fastlr import optimizers as fo

BATCH = 4


@keras.saving.register_keras_serializable(package="fastlr_tests")
def mean_output(y_true, y_pred):
    return keras.ops.mean(y_pred)


def probe(optimizer, **compile_kw):
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(optimizer=optimizer, loss=mean_output, jit_compile=True, **compile_kw)
    return model


def weights_per_step(model, steps):
    """The probe's weight before training and after each of ``steps`` batches."""
    x = np.ones((BATCH * steps, 1), "float32")
    out = [float(model.layers[0].kernel.numpy()[0, 0])]

    class Grab(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            out.append(float(model.layers[0].kernel.numpy()[0, 0]))

    model.fit(x, np.zeros_like(x), batch_size=BATCH, verbose=0, callbacks=[Grab()])
    return np.asarray(out)


CLASSES = {
    "SGD": dict(learning_rate=0.05, momentum=0.9, nesterov=True, weight_decay=0.01),
    "RMSprop": dict(learning_rate=0.01, momentum=0.8, centered=True, weight_decay=0.02),
    "Adam": dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95, weight_decay=0.01),
    "AdamW": dict(learning_rate=0.01, beta_1=0.85, beta_2=0.99, weight_decay=0.1),
    "Nadam": dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95),
    "Adamax": dict(learning_rate=0.01, beta_1=0.8, beta_2=0.95),
    "Lion": dict(learning_rate=0.001, beta_1=0.85, beta_2=0.98, weight_decay=0.01),
}


def regression(optimizer, steps=12):
    """A small MLP trained ``steps`` steps on fixed random data: its final weights."""
    keras.utils.set_random_seed(1)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(BATCH * steps, 5)).astype("float32")
    y = (x @ rng.normal(size=(5, 1))).astype("float32")
    model = keras.Sequential(
        [keras.Input((5,)), keras.layers.Dense(7, activation="tanh"), keras.layers.Dense(1)]
    )
    model.compile(optimizer=optimizer, loss="mse", jit_compile=True)
    model.fit(x, y, batch_size=BATCH, verbose=0, shuffle=False)
    return model.get_weights()


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_with_floats_each_class_is_kerass_optimizer_bit_for_bit(name):
    kw = CLASSES[name]
    ours = regression(getattr(fo, name)(**kw))
    theirs = regression(getattr(keras.optimizers, name)(**kw))
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", sorted(CLASSES))
def test_constant_schedules_train_like_the_floats(name):
    kw = CLASSES[name]
    scheduled = {
        k: fastlr.Constant(v) if k in getattr(fo, name).schedulable else v for k, v in kw.items()
    }
    opt = getattr(fo, name)(**scheduled)
    assert set(opt.schedules) == {k for k in kw if k in getattr(fo, name).schedulable}
    ours = regression(opt)
    theirs = regression(getattr(keras.optimizers, name)(**kw))
    # float32 schedule values vs Python floats in `1 - beta`: a few float32 ulps apart.
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=2e-5, atol=1e-6)


def _lrs(schedule, n):
    return schedule.evaluate(n, dtype="float32").astype(np.float64)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_is_the_schedule_at_every_step(nesterov):
    n = 20
    lr = fastlr.OneCycle(0.1, n)
    momentum = fastlr.CyclicalLearningRate(0.85, 0.95, step_size=4)
    w = weights_per_step(probe(fo.SGD(lr, momentum=momentum, nesterov=nesterov)), n)
    # Keras's SGD with gradient 1, in float64: v = m v - lr; w += v (Nesterov: w += m v - lr).
    lrs, ms = _lrs(lr, n), _lrs(momentum, n)
    v, want = 0.0, [1.0]
    for t in range(n):
        v = ms[t] * v - lrs[t]
        want.append(want[-1] + (ms[t] * v - lrs[t] if nesterov else v))
    np.testing.assert_allclose(w, want, rtol=0, atol=4e-7)
    # The momentum read back from the weights (plain momentum): m_t = (v_t + lr_t) / v_(t-1).
    if not nesterov:
        v = np.diff(w)
        np.testing.assert_allclose((v[1:] + lrs[1:]) / v[:-1], ms[1:], rtol=2e-4)


GOLDEN = Path(__file__).parent / "peers" / "torch_golden.json"


@pytest.mark.parametrize(
    ("kind", "three_phase"),
    [("OneCycle", False), ("OneCycle", True), ("CyclicalLearningRate", None)],
)
def test_momentum_in_training_is_torchs_per_step_momentum(kind, three_phase):
    """torch's OneCycleLR / CyclicLR with ``cycle_momentum=True`` (golden values): the weights
    of Keras's SGD update with fastlr's companion momentum are those of torch's momenta."""
    cases = json.loads(GOLDEN.read_text())["momentum_cases"]
    case = next(
        c for c in cases if c["schedule"] == kind and c["params"].get("three_phase") == three_phase
    )
    lr = fastlr.REGISTRY[kind](**case["params"])
    momentum = lr.momentum_schedule(**case["momentum"])
    n = min(len(case["values"]), 60)
    w = weights_per_step(probe(fo.SGD(lr, momentum=momentum)), n)
    lrs, torch_m = _lrs(lr, n), np.float32(case["values"][:n]).astype(np.float64)
    v, want = 0.0, [1.0]
    for t in range(n):
        v = torch_m[t] * v - lrs[t]
        want.append(want[-1] + v)
    np.testing.assert_allclose(w, want, rtol=1e-6, atol=1e-6)  # float32 weights
    # and read back from the weights: m_t = (v_t + lr_t) / v_(t-1)
    d = np.diff(w)
    np.testing.assert_allclose((d[1:] + lrs[1:]) / d[:-1], torch_m[1:], rtol=5e-3)


def test_rmsprop_momentum_is_the_schedule_at_every_step():
    n = 12
    momentum = fastlr.CosineDecay(0.9, n, alpha=0.5)
    w = weights_per_step(probe(fo.RMSprop(0.01, momentum=momentum, rho=0.8)), n)
    ms = _lrs(momentum, n)
    vel, mom, want = 0.0, 0.0, [1.0]
    for t in range(n):
        vel = 0.8 * vel + 0.2
        mom = ms[t] * mom + 0.01 / math.sqrt(vel + 1e-7)
        want.append(want[-1] - mom)
    np.testing.assert_allclose(w, want, rtol=1e-6)


@pytest.mark.parametrize("name", ["Adam", "AdamW"])
def test_adam_betas_are_the_schedules_at_every_step(name):
    n = 12
    b1 = fastlr.CyclicalLearningRate(0.85, 0.95, step_size=3)
    b2 = fastlr.PolynomialDecay(0.99, n, end_learning_rate=0.9)
    w = weights_per_step(probe(getattr(fo, name)(0.01, beta_1=b1, beta_2=b2, weight_decay=0.0)), n)
    beta1, beta2 = _lrs(b1, n), _lrs(b2, n)
    m = v = 0.0
    want = [1.0]
    for t in range(n):
        m += (1.0 - m) * (1 - beta1[t])
        v += (1.0 - v) * (1 - beta2[t])
        alpha = 0.01 * math.sqrt(1 - beta2[t] ** (t + 1)) / (1 - beta1[t] ** (t + 1))
        want.append(want[-1] - m * alpha / (math.sqrt(v) + 1e-7))
    np.testing.assert_allclose(w, want, rtol=2e-6)


def test_adamax_and_nadam_betas_are_the_schedules_at_every_step():
    n = 12
    b1 = fastlr.CyclicalLearningRate(0.85, 0.95, step_size=3)
    b2 = fastlr.PolynomialDecay(0.99, n, end_learning_rate=0.9)
    beta1, beta2 = _lrs(b1, n), _lrs(b2, n)
    lr, eps = 0.01, 1e-7
    # Adamax with gradient 1: m += (1 - m)(1 - b1); u = max(b2 u, 1) = 1
    w = weights_per_step(probe(fo.Adamax(lr, beta_1=b1, beta_2=b2)), n)
    m, want = 0.0, [1.0]
    for t in range(n):
        m += (1.0 - m) * (1 - beta1[t])
        want.append(want[-1] - lr / (1 - beta1[t] ** (t + 1)) * m / (1.0 + eps))
    np.testing.assert_allclose(w, want, rtol=2e-6)
    # Nadam (Keras's form): the running product of u_t takes each step's beta_1
    w = weights_per_step(probe(fo.Nadam(lr, beta_1=b1, beta_2=b2)), n)
    m = v = 0.0
    product, want = 1.0, [1.0]
    for t in range(n):
        u_t = beta1[t] * (1 - 0.5 * 0.96 ** (t + 1))
        u_next = beta1[t] * (1 - 0.5 * 0.96 ** (t + 2))
        product *= u_t
        m += (1.0 - m) * (1 - beta1[t])
        v += (1.0 - v) * (1 - beta2[t])
        m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) / (1 - product)
        v_hat = v / (1 - beta2[t] ** (t + 1))
        want.append(want[-1] - m_hat * lr / (math.sqrt(v_hat) + eps))
    np.testing.assert_allclose(w, want, rtol=2e-6)


def test_weight_decay_is_the_schedule_at_every_step():
    n = 10
    wd = fastlr.ExponentialDecay(0.5, 2, 0.5)
    w = weights_per_step(probe(fo.SGD(0.1, weight_decay=wd)), n)
    wds = _lrs(wd, n)
    want = [1.0]
    for t in range(n):
        x = want[-1] - want[-1] * wds[t] * 0.1
        want.append(x - 0.1)
    np.testing.assert_allclose(w, want, rtol=0, atol=4e-7)  # float32 weights near 1


# -- gradient accumulation --------------------------------------------------------------------
def test_with_gradient_accumulation_the_lr_follows_the_optimizer_step():
    n, k = 8, 2
    s = fastlr.WarmupCosineDecay(0.1, 10, warmup_steps=3)
    w = weights_per_step(probe(fo.SGD(s, gradient_accumulation_steps=k)), n * k)
    applied = -np.diff(w)[k - 1 :: k]  # the weight moves once per k micro-batches
    np.testing.assert_allclose(applied, _lrs(s, n), rtol=0, atol=2e-7)  # float32 weights
    assert np.all(np.diff(w)[0::k] == 0.0)
    # Keras's own SGD evaluates the schedule at the micro-batch count: twice as fast.
    w = weights_per_step(probe(keras.optimizers.SGD(s, gradient_accumulation_steps=k)), n * k)
    keras_applied = -np.diff(w)[k - 1 :: k]
    np.testing.assert_allclose(keras_applied, _lrs(s, 2 * n)[1::2], rtol=0, atol=2e-7)


def test_scheduled_momentum_under_gradient_accumulation():
    n, k = 6, 3
    momentum = fastlr.Table([0.5, 0.9, 0.0, 0.7, 0.2, 0.9])
    w = weights_per_step(
        probe(fo.SGD(0.1, momentum=momentum, gradient_accumulation_steps=k)), n * k
    )
    v, want = 0.0, [1.0]
    for t in range(n):
        v = momentum.values[t] * v - 0.1
        want.append(want[-1] + v)
    np.testing.assert_allclose(w[::k], want, rtol=0, atol=4e-7)


def test_dry_run_reports_a_keras_optimizer_that_accumulates():
    s = fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=10)
    report = fastlr.dry_run(
        s, 1000, optimizer=keras.optimizers.Adam(s, gradient_accumulation_steps=4)
    )
    assert report.problems == [
        "Adam has gradient_accumulation_steps=4: Keras evaluates the schedule at its micro-batch "
        "count, so it runs 4x too fast (optimizer step n gets the LR of step 4n + 3); use "
        "fastlr.optimizers.Adam, which evaluates it at the optimizer step"
    ]
    assert fastlr.dry_run(s, 1000, optimizer=fo.Adam(s, gradient_accumulation_steps=4)).ok
    assert fastlr.dry_run(s, 1000, optimizer=keras.optimizers.Adam(s)).ok
    assert not fastlr.dry_run(keras.optimizers.SGD(s, gradient_accumulation_steps=2), 1000).ok


# -- saving -----------------------------------------------------------------------------------
def test_save_load_and_resume_exactly(tmp_path):
    s = fastlr.OneCycle(0.1, 30)
    momentum = fastlr.CosineDecay(0.95, 30, alpha=0.85 / 0.95)
    model = probe(fo.SGD(s, momentum=momentum, weight_decay=fastlr.Constant(1e-3)))
    x = np.ones((BATCH * 5, 1), "float32")
    model.fit(x, np.zeros_like(x), batch_size=BATCH, verbose=0)
    path = tmp_path / "m.keras"
    model.save(path)
    config = model.optimizer.get_config()
    assert config["momentum"]["class_name"] == "CosineDecay"
    assert keras.saving.get_registered_name(fo.SGD) == "fastlr>SGD"
    loaded = keras.models.load_model(path)
    opt = loaded.optimizer
    assert type(opt) is fo.SGD and opt.schedules == model.optimizer.schedules
    assert int(opt.iterations.numpy()) == 5
    more = np.ones((BATCH * 4, 1), "float32")
    model.fit(more, np.zeros_like(more), batch_size=BATCH, verbose=0)
    loaded.fit(more, np.zeros_like(more), batch_size=BATCH, verbose=0)
    np.testing.assert_array_equal(model.get_weights(), loaded.get_weights())


def test_a_float_still_works_and_signatures_are_kerass():
    import inspect

    for name in CLASSES:
        ours, theirs = getattr(fo, name), getattr(keras.optimizers, name)
        assert inspect.signature(ours) == inspect.signature(theirs)
        assert issubclass(ours, theirs)
    opt = fo.SGD(0.1, momentum=0.9)
    assert opt.momentum == 0.9 and opt.schedules == {}
    with pytest.raises(ValueError, match="momentum"):
        fo.SGD(0.1, momentum=1.5)  # Keras's own check of a float
