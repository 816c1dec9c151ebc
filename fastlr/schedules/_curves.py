"""Curve pieces shared by several formulas (written once, re-bound per engine like formulas).

The geometric cycles of SGDR have real-valued boundaries ``first * (m**k - 1) / (m - 1)``. Near
step 2**53 a float64 boundary is only known to about one step, and the position inside a cycle
loses digits long before that, so cycle arithmetic uses double-double numbers (pairs ``hi + lo``,
about 106 bits) built from error-free transformations. They need only ``+ - *`` and ``floor``, so
every engine runs them unchanged.
"""

from __future__ import annotations

import math

from fastlr._ops import formula, xp

_SPLITTER = 134217729.0  # 2**27 + 1 (Dekker)


@formula
def two_sum(a, b):
    """``a + b`` as ``(s, e)`` with ``s + e`` exact (Knuth)."""
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


@formula
def split(a):
    """``a`` as ``hi + lo`` with 26-bit halves, so their products are exact (Dekker)."""
    c = _SPLITTER * a
    hi = c - (c - a)
    return hi, a - hi


@formula
def two_prod(a, b):
    """``a * b`` as ``(p, e)`` with ``p + e`` exact (Dekker; no FMA needed)."""
    p = a * b
    ah, al = split(a)
    bh, bl = split(b)
    return p, ((ah * bh - p) + ah * bl + al * bh) + al * bl


@formula
def dd_mul(ah, al, bh, bl):
    """Double-double product ``(ah + al) * (bh + bl)``."""
    p, e = two_prod(ah, bh)
    e = e + (ah * bl + al * bh)
    s = p + e
    return s, e - (s - p)


@formula
def dd_pow(base, k, nbits):
    """``base**k`` as a double-double, ``k`` a non-negative integer-valued float < 2**nbits.

    Binary exponentiation over a fixed number of bits (``nbits`` is a parameter, so the loop is
    unrolled in a graph and loop-invariant in a kernel); the bit is selected, never branched on.
    """
    rh = 1.0 + 0.0 * k
    rl = 0.0 * k
    bh = base + 0.0 * k
    bl = 0.0 * k
    rest = k
    for _ in range(nbits):
        half = xp.floor(rest * 0.5)
        odd = rest - 2.0 * half > 0.5
        mh, ml = dd_mul(rh, rl, bh, bl)
        rh = xp.where(odd, mh, rh)
        rl = xp.where(odd, ml, rl)
        bh, bl = dd_mul(bh, bl, bh, bl)
        rest = half
    return rh, rl


@formula
def _excess(step, m1, first, ph, pl):
    """``step*m1 + first - first*(ph + pl)`` in double-double, rounded to a double."""
    ah, al = two_prod(step, m1)
    bh, bl = two_prod(first, ph)
    bl = bl + first * pl
    dh, dl = two_sum(ah, -bh)
    dl = dl + (al - bl)
    dh2, dl2 = two_sum(dh, first)
    return dh2 + (dl2 + dl)


@formula
def geometric_cycle(step, first, mult, nbits):
    """``(k, s, length, rest)``: cycle index, position in the cycle, its length and the steps
    left in it (``length - s``), all float64.

    Cycle ``k`` lasts ``first * mult**k`` and starts where cycle ``k - 1`` ends, at
    ``first * (mult**k - 1) / (mult - 1)`` (``first * k`` when ``mult == 1``). A first guess for
    ``k`` (a floor or the closed-form log) is corrected by one either way with the exact sign of
    ``step - start``, computed in double-double; ``s`` comes from that same exact difference, so
    both are right at any step up to 2**53 (``nbits``: see :func:`pow_bits`). ``rest`` comes
    from the exact difference to the *next* start, so it is right to its own last bit near the
    end of a long cycle (``length - s`` in float64 would be off by up to an ulp of the step).
    """
    s = xp.f(step)
    if mult == 1.0:
        k = xp.floor(s / first)
        ph, pl = two_prod(k, first)
        d = (s - ph) - pl  # exact: step - k*first
        k = k - xp.where(d < 0.0, 1.0, 0.0) + xp.where(d >= first, 1.0, 0.0)
        d = d + xp.where(d < 0.0, first, 0.0) - xp.where(d >= first, first, 0.0)
        # Past k = 2**53 (first < 1, or steps past 2**53) the first guess is off by more than
        # one: the position is not exact there, but stays inside the cycle (values in range).
        d = xp.minimum(xp.maximum(d, 0.0), first)
        return k, d, xp.f(first) + 0.0 * d, first - d
    m1 = mult - 1.0  # exact for 1 < mult <= 2**53
    k = xp.maximum(xp.floor(xp.log1p(s * (m1 / first)) / math.log(mult)), 1.0) - 1.0
    ph, pl = dd_pow(mult, k, nbits)
    # excess(j) = (step - start_j) * m1 for j = k .. k + 3; the cycle is the last j with
    # excess(j) >= 0 (k + 2 at most), and -excess(j + 1) / m1 the steps left in it.
    e0 = _excess(s, m1, first, ph, pl)
    p1h, p1l = dd_mul(ph, pl, mult, 0.0)
    e1 = _excess(s, m1, first, p1h, p1l)
    p2h, p2l = dd_mul(p1h, p1l, mult, 0.0)
    e2 = _excess(s, m1, first, p2h, p2l)
    p3h, p3l = dd_mul(p2h, p2l, mult, 0.0)
    e3 = _excess(s, m1, first, p3h, p3l)
    up1 = e1 >= 0.0
    up2 = e2 >= 0.0
    k = k + xp.where(up1, 1.0, 0.0) + xp.where(up2, 1.0, 0.0)
    excess = xp.where(up2, e2, xp.where(up1, e1, xp.maximum(e0, 0.0)))
    after = xp.where(up2, e3, xp.where(up1, e2, e1))
    power = xp.where(up2, p2h, xp.where(up1, p1h, ph))
    length = first * power
    # Clamped into the cycle where the guess is off by more than two (steps past 2**53).
    rest = xp.minimum(xp.maximum(-after / m1, 0.0), length)
    return k, xp.minimum(excess / m1, length), length, rest


def pow_bits(first: float, mult: float) -> int:
    """Bits of the largest cycle index reachable below step 2**63 (for :func:`dd_pow`)."""
    if mult == 1.0:
        return 1
    k_max = math.log1p(2.0**63 * (mult - 1.0) / first) / math.log(mult) + 3
    return max(1, int(k_max).bit_length())
