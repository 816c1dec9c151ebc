"""Values at given steps, joined by linear or cosine pieces (optax's piecewise interpolation)."""

from __future__ import annotations

import itertools

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register

INTERPOLATIONS = ("linear", "cosine")


@register
class PiecewiseInterpolate(Schedule):
    """``values[i]`` at step ``boundaries[i]``, linear or cosine pieces in between.

    Formula, with ``b = boundaries`` and ``v = values``: ``v[0]`` while ``step < b[0]``;
    between ``b[i] <= step < b[i + 1]``, with ``p = (step - b[i]) / (b[i + 1] - b[i])``,

    * ``"linear"``: ``v[i] + (v[i + 1] - v[i]) * p``;
    * ``"cosine"``: ``v[i + 1] + (v[i] - v[i + 1]) * (1 + cos(pi * p)) / 2``;

    and ``v[-1]`` from ``b[-1]`` on. A repeated boundary is a jump: the later value holds from
    that step on. Each piece is computed from its nearer end (the exact value there, and no
    cancellation next to it), so ``lr(b[i]) == v[i]`` exactly.

    optax's ``piecewise_interpolate_schedule(kind, init, {b: scale, ...})`` is
    ``PiecewiseInterpolate([0, b, ...], [init, init * scale, ...], kind)`` (values are the
    running products), and its one-cycle schedules are three or four such points (see
    ``docs/migrating.md``).

    Args:
        boundaries: non-decreasing ints >= 0 (at least one).
        values: ``len(boundaries)`` learning rates, each >= 0.
        interpolation: ``"linear"`` or ``"cosine"``.

    Example:
        >>> from fastlr import PiecewiseInterpolate
        >>> s = PiecewiseInterpolate([0, 4, 8], [1.0, 0.1, 0.001])
        >>> s.evaluate([0, 2, 4, 6, 8, 10], dtype="float64").round(6).tolist()
        [1.0, 0.55, 0.1, 0.0505, 0.001, 0.001]
        >>> s = PiecewiseInterpolate([0, 30, 100], [0.004, 0.1, 0.0], interpolation="cosine")
        >>> s.evaluate([0, 15, 30, 65, 100, 10**12], dtype="float64").round(6).tolist()
        [0.004, 0.052, 0.1, 0.05, 0.0, 0.0]
    """

    static = ("cosine",)

    def __init__(
        self, boundaries: list[int], values: list[float], interpolation: str = "linear"
    ) -> None:
        b = v.sequence("boundaries", boundaries, min_len=1)
        vals = v.sequence("values", values)
        if len(vals) != len(b):
            v.fail("values", f"must have len(boundaries) = {len(b)} element(s)", values)
        b = tuple(v.integer(f"boundaries[{i}]", x, ge=0) for i, x in enumerate(b))
        if any(y < x for x, y in itertools.pairwise(b)):
            v.fail("boundaries", "must be non-decreasing", boundaries)
        super().__init__(
            boundaries=b,
            values=tuple(v.rate(f"values[{i}]", x) for i, x in enumerate(vals)),
            interpolation=v.choice("interpolation", interpolation, INTERPOLATIONS),
        )

    def formula_args(self) -> tuple:
        b, vals = self.boundaries, self.values
        return (b, vals, b[0], b[-1], len(b) - 1, vals[0], self.interpolation == "cosine")

    def phases(self) -> dict[str, int]:
        n = len(self.boundaries)
        if n == 1:
            return {}  # a constant
        names = [f"values[{i}]" if i < n - 1 else "end" for i in range(n)]
        return {k: b for k, b in zip(names, self.boundaries, strict=True) if b > 0}

    @staticmethod
    def formula(step, boundaries, values, first, last, top, first_value, cosine):
        t = xp.minimum(xp.maximum(step, first), last)  # int64, at most 2**53
        k = xp.count_less(boundaries, t + 1)  # boundaries <= t: 1 .. top + 1
        j = xp.minimum(k, top)  # the piece from point j - 1 to point j (the last: j = top)
        i = xp.maximum(j - 1, 0)
        lo = xp.f(xp.take(boundaries, i))
        hi = xp.f(xp.take(boundaries, j))
        a = xp.take(values, i)
        b = xp.take(values, j)
        x = xp.f(t)
        length = hi - lo  # whole numbers up to 2**53: every difference here is exact
        near_end = (x - lo) + (x - lo) >= length  # a zero-length piece (a jump): its end
        q = xp.where(near_end, hi - x, x - lo) / xp.maximum(length, 1.0)  # in [0, 1/2]
        start = xp.where(near_end, b, a)
        other = xp.where(near_end, a, b)
        shape = xp.cos_remaining(q) if cosine else q
        return xp.where(step < first, first_value, start + (other - start) * shape)
