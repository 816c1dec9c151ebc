"""Which engine runs a schedule called as a Keras schedule: the one of the step's framework.

A step that is already a tensor of TensorFlow, JAX or PyTorch is evaluated with that framework's
ops (:mod:`fastlr.engines.graph`, :mod:`fastlr.engines.jax_ops`,
:mod:`fastlr.engines.torch_ops`), so the value lives where the step does and compiles with it
(``tf.function``/XLA, ``jax.jit``, PyTorch eager). Any other step (a Python or NumPy number, a
Keras variable such as ``optimizer.iterations``) goes to the active Keras backend's engine. All
three run the same formulas, with int64 phases and float64 math, and return float32.
"""

from __future__ import annotations

import sys
from typing import Any

SUPPORTED = ("tensorflow", "jax", "torch")
"""Keras backends fastlr schedules run on."""


def _framework_of(step: Any) -> str | None:
    """The framework whose tensor ``step`` is, looking only at frameworks already imported."""
    tf = sys.modules.get("tensorflow")
    if tf is not None and isinstance(step, (tf.Tensor, tf.Variable)):
        return "tensorflow"
    jax = sys.modules.get("jax")
    if jax is not None and isinstance(step, jax.Array):
        return "jax"
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(step, torch.Tensor):
        return "torch"
    return None


def active_backend() -> str:
    """The active Keras backend (imports Keras)."""
    import keras

    return keras.backend.backend()


def engine_name(step: Any) -> str:
    """The engine for ``step``: its tensor's framework, else the active Keras backend.

    Raises:
        ValueError: the active Keras backend is not one fastlr runs on.
    """
    name = _framework_of(step)
    if name is not None:
        return name
    name = active_backend()
    if name not in SUPPORTED:
        raise ValueError(
            "fastlr schedules run on Keras's TensorFlow, JAX and PyTorch backends; the active "
            f"Keras backend is {name!r} (set KERAS_BACKEND to one of {', '.join(SUPPORTED)}). "
            "fastlr.evaluate computes values without any backend."
        )
    return name


def _is_variable(step: Any) -> bool:
    """A Keras variable (``optimizer.iterations``): read in the compiled step like a tensor."""
    return hasattr(step, "value") and hasattr(step, "assign") and hasattr(step, "dtype")


def call(schedule: Any, step: Any) -> Any:
    """``schedule(step)`` as a float32 tensor of the engine's framework, ``step``'s shape.

    A host ``step`` (a Python or NumPy number, list or array) must be a valid step
    (:func:`fastlr._steps.check`, the rule of ``fastlr.evaluate``: whole numbers >= 0 and
    < 2**63): NaN, inf, fractional and negative values raise a ``ValueError`` naming ``step``.
    A tensor or Keras variable is mapped totally inside the graph
    (:data:`fastlr._steps.GRAPH_MAPPING`), where nothing can raise per step.
    """
    name = engine_name(step)
    if _framework_of(step) is None and not _is_variable(step):
        from fastlr import _steps

        step = _steps.check("step", step)
    if _is_variable(step) and name != "tensorflow":
        step = step.value  # a Keras variable: its backend tensor (traced inside a compiled step)
    if name == "jax":
        from fastlr.engines import jax_ops

        return jax_ops.call(schedule, step)
    if name == "torch":
        from fastlr.engines import torch_ops

        return torch_ops.call(schedule, step)
    from fastlr.engines import graph

    return graph.call(schedule, step)
