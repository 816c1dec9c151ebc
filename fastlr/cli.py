"""The ``fastlr`` command (also ``python -m fastlr``)."""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence


def _quiet_tensorflow() -> None:
    """Import TensorFlow and Keras without their start-up chatter.

    TF 2.21 prints absl lines from C++ before its logging is configured, so
    ``TF_CPP_MIN_LOG_LEVEL`` alone does not silence them: file descriptor 2 is pointed at
    ``/dev/null`` for the duration of the import only (errors after it are shown as usual).
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    os.environ.setdefault("KERAS_BACKEND", "tensorflow")
    if "tensorflow" in sys.modules:
        return
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as devnull:
            os.dup2(devnull.fileno(), 2)
            import keras  # noqa: F401
            import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def demo(args: argparse.Namespace) -> int:
    """Train a small model under XLA with a fastlr schedule and show the LR used each epoch."""
    _quiet_tensorflow()
    import numpy as np

    import fastlr

    t0 = time.perf_counter()
    import keras

    epochs, batch_size, n = args.epochs, 64, 2048
    steps_per_epoch = n // batch_size
    total = epochs * steps_per_epoch
    schedule = fastlr.WarmupCosineDecay(
        target_lr=0.05,
        total_steps=total,
        warmup_steps=steps_per_epoch,
        hold_steps=steps_per_epoch // 2,
        start_lr=0.0,
        min_lr=1e-3,
    )
    print(f"schedule: {schedule!r}")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(n, 8)).astype("float32")
    y = (x @ rng.normal(size=(8, 1)) + 0.1 * rng.normal(size=(n, 1))).astype("float32")

    keras.utils.set_random_seed(0)
    model = keras.Sequential(
        [keras.Input((8,)), keras.layers.Dense(32, activation="relu"), keras.layers.Dense(1)]
    )
    optimizer = keras.optimizers.SGD(learning_rate=schedule, momentum=0.9)
    model.compile(optimizer=optimizer, loss="mse", jit_compile=True)

    rows = []

    class EpochLR(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            # The optimizer reads its schedule at its iteration counter: the LR of the next step.
            self.first = (int(optimizer.iterations), float(optimizer.learning_rate))

        def on_epoch_end(self, epoch, logs=None):
            last_step = int(optimizer.iterations) - 1
            rows.append(
                (epoch + 1, *self.first, last_step, float(schedule(last_step)), logs["loss"])
            )

    model.fit(x, y, batch_size=batch_size, epochs=epochs, verbose=0, callbacks=[EpochLR()])
    print(f"trained {total} steps under jit_compile=True in {time.perf_counter() - t0:.1f} s\n")
    print(f"{'epoch':>5}  {'first step':>10}  {'lr':>9}  {'last step':>9}  {'lr':>9}  {'loss':>8}")
    for epoch, s0, lr0, s1, lr1, loss in rows:
        print(f"{epoch:>5}  {s0:>10}  {lr0:>9.6f}  {s1:>9}  {lr1:>9.6f}  {loss:>8.4f}")

    history = fastlr.evaluate(schedule, int(optimizer.iterations))
    used = np.array([r[2] for r in rows], dtype="float32")
    same = np.array_equal(history[[r[1] for r in rows]], used)
    print(
        f"\nwhole LR history by bulk evaluation: {history.size} values, "
        f"min {history.min():.6f}, max {history.max():.6f}; "
        f"matches the optimizer at every epoch start: {same}"
    )
    return 0 if same else 1


class CliError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""


def _parse_params(pairs: Sequence[str]) -> dict:
    """``key=value`` pairs; values are Python literals (ints, floats, lists, strings, None)."""
    import ast

    params = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise CliError(f"parameters are key=value pairs. Received: {pair!r}")
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text  # a bare word: a string such as mode=triangular2
    return params


def _schedule(name: str, pairs: Sequence[str]):
    import inspect

    from fastlr.schedules import REGISTRY

    cls = REGISTRY.get(name)
    if cls is None:
        raise CliError(f"unknown schedule {name!r}; `fastlr list` shows the catalogue")
    params = _parse_params(pairs)
    accepted = list(inspect.signature(cls.__init__).parameters)[1:]
    unknown = [k for k in params if k not in accepted]
    if unknown:
        raise CliError(f"{name} has no parameter {unknown[0]!r}; it takes {', '.join(accepted)}")
    try:
        return cls(**params)
    except (ValueError, TypeError) as err:
        raise CliError(str(err).splitlines()[0]) from None


def _steps(args: argparse.Namespace) -> range:
    if args.steps < 1:
        raise CliError(f"Argument `steps` must be >= 1. Received: steps={args.steps}")
    if args.start < 0:
        raise CliError(f"Argument `start` must be >= 0. Received: start={args.start}")
    return range(args.start, args.start + args.steps)


def _output(path: str, suffix: str):
    from pathlib import Path

    out = Path(path)
    if out.suffix != suffix:
        raise CliError(f"Argument `output` must end in {suffix}. Received: output={path!r}")
    if not out.parent.exists() or not os.access(out.parent, os.W_OK):
        raise CliError(f"cannot write {path!r}: its folder does not exist or is not writable")
    return out


def list_schedules(args: argparse.Namespace) -> int:
    """Print the catalogue: each schedule with its parameters and defaults."""
    import inspect

    from fastlr.schedules import REGISTRY

    for name, cls in REGISTRY.items():
        params = []
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
        summary = (cls.__doc__ or "").strip().splitlines()[0]
        print(f"{name}({', '.join(params)})\n    {summary}")
    return 0


def precompute(args: argparse.Namespace) -> int:
    """Evaluate a schedule over a step range into a .npy file (same values as ``evaluate``)."""
    import numpy as np

    import fastlr

    schedule = _schedule(args.name, args.params)
    out = _output(args.output, ".npy")
    steps = _steps(args)
    t0 = time.perf_counter()
    values = fastlr.evaluate(schedule, steps, dtype=args.dtype)
    elapsed = time.perf_counter() - t0
    np.save(out, values)
    print(
        f"{out}: {len(values):,} {args.dtype} values of {schedule!r} for steps "
        f"{steps.start}..{steps.stop - 1} in {elapsed:.3f} s"
    )
    return 0


def plot(args: argparse.Namespace) -> int:
    """Plot a schedule over a step range into a PNG."""
    from fastlr.plot import plot_schedule

    schedule = _schedule(args.name, args.params)
    out = _output(args.output, ".png")
    plot_schedule(schedule, _steps(args), path=str(out), log_scale=args.log)
    print(f"{out}: {schedule!r}")
    return 0


def _schedule_command(sub, name: str, func, help_text: str, suffix: str):
    p = sub.add_parser(name, help=help_text)
    p.add_argument("name", help="schedule name (see `fastlr list`)")
    p.add_argument("params", nargs="*", help="key=value parameters (Python literals)")
    p.add_argument("--steps", type=int, required=True, help="number of steps")
    p.add_argument("--start", type=int, default=0, help="first step (default 0)")
    p.add_argument("-o", "--output", required=True, help=f"output file ({suffix})")
    p.set_defaults(func=func)
    return p


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="fastlr", description="Fast, exact, compile-safe learning-rate schedules for Keras."
    )
    parser.add_argument("--version", action="version", version=_version())
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("demo", help="train a small model under XLA with a fastlr schedule")
    p.add_argument("--epochs", type=int, default=6, help="epochs to train (default 6)")
    p.set_defaults(func=demo)
    p = sub.add_parser("list", help="the schedule catalogue with parameters and defaults")
    p.set_defaults(func=list_schedules)
    p = _schedule_command(sub, "precompute", precompute, "evaluate a schedule into .npy", ".npy")
    p.add_argument("--dtype", choices=["float32", "float64"], default="float32")
    p = _schedule_command(sub, "plot", plot, "plot a schedule into .png", ".png")
    p.add_argument("--log", action="store_true", help="log-scale learning-rate axis")
    return parser


def _version() -> str:
    from fastlr import __version__

    return f"fastlr {__version__}"


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "epochs", 1) < 1:
            raise CliError(f"Argument `epochs` must be >= 1. Received: epochs={args.epochs}")
        return args.func(args)
    except CliError as err:
        print(f"fastlr: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:  # e.g. the output file cannot be written after all
        print(f"fastlr: error: {err.strerror or err}: {err.filename or ''}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
