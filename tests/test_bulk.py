"""``fastlr.evaluate``: step forms, dtypes, ``out=`` buffers (memmap included), errors, chunks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import assert_within_budget, peak_of
from specs import EXAMPLES, LARGE_STEPS, example_kwargs, example_schedules

import fastlr
import fastlr.bulk
from fastlr.engines.numpy_ref import reference
from fastlr.schedules import REGISTRY


def wcd():
    return fastlr.WarmupCosineDecay(
        0.1, total_steps=1000, warmup_steps=100, hold_steps=50, start_lr=0.01, min_lr=0.001
    )


def single(s, step: int, dtype="float64") -> float:
    """One step at a time (the reference for everything bulk)."""
    return s.evaluate(np.array([step], dtype=np.int64), dtype=dtype)[0]


# -- step forms -----------------------------------------------------------------------------------
@pytest.mark.parametrize("schedule", example_schedules())
def test_int_n_is_steps_zero_to_n_minus_one(schedule):
    v = fastlr.evaluate(schedule, 50, dtype="float64")
    assert v.shape == (50,) and v.dtype == np.float64
    assert_within_budget(v, reference(schedule, np.arange(50)), "float64", peak_of(schedule))
    np.testing.assert_array_equal(v, fastlr.evaluate(schedule, np.arange(50), dtype="float64"))


@pytest.mark.parametrize("n", [0, np.int64(0), np.int32(0)])
def test_zero_steps_give_an_empty_array(n):
    v = fastlr.evaluate(wcd(), n, dtype="float64")
    assert isinstance(v, np.ndarray) and v.shape == (0,) and v.dtype == np.float64
    assert fastlr.evaluate(wcd(), range(5, 5)).shape == (0,)
    assert fastlr.evaluate(wcd(), np.array([], dtype=np.int64)).shape == (0,)
    assert fastlr.evaluate(wcd(), []).shape == (0,)


def test_numpy_int_n():
    s = wcd()
    np.testing.assert_array_equal(
        fastlr.evaluate(s, np.int64(7), dtype="float64"), fastlr.evaluate(s, 7, dtype="float64")
    )
    np.testing.assert_array_equal(
        fastlr.evaluate(s, np.uint16(7), dtype="float64"), fastlr.evaluate(s, 7, dtype="float64")
    )


@pytest.mark.parametrize(
    "rng",
    [
        range(3, 1000, 7),
        range(0, 1),
        range(999, 1500, 250),
        range(2**40, 2**40 + 70, 7),
        range(2**53 - 10, 2**53),
    ],
)
def test_range_with_start_and_step(rng):
    s = wcd()
    v = fastlr.evaluate(s, rng, dtype="float64")
    assert v.shape == (len(rng),)
    np.testing.assert_array_equal(v, [single(s, x) for x in rng])


@pytest.mark.parametrize(
    "dtype", [np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16, np.uint32, np.uint64]
)
def test_int_arrays_of_every_int_dtype(dtype):
    s = fastlr.CyclicalLearningRate(0.1, 1.0, step_size=4, mode="triangular2")
    top = np.iinfo(dtype).max
    raw = [0, 1, 3, 4, 5, 17, 100, 126, 127, min(top, 255), min(top, 2**31 - 1)]
    steps = np.array(raw, dtype=dtype)
    v = fastlr.evaluate(s, steps, dtype="float64")
    np.testing.assert_array_equal(v, [single(s, int(x)) for x in steps])
    assert steps.dtype == dtype  # the input is not converted in place


def test_python_lists_of_ints():
    s = wcd()
    steps = [0, 99, 100, 101, 149, 150, 151, 999, 1000, 10**12, *LARGE_STEPS]
    np.testing.assert_array_equal(
        fastlr.evaluate(s, steps, dtype="float64"), [single(s, x) for x in steps]
    )


def test_non_contiguous_strided_steps():
    s = wcd()
    a = np.arange(0, 3000, dtype=np.int64)
    strided = a[::3]
    assert not strided.flags.c_contiguous
    v = fastlr.evaluate(s, strided, dtype="float64")
    np.testing.assert_array_equal(v, fastlr.evaluate(s, range(0, 3000, 3), dtype="float64"))
    two_d = np.arange(0, 2000, dtype=np.int32).reshape(1000, 2)
    column = two_d[:, 1]  # non-contiguous view of a 2-D array
    np.testing.assert_array_equal(
        fastlr.evaluate(s, column, dtype="float64"),
        fastlr.evaluate(s, range(1, 2000, 2), dtype="float64"),
    )


def test_reversed_and_fortran_steps():
    s = wcd()
    a = np.arange(0, 1200, dtype=np.int64)
    forward = fastlr.evaluate(s, a, dtype="float64")
    np.testing.assert_array_equal(fastlr.evaluate(s, a[::-1], dtype="float64"), forward[::-1])
    f = np.asfortranarray(np.arange(0, 1200, dtype=np.int64).reshape(400, 3))
    assert f.flags.f_contiguous
    np.testing.assert_array_equal(
        fastlr.evaluate(s, f[:, 0], dtype="float64"),
        fastlr.evaluate(s, range(0, 1200, 3), dtype="float64"),
    )
    np.testing.assert_array_equal(
        fastlr.evaluate(s, f[1], dtype="float64"), [single(s, 3), single(s, 4), single(s, 5)]
    )


def test_steps_input_is_not_modified():
    steps = np.array([5, 0, 3], dtype=np.int64)
    fastlr.evaluate(wcd(), steps)
    np.testing.assert_array_equal(steps, [5, 0, 3])


# -- dtypes and out= ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "dtype",
    ["float32", "float64", np.float32, np.float64, np.dtype("float32"), np.dtype("float64")],
)
def test_output_dtypes(dtype):
    s = wcd()
    v = fastlr.evaluate(s, 1001, dtype=dtype)
    assert v.dtype == np.dtype(dtype)
    ref = reference(s, np.arange(1001))
    assert_within_budget(v, ref, dtype, peak=0.1)


def test_default_dtype_is_float32():
    assert fastlr.evaluate(wcd(), 3).dtype == np.float32
    assert wcd().evaluate(3).dtype == np.float32


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_out_is_filled_and_returned(dtype):
    s = wcd()
    out = np.full(1001, -1.0, dtype=dtype)
    got = fastlr.evaluate(s, 1001, dtype=dtype, out=out)
    assert got is out
    np.testing.assert_array_equal(out, fastlr.evaluate(s, 1001, dtype=dtype))


def test_out_may_be_a_strided_view():
    s = wcd()
    base = np.full(200, -1.0)
    view = base[::2]
    got = fastlr.evaluate(s, range(0, 1000, 10), dtype="float64", out=view)
    assert got is view
    np.testing.assert_array_equal(
        base[::2], fastlr.evaluate(s, range(0, 1000, 10), dtype="float64")
    )
    assert (base[1::2] == -1.0).all()  # the gaps are untouched


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_out_memmap_is_written_to_disk(tmp_path, dtype):
    s = wcd()
    path = tmp_path / "lr.bin"
    n = 5000
    mm = np.memmap(path, dtype=dtype, mode="w+", shape=(n,))
    got = fastlr.evaluate(s, n, dtype=dtype, out=mm)
    assert got is mm
    mm.flush()
    del mm, got
    back = np.fromfile(path, dtype=dtype)
    np.testing.assert_array_equal(back, fastlr.evaluate(s, n, dtype=dtype))
    again = np.memmap(path, dtype=dtype, mode="r", shape=(n,))
    np.testing.assert_array_equal(again, back)


def test_schedule_evaluate_equals_module_evaluate(tmp_path):
    for param in example_schedules():
        (s,) = param.values
        for steps in (37, range(5, 500, 11), np.array([0, 7, 2**24 + 1, 2**53 - 1])):
            for dtype in ("float32", "float64"):
                np.testing.assert_array_equal(
                    s.evaluate(steps, dtype=dtype), fastlr.evaluate(s, steps, dtype=dtype)
                )
        out = np.empty(10)
        assert s.evaluate(10, dtype="float64", out=out) is out
        assert s.evaluate(3, device="cpu").shape == (3,)


# -- errors ---------------------------------------------------------------------------------------
def _raises(match, exc=ValueError, **kwargs):
    args = dict(steps=10, dtype="float64")
    args.update(kwargs)
    steps = args.pop("steps")
    with pytest.raises(exc, match=match) as info:
        fastlr.evaluate(wcd(), steps, **args)
    return str(info.value)


@pytest.mark.parametrize(
    "steps",
    [
        -1,
        np.int64(-5),
        np.array([0, -1, 5]),
        np.array([-(2**63)]),
        [3, -2],
        np.array([1.5]),
        np.array([np.nan]),
        [0, 1.5],
        1.0,
        float("nan"),
        np.arange(6).reshape(2, 3),
        np.zeros((0, 2), dtype=np.int64),
        np.array(5),
        range(-1, 10),
        range(-5, 10, 2),
        range(0, 10, -1),
        range(10, 0, -1),
        np.array([True, False]),
        True,
        None,
        "10",
        b"10",
        np.array(["1", "2"]),
        np.array([2**63], dtype=np.uint64),
        range(2**63 - 2, 2**63 + 2),
        [2**70],
    ],
    ids=repr,
)
def test_bad_steps_are_refused(steps):
    message = _raises("`steps`", steps=steps)
    assert "Argument `steps`" in message


@pytest.mark.parametrize(
    ("out", "why"),
    [
        (np.zeros(9), "shape"),
        (np.zeros(11), "shape"),
        (np.zeros((10, 1)), "shape"),
        (np.zeros(10, dtype=np.float32), "dtype"),
        (np.zeros(10, dtype=np.int64), "dtype"),
        ([0.0] * 10, "NumPy array"),
        ("out", "NumPy array"),
    ],
    ids=repr,
)
def test_bad_out_is_refused(out, why):
    message = _raises("`out`", out=out)
    assert why in message


def test_read_only_out_is_refused(tmp_path):
    out = np.empty(10)
    out.flags.writeable = False
    assert "writeable" in _raises("`out`", out=out)
    path = tmp_path / "ro.bin"
    np.zeros(10).tofile(path)
    mm = np.memmap(path, dtype=np.float64, mode="r", shape=(10,))
    _raises("`out`", out=mm)
    assert (np.fromfile(path) == 0).all()


@pytest.mark.parametrize(
    "dtype", ["float16", "int32", "int64", "complex128", np.float16, "foo", "bfloat16", object, 3]
)
def test_bad_dtype_is_refused(dtype):
    message = _raises("`dtype`", dtype=dtype)
    assert repr(dtype) in message


@pytest.mark.parametrize("device", ["gpu", "cuda:0", "CPU", "", None, 0])
def test_unknown_device_is_refused(device):
    message = _raises("`device`", device=device)
    assert repr(device) in message


@pytest.mark.parametrize(
    "obj",
    [
        None,
        0.1,
        "WarmupCosineDecay",
        lambda step: 0.1,
        REGISTRY["Constant"],
        {"learning_rate": 0.1},
    ],
)
def test_non_schedule_is_a_type_error(obj):
    with pytest.raises(TypeError, match="`schedule`"):
        fastlr.evaluate(obj, 10)


def test_keras_schedule_is_not_a_fastlr_schedule():
    import keras  # a required dependency: never skipped

    k = keras.optimizers.schedules.ExponentialDecay(0.1, 100, 0.5)
    with pytest.raises(TypeError, match="`schedule`"):
        fastlr.evaluate(k, 10)


def test_errors_leave_out_untouched():
    out = np.full(10, -1.0)
    with pytest.raises(ValueError):
        fastlr.evaluate(wcd(), np.array([0, 1, 2, 3, 4, 5, 6, 7, 8, -9]), dtype="float64", out=out)
    assert (out == -1.0).all()


# -- chunks ---------------------------------------------------------------------------------------
CHUNK = fastlr.bulk.CHUNK


# Sequential's last example nests Warmup and Offset: composites split into chunks the same way.
@pytest.mark.parametrize(
    "name", ["WarmupCosineDecay", "CosineDecayRestarts", "OneCycle", "Sequential"]
)
def test_chunk_edges_equal_single_steps(name):
    s = REGISTRY[name](**example_kwargs(name, len(EXAMPLES[name]) - 1))
    rng = range(CHUNK - 3, CHUNK + 3)
    np.testing.assert_array_equal(
        fastlr.evaluate(s, rng, dtype="float64"), [single(s, x) for x in rng]
    )
    n = 2 * CHUNK + 5
    v = fastlr.evaluate(s, n, dtype="float64")
    assert v.shape == (n,)
    edges = [
        0,
        1,
        CHUNK - 2,
        CHUNK - 1,
        CHUNK,
        CHUNK + 1,
        2 * CHUNK - 1,
        2 * CHUNK,
        2 * CHUNK + 1,
        n - 1,
    ]
    np.testing.assert_array_equal(v[edges], [single(s, x) for x in edges])
    # An index array crossing the chunk edges, in reverse, and a strided range.
    steps = np.arange(n, dtype=np.int64)[::-1][CHUNK - 10 : CHUNK + 10]
    np.testing.assert_array_equal(fastlr.evaluate(s, steps, dtype="float64"), v[steps])
    big = range(7, 7 + 3 * (CHUNK + 2), 3)
    vb = fastlr.evaluate(s, big, dtype="float64")
    for i in (CHUNK - 1, CHUNK, CHUNK + 1):
        assert vb[i] == single(s, big[i])


@pytest.mark.parametrize("schedule", example_schedules())
def test_small_chunks_give_the_same_values(monkeypatch, schedule):
    """Every chunk-splitting path (N, range, array, out=) with a tiny chunk size."""
    steps = np.array(
        [0, 3, 1, 2**24 + 1, 50, 2**31, 7, 7, 999, 2**53 - 1, 100, 101, 5], dtype=np.int64
    )
    want_n = fastlr.evaluate(schedule, 23, dtype="float64")
    want_range = fastlr.evaluate(schedule, range(5, 400, 17), dtype="float64")
    want_array = fastlr.evaluate(schedule, steps, dtype="float64")
    monkeypatch.setattr(fastlr.bulk, "CHUNK", 4)
    np.testing.assert_array_equal(fastlr.evaluate(schedule, 23, dtype="float64"), want_n)
    np.testing.assert_array_equal(
        fastlr.evaluate(schedule, range(5, 400, 17), dtype="float64"), want_range
    )
    np.testing.assert_array_equal(fastlr.evaluate(schedule, steps, dtype="float64"), want_array)
    out = np.empty(len(steps))
    assert fastlr.evaluate(schedule, steps, dtype="float64", out=out) is out
    np.testing.assert_array_equal(out, want_array)
    np.testing.assert_array_equal(want_array, [single(schedule, int(x)) for x in steps])
