"""Spec of :class:`fastlr.Table` (precomputed values, the last one held)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from specs import Invalid, Spec
from specs._kinds import (
    INF,
    NAN,
    Kind,
    _bad,
    _bad_element,
    _negative,
    _non_finite,
    _table_values,
    rates,
)
from specs._oracle import as_step


def reference_table(step, *, values):
    """``values[min(step, len(values) - 1)]``."""
    return float(values[min(as_step(step), len(values) - 1)])


_BAD_VALUES = (  # a non-empty list or 1-D array of finite rates >= 0
    ([], ValueError),
    ((), ValueError),
    (np.array([]), ValueError),
    ([0.1, -0.01], ValueError),
    ([-1], ValueError),
    ([0.1, NAN], ValueError),
    ([INF], ValueError),
    ([0.1, 0.05, -INF], ValueError),
    (np.array([0.1, np.nan]), ValueError),
    (np.array([0.1, -0.5], dtype=np.float32), ValueError),
    (np.array([[0.1, 0.2], [0.3, 0.4]]), ValueError),  # 2-D
    (np.array([[0.1]]), ValueError),
    (np.array(0.1), ValueError),  # 0-D
    # Elements that are not real numbers: a type error, as for every other rate (and for the
    # elements of PiecewiseConstantDecay's ``values``).
    ([0.1, "0.05"], TypeError),
    (np.array(["0.1", "0.05"]), TypeError),
    ([0.1, None], TypeError),
    ([True, 0.1], TypeError),
    ([0.1, 1 + 0j], TypeError),
    ([[0.1, 0.2]], TypeError),  # a nested list
    # not a list
    ("0.1, 0.05", TypeError),
    (0.1, TypeError),
    (None, TypeError),
)


@st.composite
def _invalid(draw) -> Invalid:
    kind = draw(st.sampled_from(["empty", "element", "type", "2d", "not_list"]))
    if kind == "empty":
        empty = draw(st.sampled_from([[], (), np.array([])]))
        return Invalid("Table", {"values": empty}, ("values",), ValueError)
    if kind == "2d":
        shape = draw(st.sampled_from([(1, 1), (2, 2), (3, 1), ()]))
        return Invalid("Table", {"values": np.full(shape, 0.1)}, ("values",), ValueError)
    if kind == "not_list":
        bad = draw(st.sampled_from([0.1, None, "0.1, 0.05", 3]))
        return Invalid("Table", {"values": bad}, ("values",), TypeError)
    values = list(draw(st.lists(rates, min_size=1, max_size=10)))
    i = draw(st.integers(0, len(values)))
    bad, exc = draw(_bad(_non_finite, _negative) if kind == "element" else _bad_element)
    values.insert(i, bad)
    if draw(st.booleans()) and exc is ValueError:
        values = np.array(values, dtype=np.float64)  # (float32 would round -1e-300 to -0.0)
    return Invalid("Table", {"values": values}, ("values",), exc)


def _step_change(s, b: int) -> float:
    last = len(s.values) - 1
    return abs(s.values[min(b + 1, last)] - s.values[min(b, last)])


SPECS = (
    Spec(
        "Table",
        reference=reference_table,
        examples=(
            dict(values=[0.1, 0.05, 0.02]),
            dict(values=[1e-3 * (1 + (i % 7)) for i in range(50)]),
        ),
        # a non-empty list or 1-D array of finite rates >= 0 (random bad ones: _invalid)
        params={"values": Kind(_table_values, _BAD_VALUES)},
        invalid=(_invalid,),
        bounds=lambda s: (min(s.values), max(s.values)),  # one of the values
        phases=lambda s, near: (len(s.values) - 1, len(s.values)),
        int_rates=dict(values=[3, 2, 1, 0]),
        final=lambda s: (len(s.values) - 1, s.values[-1]),
        decays_from=lambda s: 0 if list(s.values) == sorted(s.values, reverse=True) else None,
        step_change=_step_change,
    ),
)
