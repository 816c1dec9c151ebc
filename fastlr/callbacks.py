"""Training-time tools that work with schedules: LR logging, LR history, plateau reduction.

``ReduceLROnPlateau`` is Keras's own callback (same signature, same decision rules: it subclasses
it) except for the one step Keras cannot do with a schedule: reducing the LR. For a schedule, the
optimizer's learning rate becomes ``ScaledLearningRate(schedule)``: ``schedule(step) * scale``,
where ``scale`` (and the plateau state: best, wait, cooldown) live in variables. The compiled train
step reads the variable, so a reduction needs no retrace and no eager mode and is visible under
XLA and ``tf.distribute``; the state is part of the optimizer (``get_config`` and checkpoints), so
it survives ``model.save`` / ``load_model`` and resumes where it was.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np
import tensorflow as tf

from fastlr.schedules import Schedule


def _effective_lr(base, scale, min_lr, maximum, minimum):
    """The plateau rule, written once for the graph (tf) and the history (NumPy): a reduction
    never takes the LR below ``min_lr`` and never lifts a schedule already below it."""
    return maximum(base * scale, minimum(base, min_lr))


@keras.saving.register_keras_serializable(package="fastlr")
class ScaledLearningRate(keras.optimizers.schedules.LearningRateSchedule):
    """``schedule(step) * scale``, the scale and the plateau state held in variables.

    Effective LR: ``max(schedule(step) * scale, min(schedule(step), min_lr))``: a reduction never
    takes the LR below ``min_lr``, and never lifts a schedule that is itself below it (a warmup
    from 0 stays a warmup from 0).

    Unlike fastlr's schedules this object is stateful by design: it is the plateau callback's
    state, kept where the compiled train step and the saved model can see it.

    Args:
        schedule: any Keras ``LearningRateSchedule`` (fastlr's or Keras's).
        scale: current multiplier (1 until the first reduction).
        min_lr: floor of reductions.
        best, wait, cooldown_counter: the plateau state (restored on resume).
        changes: ``[[iteration, scale], ...]``: when the scale changed (for the LR history).
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
    ) -> None:
        if not isinstance(schedule, keras.optimizers.schedules.LearningRateSchedule):
            raise TypeError(
                "Argument `schedule` must be a keras LearningRateSchedule. "
                f"Received: schedule={schedule!r}"
            )
        self.schedule = schedule
        self.min_lr = float(min_lr)
        self.scale = tf.Variable(float(scale), dtype=tf.float32, trainable=False, name="lr_scale")
        nan = float("nan")
        self.best = tf.Variable(
            nan if best is None else float(best),
            dtype=tf.float64,
            trainable=False,
            name="plateau_best",
        )
        self.wait = tf.Variable(int(wait), dtype=tf.int64, trainable=False, name="plateau_wait")
        self.cooldown_counter = tf.Variable(
            int(cooldown_counter), dtype=tf.int64, trainable=False, name="plateau_cooldown"
        )
        self.changes = [list(c) for c in (changes or [])]

    def __call__(self, step):
        base = tf.cast(self.schedule(step), tf.float32)
        min_lr = tf.constant(self.min_lr, tf.float32)
        return _effective_lr(base, self.scale, min_lr, tf.maximum, tf.minimum)

    def reduce(self, factor: float, iteration: int) -> float:
        """Multiply the scale by ``factor`` from ``iteration`` on; returns the new scale."""
        new = float(self.scale.numpy()) * factor
        self.scale.assign(new)
        self.changes.append([int(iteration), new])
        return new

    def get_config(self) -> dict[str, Any]:
        best = float(self.best.numpy())
        return {
            "schedule": keras.saving.serialize_keras_object(self.schedule),
            "scale": float(self.scale.numpy()),
            "min_lr": self.min_lr,
            "best": None if np.isnan(best) else best,
            "wait": int(self.wait.numpy()),
            "cooldown_counter": int(self.cooldown_counter.numpy()),
            "changes": [list(c) for c in self.changes],
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> ScaledLearningRate:
        config = dict(config)
        config["schedule"] = keras.saving.deserialize_keras_object(config["schedule"])
        return cls(**config)


def current_learning_rate(optimizer: Any) -> float:
    """The LR the optimizer applies at its next step (its schedule at ``optimizer.iterations``)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class LearningRateLogger(keras.callbacks.Callback):
    """Put the current learning rate into ``logs`` so History, CSVLogger and TensorBoard see it.

    At every epoch end (and with ``per_batch=True`` at every batch end) ``logs[key]`` is the LR
    the optimizer will apply at its next step: ``float(optimizer.learning_rate)``, i.e. the
    schedule at the current iteration. Place it before ``CSVLogger``/``TensorBoard`` in the
    callback list. For the exact LR of *every* step (even with ``steps_per_execution > 1``, where
    batch callbacks skip steps) use :func:`learning_rate_history` after training instead.

    Args:
        per_batch: also log at every batch end (a host sync per batch).
        key: the logs key.
    """

    def __init__(self, per_batch: bool = False, key: str = "learning_rate") -> None:
        super().__init__()
        self.per_batch = bool(per_batch)
        self.key = key

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs[self.key] = current_learning_rate(self.model.optimizer)

    def on_train_batch_end(self, batch, logs=None):
        if self.per_batch and logs is not None:
            logs[self.key] = current_learning_rate(self.model.optimizer)


def learning_rate_history(model_or_optimizer: Any, iterations: int | None = None) -> np.ndarray:
    """The exact LR of every step ``0 .. iterations - 1`` of a run, by bulk evaluation.

    No recording during training (no per-step host sync, right with any
    ``steps_per_execution``): the schedule is pure, so its history is ``evaluate(schedule,
    iterations)``; plateau reductions are re-applied from the change points they recorded.

    Args:
        model_or_optimizer: a compiled Keras model, or its optimizer.
        iterations: steps to cover (default: the optimizer's iteration count).

    Returns:
        float32 array of length ``iterations``.
    """
    optimizer = getattr(model_or_optimizer, "optimizer", model_or_optimizer)
    n = int(optimizer.iterations.numpy()) if iterations is None else int(iterations)
    lr = optimizer._learning_rate
    scale = np.ones(n, dtype=np.float32)
    min_lr = None
    if isinstance(lr, ScaledLearningRate):
        for iteration, value in lr.changes:
            scale[iteration:] = value
        min_lr, lr = lr.min_lr, lr.schedule
    if isinstance(lr, Schedule):
        base = lr.evaluate(n)
    elif isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError(
            f"learning_rate_history needs a fastlr schedule (pure, bulk-evaluable); the optimizer "
            f"has {type(lr).__name__}: use the fastlr drop-in of the same name."
        )
    else:  # a plain float LR: constant unless Keras's plateau callback changed it
        return np.full(n, current_learning_rate(optimizer), dtype=np.float32)
    if min_lr is None:
        return (base * scale).astype(np.float32)
    return _effective_lr(base, scale, np.float32(min_lr), np.maximum, np.minimum).astype(np.float32)


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """Keras's ``ReduceLROnPlateau`` (same signature and rules) that also works with schedules.

    With a float LR it behaves exactly like Keras's. With a ``LearningRateSchedule`` (where
    Keras's raises ``TypeError`` the first time it fires) the optimizer's LR is wrapped once in
    :class:`ScaledLearningRate` at ``on_train_begin``; a reduction multiplies its scale variable by
    ``factor`` (the compiled step sees it at once), never below ``min_lr``. The plateau state
    (best, wait, cooldown) is mirrored into the wrapper's variables at every epoch end, so it is
    saved with the model and restored by ``load_model``; training resumes where it left off.
    """

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        optimizer = self.model.optimizer
        lr = optimizer._learning_rate
        if isinstance(lr, ScaledLearningRate):
            self._restore_state(lr)
            return
        if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
            strategy = (
                getattr(self.model, "distribute_strategy", None) or tf.distribute.get_strategy()
            )
            with strategy.scope():
                wrapped = ScaledLearningRate(lr, min_lr=self.min_lr)
            optimizer._learning_rate = wrapped
            # A train function traced by an earlier fit() holds the old LR: rebuild it.
            self.model.make_train_function(force=True)
        elif callable(lr) and not isinstance(lr, (tf.Variable, keras.Variable)):
            raise TypeError(
                "fastlr.ReduceLROnPlateau cannot scale a learning rate that is a plain callable "
                f"({lr!r}); use a float or a keras LearningRateSchedule (e.g. a fastlr schedule)."
            )

    def _restore_state(self, lr: ScaledLearningRate) -> None:
        best = float(lr.best.numpy())
        self.best = None if np.isnan(best) else best
        self.wait = int(lr.wait.numpy())
        self.cooldown_counter = int(lr.cooldown_counter.numpy())

    def on_epoch_end(self, epoch, logs=None):
        super().on_epoch_end(epoch, logs)
        lr = self.model.optimizer._learning_rate
        if isinstance(lr, ScaledLearningRate):
            lr.best.assign(float("nan") if self.best is None else float(self.best))
            lr.wait.assign(int(self.wait))
            lr.cooldown_counter.assign(int(self.cooldown_counter))

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        lr = optimizer._learning_rate
        if not isinstance(lr, ScaledLearningRate):
            return super()._reduce_optimizer_lr(optimizer, epoch, name)
        old_lr = current_learning_rate(optimizer)
        if old_lr <= np.float32(self.min_lr):
            return False
        scale = lr.reduce(self.factor, int(optimizer.iterations.numpy()))
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau scaling the learning-rate schedule by "
                f"{scale:.6g} (now {current_learning_rate(optimizer):.6g})."
            )
        return True
