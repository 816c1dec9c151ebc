"""Where an optimizer's learning rate lives: the optimizer that holds it (inside a
``LossScaleOptimizer``), its groups (a ``MultiOptimizer``), its current value, and the optimizer of
a compiled model. Shared by the callbacks, the LR finder and the pre-flight checks."""

from __future__ import annotations

from typing import Any

import keras


def lr_owner(optimizer: Any) -> Any:
    """The optimizer that holds the learning rate: the inner one of a ``LossScaleOptimizer``
    (which ``compile`` wraps around the optimizer under the ``mixed_float16`` policy)."""
    while hasattr(optimizer, "inner_optimizer"):
        optimizer = optimizer.inner_optimizer
    return optimizer


def current_learning_rate(optimizer: Any) -> float:
    """The LR the optimizer applies at its next step (its schedule at ``optimizer.iterations``)."""
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


def groups_of(optimizer: Any) -> list[Any] | None:
    """The sub-optimizers of a ``MultiOptimizer`` (e.g. from :func:`fastlr.discriminative`),
    bottom to top; ``None`` for an optimizer with one learning rate."""
    owner = lr_owner(optimizer)
    subs = getattr(owner, "optimizers", None)
    return list(subs) if isinstance(subs, (list, tuple)) else None


def optimizer_of(model_or_optimizer: Any, caller: str) -> Any:
    """The optimizer of a compiled model (or the optimizer itself), with a one-line error for an
    uncompiled model or anything else."""
    if isinstance(model_or_optimizer, keras.optimizers.Optimizer):
        return model_or_optimizer
    if isinstance(model_or_optimizer, keras.Model):
        optimizer = getattr(model_or_optimizer, "optimizer", None)
        if optimizer is None:
            raise ValueError(
                f"{caller} needs a compiled model (`model.optimizer` is None): call "
                "`model.compile(optimizer=...)` first, or pass the optimizer."
            )
        return optimizer
    raise TypeError(
        f"{caller} takes a compiled Keras model or a Keras optimizer. "
        f"Received: {model_or_optimizer!r}"
    )
