"""fastlr: fast, exact, compile-safe learning-rate schedules for Keras 3 / TensorFlow.

``import fastlr`` is light: TensorFlow, Keras and Numba load on first use. Schedules become Keras
``LearningRateSchedule``s (registered as ``fastlr>Name``) as soon as Keras is imported.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "evaluate": "fastlr.bulk",
    "dry_run": "fastlr.preflight",
    "DryRun": "fastlr.preflight",
    "LearningRateLogger": "fastlr.callbacks",
    "ReduceLROnPlateau": "fastlr.callbacks",
    "ScaledLearningRate": "fastlr.plateau",
    "learning_rate_history": "fastlr.callbacks",
    "discriminative": "fastlr.per_layer",
    "find_lr": "fastlr.finder",
    "LRFinderResult": "fastlr.finder",
    "plot_schedule": "fastlr.plot",
    "plot_lr_finder": "fastlr.plot",
    "Schedule": "fastlr.schedules",
    "REGISTRY": "fastlr.schedules",
    "Constant": "fastlr.schedules",
    "CosineDecay": "fastlr.schedules",
    "CosineDecayRestarts": "fastlr.schedules",
    "CyclicalLearningRate": "fastlr.schedules",
    "ExponentialDecay": "fastlr.schedules",
    "ExponentialRange": "fastlr.schedules",
    "InverseSqrtDecay": "fastlr.schedules",
    "InverseTimeDecay": "fastlr.schedules",
    "OneCycle": "fastlr.schedules",
    "Offset": "fastlr.schedules",
    "Scale": "fastlr.schedules",
    "Sequential": "fastlr.schedules",
    "Table": "fastlr.schedules",
    "Warmup": "fastlr.schedules",
    "PiecewiseConstantDecay": "fastlr.schedules",
    "PolynomialDecay": "fastlr.schedules",
    "WarmupCosineDecay": "fastlr.schedules",
    "WarmupCosineRestarts": "fastlr.schedules",
    "WarmupStableDecay": "fastlr.schedules",
}

__all__ = ["__version__", *sorted(_LAZY), "optimizers"]


_SUBMODULES = ("optimizers",)
"""Submodules loaded on first attribute access (``fastlr.optimizers.SGD``): they import Keras."""


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"fastlr.{name}")
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'fastlr' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES))


def _install_keras_hook() -> None:
    from fastlr import _keras

    _keras.install()


_install_keras_hook()
