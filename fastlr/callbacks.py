"""Training-time tools that work with schedules: LR logging, LR history, plateau reduction.

``ReduceLROnPlateau`` is Keras's own callback (same signature, same decision rules: it subclasses
it) except for the one step Keras cannot do with a schedule: reducing the LR. For a schedule, the
optimizer's learning rate becomes ``ScaledLearningRate(schedule)`` (:mod:`fastlr.plateau`):
``schedule(step) * scale``,
where ``scale`` (and the plateau state: best, wait, cooldown, the change log) live in variables.
The compiled train step reads the variable, so a reduction needs no retrace and no eager mode and
is visible under XLA, ``jax.jit``, ``torch.compile`` and ``tf.distribute``, on every Keras backend.
The state is saved wherever training state is saved: in the optimizer's config (``model.save`` /
``load_model``) and, through a small Keras layer that holds the variables and that the callback
attaches to the optimizer, in weight files (``save_weights``, ``BackupAndRestore``) and, on
TensorFlow, ``tf.train.Checkpoint``; training resumes where it was.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

import keras
import numpy as np

from fastlr._optimizer_lr import (
    current_learning_rate,
    groups_of,
    lr_owner,
    optimizer_of,
)
from fastlr.plateau import (
    STATE_ATTRIBUTE,
    PlateauState,
    ScaledLearningRate,
    _effective_lr,
)
from fastlr.schedules import Schedule


class LearningRateLogger(keras.callbacks.Callback):
    """Put the current learning rate into ``logs`` so History, CSVLogger and TensorBoard see it.

    At every epoch end (and with ``per_batch=True`` at every batch end) ``logs[key]`` is the LR
    the optimizer will apply at its next step: ``float(optimizer.learning_rate)``, i.e. the
    schedule at the current iteration. A ``MultiOptimizer`` (e.g. :func:`fastlr.discriminative`)
    logs ``logs[f"{key}_{name}"]`` per sub-optimizer, Keras's own convention. Place it before
    ``CSVLogger``/``TensorBoard`` in the callback list.

    Where the values go:

    * epoch values: ``logs``, so ``History`` (``model.fit(...).history[key]``, one entry per
      epoch), ``CSVLogger`` and ``TensorBoard``'s epoch scalars;
    * per-batch values (``per_batch=True``): Keras's ``History`` keeps epoch logs only, so they
      never reach it. They go into the batch ``logs`` (for callbacks that read them, e.g.
      ``TensorBoard(update_freq="batch")``), into :attr:`history` and, with ``writer``, into
      TensorBoard scalars by optimizer step;
    * :attr:`history`: ``{key: [(step, lr), ...]}`` (a key per group of a ``MultiOptimizer``),
      every value this logger logged, epoch or batch, ``step`` being the optimizer iteration the
      LR applies to (a value is recorded once per step). It accumulates over ``fit`` calls
      (steps keep counting); :meth:`reset` empties it.

    For the exact LR of *every* step (even with ``steps_per_execution > 1``, where batch
    callbacks skip steps, and with no per-step host sync) use :func:`learning_rate_history`
    after training instead.

    Args:
        per_batch: also log at every batch end (a host sync per batch). A bool.
        key: the logs key, a non-empty string.
        writer: optional TensorFlow summary writer (``tf.summary.create_file_writer(dir)``):
            every recorded value is written as the scalar ``key`` at its optimizer step.
    """

    def __init__(
        self, per_batch: bool = False, key: str = "learning_rate", writer: Any = None
    ) -> None:
        from fastlr import _validate as v

        super().__init__()
        self.per_batch = v.flag("per_batch", per_batch)
        self.key = v.text("key", key)
        v.require(bool(self.key), "key", "must be a non-empty string", key)
        if writer is not None and not callable(getattr(writer, "as_default", None)):
            v.fail(
                "writer",
                "must be a TensorFlow summary writer (tf.summary.create_file_writer) or None",
                writer,
                TypeError,
            )
        self.writer = writer
        self.history: dict[str, list[tuple[int, float]]] = {}

    def reset(self) -> None:
        """Forget the recorded values (:attr:`history`)."""
        self.history = {}

    def _log(self, logs) -> None:
        optimizer = optimizer_of(self.model, "LearningRateLogger")
        step = int(keras.ops.convert_to_numpy(lr_owner(optimizer).iterations))
        groups = groups_of(optimizer)
        if groups is None:
            values = {self.key: current_learning_rate(optimizer)}
        else:
            values = {f"{self.key}_{sub.name}": current_learning_rate(sub) for sub in groups}
        logs.update(values)
        new = {}
        for name, lr in values.items():
            rows = self.history.setdefault(name, [])
            if not rows or rows[-1][0] != step:
                rows.append((step, lr))
                new[name] = lr
        if new and self.writer is not None:
            _write_scalars(self.writer, new, step)

    def on_epoch_end(self, epoch, logs=None):
        self._log(logs if logs is not None else {})

    def on_train_batch_end(self, batch, logs=None):
        if self.per_batch:
            self._log(logs if logs is not None else {})

    def on_train_end(self, logs=None):
        if self.writer is not None:
            self.writer.flush()


def _write_scalars(writer: Any, values: dict[str, float], step: int) -> None:
    """TensorBoard scalars at ``step``: ``tf.summary.write`` with the scalars plugin's metadata,
    what ``tf.summary.scalar`` writes, without needing the ``tensorboard`` package."""
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    with writer.as_default():
        for name, lr in values.items():
            tf.summary.write(name, tf.constant(lr, tf.float32), step=step, metadata=metadata)


def learning_rate_history(
    model_or_optimizer: Any, iterations: int | None = None
) -> np.ndarray | dict[str, np.ndarray]:
    """The exact LR of every step ``0 .. iterations - 1`` of a run, by bulk evaluation.

    No recording during training (no per-step host sync, right with any
    ``steps_per_execution``): the schedule is pure, so its history is ``evaluate(schedule,
    iterations)``; plateau reductions (of a schedule or of a float LR) are re-applied from the
    change points :class:`ReduceLROnPlateau` recorded.

    Args:
        model_or_optimizer: a compiled Keras model, or its optimizer.
        iterations: steps to cover (default: the optimizer's iteration count).

    Returns:
        float32 array of length ``iterations``; for a ``MultiOptimizer`` (e.g.
        :func:`fastlr.discriminative`) a dict ``{sub-optimizer name: array}``, bottom to top.
    """
    from fastlr import _validate as v

    optimizer = lr_owner(optimizer_of(model_or_optimizer, "learning_rate_history"))
    n = (
        int(keras.ops.convert_to_numpy(optimizer.iterations))
        if iterations is None
        else v.integer("iterations", iterations, ge=0)
    )
    groups = groups_of(optimizer)
    if groups is not None:
        return {sub.name: _history(sub, n) for sub in groups}
    return _history(optimizer, n)


def _history(optimizer: Any, n: int) -> np.ndarray:
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
    else:  # a float LR: constant, except where the plateau callback recorded a change
        out = np.full(n, current_learning_rate(optimizer), dtype=np.float32)
        state = getattr(optimizer, STATE_ATTRIBUTE, None)
        rows = state.change_rows() if isinstance(state, PlateauState) else np.zeros((0, 2))
        for iteration, value in rows:  # the first row is the LR before the first change
            out[int(iteration) :] = value
        return out
    if min_lr is None:
        return (base * scale).astype(np.float32)
    return _effective_lr(base, scale, np.float32(min_lr), np.maximum, np.minimum).astype(np.float32)


def _variable_scope(model):
    """Where the wrapper's variables are created: the model's ``tf.distribute`` strategy on
    TensorFlow (replicated like the optimizer's), nothing to enter elsewhere."""
    if keras.backend.backend() != "tensorflow":
        return contextlib.nullcontext()
    import tensorflow as tf

    return (getattr(model, "distribute_strategy", None) or tf.distribute.get_strategy()).scope()


def _pass_into_stateless_step(optimizer: Any, variable: Any) -> None:
    """Make ``variable`` one of the optimizer's variables, for JAX's stateless train step.

    That step gets the values of the optimizer's variables as arguments; any other variable is
    read once, when the step is traced, and stays a constant of the compiled step. So the scale
    joins them (as Keras's own float learning rate is one of them), once. The optimizer's own
    saved variables stay what they were without it (the scale is saved with the rest of the
    plateau state): a file written with the plateau callback loads into an optimizer without
    it and the other way round. ``optimizer`` is the one the train step uses; under a
    ``LossScaleOptimizer`` the scale joins the inner one, whose variables the outer one lists.
    """
    owner = lr_owner(optimizer)
    if any(v is variable for v in owner.variables):
        return
    owner._track_variable(variable)
    while True:
        for name in ("save_own_variables", "load_own_variables"):
            method = getattr(type(optimizer), name)
            setattr(optimizer, name, _without(owner, variable, method.__get__(optimizer)))
        if optimizer is owner:
            return
        optimizer = optimizer.inner_optimizer


def _without(owner: Any, variable: Any, method):
    """``method(store)`` run while ``variable`` is out of ``owner``'s variables (put back at
    the same place: the JAX trainer pairs the list with its state by position)."""

    def run(store):
        variables = owner._variables
        index = next(i for i, v in enumerate(variables) if v is variable)
        del variables[index]
        try:
            return method(store)
        finally:
            variables.insert(index, variable)

    return run


class ReduceLROnPlateau(keras.callbacks.ReduceLROnPlateau):
    """Keras's ``ReduceLROnPlateau`` (same signature and rules) that also works with schedules.

    With a float LR it behaves exactly like Keras's. With a ``LearningRateSchedule`` (where
    Keras's raises ``TypeError`` the first time it fires) the optimizer's LR is wrapped once in
    :class:`ScaledLearningRate` when the callback is given the model (``set_model``, which
    ``fit`` calls before any ``on_train_begin`` and before it builds the train function); a
    reduction multiplies its scale variable by ``factor`` (the compiled step sees it at once),
    never below ``min_lr``. Under a ``LossScaleOptimizer`` (``mixed_float16``) the inner
    optimizer's LR is the one wrapped.

    The plateau state (best, wait, cooldown) lives in the wrapper's variables, which are
    attached to the optimizer (see :class:`PlateauState`): it is saved by ``model.save``,
    ``save_weights``, ``BackupAndRestore`` and (TensorFlow) ``tf.train.Checkpoint`` and restored
    by ``load_model``, ``load_weights``, ``BackupAndRestore`` and ``Checkpoint.restore`` (also a
    restore made before ``fit``, into a fresh model whose LR is not wrapped yet). It works the
    same on the TensorFlow, JAX and PyTorch backends. The callback
    reads the state from the variables at every epoch end, so a restore by another callback's
    ``on_train_begin`` counts whatever the callbacks' order.

    With a ``MultiOptimizer`` (e.g. :func:`fastlr.discriminative`) every group's schedule is
    wrapped, all sharing one scale and one plateau state: one decision scales every group, and
    their ratios hold (each never below ``min_lr``); float LRs are reduced group by group, by
    Keras's rule. Every reduction, of a schedule or of a float LR, is recorded for
    :func:`learning_rate_history`.

    List this callback *before* ``BackupAndRestore`` / ``ModelCheckpoint``: Keras calls the
    callbacks in order at every epoch end, and a backup written before this callback's decision
    of the same epoch misses that decision (as with Keras's own ``ReduceLROnPlateau``). In a
    custom training loop, give it the model (``set_model`` or ``CallbackList(model=...)``)
    before tracing the step function, so the step reads the wrapped LR.
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        factor: float = 0.1,
        patience: int = 10,
        verbose: int = 0,
        mode: str = "auto",
        min_delta: float = 1e-4,
        cooldown: int = 0,
        min_lr: float = 0.0,
        **kwargs: Any,
    ) -> None:
        from fastlr import _validate as v

        # Keras's own checks warn and fall back (an unknown mode) or accept what cannot work
        # (a negative min_lr or patience): refuse them here, naming the argument.
        super().__init__(
            monitor=v.text("monitor", monitor),
            factor=v.real("factor", factor, gt=0, lt=1),
            patience=v.integer("patience", patience, ge=0),
            verbose=int(verbose)
            if isinstance(verbose, bool)
            else v.integer("verbose", verbose, ge=0),
            mode=v.choice("mode", mode, ("auto", "min", "max")),
            min_delta=v.real("min_delta", min_delta, ge=0),
            cooldown=v.integer("cooldown", cooldown, ge=0),
            min_lr=v.rate("min_lr", min_lr),
            **kwargs,
        )

    def set_model(self, model):
        super().set_model(model)
        if getattr(model, "optimizer", None) is not None:
            self._wrap()

    def _owners(self) -> list[Any]:
        """The optimizers that hold a learning rate: a MultiOptimizer's groups, else the one."""
        top = lr_owner(self.model.optimizer)
        return groups_of(top) or [top]

    def _wrap(self) -> ScaledLearningRate | None:
        """Wrap every schedule LR once (idempotent) with one shared state, attached to the
        optimizer; give every float LR a change log. The first wrapper, or None."""
        top = lr_owner(self.model.optimizer)
        owners = self._owners()
        wrapped = [o._learning_rate for o in owners]
        shared = next((lr.state for lr in wrapped if isinstance(lr, ScaledLearningRate)), None)
        retrace = False
        for owner in owners:
            lr = owner._learning_rate
            if isinstance(lr, ScaledLearningRate):
                # A loaded model has one state per wrapper (equal values): share them again.
                lr.state = shared
            elif isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
                with _variable_scope(self.model):
                    lr = ScaledLearningRate(lr, min_lr=self.min_lr, state=shared)
                shared = lr.state
                owner._learning_rate = lr
                retrace = True
            elif not isinstance(getattr(owner, STATE_ATTRIBUTE, None), PlateauState):
                # A float LR: Keras's rule reduces it; the state only logs the changes.
                with _variable_scope(self.model):
                    setattr(owner, STATE_ATTRIBUTE, PlateauState())
        # A train function traced by an earlier fit() holds the old LR: rebuild it.
        if retrace and getattr(self.model, "train_function", None) is not None:
            self.model.make_train_function(force=True)
        if shared is None:
            return None
        if getattr(top, STATE_ATTRIBUTE, None) is not shared:
            # Tracked by Keras saving and TF checkpoints; a pending checkpoint restore of this
            # attribute (a restore before the wrapper existed) is applied here.
            setattr(top, STATE_ATTRIBUTE, shared)
        if keras.backend.backend() == "jax":
            _pass_into_stateless_step(self.model.optimizer, shared.scale)
        return next(o._learning_rate for o in owners if o._learning_rate.state is shared)

    def on_train_begin(self, logs=None):
        super().on_train_begin(logs)
        lr = self._wrap()
        if lr is not None:
            self._restore_state(lr)
        tf = sys.modules.get("tensorflow")
        variables = (keras.Variable,) if tf is None else (tf.Variable, keras.Variable)
        for owner in self._owners():
            lr = owner._learning_rate
            if callable(lr) and not isinstance(lr, (variables, ScaledLearningRate)):
                raise TypeError(
                    "fastlr.ReduceLROnPlateau cannot scale a learning rate that is a plain "
                    f"callable ({lr!r}); use a float or a keras LearningRateSchedule (e.g. a "
                    "fastlr schedule)."
                )

    def _restore_state(self, lr: ScaledLearningRate) -> None:
        best = float(lr.best.numpy())
        self.best = None if np.isnan(best) else best
        self.wait = int(lr.wait.numpy())
        self.cooldown_counter = int(lr.cooldown_counter.numpy())

    def _scaled(self) -> ScaledLearningRate | None:
        for owner in self._owners():
            if isinstance(owner._learning_rate, ScaledLearningRate):
                return owner._learning_rate
        return None

    def on_epoch_end(self, epoch, logs=None):
        self._reduced = None  # the shared scale: reduced at most once per decision
        lr = self._scaled()
        if lr is not None:  # the variables are the state (a restore may have replaced it)
            self._restore_state(lr)
        super().on_epoch_end(epoch, logs)
        if lr is not None:
            lr.best.assign(float("nan") if self.best is None else float(self.best))
            lr.wait.assign(int(self.wait))
            lr.cooldown_counter.assign(int(self.cooldown_counter))

    def _reduce_optimizer_lr(self, optimizer, epoch, name=""):
        owner = lr_owner(optimizer)
        lr = owner._learning_rate
        iteration = int(keras.ops.convert_to_numpy(owner.iterations))
        if not isinstance(lr, ScaledLearningRate):
            old_lr = current_learning_rate(owner)
            reduced = super()._reduce_optimizer_lr(optimizer, epoch, name)
            state = getattr(owner, STATE_ATTRIBUTE, None)
            if reduced and isinstance(state, PlateauState):
                if not len(state.change_rows()):
                    state.record_change(0, old_lr)  # the LR before the first change
                state.record_change(iteration, current_learning_rate(owner))
            return reduced
        if getattr(self, "_reduced", None) is lr.state:  # another group of this decision did it
            return True
        old_lr = current_learning_rate(owner)
        if old_lr <= np.float32(self.min_lr):
            return False
        scale = lr.reduce(self.factor, iteration)
        self._reduced = lr.state
        if self.verbose > 0:
            print(
                f"\nEpoch {epoch + 1}: ReduceLROnPlateau scaling the learning-rate schedule by "
                f"{scale:.6g} (now {current_learning_rate(owner):.6g})."
            )
        return True
