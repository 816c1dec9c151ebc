"""The schedule catalogue: one module per family, each the only place with its LR math.

Importing this package is light (NumPy only); the classes become Keras ``LearningRateSchedule``s
as soon as Keras is imported (see :mod:`fastlr._keras`).
"""

from fastlr.schedules._base import REGISTRY, Schedule
from fastlr.schedules.compose import Offset, Scale, Sequential, Warmup
from fastlr.schedules.constant import Constant
from fastlr.schedules.cosine import CosineDecay
from fastlr.schedules.cyclical import CyclicalLearningRate
from fastlr.schedules.exponential import ExponentialDecay
from fastlr.schedules.exponential_range import ExponentialRange
from fastlr.schedules.inverse_sqrt import InverseSqrtDecay
from fastlr.schedules.inverse_time import InverseTimeDecay
from fastlr.schedules.onecycle import OneCycle
from fastlr.schedules.piecewise import PiecewiseConstantDecay
from fastlr.schedules.polynomial import PolynomialDecay
from fastlr.schedules.restarts import CosineDecayRestarts, WarmupCosineRestarts
from fastlr.schedules.table import Table
from fastlr.schedules.warmup_cosine import WarmupCosineDecay
from fastlr.schedules.warmup_stable_decay import WarmupStableDecay

KERAS_NAMED = (
    "ExponentialDecay",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "InverseTimeDecay",
    "CosineDecay",
    "CosineDecayRestarts",
)
"""Classes that keep Keras's exact constructor parameters, defaults and semantics."""

__all__ = [
    "KERAS_NAMED",
    "REGISTRY",
    "Constant",
    "CosineDecay",
    "CosineDecayRestarts",
    "CyclicalLearningRate",
    "ExponentialDecay",
    "ExponentialRange",
    "InverseSqrtDecay",
    "InverseTimeDecay",
    "Offset",
    "OneCycle",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "Scale",
    "Schedule",
    "Sequential",
    "Table",
    "Warmup",
    "WarmupCosineDecay",
    "WarmupCosineRestarts",
    "WarmupStableDecay",
]
