"""Linear warmup, hold, cosine decay to a floor: the most common recipe."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class WarmupCosineDecay(Schedule):
    """Linear warmup from ``start_lr``, hold at ``target_lr``, cosine down to ``min_lr``.

    With ``W = warmup_steps``, ``H = hold_steps``, ``T = total_steps`` (warmup and hold included)
    and ``t = min(step, T)``:

    * ``t < W``: ``start_lr + (target_lr - start_lr) * t / W``;
    * ``W <= t < W + H``: ``target_lr``;
    * otherwise: ``min_lr + (target_lr - min_lr) * c ** exponent`` with the cosine
      ``c = (1 + cos(pi * (t - W - H) / (T - W - H))) / 2``, computed as ``sin(pi/2 * r)**2`` of
      the remaining fraction ``r`` (no cancellation near the end), so it is exactly ``min_lr``
      at ``T`` and afterwards.

    ``exponent`` (optax's ``cosine_decay_schedule(..., exponent=)``) bends the cosine: above 1
    it leaves the peak sooner and lingers near ``min_lr``, below 1 the opposite.

    The blog version ignores ``start_lr`` and returns 0 after the end; this one does neither.

    Args:
        target_lr: the peak, >= 0.
        total_steps: whole length (warmup and hold included), int > 0.
        warmup_steps: int >= 0.
        hold_steps: int >= 0; ``warmup_steps + hold_steps <= total_steps``.
        start_lr: warmup start, >= 0.
        min_lr: floor, in ``[0, target_lr]``.
        exponent: power of the cosine, > 0 (1: the plain cosine).

    Example:
        >>> from fastlr import WarmupCosineDecay
        >>> s = WarmupCosineDecay(0.1, total_steps=100, warmup_steps=10, hold_steps=10)
        >>> s.evaluate([0, 5, 10, 20, 60, 100, 500], dtype="float64").round(6).tolist()
        [0.0, 0.05, 0.1, 0.1, 0.05, 0.0, 0.0]
        >>> s = WarmupCosineDecay(0.1, total_steps=100, exponent=2.0)
        >>> s.evaluate([0, 25, 50, 75, 100], dtype="float64").round(6).tolist()
        [0.1, 0.072855, 0.025, 0.002145, 0.0]
    """

    static = ("powered",)

    def __init__(
        self,
        target_lr: float,
        total_steps: int,
        warmup_steps: int = 0,
        hold_steps: int = 0,
        start_lr: float = 0.0,
        min_lr: float = 0.0,
        exponent: float = 1.0,
    ) -> None:
        target_lr = v.rate("target_lr", target_lr)
        total = v.integer("total_steps", total_steps, gt=0)
        warmup = v.integer("warmup_steps", warmup_steps, ge=0)
        hold = v.integer("hold_steps", hold_steps, ge=0)
        v.require(
            warmup + hold <= total,
            "warmup_steps",
            f"plus hold_steps={hold} must be <= total_steps={total}",
            warmup,
        )
        min_lr = v.rate("min_lr", min_lr)
        v.require(min_lr <= target_lr, "min_lr", f"must be <= target_lr={target_lr}", min_lr)
        super().__init__(
            target_lr=target_lr,
            total_steps=total,
            warmup_steps=warmup,
            hold_steps=hold,
            start_lr=v.rate("start_lr", start_lr),
            min_lr=min_lr,
            exponent=v.real("exponent", exponent, gt=0),
        )

    def formula_args(self) -> tuple:
        return (*super().formula_args(), self.exponent != 1.0)

    def phases(self) -> dict[str, int]:
        w, h = self.warmup_steps, self.hold_steps
        out = {"peak": w} if w else {}
        if h:
            out["decay"] = w + h
        return {**out, "end": self.total_steps}

    @staticmethod
    def formula(
        step, target_lr, total_steps, warmup_steps, hold_steps, start_lr, min_lr, exponent, powered
    ):
        t = xp.minimum(step, total_steps)
        decay_start = warmup_steps + hold_steps
        warm = start_lr + (target_lr - start_lr) * xp.div(t, max(warmup_steps, 1))
        remaining = xp.div(total_steps - t, max(total_steps - decay_start, 1))
        shape = xp.cos_remaining(remaining)
        if powered:  # static: the plain cosine computes no power
            shape = xp.power(shape, exponent)
        decayed = min_lr + (target_lr - min_lr) * shape
        return xp.where(t < warmup_steps, warm, xp.where(t < decay_start, target_lr, decayed))
