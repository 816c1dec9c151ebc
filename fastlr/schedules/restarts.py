"""SGDR: cosine annealing with warm restarts (Keras's CosineDecayRestarts, and with warmup)."""

from __future__ import annotations

import math

from fastlr import _validate as v
from fastlr._ops import xp
from fastlr.schedules._base import Schedule, register
from fastlr.schedules._curves import (
    MAX_WHOLE_CYCLES,
    WHOLE_TABLE,
    cycle_fraction,
    cycle_kind,
    cycle_position,
    cycle_segment,
    pow2_shift,
    pow_bits,
    recipe_cycles,
    whole_cycle_args,
    whole_cycle_segment,
    whole_cycles_are_real,
)


def _multiplier(name: str, value) -> float:
    """A cycle length multiplier in ``[1, 2**53]``: ``mult**k`` and ``(mult - 1) / first`` must
    stay finite in float64 for every cycle reachable below step 2**63."""
    mult = v.real(name, value, ge=1)
    v.require(mult <= 2.0**53, name, "must be <= 2**53", value)
    return mult


@register
class CosineDecayRestarts(Schedule):
    """Drop-in for ``keras.optimizers.schedules.CosineDecayRestarts``, exact at any step.

    Cycle ``k`` lasts ``first_decay_steps * t_mul**k`` and starts where cycle ``k - 1`` ends.
    Within it, with ``x`` the fraction of the cycle done:
    ``lr = initial * ((1 - alpha) * m_mul**k * (1 + cos(pi * x)) / 2 + alpha)``.

    Keras computes the cycle index in float32 and is wrong past 2**24 steps (at step 2**24 + 1
    with ``first_decay_steps=2, t_mul=1`` it returns 1.0; this returns 0.5). Here the cycle index
    and the position in the cycle are exact at every int64 step: int64 arithmetic for cycles of
    equal whole-step length and for whole-step cycles that double (``t_mul=2``, the default),
    double-double arithmetic against the cycle starts for other growing cycles (exact where the
    starts are integers, within 2**-42 steps of real-valued ones). The
    one limit: equal cycles of a fractional length (a float ``first_decay_steps``, ``t_mul=1``)
    are exact while ``step / first_decay_steps < 2**53``; past that the values stay inside
    their range but the position in the cycle is not exact.

    Args:
        initial_learning_rate: peak of the first cycle, >= 0.
        first_decay_steps: length of the first cycle, > 0 (a float: >= 2**-53).
        t_mul: cycle length multiplier, in ``[1, 2**53]`` (below 1 the cycles end after a finite
            number of steps, where Keras returns NaN; above 2**53 the second cycle outlasts any
            exact step, and the cycle arithmetic would overflow).
        m_mul: peak multiplier per cycle, in ``(0, 1]`` (above 1 the peaks grow without bound
            and overflow to inf).
        alpha: floor as a fraction of ``initial_learning_rate``, in ``[0, 1]``.
        name: Keras's op name, kept for config compatibility.

    Example:
        >>> from fastlr import CosineDecayRestarts
        >>> s = CosineDecayRestarts(1.0, 2, t_mul=1.0)
        >>> s.evaluate([0, 1, 2, 2**24, 2**24 + 1], dtype="float64").round(6).tolist()
        [1.0, 0.5, 1.0, 1.0, 0.5]
    """

    config_only = ("name",)
    static = ("nbits", "kind", "shift", "decays")

    def __init__(
        self,
        initial_learning_rate: float,
        first_decay_steps: int | float,
        t_mul: float = 2.0,
        m_mul: float = 1.0,
        alpha: float = 0.0,
        name: str = "SGDRDecay",
    ) -> None:
        super().__init__(
            initial_learning_rate=v.rate("initial_learning_rate", initial_learning_rate),
            first_decay_steps=v.steps_like("first_decay_steps", first_decay_steps, gt=0),
            t_mul=_multiplier("t_mul", t_mul),
            m_mul=v.real("m_mul", m_mul, gt=0, le=1),
            alpha=v.real("alpha", alpha, ge=0, le=1),
            name=v.text("name", name),
        )

    def formula_args(self) -> tuple:
        p = self._params
        first, t_mul = p["first_decay_steps"], p["t_mul"]
        return (
            p["initial_learning_rate"],
            first,
            t_mul,
            p["m_mul"],
            p["alpha"],
            pow_bits(first, t_mul),
            cycle_kind(first, t_mul),
            pow2_shift(t_mul),
            p["m_mul"] != 1.0,
        )

    def phases(self) -> dict[str, int]:
        return {"cycle 2": math.ceil(self.first_decay_steps)}

    @staticmethod
    def segment(
        step,
        initial_learning_rate,
        first_decay_steps,
        t_mul,
        m_mul,
        alpha,
        nbits,
        kind,
        shift,
        decays,
    ):
        return cycle_segment(step, first_decay_steps, t_mul, nbits, kind, shift)

    @staticmethod
    def inside(
        step,
        cycle,
        initial_learning_rate,
        first_decay_steps,
        t_mul,
        m_mul,
        alpha,
        nbits,
        kind,
        shift,
        decays,
    ):
        k, _, scale, rest = cycle_position(step, cycle, first_decay_steps, kind)
        remaining = cycle_fraction(rest, first_decay_steps, k, scale, kind)
        cosine = xp.cos_remaining(remaining)
        if decays:  # m_mul < 1 (static: with m_mul == 1 no power is computed)
            cosine = xp.power(m_mul, k) * cosine
        return initial_learning_rate * ((1.0 - alpha) * cosine + alpha)


@register
class WarmupCosineRestarts(Schedule):
    """SGDR with a linear warmup at the start of every cycle, growing cycles and decaying peaks.

    Cycle ``k`` lasts ``T_k = first_cycle_steps * cycle_mult**k`` (real-valued boundaries, as in
    Keras's closed form) and starts where cycle ``k - 1`` ends. Its warmup lasts
    ``W_k = warmup_steps * cycle_mult**k`` (``warmup_steps`` if ``scale_warmup=False``) and its
    amplitude is ``A_k = (max_lr - min_lr) * gamma**k``. With ``s`` the step within the cycle:

    * ``s < W_k``: ``min_lr + A_k * s / W_k``;
    * otherwise: ``min_lr + A_k * (1 + cos(pi * (s - W_k) / (T_k - W_k))) / 2``.

    With ``warmup_steps=0`` it equals ``CosineDecayRestarts(max_lr, first_cycle_steps,
    t_mul=cycle_mult, m_mul=gamma, alpha=min_lr / max_lr)``.

    **Whole cycles** (``whole_cycles=True``): the blog recipe widely copied as a Keras
    ``LearningRateSchedule``, ``CosineWarmupDecay(initial_lr, min_lr, warmup_step, total_step,
    multi, print_step)``, which keeps a Python counter ``step`` that restarts at 0 once
    ``step >= total_step`` and then multiplies ``warmup_step`` and ``total_step`` by
    ``1 + multi``, as floats. With ``T_0 = first_cycle_steps``, ``W_0 = warmup_steps`` and
    ``T_k = T_{k-1} * cycle_mult``, ``W_k = W_{k-1} * cycle_mult``, each product rounded to
    float64 as the recipe's Python does (``W_k = warmup_steps`` if ``scale_warmup=False``):

    * cycle ``k`` lasts ``L_k = ceil(T_k)`` whole steps and starts at
      ``S_k = L_0 + ... + L_{k-1}`` (a sum of rounded lengths, not a rounded real boundary);
    * with ``s = step - S_k`` (a whole number, always ``< T_k``), the two pieces above with the
      recipe's ``W_k`` and ``T_k``: the warmup takes the ``ceil(W_k)`` steps with ``s < W_k``,
      and the cosine ends ``T_k - s`` short of zero.

    That is ``max_lr=initial_lr, first_cycle_steps=total_step, warmup_steps=warmup_step,
    cycle_mult=1 + multi, min_lr=min_lr, gamma=1`` (the recipe's peak does not decay:
    ``gamma`` is fastlr's), value for value at every step. ``T_k`` is the recipe's float
    product, not ``first_cycle_steps * cycle_mult**k`` taken exactly: the binary ``1.1`` is
    slightly above 1.1, so ``20 * 1.1`` is exactly ``22 + 2**-49``, whose ceiling is 23, while
    the recipe (and this) make that cycle 22 steps. Without ``whole_cycles`` the cycles of a
    non-integer ``cycle_mult`` end at the real boundaries and differ from the recipe after the
    first cycle; with ``cycle_mult`` 1, or an integer whose products stay float64 numbers for
    every cycle below step 2**63 (2 always), both options give the same values.

    Exact at every int64 step (the cycle index in integer or exact double-double arithmetic,
    see :func:`fastlr.schedules._curves.cycle_segment`). The recipe's cycles come from a table
    of their starts (Python integers, built once), searched by halving with exact comparisons;
    at most 4096 cycles may start below step 2**63 (any ``cycle_mult >= 1.01`` qualifies).

    Args:
        max_lr: peak of the first cycle, > 0.
        first_cycle_steps: length of the first cycle (warmup included), int > 0.
        cycle_mult: cycle length multiplier, in ``[1, 2**53]`` (as ``t_mul`` above).
        warmup_steps: warmup of the first cycle, int >= 0 and < ``first_cycle_steps``.
        min_lr: floor, in ``[0, max_lr]``.
        gamma: peak decay per cycle, in ``(0, 1]``.
        scale_warmup: scale the warmup with the cycle (``True``) or keep it fixed.
        whole_cycles: round each cycle up to whole steps (the blog recipe), a static choice.

    Example:
        >>> from fastlr import WarmupCosineRestarts
        >>> s = WarmupCosineRestarts(1.0, 10, cycle_mult=2.0, warmup_steps=2, gamma=0.5)
        >>> s.evaluate([0, 1, 2, 6, 10, 14, 22], dtype="float64").round(6).tolist()
        [0.0, 0.5, 1.0, 0.5, 0.0, 0.5, 0.25]
        >>> w = WarmupCosineRestarts(1.0, 3, cycle_mult=1.5, whole_cycles=True)
        >>> # cycles of 3, ceil(4.5) = 5 and ceil(6.75) = 7 steps, from steps 0, 3, 8 and 15
        >>> w.evaluate([0, 2, 3, 7, 8, 14, 15], dtype="float64").round(6).tolist()
        [1.0, 0.25, 1.0, 0.030154, 1.0, 0.030154, 1.0]
    """

    config_only = ("whole_cycles",)  # reaches the formula as the static cycle `kind`
    static = ("scale_warmup", "nbits", "kind", "shift", "decays")

    def __init__(
        self,
        max_lr: float,
        first_cycle_steps: int,
        cycle_mult: float = 1.0,
        warmup_steps: int = 0,
        min_lr: float = 0.0,
        gamma: float = 1.0,
        scale_warmup: bool = True,
        whole_cycles: bool = False,
    ) -> None:
        max_lr = v.rate("max_lr", max_lr, positive=True)
        first = v.integer("first_cycle_steps", first_cycle_steps, gt=0)
        warmup = v.integer("warmup_steps", warmup_steps, ge=0)
        v.require(warmup < first, "warmup_steps", f"must be < first_cycle_steps={first}", warmup)
        min_lr = v.rate("min_lr", min_lr)
        v.require(min_lr <= max_lr, "min_lr", f"must be <= max_lr={max_lr}", min_lr)
        mult = _multiplier("cycle_mult", cycle_mult)
        whole = v.flag("whole_cycles", whole_cycles)
        if whole and mult != 1.0:
            v.require(
                recipe_cycles(first, mult) is not None,
                "cycle_mult",
                f"must start at most {MAX_WHOLE_CYCLES} whole cycles below step 2**63 with "
                f"whole_cycles=True and first_cycle_steps={first} (any cycle_mult >= 1.01 does)",
                cycle_mult,
            )
        super().__init__(
            max_lr=max_lr,
            first_cycle_steps=first,
            cycle_mult=mult,
            warmup_steps=warmup,
            min_lr=min_lr,
            gamma=v.real("gamma", gamma, gt=0, le=1),
            scale_warmup=v.flag("scale_warmup", scale_warmup),
            whole_cycles=whole,
        )

    def formula_args(self) -> tuple:
        first, mult = self.first_cycle_steps, self.cycle_mult
        warmup, scale = self.warmup_steps, self.scale_warmup
        if self.whole_cycles and not whole_cycles_are_real(first, warmup, mult, scale):
            nbits, table = whole_cycle_args(first, warmup, mult, scale)
            kind, shift = WHOLE_TABLE, 0
        else:  # a one-entry placeholder: the table is read only by the WHOLE_TABLE kind
            nbits, kind, shift = pow_bits(first, mult), cycle_kind(first, mult), pow2_shift(mult)
            table = (0.0,)
        return (*super().formula_args(), nbits, kind, shift, self.gamma != 1.0, table)

    def phases(self) -> dict[str, int]:
        out = {"peak": self.warmup_steps} if self.warmup_steps else {}
        return {**out, "cycle 2": self.first_cycle_steps}

    @staticmethod
    def segment(
        step,
        max_lr,
        first_cycle_steps,
        cycle_mult,
        warmup_steps,
        min_lr,
        gamma,
        scale_warmup,
        nbits,
        kind,
        shift,
        decays,
        table,
    ):
        if kind == WHOLE_TABLE:  # static: cycles of whole steps from a table of their starts
            return whole_cycle_segment(step, nbits, table)
        return cycle_segment(step, first_cycle_steps, cycle_mult, nbits, kind, shift)

    @staticmethod
    def inside(
        step,
        cycle,
        max_lr,
        first_cycle_steps,
        cycle_mult,
        warmup_steps,
        min_lr,
        gamma,
        scale_warmup,
        nbits,
        kind,
        shift,
        decays,
        table,
    ):
        k, s, scale, rest = cycle_position(step, cycle, first_cycle_steps, kind)
        if kind == WHOLE_TABLE:  # static: the recipe's W_k and decay left, from its table
            warm = scale
            rising = s / xp.maximum(scale, 1.0)
            falling = rest
        elif scale_warmup:  # warmup and decay both scale with the cycle
            warm = warmup_steps * scale
            rising = cycle_fraction(s, xp.maximum(warmup_steps, 1), k, scale, kind)
            # the decay's length without cancellation (length - warm loses an ulp of length)
            falling = cycle_fraction(rest, first_cycle_steps - warmup_steps, k, scale, kind)
        else:
            warm = xp.f(warmup_steps) + 0.0 * scale
            rising = xp.div(s, xp.maximum(warmup_steps, 1))
            falling = rest / (first_cycle_steps * scale - warmup_steps)
        falling = xp.cos_remaining(falling)
        amplitude = max_lr - min_lr
        if decays:  # gamma < 1 (static)
            amplitude = amplitude * xp.power(gamma, k)
        return min_lr + amplitude * xp.where(s < warm, rising, falling)
