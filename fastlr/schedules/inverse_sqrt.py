"""Inverse-square-root decay after a linear warmup (Transformer / T5 style)."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import formula, xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import LAST_STEP


@register
class InverseSqrtDecay(Schedule):
    """Linear warmup to ``peak_lr``, then ``peak_lr / sqrt((step + shift) / timescale)``.

    Values equal Hugging Face's ``get_inverse_sqrt_schedule`` times ``peak_lr``:

    * ``step < W``: ``peak_lr * step / W`` (``W = warmup_steps``);
    * otherwise: ``peak_lr * sqrt(timescale / (step + timescale - W))``, which is ``peak_lr`` at
      ``step = W`` and decays as ``1 / sqrt(step)``.

    The decay is computed in segments of steps: from a segment's first step, where the
    denominator is ``u``, ``peak_lr * sqrt(timescale / u) * (1 + d / u)**-0.5`` for the step
    ``d`` steps further, the last factor a short polynomial (segments are at most ``u / 64``
    steps long): one division and one square root per segment where the steps form a range.

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
    def segment(step, peak_lr, warmup_steps, timescale):
        # m = step - W steps into the decay; segments of 2**max(j - 6, 0) steps, aligned on
        # multiples of their length, with j = floor(log2(max(m, timescale))): at most 2**-6 of
        # the denominator m + timescale. The warmup is one segment.
        m = xp.maximum(step - warmup_steps, 0)
        span = xp.iexp2(xp.maximum(xp.ilog2(xp.maximum(m, timescale)) - 6, 0))
        b = xp.floordiv(m, span) * span
        first = b + warmup_steps  # <= step: no overflow
        q = timescale / (xp.f(b) + timescale)  # at the segment's first step
        last = first + xp.minimum(span - 1, LAST_STEP - first)
        return (
            xp.where(step < warmup_steps, warmup_steps - 1, last),
            b,
            peak_lr * xp.sqrt(q),
            xp.div(q, timescale),  # 1 / the denominator (a hoisted reciprocal, not a division)
        )

    @staticmethod
    def inside(step, seg, peak_lr, warmup_steps, timescale):
        _, b, scale, reciprocal = seg
        d = xp.f(xp.maximum(step - warmup_steps, 0) - b)
        decayed = scale * inv_sqrt_1p_small(d * reciprocal)
        warm = peak_lr * xp.div(step, max(warmup_steps, 1))
        return xp.where(step < warmup_steps, warm, decayed)


@formula
def inv_sqrt_1p_small(z):
    """``(1 + z)**-0.5`` for ``0 <= z <= 2**-6``: the Taylor polynomial to ``z**8`` (truncation
    below 2**-56 relative)."""
    p = 0.196380615234375
    p = p * z - 0.20947265625
    p = p * z + 0.2255859375
    p = p * z - 0.24609375
    p = p * z + 0.2734375
    p = p * z - 0.3125
    p = p * z + 0.375
    p = p * z - 0.5
    return 1.0 + z * p
