"""The report's tables of the sections besides ``bulk``: cost vs cycles, composites, the scalar
call under XLA, the training step, the first call, and the GPU (:mod:`fastlr.bench.schema`).

Each returns ``""`` when its section has no rows.
"""

from __future__ import annotations

from fastlr.bench.tables import _fmt, _mps, _star, _table


def cycles_table(results: dict) -> str:
    rows, base = [], {}
    for r in results.get("cycles", []):
        base.setdefault(r["family"], r["median_s"])
        rows.append(
            [
                r["family"],
                str(r["cycles"]),
                _fmt(_mps(r)),
                f"{r['median_s'] / base[r['family']]:.2f}x",
            ]
        )
    if not rows:
        return ""
    n = results["cycles"][0]["n"]
    title = f"Cost vs number of cycles (fastlr, N = {n:,})"
    return f"**{title}**\n\n" + _table(["family", "cycles", "M steps/s", "time vs 1 cycle"], rows)


def composites_table(results: dict) -> str:
    """fastlr on a flat schedule, its parts and composites built from them: time vs the flat."""
    rows = results.get("composites") or []
    flat = next((r for r in rows if r["family"].startswith("flat")), None)
    out = [
        [
            r["family"],
            _fmt(_mps(r)) + _star(r),
            _fmt(r["median_s"] * 1e3, " ms"),
            _fmt(r["median_s"] / flat["median_s"], "x") + _star(r, flat) if flat else "-",
        ]
        for r in rows
    ]
    if not out:
        return ""
    title = f"Composites vs their parts (fastlr, N = {rows[0]['n']:,} float32 steps)"
    return f"**{title}**\n\n" + _table(["schedule", "M steps/s", "median", "time vs flat"], out)


def graph_call_table(results: dict) -> str:
    """One call at a scalar step under XLA: fastlr vs the Keras built-in of the same name."""
    by = {(r["schedule"], r["impl"]): r for r in results.get("graph_call") or []}
    out = []
    for name in dict.fromkeys(r["schedule"] for r in results.get("graph_call") or []):
        f, k = by.get((name, "fastlr")), by.get((name, "keras"))
        out.append(
            [
                name,
                _fmt(f["median_s"] * 1e6, " us") if f else "-",
                _fmt(k["median_s"] * 1e6, " us") if k else "-",
                _fmt(k["median_s"] / f["median_s"], "x") if f and k else "-",
            ]
        )
    if not out:
        return ""
    header = ["schedule", "fastlr", "Keras built-in", "Keras time / fastlr time"]
    title = "One call at a scalar step inside tf.function(jit_compile=True) (median)"
    return f"**{title}**\n\n" + _table(header, out)


def step_table(results: dict) -> str:
    rows = [
        [
            r["label"],
            _fmt(r["per_step_s"] * 1e3, " ms"),
            "-" if r["ratio_vs_constant"] is None else f"{r['ratio_vs_constant']:.2f}x",
            str(r["steps"]),
        ]
        for r in results.get("step_overhead", [])
    ]
    if not rows:
        return ""
    title = "Training step inside model.fit (per-step median)"
    return f"**{title}**\n\n" + _table(["learning rate", "per step", "vs constant", "steps"], rows)


def first_call_table(results: dict) -> str:
    rows = [
        [
            r["cache"],
            _fmt(r["total_s"], " s"),
            _fmt(r["import_s"], " s"),
            _fmt(r["numba_init_s"], " s"),
            _fmt(r["first_call_s"], " s"),
        ]
        for r in results.get("first_call", [])
    ]
    if not rows:
        return ""
    header = ["cache", "whole process", "import", "Numba init", "first evaluate(10**6)"]
    return "**Fresh process to the first 10**6 values**\n\n" + _table(header, rows)


def _gpu_lines(results: dict) -> list[str]:
    info = results.get("cuda_info") or {}
    versions = results.get("machine", {}).get("versions", {})
    parts = [f"{k.replace('_', ' ')} {info[k]}" for k in ("driver", "runtime") if info.get(k)]
    if info.get("compute_capability"):
        parts.append(f"compute capability {info['compute_capability']}")
    names = {"numba-cuda": "numba-cuda", "cupy": "CuPy", "jax": "JAX", "optax": "optax"}
    for pkg in ("cupy-cuda12x", "cupy-cuda13x"):
        versions = {**versions, "cupy": versions.get("cupy") or versions.get(pkg)}
    parts += [f"{name} {versions[pkg]}" for pkg, name in names.items() if versions.get(pkg)]
    lines = [
        "; ".join(parts) + "." if parts else "",
        "*fastlr of copy*: the time of a device-to-device copy of the buffer over fastlr's; "
        "*vs CuPy*, *vs JAX*: the peer's time over fastlr's (> 1: fastlr faster).",
    ]
    if info.get("workload"):
        lines.append(f"Workload: {info['workload']}.")
    engines = info.get("engines") or {}
    if engines:
        lines.append("Engines: " + "; ".join(f"{k}: {v}" for k, v in engines.items()) + ".")
    diffs = [
        r["max_abs_diff_vs_fastlr"]
        for r in results.get("cuda") or []
        if r.get("engine") == "cupy" and r.get("max_abs_diff_vs_fastlr") is not None
    ]
    if diffs:
        lines.append(f"CuPy's values differ from fastlr's by at most {max(diffs):.2g}.")
    notes = info.get("notes") or []
    if notes:
        lines.append("\n".join(f"- {note}" for note in notes))
    return [x for x in lines if x]


def cuda_table(results: dict) -> str:
    """The GPU rows: fastlr's time, its fraction of the device-to-device copy and its speedups
    over CuPy and JAX (:func:`fastlr.bench.cuda.summarize`), with the GPU and the notes."""
    from fastlr.bench.cuda import summarize

    rows = summarize(results.get("cuda") or [])
    if not rows:
        return ""
    by = {(r["engine"], r["n"]): r for r in rows}
    out = []
    for n in sorted({r["n"] for r in rows}):
        f = by.get(("fastlr", n))
        cells = [f"{n:.0e}", _fmt(f["median_s"] * 1e3, " ms") if f else "-"]
        for e in ("fastlr", "cupy", "jax", "copy"):
            cells.append(_fmt(_mps(by[(e, n)])) if (e, n) in by else "-")
        cells.append(_fmt(f["gb_s_written"]) if f else "-")
        frac = f and f.get("fraction_of_copy")
        cells.append(_fmt(100 * frac, "%") if frac else "-")
        for peer in ("vs_cupy", "vs_jax"):
            cells.append(_fmt(f[peer], "x") if f and f.get(peer) else "-")
        out.append(cells)
    info = results.get("cuda_info") or {}
    device = info.get("device") or rows[0].get("device", "GPU")
    header = [
        "N",
        "fastlr median",
        "fastlr M/s",
        "CuPy M/s",
        "JAX M/s",
        "copy M/s",
        "fastlr GB/s written",
        "fastlr of copy",
        "vs CuPy",
        "vs JAX",
    ]
    title = f"GPU: {device}, WarmupCosineDecay float32"
    if info.get("simulated") or device == "simulator":
        title += " (Numba's CUDA simulator: these are not GPU timings)"
    text = f"**{title}**\n\n" + _table(header, out)
    lines = _gpu_lines(results)
    return "\n\n".join([text, *lines])
