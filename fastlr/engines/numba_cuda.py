"""Numba CUDA engine: the schedules' own formulas compiled into grid-stride GPU kernels.

The same pipeline as :mod:`fastlr.engines.numba_cpu`, with a CUDA jit in place of ``njit``:

1. :func:`ops`: the vocabulary is :data:`numba_cpu.VOCABULARY <fastlr.engines.numba_cpu.VOCABULARY>`
   (the same Python bodies) wrapped by ``cuda.jit(device=True)``; only ``floor`` differs (NumPy's
   ufunc does not compile for CUDA; ``math.floor`` is float64 there). ``cos_remaining`` is the same
   polynomial with its Horner steps bound to ``cuda.fma``: the CPU engine contracts them to FMA
   too, so on an FMA CPU both engines compute it bit for bit alike.
2. :func:`numba_cpu.build_scalar <fastlr.engines.numba_cpu.build_scalar>` compiles a schedule or a
   composite (children unrolled in generated code) over that vocabulary.
3. Two kernels per (structure, argument shape), generated from :data:`_KERNELS` with the flat
   argument tuple of :func:`numba_cpu.flat_args <fastlr.engines.numba_cpu.flat_args>` rebuilt
   inline: ``range_kernel`` (``start + i * stride``) and ``array_kernel`` (an int64 step array),
   both grid-stride loops on int64 indices. List parameters travel as device arrays.

Compile policy (:data:`JIT_OPTIONS`): ``fastmath=False``, ``debug=False`` (numba-cuda's error model
is then NumPy's: a guarded division never raises), ``lto=False``. **FMA:** NVVM contracts
``a * b + c`` into ``fma.rn`` by default (``-fma=1``) even with ``fastmath=False``, which breaks the
error-free transformations of the double-double cycle arithmetic in
:mod:`fastlr.schedules._curves` (seen in the PTX of Dekker's ``two_prod``). numba-cuda exposes no
per-kernel switch for it, so :func:`_no_contraction` passes ``-fma=0`` to NVVM while this engine's
kernels compile (under numba's compiler lock): the PTX then has ``mul.rn``/``add.rn``, which
``ptxas`` never fuses either, and only the explicit ``cuda.fma`` of the polynomial stays fused.
``lto=False`` makes that PTX the code that runs. :func:`ptx` returns it for inspection.

The engine imports ``numba.cuda`` only when used; under ``NUMBA_ENABLE_CUDASIM=1`` it runs in
Numba's CUDA simulator (pure Python, for tests without a GPU).
"""

from __future__ import annotations

import contextlib
import importlib.util
import math
import sys
import threading
import warnings
from typing import Any

import numpy as np

from fastlr.engines import numba_cpu

JIT_OPTIONS: dict[str, Any] = {"fastmath": False, "debug": False, "opt": True}
"""Options of every device function and kernel (kernels add ``lto=False`` on real GPUs)."""

THREADS = 256
"""Threads per block on a real GPU."""
BLOCKS_PER_SM = 32
"""Blocks per multiprocessor at most: the grid-stride loop does the rest."""

_LOCK = threading.RLock()
_STATE: dict[str, Any] = {}


# -- loading numba.cuda -----------------------------------------------------------------------
def _fail(problem: str) -> RuntimeError:
    return RuntimeError(
        "Argument `device`='cuda' needs a CUDA GPU and numba-cuda: "
        f"{problem}. Received: device='cuda'"
    )


def load() -> Any:
    """``numba.cuda`` (enough to compile, e.g. :func:`ptx`), or a ``RuntimeError`` naming
    argument ``device`` when numba-cuda is missing or fails to load."""
    cuda = _STATE.get("cuda")
    if cuda is not None:
        return cuda
    if importlib.util.find_spec("numba_cuda") is None:
        raise _fail("numba-cuda is not installed (pip install 'fastlr[cuda]')")
    try:
        from numba import cuda
    except Exception as e:  # a broken install
        raise _fail(f"numba.cuda failed to load ({type(e).__name__}: {e})") from e
    _STATE["cuda"] = cuda
    return cuda


def require() -> Any:
    """``numba.cuda`` with a usable GPU (or the simulator), else a ``RuntimeError`` naming
    argument ``device`` and what is missing."""
    cuda = load()
    with _LOCK:
        if "available" not in _STATE:
            try:
                _STATE["available"] = (bool(cuda.is_available()), "")
            except Exception as e:  # a broken driver
                _STATE["available"] = (False, f" ({type(e).__name__}: {e})")
    ok, why = _STATE["available"]
    if not ok:
        raise _fail(f"no CUDA GPU, driver or NVVM was found by numba.cuda.is_available(){why}")
    return cuda


def simulated() -> bool:
    """Whether ``numba.cuda`` is Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    try:
        from numba.cuda.core import config  # numba-cuda >= 0.2x has its own
    except ImportError:  # pragma: no cover - older numba-cuda
        from numba.core import config

    return bool(config.ENABLE_CUDASIM)


# -- the vocabulary ---------------------------------------------------------------------------
def _floor(x):
    return math.floor(x)  # float64 in numba-cuda (NumPy's ufunc does not compile for CUDA)


def _fused(a, b, c):
    return cuda.fma(a, b, c)  # noqa: F821 - `cuda` is bound by numba_cpu.with_globals in ops()


# In the simulator the vocabulary runs as Python: libm and float() go through NumPy scalars there,
# so that float64 semantics match compiled code (a guarded 0/0 or sqrt(-1) is NaN, not an error).
_SIMULATED_LIBM: dict[str, Any] = {
    "f": lambda x: np.float64(x),
    "floor": lambda x: np.floor(np.float64(x)),
    "cos": lambda x: np.cos(x),
    "exp": lambda x: np.exp(x),
    "log": lambda x: np.log(x),
    "log1p": lambda x: np.log1p(x),
    "sqrt": lambda x: np.sqrt(x),
    "power": lambda a, b: np.power(np.float64(a), np.float64(b)),
    "ldexp": lambda x, k: np.ldexp(np.float64(x), np.int64(min(max(k, -2200), 2200))),
}


def ops() -> Any:
    """The vocabulary namespace for CUDA device code (built once)."""
    with _LOCK:
        if "ops" not in _STATE:
            cuda = load()
            device = _device_jit()
            fused = device(numba_cpu.with_globals(_fused, cuda=cuda))
            special = {
                "floor": device(_floor),
                "cos_remaining": device(
                    numba_cpu.with_globals(numba_cpu.cos_remaining, madd=fused)
                ),
            }
            if simulated():
                special.update({k: device(fn) for k, fn in _SIMULATED_LIBM.items()})
            _STATE["ops"] = numba_cpu.make_ops("cuda", device, **special)
        return _STATE["ops"]


def _jit(device: bool) -> Any:
    """A ``wrap(fn)`` compiling with :data:`JIT_OPTIONS` (one object per kind:
    :func:`fastlr._ops.bind` memoizes on it). ``cuda.jit`` is called with the function itself:
    its decorator-factory form drops ``lto``."""
    key = "device_jit" if device else "kernel_jit"
    with _LOCK:
        if key not in _STATE:
            cuda = load()
            options = dict(JIT_OPTIONS, device=device)
            if not device and not simulated():
                options["lto"] = False

            def wrap(fn: Any) -> Any:
                return cuda.jit(fn, **options)

            _STATE[key] = wrap
        return _STATE[key]


def _device_jit() -> Any:
    return _jit(device=True)


def _kernel_jit() -> Any:
    return _jit(device=False)


_SCALARS: dict[tuple, Any] = {}


def scalar_function(struct: tuple) -> Any:
    """``scalar(step, args)`` as a CUDA device function (see ``numba_cpu.build_scalar``)."""
    return numba_cpu.build_scalar(struct, ops(), _device_jit(), _SCALARS)


# -- kernels ----------------------------------------------------------------------------------
_KERNELS = """
def range_kernel(start, stride, out, f):
    args = {nest}
    i = np.int64(cuda.grid(1))
    total = np.int64(cuda.gridsize(1))
    while i < out.shape[0]:
        out[i] = scalar(start + i * stride, args)
        i += total


def array_kernel(steps, out, f):
    args = {nest}
    i = np.int64(cuda.grid(1))
    total = np.int64(cuda.gridsize(1))
    while i < out.shape[0]:
        out[i] = scalar(steps[i], args)
        i += total
"""
"""The kernels' source for one flat-argument shape (``{nest}``). ``cuda``, ``np`` and ``scalar``
are globals of the generated namespace, so that the simulator can swap ``cuda`` for its fake."""


def _kernel_functions(struct: tuple, shape: tuple) -> tuple[Any, Any]:
    """The plain Python ``(range_kernel, array_kernel)`` for a structure and argument shape."""
    namespace: dict[str, Any] = {"cuda": load(), "np": np, "scalar": scalar_function(struct)}
    exec(_KERNELS.format(nest=numba_cpu.nest_source(shape)), namespace)
    return namespace["range_kernel"], namespace["array_kernel"]


_KERNEL_CACHE: dict[tuple, tuple] = {}


def kernels(struct: tuple, shape: tuple) -> tuple[Any, Any]:
    """``(range_kernel, array_kernel)`` for a structure and flat-argument shape (memoized).

    Numba compiles each on its first launch, per argument types (output dtype and layout).
    """
    with _LOCK:
        hit = _KERNEL_CACHE.get((struct, shape))
        if hit is not None:
            return hit
        range_kernel, array_kernel = _kernel_functions(struct, shape)
        jit = _kernel_jit()
        result = (jit(range_kernel), jit(array_kernel))
        _KERNEL_CACHE[(struct, shape)] = result
        return result


@contextlib.contextmanager
def _no_contraction():
    """NVVM gets ``-fma=0`` for what compiles inside (see the module docstring)."""
    if simulated():
        yield
        return
    try:
        from numba.cuda.core.compiler_lock import global_compiler_lock
    except ImportError:  # pragma: no cover - older numba-cuda
        from numba.core.compiler_lock import global_compiler_lock
    from numba.cuda.cudadrv import nvvm

    with global_compiler_lock:
        original = nvvm.compile_ir

        def compile_ir(llvmir, **options):
            if not options.get("fastmath"):
                options.setdefault("fma", False)
            return original(llvmir, **options)

        nvvm.compile_ir = compile_ir
        try:
            yield
        finally:
            nvvm.compile_ir = original


def device_args(schedule: Any) -> tuple[tuple, tuple]:
    """``(flat, shape)`` as :func:`numba_cpu.flat_args`, ready for a kernel: arrays on the device,
    scalars as NumPy int64/float64 (what Numba types them as, in the simulator too) or bool."""
    cuda = require()
    flat, shape = numba_cpu.flat_args(schedule)
    converted = []
    for value in flat:
        if isinstance(value, np.ndarray):
            value = cuda.to_device(value)
        elif isinstance(value, (bool, np.bool_)):
            value = bool(value)
        elif isinstance(value, (int, np.integer)):
            value = np.int64(value)
        elif isinstance(value, (float, np.floating)):
            value = np.float64(value)
        converted.append(value)
    return tuple(converted), shape


def _grid(n: int) -> tuple[int, int]:
    """``(blocks, threads)`` for ``n`` elements."""
    if simulated():  # every simulated thread is a Python thread: few, each looping
        threads = 16
        return max(1, min(2, -(-n // threads))), threads
    cuda = require()
    sms = int(getattr(cuda.get_current_device(), "MULTIPROCESSOR_COUNT", 80))
    return max(1, min(-(-n // THREADS), sms * BLOCKS_PER_SM)), THREADS


def _launch(kernel: Any, n: int, *args: Any) -> None:
    """Launch ``kernel`` over ``n`` elements: compiled (on first use) with ``-fma=0``, and
    without numba-cuda's low-occupancy warning (a small ``n`` is a small grid, by design)."""
    blocks, threads = _grid(n)
    with _no_contraction(), warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Grid size .* under-utilization")
        # In the simulator int64 arithmetic runs on NumPy scalars, which warn where compiled
        # code wraps silently (a formula may let a product wrap when a difference does not)
        warnings.filterwarnings("ignore", "overflow encountered in scalar", RuntimeWarning)
        kernel[blocks, threads](*args)


def launch_range(schedule: Any, start: int, stride: int, out: Any, args=None) -> None:
    """``out[i] = schedule(start + i * stride)`` on the device (``out``: a numba device array)."""
    flat, shape = args or device_args(schedule)
    range_kernel, _ = kernels(numba_cpu.structure(schedule), shape)
    _launch(range_kernel, out.shape[0], np.int64(start), np.int64(stride), out, flat)


def launch_array(schedule: Any, steps: Any, out: Any, args=None) -> None:
    """``out[i] = schedule(steps[i])`` on the device (``steps``: an int64 device array)."""
    flat, shape = args or device_args(schedule)
    _, array_kernel = kernels(numba_cpu.structure(schedule), shape)
    _launch(array_kernel, out.shape[0], steps, out, flat)


# -- device arrays ----------------------------------------------------------------------------
def is_device_array(obj: Any) -> bool:
    """A numba device array or any object with ``__cuda_array_interface__`` (CuPy, PyTorch...)."""
    if hasattr(obj, "__cuda_array_interface__"):
        return True
    if "numba.cuda" not in sys.modules or not simulated():
        return False
    from numba.cuda.simulator.cudadrv.devicearray import FakeCUDAArray

    return isinstance(obj, FakeCUDAArray)


def as_device_out(out: Any, n: int, dtype: np.dtype) -> Any:
    """A numba view of the device array ``out`` (no copy), checked like a host ``out``."""
    cuda = require()
    interface = getattr(out, "__cuda_array_interface__", None)
    if interface is not None:
        shape = tuple(interface["shape"])
        got = np.dtype(interface["typestr"])
        readonly = bool(interface["data"][1])
    else:  # the simulator's arrays
        shape, got, readonly = tuple(out.shape), np.dtype(out.dtype), False
    if shape != (n,):
        raise ValueError(f"Argument `out` must have shape ({n},). Received: out.shape={shape}")
    if got != dtype:
        raise ValueError(f"Argument `out` must have dtype {dtype.name}. Received: out.dtype={got}")
    if readonly:
        raise ValueError("Argument `out` must be writeable. Received: a read-only device array")
    if interface is None or cuda.devicearray.is_cuda_ndarray(out):
        return out  # already a numba device array (or the simulator's)
    return cuda.as_cuda_array(out)


def device_array(n: int, dtype: np.dtype) -> Any:
    """A new numba device array."""
    return require().device_array(n, dtype=dtype)


def to_device(host: np.ndarray) -> Any:
    return require().to_device(np.ascontiguousarray(host))


def synchronize() -> None:
    require().synchronize()


def device_name() -> str:
    """The current GPU's name (``"simulator"`` in Numba's CUDA simulator)."""
    if simulated():
        return "simulator"
    name = require().get_current_device().name
    return name.decode() if isinstance(name, bytes) else str(name)


# -- inspection -------------------------------------------------------------------------------
def ptx(
    schedule: Any, dtype: Any = "float32", cc: tuple[int, int] = (9, 0), kernel: str = "range"
) -> str:
    """The PTX of ``schedule``'s ``"range"`` or ``"array"`` kernel for compute capability ``cc``,
    compiled with this engine's options (``-fma=0`` included), for checking what runs (e.g. every
    float64 ``mul``/``add`` rounded, ``.rn``, so never fused). Needs numba-cuda and NVVM (and NVRTC,
    which numba-cuda uses to list the architectures), not the simulator. Device functions compile
    for the current device's compute capability, so without a GPU
    ``numba.cuda.dispatcher.get_current_device`` must report one (the tests do that)."""
    import numba
    from numba import types

    cuda = load()

    flat, shape = numba_cpu.flat_args(schedule)
    out = types.Array(numba.from_dtype(np.dtype(dtype)), 1, "C")
    flat_type = numba.typeof(flat)  # Python ints type as int64, arrays as C-contiguous arrays
    range_kernel, array_kernel = _kernel_functions(numba_cpu.structure(schedule), shape)
    if kernel == "range":
        fn, sig = range_kernel, (types.int64, types.int64, out, flat_type)
    elif kernel == "array":
        fn, sig = array_kernel, (types.Array(types.int64, 1, "C"), out, flat_type)
    else:
        raise ValueError(
            f"Argument `kernel` must be 'range' or 'array'. Received: kernel={kernel!r}"
        )
    with _no_contraction():
        code, _ = cuda.compile_ptx(fn, sig, cc=cc, **JIT_OPTIONS)
    return code
