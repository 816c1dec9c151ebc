"""``fastlr.from_hf`` against Hugging Face's own schedules (``tests/peers/hf_golden.json``, made by
``tests/peers/make_hf_golden.py`` with transformers): the LR of every optimizer step from 0 past
``num_training_steps``, and at large steps (Hugging Face's closed form)."""

from __future__ import annotations

import json
import pathlib

import numpy as np
import pytest
from conftest import f32_budget

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
    np.testing.assert_allclose(got, want_all, rtol=1e-12, atol=1e-15 * case["lr"])
    f32 = s(np.concatenate([steps, far])).numpy()  # the graph, float32: within one ulp
    assert np.all(np.abs(f32 - want_all) <= f32_budget(want_all, case["lr"])), (f32, want_all)


@pytest.mark.parametrize(
    ("name", "kwargs", "match"),
    [
        ("cosine", dict(num_warmup_steps=1, num_training_steps=10), "keeps oscillating"),
        ("reduce_lr_on_plateau", {}, "ReduceLROnPlateau"),
        ("bogus", {}, "must be one of"),
        ("linear", dict(num_warmup_steps=1), "`num_training_steps` is required"),
        ("polynomial", dict(num_warmup_steps=1, num_training_steps=9, lr_end=0.5), "`lr_end`"),
        (
            "warmup_stable_decay",
            dict(num_warmup_steps=1, num_training_steps=9, num_decay_steps=2, warmup_type="cosine"),
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
