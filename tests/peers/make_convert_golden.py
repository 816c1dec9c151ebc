"""Generate ``torch_convert_golden.json``: the LRs PyTorch's own schedulers give, per step, for
every scheduler class :func:`fastlr.from_torch` converts (nests of ``SequentialLR`` and
``ChainedScheduler`` included).

Not a test: torch is not a fastlr dependency. Run it by hand (any torch 2.x; the checked-in file
was made with torch 2.13.0 CPU) to refresh the fixture::

    python tests/peers/make_convert_golden.py

``tests/test_torch_schedulers.py`` rebuilds each scheduler from its description (:func:`build`),
converts it and compares fastlr's float64 values with the recorded ones. A case is a description of
the scheduler (``{"cls": "StepLR", "kw": {...}}``; ``SequentialLR`` and ``ChainedScheduler`` list
their children under ``"schedulers"``), the optimizer's ``lr`` and ``values[i]``: the LR torch's
optimizer uses for its step ``i`` (``param_groups[0]["lr"]`` after ``i`` calls of
``scheduler.step()``). Torch's recursive ``step()`` is O(n) to run, so the runs stop at a few
thousand steps (past every milestone and end); larger steps are checked against the spec oracles
of the fastlr classes the conversion builds (``tests/test_reference.py``).
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch
from torch.optim import lr_scheduler

try:  # run as a script (python tests/peers/make_convert_golden.py)
    from stepping import stepped
except ImportError:  # imported by tests/test_torch_schedulers.py as peers.make_convert_golden
    from peers.stepping import stepped

OUT = pathlib.Path(__file__).with_name("torch_convert_golden.json")


def build(optimizer, desc: dict):
    """The torch scheduler ``desc`` describes, on ``optimizer`` (children built first, in order,
    as a user would write them)."""
    cls = getattr(lr_scheduler, desc["cls"])
    if "schedulers" in desc:
        children = [build(optimizer, d) for d in desc["schedulers"]]
        if desc["cls"] == "ChainedScheduler":
            return cls(children)
        return cls(optimizer, children, **desc.get("kw", {}))
    return cls(optimizer, **desc.get("kw", {}))


def optimizer_for(lr: float, groups: int = 1) -> torch.optim.Optimizer:
    params = [{"params": [torch.nn.Parameter(torch.zeros(1))]} for _ in range(groups)]
    return torch.optim.SGD(params, lr=lr, momentum=0.9)


def torch_values(desc: dict, lr: float, n: int) -> list[float]:
    """``param_groups[0]["lr"]`` before each of ``n`` optimizer steps under ``desc``."""
    opt = optimizer_for(lr)
    return stepped(opt, build(opt, desc), n)


def _s(cls: str, **kw) -> dict:
    return {"cls": cls, "kw": kw}


def _seq(children: list[dict], milestones: list[int]) -> dict:
    return {"cls": "SequentialLR", "schedulers": children, "kw": {"milestones": milestones}}


def _chain(children: list[dict]) -> dict:
    return {"cls": "ChainedScheduler", "schedulers": children}


CASES = [
    # (description, optimizer lr, steps)
    (_s("StepLR", step_size=3, gamma=0.5), 0.1, 60),
    (_s("StepLR", step_size=7, gamma=0.9), 1.0, 400),
    (_s("StepLR", step_size=1, gamma=0.95), 0.3, 300),
    (_s("MultiStepLR", milestones=[5, 12, 12, 30], gamma=0.1), 0.1, 50),
    (_s("MultiStepLR", milestones=[0, 3], gamma=0.5), 1.0, 10),
    (_s("MultiStepLR", milestones=[250, 100], gamma=0.3), 0.05, 400),
    (_s("ExponentialLR", gamma=0.99), 0.1, 2000),
    (_s("ExponentialLR", gamma=0.5), 1.0, 100),
    (_s("ExponentialLR", gamma=0.9999), 0.01, 5000),
    (_s("LinearLR", start_factor=0.25, end_factor=1.0, total_iters=10), 0.1, 30),
    (_s("LinearLR", start_factor=1.0, end_factor=0.1, total_iters=50), 0.2, 80),
    (_s("LinearLR"), 0.1, 20),
    (_s("LinearLR", start_factor=0.5, total_iters=0), 0.1, 5),
    (_s("ConstantLR", factor=0.5, total_iters=4), 0.1, 10),
    (_s("ConstantLR"), 0.3, 12),
    (_s("ConstantLR", factor=0.1, total_iters=0), 0.1, 5),
    (_s("PolynomialLR", total_iters=10, power=1.0), 0.1, 20),
    (_s("PolynomialLR", total_iters=100, power=2.0), 0.5, 120),
    (_s("PolynomialLR", total_iters=37, power=0.5), 1.0, 50),
    (_s("CosineAnnealingLR", T_max=10), 0.1, 65),
    (_s("CosineAnnealingLR", T_max=100, eta_min=0.001), 0.1, 450),
    (_s("CosineAnnealingLR", T_max=7, eta_min=0.1), 1.0, 60),
    (_s("CosineAnnealingLR", T_max=1000, eta_min=1e-5), 0.1, 5000),
    (_s("CosineAnnealingWarmRestarts", T_0=10), 0.1, 50),
    (_s("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=0.01), 0.1, 200),
    (_s("CosineAnnealingWarmRestarts", T_0=3, T_mult=3), 1.0, 150),
    (
        _s(
            "CyclicLR",
            base_lr=0.01,
            max_lr=0.1,
            step_size_up=4,
            step_size_down=6,
            mode="triangular2",
        ),
        0.05,
        80,
    ),
    (
        _s("CyclicLR", base_lr=0.001, max_lr=0.1, step_size_up=5, mode="exp_range", gamma=0.99),
        0.05,
        60,
    ),
    (_s("OneCycleLR", max_lr=0.1, total_steps=100), 0.05, 100),
    (
        _s(
            "OneCycleLR",
            max_lr=1.0,
            total_steps=53,
            pct_start=0.4,
            anneal_strategy="linear",
            three_phase=True,
            div_factor=5.0,
        ),
        0.05,
        53,
    ),
    # SequentialLR: each child restarts from its own step 0 at its milestone
    (
        _seq(
            [_s("LinearLR", start_factor=0.1, total_iters=5), _s("CosineAnnealingLR", T_max=20)],
            [5],
        ),
        0.1,
        80,
    ),
    (
        _seq(
            [
                _s("ConstantLR", factor=0.5, total_iters=100),
                _s("ExponentialLR", gamma=0.9),
                _s("StepLR", step_size=3, gamma=0.5),
            ],
            [4, 10],
        ),
        1.0,
        40,
    ),
    (
        _seq(
            [
                _s("LinearLR", start_factor=0.01, total_iters=3),
                _s("CosineAnnealingWarmRestarts", T_0=5, T_mult=2),
            ],
            [3],
        ),
        0.1,
        60,
    ),
    (
        _seq([_s("OneCycleLR", max_lr=1.0, total_steps=20), _s("ExponentialLR", gamma=0.95)], [20]),
        0.1,
        50,
    ),
    (
        _seq(
            [
                _s("MultiStepLR", milestones=[3, 6], gamma=0.5),
                _s("PolynomialLR", total_iters=8, power=2.0),
            ],
            [10],
        ),
        0.2,
        30,
    ),
    # ChainedScheduler: the product of the chained factors
    (
        _chain(
            [_s("LinearLR", start_factor=0.25, total_iters=4), _s("CosineAnnealingLR", T_max=8)]
        ),
        0.1,
        40,
    ),
    (
        _chain([_s("CosineAnnealingLR", T_max=30), _s("ConstantLR", factor=0.1, total_iters=10)]),
        0.5,
        120,
    ),
    (
        _chain(
            [
                _s("ExponentialLR", gamma=0.95),
                _s("StepLR", step_size=5, gamma=0.5),
                _s("ConstantLR", factor=0.5, total_iters=3),
            ]
        ),
        0.1,
        60,
    ),
    (
        _chain(
            [
                _chain(
                    [
                        _s("LinearLR", start_factor=0.5, total_iters=6),
                        _s("ExponentialLR", gamma=0.97),
                    ]
                ),
                _s("MultiStepLR", milestones=[10, 20], gamma=0.1),
            ]
        ),
        1.0,
        50,
    ),
    (
        _chain(
            [
                _s("PolynomialLR", total_iters=20, power=3.0),
                _s("LinearLR", start_factor=0.2, total_iters=5),
            ]
        ),
        0.3,
        30,
    ),
    (
        _seq(
            [
                _s("LinearLR", start_factor=0.2, total_iters=5),
                _s("MultiStepLR", milestones=[10, 20], gamma=0.1),
                _s("CosineAnnealingLR", T_max=15, eta_min=1e-4),
            ],
            [5, 30],
        ),
        0.1,
        90,
    ),
]


def main() -> None:
    cases = [dict(torch=desc, lr=lr, values=torch_values(desc, lr, n)) for desc, lr, n in CASES]
    data = dict(
        generator="tests/peers/make_convert_golden.py",
        torch_version=torch.__version__,
        python_version=sys.version.split()[0],
        cases=cases,
    )
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
