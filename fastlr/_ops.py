"""The vocabulary schedule formulas are written in, and how a formula is bound to an engine.

A formula is a plain Python function of ``(step, *params)`` that reaches every operation through
the module-level name ``xp``. It uses only:

* arithmetic operators and comparisons;
* the functions of :data:`VOCABULARY` through ``xp`` (``xp.where``, ``xp.power``, ...);
* Python ``if`` on *parameters* only, never on the step: resolved once per trace in a graph, and
  a compile-time constant in a kernel when the parameter is declared ``static`` by its schedule.

``step`` arrives as a non-negative int64 (scalar, array or tensor). Integer phase arithmetic stays
on int64; everything else is float64, and the engine rounds the result once to the output dtype.

:func:`bind` re-creates a formula with ``xp`` pointing at an engine's namespace (NumPy in
:mod:`fastlr.engines.numpy_ref`, TF in :mod:`fastlr.engines.graph`, Numba in
:mod:`fastlr.engines.numba_cpu`, ...); until then ``xp`` refuses any use. Helper functions marked
with :func:`formula` are re-bound recursively, so shared curve pieces are written once too.
"""

from __future__ import annotations

import itertools
import sys
import types
from collections.abc import Callable
from typing import Any

VOCABULARY: dict[str, str] = {
    "f": "to float64",
    "where": "select: where(c, a, b) is a where c holds, else b (both sides are evaluated)",
    "minimum": "elementwise minimum",
    "maximum": "elementwise maximum",
    "floor": "floor, as float64",
    "floordiv": "a // b: exact for int64 a and integer b > 0 at every int64 a; float b: floor(a/b)",
    "ceildiv": "-((-a) // b), exact like floordiv",
    "cos": "cosine",
    "exp": "e**x, <= 1 float64 ulp; 0 below -746 and inf above 710",
    "log": "natural logarithm, <= 1 float64 ulp; log(0) = -inf",
    "log1p": "log(1 + x), <= 1 float64 ulp",
    "sqrt": "square root",
    "div": "a / b, bit-identical to IEEE division; for denominators that are parameters",
    "power": "a**b for a >= 0 (0**0 = 1), within 1 + |b log a| float64 ulps",
    "ldexp": "x * 2**k for an integer k (any int64), exact where the result is normal",
    "ilog2": "floor(log2(n)) for an int64 n >= 1, exact, as int64",
    "iexp2": "2**k as int64, for an integer 0 <= k <= 62 (exact)",
    "cos_remaining": "(1 - cos(pi r)) / 2 for r in [0, 1], with full relative accuracy near 0",
    "count_less": "how many of the sorted boundaries are < x",
    "take": "values[i]",
}
"""The whole vocabulary formulas may use, with the meaning every engine must give each name.

Every engine (NumPy in :mod:`fastlr.engines.numpy_ref`, TensorFlow in :mod:`fastlr.engines.graph`,
JAX and PyTorch in :mod:`fastlr.engines.jax_ops` / :mod:`fastlr.engines.torch_ops`, Numba CPU and
CUDA in :mod:`fastlr.engines.numba_cpu` / :mod:`fastlr.engines.numba_cuda`) provides exactly
these names;
a test checks it. Accuracy bounds are those of the weakest engine, measured in
``tests/test_vocabulary.py``: the CPU's branch-free ``exp``/``log``/``log1p`` are within 1 ulp
and its ``power`` within ``1 + |b log a| / 32`` ulps (:mod:`fastlr.engines._vocabulary`);
TensorFlow's and XLA's (JAX's) own ``exp``/``log``/``log1p`` are within 2 ulps and TensorFlow's
``pow`` within ``1 + |b log a|`` (and it flushes subnormals to zero); NumPy, PyTorch and CUDA use
libm. All are far below float32's ulp, which is what the Keras path returns.
"""


def formula(fn: Callable) -> Callable:
    """Mark ``fn`` as formula code: :func:`bind` re-binds its ``xp`` (and helpers') per engine."""
    fn.__fastlr_formula__ = True
    return fn


_BOUND: dict[tuple[Any, int], Callable] = {}
_BINDINGS = itertools.count()


def bind(fn: Callable, ops: Any, wrap: Callable[[Callable], Callable] | None = None) -> Callable:
    """Return ``fn`` with its global ``xp`` (and marked helpers) bound to ``ops``.

    Args:
        fn: a formula function (its module imports ``xp`` from this module).
        ops: the engine namespace supplying the vocabulary.
        wrap: applied to every re-bound function, e.g. ``numba.njit`` for compiled engines.
    """
    key = (fn, id(ops), id(wrap))
    hit = _BOUND.get(key)
    if hit is not None:
        return hit
    if getattr(ops, "module_per_binding", False):
        # The clone's globals are the namespace of a module of its own, registered in
        # sys.modules: tracers that find a function's globals by importing its module by name
        # (torch.compile's guards do) then see this binding, not the formula's source module.
        # Not for Numba: its disk cache re-imports a function's module in a fresh process.
        source = fn.__module__.replace(".", "_")
        module = types.ModuleType(f"fastlr_bound_{ops.name}_{next(_BINDINGS)}_{source}")
        scope = module.__dict__
        skip = ("__name__", "__spec__")
        scope.update({k: v for k, v in fn.__globals__.items() if k not in skip})
        sys.modules[module.__name__] = module
    else:
        scope = dict(fn.__globals__)
    scope["xp"] = ops
    for name in fn.__code__.co_names:
        helper = scope.get(name)
        if getattr(helper, "__fastlr_formula__", False):
            scope[name] = bind(helper, ops, wrap)
    clone = types.FunctionType(fn.__code__, scope, fn.__name__, fn.__defaults__, fn.__closure__)
    clone.__qualname__ = fn.__qualname__
    clone.__doc__ = fn.__doc__
    result = wrap(clone) if wrap is not None else clone
    _BOUND[key] = result
    return result


class _Unbound:
    """The ``xp`` a formula sees before :func:`bind` gives it an engine: any use is an error."""

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (doctest, inspect.unwrap, copy): no such thing
            raise AttributeError(name)
        raise RuntimeError(
            f"xp.{name} used by a formula that was not bound to an engine: call it through "
            "fastlr._ops.bind(formula, ops) (or Schedule.bound_formula)."
        )


xp: Any = _Unbound()
"""Placeholder namespace formulas import; :func:`bind` replaces it per engine."""
