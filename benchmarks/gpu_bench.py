"""GPU bulk-evaluation benchmark: fastlr (numba-cuda) vs CuPy vs JAX, with the copy bandwidth.

One command on a CUDA machine with NumPy, Numba and numba-cuda (CuPy, JAX and optax optional;
TensorFlow not needed, nor installing fastlr: a checkout is enough)::

    python benchmarks/gpu_bench.py

runs the GPU rows of ``fastlr bench --device cuda`` (:func:`fastlr.bench.cuda.section`) and writes
them in the results format of every harness (:mod:`fastlr.bench.schema`, harness ``"gpu_bench"``)
to ``benchmarks/results/<date>-<gpu>-cuda.json`` (or ``-o PATH``); it prints the report's GPU
table: M steps/s, GB/s written, fastlr's fraction of the device-to-device copy time
(``t_copy / t``) and its speedup over CuPy and JAX. ``python -m fastlr.bench.report PATH`` renders
the file. In Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) it runs too, as a smoke test: the
file says ``"simulated": true`` and the report says these are not GPU timings.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.util
import json
import re
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
if importlib.util.find_spec("fastlr") is None:  # a checkout, not installed (e.g. no TensorFlow)
    sys.path.insert(0, str(ROOT))


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "gpu"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("-o", "--output", type=Path, help="JSON path (default: results/...)")
    parser.add_argument(
        "--sizes",
        default="1e6,1e7,1e8,1e9",
        help="comma-separated n (default: 1e6,1e7,1e8,1e9)",
    )
    parser.add_argument("--budget", type=float, default=1.0, help="seconds per measurement")
    parser.add_argument(
        "--min-rounds", type=int, default=5, help="fewest timed calls per measurement"
    )
    args = parser.parse_args(argv)
    sizes = tuple(int(float(x)) for x in args.sizes.split(",") if x.strip())

    from fastlr.bench import cuda, schema
    from fastlr.bench.section_tables import cuda_table
    from fastlr.engines import numba_cuda

    numba_cuda.require()  # a clear error without numba-cuda or a GPU
    t0 = time.perf_counter()
    given = sys.argv[1:] if argv is None else argv
    command = " ".join(["python benchmarks/gpu_bench.py", *given])
    results = schema.header(
        "gpu_bench",
        quick=max(sizes) < max(cuda.SIZES),
        device="cuda",
        command=command,
        packages=cuda.PACKAGES,
    )
    if numba_cuda.simulated():
        print("Numba's CUDA simulator is on: a smoke run, not GPU timings")
    results.update(
        cuda.section(sizes, progress=print, budget_s=args.budget, min_rounds=args.min_rounds)
    )
    results["elapsed_s"] = time.perf_counter() - t0
    found = schema.problems(results)
    assert not found, found
    out = args.output
    if out is None:
        day = datetime.date.today().isoformat()
        out = RESULTS / f"{day}-{_slug(results['cuda_info']['device'])}-cuda.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=1) + "\n")
    print()
    print(cuda_table(results))
    print(f"\nwrote {out} (python -m fastlr.bench.report {out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
