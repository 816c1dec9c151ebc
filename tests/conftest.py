"""Shared test setup: quiet TensorFlow, a fresh Numba cache, the catalogue's example parameters."""

from __future__ import annotations

import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# A per-session cache dir: a stale compiled kernel can never hide a change.
os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastlr-numba-cache-")
# Generated kernel modules too: every test session compiles from the current sources.
os.environ["FASTLR_CACHE_DIR"] = tempfile.mkdtemp(prefix="fastlr-kernels-")
# device="cuda" runs in Numba's CUDA simulator unless a GPU is present (or FASTLR_REAL_GPU=1);
# it must be set before numba.cuda is first imported.
if os.environ.get("FASTLR_REAL_GPU") != "1" and not os.path.exists("/dev/nvidiactl"):
    os.environ["NUMBA_ENABLE_CUDASIM"] = "1"

import pytest

# Representative, valid parameters for every registered schedule (used across test modules).
EXAMPLES: dict[str, list[dict]] = {
    "Constant": [dict(learning_rate=0.01), dict(learning_rate=3)],
    "ExponentialDecay": [
        dict(initial_learning_rate=0.1, decay_steps=100, decay_rate=0.5),
        dict(initial_learning_rate=0.1, decay_steps=7, decay_rate=0.9, staircase=True),
    ],
    "InverseTimeDecay": [
        dict(initial_learning_rate=0.1, decay_steps=10, decay_rate=1.0),
        dict(initial_learning_rate=0.1, decay_steps=3, decay_rate=0.5, staircase=True),
    ],
    "PolynomialDecay": [
        dict(initial_learning_rate=0.1, decay_steps=100),
        dict(
            initial_learning_rate=0.1, decay_steps=7, end_learning_rate=0.01, power=2.0, cycle=True
        ),
    ],
    "PiecewiseConstantDecay": [
        dict(boundaries=[100, 200], values=[0.1, 0.01, 0.001]),
        dict(boundaries=[5], values=[1.0, 0.5]),
    ],
    "CosineDecay": [
        dict(initial_learning_rate=0.1, decay_steps=100),
        dict(
            initial_learning_rate=0.0,
            decay_steps=100,
            alpha=0.1,
            warmup_target=0.1,
            warmup_steps=10,
        ),
    ],
    "CosineDecayRestarts": [
        dict(initial_learning_rate=1.0, first_decay_steps=2, t_mul=1.0),
        dict(initial_learning_rate=1.0, first_decay_steps=7, t_mul=1.5, m_mul=0.9, alpha=0.1),
        dict(initial_learning_rate=0.1, first_decay_steps=10),
    ],
    "WarmupCosineDecay": [
        dict(
            target_lr=0.1,
            total_steps=100,
            warmup_steps=10,
            hold_steps=5,
            start_lr=0.01,
            min_lr=0.001,
        ),
        dict(target_lr=1.0, total_steps=1000),
    ],
    "WarmupCosineRestarts": [
        dict(
            max_lr=1.0, first_cycle_steps=10, cycle_mult=2.0, warmup_steps=3, min_lr=0.1, gamma=0.8
        ),
        dict(max_lr=0.5, first_cycle_steps=7, warmup_steps=2, scale_warmup=False),
        dict(max_lr=1.0, first_cycle_steps=4, cycle_mult=1.5, warmup_steps=1),
    ],
    "CyclicalLearningRate": [
        dict(initial_learning_rate=0.1, maximal_learning_rate=1.0, step_size=4),
        dict(
            initial_learning_rate=0.1,
            maximal_learning_rate=1.0,
            step_size=4,
            mode="triangular2",
            step_size_down=6,
        ),
        dict(
            initial_learning_rate=0.1,
            maximal_learning_rate=1.0,
            step_size=5,
            mode="exp_range",
            gamma=0.99,
        ),
    ],
    "OneCycle": [
        dict(max_lr=1.0, total_steps=100),
        dict(
            max_lr=0.5, total_steps=37, pct_start=0.25, three_phase=True, anneal_strategy="linear"
        ),
    ],
    "WarmupStableDecay": [
        dict(peak_lr=1.0, total_steps=100, warmup_steps=10, decay_steps=20),
        dict(
            peak_lr=1.0,
            total_steps=100,
            warmup_steps=0,
            decay_steps=30,
            min_lr=0.1,
            decay_type="cosine",
        ),
        dict(
            peak_lr=0.5,
            total_steps=50,
            warmup_steps=5,
            decay_steps=10,
            min_lr=0.05,
            start_lr=0.05,
            decay_type="1-sqrt",
        ),
    ],
    "InverseSqrtDecay": [
        dict(peak_lr=1.0, warmup_steps=100),
        dict(peak_lr=0.5, warmup_steps=0),
        dict(peak_lr=0.5, warmup_steps=10, timescale=40),
    ],
    "ExponentialRange": [
        dict(start_lr=1e-4, end_lr=1.0, num_steps=50),
        dict(start_lr=1.0, end_lr=1e-3, num_steps=7),
    ],
    # Composites: children are built from the entries above (see ``_build``).
    "Warmup": [
        dict(schedule=("CosineDecay", 0), warmup_steps=10, start_lr=0.001),
        dict(schedule=("WarmupCosineRestarts", 2), warmup_steps=7),
    ],
    "Sequential": [
        dict(
            schedules=[("Constant", 0), ("CosineDecay", 0), ("Constant", 1)], boundaries=[10, 110]
        ),
        dict(
            schedules=[("Warmup", 0), ("Offset", 0)],
            boundaries=[60],
        ),
    ],
    "Offset": [
        dict(schedule=("WarmupCosineDecay", 0), offset=10),
        dict(schedule=("CyclicalLearningRate", 1), offset=2**40 + 3),
    ],
    "Scale": [
        dict(schedule=("CosineDecayRestarts", 0), factor=0.1),
        dict(schedule=("Sequential", 1), factor=3.0),
    ],
    "Table": [
        dict(values=[0.1, 0.05, 0.02]),
        dict(values=[1e-3 * (1 + (i % 7)) for i in range(50)]),
    ],
}


def _build(value):
    """Turn ``(name, index)`` references in EXAMPLES into schedules (recursively)."""
    from fastlr.schedules import REGISTRY

    if isinstance(value, tuple) and len(value) == 2 and value[0] in EXAMPLES:
        name, i = value
        return REGISTRY[name](**{k: _build(x) for k, x in EXAMPLES[name][i].items()})
    if isinstance(value, list):
        return [_build(x) for x in value]
    return value


def example_kwargs(name: str, i: int) -> dict:
    """Constructor kwargs of ``EXAMPLES[name][i]`` with child references built into schedules."""
    return {k: _build(x) for k, x in EXAMPLES[name][i].items()}


def build_example(name: str, i: int):
    """The schedule of ``EXAMPLES[name][i]``, children built."""
    return _build((name, i))


def example_schedules():
    """``(id, schedule)`` pairs for every registry entry and example parameter set."""
    from fastlr.schedules import REGISTRY

    missing = set(REGISTRY) - set(EXAMPLES)
    assert not missing, f"add examples for {sorted(missing)}"
    return [
        pytest.param(build_example(name, i), id=f"{name}-{i}")
        for name, kws in EXAMPLES.items()
        for i in range(len(kws))
    ]


# Steps where exactness is most at risk: 0, float32's integer limit, int32's, large, int64 floats'.
LARGE_STEPS = [2**24 - 1, 2**24, 2**24 + 1, 2**31 - 1, 2**31 + 7, 10**9 + 3, 10**12 + 1, 2**53 - 1]


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
