"""Generate ``hf_golden.json``: Hugging Face ``transformers.get_scheduler`` LRs, per step.

Not a test: transformers is not a fastlr dependency. Run it by hand in an environment with
transformers and torch (the checked-in file was made with transformers 5.24.0 and torch 2.13.0
CPU) to refresh the fixture::

    python tests/peers/make_hf_golden.py

Each case records the ``get_scheduler`` call (``name``, the optimizer's ``lr``,
``num_warmup_steps``, ``num_training_steps``, ``scheduler_specific_kwargs``), ``values[i]`` = the
LR the optimizer uses for its update ``i`` (the scheduler stepped ``i`` times), for ``i`` from 0
past ``num_training_steps``, and ``far``: ``{step: lr}`` at large steps, from the scheduler's own
``lr_lambdas`` (``LambdaLR``'s closed form: what stepping that far would give).
``tests/test_hugging_face.py`` compares ``fastlr.from_hf`` with them.
"""

from __future__ import annotations

import json
import pathlib
import sys

import torch
import transformers
from stepping import stepped
from transformers import get_scheduler

OUT = pathlib.Path(__file__).with_name("hf_golden.json")
FAR = [2**24 - 1, 2**24, 2**31 + 7, 10**12 + 1, 2**53 - 1]

CASES = [
    dict(name="constant", lr=0.1, num_warmup_steps=None, num_training_steps=None, kwargs={}),
    dict(
        name="constant_with_warmup", lr=0.1, num_warmup_steps=10, num_training_steps=None, kwargs={}
    ),
    dict(
        name="constant_with_warmup", lr=0.3, num_warmup_steps=0, num_training_steps=None, kwargs={}
    ),
    dict(name="linear", lr=0.1, num_warmup_steps=10, num_training_steps=100, kwargs={}),
    dict(name="linear", lr=0.02, num_warmup_steps=0, num_training_steps=37, kwargs={}),
    dict(name="polynomial", lr=0.1, num_warmup_steps=10, num_training_steps=100, kwargs={}),
    dict(
        name="polynomial",
        lr=0.5,
        num_warmup_steps=5,
        num_training_steps=60,
        kwargs=dict(lr_end=1e-3, power=2.0),
    ),
    dict(name="inverse_sqrt", lr=0.1, num_warmup_steps=10, num_training_steps=None, kwargs={}),
    dict(
        name="inverse_sqrt",
        lr=0.2,
        num_warmup_steps=8,
        num_training_steps=None,
        kwargs=dict(timescale=30),
    ),
    dict(name="inverse_sqrt", lr=0.2, num_warmup_steps=0, num_training_steps=None, kwargs={}),
    dict(
        name="cosine_with_restarts",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(num_cycles=3),
    ),
    dict(
        name="cosine_with_restarts",
        lr=0.1,
        num_warmup_steps=0,
        num_training_steps=70,
        kwargs=dict(num_cycles=4),
    ),
    dict(name="cosine", lr=0.1, num_warmup_steps=10, num_training_steps=100, kwargs={}),
    dict(name="cosine", lr=0.2, num_warmup_steps=0, num_training_steps=37, kwargs={}),
    dict(
        name="cosine",
        lr=0.1,
        num_warmup_steps=4,
        num_training_steps=44,
        kwargs=dict(num_cycles=2.0),
    ),
    # periods that are not whole numbers of steps (the wave's real-period arithmetic)
    dict(
        name="cosine",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(num_cycles=0.3),
    ),
    dict(
        name="cosine",
        lr=0.2,
        num_warmup_steps=0,
        num_training_steps=37,
        kwargs=dict(num_cycles=1.25),
    ),
    dict(  # half a period below one step
        name="cosine",
        lr=0.1,
        num_warmup_steps=2,
        num_training_steps=12,
        kwargs=dict(num_cycles=7),
    ),
    dict(
        name="cosine_with_min_lr",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(min_lr_rate=0.1),
    ),
    dict(
        name="cosine_with_min_lr",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(min_lr_rate=0.1, num_cycles=0.7),
    ),
    dict(
        name="cosine_with_min_lr",
        lr=0.3,
        num_warmup_steps=3,
        num_training_steps=50,
        kwargs=dict(min_lr=0.01, num_cycles=2.5),
    ),
    dict(
        name="cosine_with_min_lr",
        lr=0.3,
        num_warmup_steps=3,
        num_training_steps=50,
        kwargs=dict(min_lr=0.01),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(min_lr_rate=0.1),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=6,
        num_training_steps=60,
        kwargs=dict(min_lr_rate=0.05, warmup_lr_rate=0.2),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=1,
        num_training_steps=31,
        kwargs=dict(min_lr_rate=0.0, warmup_lr_rate=0.5),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=0,
        num_training_steps=30,
        kwargs=dict(min_lr_rate=0.2),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(min_lr_rate=0.1, num_cycles=0.75),
    ),
    dict(
        name="cosine_warmup_with_min_lr",
        lr=0.1,
        num_warmup_steps=6,
        num_training_steps=60,
        kwargs=dict(min_lr_rate=0.05, warmup_lr_rate=0.2, num_cycles=1.3),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(num_decay_steps=20, min_lr_ratio=0.1),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=5,
        num_training_steps=None,
        kwargs=dict(num_stable_steps=30, num_decay_steps=15, decay_type="1-sqrt"),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=5,
        num_training_steps=60,
        kwargs=dict(num_decay_steps=25, decay_type="cosine", min_lr_ratio=0.05),
    ),
    # the other warmup types, and cosine decays of other than half a wave
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=10,
        num_training_steps=100,
        kwargs=dict(num_decay_steps=20, warmup_type="cosine", min_lr_ratio=0.1),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=12,
        num_training_steps=None,
        kwargs=dict(
            num_stable_steps=20, num_decay_steps=15, warmup_type="1-sqrt", decay_type="1-sqrt"
        ),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=5,
        num_training_steps=60,
        kwargs=dict(num_decay_steps=25, num_cycles=1.5, min_lr_ratio=0.05),
    ),
    dict(
        name="warmup_stable_decay",
        lr=0.2,
        num_warmup_steps=7,
        num_training_steps=80,
        kwargs=dict(num_decay_steps=30, warmup_type="cosine", num_cycles=0.3, min_lr_ratio=0.1),
    ),
    dict(  # num_cycles shapes the cosine decay only: Hugging Face ignores it here
        name="warmup_stable_decay",
        lr=0.1,
        num_warmup_steps=4,
        num_training_steps=40,
        kwargs=dict(num_decay_steps=10, decay_type="linear", num_cycles=2.0),
    ),
]


def _run(case: dict) -> dict:
    param = torch.nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([param], lr=case["lr"])
    sched = get_scheduler(
        case["name"],
        opt,
        num_warmup_steps=case["num_warmup_steps"],
        num_training_steps=case["num_training_steps"],
        scheduler_specific_kwargs=case["kwargs"],
    )
    ends = [case["num_warmup_steps"] or 0, case["num_training_steps"] or 0]
    ends += [case["kwargs"].get(k, 0) for k in ("num_stable_steps", "num_decay_steps")]
    n = 3 * sum(ends) + 20  # past the end: the cosines keep oscillating
    values = stepped(opt, sched, n)
    far = {str(s): case["lr"] * float(sched.lr_lambdas[0](s)) for s in FAR}
    return {**case, "values": values, "far": far}


def main() -> None:
    data = {
        "generator": "tests/peers/make_hf_golden.py",
        "transformers_version": transformers.__version__,
        "torch_version": torch.__version__,
        "python_version": sys.version.split()[0],
        "cases": [_run(c) for c in CASES],
    }
    OUT.write_text(json.dumps(data, indent=1) + "\n")
    print(f"wrote {OUT} ({len(data['cases'])} cases)")


if __name__ == "__main__":
    main()
