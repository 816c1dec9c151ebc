"""PyTorch's CosineAnnealingLR: a cosine wave between two rates, exact at any step."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class CosineAnnealing(Schedule):
    """A cosine from ``max_lr`` down to ``min_lr`` over ``decay_steps``, and back up over the
    next ``decay_steps``, again and again; values equal ``torch.optim.lr_scheduler
    .CosineAnnealingLR(T_max=decay_steps, eta_min=min_lr)`` at every step.

    Formula: ``lr(step) = min_lr + (max_lr - min_lr) * (1 + cos(pi * step / decay_steps)) / 2``,
    a wave of period ``2 * decay_steps``: torch's recursive form keeps following it past
    ``T_max`` (it does not hold ``eta_min``; use :class:`CosineDecay` for a decay that holds).
    The position in the period comes from integer arithmetic on the step (``d`` = the distance
    to the nearest multiple of ``2 * decay_steps``, at most ``decay_steps``), so the wave is
    exact at every int64 step: ``min_lr + (max_lr - min_lr) * (1 + cos(pi * d / T)) / 2``.

    Args:
        max_lr: value at step 0 (and every ``2 * decay_steps``), >= 0.
        decay_steps: steps from ``max_lr`` down to ``min_lr`` (torch's ``T_max``), int > 0.
        min_lr: value at ``decay_steps`` (and every odd multiple of it), in ``[0, max_lr]``.

    Example:
        >>> from fastlr import CosineAnnealing
        >>> s = CosineAnnealing(1.0, decay_steps=4, min_lr=0.1)
        >>> s.evaluate([0, 2, 4, 6, 8, 10**12 + 2], dtype="float64").round(6).tolist()
        [1.0, 0.55, 0.1, 0.55, 1.0, 0.55]
    """

    def __init__(self, max_lr: float, decay_steps: int, min_lr: float = 0.0) -> None:
        max_lr = v.rate("max_lr", max_lr)
        min_lr = v.rate("min_lr", min_lr)
        v.require(min_lr <= max_lr, "min_lr", f"must be <= max_lr={max_lr}", min_lr)
        super().__init__(
            max_lr=max_lr,
            decay_steps=v.integer("decay_steps", decay_steps, gt=0),
            min_lr=min_lr,
        )

    def phases(self) -> dict[str, int]:
        return {"bottom": self.decay_steps, "cycle 2": 2 * self.decay_steps}

    @staticmethod
    def formula(step, max_lr, decay_steps, min_lr):
        period = 2 * decay_steps
        r = step - xp.floordiv(step, period) * period
        d = xp.minimum(r, period - r)  # 0 .. decay_steps: the distance to the period's start
        # (1 + cos(pi d / T)) / 2 = (1 - cos(pi (T - d) / T)) / 2, accurate near min_lr too
        return min_lr + (max_lr - min_lr) * xp.cos_remaining(xp.div(decay_steps - d, decay_steps))
