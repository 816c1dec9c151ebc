"""Discriminative (per-layer) learning rates: one schedule spread over groups of layers.

Fine-tuning often trains the layers near the input slower than the head (fast.ai's
``slice(lr / 100, lr)``, "differential learning rates"). :func:`discriminative` builds a Keras
``MultiOptimizer`` (Keras >= 3.15) whose sub-optimizers are copies of one template optimizer,
group ``i``'s learning rate being the head's times ``factors[i]``: for a fastlr schedule that is
:class:`fastlr.Scale` (still one pure, compiled formula per group), for a float a float.

The variables are assigned to groups by :class:`LayerGroups`, the ``MultiOptimizer``'s map: the
first group that holds a variable gets it, and a trainable variable in no group is an error
(silently training it at some default rate is the bug this prevents). fastlr's tools read a
``MultiOptimizer`` group by group: ``LearningRateLogger`` logs ``learning_rate_<name>`` per
sub-optimizer (Keras's convention), ``learning_rate_history`` returns ``{name: history}``,
``fastlr.ReduceLROnPlateau`` scales every group by one shared decision, ``find_lr`` ramps the
groups at their ratios and ``dry_run(optimizer, ...)`` checks every group.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import keras

from fastlr import _validate as v
from fastlr.schedules import Schedule


def _multi_optimizer_class() -> Any:
    cls = getattr(keras.optimizers, "MultiOptimizer", None)
    if cls is None:
        raise RuntimeError(
            "fastlr.discriminative needs keras.optimizers.MultiOptimizer, added in Keras 3.15; "
            f"this is Keras {keras.__version__}: upgrade Keras (pip install -U keras)."
        )
    return cls


def _is_layer(x: Any) -> bool:
    return isinstance(x, keras.layers.Layer)


def _group_spec(i: int, group: Any) -> Any:
    """A group as given (layer, list of layers, regex string), checked."""
    if isinstance(group, str):
        try:
            re.compile(group)
        except re.error as e:
            v.fail(f"groups[{i}]", f"must be a valid regular expression ({e})", group)
        return group
    if _is_layer(group):
        return (group,)
    if isinstance(group, (list, tuple)) and group and all(_is_layer(x) for x in group):
        return tuple(group)
    v.fail(
        f"groups[{i}]",
        "must be a layer, a non-empty list of layers, a sub-model or a regex over variable paths",
        group,
        TypeError,
    )
    raise AssertionError  # unreachable


@keras.saving.register_keras_serializable(package="fastlr")
class LayerGroups:
    """The variable -> optimizer map of :func:`discriminative` (a ``MultiOptimizer`` map).

    ``groups[i]`` (bottom to top) is a tuple of layers or a regex (``re.fullmatch`` on the
    variable's path); a variable goes to the first group that holds it. Layer groups are saved
    as the paths of their variables, so a saved model reloads with the same assignment.

    Args:
        optimizers: one Keras optimizer per group.
        groups: per group, a tuple of layers, a regex string, or ``{"paths": [...]}``.
    """

    def __init__(self, optimizers: Sequence[Any], groups: Sequence[Any]) -> None:
        optimizers = v.sequence("optimizers", optimizers, min_len=1)
        groups = v.sequence("groups", groups, min_len=1)
        for i, optimizer in enumerate(optimizers):
            if not isinstance(optimizer, keras.optimizers.Optimizer):
                v.fail(f"optimizers[{i}]", "must be a Keras optimizer", optimizer, TypeError)
        if len(optimizers) != len(groups):
            raise ValueError(
                "Arguments `optimizers` and `groups` must have the same length (one optimizer "
                f"per group). Received: {len(optimizers)} optimizers, {len(groups)} groups"
            )
        self.optimizers = list(optimizers)
        self.groups = [g if not isinstance(g, dict) else frozenset(g["paths"]) for g in groups]

    def values(self) -> list[Any]:
        """The optimizers, bottom to top (``MultiOptimizer`` registers them in this order)."""
        return list(self.optimizers)

    def index(self, variable: Any) -> int:
        """The group of ``variable`` (the first that holds it); ``ValueError`` if none."""
        path = variable.path
        for i, group in enumerate(self.groups):
            if isinstance(group, str):
                if re.fullmatch(group, path):
                    return i
            elif isinstance(group, frozenset):
                if path in group:
                    return i
            elif any(w is variable for layer in group for w in layer.weights):
                return i
        raise ValueError(
            f"Trainable variable `{path}` is in none of the groups given to "
            "fastlr.discriminative: add its layer (or a regex matching its path) to a group, or "
            "freeze it (layer.trainable = False)."
        )

    def __call__(self, variable: Any) -> Any:
        return self.optimizers[self.index(variable)]

    def get_config(self) -> dict[str, Any]:
        groups = []
        for group in self.groups:
            if isinstance(group, str):
                groups.append(group)
            elif isinstance(group, frozenset):
                groups.append({"paths": sorted(group)})
            else:
                groups.append({"paths": sorted(w.path for layer in group for w in layer.weights)})
        return {
            "optimizers": [keras.saving.serialize_keras_object(o) for o in self.optimizers],
            "groups": groups,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> LayerGroups:
        optimizers = [keras.saving.deserialize_keras_object(o) for o in config["optimizers"]]
        return cls(optimizers, config["groups"])


def spread_factors(n: int, spread: float) -> list[float]:
    """Geometric factors from ``1 / spread`` (bottom group) to 1 (head), as fast.ai's
    ``slice(lr / spread, lr)``: ``spread ** (-(n - 1 - i) / (n - 1))``."""
    if n == 1:
        return [1.0]
    return [float(spread ** (-(n - 1 - i) / (n - 1))) for i in range(n)]


def _scaled(lr: Any, factor: float) -> Any:
    if factor == 1.0:
        return lr
    if isinstance(lr, Schedule):
        return lr * factor
    if isinstance(lr, keras.optimizers.schedules.LearningRateSchedule):
        raise TypeError(
            "fastlr.discriminative scales the head's learning rate per group, which needs a "
            f"fastlr schedule or a float; the optimizer has {type(lr).__name__}: use the fastlr "
            "drop-in of the same name."
        )
    return float(lr) * factor


def discriminative(
    optimizer: Any,
    groups: Sequence[Any],
    factors: Sequence[float] | None = None,
    *,
    spread: float | None = None,
) -> Any:
    """A ``keras.optimizers.MultiOptimizer`` that trains each group of layers at its own
    fraction of the head's learning rate.

    Group ``i``'s optimizer is a copy of ``optimizer`` (same class and config) whose learning
    rate is ``factors[i] * lr``, ``lr`` being ``optimizer``'s (the head's): a fastlr schedule
    becomes ``fastlr.Scale(lr, factors[i])``, a float a float. With ``spread=s`` the factors are
    geometric from ``1 / s`` (the first group) to 1 (the last), fast.ai's ``slice(lr / s, lr)``.

    Args:
        optimizer: the template Keras optimizer (its learning rate is the head's).
        groups: bottom to top; each a layer, a list of layers, a sub-model, or a regex over
            variable paths (``re.fullmatch``, e.g. ``"encoder/.*"``). A trainable variable in
            several groups goes to the first; one in no group is a ``ValueError`` when the
            optimizer is built.
        factors: each group's LR multiplier (finite, >= 0).
        spread: instead of ``factors``: the ratio of the head's LR to the first group's (>= 1).

    Returns:
        A ``MultiOptimizer``; its sub-optimizers (``.optimizers``, bottom to top) are named
        ``"group0"``, ``"group1"``, ... (the keys of the logs and histories).

    Example:
        >>> import keras, fastlr
        >>> backbone = keras.layers.Dense(4, name="backbone")
        >>> head = keras.layers.Dense(1, name="head")
        >>> model = keras.Sequential([keras.Input((3,)), backbone, head])
        >>> opt = fastlr.discriminative(
        ...     keras.optimizers.SGD(fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=100)),
        ...     [backbone, head], spread=10.0)
        >>> [o.name for o in opt.optimizers]
        ['group0', 'group1']
        >>> [round(float(o.learning_rate), 4) for o in opt.optimizers]  # at step 0 of warmup
        [0.0, 0.0]
    """
    multi = _multi_optimizer_class()
    if not isinstance(optimizer, keras.optimizers.Optimizer) or isinstance(optimizer, multi):
        v.fail(
            "optimizer", "must be a Keras optimizer (not a MultiOptimizer)", optimizer, TypeError
        )
    items = v.sequence("groups", groups, min_len=1)
    specs = [_group_spec(i, g) for i, g in enumerate(items)]
    if (factors is None) == (spread is None):
        raise ValueError(
            "Give exactly one of `factors` and `spread`. Received: "
            f"factors={factors!r}, spread={spread!r}"
        )
    if factors is not None:
        given = v.sequence("factors", factors)
        if len(given) != len(specs):
            v.fail(
                "factors",
                f"must have one factor per group ({len(specs)} groups)",
                factors,
            )
        scale = [v.real(f"factors[{i}]", f, ge=0) for i, f in enumerate(given)]
    else:
        scale = spread_factors(len(specs), v.real("spread", spread, ge=1))
    config = optimizer.get_config()
    head_lr = optimizer._learning_rate
    if isinstance(head_lr, keras.Variable):
        head_lr = float(keras.ops.convert_to_numpy(head_lr))
    subs = []
    for i, factor in enumerate(scale):
        sub_config = dict(config, name=f"group{i}")
        sub_config["learning_rate"] = _scaled(head_lr, factor)
        subs.append(type(optimizer).from_config(sub_config))
    return multi(LayerGroups(subs, specs), name=f"{optimizer.name}_discriminative")
