"""Constructor validation: every parameter of every schedule refuses bad input, Keras-style.

The cases are data: ``(class name, parameter, bad value, exception type)``, built from per-kind
lists of bad values plus cross-parameter constraints. Each case starts from a valid ``EXAMPLES``
entry, replaces one parameter, and requires the exception type and a message naming the parameter
in backticks and the received value's ``repr``. A coverage test fails the suite when a constructor
gains a parameter without a bad-input case.
"""

from __future__ import annotations

import inspect
import math
from typing import Any

import numpy as np
import pytest
from specs import SPECS, build_example, example_kwargs, validation_cases
from specs._kinds import Child, Custom, KerasBuiltin, resolve

from fastlr.schedules import KERAS_NAMED, REGISTRY, Schedule

NAN = float("nan")
INF = float("inf")
CASES = validation_cases()
"""Every parameter's kind's bad values (``specs.<module>.SPECS[...].params``) and each spec's own
cases (cross-parameter constraints, list parameters)."""


def _short(value: Any) -> str:
    """A test id: the ``repr``, shortened for schedules and objects shown with an address."""
    if isinstance(value, list) and any(
        isinstance(x, (Schedule, KerasBuiltin, Custom)) for x in value
    ):
        return "[" + ", ".join(_short(x) for x in value) + "]"
    if isinstance(value, Schedule):
        return f"{type(value).__name__}(...)"
    text = repr(value)
    if " at 0x" in text:
        return type(value).__name__
    return text


def _case_id(case) -> str:
    bad = case.bad if isinstance(case.bad, (KerasBuiltin, Custom)) else resolve(case.bad)
    return f"{case.cls}-{case.param}={_short(bad)}"


def _kwargs(case) -> dict:
    return {**example_kwargs(case.cls, case.base), case.param: resolve(case.bad)}


@pytest.mark.parametrize("case", CASES, ids=[_case_id(c) for c in CASES])
def test_bad_parameter_is_refused_with_a_keras_style_message(case):
    cls = REGISTRY[case.cls]
    with pytest.raises(case.exc) as info:
        cls(**_kwargs(case))
    message = str(info.value)
    name = case.name or case.param
    received = resolve(case.bad if case.received is ... else case.received)
    assert f"`{name}`" in message, f"message does not name `{name}`: {message!r}"
    assert repr(received) in message, (
        f"message does not show the received value {received!r}: {message!r}"
    )
    # Never the wrong exception family (e.g. a bare TypeError from arithmetic on a string).
    assert type(info.value) is case.exc


def test_every_constructor_parameter_has_a_bad_input_case():
    covered = {(c.cls, c.param) for c in CASES}
    missing = []
    for cls_name, cls in REGISTRY.items():
        for p in list(inspect.signature(cls.__init__).parameters)[1:]:
            if (cls_name, p) not in covered:
                missing.append(f"{cls_name}.{p}")
    assert not missing, f"parameters without a bad-input case: {missing}"
    # Keras's ``name`` needs (and has) a non-string case wherever it exists.
    for cls_name in KERAS_NAMED:
        assert any(
            c.cls == cls_name and c.param == "name" and not isinstance(c.bad, str) for c in CASES
        )


def test_every_registered_class_has_cases():
    assert {c.cls for c in CASES} == set(REGISTRY)


def test_examples_are_valid():
    for name, spec in SPECS.items():
        for i in range(len(spec.examples)):
            s = REGISTRY[name](**example_kwargs(name, i))
            assert s == build_example(name, i)


def test_cross_cases_are_valid_without_the_bad_value():
    """The specs' own cases start from valid parameters (the bad value alone breaks them)."""
    for spec in SPECS.values():
        for case in spec.cases:
            REGISTRY[case.cls](**example_kwargs(case.cls, case.base))


@pytest.mark.parametrize("name", KERAS_NAMED)
@pytest.mark.parametrize("composite", ["Warmup", "Offset", "Scale", "Sequential"])
def test_keras_builtin_children_are_refused_with_a_pointer_to_the_drop_in(composite, name):
    """A Keras built-in child names the fastlr class with the same parameters, which works."""
    import fastlr

    builtin = resolve(KerasBuiltin(name))
    kw = example_kwargs(composite, 0)
    if composite == "Sequential":
        kw["schedules"] = [kw["schedules"][0], builtin, kw["schedules"][2]]
        param = "schedules[1]"
    else:
        kw["schedule"] = builtin
        param = "schedule"
    with pytest.raises(TypeError) as info:
        REGISTRY[composite](**kw)
    message = str(info.value)
    assert f"Argument `{param}` must be a fastlr schedule" in message, message
    assert f"`fastlr.{name}`" in message, message
    assert repr(builtin) in message, message
    # The drop-in takes Keras's config as is, and is accepted as a child.
    drop_in = getattr(fastlr, name)(**builtin.get_config())
    if composite == "Sequential":
        kw["schedules"][1] = drop_in
    else:
        kw["schedule"] = drop_in
    s = REGISTRY[composite](**kw)
    assert drop_in in s.children()


def test_other_children_are_refused_without_a_keras_hint():
    """Only Keras built-ins get the drop-in hint (a user's own schedule has no fastlr twin)."""
    for bad in (resolve(Custom()), 0.1, None, REGISTRY["CosineDecay"]):
        with pytest.raises(TypeError) as info:
            REGISTRY["Warmup"](bad, 10)
        assert "drop-in" not in str(info.value) and "built-in" not in str(info.value), info.value


@pytest.mark.parametrize(
    ("values", "index"), [([0.1, -0.01], 1), ([NAN, 0.1], 0), ([0.1, 0.2, INF], 2)]
)
def test_table_messages_name_the_bad_element(values, index):
    with pytest.raises(ValueError) as info:
        REGISTRY["Table"](values)
    assert f"values[{index}]=" in str(info.value), info.value


# -- what must be accepted ------------------------------------------------------------------------
KERAS_FLOAT_STEPS = [
    ("ExponentialDecay", {"decay_steps": 1e3}, {"decay_steps": 1000}),
    ("InverseTimeDecay", {"decay_steps": 1e3}, {"decay_steps": 1000}),
    ("PolynomialDecay", {"decay_steps": 1e3}, {"decay_steps": 1000}),
    ("CosineDecay", {"decay_steps": 1e3}, {"decay_steps": 1000}),
    ("CosineDecay", {"decay_steps": 1e3, "warmup_steps": 10.0}, {"decay_steps": 1000}),
    ("CosineDecayRestarts", {"first_decay_steps": 1e3}, {"first_decay_steps": 1000}),
    ("ExponentialDecay", {"decay_steps": 2.5}, {"decay_steps": 2.5}),
    ("PolynomialDecay", {"decay_steps": np.float32(100.0)}, {"decay_steps": 100}),
    (
        "CosineDecay",
        {"decay_steps": 100, "warmup_target": 0.1, "warmup_steps": 7.5},
        {"warmup_steps": 7.5},
    ),
    ("PiecewiseConstantDecay", {"boundaries": [100.0, 200.5]}, {"boundaries": (100, 200.5)}),
]


@pytest.mark.parametrize(("cls_name", "override", "stored"), KERAS_FLOAT_STEPS)
def test_keras_named_classes_accept_float_step_counts(cls_name, override, stored):
    s = REGISTRY[cls_name](**{**example_kwargs(cls_name, 0), **override})
    for key, value in stored.items():
        got = getattr(s, key)
        assert got == value
        # Integral floats become ints so phase arithmetic stays exact.
        if isinstance(value, int):
            assert type(got) is int
        elif isinstance(value, tuple):
            assert [type(x) for x in got] == [type(x) for x in value]
    values = s.evaluate([0, 1, 7, 100, 1000, 10**6], dtype="float64")
    assert np.isfinite(values).all()


def test_keras_float_step_counts_equal_their_int_counterparts():
    a = REGISTRY["CosineDecay"](0.1, 1e3, alpha=0.1)
    b = REGISTRY["CosineDecay"](0.1, 1000, alpha=0.1)
    assert a == b
    steps = np.arange(0, 2000, 7)
    np.testing.assert_array_equal(
        a.evaluate(steps, dtype="float64"), b.evaluate(steps, dtype="float64")
    )


@pytest.mark.parametrize(
    "spelling",
    [
        dict(step_size=128.0),
        dict(step_size=np.float64(128.0)),
        dict(step_size=np.float32(128.0)),
        dict(step_size=128.0, step_size_down=None),
    ],
)
def test_cyclical_whole_float_step_size_equals_the_int(spelling):
    """keras-contrib's ``CyclicLR`` callback passes ``step_size=128.0``: a whole-number float is
    the int (same config, same values); ``128.5`` stays refused (test_bad_parameter_...)."""
    a = REGISTRY["CyclicalLearningRate"](1e-3, 6e-3, mode="triangular2", **spelling)
    b = REGISTRY["CyclicalLearningRate"](1e-3, 6e-3, step_size=128, mode="triangular2")
    assert a == b and a.get_config() == b.get_config()
    assert type(a.step_size) is int and type(a.get_config()["step_size"]) is int
    steps = [0, 1, 127, 128, 129, 255, 256, 257, 10**6 + 1, 2**40 + 3]
    np.testing.assert_array_equal(
        a.evaluate(steps, dtype="float64"), b.evaluate(steps, dtype="float64")
    )
    c = REGISTRY["CyclicalLearningRate"](1e-3, 6e-3, step_size=128.0, step_size_down=64.0)
    assert c == REGISTRY["CyclicalLearningRate"](1e-3, 6e-3, step_size=128, step_size_down=64)
    assert type(c.step_size_down) is int
    with pytest.raises(TypeError, match=r"`step_size` must be an integer.*128\.5"):
        REGISTRY["CyclicalLearningRate"](1e-3, 6e-3, step_size=128.5)


INT_RATES = {name: spec.int_rates for name, spec in SPECS.items()}
"""Every class's parameters spelled with integer rates (children as :class:`Child` markers)."""


REAL_PARAMS = {p for spec in SPECS.values() for p, kind in spec.params.items() if kind.real}
"""The real-valued parameters (their kind's ``real``): an int is accepted, stored as a float."""


def _spell(kw: dict, floats: bool) -> dict:
    """Constructor kwargs with children built, rates as written (or as floats)."""
    out = {}
    for k, v in kw.items():
        if isinstance(v, Child):
            v = REGISTRY[v.cls](**_spell(v.kw, floats))
        elif isinstance(v, list) and v and isinstance(v[0], Child):
            v = [REGISTRY[c.cls](**_spell(c.kw, floats)) for c in v]
        elif floats and k == "values":
            v = [float(x) for x in v]
        elif floats and k in REAL_PARAMS:
            v = float(v)
        out[k] = v
    return out


def _int_rates(kw: dict) -> list[str]:
    """The rates written as ints anywhere in ``kw`` (children included)."""
    found = []
    for k, v in kw.items():
        children = [v] if isinstance(v, Child) else v if isinstance(v, list) else []
        for c in children:
            if isinstance(c, Child):
                found += [f"{c.cls}.{x}" for x in _int_rates(c.kw)]
        if k in REAL_PARAMS and type(v) is int:
            found.append(k)
        if k == "values" and any(type(x) is int for x in v):
            found.append(k)
    return found


def _assert_rates_stored_as_floats(s, kw: dict) -> None:
    config = s.get_config()
    for k, v in kw.items():
        if isinstance(v, Child):
            _assert_rates_stored_as_floats(getattr(s, k), v.kw)
        elif isinstance(v, list) and v and isinstance(v[0], Child):
            for child, spec in zip(getattr(s, k), v, strict=True):
                _assert_rates_stored_as_floats(child, spec.kw)
        elif k in REAL_PARAMS and v is not None:
            assert type(getattr(s, k)) is float and type(config[k]) is float, (s, k, config[k])
        elif k == "values":
            assert all(type(x) is float for x in config[k]), (s, k, config[k])


@pytest.mark.parametrize("cls_name", sorted(REGISTRY))
def test_integer_learning_rates_are_accepted(cls_name):
    kw = INT_RATES[cls_name]
    assert _int_rates(kw), kw  # an integer rate somewhere (own parameter or a child's)
    s = REGISTRY[cls_name](**_spell(kw, floats=False))
    t = REGISTRY[cls_name](**_spell(kw, floats=True))
    assert s == t
    steps = np.array([0, 1, 5, 10, 99, 100, 150, 201, 10**6])
    np.testing.assert_array_equal(
        s.evaluate(steps, dtype="float64"), t.evaluate(steps, dtype="float64")
    )
    # Rates are stored as plain floats (serializable, same config as the float spelling).
    _assert_rates_stored_as_floats(s, kw)
    assert s.get_config() == t.get_config()


def test_numpy_scalars_are_accepted_and_normalized():
    s = REGISTRY["WarmupCosineDecay"](
        np.float32(0.5), np.int64(100), warmup_steps=np.int32(10), min_lr=np.float64(0.0)
    )
    assert type(s.total_steps) is int and s.total_steps == 100
    assert type(s.warmup_steps) is int
    assert type(s.target_lr) is float
    p = REGISTRY["PiecewiseConstantDecay"](np.array([10, 20]), np.array([0.3, 0.2, 0.1]))
    assert p.boundaries == (10, 20) and p.values == (0.3, 0.2, 0.1)


@pytest.mark.parametrize(
    ("cls_name", "param"),
    [
        ("OneCycle", "three_phase"),
        ("ExponentialDecay", "staircase"),
        ("PolynomialDecay", "cycle"),
        ("WarmupCosineRestarts", "scale_warmup"),
    ],
)
def test_numpy_bools_are_accepted(cls_name, param):
    """``_validate.flag`` documents "Python or NumPy bool" (``np.bool_``, ``np.True_``)."""
    s = REGISTRY[cls_name](**{**example_kwargs(cls_name, 0), param: np.bool_(True)})
    assert getattr(s, param) is True


def test_bounds_are_inclusive_where_documented():
    """Edge values the docstrings allow are accepted."""
    ok = [
        ("ExponentialDecay", dict(decay_rate=1.0)),
        ("CosineDecay", dict(alpha=0.0)),
        ("CosineDecay", dict(alpha=1.0)),
        ("CosineDecayRestarts", dict(t_mul=1.0, alpha=1.0)),
        ("CosineDecayRestarts", dict(t_mul=2.0**53, first_decay_steps=2.0**-53)),
        ("WarmupCosineRestarts", dict(cycle_mult=2.0**53)),
        ("CosineDecay", dict(decay_steps=2.0**-53)),
        ("WarmupCosineRestarts", dict(cycle_mult=1.0, gamma=1.0, min_lr=1.0, warmup_steps=9)),
        ("WarmupCosineDecay", dict(warmup_steps=95, hold_steps=5, min_lr=0.1)),
        ("WarmupStableDecay", dict(warmup_steps=80, decay_steps=20, min_lr=1.0)),
        ("CyclicalLearningRate", dict(maximal_learning_rate=0.1, gamma=1.0)),
        ("OneCycle", dict(pct_start=0.011)),
        ("InverseSqrtDecay", dict(warmup_steps=0)),
        ("InverseTimeDecay", dict(decay_rate=0.0)),
    ]
    for cls_name, override in ok:
        s = REGISTRY[cls_name](**{**example_kwargs(cls_name, 0), **override})
        values = s.evaluate([0, 1, 50, 99, 100, 101, 10**9], dtype="float64")
        assert np.isfinite(values).all(), (cls_name, override, values)


def test_schedules_are_immutable():
    s = REGISTRY["OneCycle"](**example_kwargs("OneCycle", 0))
    with pytest.raises(AttributeError, match="immutable"):
        s.total_steps = 10
    assert s.total_steps == 100
    assert math.isclose(s.evaluate([0], dtype="float64")[0], 1.0 / 25.0)


def test_composite_inputs_are_normalized():
    """Tuples, NumPy arrays and NumPy scalars are accepted and stored as plain Python values."""
    a, b = REGISTRY["Constant"](0.1), REGISTRY["CosineDecay"](0.1, 100)
    s = REGISTRY["Sequential"]((a, b, a), np.array([10, 110], dtype=np.int32))
    assert s.schedules == (a, b, a) and s.boundaries == (10, 110)
    assert all(type(x) is int for x in s.boundaries)
    assert s == REGISTRY["Sequential"]([a, b, a], [np.int64(10), np.uint16(110)])
    t = REGISTRY["Table"](np.array([0.5, 0.25, 1], dtype=np.float32))
    assert t.values == (0.5, 0.25, 1.0) and all(type(x) is float for x in t.values)
    assert t == REGISTRY["Table"]((0.5, 0.25, 1)) == REGISTRY["Table"]([np.float64(0.5), 0.25, 1])
    w = REGISTRY["Warmup"](b, np.int32(5), start_lr=np.float32(0.5))
    assert type(w.warmup_steps) is int and type(w.start_lr) is float and w.start_lr == 0.5
    o = REGISTRY["Offset"](b, np.int64(7))
    assert type(o.offset) is int and o.offset == 7


def test_composite_bounds_are_inclusive_where_documented():
    """``warmup_steps=0``, ``offset=0`` and a single schedule without boundaries are the child
    itself; ``start_lr=0``, a one-value table and a zero rate are valid."""
    child = build_example("WarmupCosineRestarts", 0)
    steps = np.array([0, 1, 2, 9, 10, 11, 100, 2**31 + 7, 2**53 - 1])
    want = child.evaluate(steps, dtype="float64")
    for s in (
        REGISTRY["Warmup"](child, 0),
        REGISTRY["Warmup"](child, warmup_steps=0, start_lr=0.0),
        REGISTRY["Offset"](child, 0),
        REGISTRY["Sequential"]([child], []),
    ):
        np.testing.assert_array_equal(s.evaluate(steps, dtype="float64"), want, err_msg=repr(s))
    assert REGISTRY["Sequential"]([child], boundaries=()).boundaries == ()
    one = REGISTRY["Table"]([0.0])
    np.testing.assert_array_equal(one.evaluate(steps, dtype="float64"), np.zeros(len(steps)))
    big = REGISTRY["Offset"](child, 2**53)  # the largest integer parameter
    assert np.isfinite(big.evaluate([0, 1, 2**40], dtype="float64")).all()
