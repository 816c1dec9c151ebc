"""Fuzzing (hypothesis) over the whole registry: engines agree, values stay in range, bad input
is refused.

For every class in :data:`fastlr.REGISTRY`, with random valid parameters drawn from its spec
(``specs.valid_kwargs``; composites with random children, nested up to two composites deep) and
random steps (0, the special steps 2**24 ± 1, 2**31 ± 1, 2**53 - 1, ±1 around every phase point of
the spec's model, random ints; negative steps for the graph, which counts them as step 0):

* the graph engine (``schedule(tf.constant(steps, tf.int64))``, eager, float32, and
  ``graph.call(..., tf.float64)``), the NumPy reference and the Numba engine
  (``fastlr.evaluate(schedule, steps, dtype=...)``, float32 and float64) agree within the accuracy
  budget of ``conftest.assert_within_budget`` (float32: 1 ulp of the float64 reference plus
  ``2**-24 * hi``; float64: 1e-12 relative), and under ``tf.function(jit_compile=True)`` for a few
  examples per class;
* every value is finite and inside the documented range (the spec's ``bounds``), and the engines
  agree with the reference at valid int64 steps past 2**53 too, up to 2**63 - 1 (exactness is
  promised at every int64 step, except for equal restart cycles of a fractional length: see
  ``specs.last_exact_step``);
* random invalid parameters (``specs.invalid_kwargs``: a bad value of one parameter's kind, or a
  spec's own cross-parameter and list cases) raise the documented exception type with a
  Keras-style message naming the parameter; bad step arrays are refused by ``evaluate``.

Cost control: Numba compiles one kernel per schedule structure, argument types and dtype (about a
second each, more for the restart schedules), so each class compiles at most
``NUMBA_KERNELS_PER_CLASS`` new kernel signatures per dtype; later examples with another
signature run on the graph and NumPy engines only (counted as ``numba_skipped``). TF eager calls
take the whole step vector at once; XLA compiles once per example, so it gets few examples.

Reproducibility: hypothesis runs with its default (random) seed and ``print_blob=True``: a failure
prints the falsifying example and a ``@reproduce_failure`` blob, and the example database replays
it first on the next run. The number of cases tried per engine is printed in pytest's terminal
summary ("fuzz cases: ...") and, under ``-s``, at the end of the module.
"""

from __future__ import annotations

import math
import os
from collections import Counter

import numpy as np
import pytest
import specs
from conftest import assert_within_budget
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastlr
from fastlr.engines.numpy_ref import reference
from fastlr.schedules import REGISTRY

NAMES = sorted(REGISTRY)
COMPOSITES = set(specs.COMPOSITES)
_HEALTH = [
    HealthCheck.too_slow,
    HealthCheck.data_too_large,
    HealthCheck.filter_too_much,
    HealthCheck.large_base_example,
]
SCALE = float(os.environ.get("FASTLR_FUZZ_SCALE", "1"))
"""Multiplies every ``max_examples`` (e.g. ``FASTLR_FUZZ_SCALE=10`` for a long local run)."""


EXTRA_STEPS = int(os.environ.get("FASTLR_FUZZ_STEPS", "0"))
"""Random int64 steps added to every example's step vector (0 in CI; e.g. ``FASTLR_FUZZ_STEPS=2000``
for a scaled run of millions of (schedule, step) pairs). Drawn by NumPy from a seed that
hypothesis draws (and prints with a failing example), half of them anywhere in ``[0, 2**63)``,
half below 2**40."""


def examples(n: int) -> int:
    return max(1, round(n * SCALE))


AGREE = settings(
    max_examples=examples(25), deadline=None, print_blob=True, suppress_health_check=_HEALTH
)
XLA = settings(AGREE, max_examples=examples(1))
INVALID = settings(AGREE, max_examples=examples(50))

NUMBA_KERNELS_PER_CLASS = {
    ("leaf", "float64"): 2,  # e.g. int and float ``decay_steps`` (different kernels)
    ("leaf", "float32"): 1,  # the float32 kernel differs only in the final rounding
    ("composite", "float64"): 1,  # one child structure (each costs about a second)
    ("composite", "float32"): 1,
}
"""New Numba kernel signatures each class may compile in this module, per dtype."""

# -- the cases tried, printed at the end -----------------------------------------------------------
COUNTS: Counter = Counter()
_COMPILED: set[tuple] = set()
_COMPILED_PER_CLASS: Counter = Counter()


def summary() -> str:
    c = COUNTS
    return (
        f"fuzz cases (a schedule and a step vector each): graph={c['graph']} (eager, float32 "
        f"and float64), xla={c['xla']}, numpy={c['numpy']}, numba={c['numba']} (plus "
        f"{c['numba_skipped']} past the compile cap; {len(_COMPILED)} kernels), "
        f"invalid={c['invalid']}, bad steps={c['bad_steps']}; steps evaluated: "
        f"graph={c['graph_steps']}, numpy={c['numpy_steps']}, numba={c['numba_steps']}"
    )


class _Summary:
    """A pytest plugin registered by this module: adds the counts to the terminal summary."""

    def pytest_terminal_summary(self, terminalreporter):
        if any(COUNTS.values()):
            terminalreporter.write_sep("-", "fastlr fuzz")
            terminalreporter.write_line(summary())


@pytest.fixture(scope="module", autouse=True)
def _fuzz_summary(request):
    manager = request.config.pluginmanager
    if not manager.has_plugin("fastlr-fuzz-summary"):
        manager.register(_Summary(), "fastlr-fuzz-summary")
    yield
    print("\n" + summary())


# -- helpers ---------------------------------------------------------------------------------------
def _arg_kind(a) -> object:
    if isinstance(a, tuple):  # list parameters: int64 or float64, short ones one slot each
        return ("list", len(a), all(isinstance(x, int) and not isinstance(x, bool) for x in a))
    return type(a).__name__


def kernel_signature(s) -> tuple:
    """What a Numba kernel is compiled for: the structure and the argument types."""
    own = tuple(_arg_kind(a) for a in s.formula_args())
    return (type(s).__name__, own, tuple(kernel_signature(c) for c in s.children()))


def numba_allowed(s, dtype: str) -> bool:
    """Whether to run the Numba engine on ``s`` (compiled already, or within the class's cap)."""
    key = (kernel_signature(s), dtype)
    if key in _COMPILED:
        return True
    name = type(s).__name__
    cap = NUMBA_KERNELS_PER_CLASS["composite" if name in COMPOSITES else "leaf", dtype]
    if _COMPILED_PER_CLASS[name, dtype] >= cap:
        return False
    _COMPILED.add(key)
    _COMPILED_PER_CLASS[name, dtype] += 1
    return True


def flush_gain(s) -> float:
    """How much a flushed subnormal intermediate can grow on its way to the result: the product
    of the ``Scale`` factors above 1 on any path of the tree (1 without)."""
    own = max(1.0, s.factor) if type(s).__name__ == "Scale" else 1.0
    return own * max([flush_gain(c) for c in s.children()] or [1.0])


def check(engine: str, got, ref, dtype: str, lo: float, hi: float, exact, ftz=0.0) -> None:
    """Finite, inside ``[lo, hi]`` (plus rounding), and within the budget where ``exact``.

    ``ftz``: TensorFlow runs with denormals flushed to zero (FTZ/DAZ on the CPU), so the graph
    engines may read a subnormal result *or intermediate* as 0 (below float64's 2.2e-308 or
    float32's 1.2e-38): their budget gets a few of those as an absolute error, times ``ftz`` (1,
    or :func:`flush_gain` where a ``Scale`` multiplies a flushed child value).
    """
    got = np.asarray(got)
    scale = max(abs(lo), abs(hi))
    flush = 4 * float(np.finfo(dtype).tiny) * float(ftz)
    try:
        assert got.dtype == np.dtype(dtype), (got.dtype, dtype)
        assert got.shape == ref.shape, (got.shape, ref.shape)
        assert np.isfinite(got).all(), f"non-finite values: {got[~np.isfinite(got)][:5]}"
        slack = (2.0**-22 if dtype == "float32" else 1e-12) * scale + flush
        out = (got < lo - slack) | (got > hi + slack)
        assert not out.any(), f"outside [{lo!r}, {hi!r}]: {got[out][:5]} (ref {ref[out][:5]})"
        # The budget's absolute part is 2**-24 (float32) or 1e-15 (float64) of the peak.
        peak = max(scale, flush / (2.0**-24 if dtype == "float32" else 1e-15))
        assert_within_budget(got[exact], ref[exact], dtype, peak)
    except AssertionError as e:
        raise AssertionError(f"{engine} ({dtype}): {e}") from None


@st.composite
def steps_for(draw, s) -> np.ndarray:
    """An int64 vector of steps for ``s``: the special steps, +-1 around (up to 60 of) its phase
    points (``specs.steps_near``), random steps (small, around 2**32, anywhere up to 2**53 - 1),
    shuffled."""
    near = sorted(specs.steps_near(s, top=specs.MAX_STEP))
    if len(near) > 60:
        near = draw(st.permutations(near))[:60]
    random = draw(
        st.lists(
            st.one_of(
                st.integers(0, 100),
                st.integers(0, 2**33),
                st.integers(0, specs.MAX_STEP),
                st.integers(specs.MAX_STEP - 1000, specs.MAX_STEP),
            ),
            max_size=24,
        )
    )
    steps = np.array(specs.SPECIAL_STEPS + near + random, dtype=np.int64)
    return steps[np.asarray(draw(st.permutations(range(len(steps)))), dtype=np.int64)]


@st.composite
def beyond_steps(draw) -> np.ndarray:
    """Valid int64 steps past 2**53, up to 2**63 - 1."""
    extra = draw(st.lists(st.integers(2**53, 2**63 - 1), max_size=4))
    return np.array(specs.BEYOND_STEPS + extra, dtype=np.int64)


def negative_steps(draw) -> np.ndarray:
    extra = draw(st.lists(st.integers(-(2**63), -1), max_size=3))
    return np.array([-1, -(2**31), -(2**63), *extra], dtype=np.int64)


# -- engines agree, values finite and in range -----------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@AGREE
@given(data=st.data())
def test_engines_agree_and_stay_in_range(name, data):
    import tensorflow as tf

    from fastlr.engines import graph

    s = REGISTRY[name](**data.draw(specs.valid_kwargs(name), label="kwargs"))
    exact_steps = data.draw(steps_for(s), label="steps")
    steps = np.concatenate([exact_steps, data.draw(beyond_steps(), label="beyond 2**53")])
    if EXTRA_STEPS:
        rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="steps seed"))
        half = EXTRA_STEPS // 2
        extra = [rng.integers(0, 2**63 - 1, half), rng.integers(0, 2**40, EXTRA_STEPS - half)]
        steps = np.concatenate([steps, *extra]).astype(np.int64)
    # Exact at every int64 step, except where the schedule says otherwise (equal restart cycles
    # of a fractional length: exact while step / length < 2**53); always up to 2**53 - 1.
    exact = steps <= max(specs.MAX_STEP, specs.last_exact_step(s))
    lo, hi = specs.bounds_of(s)
    assert 0 <= lo <= hi and math.isfinite(hi), (lo, hi)

    ref = reference(s, steps)
    check("numpy", ref, ref, "float64", lo, hi, exact)
    COUNTS["numpy"] += 1
    COUNTS["numpy_steps"] += len(steps)

    # Graph: the step vector plus negative steps (counted as step 0), eager, both dtypes.
    neg = negative_steps(data.draw)
    g_steps = np.concatenate([steps, neg])
    g_ref = np.concatenate([ref, np.full(len(neg), ref[steps == 0][0])])
    g_exact = np.concatenate([exact, np.ones(len(neg), bool)])
    x = tf.constant(g_steps, tf.int64)
    gain = flush_gain(s)
    check("graph", s(x).numpy(), g_ref, "float32", lo, hi, g_exact, ftz=gain)
    g64 = graph.call(s, x, tf.float64).numpy()
    check("graph", g64, g_ref, "float64", lo, hi, g_exact, ftz=gain)
    COUNTS["graph"] += 1
    COUNTS["graph_steps"] += 2 * len(g_steps)

    ran = 0
    for dtype in ("float64", "float32"):
        if numba_allowed(s, dtype):
            check("numba", fastlr.evaluate(s, steps, dtype=dtype), ref, dtype, lo, hi, exact)
            ran += 1
            COUNTS["numba_steps"] += len(steps)
    COUNTS["numba" if ran else "numba_skipped"] += 1


@pytest.mark.parametrize("name", NAMES)
@XLA
@given(data=st.data())
def test_xla_agrees(name, data):
    import tensorflow as tf

    s = REGISTRY[name](**data.draw(specs.valid_kwargs(name), label="kwargs"))
    steps = data.draw(steps_for(s), label="steps")
    lo, hi = specs.bounds_of(s)
    got = tf.function(s, jit_compile=True)(tf.constant(steps, tf.int64)).numpy()
    exact = np.ones(len(steps), bool)
    check("xla", got, reference(s, steps), "float32", lo, hi, exact, flush_gain(s))
    COUNTS["xla"] += 1


# -- bad input is refused --------------------------------------------------------------------------
@pytest.mark.parametrize("name", NAMES)
@INVALID
@given(case=st.data())
def test_invalid_parameters_are_refused(name, case):
    bad = case.draw(specs.invalid_kwargs(name), label="invalid")
    with pytest.raises((ValueError, TypeError)) as info:
        REGISTRY[name](**bad.kwargs)
    message = str(info.value)
    assert type(info.value) is bad.exc, (type(info.value), bad.exc, message)
    assert any(f"Argument `{n}`" in message for n in bad.names), (bad.names, message)
    assert "Received" in message, message
    COUNTS["invalid"] += 1


_bad_steps = st.one_of(
    st.lists(st.integers(-(2**63), 2**62), min_size=1, max_size=8)
    .filter(lambda x: min(x) < 0)
    .map(lambda x: np.array(x, dtype=np.int64)),  # a negative step
    st.lists(st.floats(), min_size=1, max_size=4)  # floats that are not steps (NaN included)
    .filter(lambda x: not all(math.isfinite(v) and 0 <= v < 2**63 and v == int(v) for v in x))
    .map(np.array),
    st.integers(1, 4).map(lambda n: np.zeros((n, 2), dtype=np.int64)),  # 2-D
    st.lists(st.integers(2**63, 2**64 - 1), min_size=1, max_size=3).map(
        lambda x: np.array(x, dtype=np.uint64)  # past int64
    ),
    st.sampled_from([-1, 1.5, True, None, "10", range(-2, 3), range(5, 0, -1)]),
)


@settings(INVALID, max_examples=examples(30))
@given(s=specs.schedules(depth=1), steps=_bad_steps)
def test_bad_steps_are_refused_by_evaluate(s, steps):
    with pytest.raises(ValueError, match="Argument `steps`"):
        fastlr.evaluate(s, steps)
    COUNTS["bad_steps"] += 1


# -- regressions found by the fuzzer (each a failing example, now fixed) -------------------------
_C, _ITD, _PD = fastlr.CosineDecayRestarts, fastlr.InverseTimeDecay, fastlr.PolynomialDecay


@pytest.mark.parametrize(
    ("param", "build"),
    [
        # NaN from step 2**31 on: step / decay_steps overflows, and 0 * inf in 1 + rate * p.
        ("decay_steps", lambda: _ITD(0.0, decay_steps=1e-300, decay_rate=0)),
        # NaN from step 3 on (the double-double split of step / first overflows).
        ("first_decay_steps", lambda: _C(0.0, first_decay_steps=1e-300, t_mul=1)),
        # OverflowError at evaluation (pow_bits: 2**63 * (t_mul - 1) / first is inf).
        ("first_decay_steps", lambda: _C(1.0, first_decay_steps=1e-300, t_mul=2.0)),
        # NaN (cycle=True: the horizon ceil(step / decay_steps) * decay_steps overflows).
        ("decay_steps", lambda: _PD(1.0, decay_steps=1e-300, cycle=True)),
        # NaN from step 2**31 on, and an OverflowError at evaluation in pow_bits.
        ("t_mul", lambda: _C(1.0, first_decay_steps=1, t_mul=1e300)),
        ("cycle_mult", lambda: fastlr.WarmupCosineRestarts(1.0, 1, cycle_mult=1e300)),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_regression_degenerate_lengths_are_refused(param, build):
    """Valid-looking lengths whose arithmetic overflows float64 are refused at construction
    (they used to construct, then give NaN or raise OverflowError when evaluated)."""
    with pytest.raises(ValueError, match=f"Argument `{param}` must be"):
        build()


@pytest.mark.parametrize(
    ("s", "numba"),
    [
        # The extremes still accepted: finite and in range at every step.
        (_ITD(1.0, decay_steps=2.0**-53, decay_rate=0.0), False),
        (_PD(1.0, decay_steps=2.0**-53, end_learning_rate=0.1, cycle=True), False),
        (_C(1.0, first_decay_steps=2.0**-53, t_mul=2.0, alpha=0.1), False),
        (_C(1.0, first_decay_steps=1, t_mul=2.0**53, alpha=0.1), False),
        (fastlr.WarmupCosineRestarts(1.0, 1, cycle_mult=2.0**53, min_lr=0.1), False),
        # The cycle position used to leave the cycle once step / first passed 2**53: NaN from
        # the Numba engine's cos_remaining polynomial (numpy's sin**2 hid it) from step 2**58.
        (_C(1.0, first_decay_steps=1e-10, t_mul=1.0, m_mul=0.9, alpha=0.1), True),
        (_C(1.0, first_decay_steps=0.3, t_mul=1.0, alpha=0.1), False),
        # (horizon - step) / horizon < 0 once ceil(step / decay_steps) passes 2**53: NaN powers.
        (_PD(1.0, decay_steps=7.7, end_learning_rate=0.1, power=0.5, cycle=True), False),
    ],
    ids=repr,
)
def test_regression_extremes_stay_finite_and_in_range(s, numba):
    """Reference and graph (cheap); Numba where the failure was Numba's (a compile each)."""
    import tensorflow as tf

    steps = np.array(
        [0, 1, 2, 3, 2**31 + 1, 2**53 - 1, 2**53 + 1, 2**55 + 3, 2**58 + 5, 2**62, 2**63 - 1]
    )
    lo, hi = specs.bounds_of(s)
    ref = reference(s, steps)
    none = np.zeros(len(steps), bool)  # no exactness check: finite and in range only
    check("numpy", ref, ref, "float64", lo, hi, none)
    check("graph", s(tf.constant(steps, tf.int64)).numpy(), ref, "float32", lo, hi, none, True)
    if numba:
        check("numba", fastlr.evaluate(s, steps, dtype="float64"), ref, "float64", lo, hi, none)


def test_regression_restart_tail_is_exact_near_long_cycle_ends():
    """WarmupCosineRestarts whose decay is 1 step of a 2**31-step first cycle (scaled with the
    cycles): the steps left in a cycle used to be ``length - s`` in float64, off by up to an ulp
    of the step, so near cycle ends every engine was off by up to 6% (and XLA, rounding
    differently, disagreed: the fuzzer's failing example was ``test_xla_agrees`` at step
    28,924,360,188, 0.0642796 for 0.0642786). Now they come from the exact difference to the next
    cycle start. Exact values: Fraction cycle starts and a 200-bit sine (mpmath)."""
    import tensorflow as tf

    from fastlr.engines import graph

    s = fastlr.WarmupCosineRestarts(
        10.0, 2**31, cycle_mult=3.06636436724019, warmup_steps=2**31 - 1
    )
    exact = {
        28924360188: 0.06427909637928084,
        90840111048: 9.918954890410234,
        2648005391648: 0.0001387560388245754,
        2202072587040879: 1.1517211526866247e-09,
        6752359062462221: 1.1421063638892721e-09,
    }
    steps = np.array(list(exact), dtype=np.int64)
    want = np.array(list(exact.values()))
    np.testing.assert_allclose(reference(s, steps), want, rtol=1e-12)
    x = tf.constant(steps)
    np.testing.assert_allclose(graph.call(s, x, tf.float64).numpy(), want, rtol=1e-12)
    got = tf.function(s, jit_compile=True)(x).numpy()
    check("xla", got, want, "float32", 0.0, 10.0, np.ones(len(steps), bool), True)


def test_regression_a_scale_multiplies_a_flushed_subnormal():
    """Found by the fuzzer: ``Scale(ExponentialDecay(1e-300, 1, 0.99999), 5)`` at step 1762081 is
    5 * 2.2e-308; TensorFlow flushes the child's value (a subnormal-range intermediate) to 0, so
    the graph reads 0 for 1.1e-307: five times the flush allowance of an unscaled schedule. The
    graph's budget is scaled by the product of the Scale factors above it (``flush_gain``)."""
    import tensorflow as tf

    from fastlr.engines import graph

    s = fastlr.Scale(fastlr.ExponentialDecay(1e-300, 1, 0.99999), 5.0)
    steps = np.array([0, 1762081], dtype=np.int64)
    ref = reference(s, steps)
    assert ref[1] > 4 * np.finfo(np.float64).tiny  # beyond an unscaled flush allowance
    lo, hi = specs.bounds_of(s)
    got = graph.call(s, tf.constant(steps), tf.float64).numpy()
    check("graph", got, ref, "float64", lo, hi, np.ones(2, bool), flush_gain(s))
