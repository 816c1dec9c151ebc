"""Composite schedules: ``Warmup``, ``Sequential``, ``Offset``, ``Scale``, ``Clip`` (of children)
and ``Table``.

1. Nests two and three composites deep against the independent reference (``tests/reference.py``)
   on every engine: the TF graph (float32, also under XLA) and the Numba bulk path (float32 and
   float64), at every boundary +-1 and at large steps; an Offset whose child runs past 2**53.
2. Semantics checked from the definitions alone: Sequential switches exactly at its boundaries
   and restarts each child at its own step 0; Offset is an exact shift; Warmup ramps to the
   child's first value and is continuous there; Scale is one float64 product and is what
   ``schedule * factor`` builds; Clip is its child's values clipped; Table holds its last value
   and reproduces any schedule it was built from.
3. Serialization of a depth-3 nest: Keras serialize/JSON/deserialize, config, pickle, and a
   ``.keras`` file loaded in a fresh process without ``custom_objects``.
4. Errors: Keras built-in and non-schedule children, bad boundaries / offsets / tables.
5. Purity and XLA (one trace for every step). (``model.fit(jit_compile=True)`` applying exactly
   a composite's values is checked with the other schedules in ``test_keras.py``.)
6. One walk: the NumPy engine runs the same generated composite code the Numba kernels compile.
"""

from __future__ import annotations

import copy
import json
import math
import pickle
import textwrap

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_within_budget, f32_budget, peak_of, run_fresh_python
from specs import (
    LARGE_STEPS,
    REFERENCE,
    build_example,
    last_exact_step,
    reference_steps,
    reference_values,
)

import fastlr
from fastlr import (
    Constant,
    CosineDecay,
    CosineDecayRestarts,
    CyclicalLearningRate,
    Offset,
    PiecewiseConstantDecay,
    PolynomialDecay,
    Scale,
    Table,
    Warmup,
    WarmupCosineDecay,
    WarmupCosineRestarts,
    WarmupStableDecay,
)
from fastlr.engines.numpy_ref import reference

BIG = [2**31 + 7, 10**12 + 1, 2**53 - 1]
F64_ULPS = 4 * 2.0**-52  # a few float64 ulps: the same formula compiled into another kernel


def _graph(schedule, steps):
    """fastlr's graph value(s) at ``steps`` (int64) as a NumPy float32 array."""
    return schedule(tf.constant(np.asarray(steps, dtype=np.int64))).numpy()


def _f64(schedule, steps):
    return schedule.evaluate(np.asarray(steps, dtype=np.int64), dtype="float64")


def _config(schedule) -> dict:
    return {k: v for k, v in schedule.get_config().items() if k != "name"}


def _reference(schedule, steps) -> np.ndarray:
    return reference_values(schedule, steps)


# ------------------------------------------------------------------------------------------------
# the nests
# ------------------------------------------------------------------------------------------------
# test_reference.py checks random-parameter nests of these same shapes (``_nest_depth2`` ...):
# keep the classes and parameter types in step, so that both share the compiled kernels.
def depth2():
    """Sequential > (Warmup > WarmupCosineRestarts (x2), Offset > CosineDecayRestarts, Table)."""
    return fastlr.Sequential(
        [
            Warmup(
                WarmupCosineRestarts(
                    1.0, 10, cycle_mult=1.5, warmup_steps=2, min_lr=0.05, gamma=0.9
                ),
                warmup_steps=5,
                start_lr=0.01,
            ),
            Warmup(WarmupCosineRestarts(0.6, 6, warmup_steps=3, scale_warmup=False), 4),
            Offset(CosineDecayRestarts(0.5, 7, t_mul=2.0, m_mul=0.8, alpha=0.1), 2**33 + 5),
            Table([0.3, 0.2, 0.1, 0.05]),
        ],
        [40, 120, 200],
    )


def depth3():
    """Offset > Sequential > (Warmup > Sequential > (Constant, CosineDecay),
    Offset > Warmup > CyclicalLearningRate, Table)."""
    return Offset(
        fastlr.Sequential(
            [
                Warmup(
                    fastlr.Sequential([Constant(0.2), CosineDecay(0.2, 50, alpha=0.1)], [3]),
                    warmup_steps=10,
                ),
                Offset(Warmup(CyclicalLearningRate(0.1, 1.0, 4, mode="triangular2"), 6), 11),
                Table([0.04, 0.03, 0.02, 0.01, 0.005]),
            ],
            [80, 300],
        ),
        offset=17,
    )


def depth3_far():
    """Warmup > Offset > Sequential > (PolynomialDecay, WarmupStableDecay, Warmup >
    WarmupCosineDecay), with the first switch and the shift near 2**40 and the last switch near
    2**53. (The Sequential sees steps past 2**53, its children never do: each runs from its
    boundary, and int64 comparisons are exact.)"""
    return Warmup(
        Offset(
            fastlr.Sequential(
                [
                    PolynomialDecay(1.0, 13, end_learning_rate=0.01, power=2.0, cycle=True),
                    WarmupStableDecay(0.5, 120, warmup_steps=10, decay_steps=40, min_lr=0.02),
                    Warmup(WarmupCosineDecay(0.3, 90, warmup_steps=5, min_lr=0.003), 9),
                ],
                [2**40, 2**53 - 100],
            ),
            offset=2**40 - 50,
        ),
        warmup_steps=20,
        start_lr=0.2,
    )


NESTS = {"depth2": depth2, "depth3": depth3, "depth3_far": depth3_far}


def _nest_steps(schedule) -> np.ndarray:
    steps = reference_steps(schedule)
    last = last_exact_step(schedule)  # an Offset inside moves its child's steps up
    assert {b for b in BIG if b <= last} | {last} <= set(steps.tolist())
    return steps


@pytest.fixture(scope="module", params=sorted(NESTS))
def nest(request):
    schedule = NESTS[request.param]()
    steps = _nest_steps(schedule)
    return schedule, steps, _reference(schedule, steps)


def _assert_f32(got, ref, steps, schedule):
    peak = max(float(np.max(np.abs(ref))), 1e-300)
    err = np.abs(got.astype(np.float64) - ref)
    bad = np.flatnonzero(~(err <= f32_budget(ref, peak)))
    assert bad.size == 0, f"{schedule!r}\n" + "\n".join(
        f"  step={int(steps[i])}: fastlr={got[i]!r} reference={ref[i]!r}" for i in bad[:8]
    )


def test_nest_depths():
    def depth(s):
        kids = s.children()
        return 0 if not kids else 1 + max(depth(c) for c in kids)

    assert depth(depth2()) == 2
    assert depth(depth3()) == 4
    assert depth(depth3_far()) == 4


def test_nest_graph_matches_reference(nest):
    schedule, steps, ref = nest
    got = _graph(schedule, steps)
    assert got.dtype == np.float32 and got.shape == steps.shape
    _assert_f32(got, ref, steps, schedule)


def test_nest_xla_matches_reference(nest):
    schedule, steps, ref = nest
    lr = tf.function(lambda s: schedule(s), jit_compile=True, autograph=False)
    got = lr(tf.constant(steps)).numpy()
    assert got.dtype == np.float32 and got.shape == steps.shape
    _assert_f32(got, ref, steps, schedule)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_nest_bulk_matches_reference(nest, dtype):
    schedule, steps, ref = nest
    got = schedule.evaluate(steps, dtype=dtype)
    assert_within_budget(got, ref, dtype, peak_of(schedule))
    # a range (no index array) gives the same values as the array of its steps
    np.testing.assert_array_equal(schedule.evaluate(range(301), dtype=dtype), got[:301])


def test_nest_values_at_large_steps_by_hand():
    """The large steps of ``depth3_far`` worked out from the definitions, not from steps_for."""
    s = depth3_far()
    poly = PolynomialDecay(1.0, 13, end_learning_rate=0.01, power=2.0, cycle=True)
    wsd = WarmupStableDecay(0.5, 120, warmup_steps=10, decay_steps=40, min_lr=0.02)
    last = Warmup(WarmupCosineDecay(0.3, 90, warmup_steps=5, min_lr=0.003), 9)
    # composite step t >= 20 -> offset child step t - 20 + 2**40 - 50 -> Sequential piece
    cases = {
        20: (poly, 2**40 - 50),
        69: (poly, 2**40 - 1),
        70: (wsd, 0),
        70 + 55: (wsd, 55),
        2**31 + 7: (wsd, 2**31 + 7 - 70),
        2**53 - 120 - 2**40 + 70: (wsd, 2**53 - 120 - 2**40),
        2**53 - 100 - 2**40 + 70 - 1: (wsd, 2**53 - 101 - 2**40),
        2**53 - 100 - 2**40 + 70: (last, 0),
        2**53 - 1: (last, 2**40 + 29),
    }
    steps = list(cases)
    want = np.array([REFERENCE[type(c).__name__](k, **_config(c)) for c, k in cases.values()])
    np.testing.assert_allclose(_f64(s, steps), want, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(_reference(s, steps), want, rtol=1e-15, atol=0)
    _assert_f32(_graph(s, steps), want, np.array(steps), s)


@pytest.mark.parametrize("offset", [2**20, 2**30 + 1, 2**40])
def test_offset_is_exact_up_to_the_childs_last_exact_step(offset):
    """An Offset runs its child at ``step + offset``. Every schedule is exact for the steps it
    sees up to 2**53 - 1 (beyond, float64 cannot hold a real-valued phase), so an Offset is exact
    while ``step + offset <= 2**53 - 1`` (documented), right up to that last step."""
    child = WarmupCosineRestarts(1.0, 7, warmup_steps=4, min_lr=0.5, scale_warmup=False)
    s = Offset(child, offset)
    last = 2**53 - 1 - offset
    steps = np.arange(last - 15, last + 1, dtype=np.int64)
    ref = _reference(s, steps)
    np.testing.assert_allclose(_f64(s, steps), ref, rtol=1e-12)
    _assert_f32(_graph(s, steps), ref, steps, s)


# ------------------------------------------------------------------------------------------------
# semantics from the definitions
# ------------------------------------------------------------------------------------------------
# (The shape of the Sequential-0 example: shared kernels.)
SEQ_CHILDREN = (Constant(0.02), CosineDecay(0.1, 1000, alpha=0.05), Constant(0.7))


@pytest.mark.parametrize("bounds", [(30, 100), (1, 2), (500, 2**40 + 3)])
def test_sequential_switches_exactly_at_each_boundary(bounds):
    s = fastlr.Sequential(list(SEQ_CHILDREN), list(bounds))
    a, b, c = SEQ_CHILDREN
    b0, b1 = bounds
    steps = [b0 - 1, b0, b1 - 1, b1]
    want64 = np.array([_f64(a, [b0 - 1])[0], _f64(b, [0])[0], _f64(b, [b1 - 1 - b0])[0]])
    want64 = np.append(want64, _f64(c, [0]))
    got64 = _f64(s, steps)
    np.testing.assert_allclose(got64, want64, rtol=F64_ULPS)
    want32 = np.array([_graph(a, b0 - 1), _graph(b, 0), _graph(b, b1 - 1 - b0), _graph(c, 0)])
    np.testing.assert_array_equal(_graph(s, steps), want32)
    assert got64[0] != got64[1] and got64[2] != got64[3]  # the switch is visible


@pytest.mark.parametrize("bounds", [(30, 100), (500, 2**40 + 3)])
def test_sequential_children_restart_from_their_own_step_zero(bounds):
    s = fastlr.Sequential(list(SEQ_CHILDREN), list(bounds))
    starts = (0, *bounds)
    ends = (*bounds, None)
    for child, start, end in zip(SEQ_CHILDREN, starts, ends, strict=True):
        local = np.arange(0, 400 if end is None else min(end - start, 400), dtype=np.int64)
        if end is None:
            local = np.concatenate([local, np.array([b - start for b in BIG if b >= start])])
        # float64: the composite's kernel compiles the child's formula into its own code, so
        # the last bits may differ from the child's own kernel (FMA contraction); the graph
        # runs the same ops on the same steps: identical.
        np.testing.assert_allclose(_f64(s, local + start), _f64(child, local), rtol=F64_ULPS)
        np.testing.assert_array_equal(_graph(s, local + start), _graph(child, local))
        np.testing.assert_array_equal(
            s.evaluate(local + start, dtype="float32"), child.evaluate(local, dtype="float32")
        )


def test_sequential_of_one_schedule_is_that_schedule():
    child = SEQ_CHILDREN[1]
    s = fastlr.Sequential([child], [])
    steps = np.array([*range(200), *BIG], np.int64)
    np.testing.assert_allclose(_f64(s, steps), _f64(child, steps), rtol=F64_ULPS)
    np.testing.assert_array_equal(_graph(s, steps), _graph(child, steps))


# (The first two are the children of test_reference's Offset examples: shared kernels.)
OFFSET_CHILDREN = {
    "WarmupCosineDecay": build_example("WarmupCosineDecay", 0),
    "CyclicalLearningRate": build_example("CyclicalLearningRate", 1),
    "depth2": depth2(),
}


@pytest.mark.parametrize("k", [0, 1, 7, 2**20 + 1, 2**40 + 3])
@pytest.mark.parametrize("child", sorted(OFFSET_CHILDREN))
def test_offset_is_an_exact_shift(child, k):
    s = OFFSET_CHILDREN[child]
    shifted = Offset(s, k)
    t = np.array([*range(300), 2**31 + 7, 10**12 + 1, 2**50 + 11], dtype=np.int64)
    np.testing.assert_array_equal(_f64(shifted, t), _f64(s, t + k))
    np.testing.assert_array_equal(
        shifted.evaluate(t, dtype="float32"), s.evaluate(t + k, dtype="float32")
    )
    np.testing.assert_array_equal(_graph(shifted, t), _graph(s, t + k))


def test_offset_of_offset_adds_up():
    s = OFFSET_CHILDREN["CyclicalLearningRate"]
    t = np.arange(500, dtype=np.int64)
    twice = Offset(Offset(s, 13), 2**33)
    np.testing.assert_array_equal(_graph(twice, t), _graph(s, t + 13 + 2**33))
    np.testing.assert_array_equal(reference(twice, t), reference(s, t + 13 + 2**33))


@pytest.mark.parametrize("factor", [0.0, 0.01, 1.0, 3.0, 2**-40])
@pytest.mark.parametrize("child", sorted(OFFSET_CHILDREN))
def test_scale_is_one_float64_product(child, factor):
    s = OFFSET_CHILDREN[child]
    t = np.array([*range(300), 2**31 + 7, 10**12 + 1, 2**62 + 11], dtype=np.int64)
    scaled = Scale(s, factor)
    want = factor * _f64(s, t)
    np.testing.assert_array_equal(_f64(scaled, t), want)
    np.testing.assert_array_equal(scaled.evaluate(t, dtype="float32"), want.astype(np.float32))
    np.testing.assert_array_equal(reference(scaled, t), factor * reference(s, t))
    np.testing.assert_array_equal(_graph(scaled, t), want.astype(np.float32))


def test_multiplying_a_schedule_builds_scale():
    s = WarmupCosineDecay(1.0, 100, warmup_steps=10)
    for made in (s * 0.5, 0.5 * s, s * np.float32(0.5), np.float64(0.5) * s, s * 1):
        assert type(made) is Scale and made.schedule == s
    assert (s * 0.5).factor == 0.5 and (s * 1).factor == 1.0
    assert s * 0.5 == 0.5 * s
    twice = (s * 0.5) * 0.25  # nested: each product rounded once, as written
    assert twice == Scale(Scale(s, 0.5), 0.25)
    with pytest.raises(ValueError, match=r"Argument `factor` must be >= 0. Received: factor=-1"):
        s * -1
    for bad in (True, "2", None, [2.0], s):
        with pytest.raises(TypeError):
            s * bad
        with pytest.raises(TypeError):
            bad * s


@pytest.mark.parametrize("start_lr", [0.0, 0.02, 3.0])
@pytest.mark.parametrize("w", [1, 7, 64])
def test_warmup_ramps_to_the_child_and_is_continuous(w, start_lr):
    child = WarmupCosineRestarts(1.0, 10, cycle_mult=2.0, warmup_steps=3, min_lr=0.1)
    first = _f64(child, [0])[0]  # min_lr: the child's own warmup starts at its floor
    s = Warmup(child, w, start_lr=start_lr)
    steps = np.arange(w + 1, dtype=np.int64)
    got = _f64(s, steps)
    assert got[0] == start_lr
    assert got[w] == first  # continuous: the ramp ends where the child starts
    ramp = start_lr + (first - start_lr) * (steps[:-1] / w)
    np.testing.assert_allclose(got[:-1], ramp, rtol=1e-15, atol=0)
    assert np.all(np.diff(got) * np.sign(first - start_lr) >= 0)  # monotone towards child(0)
    # after the warmup, the child from its own step 0
    t = np.array([*range(300), *BIG], dtype=np.int64)
    t = t[t <= 2**53 - 1 - w]
    np.testing.assert_array_equal(_f64(s, t + w), _f64(child, t))
    np.testing.assert_array_equal(_graph(s, t + w), _graph(child, t))
    assert _graph(s, w) == _graph(child, 0)


def test_warmup_of_zero_steps_is_the_child():
    child = CosineDecay(0.1, 100, alpha=0.2)
    s = Warmup(child, 0, start_lr=0.7)
    steps = np.array([*range(150), *BIG], np.int64)
    np.testing.assert_array_equal(_f64(s, steps), _f64(child, steps))
    np.testing.assert_array_equal(_graph(s, steps), _graph(child, steps))


def test_warmup_ramps_to_a_composite_first_value():
    child = fastlr.Sequential([Table([0.25, 0.5]), Constant(1.0)], [2])
    s = Warmup(child, 4, start_lr=0.05)
    want = [0.05, 0.1, 0.15, 0.2, 0.25, 0.5, 1.0, 1.0]
    np.testing.assert_allclose(reference(s, np.arange(8)), want, rtol=1e-15)
    np.testing.assert_array_equal(_graph(s, range(8)), np.float32(reference(s, np.arange(8))))
    assert [REFERENCE["Warmup"](t, **_config(s)) for t in range(8)] == pytest.approx(want)


@pytest.mark.parametrize(("lo", "hi"), [(0.02, None), (None, 0.05), (0.02, 0.05), (0.1, 0.1)])
def test_clip_is_the_childs_values_clipped(lo, hi):
    child = fastlr.Sequential([Constant(0.1), fastlr.ExponentialDecay(0.1, 10, 0.5)], [5])
    s = fastlr.Clip(child, min_lr=lo, max_lr=hi)
    steps = np.array([0, 4, 5, 14, 15, 25, 35, *LARGE_STEPS, 2**63 - 1], np.int64)
    want = np.clip(_f64(child, steps), lo, hi)
    np.testing.assert_array_equal(_f64(s, steps), want)
    np.testing.assert_array_equal(reference(s, steps), want)
    np.testing.assert_array_equal(_graph(s, steps), np.float32(want))


VALUES = [0.5, 0.25, 0.0, 0.125, 1e-7, 3.0]


def test_table_values_and_holds_the_last():
    t = Table(VALUES)
    n = len(VALUES)
    after = np.array([n - 1, n, n + 1, 1000, *LARGE_STEPS], dtype=np.int64)
    np.testing.assert_array_equal(_f64(t, range(n)), VALUES)
    np.testing.assert_array_equal(_f64(t, after), VALUES[-1])
    np.testing.assert_array_equal(_graph(t, range(n)), np.float32(VALUES))
    np.testing.assert_array_equal(_graph(t, after), np.float32(VALUES[-1]))
    np.testing.assert_array_equal(t.evaluate(after, dtype="float32"), np.float32(VALUES[-1]))
    np.testing.assert_array_equal(_graph(t, [-5, -1]), np.float32(VALUES[0]))


def test_table_of_one_value_is_constant():
    t = Table(np.array([0.3]))
    steps = np.array([0, 1, 2, *LARGE_STEPS], np.int64)
    np.testing.assert_array_equal(_f64(t, steps), 0.3)
    np.testing.assert_array_equal(_graph(t, steps), np.float32(0.3))


@pytest.mark.parametrize("name", ["depth2", "WarmupCosineDecay"])
def test_table_built_from_evaluate_reproduces_the_schedule(name):
    s = OFFSET_CHILDREN[name]
    n = 257
    values = fastlr.evaluate(s, n, dtype="float64")
    table = Table(values)
    assert len(table.values) == n
    np.testing.assert_array_equal(table.evaluate(n, dtype="float64"), values)
    np.testing.assert_array_equal(table.evaluate(n, dtype="float32"), values.astype(np.float32))
    np.testing.assert_array_equal(_graph(table, range(n)), values.astype(np.float32))
    # a float32 graph value rounds the float64 value once: so does the table's
    np.testing.assert_array_equal(_graph(table, range(n)), _graph(s, range(n)))
    np.testing.assert_array_equal(table.evaluate(n, dtype="float32"), s.evaluate(n))


# ------------------------------------------------------------------------------------------------
# serialization at depth 3
# ------------------------------------------------------------------------------------------------
SERIAL_STEPS = [0, 1, 5, 10, 27, 96, 97, 98, 317, 318, 1000, 2**31 + 7, 10**12 + 1, 2**53 - 1]


def _assert_same(a, b):
    assert type(a) is type(b)
    assert a == b
    assert a.get_config() == b.get_config()
    np.testing.assert_array_equal(_graph(a, SERIAL_STEPS), _graph(b, SERIAL_STEPS))
    np.testing.assert_array_equal(_f64(a, SERIAL_STEPS), _f64(b, SERIAL_STEPS))


@pytest.mark.parametrize("make", [depth3, depth3_far], ids=["depth3", "depth3_far"])
def test_keras_serialize_json_round_trip(make):
    s = make()
    blob = keras.saving.serialize_keras_object(s)
    assert blob["registered_name"] == f"fastlr>{type(s).__name__}"
    text = json.dumps(blob)
    assert "fastlr>Sequential" in text and "fastlr>Warmup" in text
    back = keras.saving.deserialize_keras_object(json.loads(text))
    _assert_same(back, s)
    # the children are real fastlr schedules again, all the way down
    node = back
    while node.children():
        node = node.children()[0]
        assert isinstance(node, fastlr.Schedule)


@pytest.mark.parametrize("make", [depth3, depth3_far], ids=["depth3", "depth3_far"])
def test_config_round_trip(make):
    s = make()
    config = s.get_config()
    assert json.loads(json.dumps(config)) == config
    cls = type(s)
    _assert_same(cls.from_config(config), s)
    _assert_same(cls.from_config(json.loads(json.dumps(config))), s)
    assert hash(cls.from_config(config)) == hash(s)
    # get_config returns a fresh structure: editing it leaves the schedule alone
    before = copy.deepcopy(config)
    config.clear()
    assert s.get_config() == before


@pytest.mark.parametrize("make", [depth3, depth3_far], ids=["depth3", "depth3_far"])
def test_pickle_and_copies(make):
    s = make()
    for clone in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s), copy.copy(s)):
        _assert_same(clone, s)
        assert isinstance(clone, keras.optimizers.schedules.LearningRateSchedule)


LOAD_SCRIPT = textwrap.dedent(
    """
    import json, sys
    import fastlr
    import keras

    model = keras.models.load_model(sys.argv[1])
    lr = model.optimizer._learning_rate
    steps = json.loads(sys.argv[2])
    print("RESULT" + json.dumps({
        "module": type(lr).__module__,
        "class": type(lr).__name__,
        "config": lr.get_config(),
        "values": [float(x) for x in lr(steps).numpy()],
        "bulk64": lr.evaluate(steps, dtype="float64").tolist(),
    }))
    """
)


@pytest.fixture(scope="module")
def saved_depth3(tmp_path_factory):
    schedule = depth3()
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(optimizer=keras.optimizers.SGD(learning_rate=schedule), loss="mse")
    path = tmp_path_factory.mktemp("compose-model") / "depth3.keras"
    model.save(path)
    return schedule, str(path)


def test_keras_file_load_in_process(saved_depth3):
    schedule, path = saved_depth3
    lr = keras.models.load_model(path).optimizer._learning_rate
    _assert_same(lr, schedule)


def test_keras_file_load_in_fresh_process(saved_depth3):
    schedule, path = saved_depth3
    loaded = run_fresh_python(LOAD_SCRIPT, path, json.dumps(SERIAL_STEPS))
    assert loaded["module"] == type(schedule).__module__
    assert loaded["class"] == type(schedule).__name__
    assert loaded["config"] == json.loads(json.dumps(schedule.get_config()))
    assert loaded["values"] == _graph(schedule, SERIAL_STEPS).tolist()
    assert loaded["bulk64"] == _f64(schedule, SERIAL_STEPS).tolist()


# ------------------------------------------------------------------------------------------------
# errors
# ------------------------------------------------------------------------------------------------
A, B = Constant(0.1), CosineDecay(0.1, 100)
KERAS_COSINE = keras.optimizers.schedules.CosineDecay(0.1, 100)


@pytest.mark.parametrize(
    ("build", "arg"),
    [
        (lambda c: Warmup(c, 5), "schedule"),
        (lambda c: Offset(c, 5), "schedule"),
        (lambda c: fastlr.Sequential([A, c], [5]), "schedules[1]"),
        (lambda c: fastlr.Sequential([c], []), "schedules[0]"),
    ],
    ids=["Warmup", "Offset", "Sequential-1", "Sequential-0"],
)
def test_keras_builtin_child_points_to_the_fastlr_drop_in(build, arg):
    with pytest.raises(TypeError, match=r"fastlr\.CosineDecay") as info:
        build(KERAS_COSINE)
    assert f"`{arg}`" in str(info.value)
    piecewise = keras.optimizers.schedules.PiecewiseConstantDecay([10], [0.1, 0.01])
    with pytest.raises(TypeError, match=r"fastlr\.PiecewiseConstantDecay"):
        build(piecewise)
    assert fastlr.PiecewiseConstantDecay  # the suggested drop-in exists


@pytest.mark.parametrize(
    "child",
    [lambda step: 0.1, 0.1, 3, None, "CosineDecay", PiecewiseConstantDecay],
    ids=["lambda", "float", "int", "None", "str", "class"],
)
@pytest.mark.parametrize(
    ("build", "arg"),
    [
        (lambda c: Warmup(c, 5), "schedule"),
        (lambda c: Offset(c, 5), "schedule"),
        (lambda c: fastlr.Sequential([A, B, c], [5, 9]), "schedules[2]"),
    ],
    ids=["Warmup", "Offset", "Sequential"],
)
def test_non_schedule_child_is_a_type_error(build, arg, child):
    with pytest.raises(TypeError) as info:
        build(child)
    assert f"`{arg}`" in str(info.value)


@pytest.mark.parametrize(
    ("kwargs", "arg", "exc"),
    [
        (dict(schedules=[], boundaries=[]), "schedules", ValueError),
        (dict(schedules=A, boundaries=[]), "schedules", TypeError),
        (dict(schedules="ab", boundaries=[]), "schedules", TypeError),
        (dict(schedules=[A, B], boundaries=[]), "boundaries", ValueError),
        (dict(schedules=[A, B], boundaries=[3, 6]), "boundaries", ValueError),
        (dict(schedules=[A], boundaries=[3]), "boundaries", ValueError),
        (dict(schedules=[A, B], boundaries=5), "boundaries", TypeError),
        (dict(schedules=[A, B], boundaries=None), "boundaries", TypeError),
        (dict(schedules=[A, B, A], boundaries=[5, 5]), "boundaries", ValueError),
        (dict(schedules=[A, B, A], boundaries=[9, 5]), "boundaries", ValueError),
        (dict(schedules=[A, B], boundaries=[0]), "boundaries[0]", ValueError),
        (dict(schedules=[A, B, A], boundaries=[4, -3]), "boundaries[1]", ValueError),
        (dict(schedules=[A, B], boundaries=[2.5]), "boundaries[0]", TypeError),
        (dict(schedules=[A, B], boundaries=[5.0]), "boundaries[0]", TypeError),
        (dict(schedules=[A, B], boundaries=[True]), "boundaries[0]", TypeError),
        (dict(schedules=[A, B], boundaries=["5"]), "boundaries[0]", TypeError),
        (dict(schedules=[A, B], boundaries=[2**60]), "boundaries[0]", ValueError),
    ],
)
def test_sequential_bad_arguments(kwargs, arg, exc):
    with pytest.raises(exc) as info:
        fastlr.Sequential(**kwargs)
    assert f"`{arg}`" in str(info.value)


@pytest.mark.parametrize(
    ("build", "arg", "exc"),
    [
        (lambda: Offset(B, -1), "offset", ValueError),
        (lambda: Offset(B, 1.5), "offset", TypeError),
        (lambda: Offset(B, 3.0), "offset", TypeError),
        (lambda: Offset(B, None), "offset", TypeError),
        (lambda: Offset(B, 2**60), "offset", ValueError),
        (lambda: Warmup(B, -1), "warmup_steps", ValueError),
        (lambda: Warmup(B, 2.5), "warmup_steps", TypeError),
        (lambda: Warmup(B, 5, start_lr=-0.1), "start_lr", ValueError),
        (lambda: Warmup(B, 5, start_lr=math.nan), "start_lr", ValueError),
        (lambda: Warmup(B, 5, start_lr=math.inf), "start_lr", ValueError),
        (lambda: Warmup(B, 5, start_lr="0.1"), "start_lr", TypeError),
        (lambda: Table([]), "values", ValueError),
        (lambda: Table(np.array([])), "values", ValueError),
        (lambda: Table([0.1, math.nan]), "values", ValueError),
        (lambda: Table([0.1, math.inf]), "values", ValueError),
        (lambda: Table(np.array([0.1, -math.inf])), "values", ValueError),
        (lambda: Table([0.1, -0.01]), "values", ValueError),
        (lambda: Table(np.ones((2, 2))), "values", ValueError),
        (lambda: Table(np.ones((3, 1))), "values", ValueError),
        (lambda: Table(0.1), "values", TypeError),
        (lambda: Table("abc"), "values", TypeError),
        (lambda: Table(None), "values", TypeError),
    ],
)
def test_offset_warmup_table_bad_arguments(build, arg, exc):
    with pytest.raises(exc) as info:
        build()
    assert f"`{arg}`" in str(info.value)


@pytest.mark.parametrize("bad", [[0.1, "a"], [0.1, None], [True, 0.1], [[0.1]]])
def test_table_non_numbers_are_refused(bad):
    with pytest.raises((TypeError, ValueError), match="`values`"):
        Table(bad)


# ------------------------------------------------------------------------------------------------
# purity and XLA
# ------------------------------------------------------------------------------------------------
def _snapshot(schedule):
    nodes, todo = [], [schedule]
    while todo:  # every node of the tree: config and state
        node = todo.pop()
        nodes.append((copy.deepcopy(node.get_config()), copy.deepcopy(node.__dict__)))
        todo.extend(node.children())
    return nodes


@pytest.mark.parametrize("make", [depth2, depth3], ids=["depth2", "depth3"])
def test_calls_leave_the_composite_unchanged(make):
    s = make()
    before = _snapshot(s)
    values = _graph(s, SERIAL_STEPS)

    @tf.function
    def lr(step):
        return s(step)

    for i in range(100):
        lr(tf.constant(i * 7919 + (2**40 if i % 2 else 0), tf.int64))
    for i in range(5):
        s(i)
        s.evaluate([i, 2**40 + i])
    assert _snapshot(s) == before
    np.testing.assert_array_equal(_graph(s, SERIAL_STEPS), values)
    with pytest.raises(AttributeError):
        s.offset = 3


@pytest.mark.parametrize("make", [depth2, depth3_far], ids=["depth2", "depth3_far"])
def test_one_xla_trace_serves_every_step(make):
    s = make()
    traces = []

    @tf.function(jit_compile=True)
    def lr(step):
        traces.append(1)
        return s(step)

    far = 2**53 - 100 - 2**40 + 70  # depth3_far's last switch
    steps = sorted({*SERIAL_STEPS, 39, 40, 41, 199, 200, 201, 69, 70, far - 1, far})
    want = _reference(s, steps)
    got = np.array([lr(tf.constant(step, tf.int64)).numpy() for step in steps], np.float32)
    assert len(traces) == 1
    _assert_f32(got, want, np.array(steps), s)
    np.testing.assert_array_equal(got, _graph(s, steps))


def test_every_engine_runs_the_one_generated_walk(monkeypatch):
    """One walk over a composite's children: the vectorized engines (here NumPy) run, uncompiled,
    the very code the Numba engines compile, generated once per composite class by
    ``_structure._composite_source``; no engine has a walk of its own."""
    from fastlr.engines import _structure, numba_cpu
    from fastlr.engines.numpy_ref import NumpyOps

    nest = Warmup(fastlr.Sequential([CosineDecay(0.1, 10), Offset(Constant(0.01), 3)], [20]), 5)
    struct = _structure.structure(nest)
    generated = []
    source = _structure._composite_source

    def spy(cls, n_children):
        generated.append(cls.__name__)
        return source(cls, n_children)

    monkeypatch.setattr(_structure, "_composite_source", spy)
    monkeypatch.setattr(_structure, "_VECTORIZED", {})  # fresh caches: both engines generate
    monkeypatch.setattr(numba_cpu, "_SCALARS", {})
    reference(nest, np.arange(40))
    assert generated == ["Warmup", "Sequential", "Offset"]
    compiled = numba_cpu.scalar_function(struct)
    assert generated == ["Warmup", "Sequential", "Offset"] * 2
    plain = _structure._VECTORIZED[NumpyOps][struct]
    assert compiled.py_func.__code__ == plain.__code__
    assert "max" not in plain.__code__.co_names  # the vocabulary's `maximum`, for tensors too
