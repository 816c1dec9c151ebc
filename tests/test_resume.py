"""Stop, restore, continue: the LR trajectory and the weights equal an uninterrupted run.

Three ways to resume: a ``.keras`` file (``model.save`` / ``keras.models.load_model``), a
``tf.train.Checkpoint`` of model and optimizer, and ``keras.callbacks.BackupAndRestore`` after
an interruption. Each restores into *fresh* objects (a new model, optimizer and callbacks, as a
restarted process would build them), and with ``fastlr.ReduceLROnPlateau`` the plateau state
(scale, best, wait, cooldown and the change log) must come back too.

The model has one weight ``w`` (Dense(1), no bias, zero init) trained with plain SGD on the
MAE loss ``|T - w|`` (inputs of ones, target ``T``): the gradient is ``-sign(T - w)``, so every
step moves ``w`` by exactly the LR, ``|Δw| = lr``. ``w`` climbs to ``T`` and then oscillates
around it, so the loss really stops improving (by more than ``min_delta``) and the plateau
callback reduces the LR during training: the applied LRs are read back from the weights.

Everything is deterministic (constant data, no shuffling, seeded) and the resumed run executes
the same float32 operations on the same values, so weights and LRs are compared exactly.
"""

from __future__ import annotations

import json
import zipfile

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import kernel_recorder

import fastlr

BATCH, STEPS_PER_EPOCH = 4, 4
EPOCHS, STOP = 10, 8  # the uninterrupted run has 10 epochs (40 steps); interruptions after 8
TARGET = 1.3


def schedule():
    # A composite: warmup into a cosine, then a constant tail (switch at step 36).
    return fastlr.Sequential(
        [
            fastlr.Warmup(fastlr.CosineDecay(0.2, 40, alpha=0.1), 4, start_lr=0.02),
            fastlr.Constant(0.02),
        ],
        [36],
    )


def plateau_callback():
    # With these settings the MAE loss plateaus twice in 10 epochs: reductions at the ends of
    # epochs 5 and 9 (steps 20 and 36). After epoch 8 the state is scale 0.5, wait 1: losing
    # any of scale, best or wait on resume changes the rest of the run.
    return fastlr.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=2, min_delta=0.02, cooldown=1
    )


def data():
    x = np.ones((BATCH * STEPS_PER_EPOCH, 1), np.float32)
    return x, np.full_like(x, TARGET)


def build_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(schedule()), loss="mae", jit_compile=True)
    return model


def fit(model, epochs, initial_epoch=0, callbacks=()):
    recorder = kernel_recorder()
    x, y = data()
    model.fit(
        x,
        y,
        batch_size=BATCH,
        epochs=epochs,
        initial_epoch=initial_epoch,
        shuffle=False,
        verbose=0,
        callbacks=[*callbacks, recorder],
    )
    return recorder.kernels


def plateau_state(model):
    lr = model.optimizer._learning_rate
    assert isinstance(lr, fastlr.ScaledLearningRate)
    return {
        "scale": float(lr.scale.numpy()),
        "best": float(lr.best.numpy()),
        "wait": int(lr.wait.numpy()),
        "cooldown_counter": int(lr.cooldown_counter.numpy()),
        "changes": [list(c) for c in lr.changes],
    }


def summary(model, kernels):
    """What a resumed run must reproduce exactly."""
    out = {
        "kernel": model.layers[0].kernel.numpy().tolist(),
        "iterations": int(model.optimizer.iterations.numpy()),
        "lr_now": float(model.optimizer.learning_rate),
        "history": fastlr.learning_rate_history(model).tolist(),
        "kernels": kernels,
    }
    if isinstance(model.optimizer._learning_rate, fastlr.ScaledLearningRate):
        out["state"] = plateau_state(model)
    return out


_REFERENCES: dict[bool, dict] = {}


@pytest.fixture(scope="module", params=[False, True], ids=["schedule", "plateau"])
def reference(request):
    return uninterrupted(request.param)


def uninterrupted(with_plateau):
    """The uninterrupted run, and its plateau state where the interrupted runs stop (cached)."""
    if with_plateau in _REFERENCES:
        return _REFERENCES[with_plateau]
    model = build_model()
    extra = [plateau_callback()] if with_plateau else []
    snapshots = {}

    class Snapshot(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch + 1 == STOP and with_plateau:
                snapshots["state"] = plateau_state(self.model)

    kernels = fit(model, EPOCHS, callbacks=[*extra, Snapshot()])
    ref = summary(model, kernels)
    ref["with_plateau"] = with_plateau
    ref["state_at_stop"] = snapshots.get("state")
    _REFERENCES[with_plateau] = ref
    return ref


def test_reference_run_applies_scaled_schedule(reference):
    """The applied LRs (|Δw|) are the schedule times the plateau scale, step by step."""
    n = EPOCHS * STEPS_PER_EPOCH
    kernels = np.asarray(reference["kernels"], np.float64)
    assert len(kernels) == n + 1 and reference["iterations"] == n
    applied = np.abs(np.diff(kernels))
    scale = np.ones(n)
    if reference["with_plateau"]:
        changes = reference["state"]["changes"]
        # Two reductions, one before and one after the interruption point; at the
        # interruption the state is not the initial one (so losing it would show).
        assert [c[0] for c in changes] == [20, 36], changes
        stop = reference["state_at_stop"]
        assert stop["scale"] == 0.5 and stop["wait"] == 1, stop
        for iteration, value in changes:
            scale[iteration:] = value
    want = schedule().evaluate(n).astype(np.float64) * scale
    tol = 2 * np.spacing(np.abs(kernels[1:]).astype(np.float32)).astype(np.float64)
    bad = np.flatnonzero(np.abs(applied - want) > tol)
    assert bad.size == 0, (bad, applied[bad], want[bad])
    np.testing.assert_array_equal(np.float32(reference["history"]), np.float32(want))


def assert_resumed_equals(reference, first_kernels, resumed_model, resumed_kernels):
    assert first_kernels[-1] == resumed_kernels[0]  # the restored weight is the saved one
    got = summary(resumed_model, first_kernels + resumed_kernels[1:])
    for key in ("kernel", "iterations", "lr_now", "history", "kernels"):
        assert got[key] == reference[key], key
    if reference["with_plateau"]:
        assert got["state"] == reference["state"]


def first_part(with_plateau, callbacks=()):
    model = build_model()
    extra = [plateau_callback()] if with_plateau else []
    return model, fit(model, STOP, callbacks=[*extra, *callbacks])


def test_resume_from_keras_file(reference, tmp_path):
    with_plateau = reference["with_plateau"]
    model, first = first_part(with_plateau)
    path = tmp_path / "model.keras"
    model.save(path)
    # The file names the schedule classes by their registered names.
    with zipfile.ZipFile(path) as archive:
        config = json.loads(archive.read("config.json"))
    blob = config["compile_config"]["optimizer"]["config"]["learning_rate"]
    if with_plateau:
        assert blob["registered_name"] == "fastlr>ScaledLearningRate"
        blob = blob["config"]["schedule"]
    assert blob["registered_name"] == "fastlr>Sequential"
    assert blob["config"]["schedules"][0]["registered_name"] == "fastlr>Warmup"

    loaded = keras.models.load_model(path)
    assert int(loaded.optimizer.iterations.numpy()) == STOP * STEPS_PER_EPOCH
    lr = loaded.optimizer._learning_rate
    if with_plateau:
        assert isinstance(lr, fastlr.ScaledLearningRate)
        assert plateau_state(loaded) == reference["state_at_stop"]
        lr = lr.schedule
    assert type(lr) is fastlr.Sequential and lr == schedule()
    extra = [plateau_callback()] if with_plateau else []
    rest = fit(loaded, EPOCHS, initial_epoch=STOP, callbacks=extra)
    assert_resumed_equals(reference, first, loaded, rest)


def test_resume_from_tf_checkpoint(reference, tmp_path):
    with_plateau = reference["with_plateau"]
    model, first = first_part(with_plateau)
    path = tf.train.Checkpoint(model=model, optimizer=model.optimizer).save(tmp_path / "ckpt")

    fresh = build_model()
    status = tf.train.Checkpoint(model=fresh, optimizer=fresh.optimizer).restore(path)
    assert int(fresh.optimizer.iterations.numpy()) == STOP * STEPS_PER_EPOCH
    assert fresh.layers[0].kernel.numpy()[0, 0] == first[-1]
    extra = [plateau_callback()] if with_plateau else []
    if with_plateau:
        # The plateau wrapper is created by the callback (at fit); its variables are
        # restored from the checkpoint the moment the callback attaches them.
        callback = extra[0]
        callback.set_model(fresh)
        assert plateau_state(fresh) == reference["state_at_stop"]
    status.assert_existing_objects_matched()
    rest = fit(fresh, EPOCHS, initial_epoch=STOP, callbacks=extra)
    assert_resumed_equals(reference, first, fresh, rest)


class Interrupt(keras.callbacks.Callback):
    """Simulates a crash at the start of epoch ``at`` (after ``at`` complete epochs)."""

    def __init__(self, at):
        super().__init__()
        self.at = at

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at:
            raise RuntimeError("simulated interruption")


def run_with_backup(reference, backup_dir, restart_callbacks):
    """Interrupted first run (with a backup), then a fresh model's ``fit`` with the same dir."""
    with_plateau = reference["with_plateau"]
    first_model = build_model()
    first_callbacks = [plateau_callback()] if with_plateau else []
    first_callbacks += [keras.callbacks.BackupAndRestore(str(backup_dir)), Interrupt(STOP)]
    recorder = kernel_recorder()
    x, y = data()
    with pytest.raises(RuntimeError, match="simulated interruption"):
        first_model.fit(
            x,
            y,
            batch_size=BATCH,
            epochs=EPOCHS,
            shuffle=False,
            verbose=0,
            callbacks=[*first_callbacks, recorder],
        )
    first = recorder.kernels
    assert len(first) == STOP * STEPS_PER_EPOCH + 1

    fresh = build_model()
    rest = fit(fresh, EPOCHS, callbacks=restart_callbacks)
    assert len(rest) == (EPOCHS - STOP) * STEPS_PER_EPOCH + 1  # continued, not restarted
    assert_resumed_equals(reference, first, fresh, rest)


def test_resume_through_backup_and_restore(reference, tmp_path):
    """``BackupAndRestore`` saves at every epoch end; the restarted ``fit`` continues.

    The plateau callback is listed before ``BackupAndRestore``, as it must be (Keras calls the
    callbacks in list order at every epoch end, so a backup taken before the plateau decision
    of the same epoch would miss that decision, as with Keras's own callbacks). On restart this
    order means the plateau callback's ``on_train_begin`` runs *before* the backup is restored:
    the callback takes its state from the restored variables at every epoch end.
    """
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    callbacks = [plateau_callback(), backup] if reference["with_plateau"] else [backup]
    run_with_backup(reference, tmp_path / "backup", callbacks)


def test_backup_restore_before_the_plateau_callback(tmp_path):
    """The other order on restart: ``BackupAndRestore`` first restores before the plateau
    callback's ``on_train_begin`` reads the state; the run continues the same."""
    backup = keras.callbacks.BackupAndRestore(str(tmp_path / "backup"))
    run_with_backup(uninterrupted(True), tmp_path / "backup", [backup, plateau_callback()])
