# ruff: noqa: E501  (one line per case)
"""Generate ``timm_golden.json``: timm schedulers' LRs, per optimizer update.

Not a test: timm is not a fastlr dependency. Run it by hand in an environment with timm and
torch (the checked-in file was made with timm 1.0.31 and torch 2.14.1) to refresh the fixture::

    python tests/peers/make_timm_golden.py

Each case records the scheduler's class, its ``state_dict()`` (every attribute but the
optimizer: what :func:`fastlr.from_timm` reads) and its param groups' ``lr_scale``, and
``values[i]`` = the LR the optimizer uses for its update ``i``, stepped as timm's ``train.py``
steps it (``step_update(num_updates)`` after every update, ``step(epoch + 1)`` after every
epoch), past every phase; and ``far``: ``{step: lr}`` at large steps from the scheduler's own
``_get_lr`` (what stepping that far would give, noise aside). ``tests/test_timm_schedulers.py``
replays the state into a stand-in object of the same class name and compares
``fastlr.from_timm`` with the values.
"""

from __future__ import annotations

import json
import math
import pathlib
import warnings

import timm
import torch
from timm.scheduler import (
    CosineLRScheduler,
    MultiStepLRScheduler,
    PolyLRScheduler,
    StepLRScheduler,
    TanhLRScheduler,
)

OUT = pathlib.Path(__file__).with_name("timm_golden.json")
FAR = [2**24 - 1, 2**24, 2**31 + 7, 10**12 + 1, 2**53 - 1]

CLASSES = {
    c.__name__: c
    for c in (
        CosineLRScheduler,
        PolyLRScheduler,
        TanhLRScheduler,
        StepLRScheduler,
        MultiStepLRScheduler,
    )
}

CASES = [
    # name, updates, steps per epoch (None: t_in_epochs=False), kwargs, group lr_scales
    ("CosineLRScheduler", 130, None, dict(t_initial=100, lr_min=1e-5, warmup_t=10, warmup_lr_init=1e-4), None),
    ("CosineLRScheduler", 160, None, dict(t_initial=20, lr_min=1e-4, cycle_mul=2.0, cycle_decay=0.5, cycle_limit=3, warmup_t=5, warmup_prefix=True, k_decay=1.5), None),
    ("CosineLRScheduler", 400, None, dict(t_initial=7, lr_min=1e-3, cycle_mul=1.5, cycle_limit=8), None),
    ("CosineLRScheduler", 1200, None, dict(t_initial=1, cycle_mul=10.0, cycle_limit=4), None),
    ("CosineLRScheduler", 300, None, dict(t_initial=30, lr_min=2e-3, cycle_decay=0.7, cycle_limit=10**9, k_decay=0.6), None),
    ("CosineLRScheduler", 90, None, dict(t_initial=40, warmup_t=6, warmup_lr_init=1e-3, cycle_limit=2), [1.0, 0.5]),
    ("PolyLRScheduler", 80, None, dict(t_initial=50, warmup_t=5, warmup_lr_init=1e-4), None),
    ("PolyLRScheduler", 200, None, dict(t_initial=15, power=2.0, lr_min=1e-4, cycle_mul=2.0, cycle_decay=0.9, cycle_limit=3, k_decay=0.5, warmup_t=4, warmup_prefix=True), None),
    ("TanhLRScheduler", 50, None, dict(t_initial=30, warmup_t=3, warmup_lr_init=1e-3), None),
    ("TanhLRScheduler", 120, None, dict(t_initial=12, lb=-5.0, ub=4.0, lr_min=1e-4, cycle_mul=1.5, cycle_decay=0.8, cycle_limit=4, warmup_t=5, warmup_prefix=True), None),
    ("TanhLRScheduler", 60, None, dict(t_initial=20, cycle_limit=2), None),
    ("StepLRScheduler", 60, None, dict(decay_t=7, decay_rate=0.5, warmup_t=3, warmup_lr_init=1e-3), None),
    ("StepLRScheduler", 60, None, dict(decay_t=10, decay_rate=0.3, warmup_t=4, warmup_prefix=True), None),
    ("MultiStepLRScheduler", 60, None, dict(decay_t=[10, 20, 20, 35], decay_rate=0.3, warmup_t=4, warmup_lr_init=1e-4), None),
    ("MultiStepLRScheduler", 40, None, dict(decay_t=[0, 1, 15], decay_rate=0.5), None),
    # per-epoch schedulers, 5 updates per epoch
    ("CosineLRScheduler", 80, 5, dict(t_initial=10, lr_min=1e-4, warmup_t=2, warmup_lr_init=1e-3), None),
    ("TanhLRScheduler", 70, 7, dict(t_initial=8, cycle_limit=1), None),
    ("StepLRScheduler", 60, 4, dict(decay_t=3, decay_rate=0.5), None),
    # noise: compared outside its range only (timm's draws are not fastlr's)
    ("CosineLRScheduler", 100, None, dict(t_initial=80, warmup_t=5, noise_range_t=(20, 60), noise_pct=0.1, noise_seed=3), None),
    ("StepLRScheduler", 50, None, dict(decay_t=10, decay_rate=0.5, noise_range_t=30, noise_std=0.5), None),
]  # fmt: skip

LR = 0.1


def _jsonable(x):
    if isinstance(x, (list, tuple)):
        return [_jsonable(v) for v in x]
    if isinstance(x, float) and not math.isfinite(x):
        return repr(x)
    return x


def run(name, updates, steps_per_epoch, kwargs, scales):
    groups = [torch.nn.Parameter(torch.zeros(1)) for _ in range(len(scales or [1]))]
    params = [{"params": [p]} for p in groups]
    if scales:
        for g, s in zip(params, scales, strict=True):
            g["lr_scale"] = s
    opt = torch.optim.SGD(params, lr=LR)
    cls = CLASSES[name]
    scheduler = cls(opt, t_in_epochs=steps_per_epoch is not None, **kwargs)
    values = []
    num_updates = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for i in range(updates):
            values.append([float(g["lr"]) for g in opt.param_groups])
            opt.step()
            num_updates += 1
            scheduler.step_update(num_updates=num_updates)
            if steps_per_epoch is not None and (i + 1) % steps_per_epoch == 0:
                scheduler.step((i + 1) // steps_per_epoch)
    state = {k: _jsonable(v) for k, v in scheduler.state_dict().items()}
    far = {}
    if steps_per_epoch is None and kwargs.get("noise_range_t") is None:
        far = {str(t): [float(v) for v in scheduler._get_lr(t)] for t in FAR}
    return dict(
        cls=name,
        module=cls.__module__,
        steps_per_epoch=steps_per_epoch,
        kwargs=_jsonable(kwargs),
        state=state,
        lr_scales=scales,
        values=values,
        far=far,
    )


def main() -> None:
    cases = [run(*case) for case in CASES]
    meta = dict(timm=timm.__version__, torch=torch.__version__, lr=LR)
    OUT.write_text(json.dumps(dict(meta=meta, cases=cases), indent=1) + "\n")
    print(f"wrote {OUT} ({len(cases)} cases)")


if __name__ == "__main__":
    main()
