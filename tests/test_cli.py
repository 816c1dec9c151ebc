"""The ``fastlr`` command: every subcommand, bad parameters and unwritable outputs."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

import fastlr
from fastlr.bench.schema import problems
from fastlr.cli import main


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_list_shows_every_schedule_with_parameters_and_defaults(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    for name in fastlr.REGISTRY:
        assert f"\n{name}(" in "\n" + out, name
    assert "WarmupCosineDecay(target_lr, total_steps, warmup_steps=0, hold_steps=0" in out
    assert "mode='triangular'" in out


def test_python_dash_m_is_the_same_command():
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    out = subprocess.run(
        [sys.executable, "-m", "fastlr", "list"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "OneCycle(max_lr, total_steps" in out.stdout


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_precompute_equals_evaluate(capsys, tmp_path, dtype):
    path = tmp_path / "lr.npy"
    code, out, _ = run(
        capsys,
        "precompute",
        "CyclicalLearningRate",
        "initial_learning_rate=1e-3",
        "maximal_learning_rate=0.1",
        "step_size=7",
        "mode=triangular2",
        "--steps",
        "500",
        "--start",
        str(2**31),
        "--dtype",
        dtype,
        "-o",
        str(path),
    )
    assert code == 0 and str(path) in out
    s = fastlr.CyclicalLearningRate(1e-3, 0.1, step_size=7, mode="triangular2")
    expected = fastlr.evaluate(s, range(2**31, 2**31 + 500), dtype=dtype)
    got = np.load(path)
    assert got.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(got, expected)


def test_plot_writes_a_png(capsys, tmp_path):
    path = tmp_path / "s.png"
    code, _, _ = run(
        capsys,
        "plot",
        "OneCycle",
        "max_lr=0.1",
        "total_steps=300",
        "three_phase=True",
        "--steps",
        "320",
        "--log",
        "-o",
        str(path),
    )
    assert code == 0
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["precompute", "Nope", "--steps", "3"], "unknown schedule 'Nope'"),
        (
            ["precompute", "WarmupCosineDecay", "target_lr=0.1", "total_steps=0", "--steps", "3"],
            "Argument `total_steps` must be > 0. Received: total_steps=0",
        ),
        (
            [
                "plot",
                "WarmupCosineDecay",
                "target_lr=0.1",
                "total_steps=10",
                "warmup=2",
                "--steps",
                "3",
            ],
            "has no parameter 'warmup'",
        ),
        (
            [
                "plot",
                "CyclicalLearningRate",
                "initial_learning_rate=0.1",
                "maximal_learning_rate=1",
                "step_size=4",
                "mode=sawtooth",
                "--steps",
                "3",
            ],
            "Argument `mode` must be one of",
        ),
        (["precompute", "Constant", "learning_rate", "--steps", "3"], "key=value"),
        (
            ["precompute", "Constant", "learning_rate=0.1", "--steps", "0"],
            "Argument `steps` must be >= 1",
        ),
        (
            ["precompute", "Constant", "learning_rate=0.1", "--steps", "3", "--start", "-1"],
            "Argument `start` must be >= 0",
        ),
    ],
)
def test_bad_parameters_are_one_line_errors(capsys, tmp_path, argv, message):
    suffix = ".npy" if argv[0] == "precompute" else ".png"
    code, _out, err = run(capsys, *argv, "-o", str(tmp_path / f"x{suffix}"))
    assert code == 2
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("command", ["precompute", "plot"])
def test_unwritable_or_wrong_output_paths(capsys, tmp_path, command):
    suffix = ".npy" if command == "precompute" else ".png"
    base = [command, "Constant", "learning_rate=0.1", "--steps", "3", "-o"]
    code, _, err = run(capsys, *base, str(tmp_path / "missing" / f"x{suffix}"))
    assert code == 2 and "cannot write" in err
    code, _, err = run(capsys, *base, str(tmp_path / "x.txt"))
    assert code == 2 and f"must end in {suffix}" in err
    target = tmp_path / f"dir{suffix}"
    target.mkdir()  # a folder where the file should go: the write itself fails
    code, _, err = run(capsys, *base, str(target))
    assert code == 2 and "Traceback" not in err and err.startswith("fastlr: error:")


def test_demo_is_the_newcomers_tour(capsys, tmp_path):
    plot = tmp_path / "demo.png"
    code, out, _ = run(capsys, "demo", "--epochs", "2", "--plot", str(plot))
    assert code == 0
    assert "under jit_compile=True" in out
    assert "checked before training (fastlr.dry_run): no problems" in out
    assert "equal to the optimizer's LR at every epoch start: True" in out
    assert re.search(r"bulk precompute of 10\*\*7 steps .* in [\d.]+ ms \([\d,]+ M steps/s", out)
    assert f"the schedule's plot: {plot}" in out and plot.read_bytes()[:4] == b"\x89PNG"
    code, _, err = run(capsys, "demo", "--epochs", "0")
    assert code == 2 and "Argument `epochs` must be >= 1" in err
    code, _, err = run(capsys, "demo", "--plot", str(tmp_path / "demo.jpg"))
    assert code == 2 and "Argument `plot` must end in .png" in err


def test_bench_writes_report_results_and_shows_progress(capsys, tmp_path):
    folder = tmp_path / "bench"
    code, out, err = run(capsys, "bench", "--quick", "--only", "cycles", "-o", str(folder))
    assert code == 0, err
    results = json.loads((folder / "results.json").read_text())
    assert results["command"] == f"fastlr bench --quick --device cpu --only cycles -o {folder}"
    assert len(results["cycles"]) == 9 and "bulk" not in results
    assert results["machine"]["cores"] >= 1 and results["machine"]["versions"]["numba"]
    assert results["schema"] == 3 and results["harness"] == "fastlr bench"
    assert problems(results) == []  # the one results format of every harness
    workers = results["method"]["workers"]  # cycles ran in the Numba worker, never in this process
    assert set(workers) == {"numba"} and workers["numba"]["pid"] != os.getpid()
    assert not workers["numba"]["tensorflow"] and "fastlr" in workers["numba"]["engines"]
    report = (folder / "report.md").read_text()
    assert "Cost vs number of cycles" in report and f"{results['machine']['cores']} cores" in report
    assert str(folder / "report.md") in out
    assert err.count("] cycles ") == 9  # one progress line per measurement


@pytest.mark.parametrize(
    "argv, message",
    [
        (["--only", "bulk,warp"], "Argument `only` must be a comma list of bulk, cycles"),
        (["--device", "tpu"], "invalid choice: 'tpu'"),
    ],
)
def test_bench_bad_arguments(capsys, tmp_path, argv, message):
    try:
        code, _, err = run(capsys, "bench", *argv, "-o", str(tmp_path / "b"))
    except SystemExit as exit_:  # argparse's own errors: usage line + message, exit 2
        code, err = exit_.code, capsys.readouterr().err
    assert code == 2 and message in err and "Traceback" not in err
    assert not (tmp_path / "b").exists()


def test_bench_unwritable_output(capsys, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    code, _, err = run(capsys, "bench", "--only", "cycles", "-o", str(blocker / "sub"))
    assert code == 2 and err.startswith("fastlr: error: cannot create") and err.count("\n") == 1


def test_bench_on_cuda_needs_a_real_gpu(capsys, tmp_path):
    # The test session runs numba-cuda in its simulator (no GPU here): no benchmark from it.
    code, _, err = run(capsys, "bench", "--device", "cuda", "--only", "cycles", "-o", str(tmp_path))
    assert code == 2 and err.count("\n") == 1
    assert "Argument `device`='cuda'" in err and "Received: device='cuda'" in err


COMPOSITE = "Sequential([Warmup(CosineDecay(1e-3, 9000), 1000), Constant(1e-5)], [10000])"


def test_an_expression_builds_a_composite(capsys, tmp_path):
    path = tmp_path / "lr.npy"
    code, out, err = run(capsys, "precompute", COMPOSITE, "--steps", "12000", "-o", str(path))
    assert code == 0, err
    s = fastlr.Sequential(
        [fastlr.Warmup(fastlr.CosineDecay(1e-3, 9000), 1000), fastlr.Constant(1e-5)], [10000]
    )
    assert repr(s) in out
    np.testing.assert_array_equal(np.load(path), fastlr.evaluate(s, range(12000)))


def test_plot_takes_an_expression(capsys, tmp_path):
    path = tmp_path / "s.png"
    code, out, err = run(capsys, "plot", COMPOSITE, "--steps", "12000", "-o", str(path))
    assert code == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.startswith(f"{path}: Sequential(")


@pytest.mark.parametrize(
    ("expression", "message"),
    [
        ("__import__('os')", "unknown schedule '__import__' at column 1"),
        ("os.system('x')", "attribute access `os.system` at column 1"),
        ("Constant(1e-3).__class__", "attribute access `Constant(1e-3).__class__` at column 1"),
        ("Constant([x for x in y])", "list comprehension `[x for x in y]` at column 10"),
        ("Constant((lambda: 1)())", "lambda `lambda: 1` at column 11"),
        ("Constant(1e-3) + 2", "operator `+` in `Constant(1e-3) + 2` at column 1"),
        ("Constant(1e-3) * Constant(2)", "operator `*` (a schedule times a number only)"),
        ("Constant(2 ** -3)", "operator `**` in `2 ** -3` at column 10"),
        ("Constant(-True)", "operator `-` in `-True` at column 10"),
        ("Constant(1e-3)[0]", "subscript `Constant(1e-3)[0]` at column 1"),
        ("Constant(*[1e-3])", "starred argument `*[1e-3]` at column 10"),
        ("Constant(**{'learning_rate': 1})", "`**` argument `**{'learning_rate': 1}` at column 10"),
        ("Constant(f'{x}')", "f-string `f'{x}'` at column 10"),
        ("Constant(lr)", "name `lr` at column 10"),
        ("Constant({1: 2})", "dict `{1: 2}` at column 10"),
        ("Constant(learning_rate=1, learning_rate=2)", "repeated keyword argument"),
        ("Foo(1)", "unknown schedule 'Foo' at column 1; `fastlr list` shows the catalogue"),
        (
            "CosineDecay(decay_steps=-1, initial_learning_rate=1)",
            "CosineDecay at column 1: Argument `decay_steps` must be > 0. Received: decay_steps=-1",
        ),
        ("Warmup(CosineDecay(1), 10)", "CosineDecay at column 8: missing a required argument"),
        ("CosineDecay(1, 10, warmup=3)", "unexpected keyword argument 'warmup'"),
        ("Constant(1e-3) * -2", "Scale at column 1: Argument `factor` must be >= 0"),
        ("Constant(1e-3", "invalid schedule expression: '(' was never closed at column 9"),
        ("(1e-3)", "a schedule expression must build a schedule. Received: 1e-3"),
    ],
)
def test_bad_expressions_are_one_line_errors(capsys, tmp_path, expression, message):
    code, _out, err = run(
        capsys, "precompute", expression, "--steps", "3", "-o", str(tmp_path / "x.npy")
    )
    assert code == 2
    assert err.startswith("fastlr: error: ") and message in err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not (tmp_path / "x.npy").exists()


def test_an_expression_takes_no_key_value_pairs(capsys, tmp_path):
    argv = [
        "plot",
        "Constant(1e-3)",
        "learning_rate=1",
        "--steps",
        "3",
        "-o",
        str(tmp_path / "x.png"),
    ]
    code, _, err = run(capsys, *argv)
    assert code == 2 and "takes no key=value parameters. Received: 'learning_rate=1'" in err
