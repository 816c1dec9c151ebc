"""Curve pieces shared by several formulas (written once, re-bound per engine like formulas).

The geometric cycles of SGDR have real-valued boundaries ``first * (m**k - 1) / (m - 1)``. Near
step 2**53 a float64 boundary is only known to about one step, and the position inside a cycle
loses digits long before that, so cycle arithmetic uses double-double numbers (pairs ``hi + lo``,
about 106 bits) built from error-free transformations, with the int64 step itself split exactly
into two float64s. They need only ``+ - *`` and ``floor``, so every engine runs them unchanged.
Cycles of equal whole-step length use int64 arithmetic instead, and the blog recipe's cycles of
rounded-up whole steps (no closed form: a sum of ceilings) a table of their starts built once on
the host in Python integers and searched by halving (:func:`whole_cycle_segment`). A cosine wave
of any real period (:func:`wave`, Hugging Face's ``num_cycles``) reduces the step modulo its
length in int64, and sums the fractional parts of exact products of the split quotient.
"""

from __future__ import annotations

import functools
import math
from fractions import Fraction

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
def step_parts(step):
    """An int64 ``step`` as ``hi + lo``, both float64 and exact at every int64 step: ``hi`` is the
    step with its low 11 bits cleared (at most 52 significant bits), ``lo`` those bits."""
    lo = step % 2048
    return xp.f(step - lo), xp.f(lo)


@formula
def _excess(sh, sl, m1, first, ph, pl):
    """``step*m1 + first - first*(ph + pl)`` in double-double (``step = sh + sl``), rounded."""
    ah, al = two_prod(sh, m1)
    al = al + sl * m1  # exact where m1 and the starts are integers; else within 2**-42 steps
    bh, bl = two_prod(first, ph)
    bl = bl + first * pl
    dh, dl = two_sum(ah, -bh)
    dl = dl + (al - bl)
    dh2, dl2 = two_sum(dh, first)
    return dh2 + (dl2 + dl)


ARITHMETIC_WHOLE, ARITHMETIC, GEOMETRIC, DOUBLING_WHOLE, WHOLE_TABLE = 0, 1, 2, 3, 4
"""The kinds of cycle :func:`cycle_segment` handles (see :func:`cycle_kind`); the first two
have cycles of equal length. ``WHOLE_TABLE``: growing cycles rounded up to whole steps, found in a
table of their starts (:func:`whole_cycle_segment`)."""


def cycle_kind(first: float, mult: float) -> int:
    """The static cycle kind of ``(first, mult)``: equal whole-step cycles (integer arithmetic),
    equal real-valued cycles, whole-step cycles that double (integer arithmetic), or other
    growing cycles (double-double)."""
    whole = isinstance(first, int)
    if mult == 1.0:
        return ARITHMETIC_WHOLE if whole else ARITHMETIC
    return DOUBLING_WHOLE if whole and mult == 2.0 else GEOMETRIC


def pow2_shift(mult: float) -> int:
    """``e`` where ``mult == 2**e`` (``e >= 1``), else 0: powers of such a ``mult`` are exact
    exponent shifts (``ldexp``), no double-double powering needed."""
    m, e = math.frexp(mult)
    return e - 1 if m == 0.5 and e > 1 else 0


LAST_STEP = 9223372036854775807  # 2**63 - 1, the last int64 step


@formula
def cycle_segment(step, first, mult, nbits, kind, shift):
    """The cycle holding ``step`` as a segment (see :class:`fastlr.schedules.Schedule`): a tuple
    of its last step and what :func:`cycle_position` needs.

    Cycle ``k`` lasts ``first * mult**k`` and starts where cycle ``k - 1`` ends, at
    ``first * (mult**k - 1) / (mult - 1)`` (``first * k`` when ``mult == 1``). ``kind`` (static,
    from :func:`cycle_kind`) picks the arithmetic:

    * whole-step cycles of equal length: ``k = step // first`` in int64, exact at every int64
      step;
    * whole-step cycles that double (``mult == 2``, SGDR's usual ``T_mult``): with
      ``q = step // first``, cycle ``k`` holds ``q`` in ``[2**k - 1, 2**(k + 1) - 1)``, so
      ``k = floor(log2(q + 1))``, exact at every int64 step;
    * growing cycles: the step as an exact double-double (:func:`step_parts`); a first guess for
      ``k`` (the closed-form log) corrected by up to two with the exact sign of ``step - start``
      in double-double; ``s`` and ``rest`` from those same exact differences. Exact at every
      int64 step where the cycle starts are integers (``first`` and ``mult`` whole numbers), and
      to within 2**-42 steps of the real-valued starts otherwise (``nbits``: see
      :func:`pow_bits`; with ``mult = 2**shift``, its powers are exact shifts instead);
    * real-valued cycles of equal length (a float ``first_decay_steps``): double-double against
      ``k * first``, exact while ``step / first < 2**53``; past that the position stays inside
      the cycle (values in range) but is not exact.

    (The blog recipe's cycles of ``ceil(T_k)`` whole steps, ``T_k`` a float product, are the
    ``WHOLE_TABLE`` kind of :func:`whole_cycle_segment`.)

    Whole-step cycles are segments: ``(last, k, start, 2**k, 0, 0, 0)``, with the cycle's last
    and first steps (``last`` saturated at 2**63 - 1: the last cycle may pass it). For the
    other kinds the segment is the step alone, and holds the per-step result:
    ``(step, 0, 0, k, s, scale, rest)``. Every kind returns the same items, three of the step's
    type and four float64, so that the tuple has one type whichever branch a compiled engine
    types.
    """
    if kind == ARITHMETIC_WHOLE:
        kq = xp.floordiv(step, first)
        start = kq * first
        last = start + xp.minimum(first - 1, LAST_STEP - start)
        return last, kq, start, 1.0, 0.0, 0.0, 0.0
    if kind == DOUBLING_WHOLE:
        q = xp.floordiv(step, first)
        # k = floor(log2(q + 1)) (q + 1 may overflow): floor(log2(q)) = j, plus one where
        # q + 1 = 2**(j + 1); done = 2**k - 1, the cycles of `first` before this one
        j = xp.ilog2(xp.maximum(q, 1))
        p = xp.iexp2(j)
        up = q == p + (p - 1)
        k = xp.where(up, j + 1, j)
        done = xp.where(up, q, p - 1)
        scale = xp.f(p) * xp.where(up, 2.0, 1.0)  # 2**k from the 2**j at hand, exactly
        # the cycle lasts first * 2**k = start + first: its last step, saturated without overflow
        start = done * first
        last = start + (xp.minimum(start, LAST_STEP - start - (first - 1)) + (first - 1))
        return last, k, start, scale, 0.0, 0.0, 0.0
    zero = step * 0
    sh, sl = step_parts(step)
    if kind == ARITHMETIC:
        k = xp.floor((sh + sl) / first)
        ph, pl = two_prod(k, first)
        d = ((sh - ph) - pl) + sl  # exact: step - k*first (sh - ph is exact, Sterbenz)
        k = k - xp.where(d < 0.0, 1.0, 0.0) + xp.where(d >= first, 1.0, 0.0)
        d = d + xp.where(d < 0.0, first, 0.0) - xp.where(d >= first, first, 0.0)
        # Past k = 2**53 the first guess is off by more than one: clamped into the cycle.
        d = xp.minimum(xp.maximum(d, 0.0), first)
        return step, zero, zero, k, d, 1.0, first - d
    m1 = mult - 1.0  # exact for 1 < mult <= 2**53
    k = xp.maximum(xp.floor(xp.log1p((sh + sl) * (m1 / first)) / math.log(mult)), 1.0) - 1.0
    if shift:  # mult = 2**shift: its powers are exact
        ph = xp.ldexp(1.0, k * shift)
        pl = 0.0 * k
        p1h, p2h, p3h = ph * mult, ph * (mult * mult), ph * (mult * mult * mult)
        p1l, p2l, p3l = pl, pl, pl
    else:
        ph, pl = dd_pow(mult, k, nbits)
        p1h, p1l = dd_mul(ph, pl, mult, 0.0)
        p2h, p2l = dd_mul(p1h, p1l, mult, 0.0)
        p3h, p3l = dd_mul(p2h, p2l, mult, 0.0)
    # excess(j) = (step - start_j) * m1 for j = k .. k + 3; the cycle is the last j with
    # excess(j) >= 0 (k + 2 at most), and -excess(j + 1) / m1 the steps left in it.
    e0 = _excess(sh, sl, m1, first, ph, pl)
    e1 = _excess(sh, sl, m1, first, p1h, p1l)
    e2 = _excess(sh, sl, m1, first, p2h, p2l)
    e3 = _excess(sh, sl, m1, first, p3h, p3l)
    up1 = e1 >= 0.0
    up2 = e2 >= 0.0
    k = k + xp.where(up1, 1.0, 0.0) + xp.where(up2, 1.0, 0.0)
    excess = xp.where(up2, e2, xp.where(up1, e1, xp.maximum(e0, 0.0)))
    after = xp.where(up2, e3, xp.where(up1, e2, e1))
    power = xp.where(up2, p2h, xp.where(up1, p1h, ph))
    length = first * power
    rest = xp.minimum(xp.maximum(-after / m1, 0.0), length)
    return step, zero, zero, k, xp.minimum(excess / m1, length), power, rest


@formula
def cycle_position(step, seg, first, kind):
    """``(k, s, scale, rest)`` from a step and its :func:`cycle_segment`: cycle index, position
    in the cycle, the cycle's length in units of ``first`` (``mult**k``: the cycle lasts
    ``first * scale``) and the steps left in it, all float64. Divide by a cycle's length with
    :func:`cycle_fraction`. Whole-step cycles: ``s`` in int64 rounded once to float64, ``rest``
    as the sum of two int64 parts each rounded once (its end may pass 2**63), without overflow at
    any int64 step."""
    _, k, start, scale, s, power, rest = seg
    if kind == ARITHMETIC_WHOLE:
        d = step - start
        return xp.f(k), xp.f(d), 1.0, xp.f(first - d)
    if kind == DOUBLING_WHOLE:
        s = step - start
        # rest = first * 2**k - s = (start - s) + first: the cycle's end may pass 2**63
        return xp.f(k), xp.f(s), scale, xp.f(start - s) + xp.f(first)
    # (k, s, scale, rest) of the other kinds; WHOLE_TABLE's (k, s, W_k, decay left / length)
    return scale, s, power, rest


@formula
def cycle_fraction(x, base, k, scale, kind):
    """``x / (base * scale)`` for ``(k, scale)`` from :func:`cycle_position` and a parameter
    ``base`` (a length in the first cycle, which cycle ``k`` scales by ``scale``), correctly
    rounded: the division by ``base`` uses a hoisted reciprocal (``xp.div``), and where cycles
    double, ``scale = 2**k`` is applied exactly as an exponent shift; only other growing cycles
    divide once per step."""
    if kind <= ARITHMETIC:
        return xp.div(x, base)
    if kind == DOUBLING_WHOLE:
        # times 2**-k, exactly (the quotient is >= 1 / base, so nothing becomes subnormal);
        # one factor for every cycle_fraction of a step: the engines compute it once
        return xp.div(x, base) * xp.ldexp(1.0, -k)
    return x / (xp.f(base) * scale)


def pow_bits(first: float, mult: float) -> int:
    """Bits of the largest cycle index reachable below step 2**63 (for :func:`dd_pow`); 0 where
    :func:`dd_pow` is not used (equal cycles, or ``mult`` a power of two), so that those
    structures do not compile one kernel per ``first``."""
    if mult == 1.0 or pow2_shift(mult):
        return 0
    k_max = math.log1p(2.0**63 * (mult - 1.0) / first) / math.log(mult) + 3
    return max(1, int(k_max).bit_length())


# -- growing cycles rounded up to whole steps ------------------------------------------------
MAX_WHOLE_CYCLES = 4096
"""The most cycles of whole steps (:func:`recipe_cycles`) that may start below step 2**63:
their starts are a table searched in ``log2`` of its length (any multiplier >= 1.01 stays below;
one barely above 1 would make billions of cycles of ``first`` + 1 steps)."""

_FAR = 2.0**64
"""Start of the padding cycles of a table: after every int64 step."""


@functools.lru_cache(maxsize=256)
def recipe_cycles(first: int, mult: float) -> tuple[tuple[int, ...], tuple[float, ...]] | None:
    """``(starts, lengths)`` of the blog recipe's cycles: ``T_0 = first`` and
    ``T_k = T_{k-1} * mult`` rounded to float64 (its Python product, not ``first * mult**k``),
    cycle ``k`` lasting ``ceil(T_k)`` whole steps from ``starts[k]``, the sum of the lengths
    before it, up to the first cycle that starts after step 2**63 - 1 (``starts[-1]``). None
    where more than :data:`MAX_WHOLE_CYCLES` cycles would start below 2**63."""
    starts, lengths, length = [0], [], float(first)
    while starts[-1] <= LAST_STEP:
        if len(lengths) == MAX_WHOLE_CYCLES:
            return None
        lengths.append(length)
        starts.append(starts[-1] + math.ceil(length))
        length *= mult
    return tuple(starts), tuple(lengths)


def whole_warmups(warmup: int, mult: float, cycles: int, scale: bool) -> list[float]:
    """The recipe's warmups ``W_0 = warmup``, ``W_k = W_{k-1} * mult`` (rounded to float64)
    of ``cycles`` cycles; ``warmup`` in each with ``scale=False``."""
    out, w = [], float(warmup)
    for _ in range(cycles):
        out.append(w)
        w = w * mult if scale else w
    return out


def whole_cycles_are_real(first: int, warmup: int, mult: float, scale: bool) -> bool:
    """Whether the recipe's cycles are the real-valued ones (``cycle_segment``'s): ``T_k`` and
    ``W_k`` exactly ``first * mult**k`` and ``warmup * mult**k`` (``mult`` 1, or an integer whose
    products stay float64 numbers), whole numbers, for every cycle that starts below 2**63."""
    if mult == 1.0:
        return True
    if not mult.is_integer():
        return False
    m = int(mult)
    _, lengths = recipe_cycles(first, mult)  # an integer >= 2: fewer than 64 cycles
    warms = whole_warmups(warmup, mult, len(lengths), scale)
    for k, (t, w) in enumerate(zip(lengths, warms, strict=True)):
        if t != first * m**k or w != (warmup * m**k if scale else warmup):
            return False
    return True


def whole_cycle_args(
    first: int, warmup: int, mult: float, scale: bool
) -> tuple[int, tuple[float, ...]]:
    """``(nbits, table)`` for :func:`whole_cycle_segment`: with ``n = 2**nbits`` (more than the
    number of cycles of :func:`recipe_cycles`), ``table`` holds five blocks of ``n`` float64:
    the cycle starts as pairs ``hi + lo`` (exact) padded with :data:`_FAR`, then per cycle the
    warmup ``W_k``, the decay's length ``T_k - W_k`` and the gap ``ceil(T_k) - T_k`` (exact, in
    ``[0, 1)``), padded (never read there). One list parameter rather than five."""
    table = recipe_cycles(first, mult)
    if table is None:
        raise ValueError(f"more than {MAX_WHOLE_CYCLES} cycles below 2**63")
    starts, lengths = table
    warms = whole_warmups(warmup, mult, len(lengths), scale)
    # blocks of 8 at least: 40 entries or more travel to a kernel as one array, not as scalars
    # (fastlr.engines._structure.SHORT_LIST), which Numba's parallel loops cap at 100 in all
    nbits = max(len(lengths).bit_length(), 3)
    size = 1 << nbits
    hi = [float(x) for x in starts]
    lo = [float(x - int(h)) for x, h in zip(starts, hi, strict=True)]
    rest = [0.0] * (size - len(lengths))
    return nbits, (
        *hi,
        *[_FAR] * (size - len(starts)),
        *lo,
        *[0.0] * (size - len(starts)),
        *warms,
        *rest,
        *[t - w for t, w in zip(lengths, warms, strict=True)],
        *[1.0] * len(rest),
        *[math.ceil(t) - t for t in lengths],
        *rest,
    )


@formula
def _minus_step(hi, lo, sh, sl):
    """``(hi + lo) - (sh + sl)`` rounded once: a table's start (or end) minus the step (from
    :func:`step_parts`); exact where the difference is below 2**53, its sign always exact."""
    a, e = two_sum(hi, -sh)
    return a + (e + (lo - sl))


@formula
def _start_minus_step(table, n, j, sh, sl):
    """Start ``j`` of a :func:`whole_cycle_args` table (``n`` entries a block) minus the step."""
    return _minus_step(xp.take(table, j), xp.take(table, j + n), sh, sl)


@formula
def whole_cycle_segment(step, nbits, table):
    """:func:`cycle_segment` for the recipe's cycles of ``ceil(T_k)`` whole steps (the
    ``WHOLE_TABLE`` kind; ``table`` from :func:`whole_cycle_args`): the segment is the step
    alone, ``(step, 0, 0, k, s, W_k, x)`` with ``x = (T_k - s) / (T_k - W_k)`` the part of the
    decay left.

    The cycle ``k`` is the last table index whose start is ``<= step``: a binary search of
    ``nbits`` (static) halvings, each an exact sign of ``start - step``. ``s = step - start``
    and ``T_k - s = (next start - step) - (ceil(T_k) - T_k)`` come from exact integer
    differences (each rounded once where past 2**53). Exact at every int64 step.
    """
    n = 1 << nbits
    zero = step * 0
    sh, sl = step_parts(step)
    k = zero
    for b in range(nbits - 1, -1, -1):
        j = k + (1 << b)
        k = xp.where(_start_minus_step(table, n, j, sh, sl) <= 0.0, j, k)
    s = -_start_minus_step(table, n, k, sh, sl)
    rest = _start_minus_step(table, n, k + 1, sh, sl) - xp.take(table, k + 4 * n)
    x = rest / xp.take(table, k + 3 * n)
    return step, zero, zero, xp.f(k), s, xp.take(table, k + 2 * n), x


# -- exp(a + c * step) in segments ----------------------------------------------------------
_EXP_SMALL = 2.0**-4
_EXP_SPAN_MAX = 2**40  # below the whole-number limit (2**50): kernels may run on float steps


def exp_span(c: float) -> int:
    """Steps per segment of ``exp(a + c * step)`` (see :func:`exp_segment`): the largest power of
    two ``L <= 2**40`` with ``L * |c| <= 2**-4`` (1 where ``|c| > 2**-4``)."""
    span = _EXP_SPAN_MAX
    while span > 1 and span * abs(c) > _EXP_SMALL:
        span //= 2
    return span


@formula
def exp_segment(step, a, c, span):
    """``exp(a + c * step)`` as the segment ``(last, b, exp(a + c * b))`` with
    ``b = step // span * span`` (``span`` from :func:`exp_span`): within it
    ``exp(a + c * step) = exp(a + c * b) * exp_small(c * (step - b))``, one vector ``exp`` per
    segment where a bulk engine runs in segments. The argument is rounded twice (``|a + c b|``
    float64 ulps of relative error, as ``exp`` of any rounded argument); ``last`` saturates at
    2**63 - 1."""
    b = xp.floordiv(step, span) * span
    last = b + xp.minimum(span - 1, LAST_STEP - b)
    return last, b, xp.exp(a + xp.f(b) * c)


@formula
def exp_small(x):
    """``exp(x)`` for ``|x| <= 2**-4``: the Taylor polynomial to ``x**9`` (truncation below
    2**-61 relative), ``1 + x q(x)`` with ``q ~ 1``, so its rounding errors stay below 0.6 ulp."""
    q = 1.0 / 362880.0
    q = q * x + 1.0 / 40320.0
    q = q * x + 1.0 / 5040.0
    q = q * x + 1.0 / 720.0
    q = q * x + 1.0 / 120.0
    q = q * x + 1.0 / 24.0
    q = q * x + 1.0 / 6.0
    q = q * x + 0.5
    q = q * x + 1.0
    return 1.0 + x * q


# -- a cosine wave of any real period ----------------------------------------------------------
def wave_args(length: int, cycles: float) -> tuple[int, float, float, bool]:
    """``(period, nu_hi, nu_lo, whole)`` for :func:`wave` with ``cycles`` full waves over
    ``length`` steps: ``whole`` where the period ``length / cycles`` is a whole number of steps
    (at most 2**53), then ``period`` is it; else ``nu_hi + nu_lo`` is ``cycles / length`` to
    about 106 bits (and ``period`` a placeholder 1)."""
    period = Fraction(length) / Fraction(cycles)
    if period.denominator == 1 and period <= 2**53:
        return int(period), 0.0, 0.0, True
    nu = Fraction(cycles) / length
    hi = float(nu)
    return 1, hi, float(nu - Fraction(hi)), False


@formula
def _frac(x):
    """``x - floor(x)``, in ``[0, 1]``: exact for ``x >= 0`` and for ``x <= -1/2``."""
    return x - xp.floor(x)


@formula
def wave(step, length, cycles, period, nu_hi, nu_lo, whole):
    """``(1 + cos(2 pi cycles step / length)) / 2`` at a non-negative int64 ``step``: a wave
    from 1 (at step 0) down to 0 and back, ``cycles`` full waves per ``length`` steps (args from
    :func:`wave_args`; ``whole`` is static).

    * A whole-step period ``L``: ``r = step mod L`` and the distance ``d = min(r, L - r)`` to the
      nearest crest in int64, then ``cos_remaining((L - 2 d) / L)``: exact at every int64 step,
      one rounded division.
    * Any other period: the position in the wave (in waves, ``cycles * step / length`` mod 1)
      from ``q = step // length`` and ``r = step mod length`` in int64,
      ``cycles * q + (cycles / length) * r``: ``cycles * q`` as four float64s summing to it
      exactly (``q`` split into two exact halves, two error-free products), ``(cycles / length)
      * r`` from ``cycles / length`` in double-double; the fractional parts of the pieces
      summed mod 1. Within 2**-49 of a wave of the exact position at every int64 step, whatever
      the step (the error does not grow with it): each fractional part is exact or within
      2**-54, each of the five sums within 2**-53, and ``(cycles / length) * r`` in
      double-double within ``3 * 2**-105 * cycles``, at most ``12.5 * 2**-53`` in all with
      ``cycles <= 2**53`` (``6.5 * 2**-53`` with ``cycles <= 2**40``).
    """
    if whole:
        r = step - xp.floordiv(step, period) * period
        d = xp.minimum(r, period - r)  # 0 .. period / 2: the distance to the nearest crest
        return xp.cos_remaining(xp.div(period - 2 * d, period))
    q = xp.floordiv(step, length)
    rf = xp.f(step - q * length)
    qh, ql = step_parts(q)
    p1, e1 = two_prod(cycles, qh)
    p2, e2 = two_prod(cycles, ql)
    p3, e3 = two_prod(rf, nu_hi)
    e3 = e3 + rf * nu_lo
    x = _frac(_frac(p1) + _frac(p2))
    x = _frac(x + _frac(p3))
    x = _frac(x + _frac(e1))
    x = _frac(x + _frac(e2))
    x = _frac(x + _frac(e3))
    d = xp.minimum(x, 1.0 - x)  # 0 .. 1/2 wave: the distance to the nearest crest
    return xp.cos_remaining(1.0 - 2.0 * d)
