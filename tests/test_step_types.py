"""Step types and integer parameters, checked against the float64 reference.

``test_keras`` checks that the common step types agree with the int64 graph path (steps below
2**24 for floats, up to 2**24 + 1 otherwise). Here every step type is checked against
the float64 reference (``fastlr.evaluate(schedule, [step], dtype="float64")`` and the NumPy
engine it is tested against; within float32 rounding) at steps past
2**31, 2**32 and 2**40: Python ints, NumPy int32/int64/uint32/uint64/float32/float64 scalars,
TF int32/int64/uint32/uint64/float32/float64 tensors (eager, ``tf.function`` and XLA); steps at
or past 2**63 saturate; learning-rate parameters given as Python ints work in ``model.fit``.
"""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import f32_budget, kernel_recorder, peak_of, probe_model
from specs import example_schedules

import fastlr
from fastlr.engines import graph, numpy_ref

EXAMPLE_SCHEDULES = example_schedules()

STEPS = [0, 1, 7, 100, 2**31 - 1, 2**31 + 7, 2**32 - 1, 2**32 + 1, 2**40, 2**40 + 3, 2**53 - 1]

TF_DTYPES = [tf.int32, tf.uint32, tf.int64, tf.uint64, tf.float32, tf.float64]


def representable(step: int, dtype) -> bool:
    """Whether ``step`` is exactly a value of ``dtype`` (NumPy or TF)."""
    np_dtype = np.dtype(tf.as_dtype(dtype).as_numpy_dtype)
    if np_dtype.kind in "iu":
        info = np.iinfo(np_dtype)
        return info.min <= step <= info.max
    return int(np_dtype.type(step)) == step


def scalar_inputs(step: int):
    """``(kind, value)`` for every scalar form that can hold ``step`` exactly."""
    yield "int", step
    for dtype in (np.int32, np.int64, np.uint32, np.uint64, np.float32, np.float64):
        if representable(step, dtype):
            yield f"np.{np.dtype(dtype).name}", dtype(step)
    if representable(step, tf.float64):
        yield "float", float(step)
    for dtype in TF_DTYPES:
        if representable(step, dtype):
            yield f"tf.{dtype.name}", tf.constant(step, dtype)


def reference(schedule, steps):
    """The float64 NumPy reference engine (``fastlr.evaluate(..., dtype="float64")`` is tested
    equal to it in ``test_bulk``; it would compile a Numba kernel per schedule here)."""
    return numpy_ref.reference(schedule, np.asarray(steps, np.int64))


def assert_close(got, want, peak, what):
    got = np.asarray(got)
    assert got.dtype == np.float32, what
    err = np.abs(got.astype(np.float64) - want)
    assert (err <= f32_budget(want, peak)).all(), (what, got, want)


def test_every_step_type_converts_exactly():
    """The graph engine's step conversion: every form of a step becomes that int64 step."""
    for step in STEPS:
        for kind, value in scalar_inputs(step):
            got = graph.as_step(value)
            assert got.dtype == tf.int64 and tuple(got.shape) == (), kind
            assert int(got.numpy()) == step, (kind, step)
    for dtype in TF_DTYPES:
        steps = [s for s in STEPS if representable(s, dtype)]
        np.testing.assert_array_equal(graph.as_step(tf.constant(steps, dtype)).numpy(), steps)
        np_steps = np.array(steps, tf.as_dtype(dtype).as_numpy_dtype)
        np.testing.assert_array_equal(graph.as_step(np_steps).numpy(), steps)


@pytest.mark.parametrize("schedule", EXAMPLE_SCHEDULES)
def test_step_dtypes_match_the_float64_reference(schedule):
    """Every schedule, every step dtype (one vector call each) at steps past 2**31 and 2**40."""
    peak = peak_of(schedule)
    for dtype in TF_DTYPES:
        steps = [s for s in STEPS if representable(s, dtype)]
        out = schedule(tf.constant(steps, dtype))
        assert tuple(out.shape) == (len(steps),)
        assert_close(out.numpy(), reference(schedule, steps), peak, dtype.name)


@pytest.mark.parametrize("name", ["WarmupCosineDecay-0", "CosineDecayRestarts-0", "Sequential-1"])
def test_scalar_step_types_match_the_float64_reference(name):
    """End to end, every scalar form (Python, NumPy, TF) of every step."""
    schedule = next(p.values[0] for p in EXAMPLE_SCHEDULES if p.id == name)
    want = fastlr.evaluate(schedule, np.array(STEPS, np.int64), dtype="float64")
    np.testing.assert_allclose(want, reference(schedule, STEPS), rtol=1e-12, atol=1e-15)
    peak = peak_of(schedule)
    for step, expected in zip(STEPS, want, strict=True):
        for kind, value in scalar_inputs(step):
            out = schedule(value)
            assert out.dtype == tf.float32 and tuple(out.shape) == (), kind
            assert_close(out.numpy(), expected, peak, (kind, step))


TRACED = [
    fastlr.WarmupCosineDecay(0.1, total_steps=2**41, warmup_steps=1000, hold_steps=10),
    fastlr.CyclicalLearningRate(0.1, 1.0, step_size=5, mode="triangular2", step_size_down=3),
    fastlr.Sequential(
        [fastlr.Warmup(fastlr.CosineDecay(1.0, 2**33), 5), fastlr.Constant(0.01)], [2**40 + 1]
    ),
]


@pytest.mark.parametrize("jit_compile", [False, True], ids=["graph", "xla"])
@pytest.mark.parametrize("schedule", TRACED, ids=lambda s: type(s).__name__)
def test_traced_step_dtypes(schedule, jit_compile):
    """One trace per step dtype (a scalar and a vector), inside ``tf.function`` and XLA."""
    peak = peak_of(schedule)
    for dtype in TF_DTYPES:
        traces = []

        @tf.function(jit_compile=jit_compile, autograph=False)
        def lr(step):
            traces.append(1)  # noqa: B023 - counts this dtype's traces
            return schedule(step)

        steps = [s for s in STEPS if representable(s, dtype)]
        assert_close(lr(tf.constant(steps, dtype)).numpy(), reference(schedule, steps), peak, dtype)
        want = reference(schedule, steps)
        for i in (0, -1):  # scalars: one more trace, whatever the value
            assert_close(lr(tf.constant(steps[i], dtype)).numpy(), want[i], peak, (dtype, i))
        assert len(traces) == 2, dtype


@pytest.mark.parametrize("schedule", EXAMPLE_SCHEDULES[::3])
def test_steps_past_int64_saturate(schedule):
    """Tensor steps at or past 2**63 hold the value of step 2**63 - 1, eagerly and under XLA (a
    cast alone would wrap a uint64 to a negative step, i.e. step 0, and is undefined for floats);
    the same values given as host numbers are refused, as ``evaluate`` refuses them."""
    last = schedule(tf.constant(2**63 - 1, tf.int64)).numpy()
    huge = [
        np.uint64(2**63),
        np.uint64(2**64 - 1),
        2**64 - 1,  # a Python int that only uint64 holds
        np.array([2**63 + 5, 2**64 - 1], np.uint64),
        tf.constant([2.0**63, 1e19, 1e300, np.inf], tf.float64),
        tf.constant([2.0**63, 1e38, np.inf], tf.float32),
    ]
    xla = tf.function(lambda s: schedule(s), jit_compile=True, autograph=False)
    for value in huge:
        tensor = tf.constant(np.asarray(value)) if not tf.is_tensor(value) else value
        if not tf.is_tensor(value):
            with pytest.raises(ValueError, match=r"`step`.*is not below 2\*\*63"):
                schedule(value)
        np.testing.assert_array_equal(schedule(tensor).numpy(), last, err_msg=repr(value))
        np.testing.assert_array_equal(xla(tensor).numpy(), last, err_msg=repr(value))
    # Just below 2**63, and below 0, nothing changes.
    for value in (tf.constant(2.0**62, tf.float64), tf.constant(-1e19, tf.float64)):
        step = min(max(int(value.numpy()), 0), 2**63 - 1)
        np.testing.assert_array_equal(schedule(value).numpy(), schedule(step).numpy())


# ------------------------------------------------------------------------------------------------
# Learning-rate parameters given as Python ints
# ------------------------------------------------------------------------------------------------

INT_PARAMS = [
    (fastlr.Constant, dict(learning_rate=3)),
    (fastlr.CosineDecay, dict(initial_learning_rate=1, decay_steps=20)),
    (
        fastlr.CosineDecay,
        dict(initial_learning_rate=0, decay_steps=20, warmup_target=1, warmup_steps=4),
    ),
    (fastlr.ExponentialDecay, dict(initial_learning_rate=2, decay_steps=5, decay_rate=1)),
    (fastlr.PiecewiseConstantDecay, dict(boundaries=[4, 9], values=[3, 2, 1])),
    (fastlr.WarmupCosineDecay, dict(target_lr=1, total_steps=20, warmup_steps=4, min_lr=0)),
    (
        fastlr.CyclicalLearningRate,
        dict(initial_learning_rate=1, maximal_learning_rate=3, step_size=3),
    ),
    (fastlr.OneCycle, dict(max_lr=2, total_steps=20, div_factor=4, final_div_factor=2)),
    (fastlr.WarmupStableDecay, dict(peak_lr=1, total_steps=20, warmup_steps=4, decay_steps=6)),
]


def _as_floats(kwargs):
    """The same parameters with every int learning rate as a float (step counts stay ints)."""
    rates = {
        "learning_rate",
        "initial_learning_rate",
        "decay_rate",
        "warmup_target",
        "values",
        "target_lr",
        "min_lr",
        "maximal_learning_rate",
        "max_lr",
        "div_factor",
        "final_div_factor",
        "peak_lr",
    }
    out = {}
    for key, value in kwargs.items():
        if key in rates:
            value = [float(v) for v in value] if isinstance(value, list) else float(value)
        out[key] = value
    return out


@pytest.mark.parametrize(("cls", "kwargs"), INT_PARAMS, ids=[c.__name__ for c, _ in INT_PARAMS])
def test_integer_learning_rates_are_accepted(cls, kwargs):
    schedule = cls(**kwargs)
    twin = cls(**_as_floats(kwargs))
    assert schedule == twin and schedule.get_config() == twin.get_config()
    steps = np.arange(25)
    np.testing.assert_array_equal(schedule(steps).numpy(), twin(steps).numpy())
    np.testing.assert_array_equal(reference(schedule, steps), reference(twin, steps))
    blob = keras.optimizers.schedules.serialize(schedule)
    assert keras.optimizers.schedules.deserialize(blob) == schedule


INT_FIT = [INT_PARAMS[i] for i in (0, 1, 4, 7)]


@pytest.mark.parametrize(("cls", "kwargs"), INT_FIT, ids=[c.__name__ for c, _ in INT_FIT])
def test_integer_learning_rates_in_fit(cls, kwargs):
    """An int-parameter schedule is an optimizer's learning rate (where Keras's own optimizers
    refuse ``learning_rate=1``): the probe's weight decreases by exactly the schedule's values."""
    schedule = cls(**kwargs)
    model = probe_model(schedule)
    x = np.ones((4 * 10, 1), np.float32)
    recorder = kernel_recorder()
    model.fit(x, np.zeros_like(x), batch_size=4, epochs=2, verbose=0, callbacks=[recorder])
    kernels = np.asarray(recorder.kernels, np.float64)
    applied = kernels[:-1] - kernels[1:]
    want = schedule(np.arange(20)).numpy().astype(np.float64)
    tol = 2 * np.spacing(np.maximum(np.abs(kernels[:-1]), np.abs(kernels[1:])).astype(np.float32))
    assert (np.abs(applied - want) <= tol).all(), (applied, want)
    assert float(model.optimizer.learning_rate) == np.float32(reference(schedule, [20])[0])
