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
from conftest import assert_within_budget, peak_of
from specs import LARGE_STEPS, example_schedules

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


# -- segmented schedules: block kernels -------------------------------------------------------
def _segmented_cases() -> dict[str, fastlr.Schedule]:
    """Segmented schedules: restart cycles of whole steps, the segments of ``exp(c * step)`` and
    of the inverse square root (block kernels run in runs), and segments of one step (growing
    real-valued cycles, a fast exponential decay, a staircase)."""
    return {
        "equal cycles": fastlr.CosineDecayRestarts(1.0, 1000, t_mul=1.0, alpha=0.1),
        "equal cycles, decaying": fastlr.CosineDecayRestarts(0.5, 777, t_mul=1.0, m_mul=0.9),
        "doubling": fastlr.WarmupCosineRestarts(
            1.0, 150, cycle_mult=2.0, warmup_steps=10, gamma=0.7
        ),
        "doubling, fixed warmup": fastlr.WarmupCosineRestarts(
            1.0, 150, cycle_mult=2.0, warmup_steps=10, scale_warmup=False
        ),
        "doubling, Keras's default": fastlr.CosineDecayRestarts(1.0, 300),
        "equal cycles past 2**63": fastlr.CosineDecayRestarts(1.0, 2**53 - 1, t_mul=1.0),
        "doubling past 2**63": fastlr.WarmupCosineRestarts(1.0, 3, cycle_mult=2.0),
        "growing, one step a segment": fastlr.CosineDecayRestarts(1.0, 300, t_mul=1.5),
        "whole cycles of 1.5, one step a segment": fastlr.WarmupCosineRestarts(
            1.0, 300, cycle_mult=1.5, warmup_steps=30, whole_cycles=True
        ),
        "exp, long segments": fastlr.ExponentialDecay(0.1, 10**6, 0.5),
        "exp, segments of one step": fastlr.ExponentialDecay(1.0, 3, 0.01),
        "exp, staircase": fastlr.ExponentialDecay(1.0, 1000, 0.5, staircase=True),
        "exp, float decay steps": fastlr.ExponentialDecay(1.0, 2500.5, 0.9),
        "exp ramp": fastlr.ExponentialRange(1e-7, 10.0, 10**6 + 3),
        "exp ramp, ending inside the ranges": fastlr.ExponentialRange(1e-3, 1.0, 2 * 4096 + 5),
        "inverse sqrt": fastlr.InverseSqrtDecay(0.1, warmup_steps=5000),
        "inverse sqrt, no warmup": fastlr.InverseSqrtDecay(1.0, 0, timescale=3),
    }


def _block_ranges() -> list[tuple[int, int, int]]:
    """``(start, stride, n)``: from 0, mid-way, at 2**62 and ending at 2**63 - 1, strides of
    one step to 2**20 (segments shorter than MIN_RUN steps of the range: the fallback)."""
    b = numba_cpu.BLOCK
    return [
        (0, 1, 5 * b + 123),
        (10**6 + 5, 3, 3 * b + 1),
        (2**62 - 5 * b, 1, 10 * b),
        (2**63 - 1 - 7 * 2 * b, 7, 2 * b + 1),
        (2**40, 2**20, 2 * b),
    ]


@pytest.mark.parametrize("start, stride, n", _block_ranges())
@pytest.mark.parametrize("name", sorted(_segmented_cases()))
def test_block_kernels_give_the_step_by_step_results_bit_for_bit(name, start, stride, n):
    """A segmented schedule's block kernels (a segment's items computed once per run of steps)
    equal the step-by-step kernels and the array kernel, on int64 and whole-number steps."""
    from fastlr.engines._structure import flat_args, structure
    from fastlr.engines._vocabulary import WHOLE_LIMIT

    schedule = _segmented_cases()[name]
    flat, shape = flat_args(schedule)
    mod = numba_cpu.kernels(structure(schedule), shape)
    by_array = np.empty(n)
    mod.array_kernel(np.arange(n, dtype=np.int64) * stride + start, by_array, flat)
    kinds = [("", np.int64)]
    if start + (n - 1) * stride < WHOLE_LIMIT:
        kinds.append(("whole_", np.float64))
    for prefix, kind in kinds:
        by_steps, by_blocks = np.empty(n), np.empty(n)
        getattr(mod, prefix + "range_kernel")(kind(start), kind(stride), by_steps, flat)
        getattr(mod, prefix + "block_range_kernel")(kind(start), kind(stride), by_blocks, flat)
        np.testing.assert_array_equal(by_blocks, by_array)
        np.testing.assert_array_equal(by_steps, by_array)


def test_block_kernels_are_chosen_where_segments_are_long():
    from fastlr.engines._structure import flat_args, structure

    def chosen(schedule, start, stride, n):
        flat, shape = flat_args(schedule)
        mod = numba_cpu.kernels(structure(schedule), shape)
        kernel, _ = numba_cpu.range_kernel(mod, flat, start, stride, n)
        return next(k for k in dir(mod) if getattr(mod, k) is kernel)

    long_cycles = fastlr.CosineDecayRestarts(1.0, 1000, t_mul=1.0)
    n = numba_cpu.BLOCKS_FROM
    assert chosen(long_cycles, 0, 1, n) == "whole_block_range_kernel"
    assert chosen(long_cycles, 2**60, 1, n) == "block_range_kernel"
    assert chosen(long_cycles, 0, 1, n - 1) == "whole_range_kernel"  # too few steps
    assert chosen(long_cycles, 0, 100, n) == "whole_range_kernel"  # 10 steps of it a cycle
    assert chosen(fastlr.CosineDecayRestarts(1.0, 3, t_mul=1.0), 0, 1, n) == "whole_range_kernel"
    growing = fastlr.CosineDecayRestarts(1.0, 300, t_mul=1.5)  # segments of one step
    assert chosen(growing, 0, 1, n) == "whole_range_kernel"
    assert chosen(fastlr.CosineDecay(1.0, 1000), 0, 1, n) == "whole_range_kernel"
    # samples spread evenly must not alias with the cycles: here each of the 17 falls p - 1
    # steps before its cycle ends (step p * 1999); the segment after it has 1000 steps
    assert chosen(long_cycles, 0, 1, 16 * 1999 + 1) == "whole_block_range_kernel"


@pytest.mark.parametrize("name", sorted(_segmented_cases()))
def test_a_segments_items_are_the_same_at_every_step_of_it(name):
    """The contract block kernels rely on (see :class:`fastlr.schedules.Schedule`): from a step
    to its segment's last step, ``segment`` returns the same tuple, and the next step starts a
    new segment. Checked on the NumPy engine at random steps up to 2**63 - 1."""
    from fastlr._ops import bind
    from fastlr.engines.numpy_ref import NumpyOps

    schedule = _segmented_cases()[name]
    segment = bind(type(schedule).segment, NumpyOps)
    args = schedule.formula_args()
    rng = np.random.default_rng(7)
    steps = [0, 1, 2**63 - 1, *rng.integers(0, 2**63 - 1, 200, dtype=np.int64).tolist()]
    for step in steps:
        with np.errstate(all="ignore"):  # a where's discarded side may overflow, as in evaluate
            _check_segment(segment, args, step)


def _check_segment(segment, args, step: int) -> None:
    seg = [np.asarray(x).item() for x in segment(np.int64(step), *args)]
    last = seg[0]
    assert step <= last <= 2**63 - 1
    for t in {step, step + (last - step) // 2, last}:
        assert [np.asarray(x).item() for x in segment(np.int64(t), *args)] == seg
    if last < 2**63 - 1:
        assert np.asarray(segment(np.int64(last + 1), *args)[0]).item() > last


def test_a_segmented_formula_takes_segments_parameters():
    """``inside`` must take ``(step, seg)`` and then exactly ``segment``'s parameters: the
    composed ``formula`` passes them through."""
    from fastlr.schedules._base import Schedule

    with pytest.raises(TypeError, match="must take"):

        class _Bad(Schedule):
            @staticmethod
            def segment(step, a):
                return (step,)

            @staticmethod
            def inside(step, seg, b):
                return 0.0 * step
