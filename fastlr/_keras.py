"""Make fastlr schedules Keras ``LearningRateSchedule``s without importing Keras up front.

``import fastlr`` must stay light (Keras + TensorFlow take seconds to import), yet Keras optimizers
check ``isinstance(lr, LearningRateSchedule)`` and ``load_model`` finds classes by their registered
name (``fastlr>WarmupCosineDecay``). So:

* the schedule base class starts on a placeholder base and is re-based onto Keras's
  ``LearningRateSchedule`` by :func:`attach` (existing instances follow their class);
* every registered class is registered with Keras at the same moment;
* :func:`install` runs :func:`attach` right away if Keras is already imported, and otherwise
  installs an import hook that runs it as soon as ``import keras`` completes, wherever that import
  comes from (user code, ``tensorflow.keras``, or fastlr's own graph engine).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
import threading

_attached = False
_lock = threading.RLock()


def attach() -> None:
    """Re-base :class:`~fastlr.schedules._base.Schedule` on Keras and register all schedules."""
    global _attached
    with _lock:
        if _attached:
            return
        from keras.optimizers.schedules import LearningRateSchedule

        from fastlr.schedules import _base

        if _base.Schedule.__bases__ != (LearningRateSchedule,):
            _base.Schedule.__bases__ = (LearningRateSchedule,)
        _attached = True
        for cls in list(_base.REGISTRY.values()):
            register_if_attached(cls)
        # The plateau wrapper (a stateful Keras schedule, not in the registry), the optimizers
        # with scheduled hyperparameters and the per-layer groups' map register themselves on
        # import, so that a saved model that uses them loads after `import fastlr`. (Modules
        # that import only Keras and the schedules: any of them may be the one importing Keras.)
        import fastlr.optimizers
        import fastlr.per_layer
        import fastlr.plateau  # noqa: F401


def register_if_attached(cls: type) -> None:
    """Register ``cls`` as ``fastlr>Name`` with Keras if Keras is attached (else later)."""
    if not _attached:
        return
    import keras

    keras.saving.register_keras_serializable(package="fastlr", name=cls.__name__)(cls)


class _AfterKerasImport(importlib.abc.MetaPathFinder):
    """Wrap Keras's loader so :func:`attach` runs once ``keras/__init__`` has finished."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            spec = finder.find_spec(fullname, path, target)
            if spec is not None and spec.loader is not None:
                spec.loader = _AttachingLoader(spec.loader)
                return spec
        return None


class _AttachingLoader(importlib.abc.Loader):
    def __init__(self, inner):
        self._inner = inner

    def create_module(self, spec):
        return self._inner.create_module(spec)

    def exec_module(self, module):
        self._inner.exec_module(module)
        _remove_hook()
        attach()

    def __getattr__(self, name):  # resource readers etc.
        return getattr(self._inner, name)


_hook: _AfterKerasImport | None = None


def _remove_hook() -> None:
    global _hook
    if _hook is not None and _hook in sys.meta_path:
        sys.meta_path.remove(_hook)
    _hook = None


def install() -> None:
    """Attach now if Keras is loaded, else when it is imported."""
    global _hook
    keras_mod = sys.modules.get("keras")
    if keras_mod is not None and hasattr(keras_mod, "optimizers"):
        attach()
    elif _hook is None and not _attached:
        _hook = _AfterKerasImport()
        sys.meta_path.insert(0, _hook)
