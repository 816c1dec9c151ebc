"""GPU bulk evaluation: fastlr (numba-cuda) vs CuPy vs JAX, beside the copy bandwidth.

Workload: ``n`` float32 learning rates of ``WarmupCosineDecay(0.1, n, warmup_steps=n // 100,
hold_steps=n // 100, min_lr=1e-5)`` at steps ``0 .. n-1``, into device memory. Engines:

* ``fastlr``: ``fastlr.evaluate(schedule, n, out=buf, device="cuda")``, ``buf`` a preallocated
  device array (the grid-stride kernel; float64 math, one rounding to float32);
* ``cupy``: a ``cupy.ElementwiseKernel`` of the same formula in CUDA C (float64 math, libdevice
  ``cos``), into a preallocated CuPy array (:mod:`fastlr.bench.cuda_peers`, like ``jax``);
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

import os
from collections.abc import Callable
from typing import Any

import numpy as np

from fastlr.bench.cuda_peers import JAX_LABEL, MIN_LR, TARGET_LR
from fastlr.bench.timing import measure

SIZES = (10**6, 10**7, 10**8, 10**9)
"""``n`` of the full run."""

ENGINES: dict[str, str] = {
    "fastlr": "fastlr.evaluate(device='cuda') (numba-cuda)",
    "cupy": "CuPy ElementwiseKernel, same formula",
    "jax": JAX_LABEL,
    "copy": "device-to-device copy of the buffer",
}
"""Engine key -> the label used in reports (``jax``'s label changes without optax)."""


def schedule(n: int) -> Any:
    """The benchmarked schedule for ``n`` steps."""
    import fastlr

    w = n // 100
    return fastlr.WarmupCosineDecay(TARGET_LR, n, warmup_steps=w, hold_steps=w, min_lr=MIN_LR)


PACKAGES = (
    "numba-cuda",
    "cuda-bindings",
    "cupy",
    "cupy-cuda12x",
    "cupy-cuda13x",
    "jax",
    "jaxlib",
    "optax",
    "torch",
)
"""Versions a GPU result records besides :data:`fastlr.bench.schema.PACKAGES`."""

WORKLOAD = (
    "float32 WarmupCosineDecay(0.1, n, warmup_steps=n//100, hold_steps=n//100, min_lr=1e-5) "
    "at steps 0..n-1 into device memory"
)
DEFINITIONS = {
    "m_steps_per_s": "n / median_s / 1e6",
    "gb_s_written": "4 n / median_s / 1e9 (output bytes written)",
    "fraction_of_copy": "t_copy / t_engine; the copy reads 4n and writes 4n bytes",
    "vs_cupy, vs_jax": "t_peer / t_fastlr (> 1: fastlr faster)",
}


def gpu() -> dict[str, Any]:
    """The GPU as numba-cuda sees it: name, driver and runtime versions, compute capability,
    whether it is Numba's simulator (best effort: ``None`` for what cannot be read)."""
    from fastlr.engines import numba_cuda

    cuda = numba_cuda.require()
    info: dict[str, Any] = {"device": numba_cuda.device_name(), "simulated": numba_cuda.simulated()}
    info.update(driver=None, runtime=None, compute_capability=None)
    if info["simulated"]:  # the simulator's numbers describe no GPU
        return info
    for key, get in (
        ("driver", lambda: cuda.cudadrv.driver.driver.get_version()),
        ("runtime", lambda: cuda.runtime.get_version()),
        ("compute_capability", lambda: cuda.get_current_device().compute_capability),
    ):
        try:
            info[key] = ".".join(str(x) for x in get())
        except Exception:
            info[key] = None
    return info


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
    from fastlr.bench import cuda_peers
    from fastlr.engines import numba_cuda

    say = progress or (lambda line: None)
    notes = notes if notes is not None else []
    # JAX would take 75% of the GPU's memory when it starts: share it with numba-cuda and CuPy.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    numba_cuda.require()
    device = numba_cuda.device_name()
    peers: dict[str, Callable[[int], Callable[[], object]]] = {}
    for key, (module, prepare) in cuda_peers.PEERS.items():
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
                diff = cuda_peers.cross_check(ours.buffer, fn.buffer)
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


def section(
    sizes: tuple[int, ...] = SIZES,
    progress: Callable[[str], None] | None = print,
    **rounds: Any,
) -> dict[str, Any]:
    """The GPU part of a results file (:mod:`fastlr.bench.schema`): ``cuda``, the rows of
    :func:`run_cuda` (``rounds``: its ``min_rounds``, ``max_rounds``, ``budget_s``) with
    :func:`summarize`'s ratios, and ``cuda_info`` (:func:`gpu`, the workload, the definitions,
    the engines' labels and the notes on missing peers)."""
    notes: list[str] = []
    rows = run_cuda(sizes, progress, notes=notes, **rounds)
    info = {
        **gpu(),
        "workload": WORKLOAD,
        "definitions": DEFINITIONS,
        "engines": {r["engine"]: r["label"] for r in rows},
        "notes": notes,
    }
    return {"cuda": summarize(rows), "cuda_info": info}
