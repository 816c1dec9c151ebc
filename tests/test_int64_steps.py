"""Every cyclic family near 2**62 and at 2**63 - 1, in every engine, against the exact reference.

The cycle index and the position inside a cycle must be exact at every int64 step: equal whole-step
cycles by int64 arithmetic, growing cycles by double-double arithmetic on the exactly split step,
cyclical and polynomial cycles by exact integer floor division. ``tests/reference.py`` walks the
cycles with Python integers and Fractions, so it is exact there too.
"""

from __future__ import annotations

import numpy as np
import pytest
from specs import REFERENCE

import fastlr

TOP = 2**63 - 1
# 3 * (2**k - 1) are the cycle starts of growing cycles with first=3 and mult=2 (integers)
STEPS = sorted(
    {
        *(2**53 + d for d in (-1, 0, 1)),
        *(2**62 + d for d in range(-3, 4)),
        *(3 * (2**60 - 1) + d for d in (-1, 0, 1)),
        *(3 * (2**61 - 1) + d for d in (-1, 0, 1)),
        *(TOP - d for d in range(4)),
    }
)

CYCLIC = {
    "sgdr equal whole cycles": fastlr.CosineDecayRestarts(1.0, 3, t_mul=1.0),
    "sgdr equal cycles, decaying peaks": fastlr.CosineDecayRestarts(
        0.5, 7, t_mul=1.0, m_mul=0.999, alpha=0.1
    ),
    "sgdr doubling cycles": fastlr.CosineDecayRestarts(1.0, 3, t_mul=2.0),
    "sgdr growing by 1.5": fastlr.CosineDecayRestarts(1.0, 7, t_mul=1.5, m_mul=0.9, alpha=0.1),
    "sgdr growing by 3": fastlr.CosineDecayRestarts(1.0, 5, t_mul=3.0, alpha=0.05),
    "warmup restarts doubling": fastlr.WarmupCosineRestarts(1.0, 3, cycle_mult=2.0),
    "warmup restarts doubling with warmup": fastlr.WarmupCosineRestarts(
        1.0, 10, cycle_mult=2.0, warmup_steps=3, min_lr=0.1, gamma=0.99
    ),
    "warmup restarts equal": fastlr.WarmupCosineRestarts(0.5, 7, warmup_steps=2),
    "warmup restarts fixed warmup": fastlr.WarmupCosineRestarts(
        1.0, 6, cycle_mult=1.5, warmup_steps=2, scale_warmup=False
    ),
    "warmup restarts, the blog's whole cycles": fastlr.WarmupCosineRestarts(
        0.01, 20, cycle_mult=1.25, warmup_steps=5, min_lr=1e-6, whole_cycles=True
    ),
    "warmup restarts, whole cycles of 1.1": fastlr.WarmupCosineRestarts(
        1.0, 3, cycle_mult=1.1, warmup_steps=1, gamma=0.99, whole_cycles=True
    ),
    "cyclical triangular": fastlr.CyclicalLearningRate(0.1, 1.0, step_size=3),
    "cyclical uneven": fastlr.CyclicalLearningRate(0.1, 1.0, step_size=5, step_size_down=7),
    "cyclical triangular2": fastlr.CyclicalLearningRate(0.1, 1.0, 3, mode="triangular2"),
    "cyclical exp_range": fastlr.CyclicalLearningRate(
        0.1, 1.0, 3, mode="exp_range", gamma=1.0 - 2.0**-60
    ),
    "polynomial cycle squared": fastlr.PolynomialDecay(
        1.0, 7, end_learning_rate=0.01, power=2.0, cycle=True
    ),
    "polynomial cycle power 1.7": fastlr.PolynomialDecay(1.0, 3, power=1.7, cycle=True),
    "exponential staircase": fastlr.ExponentialDecay(1.0, 3, 0.9999999, staircase=True),
    "inverse time staircase": fastlr.InverseTimeDecay(1.0, 3, 1e-18, staircase=True),
}


def _exact(schedule) -> np.ndarray:
    config = {k: v for k, v in schedule.get_config().items() if k != "name"}
    fn = REFERENCE[type(schedule).__name__]
    return np.array([fn(s, **config) for s in STEPS], dtype=np.float64)


def _engine(engine: str, schedule) -> np.ndarray:
    steps = np.array(STEPS, dtype=np.int64)
    if engine == "numpy":
        from fastlr.engines.numpy_ref import reference

        return reference(schedule, steps)
    if engine in ("tf_graph", "tf_xla"):
        import tensorflow as tf

        from fastlr.engines import graph

        def call(s):
            return graph.call(schedule, s, tf.float64)

        if engine == "tf_xla":
            call = tf.function(call, jit_compile=True)
        return call(tf.constant(steps)).numpy()
    if engine in ("jax", "jax_jit"):
        import jax

        from fastlr.engines import jax_ops

        def call(s):
            return jax_ops.call(schedule, s, "float64")

        if engine == "jax_jit":
            call = jax.jit(call)
        with jax.enable_x64(True):
            return np.asarray(call(steps))
    if engine == "torch":
        import torch

        from fastlr.engines import torch_ops

        return torch_ops.call(schedule, torch.from_numpy(steps), torch.float64).numpy()
    if engine == "numba_array":
        return fastlr.evaluate(schedule, steps, dtype="float64")
    if engine == "numba_range":  # the range kernel, on short runs of consecutive steps
        runs = [fastlr.evaluate(schedule, range(s, s + 1), dtype="float64") for s in STEPS]
        return np.concatenate(runs)
    if engine == "cuda":
        return fastlr.evaluate(schedule, steps, dtype="float64", device="cuda")
    raise AssertionError(engine)


@pytest.mark.parametrize(
    "engine",
    ["numpy", "tf_graph", "tf_xla", "jax", "jax_jit", "torch", "numba_array", "numba_range"],
)
@pytest.mark.parametrize("case", sorted(CYCLIC))
def test_cyclic_family_exact_near_2_62(case, engine):
    schedule = CYCLIC[case]
    want = _exact(schedule)
    got = _engine(engine, schedule)
    peak = float(np.max(np.abs(want)))
    bad = ~(np.abs(got - want) <= 1e-12 * np.abs(want) + 1e-15 * peak)
    detail = [(STEPS[i], float(got[i]), float(want[i])) for i in np.flatnonzero(bad)[:4]]
    assert not bad.any(), f"{case} on {engine}: (step, got, exact) {detail}"


@pytest.mark.parametrize("case", sorted(CYCLIC))
def test_cyclic_family_exact_near_2_62_on_cuda(case):
    """The CUDA engine (Numba's simulator in CI) on the same steps."""
    schedule = CYCLIC[case]
    want = _exact(schedule)
    got = _engine("cuda", schedule)
    peak = float(np.max(np.abs(want)))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15 * peak)


def test_float32_correctly_rounded_near_2_62():
    """float32 results there are the float64 reference rounded once (bulk and graph)."""
    import tensorflow as tf

    for case, schedule in CYCLIC.items():
        want = _exact(schedule).astype(np.float32)
        steps = np.array(STEPS, dtype=np.int64)
        np.testing.assert_array_equal(fastlr.evaluate(schedule, steps), want, err_msg=case)
        np.testing.assert_array_equal(schedule(tf.constant(steps)).numpy(), want, err_msg=case)
