"""One spec per registered schedule: everything the registry-wide tests need to know about it.

Each module here mirrors a module of :mod:`fastlr.schedules` (``fastlr/schedules/cosine.py`` ->
``tests/specs/cosine.py``) and defines ``SPECS``, one :class:`Spec` per class, holding:

* ``reference``: the independent per-step oracle, written from the published formula with plain
  ``math`` and ``fractions`` (helpers in :mod:`specs._oracle`; nothing from fastlr);
* ``examples``: hand-picked valid constructor kwargs (``Example(name, i)`` stands for another
  spec's example, e.g. a composite's child);
* ``params``: the :class:`specs._kinds.Kind` of every constructor parameter, hence its valid values
  and the bad values each must refuse (fixed ones for ``test_validation``, random ones for
  ``test_fuzz``); ``valid`` where parameters constrain each other, ``invalid`` and ``cases`` for
  broken cross-parameter constraints and list parameters;
* the model the property tests check: ``bounds`` (the documented range of values), ``phases``
  (where the formula changes piece), and where they apply ``final`` (the value held after the end),
  ``decays_from`` (the step from which it is non-increasing) and ``step_change`` (the largest
  change between consecutive steps the formula allows);
* ``int_rates``: the parameters spelled with integer rates (accepted, stored as floats);
* ``keras_parity``: for the classes that keep a Keras built-in's name, parameter sets compared with
  Keras's own class (``test_keras``).

Every registry-wide test (reference agreement, properties, fuzz, validation, serialization, graph,
bulk, the CUDA simulator) draws from :data:`SPECS`; ``tests/test_specs.py`` fails when a registered
class has no spec, or a constructor parameter no kind. Adding a schedule is its module in
``fastlr/schedules/`` and its spec here.
"""

from __future__ import annotations

import dataclasses
import importlib
import inspect
import math
import pkgutil
from collections.abc import Callable, Iterable
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

from fastlr.schedules import REGISTRY
from specs._kinds import Child, Example, Kind, resolve

MAX_STEP = 2**53 - 1
"""The largest step of the dense and random step draws (past it: :data:`BEYOND_STEPS`)."""
LARGE_STEPS = [
    2**24 - 1,
    2**24,
    2**24 + 1,
    2**31 - 1,
    2**31,
    2**31 + 1,
    2**31 + 7,
    10**9 + 3,
    2**40,
    10**12 + 1,
    2**52,
    2**53 - 1,
]
"""Steps where exactness is most at risk (float32's and int32's limits, large, int64-as-float64's);
periodic and cyclic phases are also looked for next to them."""
SPECIAL_STEPS = [0, 1, 2, *LARGE_STEPS]
BEYOND_STEPS = [2**53, 2**53 + 1, 2**62 - 1, 2**62, 2**62 + 1, 2**63 - 2, 2**63 - 1]
"""Valid int64 steps past 2**53, up to 2**63 - 1."""
TOP = 2**63 - 1


class Invalid(NamedTuple):
    """Constructor kwargs with one problem, the names the message may blame, the exception."""

    cls: str
    kwargs: dict
    names: tuple[str, ...]
    exc: type[Exception]


class Case(NamedTuple):
    """A fixed bad-input case: a spec example (``base``) with ``param`` replaced by ``bad``."""

    cls: str
    param: str
    bad: Any
    exc: type[Exception]
    base: int = 0  # which example to start from
    name: str | None = None  # the name the message must show, if not ``param`` (list elements)
    received: Any = ...  # the value the message must show, if not ``bad`` (list elements)


@dataclasses.dataclass(frozen=True)
class Spec:
    """What the tests know about one schedule class (see the module docstring)."""

    name: str
    reference: Callable[..., float]
    examples: tuple[dict, ...]
    params: dict[str, Kind]
    bounds: Callable[[Any], tuple[float, float]]
    phases: Callable[[Any, Iterable[int]], Iterable]
    int_rates: dict
    keras_parity: tuple[dict, ...] = ()  # kwargs compared with Keras's class of the same name
    valid: Any = None  # a strategy of kwargs, or ``depth -> strategy``; None: from ``params``
    invalid: tuple[Callable[[], Any], ...] = ()  # strategies of Invalid beyond one bad parameter
    cases: tuple[Case, ...] = ()  # fixed bad-input cases beyond ``params``
    final: Callable[[Any], tuple[float, float] | None] | None = None
    decays_from: Callable[[Any], float | None] | None = None
    step_change: Callable[[Any, int], float | None] | None = None
    last_exact_step: Callable[[Any], int] = lambda s: TOP
    within_reach: Callable[[Any], bool] = lambda s: True  # the oracle is cheap at every step

    @property
    def cls(self) -> type:
        return REGISTRY[self.name]


def _discover() -> dict[str, Spec]:
    found: dict[str, Spec] = {}
    for info in pkgutil.iter_modules(__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        for spec in module.SPECS:
            assert spec.name not in found, f"two specs for {spec.name}"
            found[spec.name] = spec
    return dict(sorted(found.items()))


SPECS: dict[str, Spec] = {}
"""Class name -> spec, for every spec module in this package (filled at the end of this
module, once the helpers the spec modules import exist)."""


def spec_of(s) -> Spec:
    return SPECS[type(s).__name__]


# -- examples --------------------------------------------------------------------------------------
def build(value):
    """Turn :class:`Example` / :class:`Child` markers (also inside lists) into schedules."""
    if isinstance(value, Example):
        return REGISTRY[value.name](**example_kwargs(value.name, value.index))
    if isinstance(value, Child):
        return REGISTRY[value.cls](**{k: build(x) for k, x in value.kw.items()})
    if isinstance(value, list) and any(isinstance(x, (Example, Child)) for x in value):
        return [build(x) for x in value]
    return value


def example_kwargs(name: str, i: int) -> dict:
    """Constructor kwargs of example ``i`` of ``name``, children built."""
    return {k: build(x) for k, x in SPECS[name].examples[i].items()}


def build_example(name: str, i: int):
    return build(Example(name, i))


def example_schedules():
    """``pytest.param(schedule, id="Name-i")`` for every spec's every example."""
    import pytest

    return [
        pytest.param(build_example(name, i), id=f"{name}-{i}")
        for name, spec in SPECS.items()
        for i in range(len(spec.examples))
    ]


# -- the model, dispatched on the class ------------------------------------------------------------
def bounds_of(s) -> tuple[float, float]:
    """``[lo, hi]``: the documented range of values of schedule ``s``."""
    return spec_of(s).bounds(s)


def phases_of(s, near: Iterable[int] = LARGE_STEPS) -> set:
    """Real-valued steps where ``s`` changes piece (the first few, and next to ``near``)."""
    return set(spec_of(s).phases(s, near))


def steps_near(s, near: Iterable[int] = LARGE_STEPS, width: int = 1, top: int = TOP) -> set[int]:
    """The integer steps within ``width`` of each phase point of ``s`` (floor and ceil), in
    ``[0, top]``."""
    out: set[int] = set()
    for p in phases_of(s, near):
        if isinstance(p, float) and not math.isfinite(p):
            continue
        if p > top + width + 1:
            continue
        for base in {math.floor(p), math.ceil(p)}:
            out |= {base + d for d in range(-width, width + 1)}
    return {x for x in out if 0 <= x <= top}


def final_of(s) -> tuple[float, float] | None:
    """``(end step, final value)`` of a schedule documented to hold its final value, else None."""
    f = spec_of(s).final
    return None if f is None else f(s)


def decays_from(s) -> float | None:
    """The step from which ``s`` is non-increasing (None: not a decay)."""
    f = spec_of(s).decays_from
    return None if f is None else f(s)


def step_change(s, b: int) -> float | None:
    """A bound on ``|s(b + 1) - s(b)|`` (None: the formula may jump there, or no model)."""
    f = spec_of(s).step_change
    return None if f is None else f(s, b)


def last_exact_step(s) -> int:
    """The largest step up to which ``s`` promises exact values (2**63 - 1 for nearly all)."""
    return spec_of(s).last_exact_step(s)


def within_reach(s) -> bool:
    """Whether the oracle is cheap at every int64 step of ``s`` (children included)."""
    return spec_of(s).within_reach(s) and all(within_reach(c) for c in s.children())


def reference_values(s, steps) -> np.ndarray:
    """The oracle's float64 values of ``s`` at ``steps``."""
    config = {k: v for k, v in s.get_config().items() if k != "name"}
    f = spec_of(s).reference
    return np.array([f(int(x), **config) for x in steps], dtype=np.float64)


def reference_steps(s, dense: int = 301) -> np.ndarray:
    """The steps the oracle is checked at: ``0 .. dense - 1``, :data:`LARGE_STEPS`,
    :data:`BEYOND_STEPS` and the steps around every phase point (near the large steps), up to
    the last exact step."""
    last = last_exact_step(s)
    steps = set(range(dense)) | set(LARGE_STEPS) | set(BEYOND_STEPS) | steps_near(s)
    if last < TOP:
        steps |= {last - 1, last, last + 1}
    return np.array(sorted(x for x in steps if 0 <= x <= last), dtype=np.int64)


# -- valid parameters ------------------------------------------------------------------------------
def _from_params(name: str) -> st.SearchStrategy[dict]:
    sig = inspect.signature(REGISTRY[name].__init__).parameters
    params = SPECS[name].params
    required = {p: params[p].good for p in params if sig[p].default is inspect.Parameter.empty}
    optional = {p: params[p].good for p in params if p not in required}
    return st.fixed_dictionaries(required, optional=optional)


def valid_kwargs(name: str, depth: int = 2) -> st.SearchStrategy[dict]:
    """Valid constructor kwargs of ``name``; a composite's children have < ``depth`` levels."""
    valid = SPECS[name].valid
    if valid is None:
        return _from_params(name)
    return valid(depth) if callable(valid) else valid


def schedules(depth: int = 2, names: tuple[str, ...] | None = None) -> st.SearchStrategy:
    """Schedules of the classes ``names`` (default: all), nested up to ``depth`` composites."""
    names = names or tuple(SPECS)
    if depth <= 0:
        names = tuple(n for n in names if n not in COMPOSITES) or LEAVES
    return st.sampled_from(names).flatmap(
        lambda n: valid_kwargs(n, depth).map(lambda kw: REGISTRY[n](**kw))
    )


_DRAWN: dict[tuple[str, int], list[dict]] = {}


def drawn_kwargs(name: str, n: int) -> list[dict]:
    """``n`` valid kwargs of ``name`` drawn from its spec, the same ones on every run
    (hypothesis, derandomized), each within the oracle's reach at every step: fixed random
    parameter sets for tests that compare many engines on one set (``test_reference``)."""
    key = (name, n)
    if key not in _DRAWN:
        from hypothesis import HealthCheck, Phase, given, settings

        out: list[dict] = []
        strategy = valid_kwargs(name).filter(lambda kw: within_reach(REGISTRY[name](**kw)))

        @settings(
            max_examples=n,
            derandomize=True,
            database=None,
            phases=[Phase.generate],
            suppress_health_check=list(HealthCheck),
            deadline=None,
        )
        @given(strategy)
        def collect(kwargs):
            if len(out) < n:
                out.append(kwargs)

        collect()
        _DRAWN[key] = out
    return _DRAWN[key]


# -- invalid parameters ----------------------------------------------------------------------------
@st.composite
def _break_one(draw, name: str) -> Invalid:
    """Valid kwargs with one parameter replaced by a random bad value of its kind."""
    kinds = {p: k for p, k in SPECS[name].params.items() if k.fuzz is not None}
    kwargs = dict(draw(valid_kwargs(name, depth=1)))
    param = draw(st.sampled_from(sorted(kinds)))
    bad, exc = draw(kinds[param].fuzz)
    kwargs[param] = bad
    return Invalid(name, kwargs, (param,), exc)


def invalid_kwargs(name: str) -> st.SearchStrategy[Invalid]:
    """Random invalid kwargs of ``name``: one parameter out of its kind, or the spec's own
    (cross-parameter constraints, list parameters)."""
    spec = SPECS[name]
    parts = [_break_one(name)] if any(k.fuzz is not None for k in spec.params.values()) else []
    parts += [make() for make in spec.invalid]
    return st.one_of(*parts)


def validation_cases() -> list[Case]:
    """Every fixed bad-input case: each parameter's kind's bad values, then the specs' own."""
    cases = [
        Case(name, param, bad, exc)
        for name, spec in SPECS.items()
        for param, kind in spec.params.items()
        for bad, exc in kind.bad
    ]
    return cases + [c for spec in SPECS.values() for c in spec.cases]


# -- the specs -------------------------------------------------------------------------------------
SPECS.update(_discover())
REFERENCE = {name: spec.reference for name, spec in SPECS.items()}
"""Class name -> reference function ``f(step, **constructor_params)``."""
EXAMPLES = {name: list(spec.examples) for name, spec in SPECS.items()}
"""Class name -> example kwargs (children as :class:`Example` markers)."""
COMPOSITES = tuple(n for n in SPECS if hasattr(REGISTRY[n], "child_step"))
LEAVES = tuple(n for n in SPECS if n not in COMPOSITES)


__all__ = [
    "BEYOND_STEPS",
    "COMPOSITES",
    "EXAMPLES",
    "LARGE_STEPS",
    "LEAVES",
    "MAX_STEP",
    "REFERENCE",
    "SPECIAL_STEPS",
    "SPECS",
    "Case",
    "Invalid",
    "Spec",
    "bounds_of",
    "build",
    "build_example",
    "decays_from",
    "drawn_kwargs",
    "example_kwargs",
    "example_schedules",
    "final_of",
    "invalid_kwargs",
    "last_exact_step",
    "phases_of",
    "reference_steps",
    "reference_values",
    "resolve",
    "schedules",
    "spec_of",
    "step_change",
    "steps_near",
    "valid_kwargs",
    "validation_cases",
    "within_reach",
]
