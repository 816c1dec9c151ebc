"""The 1cycle policy (Smith & Topin), with torch's OneCycleLR values."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register

ANNEAL = ("cos", "linear")


@register
class OneCycle(Schedule):
    """One-cycle LR; values equal ``torch.optim.lr_scheduler.OneCycleLR`` for steps
    ``0 .. total_steps - 1`` and hold the final value afterwards.

    With ``T = total_steps``, ``initial = max_lr / div_factor``, ``low = initial /
    final_div_factor`` and torch's (real-valued) phase ends ``e1 = pct_start * T - 1``,
    ``e2 = 2 * pct_start * T - 2``, ``e_last = T - 1``:

    * two phases: ``initial -> max_lr`` on ``[0, e1]``, ``max_lr -> low`` on ``(e1, T - 1]``;
    * ``three_phase=True``: ``initial -> max_lr`` on ``[0, e1]``, ``max_lr -> initial`` on
      ``(e1, e2]``, ``initial -> low`` on ``(e2, T - 1]``.

    Within a phase from ``a`` to ``b`` over ``[s0, s1]``, with remaining fraction
    ``r = (s1 - step) / (s1 - s0)``: ``b + (a - b) * (1 - cos(pi * r)) / 2`` (``"cos"``) or
    ``b + (a - b) * r`` (``"linear"``).

    Args:
        max_lr: the peak, >= 0.
        total_steps: int > 1.
        pct_start: fraction of ``total_steps`` spent rising, in ``(0, 1)``; every phase must
            last more than 0 steps (``pct_start * total_steps > 1``).
        div_factor: ``initial = max_lr / div_factor``, > 0.
        final_div_factor: ``low = initial / final_div_factor``, > 0.
        anneal_strategy: ``"cos"`` or ``"linear"``.
        three_phase: use the three-phase variant.

    Example:
        >>> from fastlr import OneCycle
        >>> s = OneCycle(1.0, total_steps=11, pct_start=0.5, div_factor=10.0, final_div_factor=1.0)
        >>> s.evaluate([0, 2, 4, 5, 10, 50], dtype="float64").round(6).tolist()
        [0.1, 0.471858, 0.972862, 0.981772, 0.1, 0.1]
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        div_factor: float = 25.0,
        final_div_factor: float = 1e4,
        anneal_strategy: str = "cos",
        three_phase: bool = False,
    ) -> None:
        total = v.integer("total_steps", total_steps, gt=1)
        pct = v.real("pct_start", pct_start, gt=0, lt=1)
        three = v.flag("three_phase", three_phase)
        rise = pct * total
        v.require(rise > 1, "pct_start", f"* total_steps must be > 1 (total_steps={total})", pct)
        if three:
            v.require(
                2 * rise - 2 < total - 1,
                "pct_start",
                f"must leave room for three phases in total_steps={total}",
                pct,
            )
        super().__init__(
            max_lr=v.rate("max_lr", max_lr),
            total_steps=total,
            pct_start=pct,
            div_factor=v.real("div_factor", div_factor, gt=0),
            final_div_factor=v.real("final_div_factor", final_div_factor, gt=0),
            anneal_strategy=v.choice("anneal_strategy", anneal_strategy, ANNEAL),
            three_phase=three,
        )

    static = ("linear", "three_phase")

    def formula_args(self) -> tuple:
        p = self._params
        return (
            p["max_lr"],
            p["total_steps"],
            p["pct_start"],
            p["div_factor"],
            p["final_div_factor"],
            ANNEAL.index(p["anneal_strategy"]),
            p["three_phase"],
        )

    def momentum_schedule(
        self, base_momentum: float = 0.85, max_momentum: float = 0.95
    ) -> OneCycle:
        """The momentum torch's ``OneCycleLR(cycle_momentum=True)`` pairs with this LR:
        ``max_momentum -> base_momentum`` while the LR rises, back to ``max_momentum`` while it
        anneals (three-phase: back in the second phase, then held), same phases and anneal
        strategy. For the ``momentum`` (SGD, RMSprop) or ``beta_1`` (Adam family) of
        :mod:`fastlr.optimizers`.

        It is a ``OneCycle`` peaking (downwards) at ``base_momentum``: ``max_lr=base_momentum``,
        ``final_div_factor=1`` and the ``div_factor`` whose quotient is ``max_momentum``.

        Example:
            >>> from fastlr import OneCycle
            >>> m = OneCycle(1.0, total_steps=11, pct_start=0.5).momentum_schedule()
            >>> m.evaluate([0, 2, 4, 10], dtype="float64").round(6).tolist()
            [0.95, 0.908682, 0.853015, 0.95]
        """
        base = v.rate("base_momentum", base_momentum, positive=True)
        top = v.rate("max_momentum", max_momentum, positive=True)
        return OneCycle(
            base,
            self.total_steps,
            self.pct_start,
            div_factor=_exact_divisor(base, top),
            final_div_factor=1.0,
            anneal_strategy=self.anneal_strategy,
            three_phase=self.three_phase,
        )

    def phases(self) -> dict[str, int]:
        n, pct = self.total_steps, self.pct_start
        out = {"peak": math.ceil(pct * n - 1.0)}
        if self.three_phase:
            out["annealing"] = math.ceil(2.0 * pct * n - 2.0)
        return {**out, "end": n - 1}

    @staticmethod
    def formula(
        step, max_lr, total_steps, pct_start, div_factor, final_div_factor, linear, three_phase
    ):
        initial = max_lr / div_factor
        low = initial / final_div_factor
        e1 = pct_start * total_steps - 1.0
        last = total_steps - 1.0
        t = xp.minimum(xp.f(step), last)
        if three_phase:
            e2 = 2.0 * pct_start * total_steps - 2.0
            s0 = xp.where(t <= e1, 0.0, xp.where(t <= e2, e1, e2))
            s1 = xp.where(t <= e1, e1, xp.where(t <= e2, e2, last))
            a = xp.where(t <= e1, initial, xp.where(t <= e2, max_lr, initial))
            b = xp.where(t <= e1, max_lr, xp.where(t <= e2, initial, low))
        else:
            s0 = xp.where(t <= e1, 0.0, e1)
            s1 = xp.where(t <= e1, e1, last)
            a = xp.where(t <= e1, initial, max_lr)
            b = xp.where(t <= e1, max_lr, low)
        r = (s1 - t) / (s1 - s0)
        if linear:
            shape = r
        else:
            shape = xp.cos_remaining(r)
        return b + (a - b) * shape


def _exact_divisor(a: float, q: float) -> float:
    """A ``d`` with ``a / d == q`` exactly, if one is within a few ulps of ``a / q`` (else it)."""
    d = a / q
    candidates = [d]
    up = down = d
    for _ in range(4):
        up, down = math.nextafter(up, math.inf), math.nextafter(down, 0.0)
        candidates += [up, down]
    return next((c for c in candidates if c > 0 and a / c == q), d)
