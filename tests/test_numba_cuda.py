"""The CUDA engine: the CPU engine's formulas on a GPU, or in Numba's CUDA simulator without one.

Without a GPU, ``tests/conftest.py`` sets ``NUMBA_ENABLE_CUDASIM=1``: every test here but the
``gpu``-marked ones runs the engine's generated kernels and device functions as Python. The PTX
test compiles the real kernels for compute capability 9.0 in a subprocess (no simulator, no GPU
needed, only NVVM and NVRTC) and checks what the FMA policy promises.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_within_budget, peak_of, run_fresh_python
from specs import EXAMPLES, LARGE_STEPS, build_example, example_schedules

import fastlr
import fastlr.bulk
from fastlr.engines import numba_cpu, numba_cuda
from fastlr.engines.numpy_ref import reference

HAS_NUMBA_CUDA = importlib.util.find_spec("numba_cuda") is not None
SIMULATED = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"
ROOT = Path(__file__).resolve().parents[1]

needs_numba_cuda = pytest.mark.skipif(not HAS_NUMBA_CUDA, reason="numba-cuda is not installed")
needs_gpu = pytest.mark.skipif(
    SIMULATED or not HAS_NUMBA_CUDA, reason="needs a CUDA GPU and numba-cuda"
)

pytestmark = [
    # A guarded 0/0 or sqrt(-1) (``where`` evaluates both sides) warns in the simulator's NumPy.
    pytest.mark.filterwarnings("ignore::RuntimeWarning"),
    pytest.mark.filterwarnings("ignore:Host array used in CUDA kernel"),
]

# Small, with every edge that matters: phase boundaries of the examples and the large steps.
STEPS = np.array(
    sorted(
        {0, 1, 2, 3, 5, 7, 10, 17, 50, 99, 100, 101, 149, 150, 151, 999, 1000, 1001}
        | set(LARGE_STEPS)
        | {2**53 - 2}
    ),
    dtype=np.int64,
)


def cuda_module():
    from numba import cuda

    return cuda


def assert_ulp_close(got, want, ulps: int, peak: float = 0.0) -> None:
    """``got`` within ``ulps`` units in the last place of ``want`` (in ``want``'s dtype), plus
    4 float64 ulp of the schedule's ``peak``: libm and libdevice differ by an ulp or two in
    intermediate values of that scale, which a cancellation can leave in a small result."""
    got, want = np.asarray(got), np.asarray(want)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    budget = ulps * np.spacing(np.abs(want)).astype(np.float64) + 4 * np.spacing(float(peak))
    bad = err > budget
    assert not bad.any(), (
        f"{bad.sum()} values beyond {ulps} ulp: got {got[bad][:3]}, want {want[bad][:3]}"
    )


# -- agreement with the CPU engine ----------------------------------------------------------------
@needs_numba_cuda
@pytest.mark.parametrize("schedule", example_schedules())
def test_cuda_equals_cpu(schedule):
    """float64: within a few ulp of the CPU engine (libm vs libdevice); float32: within one."""
    peak = peak_of(schedule)
    for dtype, ulps in (("float64", 4), ("float32", 1)):
        got = fastlr.evaluate(schedule, STEPS, dtype=dtype, device="cuda")
        want = fastlr.evaluate(schedule, STEPS, dtype=dtype)
        assert isinstance(got, np.ndarray) and got.shape == STEPS.shape
        assert_ulp_close(got, want, ulps, peak)
        assert_within_budget(got, reference(schedule, STEPS), dtype, peak)
    by_range = fastlr.evaluate(schedule, 64, dtype="float64", device="cuda")
    assert_ulp_close(by_range, fastlr.evaluate(schedule, np.arange(64), dtype="float64"), 4, peak)


@needs_numba_cuda
@pytest.mark.parametrize("schedule", example_schedules())
def test_range_and_array_kernels_agree_exactly(schedule):
    r = range(2**40 + 3, 2**40 + 3 + 7 * 40, 7)
    by_range = fastlr.evaluate(schedule, r, dtype="float64", device="cuda")
    by_array = fastlr.evaluate(
        schedule, np.arange(r.start, r.stop, r.step), device="cuda", dtype="float64"
    )
    np.testing.assert_array_equal(by_range, by_array)


@needs_numba_cuda
@pytest.mark.parametrize(
    "name", ["WarmupCosineRestarts", "CosineDecayRestarts", "CyclicalLearningRate", "Offset"]
)
@pytest.mark.parametrize(
    "rng",
    [range(2**24 - 6, 2**24 + 6), range(2**31 - 6, 2**31 + 6), range(2**53 - 24, 2**53 - 1, 2)],
    ids=["2**24", "2**31", "2**53"],
)
def test_ranges_at_large_steps(name, rng):
    s = build_example(name, len(EXAMPLES[name]) - 1)
    steps = np.arange(rng.start, rng.stop, rng.step, dtype=np.int64)
    peak = peak_of(s)
    got = fastlr.evaluate(s, rng, dtype="float64", device="cuda")
    np.testing.assert_array_equal(got, fastlr.evaluate(s, steps, dtype="float64", device="cuda"))
    assert_ulp_close(got, fastlr.evaluate(s, steps, dtype="float64"), 4, peak)
    assert_ulp_close(
        fastlr.evaluate(s, rng, device="cuda"), fastlr.evaluate(s, steps, dtype="float32"), 1, peak
    )


@needs_numba_cuda
def test_schedule_evaluate_method_takes_the_device():
    s = build_example("WarmupCosineDecay", 0)
    np.testing.assert_array_equal(
        s.evaluate(STEPS, device="cuda"), fastlr.evaluate(s, STEPS, device="cuda")
    )


# -- outputs --------------------------------------------------------------------------------------
@needs_numba_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_out_device_array_is_written_in_place(dtype):
    cuda = cuda_module()
    s = build_example("Sequential", 1)
    out = cuda.device_array(100, dtype=dtype)
    assert fastlr.evaluate(s, range(5, 505, 5), dtype=dtype, out=out, device="cuda") is out
    np.testing.assert_array_equal(
        out.copy_to_host(), fastlr.evaluate(s, range(5, 505, 5), dtype=dtype, device="cuda")
    )
    steps = np.array([7, 0, 2**53 - 1, 60, 2**31], dtype=np.uint64)
    out = cuda.device_array(5, dtype=dtype)
    assert fastlr.evaluate(s, steps, dtype=dtype, out=out, device="cuda") is out
    np.testing.assert_array_equal(out.copy_to_host(), fastlr.evaluate(s, steps, dtype=dtype))


@needs_numba_cuda
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_host_false_returns_a_device_array(dtype):
    s = build_example("WarmupCosineRestarts", 0)
    got = fastlr.evaluate(s, 80, dtype=dtype, device="cuda", to_host=False)
    assert not isinstance(got, np.ndarray) and numba_cuda.is_device_array(got)
    assert got.shape == (80,) and np.dtype(got.dtype) == np.dtype(dtype)
    np.testing.assert_array_equal(
        got.copy_to_host(), fastlr.evaluate(s, 80, dtype=dtype, device="cuda")
    )
    empty = fastlr.evaluate(s, 0, device="cuda", to_host=False)
    assert numba_cuda.is_device_array(empty) and empty.shape == (0,)


@needs_numba_cuda
def test_host_out_forms(tmp_path):
    s = build_example("OneCycle", 1)
    want = fastlr.evaluate(s, range(0, 300, 3), dtype="float64")
    base = np.full(200, -1.0)
    view = base[::2]
    assert fastlr.evaluate(s, range(0, 300, 3), dtype="float64", out=view, device="cuda") is view
    assert_ulp_close(view, want, 4, peak=0.5)
    assert (base[1::2] == -1.0).all()
    mm = np.memmap(tmp_path / "lr.bin", dtype=np.float32, mode="w+", shape=(100,))
    assert fastlr.evaluate(s, range(0, 300, 3), out=mm, device="cuda") is mm
    assert_ulp_close(np.asarray(mm), fastlr.evaluate(s, range(0, 300, 3)), 1, peak=0.5)
    assert fastlr.evaluate(s, 0, device="cuda").shape == (0,)
    assert fastlr.evaluate(s, [], device="cuda").shape == (0,)


@needs_numba_cuda
@pytest.mark.parametrize("name", ["PiecewiseConstantDecay", "Table", "Warmup"])
def test_chunks_give_the_same_values(monkeypatch, name):
    s = build_example(name, len(EXAMPLES[name]) - 1)
    steps = np.array([0, 3, 1, 2**24 + 1, 50, 2**31, 7, 7, 999, 2**53 - 1, 100, 101, 5])
    want_range = fastlr.evaluate(s, range(3, 400, 9), dtype="float64", device="cuda")
    want_array = fastlr.evaluate(s, steps, dtype="float64", device="cuda")
    monkeypatch.setattr(fastlr.bulk, "CHUNK", 4)
    np.testing.assert_array_equal(
        fastlr.evaluate(s, range(3, 400, 9), dtype="float64", device="cuda"), want_range
    )
    np.testing.assert_array_equal(
        fastlr.evaluate(s, steps, dtype="float64", device="cuda"), want_array
    )
    out = cuda_module().device_array(len(steps))
    fastlr.evaluate(s, steps, dtype="float64", out=out, device="cuda")  # device out: one launch
    np.testing.assert_array_equal(out.copy_to_host(), want_array)


# -- errors ---------------------------------------------------------------------------------------
class FakeCAI:
    """An object with only ``__cuda_array_interface__`` (checked before any pointer is read)."""

    def __init__(self, shape, typestr="<f4", readonly=False):
        self.__cuda_array_interface__ = {
            "shape": shape,
            "typestr": typestr,
            "data": (0, readonly),
            "version": 3,
            "strides": None,
        }

    def __repr__(self) -> str:  # a stable test id (pytest-xdist's workers compare them)
        info = self.__cuda_array_interface__
        return f"FakeCAI({info['shape']}, {info['typestr']!r}, readonly={info['data'][1]})"


@needs_numba_cuda
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        (dict(to_host=False), "`to_host`=False .* needs device='cuda'"),
        (dict(to_host="no", device="cuda"), "`to_host` must be True or False"),
        (dict(to_host=None, device="cuda"), "`to_host` must be True or False"),
        (dict(to_host=False, device="cuda", out=np.zeros(10, np.float32)), "`to_host`=False"),
        (dict(device="cuda", out=[0.0] * 10), "CUDA device array"),
        (dict(device="cuda", out=FakeCAI((9,))), r"`out` must have shape \(10,\)"),
        (dict(device="cuda", out=FakeCAI((10,), "<f8")), "`out` must have dtype float32"),
        (dict(device="cuda", out=FakeCAI((10,), readonly=True)), "`out` must be writeable"),
        (dict(device="cuda", out=np.zeros(10)), "`out` must have dtype float32"),
        (dict(device="cuda", dtype="float16"), "`dtype`"),
        (dict(device="CUDA"), "`device` must be one of"),
        (dict(device="gpu"), "`device` must be one of"),
    ],
    ids=repr,
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        fastlr.evaluate(build_example("WarmupCosineDecay", 0), 10, **kwargs)


@needs_numba_cuda
def test_wrong_device_array_is_refused():
    out = cuda_module().device_array(10, dtype=np.float64)
    s = build_example("WarmupCosineDecay", 0)
    with pytest.raises(ValueError, match="`out` must have dtype float32"):
        fastlr.evaluate(s, 10, out=out, device="cuda")
    with pytest.raises(ValueError, match=r"`out` must have shape \(9,\)"):
        fastlr.evaluate(s, 9, dtype="float64", out=out, device="cuda")


def test_missing_numba_cuda_is_a_clear_error(monkeypatch):
    monkeypatch.delitem(numba_cuda._STATE, "cuda", raising=False)  # forget a loaded numba.cuda
    real = importlib.util.find_spec
    monkeypatch.setattr(
        numba_cuda.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "numba_cuda" else real(name, *a),
    )
    out = np.full(10, -1.0, dtype=np.float32)
    with pytest.raises(RuntimeError, match="Argument `device`='cuda' needs a CUDA GPU and numba"):
        fastlr.evaluate(build_example("Constant", 0), 10, out=out, device="cuda")
    with pytest.raises(RuntimeError, match="numba-cuda is not installed"):
        fastlr.evaluate(build_example("Constant", 0), 10, device="cuda", to_host=False)
    assert (out == -1.0).all()


@needs_numba_cuda
def test_no_gpu_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(numba_cuda._STATE, "available", (False, ""))
    with pytest.raises(RuntimeError, match=r"`device`='cuda' needs a CUDA GPU .* no CUDA GPU"):
        fastlr.evaluate(build_example("Constant", 0), 10, device="cuda")
    with pytest.raises(RuntimeError, match="Received: device='cuda'"):
        fastlr.evaluate(build_example("Constant", 0), 0, device="cuda")


def test_import_and_cpu_evaluation_never_load_numba_cuda_or_tensorflow():
    result = run_fresh_python(
        textwrap.dedent(
            """
            import json, sys
            import fastlr
            after_import = sorted(m for m in sys.modules if m.split(".")[0] == "numba")
            fastlr.evaluate(fastlr.WarmupCosineDecay(0.1, 100), 100)
            print("RESULT" + json.dumps({
                "after_import": after_import,
                "cuda": "numba.cuda" in sys.modules,
                "tf": any(m.split(".")[0] in ("tensorflow", "keras") for m in sys.modules),
            }))
            """
        )
    )
    assert result == {"after_import": [], "cuda": False, "tf": False}


@needs_numba_cuda
def test_cuda_evaluation_does_not_load_tensorflow():
    result = run_fresh_python(
        textwrap.dedent(
            """
            import json, sys
            import fastlr
            v = fastlr.evaluate(fastlr.WarmupCosineDecay(0.1, 100), 100, device="cuda")
            print("RESULT" + json.dumps({
                "n": len(v),
                "tf": sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras")),
            }))
            """
        )
    )
    assert result == {"n": 100, "tf": []}


# -- the real target's code -----------------------------------------------------------------------
PTX_CHECK = r"""
import json, re, sys, types

try:
    from numba.cuda.cudadrv import nvrtc, nvvm

    nvvm.NVVM()
    nvrtc.get_supported_ccs()
except Exception as e:
    print("SKIP" + json.dumps(f"no NVVM/NVRTC to compile PTX: {type(e).__name__}: {e}"))
    sys.exit(0)

import numba.cuda.dispatcher

# No GPU: device functions compile for the "current device"; make it a compute capability 9.0.
numba.cuda.dispatcher.get_current_device = lambda: types.SimpleNamespace(compute_capability=(9, 0))

import conftest  # noqa: F401 (the simulator, unless FASTLR_REAL_GPU=1)
from specs import EXAMPLES, build_example
from numba import cuda, float64

from fastlr._ops import bind
from fastlr.engines import numba_cpu, numba_cuda
from fastlr.schedules import _curves

unrounded = re.compile(r"\b(?:mul|add|sub)\.f64\b")  # without .rn, ptxas may fuse them
schedules = [build_example(name, i) for name, kws in EXAMPLES.items() for i in range(len(kws))]
seen, checked = set(), 0
for sched in schedules:
    key = (numba_cpu.structure(sched), numba_cpu.flat_args(sched)[1])
    if key in seen:
        continue
    seen.add(key)
    for dtype, kernel in (("float32", "range"), ("float64", "array")):
        code = numba_cuda.ptx(sched, dtype, cc=(9, 0), kernel=kernel)
        assert ".target sm_90" in code, code[:400]
        assert not unrounded.findall(code), (sched, kernel, unrounded.findall(code)[:3])
        checked += 1

# The double-double pieces alone: no FMA at all with the engine's policy, FMA without it.
dev = numba_cuda._device_jit()
two_prod = bind(_curves.two_prod, numba_cuda.ops(), dev)
dd_mul = bind(_curves.dd_mul, numba_cuda.ops(), dev)


def dd(a, b):
    p, e = two_prod(a, b)
    h, l = dd_mul(p, e, a, b)
    return h + l


with numba_cuda._no_contraction():
    policy, _ = cuda.compile_ptx(dd, (float64, float64), device=True, cc=(9, 0))
default, _ = cuda.compile_ptx(dd, (float64, float64), device=True, cc=(9, 0))
print("RESULT" + json.dumps({
    "structures": len(seen),
    "checked": checked,
    "fma_with_policy": policy.count("fma."),
    "fma_by_default": default.count("fma."),
}))
"""


@pytest.mark.slow
@needs_numba_cuda
def test_ptx_for_compute_capability_9_has_no_contracted_double_double():
    """Compile every schedule structure's two kernels for sm_90 (no GPU, no simulator): every
    float64 multiply and add is rounded (``.rn``: fused neither by NVVM nor by ptxas), and the
    double-double arithmetic has no FMA, which NVVM's default would put there."""
    env = {k: v for k, v in os.environ.items() if k != "NUMBA_ENABLE_CUDASIM"}
    env.update(
        FASTLR_REAL_GPU="1",
        PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), env.get("PYTHONPATH", "")]),
        TF_CPP_MIN_LOG_LEVEL="3",
    )
    proc = subprocess.run(
        [sys.executable, "-c", PTX_CHECK], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    skip = [x for x in proc.stdout.splitlines() if x.startswith("SKIP")]
    if skip:
        pytest.skip(json.loads(skip[0][4:]))
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    result = json.loads(line[len("RESULT") :])
    assert result["checked"] == 2 * result["structures"] >= 2 * len(EXAMPLES)
    assert result["fma_with_policy"] == 0
    assert result["fma_by_default"] > 0  # why the policy exists: NVVM contracts by default


# -- the GPU benchmark's logic --------------------------------------------------------------------
@needs_numba_cuda
def test_run_cuda_rows_and_notes():
    from fastlr.bench import cuda as bench

    notes: list[str] = []
    lines: list[str] = []
    rows = bench.run_cuda(
        (64, 128), progress=lines.append, min_rounds=1, max_rounds=1, budget_s=0.0, notes=notes
    )
    engines = {r["engine"] for r in rows}
    assert {"fastlr", "copy"} <= engines
    for peer, module in (("cupy", "cupy"), ("jax", "jax")):
        installed = importlib.util.find_spec(module) is not None
        if not installed:
            assert peer not in engines
            assert any(n.startswith(f"{peer}: not available") for n in notes), notes
    for r in rows:
        assert set(r) >= {"engine", "n", "median_s", "min_s", "rounds", "device", "label"}
        assert r["n"] in (64, 128) and r["rounds"] == 1 and r["median_s"] > 0
        assert r["device"] == numba_cuda.device_name()
    summary = bench.summarize(rows)
    ours = next(r for r in summary if r["engine"] == "fastlr" and r["n"] == 64)
    copy = next(r for r in summary if r["engine"] == "copy" and r["n"] == 64)
    assert ours["fraction_of_copy"] == pytest.approx(copy["median_s"] / ours["median_s"])
    assert copy["fraction_of_copy"] == 1.0
    from fastlr.bench.section_tables import cuda_table

    assert "fastlr" in cuda_table({"cuda": rows}) and any("fastlr" in x for x in lines)


# -- a real GPU -----------------------------------------------------------------------------------
@pytest.mark.gpu
@needs_gpu
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gpu_cupy_and_torch_buffers_are_written_without_a_copy(dtype):
    s = build_example("WarmupCosineRestarts", 0)
    want = fastlr.evaluate(s, 1000, dtype=dtype, device="cuda")
    tested = 0
    if importlib.util.find_spec("cupy") is not None:
        import cupy as cp

        out = cp.full(2000, -1, dtype=dtype)
        view = out[::2]
        assert fastlr.evaluate(s, 1000, dtype=dtype, out=view, device="cuda") is view
        np.testing.assert_array_equal(cp.asnumpy(view), want)
        assert (cp.asnumpy(out[1::2]) == -1).all()
        dev = fastlr.evaluate(s, 1000, dtype=dtype, device="cuda", to_host=False)
        shared = cp.asarray(dev)
        assert shared.data.ptr == dev.__cuda_array_interface__["data"][0]
        np.testing.assert_array_equal(cp.asnumpy(shared), want)
        tested += 1
    if importlib.util.find_spec("torch") is not None:
        import torch

        t = torch.full((1000,), -1.0, dtype=getattr(torch, dtype), device="cuda")
        assert fastlr.evaluate(s, 1000, dtype=dtype, out=t, device="cuda") is t
        np.testing.assert_array_equal(t.cpu().numpy(), want)
        tested += 1
    if not tested:
        pytest.skip("neither CuPy nor PyTorch is installed")


@pytest.mark.gpu
@needs_gpu
def test_gpu_large_n_and_the_compiled_code():
    s = fastlr.WarmupCosineRestarts(0.1, 10**6, cycle_mult=1.5, warmup_steps=10**4, min_lr=1e-5)
    n = 10**8
    got = fastlr.evaluate(s, range(10**9, 10**9 + n), device="cuda", to_host=False)
    idx = np.arange(0, n, 9973)
    sample = got.copy_to_host()[idx]
    assert_ulp_close(sample, fastlr.evaluate(s, 10**9 + idx), 1, peak=0.1)
    top = range(2**53 - 10**6, 2**53 - 1)
    assert_ulp_close(
        fastlr.evaluate(s, top, dtype="float64", device="cuda"),
        fastlr.evaluate(s, top, dtype="float64"),
        4,
        peak=0.1,
    )
    # The PTX that was linked (lto=False) has every float64 multiply and add rounded.
    shape = numba_cpu.flat_args(s)[1]
    range_kernel, _ = numba_cuda.kernels(numba_cpu.structure(s), shape)
    for code in range_kernel.inspect_asm().values():
        assert not re.findall(r"\b(?:mul|add|sub)\.f64\b", code)
