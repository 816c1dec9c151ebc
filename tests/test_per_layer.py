"""Discriminative (per-layer) learning rates, checked through the weights of a probe model.

The probe has one weight per group (``Dense(1)``, no bias, zero init), all fed the same input of
ones, and loss ``mean(sum of the outputs)``: every weight's gradient is exactly 1, so SGD moves
weight ``i`` by exactly the LR group ``i``'s optimizer applied at that step. The applied LRs are
read back from the weights, under ``jit_compile=True``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest

import fastlr
from fastlr.per_layer import LayerGroups, spread_factors

BATCH = 4


def probe(groups: int = 3):
    keras.utils.set_random_seed(0)
    x = keras.Input((1,))
    layers = [
        keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros", name=f"g{i}")
        for i in range(groups)
    ]
    out = keras.layers.Add()([layer(x) for layer in layers]) if groups > 1 else layers[0](x)
    return keras.Model(x, out), layers


@keras.saving.register_keras_serializable(package="fastlr_tests")
def mean_output(y_true, y_pred):
    return keras.ops.mean(y_pred)


@keras.saving.register_keras_serializable(package="fastlr_tests")
def mean_output_plus_100(y_true, y_pred):
    return keras.ops.mean(y_pred) + 100.0  # positive: the range test never sees a divergence


def compile_probe(model, optimizer, loss=mean_output):
    model.compile(optimizer=optimizer, loss=loss, jit_compile=True)


def data(steps):
    x = np.ones((BATCH * steps, 1), "float32")
    return x, np.zeros((len(x), 1), "float32")


class Weights(keras.callbacks.Callback):
    """Every probe weight before training and after every batch: ``applied()[i]`` is group
    ``i``'s LR at each step."""

    def __init__(self, layers):
        super().__init__()
        self.layers = layers
        self.rows = []

    def _grab(self):
        self.rows.append([float(layer.kernel.numpy()[0, 0]) for layer in self.layers])

    def on_train_begin(self, logs=None):
        self._grab()

    def on_train_batch_end(self, batch, logs=None):
        self._grab()

    def applied(self) -> np.ndarray:
        return -np.diff(np.asarray(self.rows, dtype=np.float64), axis=0).T


def assert_applied(applied, expected):
    expected = np.asarray(expected, dtype=np.float64)
    np.testing.assert_allclose(applied, expected, rtol=2e-6, atol=1e-9)


def fit(model, layers, steps, callbacks=(), epochs=1):
    trace = Weights(layers)
    x, y = data(steps)
    h = model.fit(x, y, batch_size=BATCH, epochs=epochs, verbose=0, callbacks=[*callbacks, trace])
    return trace, h


# -- factors, spread, groups ------------------------------------------------------------------
def test_factors_scale_a_schedule_per_group_in_the_compiled_step():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=20, warmup_steps=3)
    model, layers = probe(3)
    opt = fastlr.discriminative(keras.optimizers.SGD(s), layers, factors=[0.01, 0.1, 1.0])
    compile_probe(model, opt)
    trace, _ = fit(model, layers, 12)
    base = s.evaluate(12, dtype="float64")
    assert_applied(trace.applied(), [0.01 * base, 0.1 * base, base])
    subs = opt.optimizers
    assert [o.name for o in subs] == ["group0", "group1", "group2"]
    assert subs[0]._learning_rate == fastlr.Scale(s, 0.01)
    assert subs[2]._learning_rate is s  # factor 1: the head's schedule itself


def test_spread_is_fastais_slice_and_a_float_lr_stays_a_float():
    model, layers = probe(3)
    opt = fastlr.discriminative(keras.optimizers.SGD(0.5), layers, spread=100.0)
    compile_probe(model, opt)
    trace, _ = fit(model, layers, 4)
    assert spread_factors(3, 100.0) == [0.01, 0.1, 1.0]
    assert_applied(trace.applied(), [[0.005] * 4, [0.05] * 4, [0.5] * 4])
    assert spread_factors(1, 100.0) == [1.0]
    np.testing.assert_allclose(spread_factors(4, 1000.0), [1e-3, 1e-2, 1e-1, 1.0])


def test_groups_may_be_layers_lists_submodels_and_regexes_first_group_wins():
    model, layers = probe(4)
    sub = keras.Sequential([layers[3]])  # a sub-model holding g3
    groups = [[layers[0], layers[1]], ".*/g1/.*|g1/.*", "g2/kernel|.*/g2/kernel", sub]
    opt = fastlr.discriminative(keras.optimizers.SGD(1.0), groups, factors=[0.1, 0.2, 0.3, 1.0])
    compile_probe(model, opt)
    trace, _ = fit(model, layers, 2)
    # g1 is in groups 0 (a list of layers) and 1 (a regex): the first wins.
    assert_applied(trace.applied(), [[0.1] * 2, [0.1] * 2, [0.3] * 2, [1.0] * 2])


def test_groups_accumulate_gradients_like_their_template():
    """A template with ``gradient_accumulation_steps=2`` (a ``fastlr.optimizers`` one, so the
    schedule follows the optimizer step): every group updates once per two batches."""
    s = fastlr.WarmupCosineDecay(0.1, total_steps=10, warmup_steps=2)
    model, layers = probe(2)
    template = fastlr.optimizers.SGD(s, gradient_accumulation_steps=2)
    opt = fastlr.discriminative(template, layers, factors=[0.5, 1.0])
    compile_probe(model, opt)
    trace, _ = fit(model, layers, 8)
    applied = trace.applied()
    assert np.all(applied[:, 0::2] == 0.0)
    base = s.evaluate(4, dtype="float64")
    assert_applied(applied[:, 1::2], [0.5 * base, base])


def test_keras_optimizer_config_is_cloned_per_group():
    _, layers = probe(2)
    template = keras.optimizers.Adam(1e-3, beta_1=0.8, beta_2=0.95, epsilon=1e-6, clipnorm=2.0)
    opt = fastlr.discriminative(template, layers, factors=[0.5, 1.0])
    for sub in opt.optimizers:
        assert type(sub) is keras.optimizers.Adam
        assert (sub.beta_1, sub.beta_2, sub.epsilon, sub.clipnorm) == (0.8, 0.95, 1e-6, 2.0)
    assert [float(o.learning_rate) for o in opt.optimizers] == pytest.approx([5e-4, 1e-3])


# -- the tools -----------------------------------------------------------------------------------
def test_logger_and_history_report_every_group():
    s = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=2)
    model, layers = probe(2)
    opt = fastlr.discriminative(keras.optimizers.SGD(s), layers, factors=[0.25, 1.0])
    compile_probe(model, opt)
    trace, h = fit(model, layers, 3, callbacks=[fastlr.LearningRateLogger()], epochs=2)
    nxt = s.evaluate([3, 6])  # the LR of the next step, at each epoch end
    np.testing.assert_array_equal(
        np.float32(h.history["learning_rate_group0"]), (0.25 * s).evaluate([3, 6])
    )
    np.testing.assert_array_equal(np.float32(h.history["learning_rate_group1"]), nxt)
    history = fastlr.learning_rate_history(model)
    assert list(history) == ["group0", "group1"]
    np.testing.assert_array_equal(history["group0"], (0.25 * s).evaluate(6))
    np.testing.assert_array_equal(history["group1"], s.evaluate(6))
    assert_applied(trace.applied(), [history["group0"], history["group1"]])


def test_find_lr_ramps_every_group_at_its_ratio_and_restores_them():
    s = fastlr.CosineDecay(0.1, 100)
    model, layers = probe(3)
    opt = fastlr.discriminative(keras.optimizers.SGD(s), layers, factors=[0.01, 0.1, 1.0])
    compile_probe(model, opt, loss=mean_output_plus_100)
    fit(model, layers, 3)
    before = [w.numpy().copy() for w in model.weights] + [v.numpy() for v in opt.variables]
    rows = [[float(layer.kernel.numpy()[0, 0]) for layer in layers]]
    train_on_batch = model.train_on_batch

    def spy(*args, **kwargs):  # the weights after each step of the range test
        out = train_on_batch(*args, **kwargs)
        rows.append([float(layer.kernel.numpy()[0, 0]) for layer in layers])
        return out

    model.train_on_batch = spy
    result = fastlr.find_lr(
        model, *data(1), batch_size=BATCH, start_lr=1e-3, end_lr=1.0, num_steps=8
    )
    ramp = fastlr.ExponentialRange(1e-3, 1.0, 7).evaluate(8, dtype="float64")
    np.testing.assert_allclose(result.learning_rates, ramp, rtol=1e-6)  # the head's
    applied = -np.diff(np.asarray(rows), axis=0).T
    ulp = float(np.spacing(np.float32(np.abs(rows).max())))  # of the float32 weights
    np.testing.assert_allclose(applied, [0.01 * ramp, 0.1 * ramp, ramp], rtol=1e-6, atol=2 * ulp)
    after = [w.numpy() for w in model.weights] + [v.numpy() for v in opt.variables]
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert [o._learning_rate for o in opt.optimizers] == [s * 0.01, s * 0.1, s]


def test_dry_run_checks_every_group():
    s = fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=100)  # lr(0) = 0
    _, layers = probe(2)
    opt = fastlr.discriminative(keras.optimizers.SGD(s), layers, factors=[0.1, 1.0])
    reports = fastlr.dry_run(opt, 400)
    assert list(reports) == ["group0", "group1"]
    assert reports["group1"].problems == fastlr.dry_run(s, 400).problems != []
    assert reports["group0"].schedule == s * 0.1
    assert reports["group0"].max_lr == pytest.approx(0.1 * reports["group1"].max_lr)
    ftrl = fastlr.discriminative(keras.optimizers.Ftrl(s), layers, spread=10.0)
    for report in fastlr.dry_run(ftrl, 1000).values():
        assert report.problems == [
            "the LR is 0 at step 0 and Ftrl divides by the learning rate: its update becomes "
            "NaN or inf"
        ]
    single = fastlr.dry_run(keras.optimizers.SGD(s), 1000)  # one optimizer: one report
    assert isinstance(single, fastlr.DryRun) and single.schedule is s and single.ok
    assert fastlr.dry_run(keras.optimizers.SGD(0.1), 1000).max_lr == pytest.approx(0.1)
    with pytest.raises(TypeError, match=r"optimizer sgd\w* has CosineDecay: use the fastlr"):
        fastlr.dry_run(keras.optimizers.SGD(keras.optimizers.schedules.CosineDecay(0.1, 9)), 10)


def plateau(**kw):
    # The probe loss decreases every epoch; mode="max" makes every epoch a non-improvement.
    return fastlr.ReduceLROnPlateau(monitor="loss", mode="max", min_delta=0.0, **kw)


def test_plateau_scales_every_group_with_one_decision():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=40, warmup_steps=2)
    model, layers = probe(3)
    opt = fastlr.discriminative(keras.optimizers.SGD(s), layers, factors=[0.01, 0.1, 1.0])
    compile_probe(model, opt)
    trace, _ = fit(model, layers, 2, callbacks=[plateau(factor=0.5, patience=1)], epochs=4)
    # Epoch 1 sets best; reductions at the ends of epochs 2 and 3 (steps 4 and 6), once each.
    scale = np.ones(8)
    scale[4:], scale[6:] = 0.5, 0.25
    base = s.evaluate(8, dtype="float64") * scale
    assert_applied(trace.applied(), [0.01 * base, 0.1 * base, base])
    wrappers = [o._learning_rate for o in opt.optimizers]
    assert all(isinstance(w, fastlr.ScaledLearningRate) for w in wrappers)
    assert len({id(w.state) for w in wrappers}) == 1  # one state, one scale
    assert wrappers[0].changes == [[4, 0.5], [6, 0.25], [8, 0.125]]
    history = fastlr.learning_rate_history(model)
    for factor, name in zip([0.01, 0.1, 1.0], history, strict=True):
        np.testing.assert_allclose(history[name][:8], (factor * base).astype(np.float32))


def test_plateau_keeps_the_group_ratios_above_min_lr():
    model, layers = probe(2)
    opt = fastlr.discriminative(keras.optimizers.SGD(0.1), layers, factors=[0.1, 1.0])
    compile_probe(model, opt)
    trace, _ = fit(
        model, layers, 2, callbacks=[plateau(factor=0.5, patience=1, min_lr=0.02)], epochs=4
    )
    # Float LRs: Keras's rule per group (0.01 is below min_lr already: never reduced).
    assert_applied(
        trace.applied(),
        [[0.01] * 8, [0.1] * 4 + [0.05] * 2 + [0.025] * 2],
    )
    history = fastlr.learning_rate_history(model)
    np.testing.assert_allclose(history["group1"], np.float32([0.1] * 4 + [0.05] * 2 + [0.025] * 2))
    np.testing.assert_allclose(history["group0"], np.float32([0.01] * 8))


def test_a_discriminative_model_saves_and_loads(tmp_path):
    s = fastlr.OneCycle(0.1, 40)
    model, layers = probe(2)
    opt = fastlr.discriminative(keras.optimizers.SGD(s, momentum=0.9), layers, spread=10.0)
    compile_probe(model, opt)
    fit(model, layers, 5)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.models.load_model(path, compile=True, safe_mode=True)
    loaded_opt = loaded.optimizer
    assert isinstance(
        loaded_opt.optimizer_map
        if hasattr(loaded_opt, "optimizer_map")
        else loaded_opt._optimizer_map,
        LayerGroups,
    )
    assert [o._learning_rate for o in loaded_opt.optimizers] == [
        o._learning_rate for o in opt.optimizers
    ]
    assert int(loaded_opt.iterations.numpy()) == 5
    # one more step each, from the same state: the same weights
    x, y = data(1)
    model.fit(x, y, batch_size=BATCH, verbose=0)
    loaded.fit(x, y, batch_size=BATCH, verbose=0)
    for a, b in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


# -- errors ------------------------------------------------------------------------------------
def test_a_variable_in_no_group_is_named():
    model, layers = probe(3)
    opt = fastlr.discriminative(keras.optimizers.SGD(0.1), layers[:2], factors=[0.1, 1.0])
    compile_probe(model, opt)
    with pytest.raises(
        ValueError, match=r"Trainable variable `.*g2/kernel` is in none of the groups"
    ):
        fit(model, layers, 1)


@pytest.mark.parametrize(
    ("kwargs", "exc", "message"),
    [
        (
            dict(factors=[0.1]),
            ValueError,
            r"Argument `factors` must have one factor per group \(2 groups\). "
            r"Received: factors=\[0.1\]",
        ),
        (
            dict(factors=[0.1, -1.0]),
            ValueError,
            r"Argument `factors\[1\]` must be >= 0. Received: factors\[1\]=-1.0",
        ),
        (
            dict(),
            ValueError,
            r"exactly one of `factors` and `spread`. Received: factors=None, spread=None",
        ),
        (dict(factors=[1, 1], spread=2.0), ValueError, r"exactly one of `factors` and `spread`"),
        (dict(spread=0.5), ValueError, r"Argument `spread` must be >= 1. Received: spread=0.5"),
        (dict(spread="2"), TypeError, r"Argument `spread`"),
    ],
)
def test_bad_factors_and_spread(kwargs, exc, message):
    _, layers = probe(2)
    with pytest.raises(exc, match=message):
        fastlr.discriminative(keras.optimizers.SGD(0.1), layers, **kwargs)


def test_bad_groups_and_optimizers():
    _, layers = probe(2)
    sgd = keras.optimizers.SGD(0.1)
    with pytest.raises(TypeError, match=r"Argument `groups\[1\]` must be a layer"):
        fastlr.discriminative(sgd, [layers[0], 3], spread=2.0)
    with pytest.raises(TypeError, match=r"Argument `groups\[0\]` must be a layer"):
        fastlr.discriminative(sgd, [[]], spread=2.0)
    with pytest.raises(ValueError, match=r"Argument `groups\[0\]` must be a valid regular"):
        fastlr.discriminative(sgd, ["g0/(", layers[1]], spread=2.0)
    with pytest.raises(ValueError, match=r"Argument `groups`"):
        fastlr.discriminative(sgd, [], factors=[])
    with pytest.raises(TypeError, match=r"Argument `optimizer` must be a Keras optimizer"):
        fastlr.discriminative("sgd", layers, spread=2.0)
    multi = fastlr.discriminative(sgd, layers, spread=2.0)
    with pytest.raises(TypeError, match=r"not a MultiOptimizer"):
        fastlr.discriminative(multi, layers, spread=2.0)
    keras_schedule = keras.optimizers.schedules.CosineDecay(0.1, 100)
    with pytest.raises(TypeError, match=r"has CosineDecay: use the fastlr drop-in"):
        fastlr.discriminative(keras.optimizers.SGD(keras_schedule), layers, spread=2.0)


def test_older_keras_gets_a_clear_error(monkeypatch):
    _, layers = probe(2)
    monkeypatch.delattr(keras.optimizers, "MultiOptimizer")
    with pytest.raises(
        RuntimeError, match=r"needs keras.optimizers.MultiOptimizer, added in Keras 3.15"
    ):
        fastlr.discriminative(keras.optimizers.SGD(0.1), layers, spread=2.0)


@pytest.mark.parametrize(
    ("optimizers", "groups", "exc", "match"),
    [
        ([keras.optimizers.SGD(0.1)], ["a.*", "b.*"], ValueError, "`optimizers` and `groups`"),
        (["sgd"], ["a.*"], TypeError, r"Argument `optimizers\[0\]` must be a Keras optimizer"),
        ([], [], ValueError, "Argument `optimizers` must have at least 1"),
        (keras.optimizers.SGD(0.1), ["a.*"], TypeError, "Argument `optimizers` must be a list"),
    ],
)
def test_layer_groups_arguments_are_checked(optimizers, groups, exc, match):
    with pytest.raises(exc, match=match):
        LayerGroups(optimizers, groups)
