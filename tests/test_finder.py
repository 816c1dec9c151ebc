"""The LR range test and its suggestion functions."""

from __future__ import annotations

import keras
import numpy as np
import pytest
import tensorflow as tf

import fastlr
from fastlr.finder import minimum, steepest, valley


# -- suggestion functions on synthetic curves ---------------------------------------------------
def curve(n=200):
    """Flat, then a clean drop centred at lr=1e-3, a floor, then divergence past lr=0.3."""
    lrs = np.logspace(-6, 0, n)
    x = np.log10(lrs)
    loss = 2.0 - 1.5 / (1 + np.exp(-(x + 3) * 3))
    loss = loss + np.where(lrs > 0.3, (x - np.log10(0.3)) * 20, 0.0)
    return lrs, loss


def test_steepest_is_at_the_inflection_of_the_drop():
    lrs, loss = curve()
    assert 3e-4 < steepest(lrs, loss) < 3e-3


def test_minimum_is_a_tenth_of_the_argmin():
    lrs, loss = curve()
    assert minimum(lrs, loss) == pytest.approx(lrs[int(np.argmin(loss))] / 10)


def test_valley_is_inside_the_longest_descent_before_the_minimum():
    lrs, loss = curve()
    v = valley(lrs, loss)
    assert 1e-5 < v < lrs[int(np.argmin(loss))]


def test_suggestions_ignore_non_finite_losses():
    lrs, loss = curve()
    loss[-5:] = np.nan
    loss[-1] = np.inf
    for fn in (steepest, minimum, valley):
        assert np.isfinite(fn(lrs, loss))
    with pytest.raises(ValueError):
        minimum(lrs, np.full_like(loss, np.nan))


# -- find_lr on least squares with a known divergence rate --------------------------------------
def least_squares(n=256, d=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, d)).astype("float32") * np.array([1, 2, 0.5, 3], "float32")
    y = x @ rng.normal(size=(d, 1)).astype("float32")
    hessian = 2.0 / n * x.astype(np.float64).T @ x.astype(np.float64)  # of mean((xw - y)**2)
    return x, y, 2.0 / np.linalg.eigvalsh(hessian).max()  # full-batch GD diverges above this


def compiled(optimizer, d=4):
    keras.utils.set_random_seed(3)
    model = keras.Sequential([keras.Input((d,)), keras.layers.Dense(1, use_bias=False)])
    model.compile(optimizer, "mse", jit_compile=True)
    return model


def state(model):
    return [v.numpy().copy() for v in model.variables + model.optimizer.variables]


@pytest.mark.parametrize("method", ["valley", "steepest", "minimum"])
def test_suggestion_is_below_the_closed_form_divergence_rate(method):
    x, y, divergence = least_squares()
    model = compiled(keras.optimizers.SGD(0.01))
    result = fastlr.find_lr(
        model, x, y, batch_size=len(x), start_lr=1e-4, end_lr=10.0, num_steps=200, method=method
    )
    assert result.stopped_early  # it diverged, and stopped
    assert result.learning_rates[-1] > divergence  # the ramp went past the divergence rate
    assert 0 < result.suggestion < divergence
    assert result.suggestion == result.suggest(method)
    # The ramp is the ExponentialRange the docstring promises, applied in-graph.
    expected = fastlr.ExponentialRange(1e-4, 10.0, 199).evaluate(len(result.learning_rates))
    np.testing.assert_allclose(result.learning_rates, expected, rtol=1e-6)


def test_weights_and_optimizer_state_are_restored_bit_for_bit():
    x, y, _ = least_squares()
    model = compiled(keras.optimizers.Adam(1e-3))
    model.fit(x, y, batch_size=32, epochs=1, verbose=0)  # non-trivial Adam slots and iterations
    before = state(model)
    iterations = int(model.optimizer.iterations.numpy())
    fastlr.find_lr(model, x, y, batch_size=32, num_steps=50)
    after = state(model)
    assert all(np.array_equal(a, b) for a, b in zip(before, after, strict=True))
    assert int(model.optimizer.iterations.numpy()) == iterations
    # ...and training afterwards uses the original learning rate again.
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)


def test_works_with_a_tf_data_dataset():
    x, y, divergence = least_squares()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(len(x))
    model = compiled(keras.optimizers.SGD(0.01))
    result = fastlr.find_lr(model, ds, start_lr=1e-4, end_lr=10.0, num_steps=200)
    assert 0 < result.suggestion < divergence
    assert result.losses.shape == result.smoothed_losses.shape == result.learning_rates.shape


def test_plot_returns_a_figure_and_writes_a_png(tmp_path):
    x, y, _ = least_squares()
    result = fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), x, y, batch_size=64, num_steps=30)
    fig = result.plot(path=tmp_path / "finder.png")
    assert type(fig).__name__ == "Figure"
    assert (tmp_path / "finder.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    fig2 = fastlr.plot_schedule(fastlr.OneCycle(0.1, 100), 100, path=tmp_path / "s.png")
    assert type(fig2).__name__ == "Figure" and (tmp_path / "s.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        (dict(start_lr=0.0), "start_lr"),
        (dict(end_lr=1e-9), "end_lr"),
        (dict(num_steps=1), "num_steps"),
        (dict(num_steps=2.5), "num_steps"),
        (dict(smoothing=1.0), "smoothing"),
        (dict(diverge_threshold=1.0), "diverge_threshold"),
        (dict(batch_size=0), "batch_size"),
        (dict(method="best"), "method"),
        (dict(seed=-1), "seed"),
        (dict(seed=1.5), "seed"),
    ],
)
def test_bad_arguments_name_the_parameter(kwargs, name):
    x, y, _ = least_squares()
    with pytest.raises((ValueError, TypeError), match=f"`{name}`"):
        fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), x, y, **kwargs)


def test_uncompiled_model_is_refused():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="compiled"):
        fastlr.find_lr(model, np.ones((8, 4)), np.ones((8, 1)))


def test_a_broken_ramp_names_both_ends():
    x, y, _ = least_squares()
    with pytest.raises(ValueError) as info:
        fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), x, y, start_lr=1.0, end_lr=1e-3)
    message = str(info.value)
    assert "`start_lr`" in message and "`end_lr`" in message
    assert "Received: start_lr=1.0, end_lr=0.001" in message


def test_missing_targets_for_an_array_get_a_clear_message():
    x, _, _ = least_squares()
    with pytest.raises(ValueError, match="Argument `y` must be given when `x` is an array"):
        fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), x)


@pytest.mark.parametrize(
    ("x", "y", "exc", "match"),
    [
        (None, None, TypeError, "Argument `x`"),
        ("data", None, TypeError, "Argument `x`"),
        (np.ones((8, 4)), np.ones((7, 1)), ValueError, "`x` and `y` must have the same length"),
    ],
)
def test_bad_data_is_refused_up_front(x, y, exc, match):
    with pytest.raises(exc, match=match):
        fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), x, y)


def test_targets_with_a_dataset_are_refused():
    import tensorflow as tf

    x, y, _ = least_squares()
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    with pytest.raises(ValueError, match="Argument `y` must be None"):
        fastlr.find_lr(compiled(keras.optimizers.SGD(0.01)), ds, y)
