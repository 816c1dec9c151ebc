"""Leslie Smith's cyclical learning rates (triangular, triangular2, exp_range)."""

from __future__ import annotations

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register

MODES = ("triangular", "triangular2", "exp_range")


@register
class CyclicalLearningRate(Schedule):
    """Cyclical LR (Smith, 2017); values equal ``torch.optim.lr_scheduler.CyclicLR``.

    With ``U = step_size``, ``D = step_size_down`` (default ``U``), ``c = step // (U + D)`` (the
    0-based cycle) and ``r = step % (U + D)`` (both by integer division, exact at any step):

    * position ``x = r / U`` while ``r <= U``, else ``(U + D - r) / D``;
    * ``lr = initial + (maximal - initial) * x * scale`` with ``scale`` = 1 (``triangular``),
      ``0.5**c`` (``triangular2``) or ``gamma**step`` (``exp_range``).

    ``maximal_learning_rate`` below ``initial_learning_rate`` makes each cycle dip instead of
    rise: the momentum that torch cycles inversely to the LR (see :meth:`momentum_schedule`).

    Args:
        initial_learning_rate: the value at the start of each cycle, >= 0.
        maximal_learning_rate: the value at the end of each rising half, >= 0 (usually above
            ``initial_learning_rate``).
        step_size: steps of the rising half, int > 0 (a whole-number float such as ``128.0``,
            as keras-contrib's ``CyclicLR`` callback passes it, is stored as the int).
        mode: ``"triangular"``, ``"triangular2"`` or ``"exp_range"``.
        gamma: ``exp_range`` decay per step, in ``(0, 1]``.
        step_size_down: steps of the falling half, int > 0 (default ``step_size``; a
            whole-number float is stored as the int).

    Example:
        >>> from fastlr import CyclicalLearningRate
        >>> s = CyclicalLearningRate(0.1, 1.0, step_size=4, mode="triangular2")
        >>> s.evaluate([0, 2, 4, 6, 8, 12, 16], dtype="float64").round(6).tolist()
        [0.1, 0.55, 1.0, 0.55, 0.1, 0.55, 0.1]
    """

    static = ("mode", "symmetric")

    def __init__(
        self,
        initial_learning_rate: float,
        maximal_learning_rate: float,
        step_size: int,
        mode: str = "triangular",
        gamma: float = 1.0,
        step_size_down: int | None = None,
    ) -> None:
        low = v.rate("initial_learning_rate", initial_learning_rate)
        high = v.rate("maximal_learning_rate", maximal_learning_rate)
        super().__init__(
            initial_learning_rate=low,
            maximal_learning_rate=high,
            step_size=v.whole("step_size", step_size, gt=0),
            mode=v.choice("mode", mode, MODES),
            gamma=v.real("gamma", gamma, gt=0, le=1),
            step_size_down=None
            if step_size_down is None
            else v.whole("step_size_down", step_size_down, gt=0),
        )

    def formula_args(self) -> tuple:
        p = self._params
        down = p["step_size"] if p["step_size_down"] is None else p["step_size_down"]
        return (
            p["initial_learning_rate"],
            p["maximal_learning_rate"],
            p["step_size"],
            MODES.index(p["mode"]),
            p["gamma"],
            down,
            down == p["step_size"],
        )

    def momentum_schedule(
        self, base_momentum: float = 0.8, max_momentum: float = 0.9
    ) -> CyclicalLearningRate:
        """The momentum torch's ``CyclicLR(cycle_momentum=True)`` pairs with this LR: from
        ``max_momentum`` down to ``base_momentum`` while the LR rises and back, with the same
        cycles, mode and scaling (``max - (max - base) * x * scale``). For the
        ``momentum`` (SGD, RMSprop) or ``beta_1`` (Adam family) of :mod:`fastlr.optimizers`.

        Example:
            >>> from fastlr import CyclicalLearningRate
            >>> lr = CyclicalLearningRate(0.1, 1.0, step_size=2)
            >>> m = lr.momentum_schedule(0.8, 0.9)
            >>> m.evaluate([0, 1, 2, 3, 4], dtype="float64").round(6).tolist()
            [0.9, 0.85, 0.8, 0.85, 0.9]
        """
        p = dict(self._params)
        p["initial_learning_rate"] = v.rate("max_momentum", max_momentum)
        p["maximal_learning_rate"] = v.rate("base_momentum", base_momentum)
        return CyclicalLearningRate(**p)

    def phases(self) -> dict[str, int]:
        up = self.step_size
        down = self.step_size_down if self.step_size_down is not None else up
        return {"peak": up, "cycle 2": up + down}

    @staticmethod
    def formula(step, low, high, up, mode, gamma, down, symmetric):
        period = up + down
        cycle = xp.floordiv(step, period)
        r = step - cycle * period
        if symmetric:  # up == down: one division (the same values)
            x = xp.div(xp.minimum(r, period - r), up)
        else:
            x = xp.where(r <= up, xp.div(r, up), xp.div(period - r, down))
        if mode == 0:
            scale = 1.0
        elif mode == 1:
            scale = xp.ldexp(1.0, -cycle)  # 0.5**cycle, exactly
        else:
            scale = xp.power(gamma, step)
        return low + (high - low) * x * scale
