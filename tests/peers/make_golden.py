"""Generate ``torch_golden.json``: PyTorch's own CyclicLR / OneCycleLR learning rates (and, with
``cycle_momentum=True``, momenta), per step.

Not a test: torch is not a fastlr dependency. Run it by hand (any torch 2.x; the checked-in file
was made with torch 2.13.0 CPU) to refresh the fixture::

    python tests/peers/make_golden.py

The tests in ``tests/test_reference.py`` load the JSON and compare fastlr with it.
Each case records the fastlr class name, the fastlr constructor parameters, the torch call it
corresponds to, and ``values[i]`` = the LR torch uses for optimizer step ``i`` (scheduler state
after ``i`` calls of ``scheduler.step()``).
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch
from stepping import stepped

OUT = pathlib.Path(__file__).with_name("torch_golden.json")


def _lrs(make_scheduler, n: int, key: str = "lr") -> list[float]:
    """``param_groups[0][key]`` (the LR, or with ``key="momentum"`` the momentum) that SGD uses
    at each of ``n`` steps under the scheduler ``make_scheduler(optimizer)``."""
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=0.123, momentum=0.5 if key == "momentum" else 0.0)
    return stepped(opt, make_scheduler(opt), n, key)


CYCLIC = [
    dict(base_lr=0.1, max_lr=1.0, step_size_up=4, mode="triangular"),
    dict(base_lr=0.1, max_lr=1.0, step_size_up=4, step_size_down=6, mode="triangular2"),
    dict(base_lr=0.1, max_lr=1.0, step_size_up=5, mode="exp_range", gamma=0.99),
    dict(base_lr=0.001, max_lr=0.1, step_size_up=7, step_size_down=3, mode="triangular"),
    dict(base_lr=0.0, max_lr=0.5, step_size_up=3, step_size_down=11, mode="triangular2"),
    dict(
        base_lr=0.01,
        max_lr=0.3,
        step_size_up=6,
        step_size_down=2,
        mode="exp_range",
        gamma=0.995,
    ),
    dict(base_lr=0.2, max_lr=0.2, step_size_up=1, mode="triangular"),
    dict(base_lr=0.05, max_lr=2.0, step_size_up=1, step_size_down=1, mode="exp_range", gamma=0.9),
]
"""torch CyclicLR configurations (the LR cases; the momentum cases use a few of them)."""


def _cyclic_params(cfg: dict) -> dict:
    """fastlr's CyclicalLearningRate parameters for a torch CyclicLR configuration."""
    return dict(
        initial_learning_rate=cfg["base_lr"],
        maximal_learning_rate=cfg["max_lr"],
        step_size=cfg["step_size_up"],
        mode=cfg["mode"],
        gamma=cfg.get("gamma", 1.0),
        step_size_down=cfg.get("step_size_down"),
    )


def cyclic_cases() -> list[dict]:
    cases = []
    for cfg in CYCLIC:
        n = 12 * (cfg["step_size_up"] + cfg.get("step_size_down", cfg["step_size_up"])) + 3
        values = _lrs(
            lambda opt, cfg=cfg: torch.optim.lr_scheduler.CyclicLR(
                opt, cycle_momentum=False, **cfg
            ),
            n,
        )
        params = _cyclic_params(cfg)
        cases.append(dict(schedule="CyclicalLearningRate", params=params, torch=cfg, values=values))
    return cases


def onecycle_cases() -> list[dict]:
    cases = []
    configs = []
    for anneal in ("cos", "linear"):
        for three in (False, True):
            configs += [
                dict(max_lr=1.0, total_steps=100, pct_start=0.3),
                dict(max_lr=0.5, total_steps=37, pct_start=0.25),
                dict(
                    max_lr=0.1,
                    total_steps=10,
                    pct_start=0.25,
                    div_factor=10.0,
                    final_div_factor=100.0,
                ),
                dict(max_lr=2.0, total_steps=53, pct_start=0.4, div_factor=5.0),
                dict(max_lr=0.3, total_steps=1001, pct_start=0.123, final_div_factor=1e3),
                dict(
                    max_lr=1.0, total_steps=11, pct_start=0.5, div_factor=10.0, final_div_factor=1.0
                ),
            ]
            for cfg in configs[-6:]:
                cfg.update(anneal_strategy=anneal, three_phase=three)
    for cfg in configs:
        if cfg["three_phase"] and not 2 * cfg["pct_start"] * cfg["total_steps"] - 2 < (
            cfg["total_steps"] - 1
        ):
            continue
        values = _lrs(
            lambda opt, cfg=cfg: torch.optim.lr_scheduler.OneCycleLR(
                opt, cycle_momentum=False, **cfg
            ),
            cfg["total_steps"],
        )
        cases.append(dict(schedule="OneCycle", params=dict(cfg), torch=dict(cfg), values=values))
    return cases


def momentum_cases() -> list[dict]:
    """``cycle_momentum=True``: the momentum curves of CyclicLR and OneCycleLR."""
    cases = []
    for cfg in (CYCLIC[0], CYCLIC[1], CYCLIC[5]):
        for base_m, max_m in ((0.8, 0.9), (0.85, 0.95)):
            n = 12 * (cfg["step_size_up"] + cfg.get("step_size_down", cfg["step_size_up"])) + 3
            torch_cfg = dict(cfg, base_momentum=base_m, max_momentum=max_m)
            values = _lrs(
                lambda opt, c=torch_cfg: torch.optim.lr_scheduler.CyclicLR(
                    opt, cycle_momentum=True, **c
                ),
                n,
                "momentum",
            )
            cases.append(
                dict(
                    schedule="CyclicalLearningRate",
                    params=_cyclic_params(cfg),
                    momentum=dict(base_momentum=base_m, max_momentum=max_m),
                    torch=torch_cfg,
                    values=values,
                )
            )
    for anneal in ("cos", "linear"):
        for three in (False, True):
            for cfg, (base_m, max_m) in (
                (dict(max_lr=1.0, total_steps=100, pct_start=0.3), (0.85, 0.95)),
                (dict(max_lr=0.1, total_steps=37, pct_start=0.25, div_factor=10.0), (0.8, 0.9)),
                (dict(max_lr=0.3, total_steps=1001, pct_start=0.123), (0.9, 0.99)),
            ):
                torch_cfg = dict(
                    cfg,
                    anneal_strategy=anneal,
                    three_phase=three,
                    base_momentum=base_m,
                    max_momentum=max_m,
                )
                values = _lrs(
                    lambda opt, c=torch_cfg: torch.optim.lr_scheduler.OneCycleLR(
                        opt, cycle_momentum=True, **c
                    ),
                    cfg["total_steps"],
                    "momentum",
                )
                params = dict(cfg, anneal_strategy=anneal, three_phase=three)
                cases.append(
                    dict(
                        schedule="OneCycle",
                        params=params,
                        momentum=dict(base_momentum=base_m, max_momentum=max_m),
                        torch=torch_cfg,
                        values=values,
                    )
                )
    return cases


def main() -> None:
    data = dict(
        generator="tests/peers/make_golden.py",
        torch_version=torch.__version__,
        python_version=sys.version.split()[0],
        cases=cyclic_cases() + onecycle_cases(),
        momentum_cases=momentum_cases(),
    )
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {len(data['cases'])} cases to {OUT}")


if __name__ == "__main__":
    main()
