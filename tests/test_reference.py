"""fastlr against an independent per-step oracle (``tests/reference.py``) and peer golden values.

* Every registered schedule, for every example in ``conftest.EXAMPLES`` and a few fixed random
  parameter sets (composites also nested two and three deep), is compared with the reference at
  0..300, at every phase boundary +-1 (derived from the parameters, also the cycle boundaries
  around the large steps; a composite's own boundaries and its children's, shifted into its
  steps), at ``LARGE_STEPS`` and past 2**53 up to 2**63 - 1 (``BEYOND_2_53``, where the schedule
  promises exactness: see :func:`last_exact_step`): the float64 bulk path within 1e-12 relative,
  the TF graph path and the float32 bulk path within one float32 ulp.
* The reference itself is checked against Keras (the Keras-named schedules, below 2**24 where
  Keras's float32 is exact) and against PyTorch's CyclicLR / OneCycleLR golden values
  (``tests/peers/torch_golden.json``, made by ``tests/peers/make_golden.py``).
* ``WarmupCosineRestarts(whole_cycles=True)`` against the blog recipe it reproduces
  (``tests/peers/blog_golden.json``, made by ``tests/peers/make_blog_golden.py``): at every
  cycle and warmup boundary +-1 up to 2**63 - 1 and at large steps, within the float64 and
  float32 budgets.

Run with ``-s`` to see the worst float32 ulp error over the whole registry.
"""

from __future__ import annotations

import functools
import json
import math
import pathlib
import random
from fractions import Fraction

import numpy as np
import pytest
import tensorflow as tf
from conftest import assert_within_budget, f32_budget
from specs import (
    REFERENCE,
    SPECS,
    drawn_kwargs,
    example_kwargs,
    reference_steps,
    reference_values,
)
from specs._oracle import cycle_of

import fastlr
from fastlr.schedules import KERAS_NAMED, REGISTRY

RTOL64 = 1e-12
ATOL64 = 1e-15
GOLDEN = pathlib.Path(__file__).parent / "peers" / "torch_golden.json"
BLOG_GOLDEN = pathlib.Path(__file__).parent / "peers" / "blog_golden.json"
N_DRAWN = 3


# --------------------------------------------------------------------------------------------
# parameter sets: the specs' examples, drawn ones, nests
# --------------------------------------------------------------------------------------------
def _drawn(name: str, rng: random.Random) -> dict:
    """One of the drawn parameter sets of ``name`` (for the nests' children)."""
    return rng.choice(drawn_kwargs(name, N_DRAWN))


def _random_offset(rng: random.Random) -> int:
    """An offset of any magnitude up to 2**42."""
    return rng.randint(0, 2 ** rng.randint(2, 42))


def _table(rng: random.Random, longest: int = 20):
    return fastlr.Table([rng.uniform(0, 1) for _ in range(rng.randint(1, longest))])


# Two- and three-level nests, with random parameters. Their shapes are test_compose.py's
# ``depth2``, ``depth3`` and ``depth3_far`` (same classes, same parameter types): the two modules
# share the compiled kernels.
def _nest_depth2(rng: random.Random) -> tuple[str, dict]:
    """Sequential of (Warmup of WarmupCosineRestarts) x 2, Offset of CosineDecayRestarts, Table."""
    u = rng.uniform

    def warm_wcr():
        wcr = fastlr.WarmupCosineRestarts(**_drawn("WarmupCosineRestarts", rng))
        return fastlr.Warmup(wcr, rng.randint(0, 30), start_lr=rng.choice([0.0, u(0, 1)]))

    cdr = fastlr.CosineDecayRestarts(
        u(0.01, 1),
        rng.randint(2, 30),
        t_mul=rng.choice([1.0, 1.5, 2.0, 3.0]),
        m_mul=u(0.5, 1),
        alpha=rng.choice([0.0, u(0, 0.3)]),
    )
    children = [warm_wcr(), warm_wcr(), fastlr.Offset(cdr, _random_offset(rng)), _table(rng)]
    return "Sequential", dict(schedules=children, boundaries=sorted(rng.sample(range(1, 300), 3)))


def _nest_depth3(rng: random.Random) -> tuple[str, dict]:
    """Offset of a Sequential of (Warmup of a Sequential, Offset of a Warmup, Table)."""
    u = rng.uniform
    inner = fastlr.Sequential(
        [
            fastlr.Constant(u(0, 1)),
            fastlr.CosineDecay(u(0, 1), rng.randint(1, 80), alpha=u(0, 0.5)),
        ],
        [rng.randint(1, 20)],
    )
    clr = fastlr.CyclicalLearningRate(**_drawn("CyclicalLearningRate", rng))
    seq = fastlr.Sequential(
        [
            fastlr.Warmup(inner, rng.randint(0, 20), start_lr=rng.choice([0.0, u(0, 1)])),
            fastlr.Offset(fastlr.Warmup(clr, rng.randint(0, 20)), rng.randint(0, 50)),
            _table(rng),
        ],
        sorted(rng.sample(range(1, 400), 2)),
    )
    return "Offset", dict(schedule=seq, offset=_random_offset(rng))


def _nest_depth3_far(rng: random.Random) -> tuple[str, dict]:
    """Warmup of an Offset of a Sequential whose switches (and the offset) are near 2**40 and
    2**53."""
    u = rng.uniform
    b0, b1 = rng.randint(2**38, 2**42), 2**53 - rng.randint(50, 2000)
    seq = fastlr.Sequential(
        [
            fastlr.PolynomialDecay(
                u(0.01, 1), rng.randint(1, 50), u(0, 0.01), power=u(0.3, 3), cycle=True
            ),
            fastlr.WarmupStableDecay(**_drawn("WarmupStableDecay", rng)),
            fastlr.Warmup(
                fastlr.WarmupCosineDecay(**_drawn("WarmupCosineDecay", rng)),
                rng.randint(0, 20),
            ),
        ],
        [b0, b1],
    )
    offset = fastlr.Offset(seq, b0 - rng.randint(0, 300))
    return "Warmup", dict(schedule=offset, warmup_steps=rng.randint(0, 40), start_lr=u(0, 1))


def _nested_cases() -> dict[str, tuple[str, dict]]:
    """Fixed random nests: two of each shape."""
    rng = random.Random("fastlr-reference-nested")
    cases = {}
    for i in range(2):
        cases[f"nested-depth2-{i}"] = _nest_depth2(rng)
        cases[f"nested-depth3-{i}"] = _nest_depth3(rng)
        cases[f"nested-depth3_far-{i}"] = _nest_depth3_far(rng)
    return cases


def _cases() -> dict[str, tuple[str, dict]]:
    """``case id -> (class name, constructor kwargs)``; composites' kwargs hold built children."""
    cases = {}
    for name, spec in SPECS.items():
        for i in range(len(spec.examples)):
            cases[f"{name}-{i}"] = (name, example_kwargs(name, i))
        for i, kwargs in enumerate(drawn_kwargs(name, N_DRAWN)):
            cases[f"{name}-drawn{i}"] = (name, kwargs)
    cases.update(_nested_cases())
    return cases


CASES = _cases()


def test_every_schedule_has_cases():
    assert {name for name, _ in CASES.values()} == set(REGISTRY)
    assert all(f"{name}-drawn0" in CASES for name in REGISTRY)


# --------------------------------------------------------------------------------------------
# the comparisons
# --------------------------------------------------------------------------------------------
@functools.cache
def results(case: str):
    """``(schedule, steps, reference, float64 bulk, float32 graph, peak, float32 bulk)``."""
    name, params = CASES[case]
    schedule = REGISTRY[name](**params)
    steps = reference_steps(schedule)
    ref = reference_values(schedule, steps)
    f64 = schedule.evaluate(steps, dtype="float64")
    f32 = schedule(tf.constant(steps, dtype=tf.int64)).numpy()
    peak = max(float(np.max(np.abs(ref))), 1e-300)
    bulk32 = schedule.evaluate(steps, dtype="float32")
    return schedule, steps, ref, f64, f32, peak, bulk32


def _report(steps, ref, got, bad, limit=8) -> str:
    idx = np.flatnonzero(bad)[:limit]
    return "\n".join(f"  step={int(steps[i])}: fastlr={got[i]!r} reference={ref[i]!r}" for i in idx)


@pytest.mark.parametrize("case", sorted(CASES))
def test_float64_bulk_matches_reference(case):
    schedule, steps, ref, f64, _, peak, _ = results(case)
    assert f64.dtype == np.float64
    # The float64 contract (conftest.assert_within_budget): 1e-12 relative plus 1e-15 of the peak.
    bad = ~(np.abs(f64 - ref) <= RTOL64 * np.abs(ref) + ATOL64 * max(peak, 1.0))
    assert not bad.any(), f"{schedule!r}: {int(bad.sum())} steps off\n" + _report(
        steps, ref, f64, bad
    )


@functools.cache
def backend32(case: str, backend: str) -> np.ndarray:
    """The float32 values of the JAX (under ``jax.jit``) or PyTorch engine at the case's steps."""
    schedule, steps, *_ = results(case)
    if backend == "jax":
        import jax

        from fastlr.engines import jax_ops

        with jax.enable_x64(True):  # int64 steps into jit (else JAX truncates them to int32)
            return np.asarray(jax.jit(lambda s: jax_ops.call(schedule, s))(steps))
    import torch

    from fastlr.engines import torch_ops

    return torch_ops.call(schedule, torch.from_numpy(steps)).numpy()


BACKEND_CASES = sorted(
    {
        *{CASES[c][0]: c for c in sorted(CASES, reverse=True)}.values(),
        "WarmupCosineRestarts-3",
        "CosineAnnealing-2",
        "WarmupStableDecay-4",
    }
)
"""The first parameter set of every class, the blog recipe's whole cycles (a table searched
with ``take``: a formula of its own), and a cosine wave whose period is not a whole number of
steps (double-double arithmetic: :func:`fastlr.schedules._curves.wave`; and in a WSD decay, with
a 1-sqrt warmup). The backends' engines run the same formulas as TF's: one case per formula is
enough, and a ``jax.jit`` trace per case costs CI time."""


@pytest.mark.parametrize(
    "case, engine",
    [(c, e) for c in sorted(CASES) for e in ("graph", "bulk")]
    + [(c, e) for c in BACKEND_CASES for e in ("jax", "torch")],
)
def test_float32_matches_reference(case, engine):
    schedule, steps, ref, _, graph32, peak, bulk32 = results(case)
    f32 = {"graph": graph32, "bulk": bulk32}.get(engine)
    if f32 is None:
        f32 = backend32(case, engine)
        # the same formulas, int64 phases and float64 math: the same float32 values as TF's,
        # except that TF flushes subnormal results to zero on the CPU (the reference check
        # below covers those)
        normal = np.abs(ref) >= np.finfo(np.float32).tiny
        np.testing.assert_array_equal(f32[normal], graph32[normal])
    assert f32.dtype == np.float32 and f32.shape == steps.shape
    err = np.abs(f32.astype(np.float64) - ref)
    bad = ~(err <= f32_budget(ref, peak))
    assert not bad.any(), f"{schedule!r}: {int(bad.sum())} steps off\n" + _report(
        steps, ref, f32, bad
    )


def float32_errors(ref: np.ndarray, f32: np.ndarray, peak: float) -> np.ndarray:
    """Error of the float32 results in float32 ulps of the reference.

    Values below ``2**-24 * peak`` ("near zero": there the float64 formula's own absolute error,
    ~1e-16 * peak, may exceed a float32 ulp) are measured in units of ``2**-24 * peak`` instead.
    """
    err = np.abs(f32.astype(np.float64) - ref)
    ulp = np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64)
    unit = np.where(np.abs(ref) < 2.0**-24 * peak, 2.0**-24 * peak, ulp)
    return np.where(np.isnan(err), np.inf, err / unit)  # a NaN is infinitely wrong


@pytest.mark.parametrize("engine", ["graph", "bulk"])
def test_worst_float32_ulp_error_over_registry(engine):
    worst = (-1.0, "", 0, 0.0, 0.0)
    per_class: dict[str, tuple[float, str]] = {}
    for case in sorted(CASES):
        _, steps, ref, _, graph32, peak, bulk32 = results(case)
        f32 = graph32 if engine == "graph" else bulk32
        ulps = float32_errors(ref, f32, peak)
        i = int(np.argmax(ulps))
        name = CASES[case][0]
        if float(ulps[i]) >= per_class.get(name, (-1.0, ""))[0]:
            per_class[name] = (float(ulps[i]), f"{case} at step {int(steps[i])}")
        if ulps[i] > worst[0]:
            worst = (float(ulps[i]), case, int(steps[i]), float(f32[i]), float(ref[i]))
    print(
        f"\nworst float32 {engine} error over the registry ({len(CASES)} parameter sets): "
        f"{worst[0]:.4g} ulp ({worst[1]} at step {worst[2]}: fastlr={worst[3]!r}, "
        f"reference={worst[4]!r})"
    )
    for name, (u, where) in sorted(per_class.items()):
        print(f"  {name:24s} {u:.4g} ulp  ({where})")
    assert worst[0] <= 1.0


@pytest.mark.parametrize("case", sorted(CASES))
def test_negative_steps_count_as_zero(case):
    schedule, *_ = results(case)
    name, _ = CASES[case]
    config = {k: v for k, v in schedule.get_config().items() if k != "name"}
    at_zero = REFERENCE[name](0, **config)
    assert REFERENCE[name](-7, **config) == at_zero
    got = schedule(tf.constant([-(2**40), -1, 0], dtype=tf.int64)).numpy()
    assert np.all(got == np.float32(at_zero)), got


# --------------------------------------------------------------------------------------------
# the motivating case: Keras's float32 cycle index past 2**24
# --------------------------------------------------------------------------------------------
def test_cosine_decay_restarts_past_2_24_is_exact():
    s = fastlr.CosineDecayRestarts(1.0, 2, t_mul=1.0)
    step = 2**24 + 1
    assert REFERENCE["CosineDecayRestarts"](step, **s.get_config()) == 0.5
    # float64: sin(pi/4)**2 is 0.5 to within one float64 ulp
    assert s.evaluate([step], dtype="float64")[0] == pytest.approx(0.5, rel=3e-16)
    assert float(s(tf.constant(step, dtype=tf.int64))) == 0.5
    assert float(s(step)) == 0.5


@pytest.mark.parametrize(
    ("decay_steps", "num_cycles"),
    [
        (90, 0.3),
        (37, 1.25),
        (7, 1 / 3),
        (10**6 + 3, 7.77),
        (2**40 + 1, 0.5000000001),
        (1, 2.0**53 - 1),
        (3, 2.0**-53),
        (2**53, 123456.789),
        (10, 7.0),
    ],
)
def test_a_real_period_wave_is_within_2_49_of_a_period_at_any_step(decay_steps, num_cycles):
    """CosineAnnealing's documented bound for a period that is not a whole number of steps: the
    position in the wave within 2**-49 of a period at every int64 step, so the value within
    ``pi * 2**-49`` of the amplitude of the exact one (plus the cosine's own rounding)."""
    s = fastlr.CosineAnnealing(1.0, decay_steps, num_cycles=num_cycles)
    rng = random.Random(decay_steps)
    steps = [rng.randrange(2**63) for _ in range(200)] + [rng.randrange(2**40) for _ in range(50)]
    steps = np.array(sorted({*steps, 0, 1, 2**53 - 1, 2**53, 2**62, 2**63 - 2, 2**63 - 1}))
    ref = reference_values(s, steps)
    bound = math.pi * 2.0**-49 + 2.0**-51
    for got in (
        s.evaluate(steps, dtype="float64"),
        s.evaluate(steps[steps < 2**40], dtype="float64"),
    ):
        err = np.abs(got - ref[: len(got)])
        assert err.max() <= bound, (steps[np.argmax(err)], err.max())


@pytest.mark.parametrize(
    ("first", "mult"), [(7, 1.5), (4, 1.5), (3, 1.1), (5, 1.25), (10, 2.0), (2, 3.0)]
)
@pytest.mark.parametrize("name", ["CosineDecayRestarts", "WarmupCosineRestarts"])
def test_restarts_cycle_index_next_to_every_cycle_start(name, first, mult):
    """The integer steps either side of every (fractional) cycle start below 2**53.

    With ``t_mul > 1`` the cycle starts ``first * (t_mul**k - 1) / (t_mul - 1)`` are rationals; a
    step a fraction of a step before one is still in the previous cycle (LR near its floor), a
    step just after it is at the next peak.
    """
    if name == "CosineDecayRestarts":
        schedule = REGISTRY[name](1.0, first, t_mul=mult, alpha=0.0)
    else:
        schedule = REGISTRY[name](1.0, first, cycle_mult=mult)
    config = {k: v for k, v in schedule.get_config().items() if k != "name"}
    steps = set()
    k = 0
    while (start := _exact_cycle_start(k, first, mult)) <= 2**53 - 1:
        steps |= {math.floor(start), math.ceil(start)}
        k += 1
    steps = np.array(sorted(steps), dtype=np.int64)
    ref = np.array([REFERENCE[name](int(s), **config) for s in steps])
    got = schedule.evaluate(steps, dtype="float64")
    bad = ~(np.abs(got - ref) <= RTOL64 * np.abs(ref) + ATOL64)
    assert not bad.any(), f"{schedule!r}: {int(bad.sum())} steps off\n" + _report(
        steps, ref, got, bad
    )


@pytest.mark.parametrize(
    ("first", "mult", "warmup"),
    [(7, 1.5, 3), (4, 1.5, 0), (3, 1.1, 1), (20, 1.1, 5), (5, 1.25, 2), (2, 3.0, 1), (1, 1.01, 0)],
)
def test_whole_cycles_next_to_every_cycle_start(first, mult, warmup):
    """``whole_cycles=True``: every step either side of every whole cycle start and warmup end
    up to 2**63 - 1 (the recipe's sums of rounded-up lengths, walked by the spec's oracle)."""
    from specs.restarts import recipe_cycles

    schedule = REGISTRY["WarmupCosineRestarts"](
        1.0, first, cycle_mult=mult, warmup_steps=warmup, min_lr=0.1, whole_cycles=True
    )
    starts, _, warms = recipe_cycles(first, mult, warmup, True)
    edges = [*starts[:-1], *(a + math.ceil(w) for a, w in zip(starts, warms, strict=False))]
    steps = {e + d for e in edges for d in (-1, 0, 1)}
    steps = np.array(sorted(x for x in steps if 0 <= x <= 2**63 - 1), dtype=np.int64)
    ref = reference_values(schedule, steps)
    got = schedule.evaluate(steps, dtype="float64")
    bad = ~(np.abs(got - ref) <= RTOL64 * np.abs(ref) + ATOL64)
    assert not bad.any(), f"{schedule!r}: {int(bad.sum())} steps off\n" + _report(
        steps, ref, got, bad
    )


def _exact_cycle_start(k: int, first, mult) -> Fraction:
    first, mult = Fraction(first), Fraction(mult)
    return first * k if mult == 1 else first * (mult**k - 1) / (mult - 1)


@pytest.mark.parametrize("power", [0.9, 2.5])
def test_polynomial_cycle_fractional_decay_steps_near_2_53(power):
    """Cycle ends that fall a fraction of a step before an integer step near 2**53.

    With ``decay_steps=108.25`` the step ``2**53 - 18`` is ``83207383415621 + 3/433`` horizons
    in; ``step / decay_steps`` rounds to the integer in float64, so a ceiling taken from the
    float quotient is one cycle short, the horizon lands before the step and ``1 - p`` is
    negative (NaN for a fractional power).
    """
    s = fastlr.PolynomialDecay(0.1, 108.25, end_learning_rate=1e-4, power=power, cycle=True)
    config = {k: v for k, v in s.get_config().items() if k != "name"}
    steps = [2**53 - 18, 2**53 - 126, 2**53 - 451, 2**53 - 1]
    ref = np.array([REFERENCE["PolynomialDecay"](x, **config) for x in steps])
    for got in (
        s(tf.constant(steps, tf.int64)).numpy(),
        tf.function(s, jit_compile=True)(tf.constant(steps, tf.int64)).numpy(),
        s.evaluate(steps, dtype="float32"),
    ):
        assert np.all(np.abs(got - ref) <= f32_budget(ref, 0.1)), (steps, got, ref)
    # float64 contract: 1e-12 relative plus 1e-15 of the peak absolute (here the value sits at
    # the 1e-4 floor of a 0.1 peak, and the horizon near 2**53 is known to ~1e-16 of itself).
    assert_within_budget(s.evaluate(steps, dtype="float64"), ref, "float64", peak=0.1)


def test_keras_cosine_decay_restarts_is_wrong_past_2_24():
    """Documents why fastlr exists: Keras works in float32, so 2**24 + 1 looks like 2**24."""
    import keras

    k = keras.optimizers.schedules.CosineDecayRestarts(1.0, 2, t_mul=1.0)
    assert float(k(2**24 + 1)) == 1.0
    assert float(k(2**24)) == 1.0  # 2**24 is a true cycle start: right, but by accident


# --------------------------------------------------------------------------------------------
# the reference against the peers themselves
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("case", sorted(c for c, (name, _) in CASES.items() if name in KERAS_NAMED))
def test_reference_matches_keras_below_2_24(case):
    """Keras computes in float32: agreement to float32 accuracy (relative to the peak)."""
    import keras

    name, params = CASES[case]
    config = {k: v for k, v in REGISTRY[name](**params).get_config().items() if k != "name"}
    # Keras gets fastlr's normalized parameters: it takes the same ones, but not every spelling
    # fastlr accepts (a list of int and float values is a mixed-dtype tensor there).
    peer = getattr(keras.optimizers.schedules, name)(**config)
    steps = [s for s in reference_steps(REGISTRY[name](**params)).tolist() if s < 2**16]
    # Eager, as Keras documents it: under tf.function, grappler may turn ``step / decay_steps``
    # into ``step * (1 / decay_steps)``, and ceil(21 * float32(1/7)) = 4 for PolynomialDecay.
    if name == "CosineDecay" and config.get("warmup_target") is not None:  # scalar ops.cond
        got = np.array([float(peer(s)) for s in steps])
    else:
        got = np.asarray(peer(tf.constant(steps, dtype=tf.float32)), dtype=np.float64)
    ref = np.array([REFERENCE[name](s, **config) for s in steps])
    peak = max(float(np.max(np.abs(ref))), 1e-30)
    if name == "CosineDecayRestarts" and config["t_mul"] != 1.0:
        # Keras's float32 closed form may put a step sitting exactly on a cycle start into the
        # previous cycle (LR = alpha instead of the next peak); compare the other steps.
        k = [cycle_of(s, config["first_decay_steps"], config["t_mul"]) for s in steps]
        on_start = np.array([s == st for s, (_, st, _) in zip(steps, k, strict=True)])
        got, ref = got[~on_start], ref[~on_start]
    np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6 * peak)


def _golden_cases():
    if not GOLDEN.exists():
        return []
    data = json.loads(GOLDEN.read_text())
    return [
        pytest.param(c, id=f"{c['schedule']}-{i}-" + "-".join(map(str, c["torch"].values())))
        for i, c in enumerate(data["cases"])
    ]


GOLDEN_CASES = _golden_cases()


def test_torch_golden_file_is_present():
    assert GOLDEN_CASES, f"missing {GOLDEN}: run tests/peers/make_golden.py (needs torch)"
    kinds = {c.values[0]["schedule"] for c in GOLDEN_CASES}
    assert kinds == {"CyclicalLearningRate", "OneCycle"}


@pytest.mark.parametrize("golden", GOLDEN_CASES)
def test_fastlr_matches_torch_golden(golden):
    schedule = REGISTRY[golden["schedule"]](**golden["params"])
    torch_values = np.array(golden["values"], dtype=np.float64)
    steps = np.arange(len(torch_values), dtype=np.int64)
    got = schedule.evaluate(steps, dtype="float64")
    bad = ~(np.abs(got - torch_values) <= RTOL64 * np.abs(torch_values) + ATOL64)
    assert not bad.any(), f"{schedule!r} vs torch {golden['torch']}\n" + _report(
        steps, torch_values, got, bad
    )
    if golden["schedule"] == "OneCycle":
        # past the end fastlr holds the value at total_steps - 1 (torch raises there)
        after = schedule.evaluate([len(torch_values), 10**9 + 3], dtype="float64")
        np.testing.assert_array_equal(after, got[-1])


def _momentum_cases():
    if not GOLDEN.exists():
        return []
    data = json.loads(GOLDEN.read_text())
    return [
        pytest.param(c, id=f"{c['schedule']}-{i}") for i, c in enumerate(data["momentum_cases"])
    ]


@pytest.mark.parametrize("golden", _momentum_cases())
def test_momentum_schedules_match_torch_golden(golden):
    """``momentum_schedule`` is torch's momentum under ``cycle_momentum=True``, per step."""
    lr = REGISTRY[golden["schedule"]](**golden["params"])
    schedule = lr.momentum_schedule(**golden["momentum"])
    torch_values = np.array(golden["values"], dtype=np.float64)
    got = schedule.evaluate(len(torch_values), dtype="float64")
    bad = ~(np.abs(got - torch_values) <= RTOL64 * np.abs(torch_values) + ATOL64)
    steps = np.arange(len(torch_values))
    assert not bad.any(), f"{schedule!r} vs torch {golden['torch']}\n" + _report(
        steps, torch_values, got, bad
    )


def test_every_momentum_companion_has_golden_values():
    kinds = {
        (c.values[0]["schedule"], c.values[0]["params"].get("three_phase"))
        for c in _momentum_cases()
    }
    assert kinds >= {("CyclicalLearningRate", None), ("OneCycle", False), ("OneCycle", True)}


@pytest.mark.parametrize("golden", GOLDEN_CASES)
def test_reference_matches_torch_golden(golden):
    ref = np.array(
        [REFERENCE[golden["schedule"]](i, **golden["params"]) for i in range(len(golden["values"]))]
    )
    np.testing.assert_allclose(ref, golden["values"], rtol=RTOL64, atol=ATOL64)


# --------------------------------------------------------------------------------------------
# the blog recipe (CosineWarmupDecay) against WarmupCosineRestarts(whole_cycles=True)
# --------------------------------------------------------------------------------------------
def _blog_cases():
    if not BLOG_GOLDEN.exists():
        return []
    data = json.loads(BLOG_GOLDEN.read_text())
    return [
        pytest.param(
            c, id="blog-{initial_lr}-{warmup_step}-{total_step}-{multi}".format(**c["recipe"])
        )
        for c in data["cases"]
    ]


BLOG_CASES = _blog_cases()


def test_blog_golden_file_is_present():
    assert len(BLOG_CASES) >= 5, f"missing {BLOG_GOLDEN}: run tests/peers/make_blog_golden.py"
    multis = {c.values[0]["recipe"]["multi"] for c in BLOG_CASES}
    assert {0.1, 0.25, 0.5, 1.0} <= multis


def _blog(golden) -> tuple:
    schedule = REGISTRY["WarmupCosineRestarts"](**golden["params"])
    steps = np.array(golden["steps"], dtype=np.int64)
    return schedule, steps, np.array(golden["values"], dtype=np.float64)


@pytest.mark.parametrize("golden", BLOG_CASES)
def test_whole_cycles_match_the_blog_golden(golden):
    """Every cycle and warmup edge +-1 of the recipe up to 2**63 - 1 (its float products, so
    far past the cycles where they are exact), its first 400 steps and large steps: float64 and
    float32 bulk, and the graph's float32."""
    schedule, steps, blog = _blog(golden)
    peak = golden["params"]["max_lr"]
    assert_within_budget(schedule.evaluate(steps, dtype="float64"), blog, "float64", peak)
    assert_within_budget(schedule.evaluate(steps, dtype="float32"), blog, "float32", peak)
    graph = np.asarray(schedule(tf.constant(steps, dtype=tf.int64)))
    assert_within_budget(graph, blog, "float32", peak)


@pytest.mark.parametrize("golden", BLOG_CASES)
def test_reference_matches_the_blog_golden(golden):
    schedule, steps, blog = _blog(golden)
    ref = reference_values(schedule, steps)
    peak = golden["params"]["max_lr"]
    np.testing.assert_allclose(ref, blog, rtol=RTOL64, atol=ATOL64 * peak)


def test_real_cycles_leave_the_blog_golden_after_the_first_cycle():
    """Without ``whole_cycles`` a multiplier of 1.25 ends cycles at real boundaries: the first
    cycle (20 whole steps) agrees, the next ones do not (the recipe's 25, 32, 40 ... steps)."""
    golden = next(c.values[0] for c in BLOG_CASES if c.values[0]["recipe"]["multi"] == 0.25)
    params = {**golden["params"], "whole_cycles": False}
    schedule, steps, blog = _blog(dict(golden, params=params))
    got = schedule.evaluate(steps, dtype="float64")
    close = np.abs(got - blog) <= 1e-12 * np.abs(blog) + 1e-15
    assert close[steps < 20].all()
    assert not close[(steps > 45) & (steps < 400)].all()
