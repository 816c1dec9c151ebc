"""optax's schedules spelled in fastlr (``docs/migrating.md``), against optax's own values
(``tests/peers/optax_golden.json``, made by ``tests/peers/make_optax_golden.py`` with optax and
JAX in float64): every count from 0 past the last phase, and large counts."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from conftest import f32_budget

import fastlr

GOLDEN = json.loads((pathlib.Path(__file__).parent / "peers" / "optax_golden.json").read_text())


def _after(begin: int, first, then):
    """``then`` from step ``begin`` on (its own step 0 there), ``first`` before."""
    return fastlr.Sequential([first, then], [begin]) if begin > 0 else then


def _linear(init, end, steps):
    return fastlr.PolynomialDecay(init, steps, end, power=1.0)


def _warmup_cosine(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0, exponent=1.0):
    if exponent != 1.0:
        return fastlr.WarmupCosineDecay(
            peak_value,
            decay_steps,
            warmup_steps,
            start_lr=init_value,
            min_lr=end_value,
            exponent=exponent,
        )
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    cosine = fastlr.CosineDecay(peak_value, decay_steps - warmup_steps, alpha=alpha)
    return _after(warmup_steps, _linear(init_value, peak_value, warmup_steps), cosine)


def _exponential(
    init_value, transition_steps, decay_rate, transition_begin=0, staircase=False, end_value=None
):
    if decay_rate > 1.0:  # growth to a ceiling: a finite climb, then end_value
        k = 0  # the climb's length in transition_steps: the first power reaching end_value
        while init_value * decay_rate**k < end_value:
            k += 1
        if staircase:
            steps = [transition_begin + j * transition_steps - 1 for j in range(1, k + 1)]
            values = [min(init_value * decay_rate**j, end_value) for j in range(k + 1)]
            return fastlr.PiecewiseConstantDecay(steps, values)
        top = init_value * decay_rate**k
        ramp = fastlr.ExponentialRange(init_value, top, k * transition_steps)
        climb = _after(transition_begin, fastlr.Constant(init_value), ramp)
        return fastlr.Clip(climb, max_lr=end_value)
    decay = fastlr.ExponentialDecay(init_value, transition_steps, decay_rate, staircase=staircase)
    s = _after(transition_begin, fastlr.Constant(init_value), decay)
    if end_value is None:
        return s
    # optax clips from below while decay_rate < 1, from above at 1 (before the decay too)
    return fastlr.Clip(s, **{"min_lr" if decay_rate < 1.0 else "max_lr": end_value})


def _points(init_value, boundaries_and_scales):
    """optax's running products at its boundaries (sorted), from 0."""
    steps = sorted(int(b) for b in boundaries_and_scales)
    values = [init_value]
    for b in steps:
        values.append(values[-1] * boundaries_and_scales[str(b)])
    return [0, *steps], values


def spell(fn: str, kw: dict):
    """The fastlr spelling of ``optax.<fn>(**kw)`` (the table of docs/migrating.md)."""
    if fn == "constant_schedule":
        return fastlr.Constant(kw["value"])
    if fn in ("polynomial_schedule", "linear_schedule"):
        power = kw.get("power", 1.0)
        poly = fastlr.PolynomialDecay(
            kw["init_value"], kw["transition_steps"], kw["end_value"], power=power
        )
        return _after(kw.get("transition_begin", 0), fastlr.Constant(kw["init_value"]), poly)
    if fn == "piecewise_constant_schedule":
        thresholds = sorted(int(b) for b in kw["boundaries_and_scales"])
        values = [kw["init_value"]]
        for b in thresholds:
            values.append(values[-1] * kw["boundaries_and_scales"][str(b)])
        # optax scales from count == threshold on; Keras's boundaries are the last step before
        return fastlr.PiecewiseConstantDecay([b - 1 for b in thresholds], values)
    if fn == "cosine_decay_schedule":
        init, alpha = kw["init_value"], kw.get("alpha", 0.0)
        return fastlr.WarmupCosineDecay(
            init, kw["decay_steps"], min_lr=alpha * init, exponent=kw.get("exponent", 1.0)
        )
    if fn == "piecewise_interpolate_schedule":
        steps, values = _points(kw["init_value"], kw["boundaries_and_scales"])
        return fastlr.PiecewiseInterpolate(steps, values, kw["interpolate_type"])
    if fn == "linear_onecycle_schedule":
        t, peak = kw["transition_steps"], kw["peak_value"]
        div, final_div = kw.get("div_factor", 25.0), kw.get("final_div_factor", 1e4)
        up, down = int(kw.get("pct_start", 0.3) * t), int(kw.get("pct_final", 0.85) * t)
        values = [peak / div, peak, peak / div, peak / div / final_div]
        return fastlr.PiecewiseInterpolate([0, up, down, t], values)
    if fn == "cosine_onecycle_schedule":
        t, peak = kw["transition_steps"], kw["peak_value"]
        div, final_div = kw.get("div_factor", 25.0), kw.get("final_div_factor", 1e4)
        up = int(kw.get("pct_start", 0.3) * t)
        values = [peak / div, peak, peak / div / final_div]
        return fastlr.PiecewiseInterpolate([0, up, t], values, interpolation="cosine")
    if fn == "exponential_decay":
        return _exponential(**kw)
    if fn == "warmup_cosine_decay_schedule":
        return _warmup_cosine(**kw)
    if fn == "warmup_constant_schedule":
        return _linear(kw["init_value"], kw["peak_value"], kw["warmup_steps"])
    if fn == "warmup_exponential_decay_schedule":
        kw = dict(kw)
        warmup = _linear(kw.pop("init_value"), kw["peak_value"], kw["warmup_steps"])
        steps = kw.pop("warmup_steps")
        return _after(steps, warmup, _exponential(kw.pop("peak_value"), **kw))
    if fn == "sgdr_schedule":
        parts = [_warmup_cosine(**k) for k in kw["cosine_kwargs"]]
        ends = np.cumsum([k["decay_steps"] for k in kw["cosine_kwargs"]])[:-1]
        return fastlr.Sequential(parts, [int(e) for e in ends])
    raise AssertionError(fn)


@pytest.mark.parametrize("case", GOLDEN["cases"], ids=lambda c: c["fn"])
def test_fastlr_spelling_matches_optax(case):
    s = spell(case["fn"], case["kwargs"])
    want = np.array(case["values"] + list(case["far"].values()))
    steps = np.array(list(range(len(case["values"]))) + [int(c) for c in case["far"]])
    got = s.evaluate(steps, dtype="float64")
    peak = float(np.max(np.abs(want)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * peak)
    f32 = s(steps).numpy()
    assert np.all(np.abs(f32 - want) <= f32_budget(want, peak)), (f32, want)
