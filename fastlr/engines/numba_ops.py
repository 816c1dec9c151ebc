"""The formula vocabulary compiled for the Numba engines (the CPU kernels; the CUDA engine builds
its own from the same bodies).

:data:`ops` supplies the formula vocabulary (:data:`fastlr._ops.VOCABULARY`) as small
``@njit`` scalar functions, from the plain-Python bodies of
:mod:`fastlr.engines._vocabulary` (shared with the CUDA engine): ``where`` is a select,
``cos_remaining`` a branch-free polynomial, and ``exp``/``log``/``log1p``/``power``/``ldexp``
and integer ``floordiv``/``ceildiv`` are branch-free vector versions (no libm call, no integer
division per lane), so the loop vectorizes. :func:`fastlr._ops.bind` re-binds a formula (and
its ``@formula`` helpers) to it.

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

import types
from typing import Any

import numba
import numpy as np
from llvmlite import ir as llvm_ir
from numba import njit
from numba.extending import intrinsic, overload

from fastlr.engines import _vocabulary
from fastlr.engines._vocabulary import make_ops, with_globals

KERNEL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": False}
"""Options of every compiled function (kernels add ``parallel=True, cache=True``)."""
_POLYNOMIAL_OPTIONS: dict[str, Any] = {"error_model": "numpy", "fastmath": {"contract"}}

_jit = njit(**KERNEL_OPTIONS)
# Formulas, their helpers and the vector math are always inlined by LLVM (see the module doc).
formula_jit = njit(forceinline=True, **KERNEL_OPTIONS)


# -- the vocabulary ---------------------------------------------------------------------------
def _dispatch_integer(name: str, exact_int: Any, whole: Any) -> Any:
    """An integer primitive (``floordiv``, ``ceildiv``, ``ilog2``, ``iexp2``) chosen by the type
    of its first operand at compile time: the vectorizing int64 version on an integer, the
    whole-number float64 version (see :data:`_vocabulary.WHOLE_LIMIT`) on a float step with
    integer other operands, and the portable one otherwise (a float ``decay_steps``: Python's
    float floor division)."""

    binary = name in ("floordiv", "ceildiv")
    portable = formula_jit(_vocabulary.VOCABULARY[name])

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

    generic = formula_jit(_vocabulary.VOCABULARY[name])

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
        formula_jit,
        fma=lambda fn: _fma,
        exp_dd=njit(forceinline=True, **_POLYNOMIAL_OPTIONS),
    )
    special = {key: compiled[fn.__name__] for key, fn in _vocabulary.VECTOR.items()}
    special["div"] = formula_jit(with_globals(_vocabulary.div_reciprocal, fma=_fma))
    exact_int = {
        "floordiv": compiled["floordiv_int"],
        "ceildiv": compiled["ceildiv_int"],
        "ilog2": special["ilog2"],
        "iexp2": formula_jit(_vocabulary.VOCABULARY["iexp2"]),
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
