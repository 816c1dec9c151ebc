"""The formula vocabulary: every engine provides exactly it, and each primitive keeps its stated
accuracy in every engine, checked against mpmath (200 bits) or exact Python integers.

Engines: NumPy (float64 reference), TensorFlow (graph ops), Numba CPU (the branch-free vector
versions), and numba-cuda (Numba's simulator here; libm meanings).
"""

from __future__ import annotations

import math

import mpmath
import numpy as np
import pytest
from numba import njit

from fastlr._ops import VOCABULARY
from fastlr.engines.numpy_ref import NumpyOps

mpmath.mp.prec = 200
RNG = np.random.default_rng(20261202)


# -- the engines, as functions over NumPy arrays ----------------------------------------------
def _names(ns) -> set[str]:
    """The vocabulary names a namespace (class or module) provides."""
    return {
        n for n in vars(ns) if not n.startswith("_") and n != "name" and callable(getattr(ns, n))
    }


def _tf_ops():
    from fastlr.engines.graph import TensorFlowOps

    return TensorFlowOps


def _jax_ops():
    from fastlr.engines.jax_ops import JaxOps

    return JaxOps


def _torch_ops():
    from fastlr.engines.torch_ops import TorchOps

    return TorchOps


def _cpu_ops():
    from fastlr.engines import numba_cpu

    return numba_cpu.ops


def _cuda_ops():
    from fastlr.engines import numba_cuda

    return numba_cuda.ops()


def test_every_engine_provides_exactly_the_vocabulary():
    want = set(VOCABULARY)
    assert {n for n in dir(NumpyOps) if not n.startswith("_") and n != "name"} == want
    tf_ops = _tf_ops()
    assert {n for n in dir(tf_ops) if not n.startswith("_") and n != "name"} == want
    assert _names(_cpu_ops()) == want
    assert _names(_jax_ops()) == want
    assert _names(_torch_ops()) == want
    assert _names(_cuda_ops()) == want


_KERNELS: dict = {}


def _numba_map(fn, nargs: int, out_dtype):
    """A compiled loop applying the Numba vocabulary function ``fn`` elementwise."""
    key = (fn, nargs, out_dtype)
    if key not in _KERNELS:
        if nargs == 1:

            def apply(a, out):
                for i in range(a.shape[0]):
                    out[i] = fn(a[i])

        else:

            def apply(a, b, out):
                for i in range(a.shape[0]):
                    out[i] = fn(a[i], b[i])

        _KERNELS[key] = njit(error_model="numpy")(apply)
    return _KERNELS[key]


_CUDA_SOURCE = """
@cuda.jit
def apply1(a, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = fn(a[i])


@cuda.jit
def apply2(a, b, out):
    i = cuda.grid(1)
    if i < out.shape[0]:
        out[i] = fn(a[i], b[i])
"""


def _cuda_map(name: str, args, out_dtype):
    """The numba-cuda vocabulary function applied by a kernel (the simulator needs ``cuda`` as
    a global of the kernel, hence the small generated module)."""
    from numba import cuda

    scope = {"cuda": cuda, "fn": getattr(_cuda_ops(), name)}
    exec(_CUDA_SOURCE, scope)
    out = np.empty(len(args[0]), dtype=out_dtype)
    scope[f"apply{len(args)}"][1, len(out)](*args, out)
    return out


def apply(engine: str, name: str, *args):
    """``name`` of the vocabulary applied elementwise to the arrays ``args`` by ``engine``."""
    args = [np.asarray(a) for a in args]
    integer = name in ("floordiv", "ceildiv", "ilog2", "iexp2")
    out_dtype = np.int64 if integer else np.float64
    if engine == "numpy":
        return np.asarray(getattr(NumpyOps, name)(*args), dtype=out_dtype)
    if engine == "tensorflow":
        import tensorflow as tf

        tensors = [tf.constant(a) for a in args]
        return np.asarray(getattr(_tf_ops(), name)(*tensors).numpy(), dtype=out_dtype)
    if engine == "jax":
        import jax

        with jax.enable_x64(True):
            return np.asarray(getattr(_jax_ops(), name)(*args), dtype=out_dtype)
    if engine == "torch":
        import torch

        tensors = [torch.from_numpy(a) for a in args]
        return np.asarray(getattr(_torch_ops(), name)(*tensors).numpy(), dtype=out_dtype)
    if engine == "numba":
        out = np.empty(len(args[0]), dtype=out_dtype)
        _numba_map(getattr(_cpu_ops(), name), len(args), out_dtype)(*args, out)
        return out
    if engine == "cuda":  # the simulator is slow: a few points only
        return _cuda_map(name, [a[:64] for a in args], out_dtype)
    raise AssertionError(engine)


ENGINES = ("numpy", "tensorflow", "jax", "torch", "numba", "cuda")
LIBRARY_ULPS = {"tensorflow": 2.0, "jax": 2.0}
"""TensorFlow's and XLA's own exp/log/log1p (Eigen's and XLA's vector versions) are within 2
float64 ulps, not 1 (JAX's log1p is fastlr's, from XLA's log: XLA's own is off by ~100)."""


def ulps(got, exact) -> np.ndarray:
    """|got - exact| in float64 ulps of the exact value (mpmath numbers)."""
    out = []
    for g, e in zip(got, exact, strict=True):
        ef = float(e)
        if ef == 0.0 or math.isinf(ef):
            out.append(0.0 if float(g) == ef else math.inf)
            continue
        out.append(abs(float((mpmath.mpf(float(g)) - e) / math.ulp(abs(ef)))))
    return np.asarray(out)


# -- exp, log, log1p, power ---------------------------------------------------------------------
EXP_X = np.concatenate(
    [RNG.uniform(-745, 709, 400), RNG.uniform(-1, 1, 100), [0.0, -1e-300, 1e-17, -745.1, 709.7]]
)
LOG_X = np.concatenate(
    [
        np.exp(RNG.uniform(-744, 709, 400)),
        RNG.uniform(0.5, 2.0, 100),
        [5e-324, 1e-310, 2.0**-1022, 1.0, 2.0, np.sqrt(2.0), 1.7976931348623157e308],
    ]
)
LOG1P_X = np.concatenate(
    [np.exp(RNG.uniform(-60, 40, 300)), -RNG.uniform(0, 0.99, 100), [1e-300, 1e-17, 0.0]]
)


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    "name, xs, exact",
    [
        ("exp", EXP_X, mpmath.exp),
        ("log", LOG_X, mpmath.log),
        ("log1p", LOG1P_X, mpmath.log1p),
    ],
)
def test_elementary_function_within_one_ulp(engine, name, xs, exact):
    got = apply(engine, name, xs)
    xs = xs[: len(got)]
    want = [exact(mpmath.mpf(float(x))) for x in xs]
    # TensorFlow flushes subnormals to zero on the CPU (inputs and results): compared on normals
    normal = np.array(
        [
            ((abs(float(w)) >= 2.0**-1022 or float(w) == 0) and abs(x) >= 2.0**-1022) or x == 0
            for w, x in zip(want, xs, strict=True)
        ]
    )
    err = ulps(got[normal], [w for w, n in zip(want, normal, strict=True) if n])
    bound = LIBRARY_ULPS.get(engine, 1.0)
    assert err.max() <= bound, (name, engine, float(err.max()), xs[normal][int(np.argmax(err))])


def test_edge_values_of_the_cpu_vector_functions():
    inf = np.inf
    assert apply("numba", "exp", [-inf, -1000.0, 1000.0, inf, 0.0]).tolist() == [
        0.0,
        0.0,
        inf,
        inf,
        1.0,
    ]
    got = apply("numba", "log", [0.0, inf, -1.0, np.nan, 1.0])
    assert got[0] == -inf and got[1] == inf and np.isnan(got[2]) and np.isnan(got[3])
    assert got[4] == 0.0
    # power: 0**b, a**0, 1**b, and a dyadic result that must come out exact
    got = apply("numba", "power", [0.0, 0.0, 0.7, 1.0, 0.5], [2.0, 0.0, 0.0, 1e300, 3.0])
    assert got.tolist() == [0.0, 1.0, 1.0, 1.0, 0.125]


POWER_A = np.concatenate([RNG.uniform(0, 1, 300), np.exp(RNG.uniform(-30, 5, 100)), [0.9, 0.5]])
POWER_B = np.concatenate([np.exp(RNG.uniform(-6, 9, 400)), [1e4, 3.0]])


@pytest.mark.parametrize("engine", ENGINES)
def test_power_within_its_stated_bound(engine):
    """``1 + |b log a| / 32`` float64 ulps (VOCABULARY's promise), for results above 1e-300.

    TensorFlow's own ``pow`` (Eigen: ``exp(b * log(a))`` in float64) is within
    ``1 + |b log a|`` ulps: far below float32's ulp, which is what its graph path returns.
    """
    got = apply(engine, "power", POWER_A, POWER_B)
    a, b = POWER_A[: len(got)], POWER_B[: len(got)]
    want = [
        mpmath.power(mpmath.mpf(float(x)), mpmath.mpf(float(y))) for x, y in zip(a, b, strict=True)
    ]
    keep = np.array([float(w) > 1e-300 for w in want])
    err = ulps(got[keep], [w for w, k in zip(want, keep, strict=True) if k])
    y = np.abs(b[keep] * np.log(a[keep]))
    bound = 1.0 + (y if engine == "tensorflow" else y / 32.0)
    assert (err <= bound).all(), (engine, float((err - bound).max()))


# -- ldexp, floordiv, ceildiv: exact --------------------------------------------------------------
def _ldexp(x: float, k: int) -> float:
    if x == 0.0 or k < -1200:
        return 0.0 * x
    if k > 1100:
        return math.copysign(math.inf, x)
    return math.ldexp(x, k)


@pytest.mark.parametrize("engine", ENGINES)
def test_ldexp_is_exact(engine):
    x = np.concatenate([RNG.uniform(-4, 4, 200), [1.0, 1.0, 1.0, 3.0, 1.0, 1.0]])
    k = np.concatenate(
        [RNG.integers(-1000, 1000, 200), [-1022, 1023, -5000, -1021, 2**62, -(2**62)]]
    ).astype(np.int64)
    got = apply(engine, "ldexp", x, k)
    n = len(got)
    want = np.array([_ldexp(float(a), int(b)) for a, b in zip(x[:n], k[:n], strict=True)])
    normal = np.abs(want) >= 2.0**-1022  # subnormal results may flush to zero (TF on the CPU)
    np.testing.assert_array_equal(got[normal], want[normal])
    assert (np.abs(got[~normal]) < 2.0**-1022).all()


def _division_cases():
    top = 2**63 - 1
    b = np.concatenate(
        [
            [1, 2, 3, 7, 1000, 2**31 - 1, 2**52 + 1, 2**53],
            RNG.integers(1, 2**53, 40),
            RNG.integers(1, 100, 40),
        ]
    ).astype(np.int64)
    rows = []
    for d in b:
        d = int(d)
        for a in (0, 1, -1, d - 1, d, d + 1, -d, top, -top, top - d, 2**62, 2**53 + 1, -(2**53)):
            rows.append((a, d))
        rows += [(int(a), d) for a in RNG.integers(-top, top, 20, dtype=np.int64)]
    a, d = zip(*rows, strict=True)
    return np.array(a, dtype=np.int64), np.array(d, dtype=np.int64)


DIV_A, DIV_B = _division_cases()


@pytest.mark.parametrize("engine", ENGINES)
def test_integer_floordiv_and_ceildiv_are_exact_at_every_int64(engine):
    a, b = DIV_A, DIV_B
    if engine == "cuda":  # the simulator: a sample across the table
        idx = np.linspace(0, len(a) - 1, 64).astype(int)
        a, b = a[idx], b[idx]
    got = apply(engine, "floordiv", a, b)
    want = [int(x) // int(y) for x, y in zip(a[: len(got)], b[: len(got)], strict=True)]
    assert got.tolist() == want
    got = apply(engine, "ceildiv", a, b)
    want = [-((-int(x)) // int(y)) for x, y in zip(a[: len(got)], b[: len(got)], strict=True)]
    assert got.tolist() == want


def _ilog2_cases() -> np.ndarray:
    """Around every power of two (where float(n) rounds up to it past 2**53), then random."""
    edges = [2**e + d for e in range(63) for d in (-1, 0, 1) if 1 <= 2**e + d < 2**63]
    edges.append(2**63 - 1)
    # the simulator checks the first 64: the top binades, where rounding matters, come first
    edges.sort(key=lambda n: -n)
    rand = RNG.integers(1, 2**63 - 1, 300, dtype=np.int64).tolist()
    rand += [int(x) for x in RNG.integers(1, 2**20, 100)]
    return np.array(edges + rand, dtype=np.int64)


@pytest.mark.parametrize("engine", ENGINES)
def test_ilog2_and_iexp2_are_exact(engine):
    n = _ilog2_cases()
    got = apply(engine, "ilog2", n)
    assert got.tolist() == [int(x).bit_length() - 1 for x in n[: len(got)]]
    k = np.arange(63, dtype=np.int64)
    got = apply(engine, "iexp2", k)
    assert got.tolist() == [2 ** int(x) for x in k[: len(got)]]


def test_whole_number_float_versions_are_exact_below_the_limit():
    """The CPU kernels run on whole-number float64 steps below ``WHOLE_LIMIT`` (2**50): there
    ``floordiv``/``ceildiv`` of a float step by an integer, ``ilog2`` of a float and ``iexp2`` of a
    float give the exact integers, as float64."""
    from fastlr.engines._vocabulary import WHOLE_LIMIT

    top = WHOLE_LIMIT - 1
    keep = (np.abs(DIV_A) <= top) & (DIV_B <= top)
    rows = list(zip(DIV_A[keep].tolist(), DIV_B[keep].tolist(), strict=True))
    for d in (1, 2, 3, 7, 1000, 2**31 - 1, 2**40 + 1, top):
        q = top // d
        rows += [(s * (d * k + e), d) for k in (q, q - 1, 1) for e in (-1, 0, 1) for s in (1, -1)]
        rows += [(top, d), (-top, d)]
    rows = [(a, d) for a, d in rows if abs(a) <= top]
    a = np.array([r[0] for r in rows], dtype=np.float64)
    b = np.array([r[1] for r in rows], dtype=np.int64)
    ops = _cpu_ops()
    for name, want in (
        ("floordiv", [x // y for x, y in rows]),
        ("ceildiv", [-((-x) // y) for x, y in rows]),
    ):
        got = np.empty(len(rows))
        _numba_map(getattr(ops, name), 2, np.float64)(a, b, got)
        assert got.tolist() == want, name
    n = np.array([x for x in _ilog2_cases().tolist() if x <= top] + [top], dtype=np.int64)
    got = np.empty(len(n))
    _numba_map(ops.ilog2, 1, np.float64)(n.astype(np.float64), got)
    assert got.tolist() == [int(x).bit_length() - 1 for x in n]
    k = np.arange(63, dtype=np.float64)
    got = np.empty(63)
    _numba_map(ops.iexp2, 1, np.float64)(k, got)
    assert got.tolist() == [float(2**j) for j in range(63)]


def test_float_divisor_keeps_float_floor_division_on_the_cpu():
    """A float ``decay_steps`` (Keras allows it) goes to Python's float floor division."""
    a = np.array([0, 7, 10, 2**53 - 1], dtype=np.int64)
    b = np.array([2.5, 2.5, 0.1, 3.5])
    got = np.empty(4)
    _numba_map(_cpu_ops().floordiv, 2, np.float64)(a, b, got)
    np.testing.assert_array_equal(got, [float(x) // float(y) for x, y in zip(a, b, strict=True)])


@pytest.mark.parametrize("engine", ENGINES)
def test_div_is_ieee_division(engine):
    """``div`` is bit-identical to ``a / b`` (the CPU's reciprocal-and-FMA form included), on
    integer steps over lengths, random doubles over 40 binades, and the edges 0, inf, nan."""
    n = 4000
    a = np.concatenate(
        [
            RNG.integers(0, 2**62, n // 2).astype(np.float64),
            RNG.uniform(-1, 1, n // 2) * np.exp2(RNG.integers(-20, 20, n // 2)),
            [0.0, 1.0, 5.0, 7.0, 1.0, 0.0, -0.0, -0.0, 3.0, np.inf, -np.inf, np.nan, 1e300],
        ]
    )
    b = np.concatenate(
        [
            RNG.integers(1, 2**53, n // 2).astype(np.float64),
            RNG.uniform(0.5, 1, n // 2) * np.exp2(RNG.integers(-20, 20, n // 2)),
            [3.0, 3.0, 0.0, 1e-300, np.inf, 0.0, 3.0, np.inf, np.inf, 2.0, -2.0, 2.0, 1e-10],
        ]
    )
    with np.errstate(all="ignore"):
        got = apply(engine, "div", a, b)
        want = a[: len(got)] / b[: len(got)]
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))  # zeros keep their sign


# -- curve pieces written in the vocabulary: the segment polynomials ---------------------------
def _segment_polynomials():
    from fastlr.schedules._curves import exp_small
    from fastlr.schedules.inverse_sqrt import inv_sqrt_1p_small

    exp_x = np.concatenate([RNG.uniform(-(2.0**-4), 2.0**-4, 2000), [0.0, 2.0**-4, -(2.0**-4)]])
    inv_z = np.concatenate([RNG.uniform(0, 2.0**-6, 2000), [0.0, 2.0**-6, 1e-300]])
    return [
        pytest.param(exp_small, exp_x, mpmath.exp, id="exp_small"),
        pytest.param(inv_sqrt_1p_small, inv_z, lambda z: 1 / mpmath.sqrt(1 + z), id="inv_sqrt"),
    ]


@pytest.mark.parametrize("engine", ["numpy", "numba"])
@pytest.mark.parametrize("fn, xs, exact", _segment_polynomials())
def test_segment_polynomials_within_one_ulp_over_their_domain(engine, fn, xs, exact):
    """The polynomials segmented formulas continue a segment with (``exp(x)`` for ``|x| <=
    2**-4``, ``(1 + z)**-0.5`` for ``0 <= z <= 2**-6``), as the engines compile them, against
    mpmath: truncation and rounding within 1 float64 ulp (plain ``+`` and ``*``: no engine
    fuses them, so every engine gives these bits)."""
    from fastlr._ops import bind

    if engine == "numpy":
        got = bind(fn, NumpyOps)(xs)
    else:
        compiled = bind(fn, _cpu_ops(), njit)
        got = np.empty_like(xs)
        _numba_map(compiled, 1, np.float64)(xs, got)
    want = [exact(mpmath.mpf(float(x))) for x in xs]
    assert float(ulps(got, want).max()) <= 1.0
