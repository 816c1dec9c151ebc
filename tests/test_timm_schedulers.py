"""``fastlr.from_timm``: timm's schedulers, update for update, against timm's own values.

The golden file (``tests/peers/timm_golden.json``, made by ``tests/peers/make_timm_golden.py``
with the real timm) holds each scheduler's state and the LR of every optimizer update as timm's
training loop steps it. timm is not installed here: each case is replayed into a stand-in
object of the same class name and module, which is all :func:`fastlr.from_timm` reads.
"""

from __future__ import annotations

import json
import pathlib
import types
import warnings

import numpy as np
import pytest

import fastlr
from fastlr import from_timm

GOLDEN = json.loads(
    pathlib.Path(__file__).with_name("peers").joinpath("timm_golden.json").read_text()
)
LR = GOLDEN["meta"]["lr"]
TOLERANCE = 1e-15
"""Of the base LR: timm's own float64 rounding (its cosine of ``pi * t / T`` loses digits next to
``lr_min``); measured 2.8e-16."""

# timm finds the cycle with a float logarithm: math.log(1000, 10) = 2.9999999999999996 puts the
# restart at update 111 (t_initial=1, cycle_mul=10) one update late, where timm returns lr_min
TIMM_LATE_RESTARTS = {3: [111]}


def _standin(case: dict, **changes):
    """An object of timm's class name and module with the recorded state: what from_timm
    reads."""
    cls = type(case["cls"], (), {"__module__": case["module"]})
    obj = cls()
    for k, v in {**case["state"], **changes}.items():
        setattr(obj, k, v)
    scales = case["lr_scales"] or [None]
    groups = [{"lr": LR} if s is None else {"lr": LR, "lr_scale": s} for s in scales]
    obj.optimizer = types.SimpleNamespace(param_groups=groups)
    return obj


def _convert(case: dict, group: int, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return from_timm(
            _standin(case),
            steps_per_epoch=case["steps_per_epoch"],
            group=group,
            redraw_noise=case["kwargs"].get("noise_range_t") is not None,
            **kw,
        )


def _noise_range(case: dict, n: int) -> np.ndarray:
    r = case["kwargs"].get("noise_range_t")
    steps = np.arange(n)
    if r is None:
        return np.zeros(n, dtype=bool)
    if isinstance(r, list):
        return (steps >= max(r[0], 1)) & (steps < r[1])
    return steps >= max(r, 1)


CASES = [(i, g) for i, c in enumerate(GOLDEN["cases"]) for g in range(len(c["values"][0]))]


@pytest.mark.parametrize(
    ("i", "group"), CASES, ids=[f"{GOLDEN['cases'][i]['cls']}-{i}-g{g}" for i, g in CASES]
)
def test_every_update_matches_timm(i, group):
    case = GOLDEN["cases"][i]
    timm = np.array(case["values"])[:, group]
    s = _convert(case, group)
    got = s.evaluate(np.arange(len(timm)), dtype="float64")
    late = TIMM_LATE_RESTARTS.get(i, [])
    noisy = _noise_range(case, len(timm))
    exact = np.ones(len(timm), dtype=bool)
    exact[late] = False
    exact &= ~noisy
    np.testing.assert_allclose(got[exact], timm[exact], rtol=0, atol=TOLERANCE * LR)
    for step in late:  # fastlr restarts on time: the new cycle's peak
        assert timm[step] == case["state"]["lr_min"] and got[step] > timm[step]
    if noisy.any():  # same distribution, other draws: both within pct of the noise-free curve
        quiet = _convert(dict(case, state={**case["state"], "noise_range_t": None}), group)
        base = quiet.evaluate(np.nonzero(noisy)[0], dtype="float64")
        pct = case["state"]["noise_pct"]
        for values in (got[noisy], timm[noisy]):
            assert np.all(np.abs(values / base - 1) < pct)
        assert np.any(got[noisy] != base)


@pytest.mark.parametrize("i", [i for i, c in enumerate(GOLDEN["cases"]) if c["far"]])
def test_large_steps_match_timm_closed_form(i):
    case = GOLDEN["cases"][i]
    s = _convert(case, 0)
    steps = [int(t) for t in case["far"]]
    got = s.evaluate(steps, dtype="float64")
    timm = np.array([v[0] for v in case["far"].values()])
    np.testing.assert_allclose(got, timm, rtol=0, atol=TOLERANCE * LR)


def test_the_docstring_example_is_timms_scheduler_converted():
    """from_timm's docstring spells out the conversion of golden case 0 (cosine, 10 warmup
    updates, no prefix): the converted schedule is that one."""
    from fastlr import CosineCycles, Offset, PolynomialDecay, Sequential

    case = GOLDEN["cases"][0]
    assert case["kwargs"] == dict(t_initial=100, lr_min=1e-5, warmup_t=10, warmup_lr_init=1e-4)
    ramp = PolynomialDecay(1e-4, 10, 0.1, power=1.0)
    assert _convert(case, 0) == Sequential(
        [ramp, Offset(CosineCycles(0.1, 100, min_lr=1e-5), 10)], [10]
    )
    epochs = _convert(GOLDEN["cases"][15], 0)
    assert type(epochs).__name__ == "PerEpoch" and epochs.steps_per_epoch == 5


def test_tanh_without_warmup_starts_at_the_optimizers_lr():
    """The first update uses the LR the optimizer was built with; TanhLRScheduler's curve starts
    just below its peak (``(1 - tanh(lb)) / 2 < 1``), so update 0 differs from ``_get_lr(0)``."""
    case = next(
        c for c in GOLDEN["cases"] if c["cls"] == "TanhLRScheduler" and not c["state"]["warmup_t"]
    )
    s = _convert(case, 0)
    assert s.evaluate([0], dtype="float64")[0] == LR == case["values"][0][0]
    assert s.evaluate([1], dtype="float64")[0] < LR


def test_per_epoch_needs_steps_per_epoch_and_says_what_it_assumes():
    case = GOLDEN["cases"][15]
    with pytest.raises(ValueError, match=r"t_in_epochs=True.*steps_per_epoch"):
        from_timm(_standin(case))
    with pytest.warns(UserWarning, match=r"5 optimizer steps per epoch.*step\(epoch \+ 1\)"):
        from_timm(_standin(case), steps_per_epoch=5)
    with pytest.raises(ValueError, match=r"steps_per_epoch.*Received: steps_per_epoch=0"):
        from_timm(_standin(case), steps_per_epoch=0)
    per_update = GOLDEN["cases"][0]
    with pytest.raises(ValueError, match=r"t_in_epochs=False.*Received: steps_per_epoch=5"):
        from_timm(_standin(per_update), steps_per_epoch=5)


def test_noise_is_refused_unless_redrawn():
    case = next(c for c in GOLDEN["cases"] if c["kwargs"].get("noise_range_t") is not None)
    with pytest.raises(ValueError, match=r"torch.Generator.*redraw_noise=True"):
        from_timm(_standin(case))
    s = from_timm(_standin(case), redraw_noise=True)
    assert "Noise" in repr(s)
    # an empty range adds no noise
    quiet = from_timm(_standin(case, noise_range_t=[30, 30]), redraw_noise=True)
    assert "Noise" not in repr(quiet)


def test_param_groups_with_different_schedules_need_a_group():
    case = next(c for c in GOLDEN["cases"] if c["lr_scales"])
    with pytest.raises(ValueError, match=r"2 param groups have different schedules.*group=i"):
        from_timm(_standin(case))
    with pytest.raises(ValueError, match=r"Received: group=2"):
        from_timm(_standin(case), group=2)


def test_unsorted_milestones_are_refused():
    case = next(c for c in GOLDEN["cases"] if c["cls"] == "MultiStepLRScheduler")
    with pytest.raises(ValueError, match=r"sorted.*Received: decay_t=\[20, 10\]"):
        from_timm(_standin(case, decay_t=[20, 10]))


def test_values_no_fastlr_class_takes_are_refused_with_the_scheduler_named():
    case = GOLDEN["cases"][0]
    with pytest.raises(TypeError, match=r"CosineLRScheduler: no fastlr CosineCycles.*cycle_steps"):
        from_timm(_standin(case, t_initial=10.5))
    with pytest.raises(ValueError, match=r"CosineLRScheduler: no fastlr CosineCycles.*cycle_mult"):
        from_timm(_standin(case, cycle_mul=0.5))


def test_other_objects_are_refused():
    plateau = type("PlateauLRScheduler", (), {"__module__": "timm.scheduler.plateau_lr"})()
    with pytest.raises(TypeError, match=r"PlateauLRScheduler: .*metric.*fastlr.ReduceLROnPlateau"):
        from_timm(plateau)
    base = type("CosineLRScheduler", (), {"__module__": "timm.scheduler.cosine_lr"})
    sub = type("MyCosine", (base,), {"__module__": "mine"})()
    with pytest.raises(TypeError, match=r"MyCosine: a subclass of timm's CosineLRScheduler"):
        from_timm(sub)
    with pytest.raises(TypeError, match=r"from_timm expects a timm scheduler.*Received: int"):
        from_timm(3)
    lookalike = type("CosineLRScheduler", (), {"__module__": "not_timm"})()
    with pytest.raises(TypeError, match=r"expects a timm scheduler"):
        from_timm(lookalike)


def test_from_timm_is_exported():
    assert fastlr.from_timm is from_timm
    assert "from_timm" in fastlr.__all__
