"""Counter-based random numbers for formulas: a pure function of ``(seed, step)``.

A noise schedule must stay a function of the step (compilable, vectorizable, the same value on
every engine, at every step, after any resume), so its randomness is a hash of the step, not a
generator's state. The hash works in the field of integers modulo the prime
``P = 33554393`` (just below 2**25) with exact integer arithmetic only: every product of two
residues is below 2**50, so it is exact in int64 *and* in the whole-number float64 steps the CPU
kernels run on, with no overflow and no bit operations, and every engine computes it
identically:

* the step splits into its base-``P`` digits ``(d0, d1, d2)`` (``d2 < 2**14``), the seed into
  ``(k0, k1, k2)``;
* ``h = mix(d0, k0)``, ``h = mix(h, d1 + k1)``, ``h = mix(h, d2 + k2 + K2)``, ``h = mix(h, K3)``
  with ``mix(h, c) = (h + c)**5 mod P``, a permutation of the residues (``5`` is prime to
  ``P - 1``), and fixed residues ``K2``, ``K3``;
* ``u = (h + 1/2) / P``, in ``(0, 1)`` with 25 bits.

For a fixed seed, ``P`` consecutive steps get ``P`` distinct values (each step's ``d0`` enters
through a bijection), and the degree-625 polynomial in ``d0`` makes neighbouring steps look
unrelated (``tests/test_random.py`` checks the moments, the histogram and the serial
correlation). :func:`normal_quantile` turns ``u`` into a normal deviate (Wichura's AS241, about
1e-16 relative), so a truncated normal is the quantile of a uniform on a central interval.
"""

from __future__ import annotations

import math

from fastlr._ops import formula, xp

P = 33554393
"""The modulus of the hash: the largest prime below 2**25 with ``P - 1`` prime to 5."""

_K2, _K3 = 12345678, 9876543  # fixed residues of the last two rounds


def seed_keys(seed: int) -> tuple[int, int, int]:
    """The hash keys ``(k0, k1, k2)`` of a seed in ``[0, 2**53]``: its base-``P`` digits."""
    return seed % P, (seed // P) % P, seed // P // P


@formula
def _mod(x):
    return x - xp.floordiv(x, P) * P


@formula
def _mix(h, c):
    """``(h + c)**5 mod P`` for a residue ``h`` and ``0 <= c < 2**49``."""
    h = _mod(h + c)
    h2 = _mod(h * h)
    h4 = _mod(h2 * h2)
    return _mod(h4 * h)


@formula
def counter_uniform(step, k0, k1, k2):
    """A uniform number in ``(0, 1)`` from the int64 ``step`` and the keys of
    :func:`seed_keys` (see the module docstring)."""
    high = xp.floordiv(step, P)
    h = _mix(_mod(step), k0)
    h = _mix(h, _mod(high) + k1)
    h = _mix(h, xp.floordiv(high, P) + (k2 + _K2))
    h = _mix(h, _K3)
    return (xp.f(h) + 0.5) * (1.0 / P)


@formula
def _ratio(r, a, b):
    """``(a[0] r**7 + ... + a[7]) / (b[0] r**7 + ... + b[7])`` by Horner."""
    num = a[0]
    den = b[0]
    for i in range(1, 8):
        num = num * r + a[i]
        den = den * r + b[i]
    return num / den


# Wichura, M.J. (1988), Algorithm AS241 (PPND16), Applied Statistics 37(3), 477-484: the
# coefficients of its three rational approximations, highest power first.
_CENTRAL = (
    (
        2509.0809287301226727,
        33430.575583588128105,
        67265.770927008700853,
        45921.953931549871457,
        13731.693765509461125,
        1971.5909503065514427,
        133.14166789178437745,
        3.387132872796366608,
    ),
    (
        5226.495278852545561,
        28729.085735721942674,
        39307.89580009271061,
        21213.794301586595867,
        5394.1960214247511077,
        687.1870074920579083,
        42.313330701600911252,
        1.0,
    ),
)
_INTERMEDIATE = (
    (
        7.7454501427834140764e-4,
        0.0227238449892691845833,
        0.24178072517745061177,
        1.27045825245236838258,
        3.64784832476320460504,
        5.7694972214606914055,
        4.6303378461565452959,
        1.42343711074968357734,
    ),
    (
        1.05075007164441684324e-9,
        5.475938084995344946e-4,
        0.0151986665636164571966,
        0.14810397642748007459,
        0.68976733498510000455,
        1.6763848301838038494,
        2.05319162663775882187,
        1.0,
    ),
)
_TAIL = (
    (
        2.01033439929228813265e-7,
        2.71155556874348757815e-5,
        0.0012426609473880784386,
        0.026532189526576123093,
        0.29656057182850489123,
        1.7848265399172913358,
        5.4637849111641143699,
        6.6579046435011037772,
    ),
    (
        2.04426310338993978564e-15,
        1.4215117583164458887e-7,
        1.8463183175100546818e-5,
        7.868691311456132591e-4,
        0.0148753612908506148525,
        0.13692988092273580531,
        0.59983220655588793769,
        1.0,
    ),
)


@formula
def normal_quantile(q):
    """The standard normal quantile of ``1/2 + q`` for ``q`` in ``(-1/2, 1/2)`` (AS241, about
    1e-16 relative): taking ``q`` rather than the probability keeps the centre exact. Every
    branch is evaluated and one selected (branch-free)."""
    a = xp.maximum(q, -q)
    central = q * _ratio(0.180625 - q * q, _CENTRAL[0], _CENTRAL[1])
    r = xp.sqrt(-xp.log(xp.maximum(0.5 - a, 1e-300)))
    middle = _ratio(r - 1.6, _INTERMEDIATE[0], _INTERMEDIATE[1])
    tail = xp.where(r <= 5.0, middle, _ratio(xp.maximum(r, 5.0) - 5.0, _TAIL[0], _TAIL[1]))
    tail = xp.where(q < 0.0, -tail, tail)
    return xp.where(a <= 0.425, central, tail)


def normal_mass(bound: float) -> float:
    """``P(|Z| < bound)`` for a standard normal ``Z`` (``erf(bound / sqrt 2)``), on the host."""
    return math.erf(bound / math.sqrt(2.0))
