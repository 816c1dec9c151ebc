"""Composite schedules: Warmup, Sequential, Offset, Scale, Product, PerEpoch, Noise and Clip, built
from child schedules.

A composite's math is two small formulas in the same vocabulary as every schedule:

* ``child_step(i, step, *own)``: the step at which child ``i`` runs (clamped at 0 by the engine);
* ``fold(i, acc, value, step, *own)``: folds child ``i``'s value into the result.

Every engine walks the children with the same generated code
(:func:`fastlr.engines._structure.build_scalar`, unrolled over the children): compiled into one
scalar function in the Numba kernels, and run on the whole step tensor in a TF graph, JAX,
PyTorch or NumPy. So composites are pure, XLA-safe, vectorizable and exact at large steps like
their children.

Children must be fastlr schedules: a Keras built-in (or any other callable) is opaque Python that
no kernel can compile, so it is refused with a pointer to the fastlr drop-in of the same name.
Serialized configs nest the children through Keras's ``serialize_keras_object``, so composites of
any depth survive ``model.save`` / ``load_model`` without ``custom_objects``.
"""

from __future__ import annotations

import math
from typing import Any

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._random import counter_uniform, normal_mass, normal_quantile, seed_keys


def _child(name: str, value: Any) -> Schedule:
    if isinstance(value, Schedule):
        return value
    kind = type(value).__name__
    hint = ""
    if type(value).__module__.startswith("keras"):
        hint = (
            f" (Keras built-ins cannot be compiled into fastlr's kernels: use "
            f"`fastlr.{kind}`, the drop-in with the same parameters)"
        )
    v.fail(name, f"must be a fastlr schedule{hint}", value, TypeError)
    raise AssertionError  # unreachable


def _serialize(schedule: Schedule) -> dict:
    import keras

    return keras.saving.serialize_keras_object(schedule)


def _deserialize(config: Any) -> Any:
    if isinstance(config, dict) and "class_name" in config:
        import keras

        return keras.saving.deserialize_keras_object(config)
    return config


class Composite(Schedule):
    """Base of schedules built from child schedules (see the module docstring)."""

    child_keys: tuple[str, ...] = ()

    def children(self) -> tuple[Schedule, ...]:
        out: list[Schedule] = []
        for key in self.child_keys:
            value = self._params[key]
            out.extend(value if isinstance(value, tuple) else (value,))
        return tuple(out)

    def formula_args(self) -> tuple:
        return tuple(v for k, v in self._params.items() if k not in self.child_keys)

    def get_config(self) -> dict[str, Any]:
        config = super().get_config()
        for key in self.child_keys:
            value = self._params[key]
            if isinstance(value, tuple):
                config[key] = [_serialize(c) for c in value]
            else:
                config[key] = _serialize(value)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Schedule:
        config = dict(config)
        for key in cls.child_keys:
            value = config[key]
            if isinstance(value, list):
                config[key] = [_deserialize(c) for c in value]
            else:
                config[key] = _deserialize(value)
        return cls(**config)


@register
class Warmup(Composite):
    """A linear warmup in front of any schedule.

    ``lr(step) = start_lr + (schedule(0) - start_lr) * step / W`` for ``step < W``
    (``W = warmup_steps``), then ``schedule(step - W)``: the wrapped schedule starts at step 0
    when the warmup ends, so it is continuous there.

    Args:
        schedule: a fastlr schedule.
        warmup_steps: int >= 0.
        start_lr: value at step 0, >= 0.

    Example:
        >>> from fastlr import Warmup, CosineDecay
        >>> s = Warmup(CosineDecay(0.1, decay_steps=100), warmup_steps=10)
        >>> s.evaluate([0, 5, 10, 60, 110, 200], dtype="float64").round(6).tolist()
        [0.0, 0.05, 0.1, 0.05, 0.0, 0.0]
    """

    child_keys = ("schedule",)

    def __init__(self, schedule: Schedule, warmup_steps: int, start_lr: float = 0.0) -> None:
        child = _child("schedule", schedule)
        super().__init__(
            schedule=child,
            warmup_steps=v.integer("warmup_steps", warmup_steps, ge=0),
            start_lr=v.rate("start_lr", start_lr),
        )

    def formula_args(self) -> tuple:
        return (self.warmup_steps, self.start_lr)

    def phases(self) -> dict[str, int]:
        inner = {k: p + self.warmup_steps for k, p in self.schedule.phases().items()}
        return {"peak": self.warmup_steps, **inner} if self.warmup_steps else inner

    @staticmethod
    def child_step(i, step, warmup_steps, start_lr):
        return step - warmup_steps

    @staticmethod
    def fold(i, acc, value, step, warmup_steps, start_lr):
        # during the warmup the child runs at its step 0 (a composite clamps its children's
        # steps at 0), so `value` is the ramp's target, schedule(0), in every engine
        ramp = start_lr + (value - start_lr) * xp.div(step, max(warmup_steps, 1))
        return xp.where(step < warmup_steps, ramp, value)


@register
class Sequential(Composite):
    """Schedules one after another (optax's ``join_schedules``).

    Formula, with boundaries ``b_0 < b_1 < ...``: ``lr(step) = schedules[0](step)`` while
    ``step < b_0``, then ``lr(step) = schedules[i + 1](step - b_i)`` while
    ``b_i <= step < b_{i+1}``: each schedule starts from its own step 0 at its boundary.

    Args:
        schedules: fastlr schedules (at least one).
        boundaries: ``len(schedules) - 1`` strictly increasing ints > 0.

    Example:
        >>> from fastlr import Sequential, Constant, CosineDecay
        >>> s = Sequential([Constant(0.1), CosineDecay(0.1, 100), Constant(0.001)], [10, 110])
        >>> s.evaluate([0, 9, 10, 60, 109, 110, 10**9], dtype="float64").round(6).tolist()
        [0.1, 0.1, 0.1, 0.05, 2.5e-05, 0.001, 0.001]
    """

    child_keys = ("schedules",)

    def __init__(self, schedules: list[Schedule], boundaries: list[int]) -> None:
        items = v.sequence("schedules", schedules, min_len=1)
        kids = tuple(_child(f"schedules[{i}]", c) for i, c in enumerate(items))
        bounds = v.sequence("boundaries", boundaries)
        if len(bounds) != len(kids) - 1:
            v.fail(
                "boundaries",
                f"must have len(schedules) - 1 = {len(kids) - 1} element(s)",
                boundaries,
            )
        bounds = tuple(v.integer(f"boundaries[{i}]", b, gt=0) for i, b in enumerate(bounds))
        v.increasing("boundaries", bounds, boundaries)
        super().__init__(schedules=kids, boundaries=bounds)

    def phases(self) -> dict[str, int]:
        starts = (0, *self.boundaries)
        ends = (*self.boundaries, None)
        out: dict[str, int] = {}
        for i, (child, lo, hi) in enumerate(zip(self.schedules, starts, ends, strict=True)):
            if i:
                out[f"schedules[{i}]"] = lo
            for k, p in child.phases().items():
                if hi is None or lo + p < hi:
                    out[f"schedules[{i}] {k}"] = lo + p
        return out

    @staticmethod
    def child_step(i, step, boundaries):
        if i == 0:
            return step
        return step - boundaries[i - 1]

    @staticmethod
    def fold(i, acc, value, step, boundaries):
        if i == 0:
            return value
        return xp.where(step >= boundaries[i - 1], value, acc)


@register
class Offset(Composite):
    """A schedule shifted in steps: ``lr(step) = schedule(step + offset)``.

    For resuming a run (or starting mid-schedule): ``Offset(s, 40_000)`` at step 0 is ``s`` at
    step 40,000, exactly. The child's step saturates at 2**63 - 1 (as any step past the int64
    range does): ``lr(step) = schedule(min(step + offset, 2**63 - 1))``, with no wrap-around.

    Args:
        schedule: a fastlr schedule.
        offset: int >= 0.

    Example:
        >>> from fastlr import Offset, WarmupCosineDecay
        >>> s = Offset(WarmupCosineDecay(0.1, 100, warmup_steps=10), offset=10)
        >>> s.evaluate([0, 45, 90, 500], dtype="float64").round(6).tolist()
        [0.1, 0.05, 0.0, 0.0]
    """

    child_keys = ("schedule",)

    def __init__(self, schedule: Schedule, offset: int) -> None:
        super().__init__(
            schedule=_child("schedule", schedule),
            offset=v.integer("offset", offset, ge=0),
        )

    def phases(self) -> dict[str, int]:
        return {k: p - self.offset for k, p in self.schedule.phases().items() if p > self.offset}

    @staticmethod
    def child_step(i, step, offset):
        return xp.minimum(step, 9223372036854775807 - offset) + offset  # saturates, no wrap

    @staticmethod
    def fold(i, acc, value, step, offset):
        return value


@register
class Scale(Composite):
    """A schedule times a constant: ``lr(step) = factor * schedule(step)``.

    ``schedule * factor`` and ``factor * schedule`` build it. For a group of layers that learns
    at a fraction of the head's rate (see :func:`fastlr.discriminative`), or a sweep over peak
    rates with one shape. The product is rounded once, in float64, like every formula.

    Args:
        schedule: a fastlr schedule.
        factor: finite, >= 0.

    Example:
        >>> from fastlr import CosineDecay
        >>> s = 0.1 * CosineDecay(1.0, decay_steps=100)
        >>> s
        Scale(schedule=CosineDecay(initial_learning_rate=1.0, decay_steps=100, alpha=0.0, \
name='CosineDecay', warmup_target=None, warmup_steps=0), factor=0.1)
        >>> s.evaluate([0, 50, 100], dtype="float64").round(6).tolist()
        [0.1, 0.05, 0.0]
    """

    child_keys = ("schedule",)

    def __init__(self, schedule: Schedule, factor: float) -> None:
        super().__init__(
            schedule=_child("schedule", schedule), factor=v.real("factor", factor, ge=0)
        )

    def phases(self) -> dict[str, int]:
        return self.schedule.phases()

    @staticmethod
    def child_step(i, step, factor):
        return step

    @staticmethod
    def fold(i, acc, value, step, factor):
        return factor * value


@register
class Product(Composite):
    """Schedules multiplied together: ``lr(step) = schedules[0](step) * schedules[1](step) * ...``.

    Every schedule runs on the same step. For a shape made of independent factors: a peak
    schedule times unitless factors (a warmup ramp from a fraction to 1, a decay, a step
    function), as PyTorch's ``ChainedScheduler`` multiplies its schedulers' factors (see
    :func:`fastlr.from_torch`). The product is rounded once per factor, in float64, left to
    right.

    Args:
        schedules: fastlr schedules (at least one).

    Example:
        >>> from fastlr import Product, ExponentialDecay, PolynomialDecay
        >>> ramp = PolynomialDecay(0.5, decay_steps=4, end_learning_rate=1.0)  # 0.5 -> 1
        >>> s = Product([ExponentialDecay(0.1, decay_steps=1, decay_rate=0.9), ramp])
        >>> s.evaluate([0, 2, 4, 6], dtype="float64").round(6).tolist()
        [0.05, 0.06075, 0.06561, 0.053144]
    """

    child_keys = ("schedules",)

    def __init__(self, schedules: list[Schedule]) -> None:
        items = v.sequence("schedules", schedules, min_len=1)
        super().__init__(schedules=tuple(_child(f"schedules[{i}]", c) for i, c in enumerate(items)))

    def phases(self) -> dict[str, int]:
        """Each factor's phases, marked as a factor's: a factor's end or peak is not the
        product's (the other factors keep changing it)."""
        out: dict[str, int] = {}
        for i, child in enumerate(self.schedules):
            out.update({f"schedules[{i}] {k} (a factor)": p for k, p in child.phases().items()})
        return dict(sorted(out.items(), key=lambda kv: kv[1]))

    @staticmethod
    def child_step(i, step):
        return step

    @staticmethod
    def fold(i, acc, value, step):
        if i == 0:
            return value
        return acc * value


@register
class PerEpoch(Composite):
    """A schedule stepped once per epoch: ``lr(step) = schedule(step // steps_per_epoch)``.

    For a schedule written in epochs (timm's ``t_in_epochs=True``, Keras-2 era epoch
    callbacks), run per optimizer step: the value changes at the first step of each epoch and is
    held through it. The epoch index is integer arithmetic on the step, exact at every int64
    step.

    Args:
        schedule: a fastlr schedule, in epochs.
        steps_per_epoch: optimizer steps per epoch, int > 0.

    Example:
        >>> from fastlr import PerEpoch, ExponentialDecay
        >>> s = PerEpoch(ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5), steps_per_epoch=3)
        >>> s.evaluate([0, 2, 3, 5, 6, 9], dtype="float64").round(6).tolist()
        [1.0, 1.0, 0.5, 0.5, 0.25, 0.125]
    """

    child_keys = ("schedule",)

    def __init__(self, schedule: Schedule, steps_per_epoch: int) -> None:
        super().__init__(
            schedule=_child("schedule", schedule),
            steps_per_epoch=v.integer("steps_per_epoch", steps_per_epoch, gt=0),
        )

    def phases(self) -> dict[str, int]:
        n = self.steps_per_epoch
        return {k: p * n for k, p in self.schedule.phases().items() if p * n < 2**63}

    @staticmethod
    def child_step(i, step, steps_per_epoch):
        return xp.floordiv(step, steps_per_epoch)

    @staticmethod
    def fold(i, acc, value, step, steps_per_epoch):
        return value


_LAST_STEP = 2**63 - 1


@register
class Noise(Composite):
    """A schedule with seeded random noise: ``lr = value * (1 + n(step))`` for steps in
    ``[start, end)``, a pure function of ``(seed, step)`` (timm's LR noise).

    ``n`` is a normal deviate of standard deviation ``std`` truncated to ``(-pct, pct)``
    (timm's ``noise_type="normal"``, which redraws until ``|n| < pct``), or uniform on
    ``(-pct, pct)`` (``distribution="uniform"``). It is drawn from a counter-based hash of
    ``(seed, step)`` (:mod:`fastlr.schedules._random`: a uniform ``u`` with 25 bits, and the
    normal's quantile of ``1/2 + (u - 1/2) * P(|Z| < pct / std)``), not from a generator's state:
    every engine, every resume and every order of evaluation give the same values, and it
    compiles and vectorizes like any formula. timm draws from ``torch.Generator`` seeded with
    ``seed + step``: the same distribution, other values.

    Args:
        schedule: a fastlr schedule.
        start: first step with noise, int >= 0 (timm: ``noise_range_t``'s start).
        end: first step without noise again, int > ``start``, or None (no end).
        pct: bound on ``|n|``, in ``[0, 1)`` (1 or more could make the LR negative).
        std: standard deviation of the normal before truncation, > 0.
        seed: int in ``[0, 2**53]``.
        distribution: ``"normal"`` (truncated) or ``"uniform"``.

    Example:
        >>> from fastlr import Noise, Constant
        >>> s = Noise(Constant(1.0), start=2, pct=0.1, seed=7)
        >>> s.evaluate([0, 1, 2, 3, 4, 2**62], dtype="float64").round(6).tolist()
        [1.0, 1.0, 1.00524, 0.924657, 0.999656, 1.042701]
    """

    child_keys = ("schedule",)

    def __init__(
        self,
        schedule: Schedule,
        start: int = 0,
        end: int | None = None,
        pct: float = 0.67,
        std: float = 1.0,
        seed: int = 42,
        distribution: str = "normal",
    ) -> None:
        start = v.integer("start", start, ge=0)
        if end is not None:
            end = v.integer("end", end, gt=start)
        super().__init__(
            schedule=_child("schedule", schedule),
            start=start,
            end=end,
            pct=v.real("pct", pct, ge=0, lt=1),
            std=v.real("std", std, gt=0),
            seed=v.integer("seed", seed, ge=0),
            distribution=v.choice("distribution", distribution, ("normal", "uniform")),
        )

    def formula_args(self) -> tuple:
        last = _LAST_STEP if self.end is None else self.end - 1
        normal = self.distribution == "normal"
        # the normal's quantile runs on 1/2 + (u - 1/2) * mass: |n| < pct after scaling by std
        mass = normal_mass(self.pct / self.std) if normal else 0.0
        keys = seed_keys(self.seed)
        return (self.start, last, self.pct, self.std, mass, 1.0 if normal else 0.0, *keys)

    def phases(self) -> dict[str, int]:
        """The child's phases, and where the noise turns on and off; the child's end (its final
        value held) is the schedule's only once the noise is off."""
        out: dict[str, int] = {}
        for key, p in self.schedule.phases().items():
            if key.endswith("end") and (self.end is None or p < self.end):
                key = f"{key} (under noise)"
            out[key] = p
        if self.start:
            out["noise on"] = self.start
        if self.end is not None:
            out["noise off"] = self.end
        return dict(sorted(out.items(), key=lambda kv: kv[1]))

    @staticmethod
    def child_step(i, step, start, last, pct, std, mass, normal, k0, k1, k2):
        return step

    @staticmethod
    def fold(i, acc, value, step, start, last, pct, std, mass, normal, k0, k1, k2):
        centred = counter_uniform(step, k0, k1, k2) - 0.5
        gauss = std * normal_quantile(centred * mass)
        n = xp.where(normal > 0.5, gauss, (2.0 * pct) * centred)
        noisy = value + value * n  # timm's v + v * noise
        return xp.where(step >= start, xp.where(step <= last, noisy, value), value)


@register
class Clip(Composite):
    """A schedule kept within bounds: ``lr(step) = min(max(schedule(step), min_lr), max_lr)``.

    A floor under a decay that would fall too low, or a ceiling over one that would rise too
    high (optax's ``exponential_decay(..., end_value=)`` clips so: a floor when ``decay_rate <
    1``). ``None`` leaves that side open; the bounds are exact values, not fractions.

    Args:
        schedule: a fastlr schedule.
        min_lr: the floor, >= 0, or ``None``.
        max_lr: the ceiling, >= ``min_lr``, or ``None``; at least one of the two is given.

    Example:
        >>> from fastlr import Clip, ExponentialDecay
        >>> s = Clip(ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5), min_lr=0.02)
        >>> s.evaluate([0, 10, 20, 30, 10**12], dtype="float64").round(6).tolist()
        [0.1, 0.05, 0.025, 0.02, 0.02]
    """

    child_keys = ("schedule",)

    def __init__(
        self, schedule: Schedule, min_lr: float | None = None, max_lr: float | None = None
    ) -> None:
        child = _child("schedule", schedule)
        lo = None if min_lr is None else v.rate("min_lr", min_lr)
        hi = None if max_lr is None else v.rate("max_lr", max_lr)
        v.require(lo is not None or hi is not None, "min_lr", "or `max_lr` must be set", lo)
        if lo is not None and hi is not None:
            v.require(lo <= hi, "max_lr", f"must be >= min_lr={lo}", hi)
        super().__init__(schedule=child, min_lr=lo, max_lr=hi)

    def formula_args(self) -> tuple:
        lo, hi = self.min_lr, self.max_lr
        return (0.0 if lo is None else lo, math.inf if hi is None else hi)

    def phases(self) -> dict[str, int]:
        return self.schedule.phases()

    @staticmethod
    def child_step(i, step, min_lr, max_lr):
        return step

    @staticmethod
    def fold(i, acc, value, step, min_lr, max_lr):
        return xp.minimum(xp.maximum(value, min_lr), max_lr)
