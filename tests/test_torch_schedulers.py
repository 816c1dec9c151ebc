"""``fastlr.from_torch``: PyTorch's schedulers as fastlr schedules, checked against torch itself.

* Golden values (``tests/peers/torch_convert_golden.json``, made by
  ``tests/peers/make_convert_golden.py``): every supported class, a few parameter sets each, and
  nests of ``SequentialLR`` and ``ChainedScheduler``, run by torch's own ``step()`` past every
  milestone and end; fastlr's float64 bulk values agree within 1e-12 relative (the largest
  difference measured, per class, is in ``docs/migrating.md``).
* A live torch optimizer trained side by side for 200 steps: the LR of every update.
* Large steps against torch's closed forms, where torch's own are exact (larger steps and the
  periodic classes are covered by the spec oracles of the fastlr classes the conversion builds).
* What is refused, with a one-line message naming the class and why; param groups; a scheduler
  already stepped; the import stays light.
"""

from __future__ import annotations

import json
import pathlib
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from conftest import run_fresh_python  # noqa: E402
from peers.make_convert_golden import build, optimizer_for  # noqa: E402
from torch.optim import lr_scheduler as L  # noqa: E402

import fastlr  # noqa: E402
from fastlr.torch_schedulers import SUPPORTED  # noqa: E402

RTOL, ATOL = 1e-12, 1e-15
GOLDEN = pathlib.Path(__file__).parent / "peers" / "torch_convert_golden.json"
CASES = json.loads(GOLDEN.read_text())["cases"]


def _classes(desc: dict) -> set[str]:
    return {desc["cls"]}.union(*(_classes(d) for d in desc.get("schedulers", [])))


def _id(case: dict) -> str:
    desc = case["torch"]
    if "schedulers" in desc:
        return desc["cls"] + "(" + ",".join(d["cls"] for d in desc["schedulers"]) + ")"
    return desc["cls"] + "-" + "-".join(f"{k}={v}" for k, v in desc.get("kw", {}).items())


def _assert_close(got, want, what) -> None:
    got, want = np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)
    bad = ~(np.abs(got - want) <= RTOL * np.abs(want) + ATOL)
    assert not bad.any(), (
        f"{what}: first bad step {int(np.argmax(bad))}: "
        f"fastlr {got[bad][:5].tolist()} vs torch {want[bad][:5].tolist()}"
    )


def test_golden_file_covers_every_supported_class():
    covered = set().union(*(_classes(c["torch"]) for c in CASES))
    assert covered == set(SUPPORTED)
    nests = {c["torch"]["cls"] for c in CASES if "schedulers" in c["torch"]}
    assert nests == {"SequentialLR", "ChainedScheduler"}
    # a chain inside a chain
    assert any(
        any("schedulers" in d for d in c["torch"]["schedulers"])
        for c in CASES
        if c["torch"]["cls"] == "ChainedScheduler"
    )


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_conversion_matches_torch_golden(case):
    schedule = fastlr.from_torch(build(optimizer_for(case["lr"]), case["torch"]))
    values = case["values"]
    got = schedule.evaluate(len(values), dtype="float64")
    _assert_close(got, values, f"{schedule!r} vs torch {_id(case)}")


LIVE = [
    ("StepLR", dict(step_size=30, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[50, 120, 120], gamma=0.3)),
    ("ExponentialLR", dict(gamma=0.98)),
    ("LinearLR", dict(start_factor=0.1, total_iters=60)),
    ("ConstantLR", dict(factor=0.25, total_iters=70)),
    ("PolynomialLR", dict(total_iters=150, power=1.5)),
    ("CosineAnnealingLR", dict(T_max=45, eta_min=1e-3)),
    ("CosineAnnealingWarmRestarts", dict(T_0=20, T_mult=2, eta_min=1e-4)),
    ("CyclicLR", dict(base_lr=1e-3, max_lr=0.1, step_size_up=15, step_size_down=25)),
    ("OneCycleLR", dict(max_lr=0.2, total_steps=200, three_phase=True)),
]


def _live_scheduler(opt, which):
    if which == "SequentialLR":
        warm = L.LinearLR(opt, start_factor=0.01, total_iters=20)
        cos = L.CosineAnnealingLR(opt, T_max=60)
        step = L.StepLR(opt, step_size=25, gamma=0.5)
        return L.SequentialLR(opt, [warm, cos, step], milestones=[20, 120])
    if which == "ChainedScheduler":
        return L.ChainedScheduler(
            [L.LinearLR(opt, start_factor=0.1, total_iters=30), L.CosineAnnealingLR(opt, T_max=80)]
        )
    name, kw = which
    return getattr(L, name)(opt, **kw)


@pytest.mark.parametrize(
    "which",
    [*LIVE, "SequentialLR", "ChainedScheduler"],
    ids=[w[0] for w in LIVE] + ["SequentialLR", "ChainedScheduler"],
)
def test_live_optimizer_side_by_side(which):
    """Train a tiny model with torch's scheduler for 200 steps: each update's LR is fastlr's."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    sched = _live_scheduler(opt, which)
    schedule = fastlr.from_torch(sched)
    x, y = torch.randn(16, 3), torch.randn(16, 1)
    used = []
    for _ in range(200):
        loss = torch.nn.functional.mse_loss(model(x), y)
        opt.zero_grad()
        loss.backward()
        used.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    _assert_close(schedule.evaluate(200, dtype="float64"), used, f"{which}")


LARGE = [2**20 + 3, 10**6 + 7, 2**31 + 1, 10**9 + 3, 2**40 + 5]


@pytest.mark.parametrize(
    "name, kw",
    [
        ("StepLR", dict(step_size=2**28, gamma=0.5)),
        ("MultiStepLR", dict(milestones=[10**6, 2**31 + 1, 10**12], gamma=0.5)),
        ("ExponentialLR", dict(gamma=1 - 1e-9)),
        ("LinearLR", dict(start_factor=0.5, total_iters=10**9)),
        ("ConstantLR", dict(factor=0.5, total_iters=2**31)),
        ("PolynomialLR", dict(total_iters=2**40, power=2.0)),
    ],
    ids=lambda x: x if isinstance(x, str) else "",
)
def test_large_steps_match_torch_closed_form(name, kw):
    """torch's ``_get_closed_form_lr`` at steps past 2**31 (its recursive form would take
    that many steps): exact float64 arithmetic there, so fastlr must agree."""
    opt = optimizer_for(0.1)
    sched = getattr(L, name)(opt, **kw)
    schedule = fastlr.from_torch(sched)
    want = []
    for n in LARGE:
        sched.last_epoch = n
        want.append(sched._get_closed_form_lr()[0])
    _assert_close(schedule.evaluate(LARGE, dtype="float64"), want, name)


def test_a_stepped_scheduler_converts_to_the_same_schedule():
    """The conversion reads parameters, not the position: after k steps, the schedule is the
    same, and its value at ``last_epoch`` is the LR the optimizer holds."""
    for make in (
        lambda o: L.CosineAnnealingWarmRestarts(o, T_0=5, T_mult=2),
        lambda o: L.SequentialLR(
            o, [L.ConstantLR(o, 0.5, 100), L.ExponentialLR(o, 0.9)], milestones=[7]
        ),
        lambda o: L.CosineAnnealingLR(o, T_max=6),
    ):
        opt = optimizer_for(0.1)
        sched = make(opt)
        fresh = fastlr.from_torch(sched)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for _ in range(23):
                opt.step()
                sched.step()
        assert fastlr.from_torch(sched) == fresh
        got = fresh.evaluate([sched.last_epoch], dtype="float64")
        _assert_close(got, [opt.param_groups[0]["lr"]], type(sched).__name__)


# -- refusals --------------------------------------------------------------------------------------
class _Mine(L.StepLR):
    pass


@pytest.mark.parametrize(
    "make, exc, words",
    [
        (lambda o: L.LambdaLR(o, lambda e: 0.9**e), TypeError, ["LambdaLR", "closed form"]),
        (
            lambda o: L.MultiplicativeLR(o, lambda e: 0.9),
            TypeError,
            ["MultiplicativeLR", "closed form"],
        ),
        (lambda o: L.ReduceLROnPlateau(o), TypeError, ["ReduceLROnPlateau", "metric"]),
        (lambda o: _Mine(o, 3), TypeError, ["_Mine", "subclass", "StepLR"]),
        (lambda o: 0.1, TypeError, ["float"]),
        (
            lambda o: L.CyclicLR(o, 0.01, 0.1, scale_fn=lambda x: 0.5),
            ValueError,
            ["CyclicLR", "scale_fn"],
        ),
        (
            lambda o: L.ChainedScheduler([L.CyclicLR(o, 0.01, 0.1), L.ExponentialLR(o, 0.9)]),
            ValueError,
            ["ChainedScheduler", "CyclicLR", "product"],
        ),
        (
            lambda o: L.ChainedScheduler(
                [L.LinearLR(o, 0.5, total_iters=3), L.CosineAnnealingLR(o, 10, eta_min=0.01)]
            ),
            ValueError,
            ["CosineAnnealingLR", "eta_min"],
        ),
        (
            lambda o: L.ChainedScheduler([L.ExponentialLR(o, 0.9), L.CosineAnnealingLR(o, 10)]),
            ValueError,
            ["CosineAnnealingLR", "T_max=10"],
        ),
        (
            lambda o: L.SequentialLR(
                o,
                [
                    L.SequentialLR(o, [L.ConstantLR(o), L.ExponentialLR(o, 0.9)], [3]),
                    L.ExponentialLR(o, 0.5),
                ],
                [6],
            ),
            ValueError,
            ["SequentialLR", "schedulers[0]"],
        ),
        (lambda o: L.ExponentialLR(o, 1.5), ValueError, ["ExponentialLR", "decay_rate"]),
    ],
    ids=[
        "LambdaLR",
        "MultiplicativeLR",
        "ReduceLROnPlateau",
        "subclass",
        "not-a-scheduler",
        "CyclicLR-scale_fn",
        "chain-CyclicLR",
        "chain-cosine-eta_min",
        "chain-cosine-after-T_max",
        "sequential-of-sequential",
        "ExponentialLR-growth",
    ],
)
def test_refusals_name_the_class_and_why(make, exc, words):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make(optimizer_for(0.1))
    with pytest.raises(exc) as info:
        fastlr.from_torch(scheduler)
    message = str(info.value)
    assert "\n" not in message
    for w in words:
        assert w in message, (w, message)


def test_chained_cosine_converts_when_the_other_factors_end_at_one():
    opt = optimizer_for(0.1)
    warm = L.LinearLR(opt, start_factor=0.1, total_iters=10)
    cos = L.CosineAnnealingLR(opt, T_max=10)
    schedule = fastlr.from_torch(L.ChainedScheduler([warm, cos]))
    assert type(schedule).__name__ == "Product"


# -- param groups ----------------------------------------------------------------------------------
def test_param_groups():
    opt = torch.optim.SGD(
        [
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.1},
            {"params": [torch.nn.Parameter(torch.zeros(1))], "lr": 0.01},
        ]
    )
    sched = L.StepLR(opt, step_size=2, gamma=0.5)
    with pytest.raises(ValueError, match=r"param groups have different schedules.*group=i"):
        fastlr.from_torch(sched)
    assert fastlr.from_torch(sched, group=1).evaluate([0, 2], dtype="float64").tolist() == [
        0.01,
        0.005,
    ]
    with pytest.raises(ValueError, match="group"):
        fastlr.from_torch(sched, group=2)
    same = optimizer_for(0.1, groups=3)
    assert fastlr.from_torch(L.StepLR(same, 2)) == fastlr.from_torch(L.StepLR(same, 2), group=2)


def test_from_torch_is_lazy_and_import_stays_light():
    found = run_fresh_python(
        "import json, sys\nimport fastlr\nf = fastlr.from_torch\n"
        "print('RESULT' + json.dumps([m for m in sys.modules if m.split('.')[0] == 'torch']))"
    )
    assert found == []
    assert "from_torch" in fastlr.__all__
