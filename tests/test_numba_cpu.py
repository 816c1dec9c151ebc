"""The Numba CPU engine: agreement with the reference, kernel generation and its cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
from conftest import LARGE_STEPS, assert_within_budget, example_schedules, peak_of

import fastlr
from fastlr.engines import numba_cpu
from fastlr.engines.numpy_ref import reference


def _probe_steps(seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return np.unique(
        np.concatenate(
            [
                np.arange(0, 2000),
                rng.integers(0, 2**53, size=2000),
                rng.integers(0, 2**32, size=2000),
                np.array(LARGE_STEPS),
            ]
        ).astype(np.int64)
    )


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("schedule", example_schedules())
def test_engine_agrees_with_float64_reference(schedule, dtype):
    steps = _probe_steps(hash(repr(schedule)) % 2**32)
    got = fastlr.evaluate(schedule, steps, dtype=dtype)
    assert_within_budget(got, reference(schedule, steps), dtype, peak_of(schedule))


@pytest.mark.parametrize("schedule", example_schedules())
def test_range_and_array_kernels_agree_exactly(schedule):
    r = range(2**40 + 3, 2**40 + 3 + 7 * 999, 7)
    by_range = fastlr.evaluate(schedule, r, dtype="float64")
    by_array = fastlr.evaluate(schedule, np.arange(r.start, r.stop, r.step), dtype="float64")
    np.testing.assert_array_equal(by_range, by_array)


def _whole_probe_steps(schedule) -> np.ndarray:
    """Steps below WHOLE_LIMIT: the start, each phase edge, random steps, the top."""
    from fastlr.engines._vocabulary import WHOLE_LIMIT

    rng = np.random.default_rng(hash(repr(schedule)) % 2**32)
    edges = [e + d for e in schedule.phases().values() for d in (-1, 0, 1)]
    top = [WHOLE_LIMIT - 1 - d for d in range(64)]
    steps = [*range(0, 1500), *edges, *top, *rng.integers(0, WHOLE_LIMIT, 1500).tolist()]
    return np.unique(np.array([s for s in steps if 0 <= s < WHOLE_LIMIT], dtype=np.int64))


@pytest.mark.parametrize("schedule", example_schedules())
def test_whole_number_float_kernels_give_the_int64_results_bit_for_bit(schedule):
    """Below 2**50 (steps and integer parameters) the CPU kernels run on whole-number float64
    steps; the int64 kernels, forced on the same steps, must give the same bits."""
    from fastlr.engines._structure import flat_args, structure

    flat, shape = flat_args(schedule)
    mod = numba_cpu.kernels(structure(schedule), shape)
    steps = _whole_probe_steps(schedule)
    by_int, by_whole = np.empty(len(steps)), np.empty(len(steps))
    mod.array_kernel(steps, by_int, flat)
    mod.whole_array_kernel(steps, by_whole, flat)
    np.testing.assert_array_equal(by_whole, by_int)
    start, stride, n = 2**50 - 7 * 999 - 1, 7, 999
    mod.range_kernel(np.int64(start), np.int64(stride), by_int[:n], flat)
    mod.whole_range_kernel(np.float64(start), np.float64(stride), by_whole[:n], flat)
    np.testing.assert_array_equal(by_whole[:n], by_int[:n])


def test_the_whole_number_kernels_are_used_only_below_the_limit():
    flat, _ = numba_cpu.flat_args(fastlr.CosineDecayRestarts(1.0, 3, t_mul=1.0))
    assert numba_cpu._whole(flat, 0, 2**50 - 1)
    assert not numba_cpu._whole(flat, 0, 2**50) and not numba_cpu._whole(flat, -(2**50), 0)
    big, _ = numba_cpu.flat_args(fastlr.CosineDecayRestarts(1.0, 2**50, t_mul=1.0))
    assert not numba_cpu._whole(big, 0, 10)
    table, _ = numba_cpu.flat_args(fastlr.PiecewiseConstantDecay([2**50], [1.0, 0.5]))
    assert not numba_cpu._whole(table, 0, 10)


def test_a_large_step_array_is_scanned_once_for_the_kernel_kind():
    """Arrays of 2**17 steps or more are bounded by one parallel pass: one step at 2**50 sends
    the whole array to the int64 kernels, with the same values as evaluating it by parts."""
    s = fastlr.CosineDecayRestarts(1.0, 3, t_mul=1.0)
    steps = np.arange(2**17 + 5, dtype=np.int64)
    assert numba_cpu._step_bounds(steps) == (0, 2**17 + 4)
    steps[-1] = 2**50
    assert numba_cpu._step_bounds(steps) == (0, 2**50)
    got = fastlr.evaluate(s, steps, dtype="float64")
    want = np.concatenate(
        [
            fastlr.evaluate(s, steps[:-1], dtype="float64"),
            fastlr.evaluate(s, [2**50], dtype="float64"),
        ]
    )
    np.testing.assert_array_equal(got, want)
    assert numba_cpu._step_bounds(np.arange(10, dtype=np.uint32)) == (0, 2**32 - 1)


def test_prepared_kernel_arguments_are_memoized_per_instance_and_released_with_it():
    import gc

    s = fastlr.Sequential(
        [fastlr.Warmup(fastlr.CosineDecay(0.1, 50), 5), fastlr.Constant(0.01)], [60]
    )
    first = fastlr.evaluate(s, 100)
    assert id(s) in numba_cpu._PREPARED
    np.testing.assert_array_equal(fastlr.evaluate(s, 100), first)  # served from the memo
    key = id(s)
    del s
    gc.collect()
    assert key not in numba_cpu._PREPARED


def test_memmap_from_a_billion(tmp_path):
    s = fastlr.WarmupCosineRestarts(0.1, 10**6, cycle_mult=1.5, warmup_steps=10**4, min_lr=1e-5)
    n = 1_000_003
    mm = np.lib.format.open_memmap(tmp_path / "lr.npy", mode="w+", dtype=np.float32, shape=(n,))
    assert fastlr.evaluate(s, range(10**9, 10**9 + n), out=mm) is mm
    mm.flush()
    del mm
    back = np.load(tmp_path / "lr.npy")
    steps = np.arange(10**9, 10**9 + n, 997)
    assert_within_budget(back[::997], reference(s, steps), "float32", 0.1)


def test_a_kernel_module_per_structure_in_a_fingerprinted_folder():
    s1 = fastlr.WarmupCosineDecay(0.1, 100)
    s2 = fastlr.WarmupCosineDecay(0.5, 1000, warmup_steps=10)  # same structure, new values
    fastlr.evaluate(s1, 10)
    fastlr.evaluate(s2, 10)
    _flat, shape = numba_cpu.flat_args(s1)
    mod = numba_cpu.kernels(numba_cpu.structure(s1), shape)
    assert mod is numba_cpu.kernels(numba_cpu.structure(s2), numba_cpu.flat_args(s2)[1])
    path = Path(mod.__file__)
    assert path.parent.name == f"kernels-{numba_cpu.fingerprint()}"
    assert path.parent.parent == Path(os.environ["FASTLR_CACHE_DIR"])
    assert "WarmupCosineDecay" in path.name


def test_nesting_layout_for_composites():
    class Leaf:
        def __init__(self, *args):
            self.args = args

        def formula_args(self):
            return self.args

        def children(self):
            return ()

        @classmethod
        def static_positions(cls):
            return ()

    class Node(Leaf):
        def __init__(self, args, kids):
            super().__init__(*args)
            self.kids = kids

        def children(self):
            return self.kids

    long = tuple(range(numba_cpu.SHORT_LIST + 1))
    tree = Node((1, 2.5), [Leaf(3.0, (4, 5)), Node((6,), [Leaf(7, True, (0.5, 1), long)])])
    flat, shape = numba_cpu.flat_args(tree)
    # a width per argument: 0 = one slot (scalar or array), n = a short list in n scalar slots
    assert shape == ((0, 0), ((0, 2),), ((0,), ((0, 0, 2, 0),)))
    # A composite's kernel arguments: (own, child 0's, child 1's, ...); a leaf's: its own.
    assert numba_cpu.kernel_args(tree) == (
        (1, 2.5),
        (3.0, (4, 5)),
        ((6,), (7, True, (0.5, 1), long)),
    )
    nest = numba_cpu.nest_source(shape)
    assert nest == (
        "((f[0], f[1]), (f[2], (f[3], f[4])), ((f[5],), (f[6], f[7], (f[8], f[9]), f[10])))"
    )
    # short int lists -> int64 scalars, mixed -> float64 scalars, long lists -> one array
    assert [type(x) for x in flat[3:5]] == [np.int64, np.int64]
    assert [type(x) for x in flat[8:10]] == [np.float64, np.float64]
    assert flat[10].dtype == np.int64 and flat[10].tolist() == list(long)
    rebuilt = eval(nest, {"f": flat})
    assert rebuilt[0] == (1, 2.5) and rebuilt[1][1] == (4, 5)
    assert rebuilt[2][1][2] == (0.5, 1.0) and rebuilt[2][1][3].tolist() == list(long)
    assert rebuilt[2][0] == (6,) and rebuilt[2][1][:2] == (7, True)


def test_edited_formula_is_never_served_from_a_stale_cache(tmp_path):
    """Copy the package, evaluate (filling the caches), edit a formula, evaluate again with
    the same cache folders in a fresh process: the new formula's values must come back."""
    src = Path(fastlr.__file__).resolve().parent
    pkg = tmp_path / "site" / "fastlr"
    shutil.copytree(src, pkg, ignore=shutil.ignore_patterns("__pycache__"))
    env = {
        **os.environ,
        "FASTLR_CACHE_DIR": str(tmp_path / "kernels"),
        "NUMBA_CACHE_DIR": str(tmp_path / "numba"),
    }
    # Load the copy explicitly: an editable install's import hook would outrank PYTHONPATH.
    script = textwrap.dedent(
        f"""
        import importlib.util, sys
        spec = importlib.util.spec_from_file_location(
            "fastlr", {str(pkg / "__init__.py")!r}, submodule_search_locations=[{str(pkg)!r}]
        )
        module = importlib.util.module_from_spec(spec)
        sys.modules["fastlr"] = module
        spec.loader.exec_module(module)
        import fastlr
        from fastlr.engines import numba_cpu
        from fastlr.schedules import constant
        assert constant.__file__.startswith({str(tmp_path)!r}), constant.__file__
        assert numba_cpu.__file__.startswith({str(tmp_path)!r}), numba_cpu.__file__
        v = fastlr.evaluate(fastlr.Constant(0.25), 3, dtype="float64")
        print("VALUES", v.tolist(), numba_cpu.fingerprint())
        """
    )

    def run():
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=120
        )
        assert out.returncode == 0, out.stderr[-3000:]
        line = next(x for x in out.stdout.splitlines() if x.startswith("VALUES"))
        values, fp = line[len("VALUES ") :].rsplit(" ", 1)
        return values, fp

    before, fp_before = run()
    assert before == "[0.25, 0.25, 0.25]"
    again, fp_again = run()  # warm cache, unchanged sources: same kernel folder
    assert (again, fp_again) == (before, fp_before)
    constant = pkg / "schedules" / "constant.py"
    text = constant.read_text()
    assert "        return learning_rate\n" in text
    constant.write_text(
        text.replace("        return learning_rate\n", "        return 2.0 * learning_rate\n")
    )
    after, fp_after = run()
    assert fp_after != fp_before
    assert after == "[0.5, 0.5, 0.5]"


def test_small_evaluations_run_on_one_thread_with_the_same_values():
    """Below ``SERIAL_BELOW`` steps a kernel runs on one thread (a preempted second thread
    would cost a scheduler slice on a busy machine); the values do not depend on it, and the
    caller's thread count is restored."""
    import numba

    s = fastlr.WarmupCosineDecay(0.1, 10**6, warmup_steps=1000)
    n = numba_cpu.SERIAL_BELOW
    threads = numba.get_num_threads()
    whole = fastlr.evaluate(s, n + 1)  # parallel
    small = fastlr.evaluate(s, n - 1)  # serial
    assert numba.get_num_threads() == threads
    np.testing.assert_array_equal(small, whole[: n - 1])
    seen = []
    real = numba.set_num_threads
    try:
        numba.set_num_threads = lambda k: (seen.append(k), real(k))
        fastlr.evaluate(s, 10)
        fastlr.evaluate(s, n)
    finally:
        numba.set_num_threads = real
    assert seen == [1, threads]  # set for the small call and restored; the large one untouched
