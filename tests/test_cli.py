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


# -- the edges: step ranges, disk space, partial files, duplicates, summaries ---------------------
CONSTANT = ["Constant", "learning_rate=0.1"]


@pytest.mark.parametrize("command", ["precompute", "plot"])
@pytest.mark.parametrize(
    ("start", "steps"), [(2**63 - 5, 10), (2**63, 1), (0, 2**63 + 1), (2**62, 2**62 + 1)]
)
def test_a_last_step_at_or_past_2_63_is_refused_naming_start_and_steps(
    capsys, tmp_path, command, start, steps
):
    suffix = ".npy" if command == "precompute" else ".png"
    path = tmp_path / f"x{suffix}"
    argv = [command, *CONSTANT, "--start", str(start), "--steps", str(steps), "-o", str(path)]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err
    assert (
        "Arguments `start` and `steps` must give a last step (start + steps - 1) below 2**63" in err
    )
    assert f"Received: start={start}, steps={steps} (last step {start + steps - 1})" in err
    assert list(tmp_path.iterdir()) == []


def test_the_last_int64_step_is_accepted(capsys, tmp_path):
    path = tmp_path / "lr.npy"
    argv = ["precompute", *CONSTANT, "--start", str(2**63 - 3), "--steps", "3", "-o", str(path)]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    np.testing.assert_array_equal(np.load(path), np.full(3, 0.1, np.float32))


def test_precompute_refuses_a_file_larger_than_the_free_space(capsys, tmp_path, monkeypatch):
    path = tmp_path / "lr.npy"
    code, _, err = run(capsys, "precompute", *CONSTANT, "--steps", str(10**12), "-o", str(path))
    assert code == 2 and err.count("\n") == 1 and "Traceback" not in err  # not a 3.64 TiB malloc
    assert f"cannot write {str(path)!r}: it needs 3.64 TiB (4,000,000,000,128 bytes)" in err
    assert "free; use fewer --steps or another folder" in err
    import shutil

    usage = shutil.disk_usage(tmp_path)
    monkeypatch.setattr(shutil, "disk_usage", lambda p: usage._replace(free=4000))
    argv = ["precompute", *CONSTANT, "--steps", "1000", "--dtype", "float64", "-o", str(path)]
    code, _, err = run(capsys, *argv)
    assert code == 2
    assert "it needs 7.94 KiB (8,128 bytes) and its folder has 3.91 KiB (4,000 bytes) free" in err
    assert list(tmp_path.iterdir()) == []


def test_precompute_streams_into_a_memmap_in_chunks(capsys, tmp_path, monkeypatch):
    from fastlr import bulk

    monkeypatch.setattr(bulk, "CHUNK", 1000)  # several chunks on a small file
    calls = []
    real = bulk.evaluate

    def spy(schedule, steps, **kw):
        calls.append(type(kw["out"]))
        return real(schedule, steps, **kw)

    monkeypatch.setattr(bulk, "evaluate", spy)
    path = tmp_path / "lr.npy"
    s = "WarmupCosineDecay(0.1, 3000, warmup_steps=500)"
    code, _, err = run(capsys, "precompute", s, "--steps", "4321", "--start", "7", "-o", str(path))
    assert code == 0, err
    assert calls == [np.memmap]  # written in place, never a whole array in RAM first
    expected = fastlr.evaluate(
        fastlr.WarmupCosineDecay(0.1, 3000, warmup_steps=500), range(7, 4328)
    )
    np.testing.assert_array_equal(np.load(path), expected)
    assert [p.name for p in tmp_path.iterdir()] == ["lr.npy"]


def test_plot_samples_a_long_range_without_losing_phases(capsys, tmp_path):
    from fastlr.plot import MAX_POINTS, plot_schedule

    s = fastlr.CosineDecayRestarts(0.1, 1000)
    fig = plot_schedule(s, range(10**12))  # would be 8 TB of float64 unsampled
    x, y = fig.axes[0].lines[0].get_data()
    phases = [p for p in s.phases().values() if p < 10**12]
    assert phases and MAX_POINTS <= len(x) <= MAX_POINTS + 2 * len(phases)
    assert x[0] == 0 and x[-1] == 10**12 - 1 and np.all(np.diff(x) > 0)
    for p in phases:  # a restart stays a vertical jump: the step before it and the step itself
        assert p in x and p - 1 in x
    np.testing.assert_array_equal(y, fastlr.evaluate(s, np.asarray(x), dtype="float64"))
    x_short, _ = plot_schedule(s, range(5, 2505, 5)).axes[0].lines[0].get_data()
    np.testing.assert_array_equal(x_short, np.arange(5, 2505, 5))  # short ranges: every step
    path = tmp_path / "long.png"
    argv = ["plot", "CosineDecayRestarts(0.1, 1000)", "--steps", str(10**12), "-o", str(path)]
    code, _, err = run(capsys, *argv)
    assert code == 0, err
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


_LIMITED = (
    "import resource, runpy, signal, sys; n = int(sys.argv.pop(1)); "
    "signal.signal(signal.SIGXFSZ, signal.SIG_IGN); "  # the write fails with EFBIG instead
    "resource.setrlimit(resource.RLIMIT_FSIZE, (n, n)); sys.argv[0] = 'fastlr'; "
    "runpy.run_module('fastlr', run_name='__main__', alter_sys=True)"
)
"""``python -c _LIMITED NBYTES ARGS...``: ``fastlr ARGS...`` with files of at most ``NBYTES``
(a full disk, as a write sees it). Set in the child itself: a ``preexec_fn`` would run Python
between fork and exec in a process whose other threads (JAX's, TF's) may hold locks."""


@pytest.mark.skipif(not hasattr(os, "posix_fallocate"), reason="needs RLIMIT_FSIZE semantics")
@pytest.mark.parametrize(
    ("command", "limit", "schedule"),
    [("precompute", 64 * 1024, CONSTANT), ("plot", 4096, ["CosineDecayRestarts(0.1, 100)"])],
)
def test_a_full_disk_leaves_no_partial_file_and_the_old_one_intact(
    tmp_path, command, limit, schedule
):
    suffix = ".npy" if command == "precompute" else ".png"
    path = tmp_path / f"out{suffix}"
    argv = [sys.executable, "-m", "fastlr", command, *schedule, "--steps", "100000"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    fresh = subprocess.run([*argv, "-o", str(path)], capture_output=True, text=True, env=env)
    assert fresh.returncode == 0, fresh.stderr  # unlimited: written (and the kernel cached)
    old = path.read_bytes()
    assert len(old) > limit
    limited = [sys.executable, "-c", _LIMITED, str(limit), *argv[3:]]
    full = subprocess.run(
        [*limited, "--start", "5", "-o", str(path)], capture_output=True, text=True, env=env
    )
    assert full.returncode == 2, full.stderr
    assert full.stderr == (
        f"fastlr: error: cannot write {str(path)!r}: File too large (nothing written; any "
        "earlier file there is unchanged)\n"
    )
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # no temporary file left


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_an_interrupted_precompute_leaves_the_old_file(capsys, tmp_path, monkeypatch, failure):
    import errno

    from fastlr import bulk

    path = tmp_path / "lr.npy"
    np.save(path, np.arange(3.0))
    old = path.read_bytes()

    def half_then_fail(schedule, steps, *, out, **kw):
        out[: len(out) // 2] = 1.0
        if failure is OSError:
            raise OSError(errno.ENOSPC, "No space left on device")
        raise KeyboardInterrupt

    monkeypatch.setattr(bulk, "evaluate", half_then_fail)
    code, _, err = run(capsys, "precompute", *CONSTANT, "--steps", "1000", "-o", str(path))
    if failure is OSError:
        assert code == 2
        assert f"cannot write {str(path)!r}: No space left on device (nothing written" in err
    else:
        assert code == 130 and err == "fastlr: error: interrupted; no partial file was left\n"
    assert path.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["lr.npy"]


@pytest.mark.parametrize("failure", [KeyboardInterrupt, OSError])
def test_an_interrupted_plot_leaves_the_old_file(capsys, tmp_path, monkeypatch, failure):
    import errno

    from matplotlib.figure import Figure

    path = tmp_path / "s.png"
    path.write_bytes(b"old plot")

    def partial_then_fail(self, fname, **kw):
        with open(fname, "wb") as f:
            f.write(b"\x89PNG half")
        if failure is OSError:
            raise OSError(errno.ENOSPC, "No space left on device")
        raise KeyboardInterrupt

    monkeypatch.setattr(Figure, "savefig", partial_then_fail)
    code, _, err = run(capsys, "plot", *CONSTANT, "--steps", "10", "-o", str(path))
    assert code == (2 if failure is OSError else 130)
    assert str(path) in err or failure is KeyboardInterrupt
    assert path.read_bytes() == b"old plot"
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]
    from fastlr.plot import plot_schedule  # the Python API writes the same way

    with pytest.raises(failure):
        plot_schedule(fastlr.Constant(0.1), 10, path=str(path))
    assert path.read_bytes() == b"old plot"
    assert [p.name for p in tmp_path.iterdir()] == ["s.png"]


def test_a_new_file_gets_the_usual_permissions(capsys, tmp_path):
    path = tmp_path / "lr.npy"
    code, _, _ = run(capsys, "precompute", *CONSTANT, "--steps", "5", "-o", str(path))
    umask = os.umask(0)
    os.umask(umask)
    assert code == 0 and path.stat().st_mode & 0o777 == 0o666 & ~umask


def test_an_output_that_is_a_folder_is_refused_up_front(capsys, tmp_path):
    target = tmp_path / "x.npy"
    target.mkdir()
    code, _, err = run(capsys, "precompute", *CONSTANT, "--steps", "3", "-o", str(target))
    assert code == 2 and err == f"fastlr: error: cannot write {str(target)!r}: it is a folder\n"


@pytest.mark.parametrize("command", ["precompute", "plot"])
def test_a_parameter_given_twice_is_refused(capsys, tmp_path, command):
    argv = [
        command,
        "WarmupCosineDecay",
        "target_lr=0.1",
        "total_steps=100",
        "target_lr=0.2",
        "--steps",
        "3",
        "-o",
        str(tmp_path / ("x.npy" if command == "precompute" else "x.png")),
    ]
    code, _, err = run(capsys, *argv)
    assert code == 2 and err.count("\n") == 1
    assert "Argument `target_lr` is given twice" in err
    assert "Received: target_lr=0.1 and target_lr=0.2" in err
    assert list(tmp_path.iterdir()) == []


def test_list_prints_each_summary_as_a_whole_sentence(capsys):
    code, out, _ = run(capsys, "list")
    assert code == 0
    lines = out.splitlines()
    summaries = [line.strip() for line in lines if line.startswith("    ")]
    assert len(summaries) == len(fastlr.REGISTRY) == len(lines) / 2
    for summary in summaries:
        assert summary.endswith("."), summary
    assert "``torch.optim.lr_scheduler.OneCycleLR`` for steps ``0 .. total_steps - 1`` and " in out
    assert "hold the final value afterwards." in out


def test_first_sentence_joins_lines_and_skips_code_and_abbreviations():
    from fastlr.cli import first_sentence

    doc = """A schedule, e.g. a cosine, with ``x = 0.5 * y`` and
        more words. A second sentence.

        Another paragraph.
        """
    assert first_sentence(doc) == "A schedule, e.g. a cosine, with ``x = 0.5 * y`` and more words."
    assert first_sentence("No full stop\n    at all") == "No full stop at all"
    assert first_sentence("") == ""


def test_bench_on_cuda_without_a_gpu_creates_nothing(capsys, tmp_path):
    folder = tmp_path / "new" / "bench"
    code, _, err = run(capsys, "bench", "--device", "cuda", "--only", "cycles", "-o", str(folder))
    assert code == 2 and "Argument `device`='cuda'" in err
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("failure", [KeyboardInterrupt, RuntimeError("no workers")])
def test_a_failed_bench_removes_the_empty_folders_it_made(capsys, tmp_path, monkeypatch, failure):
    import fastlr.bench

    def fail(**kw):
        raise failure

    monkeypatch.setattr(fastlr.bench, "run", fail)
    folder = tmp_path / "new" / "bench"
    code, _, _ = run(capsys, "bench", "--only", "cycles", "-o", str(folder))
    assert code == (130 if failure is KeyboardInterrupt else 2)
    assert list(tmp_path.iterdir()) == []
    folder.mkdir(parents=True)  # a folder that was there before stays
    code, _, _ = run(capsys, "bench", "--only", "cycles", "-o", str(folder))
    assert code != 0 and folder.is_dir()


def test_the_bench_report_is_written_whole_or_not_at_all(tmp_path, monkeypatch):
    from fastlr.bench import report

    (tmp_path / "report.md").write_text("old report")

    def broken(results, command=None):
        raise KeyboardInterrupt

    monkeypatch.setattr(report, "markdown", broken)
    with pytest.raises(KeyboardInterrupt):
        report.write({"schema": 3}, tmp_path)
    assert (tmp_path / "report.md").read_text() == "old report"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.md", "results.json"]
