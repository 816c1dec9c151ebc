"""``fastlr.from_hf`` against Hugging Face's own schedules (``tests/peers/hf_golden.json``, made by
``tests/peers/make_hf_golden.py`` with transformers): the LR of every optimizer step from 0 past
``num_training_steps``, and at large steps (Hugging Face's closed form)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from conftest import f32_budget
from specs import reference_values

import fastlr
from fastlr.hugging_face import SUPPORTED

GOLDEN = json.loads((pathlib.Path(__file__).parent / "peers" / "hf_golden.json").read_text())
CASES = GOLDEN["cases"]


def _schedule(case: dict):
    return fastlr.from_hf(
        case["name"],
        case["lr"],
        num_warmup_steps=case["num_warmup_steps"],
        num_training_steps=case["num_training_steps"],
        **case["kwargs"],
    )


def test_every_supported_name_has_golden_values():
    assert {c["name"] for c in CASES} == set(SUPPORTED)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['kwargs']}")
def test_from_hf_matches_hugging_face_at_every_step(case):
    s = _schedule(case)
    want = np.array(case["values"])
    steps = np.arange(len(want))
    far = np.array([int(k) for k in case["far"]], dtype=np.int64)
    want_far = np.array(list(case["far"].values()))
    got = s.evaluate(np.concatenate([steps, far]), dtype="float64")
    want_all = np.concatenate([want, want_far])
    # Hugging Face rounds its factor, then multiplies by the LR: a few float64 ulps apart.
    atol = np.full(len(want_all), 1e-15 * case["lr"])
    if case["name"] in ("cosine", "cosine_with_min_lr", "cosine_warmup_with_min_lr"):
        # Far out, Hugging Face's own cosine is off: it rounds ``2 pi cycles (step - W) / span``,
        # a huge float64 argument (3e14 at 2**53 - 1 for span 90), to 2**-52 of itself. fastlr
        # keeps the position in the period exact: it agrees with the oracle instead (below).
        span = max(1, (case["num_training_steps"] or 0) - case["num_warmup_steps"])
        angle = 2 * np.pi * case["kwargs"].get("num_cycles", 0.5) * far / span
        atol[len(want) :] = case["lr"] * 4 * 2.0**-52 * angle
        np.testing.assert_allclose(got[len(want) :], reference_values(s, far), rtol=1e-12)
    off = np.abs(got - want_all) > 1e-12 * np.abs(want_all) + atol
    assert not off.any(), (np.flatnonzero(off), got[off], want_all[off])
    f32 = s(np.concatenate([steps, far])).numpy()  # the graph, float32: within one ulp
    budget = f32_budget(want_all, case["lr"]) + atol
    assert np.all(np.abs(f32 - want_all) <= budget), (f32, want_all)


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['name']}-{c['kwargs']}")
def test_from_hf_matches_the_exact_reference_at_every_golden_step(case):
    """Where fastlr and Hugging Face differ below 2**24, it is Hugging Face's rounding: fastlr is
    within ``1e-15 * lr`` of the independent oracle (its position in a cosine's period exact)."""
    s = _schedule(case)
    steps = np.arange(len(case["values"]))
    got = s.evaluate(steps, dtype="float64")
    np.testing.assert_allclose(got, reference_values(s, steps), rtol=0, atol=1e-15 * case["lr"])


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("cosine", dict(num_warmup_steps=1, num_training_steps=10, num_cycles=0), "`num_cycles`"),
        ("cosine_with_min_lr", dict(num_warmup_steps=1, num_training_steps=10), "`min_lr_rate`"),
        ("reduce_lr_on_plateau", {}, "ReduceLROnPlateau"),
        ("bogus", {}, "must be one of"),
        ("linear", dict(num_warmup_steps=1), "`num_training_steps` is required"),
        ("polynomial", dict(num_warmup_steps=1, num_training_steps=9, lr_end=0.5), "`lr_end`"),
        (
            "warmup_stable_decay",
            dict(num_warmup_steps=1, num_training_steps=9, num_decay_steps=2, warmup_type="sqrt"),
            "`warmup_type`",
        ),
    ],
)
def test_unsupported_or_invalid_requests_are_refused(name, kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastlr.from_hf(name, 0.1, **kwargs)


def test_unknown_scheduler_kwargs_are_refused():
    with pytest.raises(TypeError, match="`linear` takes no scheduler_specific_kwargs"):
        fastlr.from_hf("linear", 0.1, num_warmup_steps=1, num_training_steps=9, power=2.0)
