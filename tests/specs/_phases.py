"""Where a schedule changes piece: the helpers behind every spec's ``phases``.

A spec's ``phases(s, near)`` returns the real-valued steps (ints, Fractions or floats) where the
formula of schedule ``s`` changes piece: warmup/hold/decay ends, multiples of a period, cycle
starts (and a cycle's inner warmup end). Periodic and cyclic schedules have infinitely many, so
they return the first few and those next to each step in ``near`` (the large steps where float32,
int32 and float64 run out: :data:`specs.LARGE_STEPS`). Tests take the integer steps around each
point (:func:`specs.steps_near`).

Cycle starts are exact (Fractions, from the oracle's :func:`specs._oracle.cycle_of`) wherever the
oracle can walk the cycles; past its reach (a multiplier barely above 1 and a huge cycle index)
they are float estimates, good to a few steps.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from fractions import Fraction

from specs._oracle import cycle_of, cycle_start, cycles_within_reach


def multiples(period, near: Iterable[int], first: int = 4) -> set:
    """``k * period`` for ``k = 1 .. first`` and the multiples on both sides of each ``near``."""
    p = Fraction(period)
    out = {p * k for k in range(1, first + 1)}
    for x in near:
        k = math.floor(Fraction(x) / p)
        out |= {p * k, p * (k + 1)}
    return out


def cycle_starts(
    first, mult, near: Iterable[int], inner: Callable[[int, Fraction], Iterable] = lambda k, n: ()
) -> set:
    """Starts of the first dozen cycles and of the cycles around each ``near`` step, when cycle
    ``k`` lasts ``first * mult**k``; plus ``start + x`` for each ``x`` in ``inner(k, length)``
    (a phase inside the cycle, e.g. the end of its warmup)."""
    f, m = Fraction(first), Fraction(mult)
    ks = set(range(12))
    approximate = []
    for x in near:
        if cycles_within_reach(first, mult, x):
            k, _, _ = cycle_of(x, f, m)
            ks |= {k - 1, k, k + 1}
        else:  # past the oracle's reach: the float estimate of the nearby starts
            est = math.log1p(x * (float(mult) - 1) / float(first)) / math.log(float(mult))
            for k in (math.floor(est), math.floor(est) + 1):
                approximate.append(
                    float(first) * math.expm1(k * math.log(float(mult))) / (float(mult) - 1)
                )
    out = set(approximate)
    for k in ks:
        if k < 0:
            continue
        start = cycle_start(k, f, m)
        out |= {start, *(start + x for x in inner(k, f * m**k))}
    return out


# -- the largest change over one step, piece by piece ----------------------------------------------
def piece_change(kind: str, amp: float, length: float, overlap: float, power: float = 1.0) -> float:
    """Largest change of a piece of ``kind`` (span ``amp`` over ``length`` steps) over
    ``overlap`` steps: linear, half cosine, ``1 - sqrt`` (Hölder-1/2), ``(1 - p)**power`` or
    the half cosine to a ``power``."""
    if overlap <= 0 or amp == 0:
        return 0.0
    if length <= 0:
        return math.inf  # a zero-length piece is a jump
    x = overlap / length
    if kind == "lin":
        return amp * min(1.0, x)
    if kind == "cos":
        return amp * min(1.0, math.pi / 2 * x)
    if kind == "sqrt":
        return amp * min(1.0, math.sqrt(x))
    if kind == "pow":
        return amp * min(1.0, power * x if power >= 1 else x**power)
    if kind == "cospow":  # ((1 + cos(pi p)) / 2)**power = sin(pi r / 2)**(2 power), r = 1 - p
        # slope power * pi * sin**(2 power - 1) * cos <= power * pi for power >= 1/2; below,
        # a concave rise from the end, steepest there: sin(pi x / 2)**(2 power)
        return amp * min(
            1.0, power * math.pi * x if power >= 0.5 else (math.pi / 2 * x) ** (2 * power)
        )
    raise AssertionError(kind)


def pieces_change(pieces: list[tuple], b: int) -> float | None:
    """A bound on ``|f(b + 1) - f(b)|`` for a function made of continuous ``pieces``
    ``(start, end, kind, amplitude[, power])``, constant elsewhere; None at a zero-length piece
    (a documented jump)."""
    total = 0.0
    for p in pieces:
        lo, hi, kind, amp = p[:4]
        if hi - lo <= 0 and lo <= b + 1 and hi > b:
            return None
        total += piece_change(kind, amp, hi - lo, min(hi, b + 1) - max(lo, b), *p[4:])
    return total


def warmup_decay_change(b: int, warmup, warmup_span: float, decay: tuple) -> float | None:
    """:func:`pieces_change` of a schedule made of a linear warmup over ``[0, warmup)`` spanning
    ``warmup_span`` (none when ``warmup`` is 0) and one decay piece ``decay``."""
    pieces = [decay, *([(0, warmup, "lin", warmup_span)] if warmup > 0 else [])]
    return pieces_change(pieces, b)
