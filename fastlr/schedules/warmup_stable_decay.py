"""Warmup-stable-decay (WSD), the trapezoid schedule of recent LLM training."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register

DECAY_TYPES = ("linear", "cosine", "1-sqrt")


@register
class WarmupStableDecay(Schedule):
    """Linear warmup, a long stable phase at ``peak_lr``, then a short decay to ``min_lr``.

    With ``W = warmup_steps``, ``T = total_steps``, ``D = decay_steps``, ``t = min(step, T)`` and
    the decay progress ``p = (t - (T - D)) / D``:

    * ``t < W``: ``start_lr + (peak_lr - start_lr) * t / W``;
    * ``W <= t < T - D``: ``peak_lr``;
    * otherwise: ``min_lr + (peak_lr - min_lr) * f(p)``, with ``f(p)`` = ``1 - p`` (linear),
      ``(1 + cos(pi p)) / 2`` (cosine) or ``1 - sqrt(p)`` (1-sqrt); ``min_lr`` from ``T`` on.

    With ``start_lr=min_lr`` the values equal Hugging Face's ``get_wsd_schedule`` (linear warmup,
    ``min_lr_ratio = min_lr / peak_lr``).

    Args:
        peak_lr: the plateau, >= 0.
        total_steps: int > 0.
        warmup_steps: int >= 0.
        decay_steps: int > 0; ``warmup_steps + decay_steps <= total_steps``.
        min_lr: floor, in ``[0, peak_lr]``.
        start_lr: warmup start, >= 0.
        decay_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.

    Example:
        >>> from fastlr import WarmupStableDecay
        >>> s = WarmupStableDecay(1.0, total_steps=100, warmup_steps=10, decay_steps=20)
        >>> s.evaluate([0, 5, 10, 80, 90, 100, 200], dtype="float64").round(6).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
    """

    static = ("kind",)

    def __init__(
        self,
        peak_lr: float,
        total_steps: int,
        warmup_steps: int,
        decay_steps: int,
        min_lr: float = 0.0,
        start_lr: float = 0.0,
        decay_type: str = "linear",
    ) -> None:
        peak_lr = v.rate("peak_lr", peak_lr)
        total = v.integer("total_steps", total_steps, gt=0)
        warmup = v.integer("warmup_steps", warmup_steps, ge=0)
        decay = v.integer("decay_steps", decay_steps, gt=0)
        v.require(
            warmup + decay <= total,
            "decay_steps",
            f"plus warmup_steps={warmup} must be <= total_steps={total}",
            decay,
        )
        min_lr = v.rate("min_lr", min_lr)
        v.require(min_lr <= peak_lr, "min_lr", f"must be <= peak_lr={peak_lr}", min_lr)
        super().__init__(
            peak_lr=peak_lr,
            total_steps=total,
            warmup_steps=warmup,
            decay_steps=decay,
            min_lr=min_lr,
            start_lr=v.rate("start_lr", start_lr),
            decay_type=v.choice("decay_type", decay_type, DECAY_TYPES),
        )

    def formula_args(self) -> tuple:
        p = self._params
        return (
            p["peak_lr"],
            p["total_steps"],
            p["warmup_steps"],
            p["decay_steps"],
            p["min_lr"],
            p["start_lr"],
            DECAY_TYPES.index(p["decay_type"]),
        )

    def phases(self) -> dict[str, int]:
        out = {"peak": self.warmup_steps} if self.warmup_steps else {}
        return {**out, "decay": self.total_steps - self.decay_steps, "end": self.total_steps}

    @staticmethod
    def formula(step, peak_lr, total_steps, warmup_steps, decay_steps, min_lr, start_lr, kind):
        t = xp.minimum(step, total_steps)
        decay_start = total_steps - decay_steps
        warm = start_lr + (peak_lr - start_lr) * xp.div(t, max(warmup_steps, 1))
        remaining = xp.div(total_steps - t, decay_steps)
        if kind == 0:
            factor = remaining
        elif kind == 1:
            factor = xp.cos_remaining(remaining)
        else:
            # 1 - sqrt(p) = (1 - p) / (1 + sqrt(p)): no cancellation as p -> 1.
            factor = remaining / (1.0 + xp.sqrt(xp.div(t - decay_start, decay_steps)))
        decayed = min_lr + (peak_lr - min_lr) * factor
        return xp.where(t < warmup_steps, warm, xp.where(t < decay_start, peak_lr, decayed))
