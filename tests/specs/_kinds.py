"""Kinds of constructor parameters: what a valid value looks like and which values must be refused.

A :class:`Kind` is declared once per kind of parameter (a rate, a step count, a flag, ...) and used
by every spec whose constructor has such a parameter: its ``good`` strategy draws valid values
(``hypothesis``), ``bad`` lists fixed bad values with the exception each must raise (one
validation test each), and ``fuzz`` draws random bad values (``test_fuzz``). A spec overrides
``good`` where a parameter's documented range is narrower (``RATE.but(good=...)``).

Valid rates stay below 1e4 so every value is finite in float32 too (valid rates up to 1.8e308 exist,
but a float32 learning rate above 3.4e38 is inf by definition, not a schedule bug).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np
from hypothesis import strategies as st

NAN, INF = float("nan"), float("inf")

# -- valid values ----------------------------------------------------------------------------------
_np_float = st.sampled_from([np.float32, np.float64])
rates = st.one_of(
    st.just(0.0),
    st.just(0),  # ints are accepted wherever a rate is
    st.integers(1, 10),
    st.floats(1e-6, 10.0),
    st.floats(1e-300, 1e-6),  # tiny
    st.just(5e-324),  # the smallest subnormal
    st.floats(10.0, 1e4),  # large
    st.tuples(_np_float, st.floats(0.0, 10.0, width=32)).map(lambda t: t[0](t[1])),
)
"""A learning rate: finite and >= 0 (kept < 1e4: finite in float32)."""
positive_rates = rates.filter(lambda x: x > 0)


def counts(lo: int = 1, hi: int = 2**53) -> st.SearchStrategy[int]:
    """An integer step count in ``[lo, hi]``: small, medium, up to 2**40, and the limit 2**53."""
    edges = [x for x in (2**24 - 1, 2**24, 2**24 + 1, 2**31, 2**40, 2**53) if lo <= x <= hi]
    parts = [
        st.integers(lo, min(hi, lo + 20)),
        st.integers(lo, min(hi, max(lo, 10**4))),
        st.integers(lo, min(hi, max(lo, 2**40))),
        st.integers(lo, min(hi, max(lo, 2**40))).map(np.int64),  # NumPy ints are accepted
    ]
    if edges:
        parts.append(st.sampled_from(edges))
    return st.one_of(*parts)


def whole_counts(lo: int = 1, hi: int = 2**53) -> st.SearchStrategy[int | float]:
    """:func:`counts`, also spelled as whole-number floats (``128.0``: keras-contrib's
    ``CyclicLR`` callback passes its ``step_size`` so), which are stored as the int."""
    return st.one_of(
        counts(lo, hi),
        counts(lo, hi).map(float),  # exact: counts are at most 2**53
        st.integers(lo, min(hi, 10**4)).map(np.float32),  # exact below 2**24
    )


keras_steps = st.one_of(
    counts(1),
    st.floats(0.5, 1e6),  # Keras accepts float step counts (fractional ones stay float)
    st.integers(1, 10**6).map(float),  # integral floats normalize to ints
    st.floats(2.0**-53, 0.5),  # tiny
    st.just(2.0**-53),  # the shortest accepted float length
    st.floats(2.0**53, 1e18),  # floats above 2**53 stay floats
)
"""Keras's ``decay_steps``-style counts: int, or float >= 2**-53."""
keras_nonneg_steps = st.one_of(st.just(0), st.just(0.0), keras_steps)
unit = st.one_of(st.sampled_from([0, 0.0, 1, 1.0]), st.floats(0.0, 1.0), st.floats(0.0, 1e-6))
"""In ``[0, 1]`` (Keras's ``alpha``)."""
open_unit = st.one_of(
    st.sampled_from([1, 1.0, 1e-300]),
    st.floats(1e-6, 1.0),
    st.floats(0.999, 1.0),
    st.floats(1e-300, 1e-6),
)
"""In ``(0, 1]`` (decay rates, gammas, ``m_mul``: bases of powers). Normal floats only: TF runs
with denormals flushed to zero, so a subnormal base (< 2.2e-308) is 0 in the graph engine (as in
Keras), and ``5e-324 ** 1e-9`` reads 0 instead of 1 there."""
mults = st.one_of(
    st.sampled_from([1, 1.0, 2, 2.0, 3.0, 2.0**53]),
    st.floats(1.0, 4.0),
    st.floats(1.0, 1.0 + 1e-9),  # barely above 1
    st.floats(4.0, 1e3),
    st.floats(1e3, 2.0**53),  # huge: the second cycle outlasts every step
)
"""Cycle length multipliers, in ``[1, 2**53]``."""
bools = st.one_of(st.booleans(), st.sampled_from([np.True_, np.False_]))
names = st.text(max_size=8)


@st.composite
def below(draw, x: float) -> float:
    """A rate in ``[0, x]``, edges included."""
    pick = draw(st.sampled_from(["zero", "equal", "fraction"]))
    if pick == "zero" or not x:
        return 0.0
    if pick == "equal":
        return x
    return float(x) * draw(st.floats(0.0, 1.0))


def _kw(required: dict, optional: dict | None = None) -> st.SearchStrategy[dict]:
    return st.fixed_dictionaries(required, optional=optional or {})


# -- valid parameters: one strategy per class ------------------------------------------------------


_table_values = st.one_of(
    st.lists(rates, min_size=1, max_size=40),
    st.lists(st.floats(0.0, 1.0), min_size=1, max_size=8).map(np.array),
    st.lists(st.floats(0.0, 1.0, width=32), min_size=1, max_size=8).map(
        lambda x: np.array(x, dtype=np.float32)
    ),
    st.lists(st.integers(0, 5), min_size=1, max_size=8).map(np.array),  # an int array
    st.lists(rates, min_size=1, max_size=8).map(tuple),
)


# -- bad values: random (fuzz) ---------------------------------------------------------------------
def _with(values, exc: type[Exception]) -> st.SearchStrategy[tuple[Any, type[Exception]]]:
    strategy = values if isinstance(values, st.SearchStrategy) else st.sampled_from(values)
    return strategy.map(lambda x: (x, exc))


def _bad(*parts) -> st.SearchStrategy[tuple[Any, type[Exception]]]:
    return st.one_of(*parts)


_not_a_number = _with(
    st.one_of(
        st.sampled_from([True, False, np.True_, None, "0.1", "", b"1", [0.1], (1,), {}, 1 + 0j]),
        st.text(max_size=4),
        st.complex_numbers(allow_nan=False),
    ),
    TypeError,
)
_non_finite = _with(
    [NAN, INF, -INF, np.float32("nan"), np.float64("inf"), np.float32("-inf")], ValueError
)
_negative = _with(
    st.one_of(
        st.floats(max_value=-5e-324, allow_infinity=False),
        st.integers(max_value=-1),
        st.sampled_from([np.float32(-0.5), np.int64(-3), -1e-300]),
    ),
    ValueError,
)
_zero = _with([0, 0.0, -0.0, np.float64(0.0), np.int64(0)], ValueError)
_above_one = _with(
    st.one_of(
        st.floats(1.0, 1e300, exclude_min=True),
        st.integers(2, 10**20),
        st.just(float(np.nextafter(1.0, 2.0))),
    ),
    ValueError,
)
BAD_RATE = _bad(_not_a_number, _non_finite, _negative)
BAD_POSITIVE = _bad(BAD_RATE, _zero)
BAD_UNIT = _bad(BAD_RATE, _above_one)
BAD_OPEN_UNIT = _bad(BAD_UNIT, _zero)
BAD_PCT = _bad(BAD_OPEN_UNIT, _with([1, 1.0], ValueError))
BAD_MULT = _bad(
    _not_a_number,
    _non_finite,
    _with(st.floats(-1e300, 1.0, exclude_max=True), ValueError),
    _with(st.integers(max_value=0), ValueError),
    _with(st.floats(2.0**53, 1e300, exclude_min=True), ValueError),  # > 2**53
    _with(st.integers(2**53 + 2, 2**70), ValueError),  # (2**53 + 1 rounds to 2**53: valid)
)

_not_an_int = _with(
    st.one_of(
        st.floats(),  # any float, NaN and integral ones included: counts are ints
        st.sampled_from([True, False, np.True_, None, "10", [3], np.float64(3.0), 1 + 0j]),
    ),
    TypeError,
)
_too_big_int = _with(
    st.one_of(
        st.integers(2**53 + 1, 2**80),
        st.sampled_from([np.int64(2**62), np.uint64(2**63), 2**53 + 1]),
    ),
    ValueError,
)
_negative_int = _with(
    st.one_of(st.integers(-(2**70), -1), st.sampled_from([np.int64(-1), -(2**53)])), ValueError
)
BAD_NONNEG_COUNT = _bad(_not_an_int, _too_big_int, _negative_int)
BAD_COUNT = _bad(BAD_NONNEG_COUNT, _with([0, np.int64(0), np.uint8(0)], ValueError))
BAD_WHOLE_COUNT = _bad(
    _with(st.sampled_from([True, False, np.True_, None, "10", [3], 1 + 0j]), TypeError),
    _with(st.floats().filter(lambda x: not x.is_integer()), TypeError),  # NaN and inf too
    _with(st.sampled_from([10.5, np.float64(2.5), np.float32(0.5), -0.5]), TypeError),
    _too_big_int,
    _with(st.floats(2.0**53, 1e300, exclude_min=True), ValueError),  # whole, above 2**53
    _negative_int,
    _with(st.integers(-(2**53), -1).map(float), ValueError),
    _with([0, 0.0, -0.0, np.int64(0), np.float64(0.0)], ValueError),
)
"""Bad values of a count that also takes whole-number floats (:data:`WHOLE_COUNT`)."""

_keras_not_a_number = _with(
    st.sampled_from([True, False, None, "100", [10], 1 + 0j, np.True_]), TypeError
)
BAD_KERAS_NONNEG_STEPS = _bad(
    _keras_not_a_number,
    _non_finite,
    _negative,
    _with(st.integers(2**53 + 1, 2**80), ValueError),
)
BAD_KERAS_STEPS = _bad(
    BAD_KERAS_NONNEG_STEPS,
    _zero,
    _with(st.floats(5e-324, 2.0**-53, exclude_max=True), ValueError),  # too short (< 2**-53)
)
BAD_FLAG = _with(
    st.one_of(st.integers(), st.floats(), st.text(max_size=3), st.none(), st.just([True])),
    TypeError,
)
BAD_NAME = _with(st.one_of(st.integers(), st.floats(), st.none(), st.binary(max_size=3)), TypeError)


def bad_choice(options: tuple[str, ...]) -> st.SearchStrategy:
    return _with(
        st.one_of(
            st.text(max_size=8).filter(lambda x: x not in options),
            st.sampled_from([o.upper() for o in options if o.upper() not in options]),
            st.integers(),
            st.none(),
        ),
        ValueError,
    )


# -- bad values: fixed lists (one validation test each) --------------------------------------------
_RATE_BAD = [  # a learning rate, finite and >= 0
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
_POSITIVE_RATE_BAD = [*_RATE_BAD, (0.0, ValueError), (0, ValueError)]
_OPTIONAL_RATE_BAD = [(b, e) for b, e in _RATE_BAD if b is not None]  # ``None`` is meaningful there
_COUNT_BAD = [  # fastlr's own integer lengths, > 0: Python/NumPy ints only
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
_OPTIONAL_COUNT_BAD = [(b, e) for b, e in _COUNT_BAD if b is not None]
_WHOLE_COUNT_BAD = [  # a count that also takes whole-number floats (10.0 is valid: 10)
    (0, ValueError),
    (0.0, ValueError),
    (-1, ValueError),
    (-1.0, ValueError),
    (True, TypeError),
    (False, TypeError),
    (10.5, TypeError),
    (np.float64(10.5), TypeError),
    ("10", TypeError),
    (None, TypeError),
    (NAN, TypeError),
    (INF, TypeError),
    (2**53 + 1, ValueError),
    (2.0**53 + 2, ValueError),
]
_OPTIONAL_WHOLE_COUNT_BAD = [(b, e) for b, e in _WHOLE_COUNT_BAD if b is not None]
_NONNEG_COUNT_BAD = [  # fastlr's own integer lengths, >= 0
    (-1, ValueError),
    (True, TypeError),
    (2.0, TypeError),
    (2.5, TypeError),
    ("2", TypeError),
    (None, TypeError),
    (-(2**60), ValueError),
]
_KERAS_STEPS_BAD = [  # Keras's int-or-float step counts, > 0
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
_KERAS_NONNEG_STEPS_BAD = [
    (-1, ValueError),
    (-0.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    (True, TypeError),
    ("10", TypeError),
    (None, TypeError),
]
_FLAG_BAD = [
    ("yes", TypeError),
    (1, TypeError),
    (0, TypeError),
    (None, TypeError),
    (1.0, TypeError),
]
_NAME_BAD = [(123, TypeError), (None, TypeError), (b"name", TypeError)]
_UNIT_BAD = [  # in [0, 1]
    (-0.1, ValueError),
    (1.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("0.5", TypeError),
    (True, TypeError),
    (None, TypeError),
]
_OPEN_UNIT_BAD = [  # in (0, 1]: decay rates and gammas
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
_MULT_BAD = [  # cycle multipliers, in [1, 2**53]
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
_CYCLES_BAD = [  # a number of waves, in [2**-53, 2**53]
    (0, ValueError),
    (0.0, ValueError),
    (-0.5, ValueError),
    (2.0**-54, ValueError),
    (2.0**53 * 2, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]
_POSITIVE_BAD = [  # a real > 0
    (0, ValueError),
    (0.0, ValueError),
    (-1.0, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]
_NONNEG_BAD = [
    (-0.5, ValueError),
    (NAN, ValueError),
    (INF, ValueError),
    ("1", TypeError),
    (True, TypeError),
    (None, TypeError),
]
_PCT_BAD = [  # in (0, 1)
    (0.0, ValueError),
    (1.0, ValueError),
    (-0.1, ValueError),
    (1.5, ValueError),
    (NAN, ValueError),
    ("0.3", TypeError),
    (True, TypeError),
    (None, TypeError),
]


# -- markers for values made on first use ----------------------------------------------------------
class KerasBuiltin(NamedTuple):
    """A Keras built-in schedule, made on first use (the specs stay free of TensorFlow)."""

    name: str

    def __repr__(self) -> str:
        return f"keras.{self.name}"


class Custom(NamedTuple):
    """A user's own ``keras.optimizers.schedules.LearningRateSchedule`` subclass (not Keras's)."""

    def __repr__(self) -> str:
        return "Custom()"


class Example(NamedTuple):
    """The schedule of another spec's example ``index`` (built by :func:`specs.build`)."""

    name: str
    index: int = 0


class Child(NamedTuple):
    """A child schedule written as class name and kwargs (e.g. in a spec's ``int_rates``)."""

    cls: str
    kw: dict


_RESOLVED: dict[Any, Any] = {}


def resolve(value: Any) -> Any:
    """Turn :class:`KerasBuiltin`, :class:`Custom` and :class:`Example` markers (also inside
    lists) into objects.

    The same marker always gives the same object, so its ``repr`` (with its address) is stable.
    """
    if isinstance(value, list):
        return [resolve(x) for x in value]
    if isinstance(value, Example):
        from specs import build

        return build(value)
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
            from specs import SPECS

            kw = dict(SPECS[value.name].examples[0])  # Keras-named examples: Keras's parameters
            _RESOLVED[value] = getattr(keras.optimizers.schedules, value.name)(**kw)
    return _RESOLVED[value]


# -- kinds -----------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Kind:
    """One kind of constructor parameter.

    Attributes:
        good: valid values (hypothesis strategy).
        bad: fixed ``(bad value, exception type)`` pairs, each a validation test.
        fuzz: random ``(bad value, exception type)`` pairs; ``None`` where the spec's own
            ``invalid`` strategies break the parameter (lists, whose elements are named).
        real: whether the parameter is a real number (rates, factors): an int is accepted and
            stored as a float.
    """

    good: Any
    bad: tuple = ()
    fuzz: Any = None
    real: bool = False  # a real number (an int is accepted, stored as a float)

    def but(self, **changes: Any) -> Kind:
        """This kind with some fields replaced (e.g. a narrower ``good``, an extra bad value)."""
        return dataclasses.replace(self, **changes)

    def plus(self, *bad: tuple) -> Kind:
        """This kind with more fixed bad values."""
        return dataclasses.replace(self, bad=(*self.bad, *bad))


RATE = Kind(rates, tuple(_RATE_BAD), BAD_RATE, real=True)
"""A learning rate: finite and >= 0."""
POSITIVE_RATE = Kind(positive_rates, tuple(_POSITIVE_RATE_BAD), BAD_POSITIVE, real=True)
OPTIONAL_RATE = Kind(
    st.none() | rates,
    tuple(_OPTIONAL_RATE_BAD),
    BAD_RATE.filter(lambda b: b[0] is not None),
    real=True,
)
"""A rate or ``None`` (``None`` is meaningful: e.g. no warmup)."""
COUNT = Kind(counts(1), tuple(_COUNT_BAD), BAD_COUNT)
"""fastlr's own integer lengths, > 0 (Python/NumPy ints only, up to 2**53)."""
OPTIONAL_COUNT = Kind(
    st.none() | counts(1), tuple(_OPTIONAL_COUNT_BAD), BAD_COUNT.filter(lambda b: b[0] is not None)
)
NONNEG_COUNT = Kind(counts(0), tuple(_NONNEG_COUNT_BAD), BAD_NONNEG_COUNT)
WHOLE_COUNT = Kind(whole_counts(1), tuple(_WHOLE_COUNT_BAD), BAD_WHOLE_COUNT)
"""A fastlr count > 0 that also takes whole-number floats (``step_size=128.0``, stored as
``128``); other floats are refused (TypeError), as :data:`COUNT` refuses every float."""
OPTIONAL_WHOLE_COUNT = Kind(
    st.none() | whole_counts(1),
    tuple(_OPTIONAL_WHOLE_COUNT_BAD),
    BAD_WHOLE_COUNT.filter(lambda b: b[0] is not None),
)
KERAS_STEPS = Kind(keras_steps, tuple(_KERAS_STEPS_BAD), BAD_KERAS_STEPS)
"""Keras's int-or-float step counts, > 0 (floats >= 2**-53)."""
KERAS_NONNEG_STEPS = Kind(
    keras_nonneg_steps, tuple(_KERAS_NONNEG_STEPS_BAD), BAD_KERAS_NONNEG_STEPS
)
FLAG = Kind(bools, tuple(_FLAG_BAD), BAD_FLAG)
"""A Python or NumPy bool."""
NAME = Kind(names, tuple(_NAME_BAD), BAD_NAME)
"""Keras's ``name``: a string."""
UNIT = Kind(unit, tuple(_UNIT_BAD), BAD_UNIT, real=True)
"""In ``[0, 1]``."""
OPEN_UNIT = Kind(open_unit, tuple(_OPEN_UNIT_BAD), BAD_OPEN_UNIT, real=True)
"""In ``(0, 1]``: decay rates, gammas."""
MULT = Kind(mults, tuple(_MULT_BAD), BAD_MULT, real=True)
"""Cycle multipliers, in ``[1, 2**53]``."""
CYCLES = Kind(
    st.one_of(
        st.just(0.5),
        st.sampled_from([1, 1.5, 2.0, 0.3, 1 / 3, 0.25, 2.0**-53, 2.0**53]),
        st.floats(0.01, 10.0),
        st.floats(2.0**-53, 2.0**53),
    ),
    tuple(_CYCLES_BAD),
    _bad(BAD_POSITIVE, _with([2.0**-54, 1e-300, 2.0**53 * 2, 1e300], ValueError)),
    real=True,
)
"""A number of waves (Hugging Face's ``num_cycles``), in ``[2**-53, 2**53]``."""
POSITIVE = Kind(
    st.one_of(st.sampled_from([1, 1.0, 2]), st.floats(1e-3, 10.0)),
    tuple(_POSITIVE_BAD),
    BAD_POSITIVE,
    real=True,
)
"""A real > 0."""
NONNEG = Kind(
    st.one_of(st.just(0), st.floats(0.0, 1e3), st.integers(0, 100)),
    tuple(_NONNEG_BAD),
    BAD_RATE,
    real=True,
)
"""A real >= 0."""
PCT = Kind(
    st.floats(0.0, 1.0, exclude_min=True, exclude_max=True), tuple(_PCT_BAD), BAD_PCT, real=True
)
"""In ``(0, 1)``."""


def choice(options: tuple[str, ...], *extra: str) -> Kind:
    """One of ``options`` (strings); ``extra``: near misses that must be refused too."""
    bad = [("bogus", ValueError), ("", ValueError), (None, ValueError), (1, ValueError)]
    return Kind(
        st.sampled_from(options), tuple(bad + [(x, ValueError) for x in extra]), bad_choice(options)
    )


_bad_element = _bad(_not_a_number.filter(lambda b: not isinstance(b[0], (list, tuple, dict))))
"""Not a real number, as an element of a list parameter (a type error)."""
BAD_ELEMENT = _bad(_non_finite, _negative, _bad_element)
"""A bad element of a list of rates."""


def above(draw, x) -> float:
    """A rate > ``x`` (the next float up, or anything up to ``x + 1e4``)."""
    return float(
        draw(
            st.one_of(
                st.just(float(np.nextafter(float(x), INF))),
                st.floats(float(x), float(x) + 1e4, exclude_min=True),
            )
        )
    )


def min_above_peak_or_too_long(name: str, peak: str, longer: str, blamed: str):
    """Invalid kwargs of a warmup-then-decay schedule (each value alone valid): ``min_lr`` above
    its ``peak`` rate, or ``longer`` (a phase) too long for ``total_steps`` once the warmup is
    counted; the message must blame ``blamed``."""
    from hypothesis import assume

    from specs import Invalid, valid_kwargs

    @st.composite
    def invalid(draw):
        kw = dict(draw(valid_kwargs(name)))
        if draw(st.booleans()):
            kw["min_lr"] = above(draw, kw[peak])
            return Invalid(name, kw, ("min_lr",), ValueError)
        least = int(kw["total_steps"]) - int(kw["warmup_steps"]) + 1
        assume(least <= 2**53)
        kw[longer] = draw(st.one_of(st.just(least), st.integers(least, 2**53)))
        return Invalid(name, kw, (blamed,), ValueError)

    return invalid
