"""The GPU benchmark's peers: the same workload as :mod:`fastlr.bench.cuda` in CuPy and JAX.

* ``cupy``: a ``cupy.ElementwiseKernel`` of the formula in CUDA C (float64 math, libdevice
  ``cos``), into a preallocated CuPy array;
* ``jax``: ``jax.jit`` of ``optax.warmup_cosine_decay_schedule`` (without optax, the same formula
  in ``jax.numpy``; the label says so, and says when JAX has no GPU backend).

Each ``prepare_*`` returns a warm callable that ends with a device synchronize; the CuPy one
keeps its output in ``.buffer`` for :func:`cross_check`, the JAX one its label in ``.label``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

TARGET_LR, MIN_LR = 0.1, 1e-5
JAX_LABEL = "jax.jit of optax.warmup_cosine_decay_schedule"

_CUPY_SOURCE = """
    long long s = start + (long long)i;
    long long t = s < total ? s : total;
    double v;
    if (t < warm) {
        v = target * ((double)t / (double)(warm > 1 ? warm : 1));
    } else if (t < warm + hold) {
        v = target;
    } else {
        double span = (double)(total - warm - hold);
        double r = (double)(t - warm - hold) / (span > 1.0 ? span : 1.0);
        v = min_lr + (target - min_lr) * 0.5 * (1.0 + cos(FASTLR_PI * r));
    }
    out = (float)v;
"""


def prepare_cupy(n: int) -> Callable[[], object]:
    import cupy as cp

    kernel = cp.ElementwiseKernel(
        "int64 start, float64 target, float64 min_lr, int64 warm, int64 hold, int64 total",
        "float32 out",
        _CUPY_SOURCE,
        "fastlr_bench_warmup_cosine",
        preamble="#define FASTLR_PI 3.141592653589793",
    )
    w = n // 100
    out = cp.empty(n, dtype=cp.float32)
    args = (0, TARGET_LR, MIN_LR, w, w, n)

    def run() -> object:
        kernel(*args, out)
        cp.cuda.Device().synchronize()
        return out

    run()
    run.buffer = out
    return run


def optax_formula(init: float, peak: float, warmup: int, decay_steps: int, end: float):
    """optax's ``warmup_cosine_decay_schedule`` written in ``jax.numpy`` (used without optax):
    a linear ramp ``init -> peak`` over ``warmup`` steps, then cosine ``peak -> end`` over
    ``decay_steps - warmup`` steps (optax's ``join_schedules`` of the two)."""
    import jax.numpy as jnp

    def sched(count):
        ramp = init + (peak - init) * jnp.clip(count, 0, warmup) / max(warmup, 1)
        c = jnp.clip(count - warmup, 0, decay_steps - warmup)
        alpha = end / peak
        cosine = 0.5 * (1 + jnp.cos(jnp.pi * c / (decay_steps - warmup)))
        return jnp.where(count < warmup, ramp, peak * ((1 - alpha) * cosine + alpha))

    return sched


def prepare_jax(n: int) -> Callable[[], object]:
    import jax
    import jax.numpy as jnp

    w = n // 100
    try:
        import optax

        sched = optax.warmup_cosine_decay_schedule(0.0, TARGET_LR, w, n, MIN_LR)
        label = JAX_LABEL
    except ImportError:
        sched = optax_formula(0.0, TARGET_LR, w, n, MIN_LR)
        label = "jax.jit of optax's warmup_cosine_decay formula in jax.numpy (optax not installed)"
    platform = jax.devices()[0].platform
    if platform not in ("gpu", "cuda", "rocm"):  # a CPU-only JAX: say so in every row
        label += f" (on JAX's {platform}, not the GPU)"
    dtype = jnp.int64 if getattr(jax.config, "jax_enable_x64", False) else jnp.int32
    f = jax.jit(lambda start: sched(start + jnp.arange(n, dtype=dtype)).astype(jnp.float32))
    start = jnp.asarray(0, dtype=dtype)

    def run() -> object:
        return f(start).block_until_ready()

    run()
    run.label = label
    return run


PEERS: dict[str, tuple[str, Callable[[int], Callable[[], object]]]] = {
    "cupy": ("cupy", prepare_cupy),
    "jax": ("jax", prepare_jax),
}


def cross_check(fastlr_buf: Any, peer_buf: Any) -> float | None:
    """Largest |fastlr - peer| over the buffers (CuPy, no host copy), or ``None``."""
    try:
        import cupy as cp

        return float(cp.max(cp.abs(cp.asarray(fastlr_buf) - cp.asarray(peer_buf))))
    except Exception:
        return None
