"""The plateau state and the scaled schedule: how :class:`fastlr.ReduceLROnPlateau` reduces a
schedule's LR inside the compiled step.

For a schedule, the optimizer's learning rate becomes ``ScaledLearningRate(schedule)``:
``schedule(step) * scale``, where ``scale`` (and the plateau state: best, wait, cooldown, the
change log) live in variables of a :class:`PlateauState`, which Keras and TensorFlow checkpoints
save and restore.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np


def _effective_lr(base, scale, min_lr, maximum, minimum):
    """The plateau rule, written once for the compiled step (``keras.ops``) and the history
    (NumPy): a reduction never takes the LR below ``min_lr`` and never lifts a schedule already
    below it."""
    return maximum(base * scale, minimum(base, min_lr))


def _wide(kind: str) -> str:
    """``kind`` (``"float"``/``"int"``) in 64 bits where the backend holds them, else 32 (JAX
    without ``jax_enable_x64``, where a 64-bit variable is silently truncated with a warning)."""
    if keras.backend.backend() == "jax":
        import jax

        if not jax.config.jax_enable_x64:
            return f"{kind}32"
    return f"{kind}64"


STATE_ATTRIBUTE = "_fastlr_plateau"
"""Attribute of the optimizer under which :class:`PlateauState` is saved (weights, checkpoints)."""


class PlateauState(keras.layers.Layer):
    """The plateau state in variables that Keras (and TensorFlow) checkpoints save and restore.

    A layer only to be a Keras saveable (and on TensorFlow a TF trackable); it is never called.
    Attached to the optimizer as ``optimizer._fastlr_plateau`` (by :class:`ReduceLROnPlateau`),
    it is written by ``save_weights`` / ``BackupAndRestore`` / ``model.save`` (as
    ``optimizer/_fastlr_plateau``), on TensorFlow also by ``tf.train.Checkpoint`` (as a
    dependency of the optimizer), and restored into the attached state of a fresh model: a TF
    checkpoint restored before the callback attached it is applied the moment it is attached
    (TF's deferred restoration), a weights file is loaded into it by ``load_weights``.

    ``scale``, ``best``, ``wait`` and ``cooldown_counter`` are Keras variables on every backend.
    ``changes`` (the reductions so far, ``[iteration, scale]`` rows) grows: on TensorFlow it is
    a TF variable of shape ``(None, 2)`` (so ``tf.train.Checkpoint`` has it too), on the other
    backends a host array; both are saved with the variables.
    """

    def __init__(self, scale=1.0, best=None, wait=0, cooldown_counter=0, changes=None, **kwargs):
        super().__init__(dtype="float32", **kwargs)
        best = float("nan") if best is None else float(best)
        self.scale = self._scalar("lr_scale", "float32", float(scale))
        self.best = self._scalar("plateau_best", _wide("float"), best)
        self.wait = self._scalar("plateau_wait", _wide("int"), int(wait))
        self.cooldown_counter = self._scalar(
            "plateau_cooldown", _wide("int"), int(cooldown_counter)
        )
        rows = np.asarray(changes if changes else np.zeros((0, 2)), np.float64).reshape(-1, 2)
        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            # Row 0 is padding, never read: a variable created from a 0-row value crashes TF
            # 2.21 (segfault) when a MultiWorkerMirroredStrategy broadcasts it to the workers.
            rows = np.concatenate([np.array([[-1.0, np.nan]]), rows])
            self._changes = tf.Variable(
                rows, shape=tf.TensorShape([None, 2]), trainable=False, name="plateau_changes"
            )
        else:
            self._changes = rows

    def _scalar(self, name, dtype, value):
        initializer = keras.initializers.Constant(value)
        return self.add_weight(
            shape=(), dtype=dtype, initializer=initializer, trainable=False, name=name
        )

    def change_rows(self) -> np.ndarray:
        """The ``[iteration, scale]`` rows recorded so far, float64, shape ``(n, 2)``."""
        if isinstance(self._changes, np.ndarray):
            return self._changes.copy()
        return self._changes.numpy()[1:]

    def record_change(self, iteration: int, scale: float) -> None:
        self._set_change_rows(np.concatenate([self.change_rows(), [[float(iteration), scale]]]))

    def _set_change_rows(self, rows) -> None:
        rows = np.asarray(rows, np.float64).reshape(-1, 2)
        if isinstance(self._changes, np.ndarray):
            self._changes = rows
        else:
            self._changes.assign(np.concatenate([np.array([[-1.0, np.nan]]), rows]))

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["changes"] = self.change_rows()

    def load_own_variables(self, store):
        if not len(store.keys()):  # a file written without the plateau callback: keep as is
            return
        for i, variable in enumerate(self.non_trainable_variables):
            variable.assign(store[str(i)])
        self._set_change_rows(store["changes"])


@keras.saving.register_keras_serializable(package="fastlr")
class ScaledLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule(step) * scale``, the scale and the plateau state held in variables.

    Effective LR: ``max(schedule(step) * scale, min(schedule(step), min_lr))``: a reduction never
    takes the LR below ``min_lr``, and never lifts a schedule that is itself below it (a warmup
    from 0 stays a warmup from 0).

    Unlike fastlr's schedules this object is stateful by design: it is the plateau callback's
    state, kept where the compiled train step and the saved model can see it. The variables
    live in :attr:`state` (a :class:`PlateauState`); ``scale``, ``best``, ``wait`` and
    ``cooldown_counter`` are those variables. It runs on every Keras backend: the compiled step
    reads ``scale`` as a variable (on JAX, whose train step is stateless, the plateau callback
    makes it one of the optimizer's variables, see :func:`_pass_into_stateless_step`).

    Args:
        schedule: any Keras ``LearningRateSchedule`` (fastlr's or Keras's).
        scale: current multiplier (1 until the first reduction).
        min_lr: floor of reductions.
        best, wait, cooldown_counter: the plateau state (restored on resume).
        changes: ``[[iteration, scale], ...]``: when the scale changed (for the LR history).
        state: an existing :class:`PlateauState` to share (the other state arguments are then
            ignored): the groups of a ``MultiOptimizer`` share one scale and one decision.
    """

    def __init__(
        self,
        schedule: Any,
        scale: float = 1.0,
        min_lr: float = 0.0,
        best: float | None = None,
        wait: int = 0,
        cooldown_counter: int = 0,
        changes: list | None = None,
        *,
        state: PlateauState | None = None,
    ) -> None:
        if state is not None and not isinstance(state, PlateauState):
            raise TypeError(
                f"Argument `state` must be a PlateauState or None. Received: state={state!r}"
            )
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            raise TypeError(
                "Argument `schedule` must be a keras LearningRateSchedule. "
                f"Received: schedule={schedule!r}"
            )
        from fastlr import _validate as v

        self.schedule = schedule
        self.min_lr = v.rate("min_lr", min_lr)
        if state is None:
            scale = v.rate("scale", scale)
            best = None if best is None else v.real("best", best)
            wait = v.integer("wait", wait, ge=0)
            cooldown_counter = v.integer("cooldown_counter", cooldown_counter, ge=0)
        # One state may be shared: the groups of a MultiOptimizer are scaled together.
        self.state = (
            state
            if state is not None
            else PlateauState(scale, best, wait, cooldown_counter, changes)
        )

    scale = property(lambda self: self.state.scale)
    best = property(lambda self: self.state.best)
    wait = property(lambda self: self.state.wait)
    cooldown_counter = property(lambda self: self.state.cooldown_counter)

    @property
    def changes(self) -> list:
        """``[[iteration, scale], ...]``, a new list on every access."""
        return [[int(i), float(s)] for i, s in self.state.change_rows()]

    def __call__(self, step):
        ops = keras.ops
        base = ops.cast(self.schedule(step), "float32")
        scale = ops.cast(self.scale, "float32")  # the variable, read by the compiled step
        min_lr = ops.convert_to_tensor(self.min_lr, "float32")
        return _effective_lr(base, scale, min_lr, ops.maximum, ops.minimum)

    def reduce(self, factor: float, iteration: int) -> float:
        """Multiply the scale by ``factor`` from ``iteration`` on; returns the new scale."""
        new = float(keras.ops.convert_to_numpy(self.scale)) * factor
        self.scale.assign(new)
        self.state.record_change(iteration, new)
        return new

    def get_config(self) -> dict[str, Any]:
        best = float(keras.ops.convert_to_numpy(self.best))
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "scale": float(keras.ops.convert_to_numpy(self.scale)),
            "min_lr": self.min_lr,
            "best": None if np.isnan(best) else best,
            "wait": int(keras.ops.convert_to_numpy(self.wait)),
            "cooldown_counter": int(keras.ops.convert_to_numpy(self.cooldown_counter)),
            "changes": self.changes,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScaledLearningRate:
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(**config)
