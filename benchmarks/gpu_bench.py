"""GPU bulk-evaluation benchmark: fastlr (numba-cuda) vs CuPy vs JAX, with the copy bandwidth.

One command on a CUDA machine with NumPy, Numba and numba-cuda (CuPy, JAX and optax optional;
TensorFlow not needed, nor installing fastlr: a checkout is enough)::

    python benchmarks/gpu_bench.py

writes ``benchmarks/results/<date>-<gpu>-cuda.json`` (or ``-o PATH``) and prints a table: M steps/s,
GB/s written, fraction of the copy time (``t_copy / t``) and fastlr's speedup over CuPy and JAX.
What each engine runs and how the numbers are defined: :mod:`fastlr.bench.cuda`.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import platform
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if importlib.util.find_spec("fastlr") is None:  # a checkout, not installed (e.g. no TensorFlow)
    sys.path.insert(0, str(ROOT))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "gpu"


def _driver() -> dict:
    """CUDA driver and runtime versions as numba-cuda sees them (best effort)."""
    from numba import cuda

    info: dict = {}
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, help="JSON path (default: results/...)")
    parser.add_argument(
        "--sizes",
        default="1e6,1e7,1e8,1e9",
        help="comma-separated n (default: 1e6,1e7,1e8,1e9)",
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    args = parser.parse_args(argv)

    import fastlr
    from fastlr.bench import cuda as bench
    from fastlr.engines import numba_cuda

    numba_cuda.require()  # a clear error without numba-cuda or a GPU
    sizes = tuple(int(float(x)) for x in args.sizes.split(",") if x.strip())
    device = numba_cuda.device_name()
    notes: list[str] = []
    rows = bench.run_cuda(sizes, progress=print, budget_s=args.budget, notes=notes)
    result = {
        "benchmark": "cuda-bulk",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "device": device,
        "cuda": _driver(),
        "simulated": numba_cuda.simulated(),
        "workload": (
            "float32 WarmupCosineDecay(0.1, n, warmup_steps=n//100, hold_steps=n//100, "
            "min_lr=1e-5) at steps 0..n-1 into device memory"
        ),
        "engines": {**bench.ENGINES, **{r["engine"]: r["label"] for r in rows}},
        "definitions": {
            "m_steps_per_s": "n / median_s / 1e6",
            "gb_s_written": "4 n / median_s / 1e9 (output bytes written)",
            "fraction_of_copy": "t_copy / t_engine; the copy reads 4n and writes 4n bytes",
            "vs_cupy, vs_jax": "t_peer / t_fastlr (> 1: fastlr faster)",
        },
        "fastlr": fastlr.__version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu": platform.processor() or platform.machine(),
        "versions": bench.versions(),
        "notes": notes,
        "rows": bench.summarize(rows),
    }
    out = args.output
    if out is None:
        day = datetime.date.today().isoformat()
        out = RESULTS / f"{day}-{_slug(device)}-cuda.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2) + "\n")
    print()
    print(f"{device}: {len(rows)} rows")
    print(bench.table(rows))
    for note in notes:
        print("note:", note)
    print(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
