"""Numba CPU engine: the schedules' own formulas compiled into parallel kernels.

How a formula becomes a kernel:

1. :data:`ops` supplies the formula vocabulary as small ``@njit`` scalar functions (``where`` is a
   select, ``cos_remaining`` a branch-free polynomial, ...); :func:`fastlr._ops.bind` re-binds a
   formula (and its ``@formula`` helpers) to it and ``njit``-compiles each piece. The bodies are
   plain Python (:data:`VOCABULARY`, :func:`make_ops`), shared with the CUDA engine
   (:mod:`fastlr.engines.numba_cuda`), which wraps the same ones with its device jit.
2. :func:`scalar_function` wraps that into ``scalar(step, args)`` for one schedule *structure*
   (a class, or for composites a class with child structures: children run at the composite's
   ``child_step`` and fold with its ``fold``, unrolled in generated code). ``args`` is
   :func:`kernel_args`: the formula arguments as a (nested) tuple, so one compiled kernel serves
   every parameter value. :func:`build_scalar` does it for any vocabulary and jit (CUDA too).
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
# Plain Python functions: every compiled engine (this one, :mod:`fastlr.engines.numba_cuda`) wraps
# the same bodies with its own jit (see :func:`make_ops`), so the vocabulary is written once.
_HALF_PI = 0.5 * math.pi
# Taylor coefficients of sin(x)/x in x**2, enough for |x| <= pi/4 to 5e-17 (below float64's ulp).
_S1, _S2, _S3, _S4 = -1.0 / 6.0, 1.0 / 120.0, -1.0 / 5040.0, 1.0 / 362880.0
_S5, _S6, _S7 = -1.0 / 39916800.0, 1.0 / 6227020800.0, -1.0 / 1307674368000.0


def madd(a, b, c):
    """``a * b + c``: the polynomial's step; an engine may rebind it to a fused multiply-add."""
    return a * b + c


def cos_remaining(r):
    """``(1 - cos(pi r)) / 2 = sin(pi r / 2)**2`` for ``r`` in [0, 1], branch-free.

    ``sin`` of ``pi/2 * min(r, 1 - r)`` (at most ``pi/4``) by its Taylor polynomial, squared; for
    ``r > 1/2`` the complement ``1 - sin(pi/2 (1 - r))**2``. Relative error ~1e-16 as ``r -> 0``
    (no cancellation near the end of a cosine), and it vectorizes (no libm call). Each Horner
    step is the global ``madd``: :func:`with_globals` rebinds it per engine.
    """
    u = min(r, 1.0 - r)
    x = u * _HALF_PI
    x2 = x * x
    p = _S7
    p = madd(p, x2, _S6)
    p = madd(p, x2, _S5)
    p = madd(p, x2, _S4)
    p = madd(p, x2, _S3)
    p = madd(p, x2, _S2)
    p = madd(p, x2, _S1)
    p = madd(p, x2, 1.0)
    s = x * p
    s2 = s * s
    return s2 if r <= 0.5 else 1.0 - s2


def count_less(boundaries, x):
    """How many ``boundaries`` are ``< x`` (a loop over a short array, no branch on ``x``)."""
    c = 0
    for b in boundaries:
        c += x > b
    return c


VOCABULARY: dict[str, Any] = {
    "f": lambda x: float(x),
    "where": lambda c, a, b: a if c else b,
    "minimum": lambda a, b: min(a, b),
    "maximum": lambda a, b: max(a, b),
    "floor": lambda x: np.floor(float(x)),
    "floordiv": lambda a, b: a // b,
    "ceildiv": lambda a, b: -((-a) // b),
    "cos": lambda x: math.cos(x),
    "exp": lambda x: math.exp(x),
    "log": lambda x: math.log(x),
    "log1p": lambda x: math.log1p(x),
    "sqrt": lambda x: math.sqrt(x),
    "power": lambda a, b: float(a) ** float(b),
    "cos_remaining": cos_remaining,
    "count_less": count_less,
    "take": lambda values, i: values[i],
}
"""The :mod:`fastlr._ops` vocabulary as plain scalar Python functions (see :func:`make_ops`)."""


def with_globals(fn: Any, **names: Any) -> Any:
    """A copy of the plain function ``fn`` whose globals ``names`` are replaced (not ``fn``)."""
    scope = {**fn.__globals__, **names}
    clone = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__
    clone.__doc__ = fn.__doc__
    return clone


def make_ops(name: str, wrap: Any, **special: Any) -> types.ModuleType:
    """A vocabulary namespace: every :data:`VOCABULARY` function wrapped by ``wrap``, except the
    ones given in ``special`` (already compiled, e.g. with other options), taken as they are."""
    ns = types.ModuleType(f"fastlr_{name}_ops", f"The formula vocabulary for the {name} engine.")
    ns.name = name
    for key, fn in VOCABULARY.items():
        setattr(ns, key, special[key] if key in special else wrap(fn))
    return ns


# The polynomial is the one piece compiled with ``contract``: FMA only makes it more accurate, and
# it is contracted the same way in every kernel.
_madd = njit(**_POLYNOMIAL_OPTIONS)(madd)
ops = make_ops(
    "numba",
    _jit,
    cos_remaining=njit(**_POLYNOMIAL_OPTIONS)(with_globals(cos_remaining, madd=_madd)),
)


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


SHORT_LIST = 32
"""List parameters up to this length are passed as scalars and rebuilt into a tuple."""


def _kernel_values(value: Any) -> tuple[list, int]:
    """``(flat slots, width)`` of one formula argument.

    A scalar is one slot (width 0). A list parameter (a tuple) of 1 to :data:`SHORT_LIST`
    elements becomes that many int64 (all ints) or float64 scalars (width ``n``), rebuilt into a
    homogeneous tuple inside the kernel: a value type, where an array in the loop body would pay
    reference counting on every element (measured 14x slower for ``PiecewiseConstantDecay``).
    Empty and longer lists (a ``Table``) are one int64 / float64 array slot (width 0).
    """
    if not isinstance(value, tuple):
        return [value], 0
    ints = all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    kind = np.int64 if ints else np.float64
    if 0 < len(value) <= SHORT_LIST:
        return [kind(v) for v in value], len(value)
    return [np.asarray(value, dtype=kind)], 0


def flat_args(schedule: Any) -> tuple[tuple, tuple]:
    """``(flat, shape)``: :func:`kernel_args` flattened for a kernel call, and its nesting.

    Numba's parallel lowering refuses tuples nested in a kernel argument, so kernels take one flat
    tuple and rebuild the nesting inside the loop body with the generated ``nest`` expression
    (static indices: free after compilation). ``shape`` is ``(own argument widths, child
    shapes...)``, a width per formula argument as in :func:`_kernel_values`.
    """
    flat: list = []
    widths = []
    for a in schedule.formula_args():
        slots, width = _kernel_values(a)
        flat += slots
        widths.append(width)
    shapes = []
    for child in schedule.children():
        child_flat, child_shape = flat_args(child)
        flat += child_flat
        shapes.append(child_shape)
    return tuple(flat), (tuple(widths), *shapes)


def _nest_source(shape: tuple) -> str:
    """Source of the expression that turns the flat tuple ``f`` back into kernel arguments."""
    position = 0

    def as_tuple(items: list[str]) -> str:
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"

    def build(sh: tuple) -> str:
        nonlocal position
        widths, *kids = sh
        own = []
        for width in widths:
            if width:
                own.append(as_tuple([f"f[{position + j}]" for j in range(width)]))
            else:
                own.append(f"f[{position}]")
            position += max(width, 1)
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


def build_scalar(struct: tuple, ops: Any, wrap: Any, cache: dict[tuple, Any]) -> Any:
    """``scalar(step, args) -> float64`` for ``struct``, over the vocabulary ``ops`` and compiled
    by ``wrap`` (this engine's ``njit``, or the CUDA engine's device ``jit``); memoized in
    ``cache``.

    A plain schedule calls its bound formula with ``*args``. A composite runs each child's scalar
    at the composite's ``child_step`` and folds the values with its ``fold`` (both bound formulas),
    unrolled over the children in generated code: nesting compiles into one kernel with no Python
    call per element or per chunk.
    """
    with _LOCK:
        hit = cache.get(struct)
        if hit is not None:
            return hit
        cls = _resolve(struct[0])
        if len(struct) == 1:
            formula = cls.bound_formula(ops, wrap)

            def scalar(step, args):
                return formula(step, *args)

            result = wrap(scalar)
        else:
            namespace: dict[str, Any] = {}
            exec(_composite_source(len(struct) - 1), namespace)
            children = tuple(build_scalar(s, ops, wrap, cache) for s in struct[1:])
            child_step = bind(cls.child_step, ops, wrap)
            fold = bind(cls.fold, ops, wrap)
            result = wrap(namespace["make"](child_step, fold, children))
        cache[struct] = result
        return result


def scalar_function(struct: tuple) -> Any:
    """``scalar(step, args) -> float64`` compiled for ``struct`` (see :func:`structure` and
    :func:`build_scalar`) with this engine's vocabulary and ``njit``."""
    return build_scalar(struct, ops, _jit, _SCALARS)


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
