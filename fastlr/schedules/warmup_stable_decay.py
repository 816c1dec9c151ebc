"""Warmup-stable-decay (WSD), the trapezoid schedule of recent LLM training."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import wave, wave_args
from fastlr.schedules.cosine_annealing import cycles

DECAY_TYPES = ("linear", "cosine", "1-sqrt")
WARMUP_TYPES = ("linear", "cosine", "1-sqrt")


@register
class WarmupStableDecay(Schedule):
    """A warmup, a long stable phase at ``peak_lr``, then a short decay to ``min_lr``.

    With ``W = warmup_steps``, ``T = total_steps``, ``D = decay_steps``, ``t = min(step, T)``, the
    warmup progress ``w = t / W`` and the decay progress ``p = (t - (T - D)) / D``:

    * ``t < W``: ``start_lr + (peak_lr - start_lr) * g(w)``, with ``g(w)`` = ``w`` (linear),
      ``(1 - cos(pi w)) / 2`` (cosine) or ``1 - sqrt(1 - w)`` (1-sqrt);
    * ``W <= t < T - D``: ``peak_lr``;
    * ``T - D <= t < T``: ``min_lr + (peak_lr - min_lr) * f(p)``, with ``f(p)`` = ``1 - p``
      (linear), ``(1 + cos(2 pi c p)) / 2`` (cosine, ``c = num_cycles``: the default 0.5 is a
      half cosine down to ``min_lr``) or ``1 - sqrt(p)`` (1-sqrt);
    * ``min_lr`` from ``T`` on (a jump there for a cosine that does not end at its bottom).

    With ``start_lr=min_lr`` the values equal Hugging Face's ``get_wsd_schedule``
    (``min_lr_ratio = min_lr / peak_lr``, the same ``warmup_type``, ``decay_type`` and
    ``num_cycles``). The cosine decay's position is that of :class:`CosineAnnealing` (exact
    where ``D / num_cycles`` is a whole number of steps, else within 2**-49 of a wave).

    Args:
        peak_lr: the plateau, >= 0.
        total_steps: int > 0.
        warmup_steps: int >= 0.
        decay_steps: int > 0; ``warmup_steps + decay_steps <= total_steps``.
        min_lr: floor, in ``[0, peak_lr]``.
        start_lr: warmup start, >= 0.
        decay_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        warmup_type: ``"linear"``, ``"cosine"`` or ``"1-sqrt"``.
        num_cycles: full cosine waves over ``decay_steps`` (``decay_type="cosine"``; other
            decay types take only the default 0.5), in ``[2**-53, 2**53]``.

    Example:
        >>> from fastlr import WarmupStableDecay
        >>> s = WarmupStableDecay(1.0, total_steps=100, warmup_steps=10, decay_steps=20)
        >>> s.evaluate([0, 5, 10, 80, 90, 100, 200], dtype="float64").round(6).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.5, 0.0, 0.0]
        >>> c = WarmupStableDecay(1.0, 100, 10, 20, warmup_type="cosine", decay_type="cosine",
        ...                       num_cycles=0.75)
        >>> c.evaluate([0, 5, 10, 80, 90, 99, 100], dtype="float64").round(6).tolist()
        [0.0, 0.5, 1.0, 1.0, 0.146447, 0.383277, 0.0]
    """

    static = ("kind", "warm_kind", "whole")

    def __init__(
        self,
        peak_lr: float,
        total_steps: int,
        warmup_steps: int,
        decay_steps: int,
        min_lr: float = 0.0,
        start_lr: float = 0.0,
        decay_type: str = "linear",
        warmup_type: str = "linear",
        num_cycles: float = 0.5,
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
        decay_type = v.choice("decay_type", decay_type, DECAY_TYPES)
        warmup_type = v.choice("warmup_type", warmup_type, WARMUP_TYPES)
        c = cycles("num_cycles", num_cycles)
        v.require(
            c == 0.5 or decay_type == "cosine",
            "num_cycles",
            f"must be 0.5 with decay_type={decay_type!r} (it shapes the cosine decay only)",
            num_cycles,
        )
        super().__init__(
            peak_lr=peak_lr,
            total_steps=total,
            warmup_steps=warmup,
            decay_steps=decay,
            min_lr=min_lr,
            start_lr=v.rate("start_lr", start_lr),
            decay_type=decay_type,
            warmup_type=warmup_type,
            num_cycles=c,
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
            WARMUP_TYPES.index(p["warmup_type"]),
            p["num_cycles"],
            *wave_args(p["decay_steps"], p["num_cycles"]),
        )

    def phases(self) -> dict[str, int]:
        out = {"peak": self.warmup_steps} if self.warmup_steps else {}
        return {**out, "decay": self.total_steps - self.decay_steps, "end": self.total_steps}

    @staticmethod
    def formula(
        step,
        peak_lr,
        total_steps,
        warmup_steps,
        decay_steps,
        min_lr,
        start_lr,
        kind,
        warm_kind,
        num_cycles,
        period,
        nu_hi,
        nu_lo,
        whole,
    ):
        t = xp.minimum(step, total_steps)
        decay_start = total_steps - decay_steps
        tw = xp.minimum(t, warmup_steps)  # the warmup's progress, in [0, 1] on both sides
        w = xp.div(tw, max(warmup_steps, 1))
        if warm_kind == 1:
            w = xp.cos_remaining(w)
        elif warm_kind == 2:
            # 1 - sqrt(1 - w) = w / (1 + sqrt(1 - w)): no cancellation as w -> 0.
            w = w / (1.0 + xp.sqrt(xp.div(warmup_steps - tw, max(warmup_steps, 1))))
        warm = start_lr + (peak_lr - start_lr) * w
        remaining = xp.div(total_steps - t, decay_steps)
        if kind == 0:
            factor = remaining
        elif kind == 1:
            # (1 + cos(2 pi c p)) / 2, the wave of CosineAnnealing at the step into the decay;
            # min_lr from total_steps on (where a wave that is not a half cosine has not ended)
            into = xp.maximum(t - decay_start, 0)
            wave_at = wave(into, decay_steps, num_cycles, period, nu_hi, nu_lo, whole)
            factor = xp.where(t < total_steps, wave_at, 0.0)
        else:
            # 1 - sqrt(p) = (1 - p) / (1 + sqrt(p)): no cancellation as p -> 1.
            factor = remaining / (1.0 + xp.sqrt(xp.div(t - decay_start, decay_steps)))
        decayed = min_lr + (peak_lr - min_lr) * factor
        return xp.where(t < warmup_steps, warm, xp.where(t < decay_start, peak_lr, decayed))
