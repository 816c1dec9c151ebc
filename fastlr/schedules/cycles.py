"""timm's cycle schedules: cosine, polynomial and tanh cycles with decaying peaks and a limit.

``timm.scheduler``'s ``CosineLRScheduler``, ``PolyLRScheduler`` and ``TanhLRScheduler`` share
their cycles: cycle ``k`` lasts ``T_k = cycle_steps * cycle_mult**k`` and starts where cycle
``k - 1`` ends (real-valued boundaries), its peak is ``max_lr * cycle_decay**k`` (the peak decays,
not the amplitude above ``min_lr``), and from cycle ``cycle_limit`` on the value is ``min_lr``.
Only the curve inside a cycle differs. timm's warmup, noise and epoch stepping are composites
(:class:`fastlr.Sequential`, :class:`fastlr.Noise`, :class:`fastlr.PerEpoch`);
:func:`fastlr.from_timm` assembles them.

The cycle index and the position in the cycle are exact at every int64 step (the arithmetic of
:func:`fastlr.schedules._curves.cycle_segment`, as for SGDR); timm finds the cycle with a float
logarithm, which can put a restart one step late (``cycle_mult=10``: step 111 of
``cycle_steps=1``), see ``docs/migrating.md``.
"""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import formula, xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import (
    LAST_STEP,
    cycle_fraction,
    cycle_kind,
    cycle_position,
    cycle_segment,
    pow2_shift,
    pow_bits,
)
from fastlr.schedules.restarts import _multiplier

MAX_LIMIT = 2**53
"""The largest ``cycle_limit`` (every cycle index below 2**63 compares exactly with it)."""


@formula
def expm1(z):
    """``exp(z) - 1`` for ``z <= 0``: its Taylor polynomial where ``z > -1/16`` (no
    cancellation), ``exp(z) - 1`` below (at most 4 bits lost, where the result is > 0.06)."""
    q = 1.0 / 3628800.0
    for n in (362880.0, 40320.0, 5040.0, 720.0, 120.0, 24.0, 6.0, 2.0, 1.0):
        q = q * z + 1.0 / n
    return xp.where(z > -0.0625, z * q, xp.exp(xp.minimum(z, 0.0)) - 1.0)


@formula
def cycle_state(step, seg, cycle_steps, cycle_decay, kind, decays):
    """``(k, done, left, decay)`` of the step in its cycle: the cycle index, the fractions of the
    cycle done and left (each computed from exact step differences, so ``left`` keeps its
    relative accuracy at the end of a cycle) and the peak factor ``cycle_decay**k``."""
    k, s, scale, rest = cycle_position(step, seg, cycle_steps, kind)
    done = cycle_fraction(s, cycle_steps, k, scale, kind)
    left = cycle_fraction(rest, cycle_steps, k, scale, kind)
    if decays:  # cycle_decay < 1 (static)
        return k, done, left, xp.power(cycle_decay, k)
    return k, done, left, 1.0 + 0.0 * k


@formula
def left_after_decay(done, left, k_decay, bent):
    """``1 - done**k_decay`` (timm's ``1 - t**k / T**k``) as ``-expm1(k_decay * log(done))``,
    with ``log(done)`` as ``log1p(-left)`` in the second half of the cycle: accurate where
    ``done`` is tiny and where ``left`` is (``log(0) = -inf`` gives 1 at a cycle's start).
    ``bent`` (static): ``k_decay != 1``."""
    if bent:
        log_done = xp.where(done < 0.5, xp.log(done), xp.log1p(-xp.minimum(left, 0.5)))
        return -expm1(k_decay * log_done)
    return left


def _limit(cycle_limit) -> int | None:
    if cycle_limit is None:
        return None
    return v.integer("cycle_limit", cycle_limit, ge=0, le=MAX_LIMIT)


class _Cycles(Schedule):
    """The parameters and cycles the three curves share (a base class, not registered)."""

    static = ("nbits", "kind", "shift", "decays")

    def _common(
        self, max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit
    ) -> dict[str, object]:
        return dict(
            max_lr=v.rate("max_lr", max_lr),
            cycle_steps=v.integer("cycle_steps", cycle_steps, gt=0),
            min_lr=v.rate("min_lr", min_lr),
            cycle_mult=_multiplier("cycle_mult", cycle_mult),
            cycle_decay=v.real("cycle_decay", cycle_decay, ge=0, le=1),
            cycle_limit=_limit(cycle_limit),
        )

    def _cycle_args(self) -> tuple:
        first, mult = self.cycle_steps, self.cycle_mult
        return (
            pow_bits(first, mult),
            cycle_kind(first, mult),
            pow2_shift(mult),
            self.cycle_decay != 1.0,
        )

    def _limit_value(self) -> float:
        return math.inf if self.cycle_limit is None else float(self.cycle_limit)

    def cycle_start(self, k: int) -> float:
        """First step of cycle ``k`` (real-valued)."""
        first, mult = self.cycle_steps, self.cycle_mult
        if mult == 1.0:
            return float(first * k)
        return first * (mult**k - 1.0) / (mult - 1.0)

    def phases(self) -> dict[str, int]:
        limit = self.cycle_limit
        out = {}
        if limit is None or limit > 1:
            out["cycle 2"] = self.cycle_steps
        if limit is not None:
            try:
                end = math.ceil(self.cycle_start(limit))
            except OverflowError:
                end = LAST_STEP + 1
            if 0 < end <= LAST_STEP:
                out["end"] = end
        return out


_COMMON_DOC = """
    Cycle ``k`` lasts ``T_k = cycle_steps * cycle_mult**k`` steps and starts where cycle
    ``k - 1`` ends; ``x`` is the fraction of it done. Its peak is ``P_k = max_lr *
    cycle_decay**k``, and from cycle ``cycle_limit`` on the value is ``min_lr`` (timm's
    default ``cycle_limit=1``: one cycle, then ``min_lr``; ``None``: no limit).
"""

_COMMON_ARGS = """
        max_lr: peak of the first cycle (timm: the optimizer's LR), >= 0.
        cycle_steps: length of the first cycle (timm's ``t_initial``), int > 0.
        min_lr: floor, and the value after the last cycle (timm's ``lr_min``), >= 0.
        cycle_mult: cycle length multiplier (timm's ``cycle_mul``), in ``[1, 2**53]``.
        cycle_decay: peak factor per cycle, in ``[0, 1]``.
        cycle_limit: number of cycles before ``min_lr`` is held, int in ``[0, 2**53]``, or
            None for no limit."""


@register
class CosineCycles(_Cycles):
    """timm's ``CosineLRScheduler`` (without warmup and noise): cosine cycles, exact at any step.

    Formula: ``lr = min_lr + (P_k - min_lr) * (1 + cos(pi * x**k_decay)) / 2`` in cycle
    ``k < cycle_limit``, else ``min_lr``.
    {common}
    ``k_decay`` bends the cosine (the k-decay of Zhang and Li, 2020): above 1 it stays high
    longer. The cosine is computed from the fraction of the cycle left, ``1 - x**k_decay``
    (as ``-expm1(k_decay * log1p(x - 1))``), so it keeps its relative accuracy next to
    ``min_lr``.

    Args:{args}
        k_decay: exponent on the fraction of the cycle done, > 0.

    Example:
        >>> from fastlr import CosineCycles
        >>> s = CosineCycles(1.0, 10, min_lr=0.1, cycle_mult=2.0, cycle_decay=0.5, cycle_limit=2)
        >>> s.evaluate([0, 5, 10, 20, 29, 30, 10**9], dtype="float64").round(6).tolist()
        [1.0, 0.55, 0.5, 0.3, 0.102462, 0.1, 0.1]
    """

    static = (*_Cycles.static, "bent")

    def __init__(
        self,
        max_lr: float,
        cycle_steps: int,
        min_lr: float = 0.0,
        cycle_mult: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int | None = 1,
        k_decay: float = 1.0,
    ) -> None:
        params = self._common(max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
        super().__init__(**params, k_decay=v.real("k_decay", k_decay, gt=0))

    def formula_args(self) -> tuple:
        p = self._params
        head = (p["max_lr"], p["cycle_steps"], p["min_lr"], p["cycle_mult"], p["cycle_decay"])
        return (*head, self._limit_value(), p["k_decay"], *self._cycle_args(), p["k_decay"] != 1)

    @staticmethod
    def segment(
        step,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        k_decay,
        nbits,
        kind,
        shift,
        decays,
        bent,
    ):
        return cycle_segment(step, cycle_steps, cycle_mult, nbits, kind, shift)

    @staticmethod
    def inside(
        step,
        cycle,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        k_decay,
        nbits,
        kind,
        shift,
        decays,
        bent,
    ):
        k, done, left, decay = cycle_state(step, cycle, cycle_steps, cycle_decay, kind, decays)
        # (1 + cos(pi y)) / 2 = (1 - cos(pi (1 - y))) / 2 with y = x**k_decay
        curve = xp.cos_remaining(left_after_decay(done, left, k_decay, bent))
        return xp.where(k < limit, min_lr + (max_lr * decay - min_lr) * curve, min_lr)


@register
class PolyCycles(_Cycles):
    """timm's ``PolyLRScheduler`` (without warmup and noise): polynomial cycles, exact at any
    step.

    Formula: ``lr = min_lr + (P_k - min_lr) * (1 - x**k_decay)**power`` in cycle
    ``k < cycle_limit``, else ``min_lr``.
    {common}
    ``1 - x**k_decay`` is computed as ``-expm1(k_decay * log(x))`` (accurate where it is small,
    at the end of a cycle).

    Args:{args}
        power: exponent of the decay, >= 0 (timm's default 0.5).
        k_decay: exponent on the fraction of the cycle done, > 0.

    Example:
        >>> from fastlr import PolyCycles
        >>> s = PolyCycles(1.0, 10, power=2.0, cycle_limit=None)
        >>> s.evaluate([0, 5, 9, 10, 15, 10**12 + 5], dtype="float64").round(6).tolist()
        [1.0, 0.25, 0.01, 1.0, 0.25, 0.25]
    """

    static = (*_Cycles.static, "bent")

    def __init__(
        self,
        max_lr: float,
        cycle_steps: int,
        power: float = 0.5,
        min_lr: float = 0.0,
        cycle_mult: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int | None = 1,
        k_decay: float = 1.0,
    ) -> None:
        power = v.real("power", power, ge=0)
        params = self._common(max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
        super().__init__(**params, power=power, k_decay=v.real("k_decay", k_decay, gt=0))

    def formula_args(self) -> tuple:
        p = self._params
        head = (p["max_lr"], p["cycle_steps"], p["min_lr"], p["cycle_mult"], p["cycle_decay"])
        return (
            *head,
            self._limit_value(),
            p["power"],
            p["k_decay"],
            *self._cycle_args(),
            p["k_decay"] != 1,
        )

    @staticmethod
    def segment(
        step,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        power,
        k_decay,
        nbits,
        kind,
        shift,
        decays,
        bent,
    ):
        return cycle_segment(step, cycle_steps, cycle_mult, nbits, kind, shift)

    @staticmethod
    def inside(
        step,
        cycle,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        power,
        k_decay,
        nbits,
        kind,
        shift,
        decays,
        bent,
    ):
        k, done, left, decay = cycle_state(step, cycle, cycle_steps, cycle_decay, kind, decays)
        curve = xp.power(left_after_decay(done, left, k_decay, bent), power)
        return xp.where(k < limit, min_lr + (max_lr * decay - min_lr) * curve, min_lr)


@register
class TanhCycles(_Cycles):
    """timm's ``TanhLRScheduler`` (without warmup and noise): tanh cycles, exact at any step.

    Formula: ``lr = min_lr + (P_k - min_lr) * (1 - tanh(lb * (1 - x) + ub * x)) / 2`` in
    cycle ``k < cycle_limit``, else ``min_lr`` (Hsueh et al., 2019). ``(1 - tanh(z)) / 2`` is
    computed as ``1 / (1 + exp(2 z))``, without cancellation where it is small.
    {common}
    Args:{args}
        lb: the tanh's argument at the start of a cycle, < ``ub`` (timm's default -7).
        ub: the tanh's argument at the end of a cycle (timm's default 3).

    Example:
        >>> from fastlr import TanhCycles
        >>> s = TanhCycles(1.0, 10, cycle_limit=None)
        >>> s.evaluate([0, 5, 7, 9, 10, 10**12 + 7], dtype="float64").round(6).tolist()
        [0.999999, 0.982014, 0.5, 0.017986, 0.999999, 0.5]
    """

    def __init__(
        self,
        max_lr: float,
        cycle_steps: int,
        lb: float = -7.0,
        ub: float = 3.0,
        min_lr: float = 0.0,
        cycle_mult: float = 1.0,
        cycle_decay: float = 1.0,
        cycle_limit: int | None = 1,
    ) -> None:
        lb = v.real("lb", lb)
        ub = v.real("ub", ub)
        v.require(lb < ub, "ub", f"must be > lb={lb}", ub)
        params = self._common(max_lr, cycle_steps, min_lr, cycle_mult, cycle_decay, cycle_limit)
        super().__init__(**params, lb=lb, ub=ub)

    def formula_args(self) -> tuple:
        p = self._params
        head = (p["max_lr"], p["cycle_steps"], p["min_lr"], p["cycle_mult"], p["cycle_decay"])
        return (*head, self._limit_value(), p["lb"], p["ub"], *self._cycle_args())

    @staticmethod
    def segment(
        step,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        lb,
        ub,
        nbits,
        kind,
        shift,
        decays,
    ):
        return cycle_segment(step, cycle_steps, cycle_mult, nbits, kind, shift)

    @staticmethod
    def inside(
        step,
        cycle,
        max_lr,
        cycle_steps,
        min_lr,
        cycle_mult,
        cycle_decay,
        limit,
        lb,
        ub,
        nbits,
        kind,
        shift,
        decays,
    ):
        k, done, left, decay = cycle_state(step, cycle, cycle_steps, cycle_decay, kind, decays)
        z = lb * left + ub * done
        curve = 1.0 / (1.0 + xp.exp(xp.minimum(2.0 * z, 700.0)))  # (1 - tanh(z)) / 2
        return xp.where(k < limit, min_lr + (max_lr * decay - min_lr) * curve, min_lr)


for _cls in (CosineCycles, PolyCycles, TanhCycles):
    _cls.__doc__ = _cls.__doc__.format(common=_COMMON_DOC, args=_COMMON_ARGS)
