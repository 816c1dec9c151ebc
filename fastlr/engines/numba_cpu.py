"""Numba CPU engine: the schedules' own formulas compiled into parallel kernels.

How a formula becomes a kernel:

1. :data:`ops` supplies the formula vocabulary as small ``@njit`` scalar functions (``where`` is a
   select, ``cos_remaining`` a branch-free polynomial, ...); :func:`fastlr._ops.bind` re-binds a
   formula (and its ``@formula`` helpers) to it and ``njit``-compiles each piece.
2. :func:`scalar_function` wraps that into ``scalar(step, args)`` for one schedule *structure*
   (a class, or for composites a class with child structures: children run at the composite's
   ``child_step`` and fold with its ``fold``, unrolled in generated code). ``args`` is
   :func:`kernel_args`: the formula arguments as a (nested) tuple, so one compiled kernel serves
   every parameter value.
3. The prange kernels live in a small *generated module*, one per structure, written under
   :func:`cache_root` in a folder named by :func:`fingerprint` (a hash of fastlr's formula and
   engine sources, and of the Python/NumPy/Numba/llvmlite versions). Numba's ``cache=True`` keys
   its cache by that file, so an edited or upgraded formula gets a new folder and can never be
   served from a stale cache; unchanged ones load in milliseconds.

Compile policy, in one place (:data:`KERNEL_OPTIONS`): ``error_model="numpy"`` (``where`` evaluates
both sides, so a guarded division must not raise); ``parallel=True`` over all cores;
``cache=True``; no fast-math flags on formulas. ``contract`` (FMA) would break the error-free
double-double arithmetic of the restart schedules; ``arcp`` (reciprocal division) was measured
+35% but applies or not depending on how deeply a kernel is inlined, so ``evaluate(s, N)`` and
``evaluate(s, np.arange(N))`` could differ in the last float64 bit: results must not depend on
how the steps were given. The one exception is the polynomial in ``cos_remaining``, whose FMA
contraction is the same in every kernel and only makes it more accurate.
"""

from __future__ import annotations

import hashlib
import importlib.util
import math
import os
import sys
import tempfile
import threading
import types
from pathlib import Path
from typing import Any

import numba
import numpy as np
from numba import njit

from fastlr._ops import bind

KERNEL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": False}
"""Options of every compiled function (kernels add ``parallel=True, cache=True``)."""
_POLYNOMIAL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": {"contract"}}

_jit = njit(**KERNEL_OPTIONS)

# -- the vocabulary ---------------------------------------------------------------------------
_HALF_PI = 0.5 * math.pi
# Taylor coefficients of sin(x)/x in x**2, enough for |x| <= pi/4 to 5e-17 (below float64's ulp).
_S1, _S2, _S3, _S4 = -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0
_S5, _S6, _S7 = -1.0 / 39916800.0, 1.0 / 6227020800.0, -1.0 / 1307674368000.0


@njit(**_POLYNOMIAL_OPTIONS)
def _cos_remaining(r):
    """``(1 - cos(pi r)) / 2 = sin(pi r / 2)**2`` for ``r`` in [0, 1], branch-free.

    ``sin`` of ``pi/2 * min(r, 1 - r)`` (at most ``pi/4``) by its Taylor polynomial, squared; for
    ``r > 1/2`` the complement ``1 - sin(pi/2 (1 - r))**2``. Relative error ~1e-16 as ``r -> 0``
    (no cancellation near the end of a cosine), and it vectorizes (no libm call).
    """
    u = min(r, 1.0 - r)
    x = u * _HALF_PI
    x2 = x * x
    p = _S7
    p = p * x2 + _S6
    p = p * x2 + _S5
    p = p * x2 + _S4
    p = p * x2 + _S3
    p = p * x2 + _S2
    p = p * x2 + _S1
    p = p * x2 + 1.0
    s = x * p
    s2 = s * s
    return s2 if r <= 0.5 else 1.0 - s2


@_jit
def _count_less(boundaries, x):
    c = 0
    for b in boundaries:
        c += x > b
    return c


ops = types.ModuleType("fastlr_numba_ops", "The formula vocabulary as Numba scalar functions.")
ops.name = "numba"
ops.f = _jit(lambda x: float(x))
ops.where = _jit(lambda c, a, b: a if c else b)
ops.minimum = _jit(lambda a, b: min(a, b))
ops.maximum = _jit(lambda a, b: max(a, b))
ops.floor = _jit(lambda x: np.floor(float(x)))
ops.floordiv = _jit(lambda a, b: a // b)
ops.ceildiv = _jit(lambda a, b: -((-a) // b))
ops.cos = _jit(lambda x: math.cos(x))
ops.exp = _jit(lambda x: math.exp(x))
ops.log = _jit(lambda x: math.log(x))
ops.log1p = _jit(lambda x: math.log1p(x))
ops.sqrt = _jit(lambda x: math.sqrt(x))
ops.power = _jit(lambda a, b: float(a) ** float(b))
ops.cos_remaining = _cos_remaining
ops.count_less = _count_less
ops.take = _jit(lambda values, i: values[i])


# -- structures, arguments and scalar functions -----------------------------------------------
def structure(schedule: Any) -> tuple:
    """What a compiled kernel depends on: ``("module:Class", child structures...)``."""
    cls = type(schedule)
    return (f"{cls.__module__}:{cls.__qualname__}", *(structure(c) for c in schedule.children()))


def kernel_args(schedule: Any) -> tuple:
    """The arguments of :func:`scalar_function`.

    A plain schedule: its formula arguments. A composite: ``(own formula arguments, child 0's
    kernel arguments, child 1's, ...)``.
    """
    own = tuple(schedule.formula_args())
    children = schedule.children()
    if not children:
        return own
    return (own, *(kernel_args(c) for c in children))


def _as_kernel_value(value: Any) -> Any:
    if isinstance(
        value, tuple
    ):  # list parameters: int64 arrays if all ints (or empty), else float64
        ints = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        return np.asarray(value, dtype=np.int64 if ints else np.float64)
    return value


def flat_args(schedule: Any) -> tuple[tuple, tuple]:
    """``(flat, shape)``: :func:`kernel_args` flattened for a kernel call, and its nesting.

    Numba's parallel lowering refuses tuples nested in a kernel argument, so kernels take one flat
    tuple (list parameters become arrays) and rebuild the nesting inside the loop body with the
    generated ``nest`` function (static indices: free after compilation). ``shape`` is
    ``(own argument count, child shapes...)``.
    """
    flat = [_as_kernel_value(a) for a in schedule.formula_args()]
    shapes = []
    for child in schedule.children():
        child_flat, child_shape = flat_args(child)
        flat += child_flat
        shapes.append(child_shape)
    return tuple(flat), (len(schedule.formula_args()), *shapes)


def _nest_source(shape: tuple) -> str:
    """Source of the expression that turns the flat tuple ``f`` back into kernel arguments."""
    position = 0

    def as_tuple(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def build(sh: tuple) -> str:
        nonlocal position
        count, *kids = sh
        own = [f"f[{position + j}]" for j in range(count)]
        position += count
        if not kids:
            return as_tuple(own)
        return as_tuple([as_tuple(own), *(build(k) for k in kids)])

    return build(shape)


def _resolve(path: str) -> type:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


_SCALARS: dict[tuple, Any] = {}
_LOCK = threading.RLock()


def _composite_source(n_children: int) -> str:
    """Source of a composite's scalar: children unrolled, each at its own step, then folded."""
    lines = [
        "def make(child_step, fold, children):",
        "    " + "".join(f"c{i}, " for i in range(n_children)) + "= children",
        "    def scalar(step, args):",
        "        own = args[0]",
        "        acc = 0.0",
    ]
    for i in range(n_children):
        lines.append(
            f"        acc = fold({i}, acc, c{i}(max(child_step({i}, step, *own), 0), "
            f"args[{i + 1}]), step, *own)"
        )
    lines += ["        return acc", "    return scalar"]
    return "\n".join(lines)


def scalar_function(struct: tuple) -> Any:
    """``scalar(step, args) -> float64`` compiled for ``struct`` (see :func:`structure`).

    A plain schedule calls its bound formula with ``*args``. A composite runs each child's scalar
    at the composite's ``child_step`` and folds the values with its ``fold`` (both bound formulas),
    unrolled over the children in generated code: nesting compiles into one kernel with no Python
    call per element or per chunk.
    """
    with _LOCK:
        hit = _SCALARS.get(struct)
        if hit is not None:
            return hit
        cls = _resolve(struct[0])
        if len(struct) == 1:
            formula = cls.bound_formula(ops, _jit)

            def scalar(step, args):
                return formula(step, *args)

            result = _jit(scalar)
        else:
            namespace: dict[str, Any] = {}
            exec(_composite_source(len(struct) - 1), namespace)
            children = tuple(scalar_function(s) for s in struct[1:])
            child_step = bind(cls.child_step, ops, _jit)
            fold = bind(cls.fold, ops, _jit)
            result = _jit(namespace["make"](child_step, fold, children))
        _SCALARS[struct] = result
        return result


# -- generated kernel modules and the cache ---------------------------------------------------
_TEMPLATE = '''"""Generated by fastlr.engines.numba_cpu for {struct!r}: do not edit."""
import numpy as np
from numba import njit, prange

from fastlr.engines.numba_cpu import KERNEL_OPTIONS, scalar_function

scalar = scalar_function({struct!r})


@njit(**KERNEL_OPTIONS)
def nest(f):
    return {nest}


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def range_kernel(start, stride, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(start + i * stride, nest(flat))


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def array_kernel(steps, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(np.int64(steps[i]), nest(flat))
'''

_SOURCES = ("_ops.py", "schedules", "engines/numba_cpu.py")


def fingerprint() -> str:
    """Hash of everything a compiled kernel depends on (sources and toolchain versions)."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        import llvmlite

        h = hashlib.sha256()
        for part in (sys.version, np.__version__, numba.__version__, llvmlite.__version__):
            h.update(part.encode())
        root = Path(__file__).resolve().parents[1]
        for rel in _SOURCES:
            path = root / rel
            files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
            for f in files:
                h.update(str(f.relative_to(root)).encode())
                h.update(f.read_bytes())
        _FINGERPRINT = h.hexdigest()[:16]
    return _FINGERPRINT


_FINGERPRINT: str | None = None


def cache_root() -> Path:
    """Where generated kernel modules live: ``$FASTLR_CACHE_DIR``, else the user cache folder."""
    env = os.environ.get("FASTLR_CACHE_DIR")
    if env:
        return Path(env)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "fastlr"


def _writable(folder: Path) -> Path:
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe = folder / f".probe-{os.getpid()}"
        probe.write_text("")
        probe.unlink()
        return folder
    except OSError:
        fallback = Path(tempfile.gettempdir()) / f"fastlr-{os.getuid()}" / folder.name
        fallback.mkdir(parents=True, exist_ok=True)
        return fallback


_MODULES: dict[tuple, types.ModuleType] = {}


def kernels(struct: tuple, shape: tuple) -> types.ModuleType:
    """The generated module (``range_kernel``, ``array_kernel``) for a structure and arg shape."""
    with _LOCK:
        mod = _MODULES.get((struct, shape))
        if mod is not None:
            return mod
        folder = _writable(cache_root() / f"kernels-{fingerprint()}")
        key = hashlib.sha256(repr((struct, shape)).encode()).hexdigest()[:16]
        leaf = struct[0].rpartition(":")[2]
        path = folder / f"{leaf}_{key}.py"
        source = _TEMPLATE.format(struct=struct, nest=_nest_source(shape))
        if not path.exists() or path.read_text() != source:
            tmp = path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(source)
            os.replace(tmp, path)
        name = f"fastlr_kernels_{leaf}_{key}"
        spec = importlib.util.spec_from_file_location(name, path)
        mod = importlib.util.module_from_spec(spec)
        sys.modules[name] = mod  # Numba re-imports a cached kernel's module by name
        spec.loader.exec_module(mod)
        _MODULES[(struct, shape)] = mod
        return mod


# -- the engine entry points ------------------------------------------------------------------
def evaluate_range(schedule: Any, start: int, stride: int, out: np.ndarray) -> None:
    """``out[i] = schedule(start + i * stride)`` for every ``i`` (start >= 0, stride > 0)."""
    flat, shape = flat_args(schedule)
    kern = kernels(structure(schedule), shape).range_kernel
    kern(np.int64(start), np.int64(stride), out, flat)


def evaluate_array(schedule: Any, steps: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = schedule(steps[i])`` for a 1-D integer array of any dtype, order and stride."""
    flat, shape = flat_args(schedule)
    kernels(structure(schedule), shape).array_kernel(steps, out, flat)
