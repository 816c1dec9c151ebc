"""Numba CPU engine: the schedules' own formulas compiled into parallel kernels.

How a formula becomes a kernel:

1. :data:`ops` supplies the formula vocabulary (:data:`fastlr._ops.VOCABULARY`) as small
   ``@njit`` scalar functions, from the plain-Python bodies of
   :mod:`fastlr.engines._vocabulary` (shared with the CUDA engine): ``where`` is a select,
   ``cos_remaining`` a branch-free polynomial, and ``exp``/``log``/``log1p``/``power``/``ldexp``
   and integer ``floordiv``/``ceildiv`` are branch-free vector versions (no libm call, no integer
   division per lane), so the loop vectorizes. :func:`fastlr._ops.bind` re-binds a formula (and
   its ``@formula`` helpers) to it.
2. :func:`scalar_function` builds ``scalar(step, args)`` for one schedule *structure* (see
   :mod:`fastlr.engines._structure`): the class, the values of its ``static`` parameters
   (compile-time constants: the kernel computes only the shape it needs) and, for composites, the
   child structures. ``args`` are the other parameters, so one compiled kernel serves every
   value of them.
3. Each structure has two pairs of kernels (a step range, a step array): one on int64 steps, and
   one on whole-number float64 steps, used when every step and every integer parameter is below
   2**50 in magnitude (:data:`fastlr.engines._vocabulary.WHOLE_LIMIT`). There the formulas'
   phase and cycle arithmetic is exact in float64 and gives the int64 results bit for bit, with
   vector float instructions where int64 needs slow multiplies and conversions (1.3-2x on the
   cyclic families); ``floordiv``/``ceildiv``/``ilog2``/``iexp2`` pick their version by the
   operand types at compile time. A *segmented* schedule (its formula written as ``segment`` and
   ``inside``, see :class:`fastlr.schedules.Schedule`: the restart schedules, whose segments are
   their cycles, and the exponential and inverse-square-root decays, continued by a short
   polynomial from a segment's first step) also has *block* range kernels, which compute a
   segment once per run of steps in it and the rest per step (:func:`block_source`: 1.4-2.4x
   at 10**8 steps, the same bits), chosen per call where most runs are long
   (:func:`range_kernel`).
4. The prange kernels live in a small *generated module*, one per structure, written under
   :func:`cache_root` in a folder named by :func:`fingerprint` (a hash of fastlr's formula and
   engine sources, and of the Python/NumPy/Numba/llvmlite versions). Numba's ``cache=True`` keys
   its cache by that file, so an edited or upgraded formula gets a new folder and can never be
   served from a stale cache; unchanged ones load in milliseconds.

Compile policy, in one place (:data:`KERNEL_OPTIONS`): ``error_model="numpy"`` (``where`` evaluates
both sides, so a guarded division must not raise); ``parallel=True`` over all cores;
``cache=True``; no fast-math flags on formulas. Formulas, their helpers and the vector math are
compiled with ``forceinline`` (LLVM's ``alwaysinline``): a call left in the loop body stops
vectorization, and Numba's own IR-level inlining costs minutes of compile time on the restart
schedules. ``contract`` (FMA) would break the error-free double-double arithmetic of the restart
schedules and of the vector ``log``; ``arcp`` (reciprocal division) applies or not depending on
how deeply a kernel is inlined, so ``evaluate(s, N)`` and ``evaluate(s, np.arange(N))`` could
differ in the last float64 bit: results must not depend on how the steps were given. The
exceptions are the polynomials of ``cos_remaining`` and of the vector ``exp`` (``exp_dd``): no
error-free transformation there, the same contraction in every kernel, and it only makes them
more accurate. ``div`` uses explicit LLVM ``fma`` calls, fused whatever the flags.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import sys
import tempfile
import threading
import types
import weakref
from pathlib import Path
from typing import Any

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit
from numba.extending import intrinsic, overload

from fastlr.engines import _vocabulary
from fastlr.engines._structure import (  # noqa: F401 - re-exported for the CUDA engine and tests
    SHORT_LIST,
    build_scalar,
    build_segments,
    flat_args,
    kernel_args,
    nest_source,
    segmented,
    structure,
)
from fastlr.engines._vocabulary import (  # noqa: F401 - re-exported
    VOCABULARY,
    cos_remaining,
    make_ops,
    with_globals,
)

KERNEL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": False}
"""Options of every compiled function (kernels add ``parallel=True, cache=True``)."""
_POLYNOMIAL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": {"contract"}}

_jit = njit(**KERNEL_OPTIONS)
# Formulas, their helpers and the vector math are always inlined by LLVM (see the module doc).
_formula_jit = njit(forceinline=True, **KERNEL_OPTIONS)


# -- the vocabulary ---------------------------------------------------------------------------
def _dispatch_integer(name: str, exact_int: Any, whole: Any) -> Any:
    """An integer primitive (``floordiv``, ``ceildiv``, ``ilog2``, ``iexp2``) chosen by the type
    of its first operand at compile time: the vectorizing int64 version on an integer, the
    whole-number float64 version (see :data:`_vocabulary.WHOLE_LIMIT`) on a float step with
    integer other operands, and the portable one otherwise (a float ``decay_steps``: Python's
    float floor division)."""

    binary = name in ("floordiv", "ceildiv")
    portable = _formula_jit(_vocabulary.VOCABULARY[name])

    def pick(args):
        from numba.core import types

        if all(isinstance(a, types.Integer) for a in args):
            return exact_int
        if isinstance(args[0], types.Float) and all(isinstance(a, types.Integer) for a in args[1:]):
            return whole
        return portable

    if binary:

        def primitive(a, b):  # pragma: no cover - replaced by the overload in compiled code
            return portable(a, b)

        def typed(a, b):
            fn = pick((a, b))
            return lambda a, b: fn(a, b)

    else:

        def primitive(a):  # pragma: no cover - replaced by the overload in compiled code
            return portable(a)

        def typed(a):
            fn = pick((a,))
            return lambda a: fn(a)

    overload(primitive, jit_options=KERNEL_OPTIONS)(typed)
    return primitive


_UNROLLED = {
    "count_less": ("c = 0", "c += x > seq[{j}]", "c"),  # the count of boundaries below x
    "take": ("v = seq[0]", "v = seq[{j}] if x >= {j} else v", "v"),  # a select per value
}
"""Straight-line bodies of ``count_less(seq, x)`` and ``take(seq, x)`` over a tuple."""


def _dispatch_sequence(name: str) -> Any:
    """``count_less`` / ``take``: over a short list parameter (a tuple in the kernel, see
    :func:`fastlr.engines._structure.flat_args`) as straight-line code generated for its length,
    compares and selects that vectorize (a loop over a tuple indexes it dynamically, which Numba
    lowers to a switch: scalar code with branches); over an array, the loop and the load."""

    generic = _formula_jit(_vocabulary.VOCABULARY[name])

    def sequence_op(seq, x):  # pragma: no cover - replaced by the overload in compiled code
        return generic(seq, x)

    def typed(seq, x):
        from numba.core import types

        if not isinstance(seq, types.BaseTuple):
            if name == "take" and isinstance(x, types.Float):  # a whole-number float step
                return lambda seq, x: seq[np.int64(x)]
            return lambda seq, x: generic(seq, x)
        first, each, result = _UNROLLED[name]
        rest = range(len(seq)) if name == "count_less" else range(1, len(seq))
        lines = [first, *(each.format(j=j) for j in rest), f"return {result}"]
        scope: dict[str, Any] = {}
        exec("def op(seq, x):\n    " + "\n    ".join(lines), scope)
        return scope["op"]

    overload(sequence_op, jit_options=KERNEL_OPTIONS)(typed)
    return sequence_op


@intrinsic
def _fma(typingctx, a, b, c):
    """LLVM's ``fma`` on float64: ``a * b + c`` with one rounding (always fused, whatever the
    fast-math flags: the division of ``div_reciprocal`` relies on it)."""
    sig = numba.types.float64(numba.types.float64, numba.types.float64, numba.types.float64)

    def codegen(context, builder, signature, args):
        d = llvm_ir.DoubleType()
        fn = builder.module.declare_intrinsic("llvm.fma", [d], llvm_ir.FunctionType(d, [d] * 3))
        return builder.call(fn, args)

    return sig, codegen


def _cpu_ops() -> types.ModuleType:
    compiled = _vocabulary.compile_module_functions(
        (
            *_vocabulary.HELPERS,
            _vocabulary.ceildiv_int,
            _vocabulary.floordiv_whole,
            _vocabulary.ceildiv_whole,
            _vocabulary.ilog2_whole,
            _vocabulary.iexp2_whole,
            *_vocabulary.VECTOR.values(),
        ),
        _formula_jit,
        fma=lambda fn: _fma,
        exp_dd=njit(forceinline=True, **_POLYNOMIAL_OPTIONS),
    )
    special = {key: compiled[fn.__name__] for key, fn in _vocabulary.VECTOR.items()}
    special["div"] = _formula_jit(with_globals(_vocabulary.div_reciprocal, fma=_fma))
    exact_int = {
        "floordiv": compiled["floordiv_int"],
        "ceildiv": compiled["ceildiv_int"],
        "ilog2": special["ilog2"],
        "iexp2": _formula_jit(_vocabulary.VOCABULARY["iexp2"]),
    }
    for key, int_version in exact_int.items():
        special[key] = _dispatch_integer(key, int_version, compiled[f"{key}_whole"])
    special["count_less"] = _dispatch_sequence("count_less")
    special["take"] = _dispatch_sequence("take")
    # The polynomial is the one piece compiled with ``contract``: FMA only makes it more
    # accurate, and it is contracted the same way in every kernel.
    madd = njit(**_POLYNOMIAL_OPTIONS)(_vocabulary.madd)
    special["cos_remaining"] = njit(**_POLYNOMIAL_OPTIONS)(
        with_globals(_vocabulary.cos_remaining, madd=madd)
    )
    return make_ops("numba", _jit, **special)


ops = _cpu_ops()


def scalar_function(struct: tuple) -> Any:
    """``scalar(step, args) -> float64`` compiled for ``struct`` (see
    :func:`fastlr.engines._structure.build_scalar`) with this engine's vocabulary and ``njit``."""
    return build_scalar(struct, ops, _formula_jit, _SCALARS)


def segment_functions(struct: tuple) -> tuple[Any, Any]:
    """``(segment, inside)`` of a segmented structure (see
    :func:`fastlr.engines._structure.build_segments`), compiled like :func:`scalar_function`."""
    return build_segments(struct, ops, _formula_jit, _SCALARS)


_SCALARS: dict[tuple, Any] = {}
_LOCK = threading.RLock()


# -- generated kernel modules and the cache ---------------------------------------------------
_TEMPLATE = '''"""Generated by fastlr.engines.numba_cpu for {struct!r}: do not edit."""
import numpy as np
from numba import njit, prange

from fastlr.engines.numba_cpu import KERNEL_OPTIONS, scalar_function, segment_functions

scalar = scalar_function({struct!r})


@njit(forceinline=True, **KERNEL_OPTIONS)
def nest(f):
    return {nest}


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def range_kernel(start, stride, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(start + i * stride, nest(flat))


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def whole_range_kernel(start, stride, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(start + np.float64(i) * stride, nest(flat))


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def array_kernel(steps, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(np.int64(steps[i]), nest(flat))


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def whole_array_kernel(steps, out, flat):
    for i in prange(out.shape[0]):
        out[i] = scalar(np.float64(np.int64(steps[i])), nest(flat))
'''

_BLOCK_TEMPLATE = """

segment, inside = segment_functions({struct!r})
BLOCK = {block}
MIN_RUN = {min_run}
{blocks}"""

_BLOCK = """

@njit(forceinline=True, **KERNEL_OPTIONS)
def {prefix}run_after(step, stride, args):
    # the segment of `step`, and how many steps of the range follow it in the segment (at most
    # BLOCK)
    seg = segment(step, args)
    return seg, np.int64(min({quotient}, BLOCK))


@njit(**KERNEL_OPTIONS)
def {prefix}runs_at(start, stride, n, flat):
    # the steps of the range in the segment after each of 17 steps spread over the range, from
    # its first step (for choosing a kernel: a sample's own segment is seen from a random point)
    out = np.empty(17, np.int64)
    for p in range(17):
        i = p * (n - 1) // 16
        more = {prefix}run_after(start + {index}(i) * stride, stride, nest(flat))[1]
        i += 1 + more
        if i < n and more < BLOCK:
            more = {prefix}run_after(start + {index}(i) * stride, stride, nest(flat))[1]
        out[p] = more + 1  # the run's length
    return out


@njit(parallel=True, cache=True, **KERNEL_OPTIONS)
def {prefix}block_range_kernel(start, stride, out, flat):
    n = out.shape[0]
    for b in prange((n + BLOCK - 1) // BLOCK):
        args = nest(flat)
        i = b * BLOCK
        hi = min(i + BLOCK, n)
        while i < hi:  # a run of steps in one segment at a time, its items computed once
            seg, more = {prefix}run_after(start + {index}(i) * stride, stride, args)
            if more + 1 < MIN_RUN:  # short segments: the rest of the block step by step
                run = out[i:hi]
                for t in range(run.shape[0]):
                    run[t] = scalar(start + {index}(i + t) * stride, args)
                break
            j = min(i + 1 + more, hi)
            run = out[i:j]  # a view indexed from 0: a contiguous vector store, not a scatter
            for t in range(run.shape[0]):
                run[t] = inside(start + {index}(i + t) * stride, seg, args)
            i = j
"""

BLOCK = 4096
"""Steps per parallel work item of a segmented schedule's block kernels."""
MIN_RUN = 512
"""Where a segment holds fewer steps of the range than this, the rest of the block runs step by
step. A run costs a scalar ``segment`` (an ``exp`` for the exponential families), a loop start
and a scalar remainder of up to 7 steps: measured here, runs of 128 steps broke even with step
by step for ``ExponentialRange`` and runs of 200 for ``CosineDecayRestarts``."""


def block_source(struct: tuple) -> str:
    """The block kernels of a segmented structure (:func:`segmented`), added to its module.

    ``block_range_kernel`` (and ``whole_block_range_kernel``) cut the range into blocks of
    :data:`BLOCK` steps, and a block into runs of steps in one segment (the segment's last step
    says where its run ends); a run evaluates ``inside`` with the segment's items computed once.
    The results are those of ``range_kernel`` bit for bit: ``inside(step, segment(step))`` is
    the formula, and a segment's items are the same for every step of it. Where segments are
    short the step-by-step ``range_kernel`` is faster (see :func:`range_kernel`), also inside
    a block: LLVM allocates registers for the whole kernel, and a step-by-step loop in it ran
    ~8% slower than alone.
    """
    blocks = "".join(
        _BLOCK.format(prefix=prefix, index=index, quotient=quotient)
        for prefix, index, quotient in (
            ("", "", "(seg[0] - step) // stride"),
            # whole numbers below 2**50: the rounded quotient has the exact floor
            ("whole_", "np.float64", "np.floor((seg[0] - step) / stride)"),
        )
    )
    return _BLOCK_TEMPLATE.format(struct=struct, block=BLOCK, min_run=MIN_RUN, blocks=blocks)


_SOURCES = (
    "_ops.py",
    "schedules",
    "engines/numba_cpu.py",
    "engines/_vocabulary.py",
    "engines/_structure.py",
)


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
        source = _TEMPLATE.format(struct=struct, nest=nest_source(shape))
        if segmented(struct):
            source += block_source(struct)
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
SERIAL_BELOW = 2**17
"""Below this many steps a kernel runs on one thread.

A second thread saves at most half of a call that takes ~0.1-2 ms on one core here (2**17 steps
at 65-900 M steps/s), while on a busy machine a preempted worker thread makes the whole call
wait for a scheduler slice: measured on this 2-core machine with one core taken, 2 threads at
10**3..10**5 steps had a median of 43-98 us but a 90th percentile of 4.7-6.0 ms; one thread
stayed at 47-162 us. Results do not depend on the thread count (every step is independent)."""


def _run(kernel: Any, n: int, *args: Any) -> None:
    if n >= SERIAL_BELOW:
        kernel(*args)
        return
    threads = numba.get_num_threads()
    numba.set_num_threads(1)
    try:
        kernel(*args)
    finally:
        numba.set_num_threads(threads)


def _whole(flat: tuple, low: int, high: int) -> bool:
    """Whether the steps ``low..high`` and every integer parameter in ``flat`` are below
    :data:`_vocabulary.WHOLE_LIMIT` in magnitude: the kernel may then run on whole-number
    float64 steps, bit for bit the int64 results (see :mod:`fastlr.engines._vocabulary`)."""
    limit = _vocabulary.WHOLE_LIMIT
    if not (-limit < low and high < limit):
        return False
    stack = list(flat)
    while stack:
        a = stack.pop()
        if isinstance(a, tuple):
            stack.extend(a)
        elif isinstance(a, np.ndarray):
            if a.dtype.kind in "iu" and a.size and np.abs(a).max() >= limit:
                return False
        elif isinstance(a, (int, np.integer)) and not isinstance(a, bool) and abs(a) >= limit:
            return False
    return True


def _step_bounds(steps: np.ndarray) -> tuple[int, int]:
    """``(min, max)`` of an integer step array (``(0, 0)`` if empty): no scan for 32-bit and
    smaller types (always below the whole-number limit), one parallel pass for large 64-bit
    arrays (NumPy's ``min`` and ``max`` would read the array twice, on one core)."""
    if steps.size == 0:
        return 0, 0
    if steps.dtype.itemsize <= 4:
        info = np.iinfo(steps.dtype)
        return int(info.min), int(info.max)
    if steps.size < SERIAL_BELOW:
        return int(steps.min()), int(steps.max())
    global _BOUNDS
    if _BOUNDS is None:
        _BOUNDS = njit(parallel=True, cache=True)(_bounds)
    low, high = _BOUNDS(steps)
    return int(low), int(high)


def _bounds(steps):  # compiled on first use (see _step_bounds)
    low = steps[0]
    high = steps[0]
    for i in numba.prange(steps.shape[0]):
        low = min(low, steps[i])
        high = max(high, steps[i])
    return low, high


_BOUNDS: Any = None


_PREPARED: dict[int, tuple] = {}


def _prepared(schedule: Any) -> tuple[tuple, types.ModuleType]:
    """``(flat arguments, kernel module)`` of a schedule, memoized per (immutable) instance:
    walking a composite's structure and arguments costs ~25 us each, a tenth of a 10**5-step
    call. Keyed by identity (a schedule's hash is its ``repr``), dropped when it is collected."""
    key = id(schedule)
    hit = _PREPARED.get(key)
    if hit is not None and hit[0]() is schedule:
        return hit[1], hit[2]
    flat, shape = flat_args(schedule)
    mod = kernels(structure(schedule), shape)
    ref = weakref.ref(schedule, lambda _, key=key: _PREPARED.pop(key, None))
    _PREPARED[key] = (ref, flat, mod)
    return flat, mod


def evaluate_range(schedule: Any, start: int, stride: int, out: np.ndarray) -> None:
    """``out[i] = schedule(start + i * stride)`` for every ``i`` (start >= 0, stride > 0)."""
    flat, mod = _prepared(schedule)
    kernel, kind = range_kernel(mod, flat, start, stride, out.shape[0])
    _run(kernel, out.shape[0], kind(start), kind(stride), out, flat)


def range_kernel(mod: types.ModuleType, flat: tuple, start: int, stride: int, n: int) -> tuple:
    """``(kernel, step type)`` for ``n`` steps from ``start`` by ``stride``: whole-number float64
    steps where :func:`_whole` allows; a segmented schedule's block kernel where most of its
    segments are long (see :data:`BLOCKS_FROM`), else the step-by-step one."""
    whole = _whole(flat, start, start + max(n - 1, 0) * stride)
    prefix, kind = ("whole_", np.float64) if whole else ("", np.int64)
    name = prefix + "range_kernel"
    if hasattr(mod, "block_range_kernel") and n >= BLOCKS_FROM:
        runs = getattr(mod, prefix + "runs_at")(kind(start), kind(stride), n, flat)
        if np.median(runs) >= MIN_RUN:
            name = prefix + "block_range_kernel"
    return getattr(mod, name), kind


BLOCKS_FROM = 4 * BLOCK
"""A segmented schedule's range of at least this many steps runs on its block kernel where
most of its segments are long: the median length of the segments that follow 17 steps spread
over the range is at least :data:`MIN_RUN` steps of the range (about 5 us to find out)."""


def evaluate_array(schedule: Any, steps: np.ndarray, out: np.ndarray) -> None:
    """``out[i] = schedule(steps[i])`` for a 1-D integer array of any dtype, order and stride."""
    flat, mod = _prepared(schedule)
    whole = _whole(flat, *_step_bounds(steps))
    kernel = mod.whole_array_kernel if whole else mod.array_kernel
    _run(kernel, out.shape[0], steps, out, flat)
