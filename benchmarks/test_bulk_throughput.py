"""Bulk precomputation throughput: fastlr (Numba) vs NumPy vs TF/XLA vs the write limit.

Each group times one way of filling the same float32 buffer with ``N`` values of the same
schedule, measured side by side in one run (warm-up and compilation outside the timed region):

* ``fastlr``: ``fastlr.evaluate(schedule, N, out=buf)`` (Numba, all cores);
* ``numpy``: the same formula on NumPy float64 in 2**20-step chunks (fastlr's reference engine);
* ``tf_xla``: the same formula under ``tf.function(jit_compile=True)`` over ``tf.range``;
* ``fill``: ``buf.fill(x)``, the machine's write bandwidth for this buffer.

Run ``pytest benchmarks/test_bulk_throughput.py`` (add ``--benchmark-json=FILE`` to keep it);
``FASTLR_BENCH_N`` overrides N (default 10**8). M steps/s = N / median.
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import fastlr
from fastlr.engines.numpy_ref import evaluate_into

N = int(os.environ.get("FASTLR_BENCH_N", 10**8))
SCHEDULE = fastlr.WarmupCosineDecay(0.1, N, warmup_steps=N // 100, hold_steps=N // 100, min_lr=1e-5)


@pytest.fixture(scope="module")
def buf():
    out = np.empty(N, dtype=np.float32)
    out.fill(0.0)  # fault the pages in outside the timed region
    return out


def _numpy(schedule, out):
    chunk = 1 << 20
    for lo in range(0, out.size, chunk):
        hi = min(lo + chunk, out.size)
        evaluate_into(schedule, np.arange(lo, hi, dtype=np.int64), out[lo:hi])


def _tf_xla(schedule, n):
    import tensorflow as tf

    fn = tf.function(
        lambda start: schedule(tf.range(start, start + n, dtype=tf.int64)), jit_compile=True
    )
    start = tf.constant(0, tf.int64)  # an argument, so XLA cannot fold the whole thing
    fn(start)
    return lambda: fn(start).numpy()


@pytest.mark.parametrize("engine", ["fastlr", "numpy", "tf_xla", "fill"])
def test_warmup_cosine_float32(benchmark, buf, engine):
    benchmark.group = f"WarmupCosineDecay {N:.0e} steps float32"
    benchmark.extra_info["steps"] = N
    if engine == "fastlr":
        fastlr.evaluate(SCHEDULE, 1000, out=buf[:1000])  # compile / load the kernel
        benchmark(fastlr.evaluate, SCHEDULE, N, out=buf)
    elif engine == "numpy":
        benchmark.pedantic(_numpy, args=(SCHEDULE, buf), rounds=1, iterations=1)
    elif engine == "tf_xla":
        benchmark.pedantic(_tf_xla(SCHEDULE, N), rounds=3, iterations=1)
    else:
        benchmark(buf.fill, 0.5)


CYCLES = [1, 64]


@pytest.mark.parametrize("cycles", CYCLES)
@pytest.mark.parametrize(
    "family", ["CosineDecayRestarts", "WarmupCosineRestarts-t2", "CyclicalLearningRate"]
)
def test_cost_vs_cycles(benchmark, buf, family, cycles):
    """Cost must not grow with the number of cycles (closed-form cycle index)."""
    n = N // 4
    if family == "CosineDecayRestarts":
        s = fastlr.CosineDecayRestarts(0.1, n // cycles, t_mul=1.0)
    elif family == "CyclicalLearningRate":
        s = fastlr.CyclicalLearningRate(1e-4, 0.1, step_size=max(n // (2 * cycles), 1))
    else:  # t_mul = 2: cycle k lasts first * 2**k; `cycles` cycles fit in n steps
        first = max(n // (2**cycles - 1), 1) if cycles < 40 else 1
        s = fastlr.WarmupCosineRestarts(0.1, max(first, 2), cycle_mult=2.0, warmup_steps=1)
    out = buf[:n]
    fastlr.evaluate(s, 1000, out=out[:1000])
    benchmark.group = f"cost vs cycles: {family} {n:.0e} steps"
    benchmark.extra_info["steps"] = n
    benchmark(fastlr.evaluate, s, n, out=out)


def _composites(n: int) -> dict[str, fastlr.Schedule]:
    w, h = n // 100, n // 100
    cosine = fastlr.CosineDecay(0.1, n - w - h, alpha=1e-4)
    return {
        "flat WarmupCosineDecay": fastlr.WarmupCosineDecay(0.1, n, w, h, min_lr=1e-5),
        "part CosineDecay": cosine,
        "part Constant": fastlr.Constant(1e-5),
        "depth 1 Warmup(CosineDecay)": fastlr.Warmup(cosine, w),
        # warmup + hold + cosine + floor, three levels deep
        "depth 3 Sequential(Warmup(Offset(CosineDecay)), Constant)": fastlr.Sequential(
            [fastlr.Warmup(fastlr.Offset(cosine, 0), w), fastlr.Constant(1e-5)], [n - h]
        ),
    }


@pytest.mark.parametrize("name", list(_composites(100)))
def test_composite_vs_parts(benchmark, buf, name):
    n = N // 4
    s = _composites(n)[name]
    out = buf[:n]
    fastlr.evaluate(s, 1000, out=out[:1000])
    benchmark.group = f"composites vs their parts: {n:.0e} steps float32"
    benchmark.extra_info["steps"] = n
    benchmark(fastlr.evaluate, s, n, out=out)
