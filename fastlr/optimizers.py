"""Keras optimizers whose hyperparameters can be schedules: momentum, betas, weight decay.

In Keras 3, ``SGD(momentum=...)`` must be a float and ``Adam(beta_1=callable)`` raises
``TypeError``; torch's ``OneCycleLR`` and ``CyclicLR`` (and fast.ai's ``fit_one_cycle``) cycle the
momentum inversely to the learning rate. These are Keras's optimizers, same classes underneath and
same signatures, where each hyperparameter listed below may also be a ``LearningRateSchedule``
(e.g. a fastlr schedule, or ``OneCycle.momentum_schedule()``):

=============  ======================================
``SGD``        ``momentum``, ``weight_decay``
``RMSprop``    ``momentum``, ``weight_decay``
``Adam``       ``beta_1``, ``beta_2``, ``weight_decay``
``AdamW``      ``beta_1``, ``beta_2``, ``weight_decay``
``Nadam``      ``beta_1``, ``beta_2``, ``weight_decay``
``Adamax``     ``beta_1``, ``beta_2``, ``weight_decay``
``Lion``       ``beta_1``, ``beta_2``, ``weight_decay``
=============  ======================================

A scheduled hyperparameter is evaluated at the optimizer step inside the compiled train step
(XLA, ``tf.distribute``, mixed precision: like the learning rate, no retrace), saved by name
(``fastlr>SGD`` etc., the schedules nested in the config) and resumed exactly (it is a function
of the saved iteration count). A float works as in Keras.

Gradient accumulation: Keras evaluates a learning-rate schedule on its micro-batch counter, so
with ``gradient_accumulation_steps=k`` the schedule runs k times too fast. Here the learning rate
and every scheduled hyperparameter of optimizer step ``n`` are the schedules' values at ``n``
(``optimizer.iterations``).
"""

from __future__ import annotations

import contextlib
import inspect
from typing import Any

import keras
from keras import ops

_Schedule = keras.optimizers.schedules.LearningRateSchedule
_PLACEHOLDER = 0.5
"""What the Keras base class is given for a scheduled hyperparameter: a valid, non-zero value
(so momentum slots are created), never used in an update."""


class _Scheduled:
    """Mixin (before a Keras optimizer class) that evaluates scheduled hyperparameters."""

    _keras_class: type
    schedulable: tuple[str, ...] = ()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        bound = inspect.signature(self._keras_class.__init__).bind(self, *args, **kwargs)
        params = {k: v for k, v in bound.arguments.items() if k not in ("self", "kwargs")}
        params.update(bound.arguments.get("kwargs", {}))
        schedules = {}
        for name in self.schedulable:
            value = params.get(name)
            if isinstance(value, _Schedule):
                schedules[name] = value
                params[name] = _PLACEHOLDER
        self._keras_class.__init__(self, **params)
        self._schedules = schedules

    @property
    def schedules(self) -> dict[str, Any]:
        """The scheduled hyperparameters: ``{name: schedule}``."""
        return dict(self._schedules)

    def _get_current_learning_rate(self):
        if isinstance(self._learning_rate, _Schedule):
            return self._learning_rate(self.iterations)  # the optimizer step, not micro-batches
        return super()._get_current_learning_rate()

    def scheduled_value(self, name: str, dtype: Any = "float32") -> Any:
        """Hyperparameter ``name`` at the current optimizer step, as a ``dtype`` tensor."""
        return ops.cast(self._schedules[name](self.iterations), dtype)

    @contextlib.contextmanager
    def _live(self, dtype: Any):
        """Scheduled hyperparameters as tensors of the current step, for the Keras code inside."""
        saved = {name: getattr(self, name) for name in self._schedules}
        try:
            for name in self._schedules:
                setattr(self, name, self.scheduled_value(name, dtype))
            yield
        finally:
            for name, value in saved.items():
                setattr(self, name, value)

    def update_step(self, gradient, variable, learning_rate):
        with self._live(variable.dtype):
            return super().update_step(gradient, variable, learning_rate)

    def _apply_weight_decay(self, variables):
        # Keras's own decay step, reading the scheduled value (it casts it per variable)
        with self._live("float32"):
            return super()._apply_weight_decay(variables)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for name, schedule in self._schedules.items():
            config[name] = keras.saving.serialize_keras_object(schedule)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Any:
        config = dict(config)
        for name in cls.schedulable:
            value = config.get(name)
            if isinstance(value, dict) and "class_name" in value:
                config[name] = keras.saving.deserialize_keras_object(
                    value, custom_objects=custom_objects
                )
        return super().from_config(config, custom_objects=custom_objects)


def _register(cls: type) -> type:
    return keras.saving.register_keras_serializable(package="fastlr", name=cls.__name__)(cls)


def _document(cls: type, keras_class: type) -> type:
    cls._keras_class = keras_class

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        _Scheduled.__init__(self, *args, **kwargs)

    __init__.__signature__ = inspect.signature(keras_class.__init__)  # type: ignore[attr-defined]
    __init__.__qualname__ = f"{cls.__name__}.__init__"
    cls.__init__ = __init__  # type: ignore[method-assign]
    cls.__doc__ = (
        f"Keras's ``{keras_class.__name__}`` (same signature and math) where "
        + ", ".join(f"``{n}``" for n in cls.schedulable)
        + " may be a ``LearningRateSchedule``, evaluated at the optimizer step (see "
        ":mod:`fastlr.optimizers`)."
    )
    return _register(cls)


class SGD(_Scheduled, keras.optimizers.SGD):
    schedulable = ("momentum", "weight_decay")

    def update_step(self, gradient, variable, learning_rate):
        if "momentum" not in self._schedules:
            return super().update_step(gradient, variable, learning_rate)
        # Keras's SGD branches on the momentum's Python value; a scheduled one always has slots.
        learning_rate = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = self.scheduled_value("momentum", variable.dtype)
        self.assign(
            m, ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate))
        )
        if self.nesterov:
            self.assign_add(
                variable,
                ops.subtract(ops.multiply(m, momentum), ops.multiply(gradient, learning_rate)),
            )
        else:
            self.assign_add(variable, m)


class RMSprop(_Scheduled, keras.optimizers.RMSprop):
    schedulable = ("momentum", "weight_decay")

    def update_step(self, gradient, variable, learning_rate):
        if "momentum" not in self._schedules:
            return super().update_step(gradient, variable, learning_rate)
        # Keras's RMSprop branches on the momentum's Python value; a scheduled one has slots.
        lr = ops.cast(learning_rate, variable.dtype)
        gradient = ops.cast(gradient, variable.dtype)
        index = self._get_variable_index(variable)
        velocity = self._velocities[index]
        rho = self.rho
        self.assign(
            velocity,
            ops.add(ops.multiply(rho, velocity), ops.multiply(1 - rho, ops.square(gradient))),
        )
        if self.centered:
            average_grad = self._average_gradients[index]
            self.assign(
                average_grad,
                ops.add(ops.multiply(rho, average_grad), ops.multiply(1 - rho, gradient)),
            )
            denominator = velocity - ops.square(average_grad) + self.epsilon
        else:
            denominator = ops.add(velocity, self.epsilon)
        increment = ops.divide(ops.multiply(lr, gradient), ops.sqrt(denominator))
        momentum = self._momentums[index]
        self.assign(
            momentum,
            ops.add(
                ops.multiply(self.scheduled_value("momentum", variable.dtype), momentum), increment
            ),
        )
        self.assign_sub(variable, momentum)


class Adam(_Scheduled, keras.optimizers.Adam):
    schedulable = ("beta_1", "beta_2", "weight_decay")


class AdamW(_Scheduled, keras.optimizers.AdamW):
    schedulable = ("beta_1", "beta_2", "weight_decay")


class Nadam(_Scheduled, keras.optimizers.Nadam):
    schedulable = ("beta_1", "beta_2", "weight_decay")

    def _backend_update_step(self, grads, trainable_variables, learning_rate):
        # Nadam's running product of the momentum factors is updated here, outside update_step.
        with self._live(self._u_product.dtype):
            return super()._backend_update_step(grads, trainable_variables, learning_rate)


class Adamax(_Scheduled, keras.optimizers.Adamax):
    schedulable = ("beta_1", "beta_2", "weight_decay")


class Lion(_Scheduled, keras.optimizers.Lion):
    schedulable = ("beta_1", "beta_2", "weight_decay")


for _cls in (SGD, RMSprop, Adam, AdamW, Nadam, Adamax, Lion):
    _document(_cls, _cls.__mro__[2])
del _cls

__all__ = ["SGD", "Adam", "AdamW", "Adamax", "Lion", "Nadam", "RMSprop"]
