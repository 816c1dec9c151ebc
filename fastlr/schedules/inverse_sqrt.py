"""Inverse-square-root decay after a linear warmup (Transformer / T5 style)."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class InverseSqrtDecay(Schedule):
    """Linear warmup to ``peak_lr``, then ``peak_lr / sqrt((step + shift) / timescale)``.

    Values equal Hugging Face's ``get_inverse_sqrt_schedule`` times ``peak_lr``:

    * ``step < W``: ``peak_lr * step / W`` (``W = warmup_steps``);
    * otherwise: ``peak_lr * sqrt(timescale / (step + timescale - W))``, which is ``peak_lr`` at
      ``step = W`` and decays as ``1 / sqrt(step)``.

    Args:
        peak_lr: value at the end of the warmup, >= 0.
        warmup_steps: int >= 0.
        timescale: int > 0; default ``warmup_steps``, or 10,000 without warmup (as Hugging Face).

    Example:
        >>> from fastlr import InverseSqrtDecay
        >>> s = InverseSqrtDecay(1.0, warmup_steps=100)
        >>> s.evaluate([0, 50, 100, 400, 10_000], dtype="float64").round(6).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.1]
    """

    def __init__(self, peak_lr: float, warmup_steps: int, timescale: int | None = None) -> None:
        super().__init__(
            peak_lr=v.rate("peak_lr", peak_lr),
            warmup_steps=v.integer("warmup_steps", warmup_steps, ge=0),
            timescale=None if timescale is None else v.integer("timescale", timescale, gt=0),
        )

    def formula_args(self) -> tuple:
        p = self._params
        timescale = p["timescale"] or p["warmup_steps"] or 10_000
        return (p["peak_lr"], p["warmup_steps"], timescale)

    def phases(self) -> dict[str, int]:
        return {"peak": self.warmup_steps} if self.warmup_steps else {}

    @staticmethod
    def formula(step, peak_lr, warmup_steps, timescale):
        warm = peak_lr * xp.div(step, max(warmup_steps, 1))
        # in float64: an int64 `step + shift` would wrap past 2**63 - 1
        shifted = xp.maximum(xp.f(step) + (timescale - warmup_steps), timescale)
        decayed = peak_lr * xp.sqrt(timescale / shifted)
        return xp.where(step < warmup_steps, warm, decayed)
