"""One definition of a step (``fastlr/_steps.py``), shared by ``evaluate`` and ``schedule(step)``.

Host values (Python and NumPy numbers, lists, arrays) given to either are whole numbers >= 0 and
< 2**63, ints or whole-number floats; NaN, inf, fractional, negative and too large ones are
refused by both with the same ``ValueError`` (naming ``steps`` or ``step`` and the reason).
Tensors are mapped totally inside the graph (``_steps.GRAPH_MAPPING``), the same on TensorFlow
(eager, ``tf.function``, XLA), JAX and PyTorch, and documented in docs/accuracy.md.
"""

from __future__ import annotations

import math
import pathlib
import re

import numpy as np
import pytest
import tensorflow as tf

import fastlr
from fastlr import _steps

ROOT = pathlib.Path(__file__).resolve().parents[1]
S = fastlr.WarmupCosineDecay(0.1, total_steps=1000, warmup_steps=100)
TOP = 2**63 - 1


def _at(steps) -> np.ndarray:
    """The float32 values at int steps, by the bulk engine."""
    return fastlr.evaluate(S, np.asarray(steps, np.int64))


# -- accepted: ints and whole-number floats, on both paths --------------------------------------
@pytest.mark.parametrize(
    "steps",
    [
        np.array([1.0, 2.0]),
        np.array([0.0, 150.0, 999.0], np.float32),
        [0.0, 1.0, 2**40 * 1.0],
        [0, 5.0, 7],
        np.array([2.0**62]),
    ],
    ids=repr,
)
def test_whole_number_floats_are_steps(steps):
    want = _at(np.asarray(steps, np.float64).astype(np.int64))
    np.testing.assert_array_equal(fastlr.evaluate(S, steps), want)
    np.testing.assert_array_equal(S(steps).numpy(), want)
    np.testing.assert_array_equal(S(np.asarray(steps)).numpy(), want)


def test_object_arrays_of_ints_are_steps():
    steps = np.array([3, 2**40], dtype=object)
    np.testing.assert_array_equal(fastlr.evaluate(S, steps), _at([3, 2**40]))
    np.testing.assert_array_equal(S(steps).numpy(), _at([3, 2**40]))


def test_python_and_numpy_scalars_are_steps():
    want = float(_at([150])[0])
    for step in (150, 150.0, np.int32(150), np.uint64(150), np.float32(150), np.float64(150)):
        assert float(S(step).numpy()) == want, repr(step)


# -- refused on the host: the same error on both paths --------------------------------------------
BAD = [
    (float("nan"), "NaN is not a step"),
    (np.float32("nan"), "NaN is not a step"),
    (float("inf"), "inf is not a step"),
    (-float("inf"), "-inf is not a step"),
    (1.5, "1.5 is fractional"),
    (np.float32(0.25), "0.25 is fractional"),
    (-1, "-1 is negative"),
    (np.int64(-7), "-7 is negative"),
    (-0.5, "-0.5 is negative"),
    (-2.0, "-2 is negative"),
    (2**63, "9223372036854775808 is not below 2**63"),
    (np.uint64(2**63), "9223372036854775808 is not below 2**63"),
    (2.0**63, "9223372036854775808 is not below 2**63"),
    (2**70, "1180591620717411303424 is not below 2**63"),
]


@pytest.mark.parametrize(("value", "reason"), BAD, ids=lambda x: repr(x))
def test_bad_host_steps_are_refused_alike(value, reason):
    """``evaluate(s, [value])`` and ``s(value)`` (and ``s([value])``) raise the same error."""
    messages = {}
    for name, call in (
        ("steps", lambda: fastlr.evaluate(S, [0, value])),
        ("step", lambda: S(value)),
        ("step", lambda: S([0, value])),
    ):
        with pytest.raises(ValueError) as info:
            call()
        message = str(info.value)
        assert message.startswith(f"Argument `{name}` {_steps.RULE}: {reason}. "), message
        assert f"Received: {name}=" in message
        messages[name] = message.split(". Received")[0]
    assert messages["steps"].replace("`steps`", "`step`") == messages["step"]


@pytest.mark.parametrize("value", [np.array([0.0, np.nan]), np.array([3, -1]), [0, 1.5]])
def test_bad_arrays_are_refused_alike(value):
    for name, call in (("steps", fastlr.evaluate), ("step", None)):
        with pytest.raises(ValueError, match=f"Argument `{name}` must be whole numbers"):
            call(S, value) if call else S(value)


def test_non_numbers_are_type_errors_for_a_call():
    for value in (True, "3", [None], np.array(["1"])):
        with pytest.raises(TypeError, match="`step`"):
            S(value)


# -- tensors: the total mapping, the same on every engine ---------------------------------------
TENSOR_STEPS = [np.nan, np.inf, -np.inf, -3.0, -0.5, 2.5, 7.0, 99.999, 2.0**63, 1e300, -1e300]


def _mapped(x: float) -> int:
    """GRAPH_MAPPING, spelled out: floor; NaN and < 0 -> 0; >= 2**63 -> 2**63 - 1."""
    if math.isnan(x) or x < 0:
        return 0
    return TOP if x >= 2.0**63 else math.floor(x)


def test_the_mapping_covers_every_case():
    assert [_mapped(x) for x in TENSOR_STEPS] == [0, TOP, 0, 0, 0, 2, 7, 99, TOP, TOP, 0]


@pytest.mark.parametrize("dtype", [tf.float64, tf.float32])
@pytest.mark.parametrize("mode", ["eager", "function", "xla"])
def test_tensor_steps_map_totally_on_tensorflow(dtype, mode):
    from fastlr.engines import graph

    values = [x for x in TENSOR_STEPS if dtype == tf.float64 or abs(x) < 1e38]
    x = tf.constant(values, dtype)
    fn = {
        "eager": graph.as_step,
        "function": tf.function(graph.as_step),
        "xla": tf.function(graph.as_step, jit_compile=True),
    }[mode]
    want = [_mapped(float(np.asarray(v, dtype.as_numpy_dtype))) for v in values]
    assert fn(x).numpy().tolist() == want
    call = S if mode == "eager" else tf.function(S, jit_compile=mode == "xla")
    np.testing.assert_array_equal(call(x).numpy(), _at(want))


def test_tensor_steps_map_totally_on_jax():
    jax = pytest.importorskip("jax")
    from fastlr.engines import jax_ops

    with jax.enable_x64(True):
        x = jax.numpy.asarray(TENSOR_STEPS, jax.numpy.float64)
        got = jax_ops.as_step(x).tolist()
        jitted = jax.jit(jax_ops.as_step)(x).tolist()
    want = [_mapped(v) for v in TENSOR_STEPS]
    assert got == want and jitted == want


def test_tensor_steps_map_totally_on_torch():
    torch = pytest.importorskip("torch")
    from fastlr.engines import torch_ops

    got = torch_ops.as_step(torch.tensor(TENSOR_STEPS, dtype=torch.float64)).tolist()
    assert got == [_mapped(v) for v in TENSOR_STEPS]  # NaN was -2**63 before the explicit rule


def test_keras_variables_are_read_like_tensors():
    """``optimizer.iterations`` (an int64 variable) and a float variable are not host values:
    the graph mapping applies, no check, no conversion to NumPy."""
    import keras

    for value, dtype, want in ((150, "int64", 150), (-3, "int64", 0), (2.5, "float32", 2)):
        variable = keras.Variable(value, dtype=dtype, trainable=False)
        assert float(S(variable).numpy()) == float(_at([want])[0])


def test_a_traced_step_from_an_optimizer_is_not_checked(monkeypatch):
    """The optimizer's compiled step never goes through the host check."""
    import keras

    calls = []
    real = _steps.check
    monkeypatch.setattr(_steps, "check", lambda *a: calls.append(a) or real(*a))
    opt = keras.optimizers.SGD(S)
    var = keras.Variable(np.ones(2, np.float32))
    opt.apply_gradients([(np.ones(2, np.float32), var)])
    opt.apply_gradients([(np.ones(2, np.float32), var)])
    assert calls == []


def test_the_mapping_is_documented_identically():
    """docs/accuracy.md and the engines' docstrings state the same mapping."""
    from fastlr.engines import backends, graph

    accuracy = " ".join((ROOT / "docs" / "accuracy.md").read_text().split())
    assert _steps.GRAPH_MAPPING in accuracy
    assert _steps.RULE in accuracy
    for doc in (backends.call.__doc__, graph.as_step.__doc__, _steps.__doc__):
        assert "GRAPH_MAPPING" in doc or "NaN as 0" in doc
    readme = " ".join((ROOT / "README.md").read_text().split())
    assert re.search(r"whole-number float", readme)
