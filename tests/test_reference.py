"""fastlr against an independent per-step oracle (``tests/reference.py``) and peer golden values.

* Every registered schedule, for every example in ``conftest.EXAMPLES`` and a few fixed random
  parameter sets, is compared with the reference at 0..300, at every phase boundary +-1 (derived
  from the parameters, also the cycle boundaries around the large steps) and at ``LARGE_STEPS``:
  the float64 bulk path within 1e-12 relative, the TF graph path (float32) within one float32 ulp.
* The reference itself is checked against Keras (the Keras-named schedules, below 2**24 where
  Keras's float32 is exact) and against PyTorch's CyclicLR / OneCycleLR golden values
  (``tests/peers/torch_golden.json``, made by ``tests/peers/make_golden.py``).

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
from conftest import EXAMPLES, LARGE_STEPS, f32_budget
from reference import REFERENCE, cycle_of

import fastlr
from fastlr.schedules import KERAS_NAMED, REGISTRY

DENSE = range(301)
RTOL64 = 1e-12
ATOL64 = 1e-15
GOLDEN = pathlib.Path(__file__).parent / "peers" / "torch_golden.json"


# --------------------------------------------------------------------------------------------
# parameter sets: the catalogue's examples plus fixed random ones
# --------------------------------------------------------------------------------------------
def _steps_like(rng: random.Random, lo: int, hi: int):
    """An int, or now and then a float step count (Keras accepts both)."""
    if rng.random() < 0.3:
        return rng.randint(2 * lo, 2 * hi) / 2 + rng.choice([0.0, 0.25])
    return rng.randint(lo, hi)


def _random_params(name: str, rng: random.Random) -> dict:
    u = rng.uniform
    if name == "Constant":
        return dict(learning_rate=u(0, 2))
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        rate = u(0.3, 1.0) if name == "ExponentialDecay" else u(0, 3)
        return dict(
            initial_learning_rate=u(0.01, 1),
            decay_steps=_steps_like(rng, 1, 60),
            decay_rate=rate,
            staircase=rng.random() < 0.5,
        )
    if name == "PolynomialDecay":
        return dict(
            initial_learning_rate=u(0.01, 1),
            decay_steps=_steps_like(rng, 1, 120),
            end_learning_rate=u(0, 0.01),
            power=rng.choice([0.5, 1.0, 2.0, u(0.3, 3)]),
            cycle=rng.random() < 0.5,
        )
    if name == "PiecewiseConstantDecay":
        b = sorted(rng.sample(range(1, 280), rng.randint(1, 4)))
        if rng.random() < 0.5:
            b[0] = b[0] + 0.5
        return dict(boundaries=b, values=[u(0, 1) for _ in range(len(b) + 1)])
    if name == "CosineDecay":
        p = dict(
            initial_learning_rate=u(0, 1),
            decay_steps=_steps_like(rng, 1, 200),
            alpha=rng.choice([0.0, u(0, 1)]),
        )
        if rng.random() < 0.7:
            p.update(warmup_target=u(0, 1), warmup_steps=_steps_like(rng, 0, 60))
        return p
    if name == "CosineDecayRestarts":
        return dict(
            initial_learning_rate=u(0.01, 1),
            first_decay_steps=_steps_like(rng, 1, 30),
            t_mul=rng.choice([1.0, 1.1, 1.25, 2.0, 3.0]),
            m_mul=u(0.5, 1.0),
            alpha=rng.choice([0.0, u(0, 0.3)]),
        )
    if name == "WarmupCosineDecay":
        total = rng.randint(1, 250)
        warmup = rng.randint(0, total)
        hold = rng.randint(0, total - warmup)
        target = u(0.01, 1)
        return dict(
            target_lr=target,
            total_steps=total,
            warmup_steps=warmup,
            hold_steps=hold,
            start_lr=u(0, 1),
            min_lr=rng.choice([0.0, u(0, target)]),
        )
    if name == "WarmupCosineRestarts":
        first = rng.randint(2, 40)
        max_lr = u(0.01, 1)
        return dict(
            max_lr=max_lr,
            first_cycle_steps=first,
            cycle_mult=rng.choice([1.0, 1.25, 1.5, 2.0]),
            warmup_steps=rng.randint(0, first - 1),
            min_lr=rng.choice([0.0, u(0, max_lr)]),
            gamma=rng.choice([1.0, u(0.3, 1)]),
            scale_warmup=rng.random() < 0.5,
        )
    if name == "CyclicalLearningRate":
        low = u(0, 0.5)
        return dict(
            initial_learning_rate=low,
            maximal_learning_rate=low + u(0, 1),
            step_size=rng.randint(1, 20),
            mode=rng.choice(["triangular", "triangular2", "exp_range"]),
            gamma=u(0.9, 1.0),
            step_size_down=rng.choice([None, rng.randint(1, 20)]),
        )
    if name == "OneCycle":
        while True:
            total = rng.randint(5, 300)
            pct = u(0.05, 0.6)
            three = rng.random() < 0.5
            if pct * total > 1 and (not three or 2 * pct * total - 2 < total - 1):
                break
        return dict(
            max_lr=u(0.01, 2),
            total_steps=total,
            pct_start=pct,
            div_factor=u(2, 50),
            final_div_factor=u(1, 1e4),
            anneal_strategy=rng.choice(["cos", "linear"]),
            three_phase=three,
        )
    if name == "WarmupStableDecay":
        total = rng.randint(2, 250)
        warmup = rng.randint(0, total - 1)
        peak = u(0.01, 1)
        min_lr = rng.choice([0.0, u(0, peak)])
        return dict(
            peak_lr=peak,
            total_steps=total,
            warmup_steps=warmup,
            decay_steps=rng.randint(1, total - warmup),
            min_lr=min_lr,
            start_lr=rng.choice([min_lr, u(0, 1)]),
            decay_type=rng.choice(["linear", "cosine", "1-sqrt"]),
        )
    if name == "InverseSqrtDecay":
        return dict(
            peak_lr=u(0.01, 1),
            warmup_steps=rng.randint(0, 100),
            timescale=rng.choice([None, rng.randint(1, 200)]),
        )
    if name == "ExponentialRange":
        return dict(start_lr=10 ** u(-6, 0), end_lr=10 ** u(-4, 1), num_steps=rng.randint(1, 250))
    raise AssertionError(f"no random parameters for {name}; add them")


N_RANDOM = 3


def _cases() -> dict[str, tuple[str, dict]]:
    cases = {}
    for name, kws in EXAMPLES.items():
        for i, kw in enumerate(kws):
            cases[f"{name}-{i}"] = (name, kw)
    for name in sorted(REGISTRY):
        rng = random.Random(f"fastlr-reference-{name}")
        for i in range(N_RANDOM):
            cases[f"{name}-rnd{i}"] = (name, _random_params(name, rng))
    return cases


CASES = _cases()


def test_every_schedule_has_a_reference_and_cases():
    assert set(REFERENCE) == set(REGISTRY)
    assert {name for name, _ in CASES.values()} == set(REGISTRY)


# --------------------------------------------------------------------------------------------
# the steps to check: dense, phase boundaries +-1, large
# --------------------------------------------------------------------------------------------
def _around(x) -> set[int]:
    """Integer steps on and next to a (possibly fractional) boundary."""
    lo, hi = math.floor(x), math.ceil(x)
    return {lo - 1, lo, lo + 1, hi - 1, hi, hi + 1}


def _cycle_boundaries(first, mult, offsets=lambda k, length: ()) -> set:
    """Exact starts (and inner phase ends) of the first dozen cycles and of the cycles around
    the large steps; cycle ``k`` lasts ``first * mult**k``."""
    ks = set(range(12))
    for step in LARGE_STEPS:
        k, _, _ = cycle_of(step, first, mult)
        ks |= {k - 1, k, k + 1}
    out = set()
    for k in ks:
        start = _exact_cycle_start(k, first, mult)
        out |= {start, *(start + o for o in offsets(k, Fraction(first) * Fraction(mult) ** k))}
    return out


def phase_boundaries(name: str, p: dict) -> set:
    """Where the formula changes piece, from the parameters (may be fractional)."""
    if name == "Constant":
        return set()
    if name in ("ExponentialDecay", "InverseTimeDecay"):
        d = p["decay_steps"]
        out = {d * k for k in range(1, 5)}
        out |= {d * (s // d) for s in LARGE_STEPS} | {d * (s // d + 1) for s in LARGE_STEPS}
        return out
    if name == "PolynomialDecay":
        d = p["decay_steps"]
        out = {d * k for k in range(1, 5)}
        if p.get("cycle"):
            out |= {d * (s // d) for s in LARGE_STEPS} | {d * (s // d + 1) for s in LARGE_STEPS}
        return out
    if name == "PiecewiseConstantDecay":
        return set(p["boundaries"])
    if name == "CosineDecay":
        w = p.get("warmup_steps", 0) if p.get("warmup_target") is not None else 0
        return {w, w + p["decay_steps"]}
    if name == "CosineDecayRestarts":
        return _cycle_boundaries(p["first_decay_steps"], p.get("t_mul", 2.0))
    if name == "WarmupCosineDecay":
        w, h = p.get("warmup_steps", 0), p.get("hold_steps", 0)
        return {w, w + h, p["total_steps"]}
    if name == "WarmupCosineRestarts":
        mult, w = p.get("cycle_mult", 1.0), p.get("warmup_steps", 0)
        scale = p.get("scale_warmup", True)
        first = p["first_cycle_steps"]
        return _cycle_boundaries(
            first, mult, lambda k, length: (w * length / first if scale else w,)
        )
    if name == "CyclicalLearningRate":
        up = p["step_size"]
        period = up + (p.get("step_size_down") or up)
        starts = {k * period for k in range(4)} | {s // period * period for s in LARGE_STEPS}
        return {b for s in starts for b in (s, s + up, s + period)}
    if name == "OneCycle":
        total, pct = p["total_steps"], p.get("pct_start", 0.3)
        return {float(pct * total) - 1, float(2 * pct * total) - 2, total - 1, total}
    if name == "WarmupStableDecay":
        total = p["total_steps"]
        return {p["warmup_steps"], total - p["decay_steps"], total}
    if name == "InverseSqrtDecay":
        return {p["warmup_steps"]}
    if name == "ExponentialRange":
        return {p["num_steps"]}
    raise AssertionError(f"no phase boundaries for {name}; add them")


def steps_for(name: str, p: dict) -> np.ndarray:
    steps = set(DENSE) | set(LARGE_STEPS)
    for b in phase_boundaries(name, p):
        steps |= _around(b)
    return np.array(sorted(s for s in steps if 0 <= s <= 2**53 - 1), dtype=np.int64)


# --------------------------------------------------------------------------------------------
# the comparisons
# --------------------------------------------------------------------------------------------
@functools.cache
def results(case: str):
    """``(schedule, steps, reference, float64 bulk, float32 graph, peak, float32 bulk)``."""
    name, params = CASES[case]
    schedule = REGISTRY[name](**params)
    config = {k: v for k, v in schedule.get_config().items() if k != "name"}
    steps = steps_for(name, config)
    ref_fn = REFERENCE[name]
    ref = np.array([ref_fn(int(s), **config) for s in steps], dtype=np.float64)
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
    schedule, steps, ref, f64, *_ = results(case)
    assert f64.dtype == np.float64
    bad = ~(np.abs(f64 - ref) <= RTOL64 * np.abs(ref) + ATOL64)
    assert not bad.any(), f"{schedule!r}: {int(bad.sum())} steps off\n" + _report(
        steps, ref, f64, bad
    )


@pytest.mark.parametrize("engine", ["graph", "bulk"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_float32_matches_reference(case, engine):
    schedule, steps, ref, _, graph32, peak, bulk32 = results(case)
    f32 = graph32 if engine == "graph" else bulk32
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
    return err / unit


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


def _exact_cycle_start(k: int, first, mult) -> Fraction:
    first, mult = Fraction(first), Fraction(mult)
    return first * k if mult == 1 else first * (mult**k - 1) / (mult - 1)


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
    peer = getattr(keras.optimizers.schedules, name)(**params)
    config = {k: v for k, v in REGISTRY[name](**params).get_config().items() if k != "name"}
    steps = [s for s in steps_for(name, config).tolist() if s < 2**16]
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


@pytest.mark.parametrize("golden", GOLDEN_CASES)
def test_reference_matches_torch_golden(golden):
    ref = np.array(
        [REFERENCE[golden["schedule"]](i, **golden["params"]) for i in range(len(golden["values"]))]
    )
    np.testing.assert_allclose(ref, golden["values"], rtol=RTOL64, atol=ATOL64)
