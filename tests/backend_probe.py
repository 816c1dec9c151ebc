"""Run fastlr schedules in Keras training on the backend named by ``KERAS_BACKEND``; print JSON.

Run by ``tests/test_backends.py`` in a fresh process per backend (Keras picks its backend once per
process). Each check returns what it saw; the test compares it with what fastlr promises.

The probe model has one weight ``w`` (a bias-free ``Dense(1)`` on the input 1.0) and the loss
``|w - y|`` with ``y`` far below, so the gradient is exactly 1 and plain SGD moves ``w`` by minus
that step's learning rate, rounded to float32: the weight after each step tells the learning rate
the compiled train step applied, bit for bit.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import traceback

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np

import fastlr

STEPS = 12


def schedules() -> dict[str, fastlr.Schedule]:
    """Plain schedules over the vocabulary's corners, and a composite."""
    return {
        "WarmupCosineDecay": fastlr.WarmupCosineDecay(0.1, STEPS, warmup_steps=3, min_lr=1e-3),
        "CosineDecayRestarts": fastlr.CosineDecayRestarts(0.1, 2),  # doubling cycles: int64 bits
        "WarmupCosineRestarts x1.5": fastlr.WarmupCosineRestarts(
            0.1, 3, cycle_mult=1.5, warmup_steps=1, gamma=0.5
        ),
        "PiecewiseConstantDecay": fastlr.PiecewiseConstantDecay([3, 7], [0.1, 0.05, 0.01]),
        "CyclicalLearningRate": fastlr.CyclicalLearningRate(
            0.01, 0.1, step_size=2, mode="triangular2"
        ),
        "ExponentialDecay": fastlr.ExponentialDecay(0.1, 5, 0.5),
        "PolynomialDecay cycle": fastlr.PolynomialDecay(0.1, 5, power=0.5, cycle=True),
        "Sequential": fastlr.Sequential(
            [fastlr.Warmup(fastlr.CosineDecay(0.1, 6), 3), fastlr.Constant(0.02)], [9]
        ),
    }


def expected_weights(schedule, steps: int) -> list[float]:
    """The probe weight after each step: ``w <- float32(w - lr_t)`` from 0."""
    lrs = fastlr.evaluate(schedule, steps)
    w = np.float32(0.0)
    out = []
    for lr in lrs:
        w = np.float32(w - lr)
        out.append(float(w))
    return out


def probe_model(keras, optimizer, jit_compile):
    inputs = keras.Input((1,))
    outputs = keras.layers.Dense(1, use_bias=False, kernel_initializer="zeros")(inputs)
    model = keras.Model(inputs, outputs)
    model.compile(
        optimizer=optimizer,
        loss="mean_absolute_error",  # y far below w: the gradient is exactly 1
        jit_compile=jit_compile,
    )
    return model


X = np.ones((1, 1), np.float32)
Y = np.full((1, 1), -1000.0, np.float32)


def fit_weights(keras, optimizer, jit_compile, steps: int) -> list[float]:
    """Train the probe model ``steps`` steps (one per epoch); the weight after each."""
    model = probe_model(keras, optimizer, jit_compile)
    seen: list[float] = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(self.model.get_weights()[0].reshape(-1)[0]))

    model.fit(X, Y, epochs=steps, verbose=0, callbacks=[Record()])
    return seen


def check_call(keras) -> dict:
    s = fastlr.WarmupCosineDecay(0.1, 100, warmup_steps=10)
    y = s(np.arange(4).reshape(2, 2))
    return {
        "type": f"{type(y).__module__}.{type(y).__name__}",
        "dtype": str(keras.ops.convert_to_numpy(y).dtype),
        "shape": list(keras.ops.shape(y)),
        "values": keras.ops.convert_to_numpy(y).tolist(),
        "want": fastlr.evaluate(s, [0, 1, 2, 3]).reshape(2, 2).tolist(),
    }


TORCH_COMPILED = ("CosineDecayRestarts", "Sequential")
"""Under ``torch.compile`` (``jit_compile=True`` on PyTorch) each new model compiles its train
step for ~10 s here: two schedules (int64 bit operations, a composite) keep the run short."""


def check_fit(keras, jit_compile) -> dict:
    out = {}
    compiled_torch = jit_compile is True and keras.backend.backend() == "torch"
    for name, s in schedules().items():
        if compiled_torch:
            if name not in TORCH_COMPILED:
                continue
            import torch

            torch._dynamo.reset()  # a fresh cache per model (else the recompile limit is hit)
        got = fit_weights(keras, keras.optimizers.SGD(learning_rate=s), jit_compile, STEPS)
        out[name] = {"got": got, "want": expected_weights(s, STEPS)}
    return out


OPTIMIZERS = ("SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Nadam", "Lion", "Adafactor")


def check_optimizers(keras) -> dict:
    """Each optimizer trains 3 steps with a schedule; its learning rate is then the schedule's."""
    out = {}
    for name in OPTIMIZERS:
        s = fastlr.WarmupCosineDecay(0.1, 10, warmup_steps=2)
        opt = getattr(keras.optimizers, name)(learning_rate=s)
        weights = fit_weights(keras, opt, "auto", 3)
        lr = float(keras.ops.convert_to_numpy(opt.learning_rate))
        out[name] = {
            "finite": bool(np.all(np.isfinite(weights))) and weights[-1] != 0.0,
            "lr": lr,
            "want": float(fastlr.evaluate(s, [3])[0]),
        }
    return out


def check_save_load(keras) -> dict:
    s = fastlr.Sequential(
        [fastlr.Warmup(fastlr.CosineDecay(0.1, 6), 3), fastlr.Constant(0.02)], [9]
    )
    model = probe_model(keras, keras.optimizers.SGD(learning_rate=s), "auto")
    model.fit(X, Y, epochs=2, verbose=0)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "probe.keras")
        model.save(path)
        loaded = keras.models.load_model(path, compile=True)
    lr = loaded.optimizer._learning_rate
    return {
        "class": type(lr).__name__,
        "same_config": lr.get_config() == s.get_config(),
        "iterations": int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)),
    }


def check_logger_and_history(keras) -> dict:
    """``LearningRateLogger`` logs the LR at each epoch end; ``learning_rate_history`` after."""
    s = fastlr.WarmupCosineDecay(0.1, STEPS, warmup_steps=3, min_lr=1e-3)
    model = probe_model(keras, keras.optimizers.SGD(learning_rate=s), "auto")
    history = model.fit(X, Y, epochs=4, verbose=0, callbacks=[fastlr.LearningRateLogger()])
    return {
        "logged": [float(x) for x in history.history["learning_rate"]],
        "want_logged": fastlr.evaluate(s, [1, 2, 3, 4]).tolist(),
        "history": fastlr.learning_rate_history(model).tolist(),
        "want_history": fastlr.evaluate(s, 4).tolist(),
    }


PLATEAU_EPOCHS = 7


def plateau_schedule() -> fastlr.Schedule:
    return fastlr.WarmupCosineDecay(0.1, PLATEAU_EPOCHS, warmup_steps=2, min_lr=1e-3)


def check_plateau(keras, jit_compile) -> dict:
    """A schedule under ``fastlr.ReduceLROnPlateau``: the weight after each one-step epoch (so
    the LR the compiled step applied), the traces of the wrapped LR per epoch, the history, and
    the state after a ``.keras`` round trip."""
    if jit_compile is True and keras.backend.backend() == "torch":
        import torch

        torch._dynamo.reset()
    ScaledLearningRate = fastlr.ScaledLearningRate
    traced_in_epoch: list[int] = []
    plain_call = ScaledLearningRate.__call__

    def counting_call(self, step):
        lr = plain_call(self, step)
        if any(word in type(lr).__name__ for word in ("Tracer", "Symbolic")):  # JAX, TF
            traced_in_epoch[-1] += 1  # a trace of the compiled step
        return lr

    model = probe_model(keras, keras.optimizers.SGD(learning_rate=plateau_schedule()), jit_compile)
    seen: list[float] = []

    class Record(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            traced_in_epoch.append(0)

        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(self.model.get_weights()[0].reshape(-1)[0]))

    # the loss never improves by min_delta: a reduction at every epoch end from the second on,
    # until the LR is at min_lr
    plateau = fastlr.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, min_delta=1e9, min_lr=0.01
    )
    ScaledLearningRate.__call__ = counting_call
    try:
        model.fit(X, Y, epochs=PLATEAU_EPOCHS, verbose=0, callbacks=[plateau, Record()])
    finally:
        ScaledLearningRate.__call__ = plain_call
    lr = model.optimizer._learning_rate
    out = {
        "weights": seen,
        "traced_in_epoch": traced_in_epoch,
        "history": fastlr.learning_rate_history(model).tolist(),
        "changes": lr.changes,
        "scale": float(keras.ops.convert_to_numpy(lr.scale)),
    }
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "plateau.keras")
        model.save(path)
        loaded = keras.models.load_model(path)
        # one more epoch of the loaded model, under a new plateau callback
        again = fastlr.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.01)
        loaded.fit(X, Y, epochs=1, verbose=0, callbacks=[again])
        # weight files, both ways between a model with and one without the plateau callback
        model.save_weights(os.path.join(tmp, "plateau.weights.h5"))
        fresh = probe_model(keras, keras.optimizers.SGD(plateau_schedule()), jit_compile)
        fresh.optimizer.build(fresh.trainable_variables)
        fastlr.ReduceLROnPlateau(monitor="loss").set_model(fresh)
        fresh.load_weights(os.path.join(tmp, "plateau.weights.h5"))
        plain = probe_model(keras, keras.optimizers.SGD(plateau_schedule()), jit_compile)
        plain.optimizer.build(plain.trainable_variables)
        plain.load_weights(os.path.join(tmp, "plateau.weights.h5"))
    numpy = keras.ops.convert_to_numpy
    out["weights_file"] = {
        "changes": fresh.optimizer._learning_rate.changes,
        "iterations": [int(numpy(m.optimizer.iterations)) for m in (fresh, plain)],
        "weights_equal": [
            numpy(m.get_weights()[0]).tolist() == numpy(model.get_weights()[0]).tolist()
            for m in (fresh, plain)
        ],
    }
    loaded_lr = loaded.optimizer._learning_rate
    out["loaded"] = {
        "class": type(loaded_lr).__name__,
        "changes": loaded_lr.changes,
        "iterations": int(keras.ops.convert_to_numpy(loaded.optimizer.iterations)),
        "weight": float(loaded.get_weights()[0].reshape(-1)[0]),
    }
    return out


def check_find_lr(keras) -> dict:
    """The range test runs through the compiled step and restores the weights bit for bit."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x @ np.array([[1.0], [-2.0], [0.5]], np.float32)).astype(np.float32)
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(), loss="mse")
    model.fit(x, y, epochs=1, verbose=0)
    before = [w.copy() for w in model.get_weights()]
    iterations = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
    result = fastlr.find_lr(model, x, y, batch_size=16, num_steps=20)
    after = model.get_weights()
    return {
        "steps": len(result.learning_rates),
        "suggestion": float(result.suggestion),
        "restored": all(np.array_equal(a, b) for a, b in zip(before, after, strict=True)),
        "iterations_restored": iterations
        == int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
    }


def check_dry_run(keras) -> dict:
    # a warmup longer than the planned run: one problem
    report = fastlr.dry_run(fastlr.WarmupCosineDecay(0.1, 1000, warmup_steps=200), 100)
    return {"ok": report.ok, "problems": len(report.problems)}


def check_quick_example(keras) -> dict:
    """The README's quick example runs unchanged on this backend (its Keras block included: a
    schedule as an optimizer's learning rate, compiled with ``jit_compile=True``)."""
    from readme import python_blocks, run_blocks

    blocks = python_blocks("Quick example")
    return {"blocks": len(blocks), "failed": run_blocks(blocks)}


MOMENTUM = fastlr.Table([0.9, 0.5, 0.0, 0.8, 0.95, 0.3])


def check_scheduled_momentum(keras) -> dict:
    """``fastlr.optimizers.SGD`` with a scheduled momentum, and with gradient accumulation."""
    lr = fastlr.Constant(0.1)
    opt = fastlr.optimizers.SGD(lr, momentum=MOMENTUM)
    momentum = fit_weights(keras, opt, "auto", len(MOMENTUM.values))
    s = fastlr.WarmupCosineDecay(0.1, 10, warmup_steps=2)
    accumulating = fastlr.optimizers.SGD(s, gradient_accumulation_steps=2)
    return {
        "momentum": momentum,
        "accumulation": fit_weights(keras, accumulating, "auto", 8),
        "accumulation_lrs": fastlr.evaluate(s, 4).tolist(),
    }


def check_discriminative(keras) -> dict:
    """One group at half the head's schedule: the applied LRs, the logger key, the history."""
    s = fastlr.WarmupCosineDecay(0.1, STEPS, warmup_steps=3)
    model = probe_model(keras, keras.optimizers.SGD(s), "auto")
    opt = fastlr.discriminative(keras.optimizers.SGD(s), [model.layers[-1]], factors=[0.5])
    model.compile(optimizer=opt, loss="mean_absolute_error")
    seen: list[float] = []

    class Record(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            seen.append(float(self.model.get_weights()[0].reshape(-1)[0]))

    history = model.fit(
        X, Y, epochs=4, verbose=0, callbacks=[fastlr.LearningRateLogger(), Record()]
    ).history
    return {
        "weights": seen,
        "want": expected_weights(s * 0.5, 4),
        "logged": history.get("learning_rate_group0"),
        "want_logged": fastlr.evaluate(s * 0.5, [1, 2, 3, 4]).tolist(),
        "history": {k: v.tolist() for k, v in fastlr.learning_rate_history(model).items()},
        "want_history": fastlr.evaluate(s * 0.5, 4).tolist(),
    }


CHECKS = {
    "call": check_call,
    "fit_default": lambda keras: check_fit(keras, "auto"),
    "fit_jit": lambda keras: check_fit(keras, True),
    "optimizers": check_optimizers,
    "save_load": check_save_load,
    "logger_history": check_logger_and_history,
    "plateau_default": lambda keras: check_plateau(keras, "auto"),
    "plateau_jit": lambda keras: check_plateau(keras, True),
    "find_lr": check_find_lr,
    "dry_run": check_dry_run,
    "quick_example": check_quick_example,
    "scheduled_momentum": check_scheduled_momentum,
    "discriminative": check_discriminative,
}


def main(names: list[str]) -> None:
    import keras

    report: dict = {"backend": keras.backend.backend(), "checks": {}}
    for name in names or list(CHECKS):
        if name != "call" and "tensorflow_imported" not in report:
            # after import fastlr, import keras and a call (Keras itself may import TF later,
            # e.g. to save a file, wherever TensorFlow is installed)
            report["tensorflow_imported"] = "tensorflow" in sys.modules
        try:
            report["checks"][name] = {"ok": True, "result": CHECKS[name](keras)}
        except Exception as e:  # reported to the test, which shows it
            report["checks"][name] = {
                "ok": False,
                "error": f"{type(e).__name__}: {e}",
                "traceback": traceback.format_exc()[-3000:],
            }
    report.setdefault("tensorflow_imported", "tensorflow" in sys.modules)
    print("PROBE-JSON " + json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1:])
