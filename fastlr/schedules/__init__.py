"""The schedule catalogue: one module per family, each the only place with its LR math.

Every module of this package (but the ``_``-prefixed helpers) is imported here, and every
:class:`Schedule` subclass it defines is registered (:data:`REGISTRY`) and exported: a new family
is a new module, nothing else to list.

Importing this package is light (NumPy only); the classes become Keras ``LearningRateSchedule``s
as soon as Keras is imported (see :mod:`fastlr._keras`).
"""

import importlib as _importlib
import pkgutil as _pkgutil

from fastlr.schedules._base import REGISTRY, Schedule

for _module in _pkgutil.iter_modules(__path__):  # every family module registers its classes
    if not _module.name.startswith("_"):
        _importlib.import_module(f"{__name__}.{_module.name}")
globals().update(REGISTRY)  # fastlr.schedules.CosineDecay, ...

KERAS_NAMED = (
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
)
"""Classes that keep Keras's exact constructor parameters, defaults and semantics."""

__all__ = ["KERAS_NAMED", "REGISTRY", "Schedule", *sorted(REGISTRY)]
