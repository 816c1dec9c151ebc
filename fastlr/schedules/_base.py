"""The schedule base class: immutable parameters, one formula, config, registry.

A schedule subclass provides:

* ``__init__`` with the public signature, validating with :mod:`fastlr._validate` and passing the
  normalized values to ``super().__init__(**params)``;
* ``formula(step, *args)``: a ``@staticmethod`` written in the :mod:`fastlr._ops` vocabulary;
* optionally ``formula_args()`` when the formula wants derived arguments (enum codes, defaults
  resolved), instead of the parameters in signature order;
* optionally ``static``: the names of formula parameters that choose a *shape* (a mode, a flag, a
  loop count) rather than a value. The formula branches on them with Python ``if``; the compiled
  engines make them compile-time constants, so a kernel computes only the shape it needs (one
  kernel per structure and choice);
* optionally, for a schedule made of *segments* (the cycles of a periodic schedule), the formula
  in two parts instead of ``formula``: ``segment(step, *args)`` returns a tuple whose first item
  is the segment's last step (of the step's type, at most 2**63 - 1) and whose other items are
  the same for every step from ``step`` to it (the cycle's index, start, scale);
  ``inside(step, seg, *args)`` computes the value from the step and that tuple. The base class
  writes ``formula`` as ``inside(step, segment(step, *args), *args)``, so every engine evaluates
  the same math; a bulk engine evaluating a range of steps may compute ``segment`` once per run
  of steps in one segment, bit for bit the same results. (A segment may be the step alone.)

The base class does the rest: attribute access, ``get_config``/``from_config``, equality, ``repr``,
``__call__`` (graph engine) and ``evaluate`` (bulk engine). It becomes a
``keras.optimizers.schedules.LearningRateSchedule`` subclass as soon as Keras is imported (see
:mod:`fastlr._keras`), so building a schedule never imports TensorFlow.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

REGISTRY: dict[str, type[Schedule]] = {}
"""Every public schedule class by name; engines, tests and benchmarks iterate over it."""


def register(cls: type[Schedule]) -> type[Schedule]:
    """Class decorator: add ``cls`` to :data:`REGISTRY` (and to Keras's, once Keras is loaded)."""
    REGISTRY[cls.__name__] = cls
    from fastlr import _keras

    _keras.register_if_attached(cls)
    return cls


_STATIC_POSITIONS: dict[type, tuple[int, ...]] = {}


class _Root:
    """Placeholder base, swapped for Keras's ``LearningRateSchedule`` when Keras loads."""


class Schedule(_Root):
    """Base class of all fastlr schedules: a pure function of the integer step."""

    # Parameters that go to ``get_config`` but not to the formula (Keras's ``name``).
    config_only: ClassVar[tuple[str, ...]] = ()
    # Formula parameters that select a shape: compile-time constants of the compiled kernels.
    static: ClassVar[tuple[str, ...]] = ()

    def __init__(self, **params: Any) -> None:
        object.__setattr__(self, "_params", dict(params))

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "inside" in cls.__dict__:
            cls.formula = staticmethod(_segmented_formula(cls.segment, cls.inside))

    # -- immutability ---------------------------------------------------------------------------
    def __getattr__(self, name: str) -> Any:
        params = self.__dict__.get("_params")
        if params is not None and name in params:
            return params[name]
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(
            f"{type(self).__name__} is immutable: build a new schedule instead of setting `{name}`."
        )

    def __delattr__(self, name: str) -> None:
        raise AttributeError(f"{type(self).__name__} is immutable")

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other._params == self._params

    def __hash__(self) -> int:
        return hash((type(self).__name__, repr(self)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    def __reduce__(self):
        return (_rebuild, (type(self), self._params))

    # -- arithmetic -----------------------------------------------------------------------------
    def __mul__(self, factor: Any) -> Any:
        """``schedule * factor``: :class:`fastlr.Scale` (a real ``factor`` only)."""
        import numbers

        if isinstance(factor, bool) or not isinstance(factor, numbers.Real):
            return NotImplemented
        from fastlr.schedules.compose import Scale

        return Scale(self, factor)

    __rmul__ = __mul__

    # -- config ---------------------------------------------------------------------------------
    def get_config(self) -> dict[str, Any]:
        """The constructor arguments (JSON-serializable), as Keras expects."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in self._params.items()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Schedule:
        return cls(**config)

    # -- formula --------------------------------------------------------------------------------
    def phases(self) -> dict[str, int]:
        """First step of each named phase after step 0, in order (for :func:`fastlr.dry_run`).

        ``"peak"``: warmup over, the LR at its maximum; ``"decay"``: the hold is over;
        ``"end"``: the final value is reached and held; periodic schedules name the start of
        their second cycle. Empty for schedules without phases (``Constant``, smooth decays).
        """
        return {}

    @staticmethod
    def formula(step, *args):  # pragma: no cover - abstract
        raise NotImplementedError

    segment: ClassVar[Callable | None] = None
    inside: ClassVar[Callable | None] = None

    def children(self) -> tuple[Schedule, ...]:
        """Child schedules of a composite (none for a plain schedule)."""
        return ()

    def formula_args(self) -> tuple:
        """Arguments passed to :meth:`formula` after ``step`` (default: params in order)."""
        return tuple(v for k, v in self._params.items() if k not in self.config_only)

    @classmethod
    def static_positions(cls) -> tuple[int, ...]:
        """Indices into :meth:`formula_args` of the :attr:`static` parameters (per class, once)."""
        hit = _STATIC_POSITIONS.get(cls)
        if hit is None:
            import inspect

            names = list(inspect.signature(cls.formula).parameters)[1:]  # after `step`
            unknown = set(cls.static) - set(names)
            if unknown:
                raise TypeError(f"{cls.__name__}.static names no formula parameter: {unknown}")
            hit = _STATIC_POSITIONS[cls] = tuple(
                i for i, name in enumerate(names) if name in cls.static
            )
        return hit

    @classmethod
    def bound_formula(cls, ops: Any, wrap: Callable | None = None) -> Callable:
        """The formula bound to an engine namespace (see :func:`fastlr._ops.bind`)."""
        from fastlr._ops import bind

        return bind(cls.formula, ops, wrap)

    # -- evaluation -----------------------------------------------------------------------------
    def __call__(self, step: Any) -> Any:
        """Evaluate as a Keras schedule: a float32 tensor of ``step``'s shape, of the step's
        framework (a TensorFlow, JAX or PyTorch tensor), else of the active Keras backend;
        compilable there (``tf.function``/XLA, ``jax.jit``). See :mod:`fastlr.engines.backends`.

        A Python or NumPy ``step`` must be whole numbers >= 0 and < 2**63 (ints or whole-number
        floats), as for :func:`fastlr.evaluate`: NaN, inf, fractional and negative values raise
        ``ValueError``. A tensor step (``optimizer.iterations``) is mapped totally in the graph:
        floats floored; below 0 (and -inf) -> 0; at or past 2**63 (and +inf) -> 2**63 - 1;
        NaN -> 0 (:mod:`fastlr._steps`)."""
        from fastlr.engines import backends

        return backends.call(self, step)

    def evaluate(
        self,
        steps: Any,
        *,
        dtype: Any = "float32",
        out: Any = None,
        device: str = "cpu",
        to_host: bool = True,
    ) -> Any:
        """Bulk-evaluate; same as ``fastlr.evaluate(self, steps, ...)``."""
        from fastlr.bulk import evaluate

        return evaluate(self, steps, dtype=dtype, out=out, device=device, to_host=to_host)


def _segmented_formula(segment: Callable, inside: Callable) -> Callable:
    """``formula(step, *args) = inside(step, segment(step, *args), *args)``, with the parameters
    of ``segment`` spelled out (compiled engines inline no starred call), marked as formula code
    so that engines re-bind both parts."""
    import inspect

    from fastlr._ops import formula

    names = list(inspect.signature(segment).parameters)
    inside_names = list(inspect.signature(inside).parameters)
    if inside_names[:1] + inside_names[2:] != names:
        raise TypeError(
            f"inside{tuple(inside_names)} must take (step, seg) and then segment's parameters "
            f"{tuple(names[1:])}"
        )
    args = ", ".join(names)
    rest = ", ".join(names[1:])
    source = f"def formula({args}):\n    return inside({names[0]}, segment({args}), {rest})\n"
    scope: dict[str, Any] = {
        "__name__": segment.__module__,
        "segment": formula(segment),
        "inside": formula(inside),
    }
    exec(source, scope)
    return formula(scope["formula"])


def _rebuild(cls: type[Schedule], params: dict[str, Any]) -> Schedule:
    return cls(**params)
