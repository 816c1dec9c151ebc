"""The ``fastlr`` command (also ``python -m fastlr``)."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import time
from collections.abc import Sequence


def demo(args: argparse.Namespace) -> int:
    """``fastlr demo``: the tour of :mod:`fastlr.demo`."""
    from fastlr.demo import tour

    return tour(args.epochs, _output(args.plot, ".png", "plot") if args.plot else None)


class CliError(Exception):
    """A user error: printed as one line, exit code 2, no traceback."""


def _parse_params(pairs: Sequence[str]) -> dict:
    """``key=value`` pairs; values are Python literals (ints, floats, lists, strings, None)."""
    import ast

    params: dict = {}
    seen: dict[str, str] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.isidentifier():
            raise CliError(f"parameters are key=value pairs. Received: {pair!r}")
        if key in seen:
            raise CliError(
                f"Argument `{key}` is given twice; give each parameter once. "
                f"Received: {seen[key]} and {pair}"
            )
        seen[key] = pair
        try:
            params[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            params[key] = text  # a bare word: a string such as mode=triangular2
    return params


def _schedule(name: str, pairs: Sequence[str]):
    """A name with ``key=value`` pairs, or (when it has a ``(``) one call expression."""
    import inspect

    from fastlr.schedules import REGISTRY

    if "(" in name:
        from fastlr._expression import ExpressionError, parse_schedule

        if pairs:
            raise CliError(
                f"a schedule expression takes no key=value parameters. Received: {pairs[0]!r}"
            )
        try:
            return parse_schedule(name)
        except ExpressionError as err:
            raise CliError(str(err)) from None
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


LAST_STEP = 2**63 - 1
"""The largest step (int64)."""


def _steps(args: argparse.Namespace) -> range:
    if args.steps < 1:
        raise CliError(f"Argument `steps` must be >= 1. Received: steps={args.steps}")
    if args.start < 0:
        raise CliError(f"Argument `start` must be >= 0. Received: start={args.start}")
    last = args.start + args.steps - 1
    if last > LAST_STEP:
        raise CliError(
            "Arguments `start` and `steps` must give a last step (start + steps - 1) below "
            f"2**63, steps being int64. Received: start={args.start}, steps={args.steps} "
            f"(last step {last})"
        )
    return range(args.start, args.start + args.steps)


def _check_space(out, nbytes: int) -> None:
    from fastlr._files import check_space

    try:
        check_space(out, nbytes)
    except ValueError as err:
        raise CliError(f"{err}; use fewer --steps or another folder") from None


@contextlib.contextmanager
def _writing(out):
    """Write ``out`` whole or not at all (:func:`fastlr._files.replacing`); an ``OSError`` (a
    full disk, a file-size limit) becomes a one-line error naming ``out``."""
    from fastlr._files import replacing

    try:
        with replacing(out) as tmp:
            yield tmp
    except OSError as err:
        raise CliError(
            f"cannot write {str(out)!r}: {err.strerror or err} (nothing written; any earlier "
            "file there is unchanged)"
        ) from None


def _output(path: str, suffix: str, name: str = "output"):
    from pathlib import Path

    out = Path(path)
    if out.suffix != suffix:
        raise CliError(f"Argument `{name}` must end in {suffix}. Received: {name}={path!r}")
    if not out.parent.exists() or not os.access(out.parent, os.W_OK):
        raise CliError(f"cannot write {path!r}: its folder does not exist or is not writable")
    if out.is_dir():
        raise CliError(f"cannot write {path!r}: it is a folder")
    return out


def first_sentence(doc: str) -> str:
    """The first sentence of a docstring's first paragraph, its lines joined: up to the first
    full stop followed by a space or the paragraph's end, outside ``code`` and not in "e.g."."""
    import inspect
    import re

    paragraph = inspect.cleandoc(doc).split("\n\n")[0]
    text = " ".join(line.strip() for line in paragraph.splitlines())
    masked = re.sub(r"``.*?``", lambda m: "x" * len(m.group()), text)  # no full stop inside code
    end = re.search(r"(?<!\be\.g)(?<!\bi\.e)(?<!\betc)\.(?=\s|$)", masked)
    return text[: end.end()] if end else text


def list_schedules(args: argparse.Namespace) -> int:
    """Print the catalogue: each schedule with its parameters and defaults."""
    import inspect

    from fastlr.schedules import REGISTRY

    for name, cls in REGISTRY.items():
        params = []
        for p in list(inspect.signature(cls.__init__).parameters.values())[1:]:
            params.append(p.name if p.default is p.empty else f"{p.name}={p.default!r}")
        summary = first_sentence(cls.__doc__ or "")
        print(f"{name}({', '.join(params)})\n    {summary}")
    return 0


def precompute(args: argparse.Namespace) -> int:
    """Evaluate a schedule over a step range into a .npy file (same values as ``evaluate``).

    The values stream into a memory-mapped ``.npy`` (``evaluate(out=...)`` walks it in chunks),
    so RAM never limits ``--steps``; the file's blocks are reserved first (``posix_fallocate``),
    so a disk that fills up fails before any value is written, not with a SIGBUS mid-way.
    """
    import numpy as np

    from fastlr import bulk
    from fastlr._files import npy_bytes, npy_memmap

    schedule = _schedule(args.name, args.params)
    out = _output(args.output, ".npy")
    steps = _steps(args)
    dtype = np.dtype(args.dtype)
    _check_space(out, npy_bytes(len(steps), dtype))
    with _writing(out) as tmp, npy_memmap(tmp, len(steps), dtype) as values:
        t0 = time.perf_counter()
        bulk.evaluate(schedule, steps, dtype=args.dtype, out=values)
        elapsed = time.perf_counter() - t0
        del values  # the last reference is npy_memmap's: it flushes and unmaps before the rename
    print(
        f"{out}: {len(steps):,} {args.dtype} values of {schedule!r} for steps "
        f"{steps.start}..{steps.stop - 1} in {elapsed:.3f} s"
    )
    return 0


def plot(args: argparse.Namespace) -> int:
    """Plot a schedule over a step range into a PNG (at most ~10,000 sampled steps: see
    :func:`fastlr.plot.plot_schedule`)."""
    from fastlr.plot import plot_schedule

    schedule = _schedule(args.name, args.params)
    out = _output(args.output, ".png")
    steps = _steps(args)
    fig = plot_schedule(schedule, steps, log_scale=args.log)
    with _writing(out) as tmp:
        fig.savefig(tmp, dpi=120, format="png")
    print(f"{out}: {schedule!r}")
    return 0


def bench(args: argparse.Namespace) -> int:
    """Run the benchmark suite and write report.md, results.json and plots into a folder."""
    from pathlib import Path

    from fastlr._files import first_missing, remove_created
    from fastlr.bench import SECTIONS, check_device

    sections = tuple(x.strip() for x in args.only.split(",")) if args.only else SECTIONS
    unknown = [x for x in sections if x not in SECTIONS]
    if unknown:
        raise CliError(
            f"Argument `only` must be a comma list of {', '.join(SECTIONS)}. "
            f"Received: only={args.only!r}"
        )
    try:  # before creating anything: --device cuda without a GPU fails here
        check_device(args.device)
    except (RuntimeError, ValueError) as err:
        raise CliError(str(err).splitlines()[0]) from None
    out = Path(args.output)
    created = first_missing(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise CliError(f"cannot create {args.output!r}: {err.strerror or err}") from None
    try:
        _bench_into(args, out, sections)
    except BaseException:
        remove_created(out, created)  # never leave an empty folder this command made
        raise
    return 0


def _bench_into(args: argparse.Namespace, out, sections: tuple[str, ...]) -> None:
    if not os.access(out, os.W_OK):
        raise CliError(f"cannot write into {args.output!r}: the folder is not writable")
    if "step" in sections:  # bulk and cycles run TensorFlow in worker processes only
        from fastlr._quiet_import import import_tensorflow_quietly

        import_tensorflow_quietly()
    from fastlr.bench import report, run

    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        print(f"[{time.perf_counter() - t0:6.1f} s] {msg}", file=sys.stderr, flush=True)

    command = " ".join(["fastlr bench", *(["--quick"] if args.quick else [])])
    command += f" --device {args.device}" + (f" --only {args.only}" if args.only else "")
    command += f" -o {args.output}"
    try:
        results = run(quick=args.quick, device=args.device, sections=sections, progress=progress)
    except (RuntimeError, ValueError, ImportError) as err:  # e.g. --device cuda without a GPU
        raise CliError(str(err).splitlines()[0]) from None
    results["command"] = command
    try:
        paths = report.write(results, out, command)
    except OSError as err:
        raise CliError(f"cannot write into {args.output!r}: {err.strerror or err}") from None
    for path in paths:
        print(path)
    if results.get("bulk"):
        print()
        print(report.headline_table(results))
    return 0


def _schedule_command(sub, name: str, func, help_text: str, suffix: str):
    p = sub.add_parser(name, help=help_text)
    p.add_argument(
        "name",
        metavar="schedule",
        help="a schedule name (see `fastlr list`), or, when it contains '(', one call "
        "expression of names and literals: 'Warmup(CosineDecay(1e-3, 9000), 1000)'",
    )
    p.add_argument(
        "params", nargs="*", help="key=value parameters (Python literals) after a schedule name"
    )
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
    p.add_argument(
        "--plot", default="fastlr_demo.png", help="where to write the plot ('' for none)"
    )
    p.set_defaults(func=demo)
    p = sub.add_parser("bench", help="run the benchmarks; write report.md, results.json, plots")
    p.add_argument("--quick", action="store_true", help="reduced plan (a few minutes)")
    p.add_argument("-o", "--output", default="fastlr-bench", help="output folder")
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu")
    p.add_argument("--only", help="comma list of bulk, cycles, step, first-call (default: all)")
    p.set_defaults(func=bench)
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
        where = f": {err.filename}" if err.filename else ""
        print(f"fastlr: error: {err.strerror or err}{where}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:  # files are renamed into place only when complete: none is partial
        print("fastlr: error: interrupted; no partial file was left", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
