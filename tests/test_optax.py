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


def _warmup_cosine(init_value, peak_value, warmup_steps, decay_steps, end_value=0.0):
    alpha = 0.0 if peak_value == 0.0 else end_value / peak_value
    cosine = fastlr.CosineDecay(peak_value, decay_steps - warmup_steps, alpha=alpha)
    return _after(warmup_steps, _linear(init_value, peak_value, warmup_steps), cosine)


def _exponential(init_value, transition_steps, decay_rate, transition_begin=0, staircase=False):
    decay = fastlr.ExponentialDecay(init_value, transition_steps, decay_rate, staircase=staircase)
    return _after(transition_begin, fastlr.Constant(init_value), decay)


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
