"""Shared test setup: quiet TensorFlow, a fresh Numba cache, accuracy budgets, probe models.

What the tests know about each schedule (examples, parameters, model, reference) is in
``tests/specs``."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# One cache folder per test run, fresh (a stale compiled kernel can never hide a change) and
# shared by the run's processes: pytest-xdist's workers and the fresh-process tests inherit this
# environment from the process that loaded this file first, so each kernel (and each generated
# kernel module) is compiled once per run, then loaded from the cache.
if "FASTLR_TEST_RUN_CACHE" not in os.environ:
    os.environ["FASTLR_TEST_RUN_CACHE"] = tempfile.mkdtemp(prefix="fastlr-test-run-")
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(os.environ["FASTLR_TEST_RUN_CACHE"], "numba")
    os.environ["FASTLR_CACHE_DIR"] = os.path.join(os.environ["FASTLR_TEST_RUN_CACHE"], "kernels")
# device="cuda" runs in Numba's CUDA simulator unless a GPU is present (or FASTLR_REAL_GPU=1);
# it must be set before numba.cuda is first imported.
if os.environ.get("FASTLR_REAL_GPU") != "1" and not os.path.exists("/dev/nvidiactl"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"


def f32_budget(reference, peak: float):
    """One float32 ulp of the (float64) reference, plus ``2**-24 * peak`` for values near zero."""
    import numpy as np

    ref = np.asarray(reference, dtype=np.float64)
    return np.spacing(np.abs(ref).astype(np.float32)).astype(np.float64) + 2.0**-24 * peak


def peak_of(schedule) -> float:
    """The largest value of ``schedule`` over its first 10,000 steps (scale of the abs budget)."""
    import numpy as np

    from fastlr.engines.numpy_ref import reference

    return float(np.max(np.abs(reference(schedule, np.arange(10_000)))))


def assert_within_budget(values, reference, dtype, peak: float) -> None:
    """The bulk engines' accuracy contract against the float64 reference.

    float32: within 1 ulp of the reference plus ``2**-24 * peak`` (for values near zero);
    float64: within 1e-12 relative (plus ``1e-15 * peak`` absolute).
    """
    import numpy as np

    values = np.asarray(values)
    ref = np.asarray(reference, dtype=np.float64)
    assert values.dtype == np.dtype(dtype), (values.dtype, dtype)
    err = np.abs(values.astype(np.float64) - ref)
    if values.dtype == np.float32:
        budget = f32_budget(ref, peak)
    else:
        budget = 1e-12 * np.abs(ref) + 1e-15 * peak
    bad = err > budget
    assert not bad.any(), (
        f"{bad.sum()} values outside the budget; worst at index {int(np.argmax(err - budget))}: "
        f"got {values[bad][:3]}, want {ref[bad][:3]}"
    )


def probe_model(learning_rate, jit_compile=True, steps_per_execution=1):
    """A compiled one-weight model (Dense(1), no bias, zero kernel) with loss ``mean(y_pred)``:
    on inputs of ones the gradient is exactly 1, so SGD's update at step ``t`` is ``lr_t``."""
    import keras

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate),
        loss=lambda y_true, y_pred: keras.ops.mean(y_pred),
        jit_compile=jit_compile,
        steps_per_execution=steps_per_execution,
    )
    return model


def kernel_recorder():
    """A Keras callback recording a one-weight probe model's kernel before training and after
    every batch. With loss ``mean(y_pred)`` on inputs of ones the gradient is exactly 1, so the
    per-step decreases (``applied()``) are the learning rates the compiled graph applied."""
    import keras
    import numpy as np

    class KernelRecorder(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.kernels = []

        def on_train_begin(self, logs=None):
            self.kernels.append(float(self.model.layers[0].kernel.numpy()[0, 0]))

        def on_train_batch_end(self, batch, logs=None):
            self.kernels.append(float(self.model.layers[0].kernel.numpy()[0, 0]))

        def applied(self):
            return -np.diff(np.asarray(self.kernels, dtype=np.float64))

    return KernelRecorder()


def run_fresh_python(script: str, *args: str, env: dict | None = None) -> object:
    """Run ``script`` in a fresh interpreter (quiet TF) and return the JSON it printed on a line
    starting with ``RESULT``; fails the test with the child's stderr if it exits non-zero."""
    import json
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", script, *args],
        capture_output=True,
        text=True,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **(env or {})},
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-4000:]
    line = next(x for x in proc.stdout.splitlines() if x.startswith("RESULT"))
    return json.loads(line[len("RESULT") :])
