"""The counter-based random numbers of :class:`fastlr.Noise` (``fastlr.schedules._random``):
their distribution, their independence from step to step, and the normal quantile.

The engines' agreement with the documented hash (a Python-integer oracle in
``tests/specs/compose.py``) is checked for every schedule by the registry-wide tests; this module
checks that the numbers are good random numbers."""

from __future__ import annotations

import math
from statistics import NormalDist

import numpy as np
import pytest

from fastlr import Constant, Noise
from fastlr._ops import bind
from fastlr.engines.numpy_ref import NumpyOps
from fastlr.schedules import _random

N = 200_000


def _uniforms(start: int, seed: int) -> np.ndarray:
    u = bind(_random.counter_uniform, NumpyOps)
    return u(np.arange(start, start + N, dtype=np.int64), *_random.seed_keys(seed))


@pytest.mark.parametrize("start", [0, 2**31, 2**62 - N])
@pytest.mark.parametrize("seed", [0, 42, 2**53])
def test_uniforms_are_uniform_and_serially_uncorrelated(start, seed):
    u = _uniforms(start, seed)
    assert u.min() > 0.0 and u.max() < 1.0
    # mean and variance of U(0, 1): 1/2 and 1/12, within 5 standard errors
    assert abs(u.mean() - 0.5) < 5 * math.sqrt(1 / 12 / N)
    assert abs(u.var() - 1 / 12) < 5 * math.sqrt(1 / 180 / N)
    # chi-square over 100 bins (99 degrees of freedom: 99 +- 14; 160 is p ~ 1e-4)
    counts = np.histogram(u, bins=100, range=(0.0, 1.0))[0]
    expected = N / 100
    assert ((counts - expected) ** 2 / expected).sum() < 160
    # neighbours (lags 1, 2 and the digit boundary P) and pairs: no correlation
    for lag in (1, 2, 7):
        r = np.corrcoef(u[:-lag], u[lag:])[0, 1]
        assert abs(r) < 5 / math.sqrt(N), (lag, r)
    pairs = np.histogram2d(u[:-1], u[1:], bins=10, range=[[0, 1], [0, 1]])[0]
    assert ((pairs - (N - 1) / 100) ** 2 / ((N - 1) / 100)).sum() < 160


def test_seeds_give_unrelated_streams():
    a, b, c = _uniforms(0, 0), _uniforms(0, 1), _uniforms(0, _random.P**2)
    for x, y in ((a, b), (a, c), (b, c)):
        assert abs(np.corrcoef(x, y)[0, 1]) < 5 / math.sqrt(N)
        assert np.mean(x == y) < 1e-3


def test_consecutive_steps_never_repeat_within_a_digit():
    u = _uniforms(0, 42)
    assert len(np.unique(u)) == N  # d0 enters through a permutation of the residues


def test_normal_quantile_matches_the_normal_distribution():
    q = np.concatenate([np.linspace(-0.4999999, 0.4999999, 2001), [0.0, -0.425, 0.425, 1e-12]])
    got = bind(_random.normal_quantile, NumpyOps)(q)
    ref = np.array([NormalDist().inv_cdf(0.5 + x) for x in q])
    # the oracle rounds 1/2 + q first: compare in probability, where both are accurate
    back = np.array([NormalDist().cdf(z) for z in got]) - 0.5
    np.testing.assert_allclose(back, q, rtol=0, atol=4e-16)
    np.testing.assert_allclose(got, ref, rtol=1e-9, atol=1e-11)  # its rounded 1/2 + q
    assert np.all(np.diff(got[:2001]) > 0)


@pytest.mark.parametrize(("pct", "std"), [(0.67, 1.0), (0.1, 1.0), (0.5, 0.2), (0.9, 3.0)])
def test_truncated_normal_noise_has_the_truncated_normal_moments(pct, std):
    """timm redraws its normal until ``|n| < pct``: the noise has that truncated normal's
    distribution (its variance and its bound)."""
    s = Noise(Constant(1.0), pct=pct, std=std, seed=3)
    n = s.evaluate(np.arange(N), dtype="float64") - 1.0
    assert np.abs(n).max() < pct
    a = pct / std
    z = NormalDist()
    mass = 2 * z.cdf(a) - 1
    variance = std**2 * (1 - 2 * a * z.pdf(a) / mass)
    assert abs(n.mean()) < 5 * math.sqrt(variance / N)
    assert abs(n.var() / variance - 1) < 0.02
    # its CDF at the quartiles of the truncated normal
    for p in (0.25, 0.5, 0.75):
        x = std * z.inv_cdf(0.5 + (p - 0.5) * mass)
        assert abs(np.mean(n <= x) - p) < 5 * math.sqrt(p * (1 - p) / N)


def test_uniform_noise_is_uniform_on_the_interval():
    s = Noise(Constant(2.0), pct=0.3, seed=9, distribution="uniform")
    n = s.evaluate(np.arange(N), dtype="float64") / 2.0 - 1.0
    assert -0.3 < n.min() and n.max() < 0.3
    assert abs(n.var() / (0.6**2 / 12) - 1) < 0.02


def test_noise_is_a_pure_function_of_seed_and_step():
    s = Noise(Constant(1.0), start=10, end=20, seed=5)
    steps = np.array([25, 3, 15, 10, 19, 20, 15], dtype=np.int64)
    got = s.evaluate(steps, dtype="float64")
    again = s.evaluate(steps[::-1], dtype="float64")[::-1]
    np.testing.assert_array_equal(got, again)
    assert got[2] == got[6] != 1.0
    assert got[0] == got[1] == got[5] == 1.0  # outside [start, end)
    other = Noise(Constant(1.0), start=10, end=20, seed=6).evaluate(steps, dtype="float64")
    assert other[2] != got[2]
