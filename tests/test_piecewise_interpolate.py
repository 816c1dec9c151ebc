"""PiecewiseInterpolate from its definition: the given value at each point on every engine, a
jump to the later value at a repeated boundary, cosine pieces accurate next to their end, and
optax's one-cycle boundaries (``int(pct * T)``, where ``OneCycle`` peaks a step earlier)."""

from __future__ import annotations

import math

import numpy as np
import pytest
import tensorflow as tf

import fastlr
from fastlr.engines.numpy_ref import reference

POINTS = [0, 3, 3, 10, 2**40, 2**53]
VALUES = [0.1, 0.7, 0.3, 1e-7, 0.05, 0.0123]


def _graph(schedule, steps):
    return schedule(tf.constant(np.asarray(steps, dtype=np.int64))).numpy()


@pytest.mark.parametrize("interpolation", ["linear", "cosine"])
def test_the_given_value_at_each_point_on_every_engine(interpolation):
    s = fastlr.PiecewiseInterpolate(POINTS, VALUES, interpolation)
    steps = np.array([0, 3, 10, 2**40, 2**53, 2**53 + 1, 2**63 - 1], np.int64)
    want = np.array([0.1, 0.3, 1e-7, 0.05, 0.0123, 0.0123, 0.0123])
    np.testing.assert_array_equal(s.evaluate(steps, dtype="float64"), want)
    np.testing.assert_array_equal(reference(s, steps), want)
    np.testing.assert_array_equal(_graph(s, steps), np.float32(want))


def test_a_repeated_boundary_jumps_to_the_later_value():
    s = fastlr.PiecewiseInterpolate([2, 4, 4, 8], [1.0, 3.0, 0.5, 0.0])
    got = s.evaluate(np.arange(10), dtype="float64").tolist()
    assert got == [1.0, 1.0, 1.0, 2.0, 0.5, 0.375, 0.25, 0.125, 0.0, 0.0]
    first = fastlr.PiecewiseInterpolate([2, 2, 6], [1.0, 3.0, 1.0])  # before it: values[0]
    assert first.evaluate([0, 1, 2, 4], dtype="float64").tolist() == [1.0, 1.0, 3.0, 2.0]


def test_a_cosine_piece_is_accurate_next_to_its_end():
    n = 2**40
    s = fastlr.PiecewiseInterpolate([0, n], [1.0, 0.0], "cosine")
    steps = np.array([n - 1, n - 2, 1], np.int64)
    want = [math.sin(math.pi / 2 * k / n) ** 2 for k in (1, 2)] + [math.cos(math.pi / 2 / n) ** 2]
    np.testing.assert_allclose(s.evaluate(steps, dtype="float64"), want, rtol=1e-14)
    np.testing.assert_allclose(_graph(s, steps), np.float32(want), rtol=1e-7)


def test_optax_one_cycle_peaks_at_int_pct_times_total():
    total, peak = 1000, 0.1
    s = fastlr.PiecewiseInterpolate(
        [0, int(0.3 * total), total], [peak / 25, peak, peak / 25 / 1e4], "cosine"
    )
    lr = s.evaluate(np.arange(total + 2), dtype="float64")
    assert int(np.argmax(lr)) == 300 and lr[300] == peak
    torch_like = fastlr.OneCycle(peak, total).evaluate(np.arange(total), dtype="float64")
    assert int(np.argmax(torch_like)) == 299
