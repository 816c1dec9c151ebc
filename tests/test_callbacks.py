"""LR logging, LR history and plateau reduction on real small models, checked through weights.

The probe model has one weight ``w`` (Dense(1), no bias, zero init) and loss ``mean(y_pred)`` on
inputs of ones, so the gradient is exactly 1 and SGD's update at step ``t`` is exactly ``lr_t``:
the LRs the compiled graph applied are read back from the weight, not from any bookkeeping.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest
from conftest import kernel_recorder, probe_model

import fastlr

BATCH = 4
D = 1


def data(steps_per_epoch):
    x = np.ones((BATCH * steps_per_epoch, D), "float32")
    return x, np.zeros((len(x), 1), "float32")


def assert_applied(applied, expected, w_trace):
    """Per-step decrease equals the LR, to the float32 rounding of the weight update."""
    expected = np.asarray(expected, dtype=np.float64)
    w = np.abs(np.asarray(w_trace[1:], dtype=np.float64))
    tol = 2 * np.spacing(np.maximum(w, np.abs(expected)).astype(np.float32)).astype(np.float64)
    np.testing.assert_array_less(np.abs(applied - expected), tol + 1e-12)


# -- LearningRateLogger / learning_rate_history --------------------------------------------------
def test_logger_puts_the_schedule_at_each_epoch_end_into_history():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=30, warmup_steps=5)
    model = probe_model(s)
    x, y = data(3)
    h = model.fit(
        x, y, batch_size=BATCH, epochs=6, verbose=0, callbacks=[fastlr.LearningRateLogger()]
    )
    expected = s.evaluate([3 * (e + 1) for e in range(6)])  # LR of the next step
    np.testing.assert_array_equal(np.float32(h.history["learning_rate"]), expected)


def test_logger_per_batch_and_csv_logger(tmp_path):
    s = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=2)
    model = probe_model(s)
    x, y = data(4)
    seen = []

    class Grab(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(logs["learning_rate"])

    csv = tmp_path / "log.csv"
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=2,
        verbose=0,
        callbacks=[
            fastlr.LearningRateLogger(per_batch=True),
            Grab(),
            keras.callbacks.CSVLogger(str(csv)),
        ],
    )
    np.testing.assert_array_equal(np.float32(seen), s.evaluate(np.arange(1, 9)))
    rows = csv.read_text().strip().splitlines()
    assert rows[0].split(",").count("learning_rate") == 1 and len(rows) == 3


def test_logger_history_holds_every_per_batch_value_by_step():
    """Per-batch values never reach Keras's History (one entry per epoch): they are in
    ``logger.history`` as ``(step, lr)``, one per optimizer step, across fit calls."""
    s = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=2)
    model = probe_model(s)
    x, y = data(4)
    logger = fastlr.LearningRateLogger(per_batch=True)
    h = model.fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[logger])
    assert len(h.history["learning_rate"]) == 2  # History: the epoch values only
    steps = [step for step, _ in logger.history["learning_rate"]]
    assert steps == list(range(1, 9))  # the epoch-end value of step 4 and 8 is not repeated
    np.testing.assert_array_equal(
        np.float32([lr for _, lr in logger.history["learning_rate"]]), s.evaluate(steps)
    )
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[logger])
    assert [step for step, _ in logger.history["learning_rate"]] == list(range(1, 13))
    logger.reset()
    assert logger.history == {}


def test_logger_history_of_epoch_values():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=30, warmup_steps=5)
    logger = fastlr.LearningRateLogger()
    x, y = data(3)
    probe_model(s).fit(x, y, batch_size=BATCH, epochs=3, verbose=0, callbacks=[logger])
    assert [step for step, _ in logger.history["learning_rate"]] == [3, 6, 9]


def test_logger_writes_tensorboard_scalars_by_step(tmp_path):
    import tensorflow as tf

    s = fastlr.CyclicalLearningRate(0.01, 0.1, step_size=2)
    writer = tf.summary.create_file_writer(str(tmp_path))
    logger = fastlr.LearningRateLogger(per_batch=True, writer=writer)
    x, y = data(3)
    probe_model(s).fit(x, y, batch_size=BATCH, epochs=2, verbose=0, callbacks=[logger])
    events = {}
    for path in tmp_path.glob("events.out.tfevents.*"):
        for record in tf.compat.v1.train.summary_iterator(str(path)):
            for value in record.summary.value:
                if value.tag == "learning_rate":
                    events[record.step] = float(tf.make_ndarray(value.tensor))
    assert sorted(events) == list(range(1, 7))
    np.testing.assert_array_equal(np.float32(list(events.values())), s.evaluate(sorted(events)))


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(per_batch="yes"), TypeError, "Argument `per_batch` must be a bool"),
        (dict(per_batch=1), TypeError, "Argument `per_batch` must be a bool"),
        (dict(key=3), TypeError, "Argument `key` must be a string"),
        (dict(key=""), ValueError, "Argument `key` must be a non-empty string"),
        (dict(writer="logs/"), TypeError, "Argument `writer` must be a TensorFlow summary"),
    ],
)
def test_logger_arguments_are_checked(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        fastlr.LearningRateLogger(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "exc", "match"),
    [
        (dict(min_lr=-1), ValueError, "Argument `min_lr` must be >= 0. Received: min_lr=-1"),
        (dict(min_lr="0"), TypeError, "Argument `min_lr` must be a real number"),
        (dict(factor=0), ValueError, "Argument `factor` must be > 0"),
        (dict(factor=1.5), ValueError, "Argument `factor` must be < 1"),
        (dict(patience=-1), ValueError, "Argument `patience` must be >= 0"),
        (dict(patience=2.5), TypeError, "Argument `patience` must be an integer"),
        (dict(cooldown=-2), ValueError, "Argument `cooldown` must be >= 0"),
        (dict(min_delta=-0.1), ValueError, "Argument `min_delta` must be >= 0"),
        (dict(mode="minimum"), ValueError, "Argument `mode` must be one of 'auto', 'min'"),
        (dict(monitor=None), TypeError, "Argument `monitor` must be a string"),
        (dict(verbose=-1), ValueError, "Argument `verbose` must be >= 0"),
    ],
)
def test_plateau_arguments_are_checked(kwargs, exc, match):
    with pytest.raises(exc, match=match.replace("(", r"\(")):
        fastlr.ReduceLROnPlateau(**kwargs)


def test_plateau_defaults_and_verbose_bool_are_kerass():
    ours, theirs = fastlr.ReduceLROnPlateau(verbose=True), keras.callbacks.ReduceLROnPlateau()
    for name in ("monitor", "factor", "patience", "mode", "min_delta", "cooldown", "min_lr"):
        assert getattr(ours, name) == getattr(theirs, name), name


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(min_lr=-1.0), "Argument `min_lr` must be >= 0"),
        (dict(scale=-0.5), "Argument `scale` must be >= 0"),
        (dict(wait=-1), "Argument `wait` must be >= 0"),
        (dict(cooldown_counter=-1), "Argument `cooldown_counter` must be >= 0"),
        (dict(best=float("nan")), "Argument `best` must be finite"),
    ],
)
def test_scaled_learning_rate_arguments_are_checked(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastlr.ScaledLearningRate(fastlr.Constant(0.1), **kwargs)


def test_history_iterations_are_checked():
    model = probe_model(fastlr.Constant(0.1))
    with pytest.raises(ValueError, match="Argument `iterations` must be >= 0"):
        fastlr.learning_rate_history(model, -1)
    with pytest.raises(TypeError, match="Argument `iterations` must be an integer"):
        fastlr.learning_rate_history(model, 2.5)


@pytest.mark.parametrize("steps_per_execution", [1, 3])
def test_history_is_exact_for_every_step(steps_per_execution):
    s = fastlr.Sequential(
        [fastlr.Warmup(fastlr.CosineDecay(0.1, 20), 4), fastlr.Constant(0.01)], [24]
    )
    model = probe_model(s, steps_per_execution=steps_per_execution)
    x, y = data(10)
    model.fit(x, y, batch_size=BATCH, epochs=3, verbose=0)
    history = fastlr.learning_rate_history(model)
    assert history.shape == (30,)
    np.testing.assert_array_equal(history, s.evaluate(30))
    # The weight moved by exactly the sum of the per-step LRs (gradient 1): all 30 steps applied.
    w = float(model.layers[0].kernel.numpy()[0, 0])
    assert w == pytest.approx(-float(np.sum(history.astype(np.float64))), rel=1e-6)


# -- ReduceLROnPlateau ----------------------------------------------------------------------------
def plateau(**kw):
    # The probe loss decreases every epoch; mode="max" makes every epoch a non-improvement.
    return fastlr.ReduceLROnPlateau(monitor="loss", mode="max", min_delta=0.0, **kw)


def test_plateau_scales_a_schedule_in_the_compiled_step():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=40, warmup_steps=4)
    model = probe_model(s)
    trace = kernel_recorder()
    x, y = data(4)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=5,
        verbose=0,
        callbacks=[plateau(factor=0.5, patience=2), trace],
    )
    # Epoch 1 sets best, epochs 2 and 3 wait -> reduce at end of epoch 3 (step 12), wait resets,
    # epochs 4 and 5 wait -> reduce at end of epoch 5.
    scale = np.ones(20)
    scale[12:] = 0.5
    expected = s.evaluate(20).astype(np.float64) * scale
    assert_applied(trace.applied(), expected, trace.kernels)
    wrapped = model.optimizer._learning_rate
    assert isinstance(wrapped, fastlr.ScaledLearningRate)
    assert wrapped.changes == [[12, 0.5], [20, 0.25]]
    np.testing.assert_allclose(fastlr.learning_rate_history(model), expected.astype(np.float32))


def test_plateau_with_a_float_learning_rate_is_kerass_behaviour():
    model = probe_model(0.1)
    trace = kernel_recorder()
    x, y = data(2)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=4,
        verbose=0,
        callbacks=[plateau(factor=0.5, patience=1, min_lr=0.03), trace],
    )
    # reductions at the end of epochs 2, 3 (0.1 -> 0.05 -> 0.03 floor)
    expected = [0.1] * 4 + [0.05] * 2 + [0.03] * 2
    assert_applied(trace.applied(), expected, trace.kernels)
    assert not isinstance(model.optimizer._learning_rate, fastlr.ScaledLearningRate)
    # The history is exact per step (the changes are recorded), not the last LR everywhere.
    np.testing.assert_array_equal(fastlr.learning_rate_history(model), np.float32(expected))
    np.testing.assert_array_equal(
        fastlr.learning_rate_history(model, 10)[8:], np.float32([0.03] * 2)
    )


def test_history_of_an_uncompiled_model_says_to_compile():
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match=r"needs a compiled model \(`model.optimizer` is None\)"):
        fastlr.learning_rate_history(model)
    with pytest.raises(TypeError, match=r"takes a compiled Keras model or a Keras optimizer"):
        fastlr.learning_rate_history("model")


def test_min_lr_floors_reductions_but_not_the_schedule_itself():
    s = fastlr.WarmupCosineDecay(0.1, total_steps=100, warmup_steps=8)  # starts at 0
    model = probe_model(s)
    trace = kernel_recorder()
    x, y = data(2)
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=6,
        verbose=0,
        callbacks=[plateau(factor=0.1, patience=1, min_lr=0.02), trace],
    )
    base = s.evaluate(12).astype(np.float64)
    scale = np.ones(12)
    scale[4:], scale[6:] = 0.1, 0.01
    expected = np.maximum(base * scale, np.minimum(base, 0.02))
    assert expected[0] == 0.0  # the warmup still starts at 0: min_lr does not lift the schedule
    assert_applied(trace.applied(), expected, trace.kernels)


def test_plateau_state_survives_keras_save_and_load(tmp_path):
    s = fastlr.CosineDecay(0.1, 1000)
    # A saveable loss: with "mse" on zero targets the zero weight never moves, the loss stays
    # flat, and mode="min" sees no improvement: reductions happen, state accumulates.
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((D,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(keras.optimizers.SGD(s), "mse", jit_compile=True)
    x, y = data(2)
    cb = fastlr.ReduceLROnPlateau(monitor="loss", mode="min", factor=0.5, patience=3, cooldown=1)
    model.fit(x, y, batch_size=BATCH, epochs=5, verbose=0, callbacks=[cb])
    state = (cb.best, cb.wait, cb.cooldown_counter)
    config = model.optimizer._learning_rate.get_config()
    assert config["changes"], "the test needs at least one reduction"
    path = tmp_path / "m.keras"
    model.save(path)
    script = textwrap.dedent(
        f"""
        import json, fastlr, keras
        m = keras.models.load_model({str(path)!r})
        lr = m.optimizer._learning_rate
        print("STATE" + json.dumps([type(lr).__name__, lr.get_config()["scale"],
              lr.get_config()["wait"], lr.get_config()["changes"],
              float(m.optimizer.learning_rate)]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-2000:]
    line = next(x for x in out.stdout.splitlines() if x.startswith("STATE"))
    name, scale, wait, changes, lr_now = __import__("json").loads(line[5:])
    assert name == "ScaledLearningRate"
    assert (scale, wait, changes) == (config["scale"], config["wait"], config["changes"])
    assert lr_now == pytest.approx(float(model.optimizer.learning_rate))
    # In process: a new callback resumes from the saved state instead of starting over.
    loaded = keras.models.load_model(path)
    cb2 = fastlr.ReduceLROnPlateau(monitor="loss", mode="min", factor=0.5, patience=3, cooldown=1)
    cb2.set_model(loaded)
    cb2.on_train_begin()
    assert (cb2.best, cb2.wait, cb2.cooldown_counter) == state


def test_plateau_refuses_a_plain_callable_learning_rate():
    model = probe_model(lambda: 0.1, jit_compile=False)
    x, y = data(1)
    with pytest.raises(TypeError, match="plain callable"):
        model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, callbacks=[plateau()])


def test_learning_rate_history_refuses_keras_schedules():
    model = probe_model(keras.optimizers.schedules.CosineDecay(0.1, 100))
    with pytest.raises(TypeError, match="fastlr drop-in"):
        fastlr.learning_rate_history(model, 10)
