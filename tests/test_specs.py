"""The specs themselves: one per registered class, next to its schedule's module, consistent.

Every registry-wide test draws from ``tests/specs`` (see its docstring); these checks make a new
schedule without a spec, or a spec that contradicts itself, fail here first.
"""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from specs import SPECS, bounds_of, build_example, phases_of, reference_values, spec_of

from fastlr.schedules import KERAS_NAMED, REGISTRY


def test_every_registered_class_has_a_spec():
    missing = sorted(set(REGISTRY) - set(SPECS))
    assert not missing, f"add a spec in tests/specs/ for {missing}"
    assert set(SPECS) == set(REGISTRY), sorted(set(SPECS) - set(REGISTRY))


@pytest.mark.parametrize("name", sorted(SPECS))
def test_a_spec_mirrors_its_schedule_module(name):
    """``fastlr/schedules/<module>.py`` -> ``tests/specs/<module>.py``."""
    assert (
        SPECS[name].reference.__module__.split(".")[-1]
        == (REGISTRY[name].__module__.split(".")[-1])
    )


@pytest.mark.parametrize("name", sorted(SPECS))
def test_every_constructor_parameter_has_a_kind_or_a_case(name):
    spec = SPECS[name]
    params = list(inspect.signature(REGISTRY[name].__init__).parameters)[1:]
    covered = set(spec.params) | {c.param for c in spec.cases}
    assert set(params) <= covered, sorted(set(params) - covered)
    assert set(spec.params) <= set(params), sorted(set(spec.params) - set(params))


def _fastlr_names(fn, seen=None) -> set[str]:
    """The fastlr objects a function reaches through its globals (helpers followed)."""
    seen = set() if seen is None else seen
    found = set()
    for name in fn.__code__.co_names:
        obj = fn.__globals__.get(name)
        module = getattr(obj, "__module__", "") or getattr(obj, "__name__", "")
        if module.startswith("fastlr"):
            found.add(f"{fn.__name__} -> {name}")
        elif inspect.isfunction(obj) and obj not in seen:
            seen.add(obj)
            found |= _fastlr_names(obj, seen)
    return found


@pytest.mark.parametrize("name", sorted(SPECS))
def test_references_are_independent_of_fastlr(name):
    """The oracle is written from the published formula: no fastlr code in reach."""
    assert not _fastlr_names(SPECS[name].reference)


@pytest.mark.parametrize("name", sorted(SPECS))
def test_examples_lie_within_their_bounds(name):
    """The oracle's values of every example, over its first steps and around its phases, are
    inside the spec's documented bounds (the model and the oracle agree)."""
    spec = SPECS[name]
    for i in range(len(spec.examples)):
        s = build_example(name, i)
        assert spec_of(s) is spec
        lo, hi = bounds_of(s)
        near = [int(p) for p in phases_of(s) if 0 <= p < 10**6]
        steps = sorted(set(range(64)) | set(near) | {p + 1 for p in near})
        v = reference_values(s, steps)
        slack = 1e-12 * max(abs(lo), abs(hi))
        assert np.all((v >= lo - slack) & (v <= hi + slack)), (s, lo, hi, v.min(), v.max())


def test_keras_named_specs_carry_their_parity_sets():
    """The classes that keep a Keras built-in's name are compared with it (``test_keras``)."""
    assert {n for n, spec in SPECS.items() if spec.keras_parity} == set(KERAS_NAMED)
