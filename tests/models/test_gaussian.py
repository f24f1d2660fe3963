"""The Gaussian baseline: its density against NumPy/SciPy, sampling, saving."""

import numpy as np
import pytest
import scipy.stats
import tensorflow as tf

import unigen
from unigen.errors import DataError


def _digits(split="test"):
    return unigen.datasets.as_numpy("digits", split)


def _trained_diagonal(num_levels=17):
    model = unigen.models.Gaussian((8, 8, 1), num_levels=num_levels)
    model.data_dependent_init(tf.constant(_digits("train"), "float32"))
    return model


def test_discretised_log_prob_matches_numpy_on_digits():
    model = _trained_diagonal()
    x = _digits()
    mu = model.loc.numpy()
    sigma = model._scale_diag().numpy()
    flat = x.reshape(len(x), -1).astype(np.float64)
    a = np.where(flat == 0, -np.inf, (flat - 0.5 - mu) / sigma)
    b = np.where(flat == 16, np.inf, (flat + 0.5 - mu) / sigma)
    # Mass of [a, b] under N(0, 1), from the tail where it is accurate.
    norm = scipy.stats.norm
    mass = np.where(a > 0, norm.sf(a) - norm.sf(b), norm.cdf(b) - norm.cdf(a))
    expected = np.log(mass).sum(axis=1)
    np.testing.assert_allclose(model.log_prob(x).numpy(), expected, rtol=1e-4, atol=1e-3)


def test_discretised_masses_sum_to_one():
    model = unigen.models.Gaussian((1,), num_levels=5)
    model.build()
    model.loc.assign([1.3])
    levels = np.arange(5, dtype=np.float32)[:, None]
    total = np.exp(model.log_prob(levels).numpy()).sum()
    assert total == pytest.approx(1.0, abs=1e-5)


def test_continuous_diagonal_and_full_match_scipy():
    rng = np.random.RandomState(0)
    x = rng.randn(50, 3).astype(np.float32)
    diag = unigen.models.Gaussian((3,))
    diag.build()
    diag.loc.assign([0.5, -1.0, 2.0])
    expected = scipy.stats.norm.logpdf(x, loc=[0.5, -1.0, 2.0], scale=1.0).sum(1)
    np.testing.assert_allclose(diag.log_prob(x).numpy(), expected, rtol=1e-5)

    full = unigen.models.Gaussian((3,), covariance="full")
    full.build()
    full.off_diagonal.assign([0.3, -0.2, 0.4])
    tril = full._scale_tril().numpy()
    assert np.allclose(np.triu(tril, 1), 0.0)
    cov = tril @ tril.T
    expected = scipy.stats.multivariate_normal.logpdf(x, mean=np.zeros(3), cov=cov)
    np.testing.assert_allclose(full.log_prob(x).numpy(), expected, rtol=1e-5)


def test_sampling_is_seeded_and_in_range():
    model = _trained_diagonal()
    a, b = model.sample(32, seed=3), model.sample(32, seed=3)
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, model.sample(32, seed=4))
    a = a.numpy()
    assert a.shape == (32, 8, 8, 1) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 16 and np.all(a == np.round(a))


def test_fit_reaches_the_closed_form_maximum_likelihood():
    rng = np.random.RandomState(1)
    x = (rng.randn(2048, 2) * [0.5, 2.0] + [1.0, -3.0]).astype(np.float32)
    model = unigen.models.Gaussian((2,))
    history = unigen.fit(model, x, epochs=30, batch_size=256, seed=0, learning_rate=0.05,
                         verbose=0)
    np.testing.assert_allclose(model.loc.numpy(), x.mean(0), atol=0.05)
    np.testing.assert_allclose(model._scale_diag().numpy(), x.std(0), rtol=0.05)
    closed_form = -scipy.stats.norm.logpdf(x, x.mean(0), x.std(0)).sum(1).mean()
    assert history.history["loss"][-1] == pytest.approx(closed_form, rel=0.02)


def test_keras_round_trip_gives_identical_log_prob_and_samples(tmp_path):
    model = _trained_diagonal()
    model.compile(optimizer="adam")
    path = str(tmp_path / "gauss.keras")
    model.save(path)
    again = unigen.load(path)
    assert type(again) is unigen.models.Gaussian
    assert again.num_levels == 17 and again.event_shape == (8, 8, 1)
    x = _digits()[:64]
    np.testing.assert_array_equal(model.log_prob(x), again.log_prob(x))
    np.testing.assert_array_equal(model.sample(8, seed=5), again.sample(8, seed=5))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.zeros((4, 8, 8, 1), np.float32) + np.nan, "NaN"),
        (np.zeros((4, 8, 8), np.float32), r"x\[\.\.\., None\]"),
        (np.zeros((8, 8, 1), np.float32), r"x\[None\]"),
        (np.zeros((4, 28, 28, 1), np.float32), "event_shape"),
        (np.full((4, 8, 8, 1), 0.5, np.float32), r"scaled to \[0, 1\]"),
        (np.full((4, 8, 8, 1), 255, np.uint8), "num_levels"),
        (np.array([["a"] * 64] * 2).reshape(2, 8, 8, 1), "numeric"),
    ],
)
def test_bad_data_is_refused_with_a_clear_message(x, match):
    model = unigen.models.Gaussian((8, 8, 1), num_levels=17)
    with pytest.raises(DataError, match=match):
        model.log_prob(x)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"event_shape": (0, 2)}, "event_shape"),
        ({"event_shape": "abc"}, "event_shape"),
        ({"event_shape": (2,), "covariance": "banded"}, "covariance"),
        ({"event_shape": (2,), "covariance": "full", "num_levels": 17}, "diagonal"),
        ({"event_shape": (2,), "num_levels": 1}, "num_levels"),
        ({"event_shape": (2,), "min_scale": 0.0}, "min_scale"),
    ],
)
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        unigen.models.Gaussian(**kwargs)


def test_sample_arguments_are_checked():
    model = unigen.models.Gaussian((2,))
    with pytest.raises(ValueError, match="num_samples"):
        model.sample(0)
    with pytest.raises(ValueError, match="seed"):
        model.sample(2, seed="x")
