"""Autoregressive models (PixelCNN, CategoricalMADE): the chain rule checked by brute force.

The product of the conditionals is a distribution (enumeration of every 2x2
image), the logits of a pixel depend on exactly the pixels before it (a
Jacobian, which also shows PixelCNN has no blind spot), sampling follows the
model's own conditionals at every temperature, and bad input is refused with
the fix. Fit, saving, resume and replicas are in the contract tests.
"""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import DataError
from unigen.models import CategoricalMADE, PixelCNN
from unigen.models.autoregressive._layers import causal_mask


def _pixelcnn(shape, levels, **kwargs):
    options = {"filters": 8, "num_blocks": 3, "head_units": 8, **kwargs}
    return PixelCNN(shape, num_levels=levels, **options)


def _made(shape, levels, **kwargs):
    model = CategoricalMADE(shape, num_levels=levels, **{"hidden_units": (32,), **kwargs})
    # MADE's output layer starts at zero (uniform conditionals): randomise it so
    # that the checks below see a non-trivial distribution.
    return _randomised(model)


def _randomised(model, scale=0.5):
    """Every weight drawn from N(0, scale^2): no ties between levels, no zero biases."""
    model._ensure_built()
    rng = np.random.RandomState(1)
    for weight in model.trainable_weights:
        weight.assign(rng.normal(0.0, scale, weight.shape).astype("float32"))
    return model


BUILDERS = {"pixelcnn": _pixelcnn, "made": _made}


def _all_images(levels, shape=(2, 2, 1)):
    grid = itertools.product(range(levels), repeat=int(np.prod(shape)))
    return np.array(list(grid), np.float32).reshape(-1, *shape)


@pytest.mark.parametrize("name", ["pixelcnn", "made"])
def test_the_conditionals_multiply_to_a_distribution_over_every_2x2_image(name):
    for levels in (3, 2):  # 81 and 16 images
        model = BUILDERS[name]((2, 2, 1), levels)
        images = _all_images(levels)
        total = np.exp(model.log_prob(images).numpy().astype(np.float64)).sum()
        assert total == pytest.approx(1.0, abs=1e-5)
    # ... and still after training steps, which move it far from uniform.
    data = images[np.random.RandomState(0).choice(len(images), 64, p=np.eye(len(images))[1]
                                                  * 0.7 + 0.3 / len(images))]
    before = model.log_prob(images).numpy()
    unigen.fit(model, data, epochs=3, batch_size=16, learning_rate=1e-2, verbose=0)
    after = model.log_prob(images).numpy()
    assert np.exp(after.astype(np.float64)).sum() == pytest.approx(1.0, abs=1e-5)
    assert after[1] > before[1] + 0.1  # the frequent image became more probable


def _dependence(model, x):
    """[D, D] boolean: the logits of pixel i (row) depend on input pixel j (column)."""
    x = tf.constant(x)
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(x)
        logits = model._logits(x)
        per_pixel = tf.reduce_sum(tf.reshape(logits, [x.shape[0], model.event_size, -1]), -1)
        summed = tf.reduce_sum(tf.square(per_pixel), axis=0)  # [D], over the batch
        rows = [summed[i] for i in range(model.event_size)]
    grads = [tape.gradient(row, x).numpy().reshape(len(x), -1) for row in rows]
    return np.stack([np.abs(g).sum(axis=0) > 0 for g in grads])


def test_pixelcnn_logits_see_exactly_the_pixels_before_them_no_blind_spot():
    model = _pixelcnn((5, 5, 1), 4)
    model._ensure_built()
    x = np.random.RandomState(0).randint(0, 4, (4, 5, 5, 1)).astype("float32")
    sees = _dependence(model, x)
    # Pixel i sees every pixel j < i in raster order and none at or after it:
    # in particular the last pixel sees the ones up and to the right, the blind
    # spot of a PixelCNN made of stacked masked 3x3 convolutions.
    np.testing.assert_array_equal(sees, np.tril(np.ones((25, 25), bool), -1))
    assert sees[24, 0 * 5 + 4] and sees[24, 3 * 5 + 4]  # (0, 4) and (3, 4) from (4, 4)


def test_made_logits_follow_its_ordering():
    model = _made((5, 5, 1), 3, hidden_units=(256,), ordering="random", seed=4)
    x = np.random.RandomState(0).randint(0, 3, (8, 5, 5, 1)).astype("float32")
    sees = _dependence(model, x)
    rank = np.argsort(model.sampling_order())  # rank[d]: when pixel d is generated
    np.testing.assert_array_equal(sees, rank[:, None] > rank[None, :])
    assert model.sampling_order() != list(range(25))


def test_masks_a_and_b_differ_only_in_the_centre():
    np.testing.assert_array_equal(causal_mask("A", 5), [[1, 1, 0, 0, 0]])
    np.testing.assert_array_equal(causal_mask("B", 5), [[1, 1, 1, 0, 0]])
    np.testing.assert_array_equal(causal_mask("vertical", 3), [[1, 1, 1], [1, 1, 1], [0, 0, 0]])


@pytest.mark.parametrize("name", ["pixelcnn", "made"])
def test_sampling_follows_the_models_own_conditionals_at_each_temperature(name):
    model = _randomised(BUILDERS[name]((2, 2, 1), 2))
    images = _all_images(2)
    log_cond = model.conditionals(images).numpy()[..., 0, :].reshape(16, 4, 2)
    chosen = images.reshape(16, 4).astype(int)
    # One batch size throughout: the sampling loop is traced once.
    for temperature in (0.0, 1e-3):  # the most probable level at every step
        draws = model.sample(4000, seed=0, temperature=temperature).numpy()
        assert set(np.unique(draws)) <= {0.0, 1.0} and draws.shape == (4000, 2, 2, 1)
        best = model.conditionals(draws).numpy()[..., 0, :].argmax(-1)
        np.testing.assert_array_equal(draws[..., 0], best)
    for temperature in (1.0, 0.5):
        # P_T(x) = prod_d softmax(log p(. | x_<d) / T)[x_d], over the 16 images.
        tempered = np.log(np.exp(log_cond / temperature)
                          / np.exp(log_cond / temperature).sum(-1, keepdims=True))
        expected = np.exp(np.take_along_axis(tempered, chosen[..., None], -1).sum((1, 2)))
        draws = model.sample(4000, seed=1, temperature=temperature).numpy().reshape(-1, 4)
        index = draws.astype(int) @ np.array([8, 4, 2, 1])
        observed = np.bincount(index, minlength=16) / len(index)
        assert 0.5 * np.abs(observed - expected).sum() < 0.04, (temperature, observed, expected)
    np.testing.assert_array_equal(model.sample(4000, seed=1, temperature=0.5).numpy(),
                                  draws.reshape(-1, 2, 2, 1))  # same seed, same draws


@pytest.mark.parametrize("name", ["pixelcnn", "made"])
def test_bad_input_is_refused_with_the_fix(name):
    model = BUILDERS[name]((4, 4, 1), 17)
    good = np.zeros((2, 4, 4, 1), np.float32)
    with pytest.raises(DataError, match=r"shape \[batch, 4, 4, 1\]"):
        model.log_prob(good[..., 0])
    with pytest.raises(DataError, match="not integers"):
        model.log_prob(good + 2.5)
    with pytest.raises(DataError, match="scaled to"):
        model.log_prob(good + 0.5)
    with pytest.raises(DataError, match=r"integer values in 0\.\.16"):
        model.log_prob(good + 17)
    with pytest.raises(ValueError, match="temperature"):
        model.sample(2, temperature=-1.0)
    cls = type(model)
    with pytest.raises(ValueError, match="needs `num_levels`"):
        cls((4, 4, 1), num_levels=None)


def test_constructor_arguments_are_checked():
    with pytest.raises(ValueError, match="one channel"):
        PixelCNN((8, 8, 3), num_levels=256)
    with pytest.raises(ValueError, match="height, width, channels"):
        PixelCNN((64,), num_levels=17)
    with pytest.raises(ValueError, match="odd int"):
        PixelCNN((8, 8, 1), num_levels=17, kernel_size=4)
    with pytest.raises(ValueError, match=r"permutation of 0\.\.3"):
        CategoricalMADE((4,), num_levels=2, ordering=[0, 1, 1, 2])
    with pytest.raises(ValueError, match="`ordering` must be one of"):
        CategoricalMADE((4,), num_levels=2, ordering="reverse")


def test_estimator_is_exact_and_training_lowers_the_nll_on_digits():
    train = unigen.datasets.as_numpy("digits", "train")[:256]
    model = _pixelcnn((8, 8, 1), 17)
    assert model.likelihood_estimators() == ["exact"]
    before = -model.log_prob(train[:64]).numpy().mean()
    history = unigen.fit(model, train, epochs=2, batch_size=32, learning_rate=3e-3, verbose=0)
    after = -model.log_prob(train[:64]).numpy().mean()
    assert after < before - 20
    # The loss Keras reports is the mean exact NLL.
    assert history.history["loss"][-1] == pytest.approx(
        -model.log_prob(train).numpy().mean(), rel=0.1)


def test_dropout_acts_in_training_only():
    model = _pixelcnn((4, 4, 1), 5, dropout=0.5)
    x = np.random.RandomState(0).randint(0, 5, (3, 4, 4, 1)).astype("float32")
    np.testing.assert_array_equal(model.log_prob(x), model.log_prob(x))
    np.testing.assert_allclose(model(x, training=False), model.log_prob(x), rtol=1e-6)
    assert not np.allclose(model(x, training=True), model(x, training=False))
    assert PixelCNN.from_config(model.get_config()).dropout == 0.5
