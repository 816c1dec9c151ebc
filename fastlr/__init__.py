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
    "from_hf": "fastlr.hugging_face",
    "LRFinderResult": "fastlr.finder",
    "plot_schedule": "fastlr.plot",
    "plot_lr_finder": "fastlr.plot",
    "from_torch": "fastlr.torch_schedulers",
    "from_timm": "fastlr.timm_schedulers",
}


_SUBMODULES = ("optimizers",)
"""Submodules loaded on first attribute access (``fastlr.optimizers.SGD``): they import Keras."""


def _schedule_names() -> list[str]:
    """Every schedule class (and ``Schedule``, ``REGISTRY``): the catalogue registers itself, so
    a new family needs no line here. Importing :mod:`fastlr.schedules` loads NumPy only."""
    return ["REGISTRY", "Schedule", *import_module("fastlr.schedules").REGISTRY]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return import_module(f"fastlr.{name}")
    if name == "__all__":
        return ["__version__", *sorted([*_LAZY, *_schedule_names()]), *_SUBMODULES]
    module = _LAZY.get(name)
    if module is None and not name.startswith("__") and name in _schedule_names():
        module = "fastlr.schedules"
    if module is None:
        raise AttributeError(f"module 'fastlr' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | set(_SUBMODULES) | set(_schedule_names()))


def _install_keras_hook() -> None:
    from fastlr import _keras

    _keras.install()


_install_keras_hook()
