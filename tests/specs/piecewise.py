"""Spec of :class:`fastlr.PiecewiseConstantDecay` (Keras's parameters and semantics)."""

from __future__ import annotations

from hypothesis import assume
from hypothesis import strategies as st

from specs import Case, Invalid, Spec, valid_kwargs
from specs._kinds import (
    BAD_ELEMENT,
    INF,
    NAME,
    NAN,
    _bad,
    _with,
    rates,
)
from specs._oracle import as_step


def reference_piecewise_constant_decay(step, *, boundaries, values, name=None):
    """Keras: ``values[0]`` if ``step <= b[0]``; ``values[i]`` if ``b[i-1] < step <= b[i]``;
    ``values[-1]`` if ``step > b[-1]``."""
    s = as_step(step)
    if s <= boundaries[0]:
        return float(values[0])
    if s > boundaries[-1]:
        return float(values[-1])
    for i in range(1, len(boundaries)):
        if boundaries[i - 1] < s <= boundaries[i]:
            return float(values[i])
    raise AssertionError("unreachable")


def _bounds(s) -> tuple[float, float]:
    return min(s.values), max(s.values)  # one of the values


@st.composite
def _valid(draw) -> dict:
    element = st.one_of(
        st.integers(-(10**6), 10**4),
        st.integers(-(2**40), 2**53),
        st.floats(-1e6, 1e6).filter(lambda x: not float(x).is_integer()),
        st.floats(2.0**53, 1e18),
    )
    raw = draw(st.lists(element, min_size=1, max_size=6, unique_by=float))
    bounds = sorted(raw, key=float)
    values = draw(st.lists(rates, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return dict(boundaries=draw(st.sampled_from([list, tuple]))(bounds), values=values)


@st.composite
def _invalid(draw) -> Invalid:
    kw = dict(draw(valid_kwargs("PiecewiseConstantDecay")))
    b, vals = list(kw["boundaries"]), list(kw["values"])
    kind = draw(st.sampled_from(["length", "empty", "order", "boundary", "value", "not_list"]))
    if kind == "length":  # len(values) != len(boundaries) + 1
        n = draw(st.integers(0, 8).filter(lambda n: n != len(b) + 1))
        kw["values"] = (vals * 9)[:n]
        return Invalid("PiecewiseConstantDecay", kw, ("values", "boundaries"), ValueError)
    if kind == "empty":
        kw["boundaries"], kw["values"] = [], vals[:1]
        return Invalid("PiecewiseConstantDecay", kw, ("boundaries",), ValueError)
    if kind == "order":  # not strictly increasing: a duplicate or a swap
        assume(len(b) >= 1)
        if len(b) == 1 or draw(st.booleans()):
            i = draw(st.integers(0, len(b) - 1))
            b.insert(i, b[i])  # a duplicate
        else:
            b.reverse()
        kw["boundaries"], kw["values"] = b, (vals * 9)[: len(b) + 1]
        return Invalid("PiecewiseConstantDecay", kw, ("boundaries",), ValueError)
    if kind == "boundary":  # NaN/inf, a bool or a string, or an int past 2**53
        i = draw(st.integers(0, len(b) - 1))
        bad, exc = draw(
            _bad(
                _with([NAN, INF, -INF, 2**53 + 1, -(2**60)], ValueError),
                _with([True, "100", None, 1 + 0j], TypeError),
            )
        )
        b[i] = bad
        kw["boundaries"] = b
        return Invalid("PiecewiseConstantDecay", kw, (f"boundaries[{i}]",), exc)
    if kind == "value":
        i = draw(st.integers(0, len(vals) - 1))
        bad, exc = draw(BAD_ELEMENT)
        vals[i] = bad
        kw["values"] = vals
        return Invalid("PiecewiseConstantDecay", kw, (f"values[{i}]",), exc)
    param = draw(st.sampled_from(["boundaries", "values"]))
    kw[param] = draw(st.sampled_from([100, 0.1, None, "100,200"]))
    return Invalid("PiecewiseConstantDecay", kw, (param,), TypeError)


_CASES = (
    # wrong lengths (Keras's message; it names both lists)
    Case("PiecewiseConstantDecay", "values", [0.1, 0.01], ValueError),
    Case("PiecewiseConstantDecay", "values", [0.1, 0.01, 0.001, 0.0001], ValueError),
    Case("PiecewiseConstantDecay", "boundaries", [100], ValueError),
    Case("PiecewiseConstantDecay", "boundaries", [], ValueError),
    # unsorted / duplicate boundaries
    Case("PiecewiseConstantDecay", "boundaries", [200, 100], ValueError),
    Case("PiecewiseConstantDecay", "boundaries", [100, 100], ValueError),
    # bad elements: the message names the element
    Case(
        "PiecewiseConstantDecay",
        "values",
        [0.1, -0.01, 0.001],
        ValueError,
        name="values[1]",
        received=-0.01,
    ),
    Case(
        "PiecewiseConstantDecay",
        "values",
        [NAN, 0.01, 0.001],
        ValueError,
        name="values[0]",
        received=NAN,
    ),
    Case(
        "PiecewiseConstantDecay",
        "values",
        [0.1, 0.01, INF],
        ValueError,
        name="values[2]",
        received=INF,
    ),
    Case(
        "PiecewiseConstantDecay",
        "values",
        [0.1, "0.01", 0.001],
        TypeError,
        name="values[1]",
        received="0.01",
    ),
    Case(
        "PiecewiseConstantDecay",
        "values",
        [0.1, None, 0.001],
        TypeError,
        name="values[1]",
        received=None,
    ),
    Case(
        "PiecewiseConstantDecay",
        "boundaries",
        [100, NAN],
        ValueError,
        name="boundaries[1]",
        received=NAN,
    ),
    Case(
        "PiecewiseConstantDecay",
        "boundaries",
        [True, 200],
        TypeError,
        name="boundaries[0]",
        received=True,
    ),
    Case(
        "PiecewiseConstantDecay",
        "boundaries",
        ["100", 200],
        TypeError,
        name="boundaries[0]",
        received="100",
    ),
    # not a list
    Case("PiecewiseConstantDecay", "boundaries", "100", TypeError),
    Case("PiecewiseConstantDecay", "boundaries", 100, TypeError),
    Case("PiecewiseConstantDecay", "boundaries", None, TypeError),
    Case("PiecewiseConstantDecay", "values", "0.1,0.01,0.001", TypeError),
    Case("PiecewiseConstantDecay", "values", 0.1, TypeError),
)

SPECS = (
    Spec(
        "PiecewiseConstantDecay",
        reference=reference_piecewise_constant_decay,
        examples=(
            dict(boundaries=[100, 200], values=[0.1, 0.01, 0.001]),
            dict(boundaries=[5], values=[1.0, 0.5]),
        ),
        keras_parity=(
            dict(boundaries=[500], values=[1.0, 0.5]),
            dict(boundaries=[100, 200, 1000, 1500], values=[1.0, 0.5, 0.25, 0.1, 0.01]),
            dict(boundaries=[0, 1, 2], values=[0.4, 0.3, 0.2, 0.1]),
            dict(boundaries=[10, 20.5, 300], values=[0.3, 0.2, 0.1, 0.05], name="pw"),
        ),
        params={"name": NAME},  # the lists: _invalid and _CASES
        valid=_valid(),
        invalid=(_invalid,),
        cases=_CASES,
        bounds=_bounds,
        phases=lambda s, near: s.boundaries,
        int_rates=dict(boundaries=[100, 200], values=[3, 2, 1]),
        decays_from=lambda s: 0 if list(s.values) == sorted(s.values, reverse=True) else None,
        # a jump at every boundary: no step-change model
    ),
)
