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
from typing import Any, NamedTuple

import numpy as np
import pytest
from conftest import EXAMPLES, build_example, example_kwargs

from fastlr.schedules import KERAS_NAMED, REGISTRY, Schedule

NAN = float("nan")
INF = float("inf")


class Case(NamedTuple):
    cls: str
    param: str
    bad: Any
    exc: type[Exception]
    base: int = 0  # which EXAMPLES entry to start from
    name: str | None = None  # the name the message must show, if not ``param`` (list elements)
    received: Any = ...  # the value the message must show, if not ``bad`` (list elements)


# -- bad values per kind of parameter ----------------------------------------------------------
RATE = [  # a learning rate, finite and >= 0
    (-0.1, ValueError),
    (-1, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    (-INF, ValueError),
    (np.float32("nan"), ValueError),
    ("0.1", TypeError),
    (True, TypeError),
    (None, TypeError),
    ([0.1], TypeError),
    (1 + 0j, TypeError),
]
POSITIVE_RATE = [*RATE, (0.0, ValueError), (0, ValueError)]
OPTIONAL_RATE = [(b, e) for b, e in RATE if b is not None]  # ``None`` is meaningful there
COUNT = [  # fastlr's own integer lengths, > 0: Python/NumPy ints only
    (0, ValueError),
    (-1, ValueError),
    (True, TypeError),
    (False, TypeError),
    (10.5, TypeError),
    (10.0, TypeError),
    (np.float64(10.0), TypeError),
    ("10", TypeError),
    (None, TypeError),
    (NAN, TypeError),
    (2**53 + 1, ValueError),
]
OPTIONAL_COUNT = [(b, e) for b, e in COUNT if b is not None]
NONNEG_COUNT = [  # fastlr's own integer lengths, >= 0
    (-1, ValueError),
    (True, TypeError),
    (2.0, TypeError),
    (2.5, TypeError),
    ("2", TypeError),
    (None, TypeError),
    (-(2**60), ValueError),
]
KERAS_STEPS = [  # Keras's int-or-float step counts, > 0
    (0, ValueError),
    (0.0, ValueError),
    (-1, ValueError),
    (-0.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    (True, TypeError),
    ("100", TypeError),
    (None, TypeError),
    (2**53 + 1, ValueError),
    # Shorter than 2**-53: overflows `step / decay_steps` at large steps (found by test_fuzz).
    (1e-300, ValueError),
    (2.0**-54, ValueError),
]
KERAS_NONNEG_STEPS = [
    (-1, ValueError),
    (-0.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    (True, TypeError),
    ("10", TypeError),
    (None, TypeError),
]
FLAG = [("yes", TypeError), (1, TypeError), (0, TypeError), (None, TypeError), (1.0, TypeError)]
NAME = [(123, TypeError), (None, TypeError), (b"name", TypeError)]
UNIT = [  # in [0, 1]
    (-0.1, ValueError),
    (1.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("0.5", TypeError),
    (True, TypeError),
    (None, TypeError),
]
OPEN_UNIT = [  # in (0, 1]: decay rates and gammas
    (0, ValueError),
    (0.0, ValueError),
    (-0.5, ValueError),
    (1.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("0.5", TypeError),
    (True, TypeError),
    (None, TypeError),
]
MULT = [  # cycle multipliers, in [1, 2**53]
    (0.5, ValueError),
    (0.999, ValueError),
    (0.0, ValueError),
    (-1.0, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("2", TypeError),
    (True, TypeError),
    (None, TypeError),
    # Above 2**53: the cycle arithmetic overflows (found by test_fuzz).
    (2.0**53 + 2, ValueError),
    (1e300, ValueError),
]
POSITIVE = [  # a real > 0
    (0, ValueError),
    (0.0, ValueError),
    (-1.0, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]
NONNEG = [
    (-0.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]
PCT = [  # in (0, 1)
    (0.0, ValueError),
    (1.0, ValueError),
    (-0.1, ValueError),
    (1.5, ValueError),
    (NAN, ValueError),
    ("0.3", TypeError),
    (True, TypeError),
    (None, TypeError),
]


# -- composites: children and tables --------------------------------------------------------------
class KerasBuiltin(NamedTuple):
    """A Keras built-in schedule, made on first use (this module stays free of TensorFlow)."""

    name: str

    def __repr__(self) -> str:
        return f"keras.{self.name}"


class Custom(NamedTuple):
    """A user's own ``keras.optimizers.schedules.LearningRateSchedule`` subclass (not Keras's)."""

    def __repr__(self) -> str:
        return "Custom()"


_RESOLVED: dict[Any, Any] = {}


def resolve(value: Any) -> Any:
    """Turn :class:`KerasBuiltin` / :class:`Custom` markers (also inside lists) into objects.

    The same marker always gives the same object, so its ``repr`` (with its address) is stable.
    """
    if isinstance(value, list):
        return [resolve(x) for x in value]
    if not isinstance(value, (KerasBuiltin, Custom)):
        return value
    if value not in _RESOLVED:
        import keras

        if isinstance(value, Custom):

            class MySchedule(keras.optimizers.schedules.LearningRateSchedule):
                def __call__(self, step):
                    return 0.1

            _RESOLVED[value] = MySchedule()
        else:
            kw = dict(EXAMPLES[value.name][0])  # the Keras-named examples are Keras's parameters
            _RESOLVED[value] = getattr(keras.optimizers.schedules, value.name)(**kw)
    return _RESOLVED[value]


CHILD = [  # a child schedule: fastlr schedules only (instances, not classes or configs)
    (KerasBuiltin("CosineDecay"), TypeError),
    (KerasBuiltin("PiecewiseConstantDecay"), TypeError),
    (Custom(), TypeError),
    (0.1, TypeError),
    (1, TypeError),
    (None, TypeError),
    ("CosineDecay", TypeError),
    (REGISTRY["CosineDecay"], TypeError),  # the class
    (lambda step: 0.1, TypeError),
    ({"class_name": "Constant", "config": {"learning_rate": 0.1}}, TypeError),  # a config
    ([build_example("Constant", 0)], TypeError),  # a list of one schedule
]
OFFSET = [  # int >= 0
    *NONNEG_COUNT,
    (np.float64(3.0), TypeError),
    (NAN, TypeError),
    (False, TypeError),
    (2**53 + 1, ValueError),
]
TABLE_VALUES = [  # a non-empty list or 1-D array of finite rates >= 0
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
]


def choice(*extra):
    return [
        ("bogus", ValueError),
        ("", ValueError),
        (None, ValueError),
        (1, ValueError),
        *((x, ValueError) for x in extra),
    ]


KINDS: dict[str, dict[str, list]] = {
    "Constant": {"learning_rate": RATE},
    "ExponentialDecay": {
        "initial_learning_rate": RATE,
        "decay_steps": KERAS_STEPS,
        "decay_rate": OPEN_UNIT,
        "staircase": FLAG,
        "name": NAME,
    },
    "InverseTimeDecay": {
        "initial_learning_rate": RATE,
        "decay_steps": KERAS_STEPS,
        "decay_rate": NONNEG,
        "staircase": FLAG,
        "name": NAME,
    },
    "PolynomialDecay": {
        "initial_learning_rate": RATE,
        "decay_steps": KERAS_STEPS,
        "end_learning_rate": RATE,
        "power": POSITIVE,
        "cycle": FLAG,
        "name": NAME,
    },
    "PiecewiseConstantDecay": {"name": NAME},  # lists: see PIECEWISE below
    "CosineDecay": {
        "initial_learning_rate": RATE,
        "decay_steps": KERAS_STEPS,
        "alpha": UNIT,
        "name": NAME,
        "warmup_target": OPTIONAL_RATE,
        "warmup_steps": KERAS_NONNEG_STEPS,
    },
    "CosineDecayRestarts": {
        "initial_learning_rate": RATE,
        "first_decay_steps": KERAS_STEPS,
        "t_mul": MULT,
        "m_mul": OPEN_UNIT,  # peaks would grow without bound above 1
        "alpha": UNIT,
        "name": NAME,
    },
    "WarmupCosineDecay": {
        "target_lr": RATE,
        "total_steps": COUNT,
        "warmup_steps": NONNEG_COUNT,
        "hold_steps": NONNEG_COUNT,
        "start_lr": RATE,
        "min_lr": RATE,
    },
    "WarmupCosineRestarts": {
        "max_lr": POSITIVE_RATE,
        "first_cycle_steps": COUNT,
        "cycle_mult": MULT,
        "warmup_steps": NONNEG_COUNT,
        "min_lr": RATE,
        "gamma": OPEN_UNIT,
        "scale_warmup": FLAG,
    },
    "CyclicalLearningRate": {
        "initial_learning_rate": RATE,
        "maximal_learning_rate": RATE,
        "step_size": COUNT,
        "mode": choice("Triangular", "exp-range"),
        "gamma": OPEN_UNIT,
        "step_size_down": OPTIONAL_COUNT,
    },
    "OneCycle": {
        "max_lr": RATE,
        "total_steps": [*COUNT, (1, ValueError)],
        "pct_start": PCT,
        "div_factor": POSITIVE,
        "final_div_factor": POSITIVE,
        "anneal_strategy": choice("cosine", "COS"),
        "three_phase": FLAG,
    },
    "WarmupStableDecay": {
        "peak_lr": RATE,
        "total_steps": COUNT,
        "warmup_steps": NONNEG_COUNT,
        "decay_steps": COUNT,
        "min_lr": RATE,
        "start_lr": RATE,
        "decay_type": choice("sqrt", "Linear", "cos"),
    },
    "InverseSqrtDecay": {
        "peak_lr": RATE,
        "warmup_steps": NONNEG_COUNT,
        "timescale": OPTIONAL_COUNT,
    },
    "ExponentialRange": {"start_lr": POSITIVE_RATE, "end_lr": POSITIVE_RATE, "num_steps": COUNT},
    # Composites (see "composites" below for CHILD, OFFSET and TABLE_VALUES).
    "Warmup": {
        "schedule": CHILD,
        "warmup_steps": [*NONNEG_COUNT, (2**53 + 1, ValueError)],
        "start_lr": RATE,
    },
    "Offset": {"schedule": CHILD, "offset": OFFSET},
    "Scale": {"schedule": CHILD, "factor": RATE},
    "Sequential": {},  # lists: see SEQUENTIAL below
    "Table": {"values": TABLE_VALUES},
}

# -- cross-parameter constraints (the parameter the message must blame) ---------------------------
CROSS = [
    # min_lr above the peak
    Case("WarmupCosineDecay", "min_lr", 0.2, ValueError),  # target_lr=0.1
    Case("WarmupCosineDecay", "min_lr", 2, ValueError, base=1),  # target_lr=1.0
    Case("WarmupStableDecay", "min_lr", 1.5, ValueError),  # peak_lr=1.0
    Case("WarmupCosineRestarts", "min_lr", 1.01, ValueError),  # max_lr=1.0
    # phases that do not fit
    Case("WarmupCosineDecay", "warmup_steps", 96, ValueError),  # + hold 5 > total 100
    Case("WarmupCosineDecay", "warmup_steps", 1001, ValueError, base=1),  # > total 1000
    Case("WarmupCosineDecay", "hold_steps", 91, ValueError, name="warmup_steps", received=10),
    Case("WarmupCosineDecay", "total_steps", 14, ValueError, name="warmup_steps", received=10),
    Case("WarmupStableDecay", "decay_steps", 91, ValueError),  # + warmup 10 > total 100
    Case("WarmupStableDecay", "decay_steps", 101, ValueError, base=1),  # warmup 0
    Case("WarmupStableDecay", "warmup_steps", 81, ValueError, name="decay_steps", received=20),
    Case("WarmupStableDecay", "total_steps", 29, ValueError, name="decay_steps", received=20),
    Case("WarmupCosineRestarts", "warmup_steps", 10, ValueError),  # == first_cycle_steps
    Case("WarmupCosineRestarts", "warmup_steps", 11, ValueError),
    Case(
        "WarmupCosineRestarts", "first_cycle_steps", 3, ValueError, name="warmup_steps", received=3
    ),
    # OneCycle: every phase must be longer than 0 steps
    Case("OneCycle", "pct_start", 0.01, ValueError),  # 0.01 * 100 == 1
    Case("OneCycle", "pct_start", 0.005, ValueError),
    Case("OneCycle", "pct_start", 0.02, ValueError, base=1),  # 0.02 * 37 < 1
    Case("OneCycle", "total_steps", 3, ValueError, name="pct_start", received=0.3),
    Case("OneCycle", "pct_start", 0.6, ValueError, base=1),  # three phases do not fit in 37
]

# -- PiecewiseConstantDecay: lists -----------------------------------------------------------------
PIECEWISE = [
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
]

# -- Sequential: lists ----------------------------------------------------------------------------
# EXAMPLES["Sequential"][0]: schedules [Constant, CosineDecay, Constant], boundaries [10, 110].
_A, _B, _C = (
    build_example("Constant", 0),
    build_example("CosineDecay", 0),
    build_example("Constant", 1),
)
_KERAS_COSINE = KerasBuiltin("CosineDecay")
SEQUENTIAL = [
    # not a (non-empty) list of schedules
    Case("Sequential", "schedules", _A, TypeError),  # one schedule, not a list
    Case("Sequential", "schedules", None, TypeError),
    Case("Sequential", "schedules", "Constant", TypeError),
    Case("Sequential", "schedules", 0.1, TypeError),
    Case("Sequential", "schedules", [], ValueError),
    Case("Sequential", "schedules", (), ValueError),
    # elements that are not fastlr schedules: the message names the element
    Case(
        "Sequential",
        "schedules",
        [_A, _KERAS_COSINE, _C],
        TypeError,
        name="schedules[1]",
        received=_KERAS_COSINE,
    ),
    Case("Sequential", "schedules", [_A, _B, 0.1], TypeError, name="schedules[2]", received=0.1),
    Case("Sequential", "schedules", [None, _B, _C], TypeError, name="schedules[0]", received=None),
    Case(
        "Sequential",
        "schedules",
        [_A, REGISTRY["CosineDecay"], _C],
        TypeError,
        name="schedules[1]",
        received=REGISTRY["CosineDecay"],
    ),
    Case(
        "Sequential",
        "schedules",
        [_A, _B, Custom()],
        TypeError,
        name="schedules[2]",
        received=Custom(),
    ),
    Case(
        "Sequential",
        "schedules",
        [_A, "CosineDecay", _C],
        TypeError,
        name="schedules[1]",
        received="CosineDecay",
    ),
    # counts that do not match: the message blames `boundaries` (and shows it)
    Case("Sequential", "schedules", [_A, _B], ValueError, name="boundaries", received=[10, 110]),
    Case(
        "Sequential",
        "schedules",
        [_A, _B, _C, _A],
        ValueError,
        name="boundaries",
        received=[10, 110],
    ),
    Case("Sequential", "boundaries", [10], ValueError),
    Case("Sequential", "boundaries", [10, 110, 200], ValueError),
    Case("Sequential", "boundaries", [], ValueError),
    # unsorted / duplicate boundaries
    Case("Sequential", "boundaries", [110, 10], ValueError),
    Case("Sequential", "boundaries", [10, 10], ValueError),
    # bad elements: ints > 0 (no floats, bools or strings); the message names the element
    Case("Sequential", "boundaries", [0, 110], ValueError, name="boundaries[0]", received=0),
    Case("Sequential", "boundaries", [-5, 110], ValueError, name="boundaries[0]", received=-5),
    Case("Sequential", "boundaries", [10.0, 110], TypeError, name="boundaries[0]", received=10.0),
    Case("Sequential", "boundaries", [10, 110.5], TypeError, name="boundaries[1]", received=110.5),
    Case(
        "Sequential",
        "boundaries",
        np.array([10.0, 110.0]),
        TypeError,
        name="boundaries[0]",
        received=10.0,
    ),
    Case("Sequential", "boundaries", [True, 110], TypeError, name="boundaries[0]", received=True),
    Case("Sequential", "boundaries", [10, NAN], TypeError, name="boundaries[1]", received=NAN),
    Case("Sequential", "boundaries", ["10", 110], TypeError, name="boundaries[0]", received="10"),
    Case("Sequential", "boundaries", [10, None], TypeError, name="boundaries[1]", received=None),
    Case(
        "Sequential",
        "boundaries",
        [10, 2**53 + 1],
        ValueError,
        name="boundaries[1]",
        received=2**53 + 1,
    ),
    # not a list
    Case("Sequential", "boundaries", "10,110", TypeError),
    Case("Sequential", "boundaries", 10, TypeError),
    Case("Sequential", "boundaries", None, TypeError),
]

CASES: list[Case] = (
    [
        Case(cls, param, bad, exc)
        for cls, params in KINDS.items()
        for param, bads in params.items()
        for bad, exc in bads
    ]
    + CROSS
    + PIECEWISE
    + SEQUENTIAL
)


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


def _case_id(case: Case) -> str:
    return f"{case.cls}-{case.param}={_short(case.bad)}"


def _kwargs(case: Case) -> dict:
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


def test_every_registered_class_has_examples_and_cases():
    assert set(REGISTRY) == set(KINDS) == set(EXAMPLES)
    assert {c.cls for c in CASES} == set(REGISTRY)


def test_examples_are_valid():
    for name, kws in EXAMPLES.items():
        for i in range(len(kws)):
            s = REGISTRY[name](**example_kwargs(name, i))
            assert s == build_example(name, i)


def test_cross_cases_are_valid_without_the_bad_value():
    """The cross-parameter cases start from valid parameters (the bad value alone breaks them)."""
    for case in CROSS + PIECEWISE + SEQUENTIAL:
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


class Child(NamedTuple):
    """A child schedule in INT_RATES: built by ``_spell`` with the same spelling of rates."""

    cls: str
    kw: dict


INT_RATES = {
    "Constant": dict(learning_rate=1),
    "ExponentialDecay": dict(initial_learning_rate=1, decay_steps=100, decay_rate=1),
    "InverseTimeDecay": dict(initial_learning_rate=1, decay_steps=10, decay_rate=2),
    "PolynomialDecay": dict(initial_learning_rate=1, decay_steps=100, end_learning_rate=0, power=2),
    "PiecewiseConstantDecay": dict(boundaries=[100, 200], values=[3, 2, 1]),
    "CosineDecay": dict(
        initial_learning_rate=0, decay_steps=100, alpha=0, warmup_target=1, warmup_steps=10
    ),
    "CosineDecayRestarts": dict(
        initial_learning_rate=1, first_decay_steps=10, t_mul=2, m_mul=1, alpha=0
    ),
    "WarmupCosineDecay": dict(target_lr=1, total_steps=100, warmup_steps=10, start_lr=0, min_lr=0),
    "WarmupCosineRestarts": dict(
        max_lr=1, first_cycle_steps=10, cycle_mult=2, warmup_steps=2, min_lr=0, gamma=1
    ),
    "CyclicalLearningRate": dict(
        initial_learning_rate=0, maximal_learning_rate=1, step_size=4, gamma=1
    ),
    "OneCycle": dict(max_lr=1, total_steps=100, div_factor=25, final_div_factor=10000),
    "WarmupStableDecay": dict(
        peak_lr=1, total_steps=100, warmup_steps=10, decay_steps=20, min_lr=0, start_lr=0
    ),
    "InverseSqrtDecay": dict(peak_lr=1, warmup_steps=100),
    "ExponentialRange": dict(start_lr=1, end_lr=100, num_steps=10),
    # Composites: children spelled with integer rates too (built by ``_spell``).
    "Warmup": dict(schedule=Child("Constant", dict(learning_rate=1)), warmup_steps=10, start_lr=0),
    "Sequential": dict(
        schedules=[
            Child("Constant", dict(learning_rate=3)),
            Child(
                "PolynomialDecay",
                dict(initial_learning_rate=1, decay_steps=100, end_learning_rate=0, power=2),
            ),
            Child(
                "Warmup", dict(schedule=Child("Constant", dict(learning_rate=2)), warmup_steps=5)
            ),
        ],
        boundaries=[100, 150],
    ),
    "Offset": dict(
        schedule=Child("ExponentialRange", dict(start_lr=1, end_lr=100, num_steps=10)), offset=5
    ),
    "Scale": dict(schedule=Child("Constant", dict(learning_rate=2)), factor=3),
    "Table": dict(values=[3, 2, 1, 0]),
}


REAL_PARAMS = {
    "learning_rate",
    "initial_learning_rate",
    "maximal_learning_rate",
    "end_learning_rate",
    "warmup_target",
    "target_lr",
    "start_lr",
    "min_lr",
    "max_lr",
    "peak_lr",
    "end_lr",
    "decay_rate",
    "power",
    "alpha",
    "t_mul",
    "m_mul",
    "cycle_mult",
    "gamma",
    "div_factor",
    "final_div_factor",
    "factor",
}


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
