"""Generate ``blog_golden.json``: the blog recipe's multi-cycle cosine with warmup, per step.

The recipe is a Keras ``LearningRateSchedule`` copied from a blog post into many projects,
``CosineWarmupDecay(initial_lr, min_lr, warmup_step, total_step, multi, print_step)``. It ignores
the step Keras passes and keeps a Python counter instead: each call first restarts the counter at
0 once it has reached ``total_step``, multiplying ``warmup_step`` and ``total_step`` by
``1 + multi`` (they become floats), then returns a linear rise from ``min_lr`` to ``initial_lr``
while the counter is below ``warmup_step``, else
``min_lr + 0.5 * (initial_lr - min_lr) * (1 + cos(pi * (counter - warmup_step) /
(total_step - warmup_step)))``, and adds 1 to the counter. :class:`CosineWarmupDecay` below is
that class in plain Python (``math`` in float64 where the original has TensorFlow float32 ops,
no printing, no ``learning_rate_list``); ``fastlr.WarmupCosineRestarts(initial_lr, total_step,
cycle_mult=1 + multi, warmup_steps=warmup_step, min_lr=min_lr, whole_cycles=True)`` is
documented to give the same values.

Not a test, and it needs nothing but Python: run it by hand to refresh the fixture::

    python tests/peers/make_blog_golden.py

Each case records the recipe's arguments, fastlr's parameters, and ``[step, value]`` pairs at
the first steps, the last and first step of every cycle and warmup (+-1) up to step 2**63 - 1,
and large steps; steps past the dense run are reached by :func:`value_at`, which replays the
class's restarts cycle by cycle (the same float products in the same order) instead of calling
it once per step, and is checked against the class on the dense run.
"""

from __future__ import annotations

import json
import math
import pathlib
import random

OUT = pathlib.Path(__file__).with_name("blog_golden.json")
TOP = 2**63 - 1
DENSE = 400


class CosineWarmupDecay:
    """The recipe, in plain Python: call it once per optimizer step."""

    def __init__(self, initial_lr, min_lr, warmup_step, total_step, multi):
        self.initial_lr = initial_lr
        self.min_lr = min_lr
        self.warmup_step = warmup_step
        self.total_step = total_step
        self.multi = multi
        self.step = 0

    def __call__(self, step=None):
        if self.step >= self.total_step:
            self.warmup_step = self.warmup_step * (1 + self.multi)
            self.total_step = self.total_step * (1 + self.multi)
            self.step = 0
        decayed = self.min_lr + 0.5 * (self.initial_lr - self.min_lr) * (
            1
            + math.cos(
                math.pi * (self.step - self.warmup_step) / (self.total_step - self.warmup_step)
            )
        )
        k = (self.initial_lr - self.min_lr) / self.warmup_step
        warmup = k * self.step + self.min_lr
        lr = warmup if self.step < self.warmup_step else decayed
        self.step = self.step + 1
        return lr


def _cycles(recipe: dict):
    """The recipe's cycles as its counter walks them: ``(start, total_step, warmup_step)`` of
    each, until one starts past 2**63 - 1 (the same float products as the class)."""
    start, total, warmup = 0, recipe["total_step"], recipe["warmup_step"]
    while start <= TOP:
        yield start, total, warmup
        start += math.ceil(total)  # the counter runs 0 .. ceil(total) - 1
        warmup = warmup * (1 + recipe["multi"])
        total = total * (1 + recipe["multi"])


def value_at(recipe: dict, step: int) -> float:
    """The class's value at its call ``step`` (0-based): a class whose counter and lengths are
    set to those of the cycle holding ``step``, called once."""
    start, total, warmup = next(c for c in _cycles(recipe) if step < c[0] + math.ceil(c[1]))
    c = CosineWarmupDecay(recipe["initial_lr"], recipe["min_lr"], warmup, total, recipe["multi"])
    c.step = step - start
    return c()


RECIPES = [
    # the blog's own example: initial_lr=0.01, min_lr=1e-6, total_step=20, warmup 1/4, multi=0.25
    dict(initial_lr=0.01, min_lr=1e-6, warmup_step=5, total_step=20, multi=0.25),
    dict(initial_lr=1e-3, min_lr=0.0, warmup_step=10, total_step=100, multi=0.5),
    dict(initial_lr=0.1, min_lr=1e-4, warmup_step=3, total_step=7, multi=0.5),
    # 1.1 is a binary fraction a little above 1.1: 20 * 1.1 rounds to 22.0, a cycle of 22 steps
    dict(initial_lr=1.0, min_lr=0.0, warmup_step=5, total_step=20, multi=0.1),
    dict(initial_lr=0.01, min_lr=1e-5, warmup_step=50, total_step=300, multi=0.3),
    dict(initial_lr=1e-3, min_lr=1e-6, warmup_step=8, total_step=64, multi=1.0),  # doubling
]


def fastlr_params(recipe: dict) -> dict:
    return dict(
        max_lr=recipe["initial_lr"],
        first_cycle_steps=recipe["total_step"],
        cycle_mult=1 + recipe["multi"],
        warmup_steps=recipe["warmup_step"],
        min_lr=recipe["min_lr"],
        whole_cycles=True,
    )


def _steps(recipe: dict, rng: random.Random) -> list[int]:
    steps = set(range(DENSE))
    for start, total, warmup in _cycles(recipe):
        for edge in (start, start + math.ceil(warmup)):
            steps |= {edge - 1, edge, edge + 1}
        if start > 0:
            rng_step = rng.randrange(start, min(start + math.ceil(total), TOP + 1))
            steps.add(rng_step)  # one step inside each cycle
    large = [2**24 + 1, 2**31 + 7, 10**9 + 3, 2**40, 10**12 + 1, 2**53 - 1, 2**53, 2**53 + 1]
    steps |= {*large, 2**62, 2**63 - 2, TOP}
    return sorted(s for s in steps if 0 <= s <= TOP)


def case(recipe: dict, rng: random.Random) -> dict:
    dense = CosineWarmupDecay(**recipe)
    by_call = [dense(i) for i in range(DENSE)]
    for i in range(DENSE):  # the replay is the class
        assert value_at(recipe, i) == by_call[i], (recipe, i)
    steps = _steps(recipe, rng)
    return dict(
        recipe=recipe,
        params=fastlr_params(recipe),
        steps=steps,
        values=[value_at(recipe, s) for s in steps],
    )


def main() -> None:
    rng = random.Random(16)
    cases = [case(r, rng) for r in RECIPES]
    OUT.write_text(json.dumps(dict(recipe="CosineWarmupDecay", cases=cases)) + "\n")
    print(f"wrote {OUT} ({sum(len(c['steps']) for c in cases)} values)")


if __name__ == "__main__":
    main()
