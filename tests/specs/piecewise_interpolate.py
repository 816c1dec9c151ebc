"""Spec of :class:`fastlr.PiecewiseInterpolate` (values at steps, linear or cosine in between)."""

from __future__ import annotations

from fractions import Fraction

import numpy as np
from hypothesis import assume
from hypothesis import strategies as st

from specs import Case, Invalid, Spec, valid_kwargs
from specs._kinds import (
    BAD_ELEMENT,
    INF,
    NAN,
    _bad,
    _with,
    choice,
    counts,
    rates,
)
from specs._oracle import as_step, half_cos
from specs._phases import pieces_change


def reference_piecewise_interpolate(step, *, boundaries, values, interpolation="linear"):
    """``values[0]`` before ``boundaries[0]``, ``values[-1]`` from ``boundaries[-1]`` on; in
    between, from the last boundary ``<= step`` (a repeated boundary: its last value) to the
    next one, ``a + (b - a) * p`` (linear) or ``b + (a - b) * (1 + cos(pi p)) / 2`` (cosine),
    combined exactly in rationals and rounded once."""
    s = as_step(step)
    if s < boundaries[0]:
        return float(values[0])
    if s >= boundaries[-1]:
        return float(values[-1])
    i = max(k for k, b in enumerate(boundaries) if b <= s)
    lo, hi = boundaries[i], boundaries[i + 1]  # lo <= s < hi
    a, b = Fraction(values[i]), Fraction(values[i + 1])
    p = Fraction(s - lo, hi - lo)
    if interpolation == "linear":
        return float(a + (b - a) * p)
    if interpolation == "cosine":
        return float(b + (a - b) * Fraction(half_cos(p)))
    raise ValueError(interpolation)


_BOUNDARY = st.one_of(
    st.integers(0, 20), st.integers(0, 10**4), counts(0), st.just(2**53), st.just(0)
)


@st.composite
def _valid(draw) -> dict:
    raw = draw(st.lists(_BOUNDARY, min_size=1, max_size=6))
    if len(raw) > 1 and draw(st.booleans()):
        raw.append(raw[0])  # a repeated boundary: a jump
    bounds = sorted(raw)
    values = draw(st.lists(rates, min_size=len(bounds), max_size=len(bounds)))
    return dict(
        boundaries=draw(st.sampled_from([list, tuple]))(bounds),
        values=values,
        interpolation=draw(st.sampled_from(["linear", "cosine"])),
    )


@st.composite
def _invalid(draw) -> Invalid:
    kw = dict(draw(valid_kwargs("PiecewiseInterpolate")))
    b, vals = list(kw["boundaries"]), list(kw["values"])
    kind = draw(st.sampled_from(["length", "empty", "order", "boundary", "value", "not_list"]))
    if kind == "length":  # len(values) != len(boundaries)
        n = draw(st.integers(0, 8).filter(lambda n: n != len(b)))
        kw["values"] = (vals * 9)[:n]
        return Invalid("PiecewiseInterpolate", kw, ("values", "boundaries"), ValueError)
    if kind == "empty":
        kw["boundaries"], kw["values"] = [], []
        return Invalid("PiecewiseInterpolate", kw, ("boundaries",), ValueError)
    if kind == "order":  # decreasing somewhere
        assume(len(set(b)) >= 2)
        b.reverse()
        kw["boundaries"] = b
        return Invalid("PiecewiseInterpolate", kw, ("boundaries",), ValueError)
    if kind == "boundary":  # negative or past 2**53; floats, bools, strings
        i = draw(st.integers(0, len(b) - 1))
        bad, exc = draw(
            _bad(
                _with([-1, -(2**60), 2**53 + 1, 2**70], ValueError),
                _with([True, "100", None, 1.0, 2.5, NAN, INF, 1 + 0j], TypeError),
            )
        )
        b[i] = bad
        kw["boundaries"] = b
        return Invalid("PiecewiseInterpolate", kw, (f"boundaries[{i}]", "boundaries"), exc)
    if kind == "value":
        i = draw(st.integers(0, len(vals) - 1))
        bad, exc = draw(BAD_ELEMENT)
        vals[i] = bad
        kw["values"] = vals
        return Invalid("PiecewiseInterpolate", kw, (f"values[{i}]",), exc)
    param = draw(st.sampled_from(["boundaries", "values"]))
    kw[param] = draw(st.sampled_from([100, 0.1, None, "0,100"]))
    return Invalid("PiecewiseInterpolate", kw, (param,), TypeError)


_N = "PiecewiseInterpolate"
_CASES = (
    # wrong lengths
    Case(_N, "values", [1.0, 0.1], ValueError),
    Case(_N, "values", [1.0, 0.1, 0.001, 0.0], ValueError),
    Case(_N, "boundaries", [0, 4], ValueError, name="values", received=[1.0, 0.1, 0.001]),
    Case(_N, "boundaries", [], ValueError),
    # decreasing boundaries (a repeated one is a jump: valid)
    Case(_N, "boundaries", [0, 8, 4], ValueError),
    Case(_N, "boundaries", [8, 4, 0], ValueError),
    # bad elements: the message names the element
    Case(_N, "boundaries", [-1, 4, 8], ValueError, name="boundaries[0]", received=-1),
    Case(_N, "boundaries", [0, 4.0, 8], TypeError, name="boundaries[1]", received=4.0),
    Case(_N, "boundaries", [0, 4, 8.5], TypeError, name="boundaries[2]", received=8.5),
    Case(
        _N,
        "boundaries",
        np.array([0.0, 4.0, 8.0]),
        TypeError,
        name="boundaries[0]",
        received=0.0,
    ),
    Case(_N, "boundaries", [True, 4, 8], TypeError, name="boundaries[0]", received=True),
    Case(_N, "boundaries", [0, "4", 8], TypeError, name="boundaries[1]", received="4"),
    Case(_N, "boundaries", [0, 4, None], TypeError, name="boundaries[2]", received=None),
    Case(_N, "boundaries", [0, 4, 2**53 + 1], ValueError, name="boundaries[2]", received=2**53 + 1),
    Case(_N, "values", [1.0, -0.1, 0.001], ValueError, name="values[1]", received=-0.1),
    Case(_N, "values", [NAN, 0.1, 0.001], ValueError, name="values[0]", received=NAN),
    Case(_N, "values", [1.0, 0.1, INF], ValueError, name="values[2]", received=INF),
    Case(_N, "values", [1.0, "0.1", 0.001], TypeError, name="values[1]", received="0.1"),
    Case(_N, "values", [1.0, None, 0.001], TypeError, name="values[1]", received=None),
    # not a list
    Case(_N, "boundaries", "0,4,8", TypeError),
    Case(_N, "boundaries", 4, TypeError),
    Case(_N, "boundaries", None, TypeError),
    Case(_N, "values", "1.0,0.1,0.001", TypeError),
    Case(_N, "values", 0.1, TypeError),
)


def _kind(s) -> str:
    return "lin" if s.interpolation == "linear" else "cos"


def _pieces(s) -> list[tuple]:
    b, v = s.boundaries, s.values
    return [(b[i], b[i + 1], _kind(s), abs(v[i + 1] - v[i])) for i in range(len(b) - 1)]


def _phases(s, near):
    """The points, and the middle of each piece (where the formula turns to the nearer end)."""
    b = s.boundaries
    mids = (Fraction(b[i] + b[i + 1], 2) for i in range(len(b) - 1))
    return {*b, *(float(m) for m in mids)}


SPECS = (
    Spec(
        _N,
        reference=reference_piecewise_interpolate,
        examples=(
            dict(boundaries=[0, 4, 8], values=[1.0, 0.1, 0.001]),
            dict(boundaries=[0, 300, 1000], values=[0.004, 0.1, 4e-7], interpolation="cosine"),
            dict(boundaries=[5, 5, 20, 20, 31], values=[0.5, 1.0, 0.2, 0.3, 0.0]),
            dict(boundaries=[7], values=[0.01]),
        ),
        params={"interpolation": choice(("linear", "cosine"), "cos", "Linear")},  # lists: below
        valid=_valid(),
        invalid=(_invalid,),
        cases=_CASES,
        bounds=lambda s: (min(s.values), max(s.values)),  # between two of the values
        phases=_phases,
        int_rates=dict(boundaries=[0, 10, 20], values=[3, 1, 0], interpolation="cosine"),
        final=lambda s: (s.boundaries[-1], s.values[-1]),
        decays_from=lambda s: 0 if list(s.values) == sorted(s.values, reverse=True) else None,
        step_change=lambda s, b: pieces_change(_pieces(s), b),  # None at a jump
    ),
)
