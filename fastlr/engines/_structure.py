"""The one composite walk, shared by every engine, and what a compiled kernel depends on.

* :func:`structure`: ``("module:Class", statics, child structures...)``, where ``statics`` are
  the values of the schedule's :attr:`~fastlr.schedules.Schedule.static` parameters. One compiled
  kernel serves every schedule of the same structure; the other parameters are runtime arguments
  (:func:`kernel_args`).
* :func:`flat_args`: those runtime arguments as one flat tuple (Numba's parallel lowering refuses
  nested tuples in a kernel argument) and the shape that :func:`nest_source` rebuilds inside.
* :func:`build_scalar`: ``scalar(step, args) -> float64`` for a structure, over an engine's
  vocabulary and jit. Static parameters are written into the generated source as literals, so
  the compiler folds the formula's ``if`` on them; composites are unrolled over their children.
  The Numba CPU and CUDA engines compile it for one step at a time; :func:`evaluate_tree` runs
  the same generated code, uncompiled, on a whole array or tensor of steps (the TensorFlow,
  JAX, PyTorch and NumPy engines). So a composite's walk over its children is written once.
"""

from __future__ import annotations

import importlib
import threading
import weakref
from typing import Any

import numpy as np

from fastlr._ops import bind


def structure(schedule: Any) -> tuple:
    """``("module:Class", ((position, value), ...), child structures...)``."""
    cls = type(schedule)
    args = schedule.formula_args()
    statics = tuple((i, _literal(args[i])) for i in cls.static_positions())
    path = f"{cls.__module__}:{cls.__qualname__}"
    return (path, statics, *(structure(c) for c in schedule.children()))


def _literal(value: Any) -> bool | int | float:
    """A static value as a plain Python scalar (its ``repr`` becomes source code)."""
    value = value.item() if isinstance(value, np.generic) else value
    if not isinstance(value, (bool, int, float)):
        raise TypeError(f"A static formula parameter must be a bool, int or float: {value!r}")
    return value


def _dynamic_args(schedule: Any) -> tuple:
    skip = set(type(schedule).static_positions())
    return tuple(a for i, a in enumerate(schedule.formula_args()) if i not in skip)


def kernel_args(schedule: Any) -> tuple:
    """The runtime arguments of a structure's scalar (static parameters left out).

    A plain schedule: its formula arguments. A composite: ``(own formula arguments, child 0's
    kernel arguments, child 1's, ...)``.
    """
    own = _dynamic_args(schedule)
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

    Kernels take one flat tuple and rebuild the nesting inside the loop body with the generated
    ``nest`` expression (static indices: free after compilation). ``shape`` is ``(own argument
    widths, child shapes...)``, a width per runtime argument as in :func:`_kernel_values`.
    """
    flat: list = []
    widths = []
    for a in _dynamic_args(schedule):
        slots, width = _kernel_values(a)
        flat += slots
        widths.append(width)
    shapes = []
    for child in schedule.children():
        child_flat, child_shape = flat_args(child)
        flat += child_flat
        shapes.append(child_shape)
    return tuple(flat), (tuple(widths), *shapes)


def _as_tuple(items: list[str]) -> str:
    return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"


def nest_source(shape: tuple) -> str:
    """Source of the expression that turns the flat tuple ``f`` back into kernel arguments."""
    position = 0

    def build(sh: tuple) -> str:
        nonlocal position
        widths, *kids = sh
        own = []
        for width in widths:
            if width:
                own.append(_as_tuple([f"f[{position + j}]" for j in range(width)]))
            else:
                own.append(f"f[{position}]")
            position += max(width, 1)
        if not kids:
            return _as_tuple(own)
        return _as_tuple([_as_tuple(own), *(build(k) for k in kids)])

    return build(shape)


def _resolve(path: str) -> type:
    module, _, qualname = path.partition(":")
    obj: Any = importlib.import_module(module)
    for part in qualname.split("."):
        obj = getattr(obj, part)
    return obj


def _leaf_source(cls: type, statics: tuple, lead: str = "step") -> str:
    """Source of a plain schedule's scalar: the formula called with its runtime arguments and
    its static values written in as literals (``formula(step, args[0], 2, args[1])``); ``lead``:
    the arguments before the parameters (``"step, seg"`` for a segmented schedule's ``inside``)."""
    import inspect

    fixed = dict(statics)
    n = len(inspect.signature(cls.formula).parameters) - 1  # after `step`
    runtime = iter(range(n))
    call = ", ".join(repr(fixed[i]) if i in fixed else f"args[{next(runtime)}]" for i in range(n))
    return "\n".join(
        [
            "def make(formula):",
            f"    def scalar({lead}, args):",
            f"        return formula({lead}, {call})",
            "    return scalar",
        ]
    )


def segmented(struct: tuple) -> bool:
    """Whether a structure is a plain schedule written as ``segment`` and ``inside`` (see
    :class:`fastlr.schedules.Schedule`)."""
    path, _, *kids = struct
    return not kids and _resolve(path).segment is not None


def build_segments(struct: tuple, ops: Any, wrap: Any, cache: dict[tuple, Any]) -> tuple:
    """``(segment(step, args), inside(step, seg, args))`` of a segmented plain schedule, compiled
    like :func:`build_scalar` (their composition is that scalar)."""
    with _LOCK:
        key = ("segments", struct)
        hit = cache.get(key)
        if hit is not None:
            return hit
        path, statics = struct
        cls = _resolve(path)
        parts = []
        for fn, lead in ((cls.segment, "step"), (cls.inside, "step, seg")):
            namespace: dict[str, Any] = {}
            exec(_leaf_source(cls, statics, lead), namespace)
            parts.append(wrap(namespace["make"](bind(fn, ops, wrap))))
        cache[key] = result = tuple(parts)
        return result


def _composite_source(cls: type, n_children: int) -> str:
    """Source of a composite's scalar: children unrolled, each at its own step, then folded.

    Child ``i`` runs at ``maximum(child_step(i, step, *own), 0)`` and its value is folded into
    the result with ``fold(i, acc, value, step, *own)``, from ``acc = 0.0``. ``maximum`` is the
    engine's vocabulary function (not Python's ``max``), so the same source serves a scalar step
    in a kernel and a tensor of steps in a graph. The composite's own arguments are spelled out
    (``own[0], own[1]``), not ``*own``: Numba inlines no call with a starred argument, and a
    call left in the loop stops vectorization.
    """
    import inspect

    n_own = len(inspect.signature(cls.fold).parameters) - 4  # fold(i, acc, value, step, *own)
    own = "".join(f", own[{j}]" for j in range(n_own))
    lines = [
        "def make(child_step, fold, maximum, children):",
        "    " + "".join(f"c{i}, " for i in range(n_children)) + "= children",
        "    def scalar(step, args):",
        "        own = args[0]",
        "        acc = 0.0",
    ]
    for i in range(n_children):
        lines.append(
            f"        acc = fold({i}, acc, c{i}(maximum(child_step({i}, step{own}), 0), "
            f"args[{i + 1}]), step{own})"
        )
    lines += ["        return acc", "    return scalar"]
    return "\n".join(lines)


_LOCK = threading.RLock()


def build_scalar(struct: tuple, ops: Any, wrap: Any, cache: dict[tuple, Any]) -> Any:
    """``scalar(step, args)`` for ``struct`` over the vocabulary ``ops``, memoized in ``cache``.

    A plain schedule calls its bound formula with the runtime ``args`` (:func:`kernel_args`) and
    its static values. A composite runs each child's scalar at the composite's ``child_step`` and
    folds the values with its ``fold`` (both bound formulas), unrolled over the children in
    generated code (:func:`_composite_source`): nesting compiles into one kernel with no Python
    call per element or per chunk.

    Args:
        struct: the schedule's :func:`structure`.
        ops: the engine's vocabulary namespace.
        wrap: compiles every generated and bound function (the CPU engine's ``njit``, the CUDA
            engine's device ``jit``); ``None`` leaves them plain Python, for a vectorized
            vocabulary (see :func:`evaluate_tree`).
        cache: the engine's memo, one per ``(ops, wrap)``, keyed by structure.

    Returns:
        ``scalar(step, args)``: the float64 value at ``step`` (one step in a kernel, a whole
        array or tensor of steps with a vectorized vocabulary).
    """
    compiled = wrap if wrap is not None else _plain
    with _LOCK:
        hit = cache.get(struct)
        if hit is not None:
            return hit
        path, statics, *kids = struct
        cls = _resolve(path)
        namespace: dict[str, Any] = {}
        if not kids:
            exec(_leaf_source(cls, statics), namespace)
            result = compiled(namespace["make"](cls.bound_formula(ops, wrap)))
        else:
            if statics:
                raise TypeError(f"{cls.__name__}: composites take no static parameters")
            exec(_composite_source(cls, len(kids)), namespace)
            children = tuple(build_scalar(s, ops, wrap, cache) for s in kids)
            child_step = bind(cls.child_step, ops, wrap)
            fold = bind(cls.fold, ops, wrap)
            result = compiled(namespace["make"](child_step, fold, ops.maximum, children))
        cache[struct] = result
        return result


def _plain(fn: Any) -> Any:
    return fn


_VECTORIZED: dict[Any, dict[tuple, Any]] = {}
""":func:`evaluate_tree`'s scalars, one :func:`build_scalar` cache per vocabulary."""
_SPLIT: dict[int, tuple] = {}


def _split(schedule: Any) -> tuple[tuple, tuple]:
    """``(structure, kernel_args)`` of a schedule, memoized per (immutable) instance: the two
    walks cost ~25 us each for a composite, as much as a scalar call to it in an eager graph.
    Keyed by identity (a schedule's hash is its ``repr``), dropped when it is collected."""
    key = id(schedule)
    hit = _SPLIT.get(key)
    if hit is not None and hit[0]() is schedule:
        return hit[1], hit[2]
    struct, args = structure(schedule), kernel_args(schedule)
    ref = weakref.ref(schedule, lambda _, key=key: _SPLIT.pop(key, None))
    _SPLIT[key] = (ref, struct, args)
    return struct, args


def evaluate_tree(schedule: Any, ops: Any, step: Any) -> Any:
    """Evaluate a schedule, composite or not, with a vectorized vocabulary ``ops``.

    Runs the uncompiled :func:`build_scalar` of the schedule's :func:`structure` (the code the
    Numba engines compile) on the whole ``step`` array or tensor, with :func:`kernel_args`.
    The Python calls follow the schedule's structure (trace time in a graph), never the steps.

    Args:
        schedule: a fastlr schedule.
        ops: the engine's vocabulary (``TensorFlowOps``, ``JaxOps``, ``TorchOps``, ``NumpyOps``).
        step: non-negative int64 steps of the engine's array type, any shape.

    Returns:
        The float64 values (an array or tensor of ``ops``' kind, possibly a Python float for a
        schedule that does not depend on the step).
    """
    struct, args = _split(schedule)
    with _LOCK:
        cache = _VECTORIZED.setdefault(ops, {})
    return build_scalar(struct, ops, None, cache)(step, args)
