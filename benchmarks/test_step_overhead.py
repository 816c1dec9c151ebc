"""Training-step overhead: what an LR schedule costs inside ``model.fit`` (pytest-benchmark).

Every variant of :data:`fastlr.bench.training.VARIANTS` trains the same small MLP (batch 64,
SGD with momentum) for ``N`` steps per round: one ``model.fit(dataset, epochs=1, verbose=0)``
over a cached dataset of ``N`` batches. The model is built, compiled (``jit_compile=True``, except
the eager Python-counter recipe, which needs ``run_functions_eagerly`` and so
``jit_compile=False``) and warmed up by one full fit outside the timed region; see
:mod:`fastlr.bench.training` for what exactly is timed.

All variants run the same ``N`` so the group's table compares them directly; the row
(:func:`fastlr.bench.training.row`, ``--results-json``) has the time per step (time / N) and the
ratio to the constant LR, like ``fastlr bench``'s; the eager variant gets fewer rounds.

Run ``pytest benchmarks/test_step_overhead.py`` (``FASTLR_BENCH_STEPS`` overrides N, default 200);
with ``--benchmark-disable`` each variant runs a few steps once, as a smoke test.
``python -c "from fastlr.bench.training import step_overhead; print(step_overhead(quick=True))"``
gives the same comparison as ratios to the constant LR.
"""

from __future__ import annotations

import os

import pytest

from fastlr.bench.training import VARIANTS, prepare, row

N = int(os.environ.get("FASTLR_BENCH_STEPS", 200))
SMOKE_STEPS = 3
ROUNDS = {"eager_counter": 3}
DEFAULT_ROUNDS = 10


@pytest.mark.parametrize("variant", list(VARIANTS))
def test_step_overhead(benchmark, record, variant):
    steps = SMOKE_STEPS if benchmark.disabled else N
    benchmark.group = f"training step overhead (model.fit, per {steps} steps)"
    fn = prepare(variant, steps)  # builds, compiles and warms up outside the timed region
    benchmark.pedantic(fn, rounds=ROUNDS.get(variant, DEFAULT_ROUNDS), iterations=1)
    stats = record.stats()
    record.add("step_overhead", stats and row(variant, steps, **stats))
