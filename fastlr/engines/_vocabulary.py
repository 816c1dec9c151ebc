"""The formula vocabulary for the compiled engines (Numba CPU and CUDA), as plain Python.

Every compiled engine wraps the same bodies with its own jit (:func:`make_ops`), so each meaning
is written once. :data:`VOCABULARY` holds the portable meanings (libm calls, Python operators);
:data:`VECTOR` holds the CPU's branch-free replacements for the calls that would otherwise stay
scalar per lane (no SVML in the llvmlite wheels): ``exp``, ``log``, ``log1p``, ``power``,
``ldexp`` and integer ``floordiv``/``ceildiv``. They use only ``+ - *``, one division, ``floor``,
selects and integer bit moves, so LLVM vectorizes a kernel that calls them.

Accuracy of the vector functions (tested against mpmath in ``tests/test_vocabulary.py``):

* ``log`` is computed as a double-double (about 2**-60 relative) and rounded: <= 1 float64 ulp;
* ``exp`` of a double-double argument by Cody-Waite reduction and a degree-13 polynomial:
  <= 1 float64 ulp;
* ``power(a, b) = exp(b * log(a))`` with ``b * log(a)`` kept as a double-double: within
  ``1 + |b log a| * 2**-7`` float64 ulps (<= 7 ulps at the underflow edge, <= 1.2 for results
  above 1e-30);
* ``ldexp(x, k) = x * 2**k`` exactly (for normal results);
* ``floordiv(a, b)`` for int64 ``a`` and integer ``b > 0`` exactly, at every int64 ``a``, from a
  float estimate corrected twice with exact integer remainders (no integer division per lane).
"""

from __future__ import annotations

import math
import types
from fractions import Fraction
from typing import Any

import numpy as np

# -- shared pieces ----------------------------------------------------------------------------
_HALF_PI = 0.5 * math.pi
# Taylor coefficients of sin(x)/x in x**2, enough for |x| <= pi/4 to 5e-17 (below float64's ulp).
_S1, _S2, _S3, _S4 = -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0
_S5, _S6, _S7 = -1.0 / 39916800.0, 1.0 / 6227020800.0, -1.0 / 1307674368000.0


def madd(a, b, c):
    """``a * b + c``: the polynomial's step; an engine may rebind it to a fused multiply-add."""
    return a * b + c


def cos_remaining(r):
    """``(1 - cos(pi r)) / 2 = sin(pi r / 2)**2`` for ``r`` in [0, 1], branch-free.

    ``sin`` of ``pi/2 * min(r, 1 - r)`` (at most ``pi/4``) by its Taylor polynomial, squared; for
    ``r > 1/2`` the complement ``1 - sin(pi/2 (1 - r))**2``. Relative error ~1e-16 as ``r -> 0``
    (no cancellation near the end of a cosine), and it vectorizes (no libm call). Each Horner
    step is the global ``madd``: :func:`with_globals` rebinds it per engine.
    """
    u = min(r, 1.0 - r)
    x = u * _HALF_PI
    x2 = x * x
    p = _S7
    p = madd(p, x2, _S6)
    p = madd(p, x2, _S5)
    p = madd(p, x2, _S4)
    p = madd(p, x2, _S3)
    p = madd(p, x2, _S2)
    p = madd(p, x2, _S1)
    p = madd(p, x2, 1.0)
    s = x * p
    s2 = s * s
    return s2 if r <= 0.5 else 1.0 - s2


def count_less(boundaries, x):
    """How many ``boundaries`` are ``< x`` (a loop over a short array, no branch on ``x``)."""
    c = 0
    for b in boundaries:
        c += x > b
    return c


def ldexp(x, k):
    """``x * 2**k`` for an integer ``k`` (libm; ``k`` clamped so no call overflows)."""
    return math.ldexp(x, int(min(max(k, -2200), 2200)))


def ilog2(n):
    """``floor(log2(n))`` for an int64 ``n >= 1``: a branch-free bisection on shifts."""
    n = np.int64(n)
    e = np.int64(0)
    t = np.int64(32) if (n >> 32) != 0 else np.int64(0)
    n = n >> t
    e += t
    t = np.int64(16) if (n >> 16) != 0 else np.int64(0)
    n = n >> t
    e += t
    t = np.int64(8) if (n >> 8) != 0 else np.int64(0)
    n = n >> t
    e += t
    t = np.int64(4) if (n >> 4) != 0 else np.int64(0)
    n = n >> t
    e += t
    t = np.int64(2) if (n >> 2) != 0 else np.int64(0)
    n = n >> t
    e += t
    return e + (n >> 1)


def iexp2(k):
    """``2**k`` as int64 (``0 <= k <= 62``)."""
    return np.int64(1) << np.int64(k)


VOCABULARY: dict[str, Any] = {
    "f": lambda x: float(x),
    "where": lambda c, a, b: a if c else b,
    "minimum": lambda a, b: min(a, b),
    "maximum": lambda a, b: max(a, b),
    "floor": lambda x: np.floor(float(x)),
    "floordiv": lambda a, b: a // b,
    "ceildiv": lambda a, b: -((-a) // b),
    "cos": lambda x: math.cos(x),
    "exp": lambda x: math.exp(x),
    "log": lambda x: math.log(x),
    "log1p": lambda x: math.log1p(x),
    "sqrt": lambda x: math.sqrt(x),
    "power": lambda a, b: float(a) ** float(b),
    "ldexp": ldexp,
    "ilog2": ilog2,
    "iexp2": iexp2,
    "div": lambda a, b: float(a) / float(b),
    "cos_remaining": cos_remaining,
    "count_less": count_less,
    "take": lambda values, i: values[i],
}
"""The :mod:`fastlr._ops` vocabulary as portable scalar Python functions (see :func:`make_ops`)."""


# -- branch-free vector math (CPU) ------------------------------------------------------------
# Error-free transformations: Knuth's two-sum (the engine must not contract or reassociate it)
# and the product's exact error from a fused multiply-add.


def _two_sum(a, b):
    s = a + b
    v = s - a
    return s, (a - (s - v)) + (b - v)


def _two_prod(a, b):
    """``(p, e)`` with ``p = fl(a * b)`` and ``p + e = a * b`` exactly (with a fused ``fma``)."""
    p = a * b
    return p, fma(a, b, -p)


def _bits(x):
    return np.float64(x).view(np.int64)


def _from_bits(i):
    return np.int64(i).view(np.float64)


def _pow2(k):
    """``2.0**k`` for an integer ``k`` in ``[-1022, 1023]``, from its exponent bits."""
    return _from_bits((np.int64(k) + 1023) << 52)


_LN2_HI = 6.93147180369123816490e-01  # 32 significant bits: n * _LN2_HI is exact for |n| < 2**21
_LN2_LO = 1.90821492927058770002e-10
_LOG2E = 1.4426950408889634
_SQRT2 = 1.4142135623730951
_TINY = 2.2250738585072014e-308  # smallest normal float64
# exp(r) = 1 + r + r**2 g(r) on |r| <= 0.3466 (ln 2 / 2): g's Chebyshev fit of degree 10
# (mpmath chebyfit), relative error below 3.4e-19 (0.003 ulp; the 12-term Taylor series it
# replaces was below 2**-58, one multiply-add more)
_EXP_C = (
    2.0914685161418067e-09,
    2.5105214474751413e-08,
    2.7557273647451087e-07,
    2.7557255406285044e-06,
    2.480158732554432e-05,
    0.00019841269874815834,
    0.001388888888888375,
    0.008333333333326136,
    0.04166666666666667,
    0.1666666666666667,
    0.5,
)


def exp_dd(yh, yl):
    """``exp(yh + yl)`` (a double-double argument), <= 1 ulp; 0 below -746, inf above 710.

    No error-free transformation here: an engine may fuse its multiply-adds (the CPU does:
    shorter dependency chains, and the reduction and the polynomial only get more accurate).
    """
    y = min(max(yh, -746.0), 710.0)
    lo = yl if y == yh else 0.0
    n = np.floor(y * _LOG2E + 0.5)
    r = ((y - n * _LN2_HI) - n * _LN2_LO) + lo
    c0, c1, c2, c3, c4, c5, c6, c7, c8, c9, c10 = _EXP_C
    p = c0
    p = p * r + c1
    p = p * r + c2
    p = p * r + c3
    p = p * r + c4
    p = p * r + c5
    p = p * r + c6
    p = p * r + c7
    p = p * r + c8
    p = p * r + c9
    p = p * r + c10
    # 1 + r + r**2 p, the last two terms added so that the small ones come first
    p = 1.0 + (r + (r * r) * p)
    k = np.int64(n)
    half = k >> 1
    return p * _pow2(half) * _pow2(k - half)


def vexp(x):
    """``exp(x)``, branch-free (see :func:`exp_dd`)."""
    return exp_dd(x, 0.0)


def log_dd(x):
    """``log(x)`` as a double-double ``(hi, lo)`` (about 2**-60 relative), branch-free.

    ``x = m * 2**e`` with ``m`` in ``[sqrt(2)/2, sqrt(2)]`` from the exponent bits (subnormals
    scaled first); ``log(m) = 2 atanh(f)`` with ``f = (m - 1) / (m + 1)`` as a double-double and
    the series in ``f**2 <= 0.0295`` to 12 terms. ``0 -> -inf``, ``inf -> inf``, ``< 0 -> nan``.
    """
    sub = x < _TINY
    xs = x * 18014398509481984.0 if sub else x  # 2**54
    bits = _bits(xs)
    e = (bits >> 52) - 1023
    m = _from_bits((bits & 0x000FFFFFFFFFFFFF) | 0x3FF0000000000000)
    big = m > _SQRT2
    m = m * 0.5 if big else m
    ef = float(e) + (1.0 if big else 0.0) - (54.0 if sub else 0.0)
    num = m - 1.0  # exact (Sterbenz)
    dh, dl = _two_sum(m, 1.0)
    f = num / dh
    ph, pl = _two_prod(f, dh)
    fl = (((num - ph) - pl) - f * dl) / dh  # f + fl = num / (dh + dl) to ~2**-106
    z = f * f
    t = 2.0 / 25.0
    t = t * z + 2.0 / 23.0
    t = t * z + 2.0 / 21.0
    t = t * z + 2.0 / 19.0
    t = t * z + 2.0 / 17.0
    t = t * z + 2.0 / 15.0
    t = t * z + 2.0 / 13.0
    t = t * z + 2.0 / 11.0
    t = t * z + 2.0 / 9.0
    t = t * z + 2.0 / 7.0
    t = t * z + 2.0 / 5.0
    t = t * z + 2.0 / 3.0
    tail = 2.0 * fl + f * z * t  # log(m) = 2f + tail
    h1, e1 = _two_sum(ef * _LN2_HI, 2.0 * f)  # ef * _LN2_HI is exact
    lo = e1 + (tail + ef * _LN2_LO)
    hi, lo = _two_sum(h1, lo)
    ok = (x > 0.0) & (x < np.inf)
    edge = -np.inf if x == 0.0 else (np.inf if x == np.inf else np.nan)
    return (hi if ok else edge), (lo if ok else 0.0)


def vlog(x):
    """``log(x)``, <= 1 ulp, branch-free (see :func:`log_dd`)."""
    hi, lo = log_dd(x)
    return hi + lo


def vlog1p(x):
    """``log(1 + x)`` for ``x > -1``: ``log(u) + (x - (u - 1)) / u`` with ``u = 1 + x``."""
    u = 1.0 + x
    hi, lo = log_dd(u)
    return x if u == 1.0 else hi + (lo + (x - (u - 1.0)) / u)


def vpower(a, b):
    """``a**b`` for ``a >= 0``: ``exp(b * log(a))`` with the product kept as a double-double."""
    a = float(a)
    b = float(b)
    lh, ll = log_dd(a)
    yh, yl = _two_prod(b, lh)
    yl = yl + b * ll
    y = exp_dd(yh, yl)
    zero = 0.0 if b > 0.0 else np.inf
    y = zero if a == 0.0 else y
    return 1.0 if b == 0.0 else y


def fma(a, b, c):
    """``a * b + c`` with one rounding. This plain-Python meaning is exact rational arithmetic
    (``float`` of a ``Fraction`` is correctly rounded); the CPU engine binds LLVM's ``fma``."""
    if not (math.isfinite(a) and math.isfinite(b) and math.isfinite(c)):
        return a * b + c
    return float(Fraction(a) * Fraction(b) + Fraction(c))


def div_reciprocal(a, b):
    """``a / b``, bit-identical to IEEE division, from ``1 / b`` (hoisted out of the loop when
    ``b`` is loop-invariant) and two fused multiply-adds: ``q = a * r`` is within an ulp, the
    exact residual ``q b - a`` corrects it to the correctly rounded quotient (Markstein).
    Written as ``q - (q b - a) r`` so that a zero quotient keeps the sign of ``a``. Where ``q``
    is not finite (``b = 0``, ``a`` or ``b`` infinite, overflow) the correction is NaN and
    ``q`` is already IEEE's answer. For ``|b| < 2**1021`` and quotients that are not subnormal.
    """
    a = float(a)
    b = float(b)
    r = 1.0 / b
    q = a * r
    c = fma(-fma(q, b, -a), r, q)
    return c if c == c else q


def vldexp(x, k):
    """``x * 2**k`` exactly (for a normal result), from exponent bits; any int64 ``k``."""
    k = min(max(np.int64(k), -2044), 2046)
    half = k >> 1
    return x * _pow2(half) * _pow2(k - half)


def vilog2(n):
    """``floor(log2(n))`` for an int64 ``n >= 1``, from the exponent of ``float(n)`` (which may
    round up to the next power of two: the shift tells)."""
    n = np.int64(n)
    e = (_bits(float(n)) >> 52) - 1023
    return e - np.int64((n >> e) == 0)


_I64_TOP = 9223372036854774784.0  # the largest float64 below 2**63


def floordiv_int(a, b):
    """``a // b`` for int64 ``a`` and integer ``0 < b <= 2**53``, exact at every int64 ``a``.

    A float estimate (off by at most ~2**12 from the float rounding of ``a``), then two
    corrections from exact integer remainders (int64 products wrap, but the remainders they
    give are small and exact): no integer division, so it vectorizes.
    """
    inv = 1.0 / b
    q = np.floor(float(a) * inv)
    q = min(max(q, -_I64_TOP), _I64_TOP)
    qi = np.int64(q)
    r = a - qi * b
    q1 = np.int64(np.floor(float(r) * inv))
    r = r - q1 * b
    fix = np.int64(r >= b) - np.int64(r < 0)
    return qi + q1 + fix


def ceildiv_int(a, b):
    """``-((-a) // b)``, exactly (see :func:`floordiv_int`)."""
    return -floordiv_int(-a, b)


# -- whole-number float64 steps (CPU) ----------------------------------------------------------
# The CPU engine runs a kernel on float64 steps when every step and every integer parameter is a
# whole number below WHOLE_LIMIT in magnitude: the phase and cycle arithmetic of the formulas
# (sums, differences and products of such numbers, a few times the step at most) is then exact
# in float64, so it gives the int64 results bit for bit, with vector float instructions where
# int64 needs a slow multiply (vpmullq) and conversions. These are the integer primitives on
# such floats.
WHOLE_LIMIT = 2**50
"""Steps and integer parameters below this (in magnitude) may run as whole-number float64."""


def floordiv_whole(a, b):
    """``a // b`` for whole-number float64 ``|a|, b < 2**50`` (``b > 0``), exactly: the float
    estimate is off by at most one, and the remainder ``a - q b`` is an exact integer."""
    a = np.float64(a)
    b = np.float64(b)
    q = np.floor(a * (1.0 / b))
    r = a - q * b
    return q + (1.0 if r >= b else 0.0) - (1.0 if r < 0.0 else 0.0)


def ceildiv_whole(a, b):
    """``-((-a) // b)``, exactly (see :func:`floordiv_whole`)."""
    return -floordiv_whole(-a, b)


def ilog2_whole(n):
    """``floor(log2(n))`` for a whole-number float64 ``1 <= n < 2**53``: its exponent."""
    return np.float64((_bits(n) >> 52) - 1023)


def iexp2_whole(k):
    """``2**k`` for a whole-number float64 ``0 <= k <= 62``, as int64 (as :func:`iexp2`): an
    integer operand keeps ``floordiv(a, iexp2(k))`` on the whole-number version."""
    return np.int64(1) << np.int64(k)


VECTOR: dict[str, Any] = {
    "exp": vexp,
    "log": vlog,
    "log1p": vlog1p,
    "power": vpower,
    "ldexp": vldexp,
    "ilog2": vilog2,
}
"""CPU replacements of :data:`VOCABULARY` entries that vectorize (integer division: see
:func:`fastlr.engines.numba_cpu` for the type dispatch of ``floordiv``/``ceildiv``)."""

HELPERS = (
    fma,
    _two_sum,
    _two_prod,
    _bits,
    _from_bits,
    _pow2,
    exp_dd,
    log_dd,
    floordiv_int,
)
"""Module-level functions the :data:`VECTOR` bodies call: an engine compiles them first."""


# -- building a namespace ---------------------------------------------------------------------
def with_globals(fn: Any, **names: Any) -> Any:
    """A copy of the plain function ``fn`` whose globals ``names`` are replaced (not ``fn``)."""
    scope = {**fn.__globals__, **names}
    clone = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__
    clone.__doc__ = fn.__doc__
    return clone


def compile_module_functions(fns: Any, wrap: Any, **wraps: Any) -> dict[str, Any]:
    """Compile plain functions of this module that call each other through module globals, in
    order: ``{__name__: compiled}``, each compiled with the earlier ones as its globals, by
    ``wraps[name]`` if given, else ``wrap``."""
    done: dict[str, Any] = {}
    for fn in fns:
        done[fn.__name__] = wraps.get(fn.__name__, wrap)(with_globals(fn, **done))
    return done


def make_ops(name: str, wrap: Any, **special: Any) -> types.ModuleType:
    """A vocabulary namespace: every :data:`VOCABULARY` function wrapped by ``wrap``, except the
    ones given in ``special`` (already compiled, e.g. with other options), taken as they are."""
    ns = types.ModuleType(f"fastlr_{name}_ops", f"The formula vocabulary for the {name} engine.")
    ns.name = name
    for key, fn in VOCABULARY.items():
        setattr(ns, key, special[key] if key in special else wrap(fn))
    return ns
