"""PyTorch's CosineAnnealingLR (and Hugging Face's cosine wave): a cosine between two rates,
exact at any step."""

from __future__ import annotations

from fractions import Fraction

from fastlr import _validate as v
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import LAST_STEP, wave, wave_args


def cycles(name: str, value) -> float:
    """A number of waves ``num_cycles`` in ``[2**-53, 2**53]`` (its products with every int64
    step stay exact in double-double, see :func:`fastlr.schedules._curves.wave`)."""
    c = v.real(name, value, gt=0)
    v.require(2.0**-53 <= c <= 2.0**53, name, "must be in [2**-53, 2**53]", value)
    return c


@register
class CosineAnnealing(Schedule):
    """A cosine from ``max_lr`` down to ``min_lr`` over ``decay_steps``, and back up over the
    next ``decay_steps``, again and again; values equal
    ``torch.optim.lr_scheduler.CosineAnnealingLR(T_max=decay_steps, eta_min=min_lr)`` at every
    step.

    Formula: ``lr(step) = min_lr + (max_lr - min_lr) * (1 + cos(2 pi c step / decay_steps)) / 2``
    with ``c = num_cycles``: ``c`` full waves every ``decay_steps`` steps. With ``c = 0.5`` (the
    default) that is torch's ``(1 + cos(pi * step / T_max)) / 2``, a wave of period
    ``2 * decay_steps``: torch's recursive form keeps following it past ``T_max`` (it does not
    hold ``eta_min``; use :class:`CosineDecay` for a decay that holds). Another ``c`` gives
    Hugging Face's cosine (``num_cycles``, with ``decay_steps = num_training_steps -
    num_warmup_steps``), which keeps oscillating too.

    Where the period ``L = decay_steps / c`` is a whole number of steps (``c = 0.5``, or ``1.5``
    with ``decay_steps=90``), the position in the period comes from integer arithmetic on the
    step (``d`` = the distance to the nearest multiple of ``L``), so the wave is exact at every
    int64 step: ``min_lr + (max_lr - min_lr) * (1 - cos(pi * (L - 2 d) / L)) / 2``. Any other
    period (``c = 0.3``: ``c`` is taken at its exact binary value, as Hugging Face's float
    arithmetic does) has its position within 2**-49 of a period at every int64 step: the step is
    reduced modulo ``decay_steps`` in int64 and the rest is exact double-double arithmetic (see
    :func:`fastlr.schedules._curves.wave`); the error does not grow with the step.

    Args:
        max_lr: value at step 0 (and every period), >= 0.
        decay_steps: steps of ``num_cycles`` waves; with the default ``num_cycles=0.5``, the
            steps from ``max_lr`` down to ``min_lr`` (torch's ``T_max``), int > 0.
        min_lr: value at the bottom of each wave (``decay_steps`` with the default
            ``num_cycles``), in ``[0, max_lr]``.
        num_cycles: full waves per ``decay_steps`` steps, in ``[2**-53, 2**53]`` (Hugging Face's
            ``num_cycles``; 0.5: torch's half wave per ``T_max``).

    Example:
        >>> from fastlr import CosineAnnealing
        >>> s = CosineAnnealing(1.0, decay_steps=4, min_lr=0.1)
        >>> s.evaluate([0, 2, 4, 6, 8, 10**12 + 2], dtype="float64").round(6).tolist()
        [1.0, 0.55, 0.1, 0.55, 1.0, 0.55]
        >>> h = CosineAnnealing(1.0, decay_steps=10, num_cycles=1.5)  # a period of 20 / 3 steps
        >>> h.evaluate([0, 3, 5, 10, 20, 2**62 + 2], dtype="float64").round(6).tolist()
        [1.0, 0.024472, 0.5, 0.0, 1.0, 0.904508]
    """

    static = ("whole",)

    def __init__(
        self, max_lr: float, decay_steps: int, min_lr: float = 0.0, num_cycles: float = 0.5
    ) -> None:
        max_lr = v.rate("max_lr", max_lr)
        min_lr = v.rate("min_lr", min_lr)
        v.require(min_lr <= max_lr, "min_lr", f"must be <= max_lr={max_lr}", min_lr)
        super().__init__(
            max_lr=max_lr,
            decay_steps=v.integer("decay_steps", decay_steps, gt=0),
            min_lr=min_lr,
            num_cycles=cycles("num_cycles", num_cycles),
        )

    def formula_args(self) -> tuple:
        return (*super().formula_args(), *wave_args(self.decay_steps, self.num_cycles))

    def phases(self) -> dict[str, int]:
        period = Fraction(self.decay_steps) / Fraction(self.num_cycles)
        out = {"bottom": -(-period // 2), "cycle 2": -(-period // 1)}  # ceilings
        return {k: int(x) for k, x in out.items() if x <= LAST_STEP}

    @staticmethod
    def formula(step, max_lr, decay_steps, min_lr, num_cycles, period, nu_hi, nu_lo, whole):
        # (1 + cos(2 pi c step / T)) / 2, written as (1 - cos(pi r)) / 2 with r the remaining
        # part of the half wave down to min_lr: accurate near min_lr too
        up = wave(step, decay_steps, num_cycles, period, nu_hi, nu_lo, whole)
        return min_lr + (max_lr - min_lr) * up
