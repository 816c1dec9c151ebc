"""Keras's CosineDecay (with its linear warmup), exact and vectorizable."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class CosineDecay(Schedule):
    """Drop-in for ``keras.optimizers.schedules.CosineDecay``, warmup included.

    Unlike Keras's (which uses ``cond``), it takes a tensor of steps and stays exact past 2**24.
    With ``w = warmup_steps`` (0 when ``warmup_target is None``), ``peak = warmup_target`` (or
    ``initial_learning_rate``) and ``t = min(step, w + decay_steps)``:

    * ``t < w``: ``initial + (peak - initial) * t / w``;
    * otherwise: ``peak * ((1 - alpha) * (1 + cos(pi * (t - w) / decay_steps)) / 2 + alpha)``.

    Args:
        initial_learning_rate: start value (of the warmup, or of the decay without one), >= 0.
        decay_steps: length of the cosine, > 0 (a float: >= 2**-53).
        alpha: final value as a fraction of the decay's start, in ``[0, 1]``.
        name: Keras's op name, kept for config compatibility.
        warmup_target: the value the linear warmup reaches; ``None`` means no warmup.
        warmup_steps: warmup length, >= 0 (ignored when ``warmup_target is None``, as in Keras).

    Example:
        >>> from fastlr import CosineDecay
        >>> s = CosineDecay(0.0, 100, warmup_target=0.1, warmup_steps=10)
        >>> s.evaluate([0, 5, 10, 60, 110], dtype="float64").round(6).tolist()
        [0.0, 0.05, 0.1, 0.05, 0.0]
    """

    config_only = ("name",)
    static = ("warms",)

    def __init__(
        self,
        initial_learning_rate: float,
        decay_steps: int | float,
        alpha: float = 0.0,
        name: str = "CosineDecay",
        warmup_target: float | None = None,
        warmup_steps: int | float = 0,
    ) -> None:
        super().__init__(
            initial_learning_rate=v.rate("initial_learning_rate", initial_learning_rate),
            decay_steps=v.steps_like("decay_steps", decay_steps, gt=0),
            alpha=v.real("alpha", alpha, ge=0, le=1),
            name=v.text("name", name),
            warmup_target=None if warmup_target is None else v.rate("warmup_target", warmup_target),
            warmup_steps=v.steps_like("warmup_steps", warmup_steps, ge=0),
        )

    def formula_args(self) -> tuple:
        p = self._params
        if p["warmup_target"] is None:
            return (
                p["initial_learning_rate"],
                p["decay_steps"],
                p["alpha"],
                p["initial_learning_rate"],
                0,
                False,
            )
        return (
            p["initial_learning_rate"],
            p["decay_steps"],
            p["alpha"],
            p["warmup_target"],
            p["warmup_steps"],
            p["warmup_steps"] > 0,
        )

    def phases(self) -> dict[str, int]:
        w = self.warmup_steps if self.warmup_target is not None else 0
        out = {"peak": math.ceil(w)} if w else {}
        return {**out, "end": math.ceil(w + self.decay_steps)}

    @staticmethod
    def formula(step, initial_learning_rate, decay_steps, alpha, peak, warmup_steps, warms):
        end = warmup_steps + decay_steps
        t = xp.minimum(xp.f(step), end)
        decayed = peak * ((1.0 - alpha) * xp.cos_remaining(xp.div(end - t, decay_steps)) + alpha)
        if not warms:  # static: no warmup, nothing else to compute
            return decayed
        # max(): a subnormal warmup_steps has no reciprocal (1 / w overflows; xp.div needs it)
        warm = initial_learning_rate + (peak - initial_learning_rate) * xp.div(
            t, max(warmup_steps, 1e-300)
        )
        return xp.where(t < warmup_steps, warm, decayed)
