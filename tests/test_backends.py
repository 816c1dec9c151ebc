"""fastlr schedules on every Keras 3 backend: TensorFlow, JAX and PyTorch.

Keras picks its backend once per process, so each backend runs ``tests/backend_probe.py`` in a
fresh process (``KERAS_BACKEND=...``); the probe trains a one-weight model whose weight after each
step tells the learning rate the compiled train step applied, bit for bit (see the probe's doc).
The JAX and PyTorch engines' values themselves are checked where every engine's are:
``tests/test_vocabulary.py``, ``tests/test_int64_steps.py`` and ``tests/test_reference.py``.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from backend_probe import (
    MOMENTUM,
    OPTIMIZERS,
    PLATEAU_EPOCHS,
    TORCH_COMPILED,
    plateau_schedule,
    schedules,
)

import fastlr

BACKENDS = ("tensorflow", "jax", "torch")
PROBE = Path(__file__).with_name("backend_probe.py")


@pytest.fixture(scope="module", params=BACKENDS)
def probe(request, tmp_path_factory) -> dict:
    """The probe's report for one backend (one fresh process per backend)."""
    backend = request.param
    env = dict(
        os.environ,
        KERAS_BACKEND=backend,
        TF_CPP_MIN_LOG_LEVEL="3",
        NUMBA_CACHE_DIR=str(tmp_path_factory.mktemp("numba")),
        PYTHONPATH=os.pathsep.join([str(PROBE.parents[1]), os.environ.get("PYTHONPATH", "")]),
    )
    run = subprocess.run(
        [sys.executable, str(PROBE)], env=env, capture_output=True, text=True, timeout=900
    )
    lines = [ln for ln in run.stdout.splitlines() if ln.startswith("PROBE-JSON ")]
    assert run.returncode == 0 and lines, run.stderr[-4000:]
    report = json.loads(lines[-1][len("PROBE-JSON ") :])
    assert report["backend"] == backend
    return report


def _result(report: dict, check: str):
    entry = report["checks"][check]
    assert entry["ok"], f"{report['backend']} {check}: {entry['error']}\n{entry['traceback']}"
    return entry["result"]


def test_a_call_returns_the_backends_float32_tensor(probe):
    got = _result(probe, "call")
    native = {"tensorflow": "EagerTensor", "jax": "ArrayImpl", "torch": "Tensor"}
    assert got["type"].endswith(native[probe["backend"]]), got["type"]
    assert got["dtype"] == "float32" and got["shape"] == [2, 2]
    assert got["values"] == got["want"]


@pytest.mark.parametrize("check", ["fit_default", "fit_jit"])
def test_the_compiled_train_step_applies_the_schedule_bit_for_bit(probe, check):
    got = _result(probe, check)
    compiled_torch = probe["backend"] == "torch" and check == "fit_jit"
    assert set(got) == set(TORCH_COMPILED if compiled_torch else schedules())
    for name, row in got.items():
        assert row["got"] == row["want"], (probe["backend"], check, name)


def test_every_optimizer_takes_a_schedule(probe):
    got = _result(probe, "optimizers")
    assert set(got) == set(OPTIMIZERS)
    for name, row in got.items():
        assert row["finite"], (probe["backend"], name)
        assert np.float32(row["lr"]) == np.float32(row["want"]), (probe["backend"], name)


def test_save_and_load_without_custom_objects(probe):
    got = _result(probe, "save_load")
    assert got == {"class": "Sequential", "same_config": True, "iterations": 2}


def test_logger_and_history_give_the_applied_learning_rates(probe):
    got = _result(probe, "logger_history")
    assert got["logged"] == got["want_logged"]
    assert got["history"] == got["want_history"]


def expected_plateau_run() -> dict:
    """What the probe's plateau run must apply, from Keras's plateau rule (patience 1, the loss
    never improving: a reduction at every epoch end from the second on while the next LR is
    above ``min_lr``) and fastlr's: ``max(lr * scale, min(lr, min_lr))`` in float32."""
    base = fastlr.evaluate(plateau_schedule(), PLATEAU_EPOCHS + 1)
    min_lr = np.float32(0.01)

    def applied(step, scale):
        return max(np.float32(base[step] * np.float32(scale)), min(base[step], min_lr))

    scale, w = 1.0, np.float32(0.0)
    weights, history, changes = [], [], []
    for step in range(PLATEAU_EPOCHS):  # one step per epoch
        history.append(float(applied(step, scale)))
        w = np.float32(w - applied(step, scale))
        weights.append(float(w))
        if step >= 1 and applied(step + 1, scale) > min_lr:
            scale *= 0.5
            changes.append([step + 1, scale])
    after_load = float(np.float32(w - applied(PLATEAU_EPOCHS, scale)))
    return {
        "weights": weights,
        "history": history,
        "changes": changes,
        "scale": scale,
        "after_load": after_load,
    }


@pytest.mark.parametrize("check", ["plateau_default", "plateau_jit"])
def test_plateau_scales_a_schedule_in_the_compiled_step_without_a_retrace(probe, check):
    got, want = _result(probe, check), expected_plateau_run()
    assert len(want["changes"]) >= 2  # the run reduces, and reaches min_lr
    assert got["weights"] == want["weights"]
    assert got["history"] == want["history"]
    assert got["changes"] == want["changes"] and got["scale"] == want["scale"]
    if probe["backend"] != "torch":  # traced once, in the first epoch (PyTorch runs eagerly
        # or under torch.compile's guards, which Python cannot count this way)
        assert got["traced_in_epoch"][0] >= 1 and sum(got["traced_in_epoch"][1:]) == 0
    # a weights file loads into a model with the plateau callback (the state too) and into one
    # without it: the optimizer's own saved variables are the same with and without the callback
    assert got["weights_file"] == {
        "changes": want["changes"],
        "iterations": [PLATEAU_EPOCHS, PLATEAU_EPOCHS],
        "weights_equal": [True, True],
    }
    # saved and loaded: the state, the optimizer's own variables (iterations) and one more step
    assert got["loaded"] == {
        "class": "ScaledLearningRate",
        "changes": want["changes"],
        "iterations": PLATEAU_EPOCHS + 1,
        "weight": want["after_load"],
    }


def test_find_lr_runs_and_restores_the_model(probe):
    got = _result(probe, "find_lr")
    assert got["steps"] == 20 and got["suggestion"] > 0
    assert got["restored"] and got["iterations_restored"]


def test_dry_run_reports_the_problem(probe):
    got = _result(probe, "dry_run")  # phases past the run's end
    assert not got["ok"] and got["problems"] >= 1


def test_the_readme_quick_example_runs_unchanged(probe):
    assert _result(probe, "quick_example") == {"blocks": 3, "failed": []}


def test_scheduled_momentum_and_accumulation(probe):
    got = _result(probe, "scheduled_momentum")
    # SGD with gradient 1: v = m_t v - lr, w += v (float32 ops)
    v, w, want = np.float32(0), np.float32(0), []
    for m in MOMENTUM.values:
        v = np.float32(np.float32(np.float32(m) * v) - np.float32(0.1))
        w = np.float32(w + v)
        want.append(float(w))
    np.testing.assert_allclose(got["momentum"], want, rtol=1e-6, atol=1e-7)
    # one update per two micro-batches, at the schedule's value of the optimizer step
    applied = -np.diff([0.0, *got["accumulation"]])
    np.testing.assert_allclose(applied[1::2], got["accumulation_lrs"], rtol=1e-6, atol=1e-8)
    assert np.all(applied[0::2] == 0.0)


def test_discriminative_groups(probe):
    got = _result(probe, "discriminative")
    assert got["weights"] == got["want"]
    np.testing.assert_array_equal(np.float32(got["logged"]), np.float32(got["want_logged"]))
    assert list(got["history"]) == ["group0"]
    np.testing.assert_array_equal(got["history"]["group0"], got["want_history"])


def test_other_backends_do_not_import_tensorflow(probe):
    # measured after `import fastlr`, `import keras` and a schedule call (on TensorFlow the
    # same probe must see it imported: the check itself works)
    assert probe["tensorflow_imported"] == (probe["backend"] == "tensorflow")


def test_a_backend_fastlr_does_not_run_on_is_named_at_the_first_call(tmp_path):
    code = (
        "import fastlr, keras\n"
        "try:\n"
        "    fastlr.Constant(0.1)(3)\n"
        "except ValueError as e:\n"
        "    print('ERROR', e)\n"
    )
    env = dict(os.environ, KERAS_BACKEND="numpy", TF_CPP_MIN_LOG_LEVEL="3")
    run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    line = next(ln for ln in run.stdout.splitlines() if ln.startswith("ERROR"))
    assert "the active Keras backend is 'numpy'" in line and "KERAS_BACKEND" in line
