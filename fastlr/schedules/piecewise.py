"""Keras's PiecewiseConstantDecay."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register


@register
class PiecewiseConstantDecay(Schedule):
    """Drop-in for ``keras.optimizers.schedules.PiecewiseConstantDecay``.

    Formula: ``lr(step) = values[i]`` where ``i`` is the number of boundaries ``< step``, i.e.
    ``values[0]`` while ``step <= boundaries[0]``, ``values[1]`` while
    ``boundaries[0] < step <= boundaries[1]``, ..., ``values[-1]`` after the last boundary.

    Steps are integers, so ``step > b`` is ``step > floor(b)``: every engine compares the int64
    step with integer boundaries (a float boundary such as ``2.5`` or ``-5e-324`` means the same
    in all of them, with no float rounding or subnormal flushing on the way).

    Args:
        boundaries: strictly increasing step boundaries (numbers).
        values: ``len(boundaries) + 1`` learning rates, each >= 0.
        name: Keras's op name, kept for config compatibility.

    Example:
        >>> from fastlr import PiecewiseConstantDecay
        >>> s = PiecewiseConstantDecay([100, 200], [0.1, 0.01, 0.001])
        >>> s.evaluate([0, 100, 101, 200, 201], dtype="float64").tolist()
        [0.1, 0.1, 0.01, 0.01, 0.001]
    """

    config_only = ("name",)

    def __init__(
        self,
        boundaries: list[int | float],
        values: list[float],
        name: str = "PiecewiseConstant",
    ) -> None:
        b = v.sequence("boundaries", boundaries, min_len=1)
        vals = v.sequence("values", values)
        if len(b) != len(vals) - 1:
            raise ValueError(
                "Argument `values` must have one element more than `boundaries` (as in Keras, "
                "the length of boundaries should be 1 less than the length of values). "
                f"Received: boundaries={boundaries!r} of length {len(b)}, and "
                f"values={values!r} of length {len(vals)}."
            )
        b = tuple(v.steps_like(f"boundaries[{i}]", x) for i, x in enumerate(b))
        v.increasing("boundaries", b, boundaries)
        vals = tuple(v.rate(f"values[{i}]", x) for i, x in enumerate(vals))
        super().__init__(boundaries=b, values=vals, name=v.text("name", name))

    def formula_args(self) -> tuple:
        # floor(b) clamped into [-1, 2**63 - 1]: every int64 step compares the same way.
        bounds = tuple(min(max(math.floor(b), -1), 2**63 - 1) for b in self.boundaries)
        return (bounds, self.values)

    def phases(self) -> dict[str, int]:
        return {f"values[{i + 1}]": math.floor(b) + 1 for i, b in enumerate(self.boundaries)}

    @staticmethod
    def formula(step, boundaries, values):
        return xp.take(values, xp.count_less(boundaries, step))
