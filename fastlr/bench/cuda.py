"""GPU bulk evaluation: fastlr (numba-cuda) vs CuPy vs JAX, beside the copy bandwidth.

Workload: ``n`` float32 learning rates of ``WarmupCosineDecay(0.1, n, warmup_steps=n // 100,
hold_steps=n // 100, min_lr=1e-5)`` at steps ``0 .. n-1``, into device memory. Engines:

* ``fastlr``: ``fastlr.evaluate(schedule, n, out=buf, device="cuda")``, ``buf`` a preallocated
  device array (the grid-stride kernel; float64 math, one rounding to float32);
* ``cupy``: a ``cupy.ElementwiseKernel`` of the same formula in CUDA C (float64 math, libdevice
  ``cos``), into a preallocated CuPy array;
* ``jax``: ``jax.jit`` of ``optax.warmup_cosine_decay_schedule(0, 0.1, n // 100, n, 1e-5)`` (the
  JAX ecosystem's nearest schedule: warmup then cosine, no hold phase) on ``start + arange(n)``,
  ``start`` a traced argument so XLA cannot fold it to a constant; JAX's default float32 math.
  Without optax the same formula is written in ``jax.numpy`` (engine label says so);
* ``copy``: a device-to-device copy of an ``n``-float32 buffer: reads ``4n`` and writes ``4n``
  bytes, the memory-bound reference of this GPU in the same run.

Every timed call ends with a device synchronize. Derived numbers (:func:`summarize`):
``m_steps_per_s = n / median_s / 1e6``; ``gb_s_written = 4n / median_s / 1e9`` (bytes of output
written; the copy also reads as many); ``fraction_of_copy = t_copy / t_engine`` (1.0: as fast as
copying the buffer once; an engine that only writes can exceed 1); ``vs_cupy`` and ``vs_jax``:
``t_peer / t_fastlr`` (> 1: fastlr faster).

Nothing here imports TensorFlow; peers that are not installed give no rows and a note.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import numpy as np

from fastlr.bench.timing import measure

SIZES = (10**6, 10**7, 10**8, 10**9)
"""``n`` of the full run."""

ENGINES: dict[str, str] = {
    "fastlr": "fastlr.evaluate(device='cuda') (numba-cuda)",
    "cupy": "CuPy ElementwiseKernel, same formula",
    "jax": "jax.jit of optax.warmup_cosine_decay_schedule",
    "copy": "device-to-device copy of the buffer",
}
"""Engine key -> the label used in reports (``jax``'s label changes without optax)."""

TARGET_LR, MIN_LR = 0.1, 1e-5

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


def schedule(n: int) -> Any:
    """The benchmarked schedule for ``n`` steps."""
    import fastlr

    w = n // 100
    return fastlr.WarmupCosineDecay(TARGET_LR, n, warmup_steps=w, hold_steps=w, min_lr=MIN_LR)


def _version(pkg: str) -> str | None:
    try:
        return version(pkg)
    except PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Versions of everything a GPU row depends on (``None``: not installed)."""
    pkgs = ("fastlr", "numpy", "numba", "numba-cuda", "llvmlite", "cuda-bindings")
    pkgs += ("cupy", "cupy-cuda12x", "cupy-cuda13x", "jax", "jaxlib", "optax", "torch")
    return {p: _version(p) for p in pkgs}


# -- engines: each prepare_* returns a warm callable that ends with a synchronize, or a note ---
def _prepare_fastlr(n: int) -> Callable[[], object]:
    import fastlr
    from fastlr.engines import numba_cuda

    s = schedule(n)
    buf = numba_cuda.device_array(n, np.dtype(np.float32))
    fastlr.evaluate(s, n, out=buf, device="cuda")  # compiles; evaluate synchronizes

    def run() -> object:
        return fastlr.evaluate(s, n, out=buf, device="cuda")

    run.buffer = buf  # for the cross-check
    return run


def _prepare_copy(n: int) -> Callable[[], object]:
    from fastlr.engines import numba_cuda

    cuda = numba_cuda.require()
    src = numba_cuda.device_array(n, np.dtype(np.float32))
    dst = numba_cuda.device_array(n, np.dtype(np.float32))
    dst.copy_to_device(src)
    cuda.synchronize()

    def run() -> object:
        dst.copy_to_device(src)
        cuda.synchronize()
        return dst

    return run


def _prepare_cupy(n: int) -> Callable[[], object]:
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


def _optax_formula(init: float, peak: float, warmup: int, decay_steps: int, end: float):
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


def _prepare_jax(n: int) -> Callable[[], object]:
    import jax
    import jax.numpy as jnp

    w = n // 100
    try:
        import optax

        sched = optax.warmup_cosine_decay_schedule(0.0, TARGET_LR, w, n, MIN_LR)
        label = ENGINES["jax"]
    except ImportError:
        sched = _optax_formula(0.0, TARGET_LR, w, n, MIN_LR)
        label = "jax.jit of optax's warmup_cosine_decay formula in jax.numpy (optax not installed)"
    dtype = jnp.int64 if getattr(jax.config, "jax_enable_x64", False) else jnp.int32
    f = jax.jit(lambda start: sched(start + jnp.arange(n, dtype=dtype)).astype(jnp.float32))
    start = jnp.asarray(0, dtype=dtype)

    def run() -> object:
        return f(start).block_until_ready()

    run()
    run.label = label
    return run


_PEERS: dict[str, tuple[str, Callable[[int], Callable[[], object]]]] = {
    "cupy": ("cupy", _prepare_cupy),
    "jax": ("jax", _prepare_jax),
}


def _cross_check(fastlr_buf: Any, peer_buf: Any) -> float | None:
    """Largest |fastlr - peer| over the buffers (CuPy, no host copy), or ``None``."""
    try:
        import cupy as cp

        return float(cp.max(cp.abs(cp.asarray(fastlr_buf) - cp.asarray(peer_buf))))
    except Exception:
        return None


def run_cuda(
    sizes: tuple[int, ...] = SIZES,
    progress: Callable[[str], None] | None = print,
    *,
    min_rounds: int = 5,
    max_rounds: int = 50,
    budget_s: float = 1.0,
    notes: list[str] | None = None,
) -> list[dict]:
    """Time every available engine at every ``n`` in ``sizes`` on the current GPU.

    Args:
        sizes: the ``n`` to run.
        progress: called with a line per measurement and per note (``None``: silent).
        min_rounds, max_rounds, budget_s: passed to :func:`fastlr.bench.timing.measure`.
        notes: if given, why a peer has no rows is appended to it (also sent to ``progress``).

    Returns:
        Rows ``{"engine", "label", "n", "median_s", "min_s", "rounds", "device",
        "m_steps_per_s", "gb_s_written"}`` (plus ``"max_abs_diff_vs_fastlr"`` for CuPy when it can
        be computed); see :func:`summarize` for the ratios.
    """
    from fastlr.engines import numba_cuda

    say = progress or (lambda line: None)
    notes = notes if notes is not None else []
    # JAX would take 75% of the GPU's memory when it starts: share it with numba-cuda and CuPy.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    numba_cuda.require()
    device = numba_cuda.device_name()
    peers: dict[str, Callable[[int], Callable[[], object]]] = {}
    for key, (module, prepare) in _PEERS.items():
        try:
            __import__(module)
        except Exception as e:  # missing, or broken (e.g. no GPU build)
            note = f"{key}: not available ({type(e).__name__}: {e}); no {key} rows"
            notes.append(note)
            say(note)
            continue
        peers[key] = prepare
    rows: list[dict] = []

    def time_it(engine: str, n: int, fn: Callable[[], object], label: str) -> dict:
        t = measure(fn, min_rounds=min_rounds, max_rounds=max_rounds, budget_s=budget_s)
        row = {
            "engine": engine,
            "label": label,
            "n": n,
            **t.as_dict(),
            "device": device,
            "m_steps_per_s": n / t.median_s / 1e6,
            "gb_s_written": 4 * n / t.median_s / 1e9,
        }
        rows.append(row)
        ms, rate = t.median_s * 1e3, row["m_steps_per_s"]
        say(f"{engine:>7} n={n:>13,}  {ms:10.3f} ms  {rate:12,.0f} M steps/s")
        return row

    for n in sizes:
        ours = _prepare_fastlr(n)
        time_it("fastlr", n, ours, ENGINES["fastlr"])
        time_it("copy", n, _prepare_copy(n), ENGINES["copy"])
        for key, prepare in peers.items():
            try:
                fn = prepare(n)
            except Exception as e:  # e.g. out of memory at 10**9
                note = f"{key} n={n}: failed ({type(e).__name__}: {e}); no row"
                notes.append(note)
                say(note)
                continue
            row = time_it(key, n, fn, getattr(fn, "label", ENGINES[key]))
            if key == "cupy":
                diff = _cross_check(ours.buffer, fn.buffer)
                if diff is not None:
                    row["max_abs_diff_vs_fastlr"] = diff
            del fn
    return rows


def summarize(rows: list[dict]) -> list[dict]:
    """Rows with ``fraction_of_copy`` (``t_copy / t``) and, for ``fastlr``, ``vs_cupy`` and
    ``vs_jax`` (``t_peer / t_fastlr``) where those rows exist for the same ``n``."""
    by = {(r["engine"], r["n"]): r for r in rows}
    out = []
    for r in rows:
        r = dict(r)
        copy = by.get(("copy", r["n"]))
        if copy is not None:
            r["fraction_of_copy"] = copy["median_s"] / r["median_s"]
        if r["engine"] == "fastlr":
            for peer in ("cupy", "jax"):
                other = by.get((peer, r["n"]))
                if other is not None:
                    r[f"vs_{peer}"] = other["median_s"] / r["median_s"]
        out.append(r)
    return out


def table(rows: list[dict]) -> str:
    """A plain-text table of :func:`summarize`'s rows."""

    def fmt(x: Any, width: int) -> str:
        missing = x is None or (isinstance(x, float) and math.isnan(x))
        return f"{'-' if missing else format(x, '.2f'):>{width}}"

    head = (
        f"{'engine':>7} {'n':>13} {'median ms':>10} {'M steps/s':>11} {'GB/s wr':>8} "
        f"{'x copy':>7} {'vs CuPy':>8} {'vs JAX':>7}"
    )
    lines = [head, "-" * len(head)]
    for r in summarize(rows):
        lines.append(
            f"{r['engine']:>7} {r['n']:>13,} {r['median_s'] * 1e3:>10.3f} "
            f"{r['m_steps_per_s']:>11,.0f} {r['gb_s_written']:>8.1f} "
            f"{fmt(r.get('fraction_of_copy'), 7)} {fmt(r.get('vs_cupy'), 8)} "
            f"{fmt(r.get('vs_jax'), 7)}"
        )
    return "\n".join(lines)
