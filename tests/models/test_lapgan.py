"""LAPGAN: the Laplacian pyramid's reconstruction identity, the critics' pairs,
coarse-to-fine sampling and level-by-level training."""

import numpy as np
import pytest

import unigen
from unigen.models.pyramid import layers as pl


def test_collapsing_the_laplacian_pyramid_gives_the_image_back_exactly():
    x, _ = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    images = (np.asarray(x[:16], "float32") / 16.0) * 2.0 - 1.0  # the GAN's range
    pyramid = pl.laplacian_pyramid(images, 3)
    assert [tuple(p.shape[1:3]) for p in pyramid] == [(8, 8), (4, 4), (2, 2)]
    np.testing.assert_array_equal(pl.collapse_pyramid(pyramid).numpy(), images)
    np.testing.assert_array_equal(pyramid[-1].numpy(), images.reshape(16, 2, 4, 2, 4, 1)
                                  .mean((2, 4)))
    # Band-pass: each residual averages to 0 over every 2x2 block.
    np.testing.assert_allclose(pl.downsample(pyramid[0]).numpy(), 0.0, atol=1e-6)
    floats = np.random.default_rng(0).normal(size=(3, 28, 28, 2)).astype("float32")
    np.testing.assert_allclose(pl.collapse_pyramid(pl.laplacian_pyramid(floats, 3)).numpy(),
                               floats, atol=1e-6)


def _lapgan(**kwargs):
    return unigen.models.LAPGAN(**{**dict(image_shape=(8, 8, 1), num_levels=17, latent_dim=3,
                                          filters=3, coarse_units=6), **kwargs})


def test_each_critic_sees_residual_and_upsampled_coarse_image_pairs():
    gan = _lapgan()
    gan.build()
    x = np.asarray(unigen.datasets.as_numpy("digits", "train")[:4])
    real = gan._preprocess(x)
    pairs = gan._level_pairs(real, 0, training=False)
    pyramid = pl.laplacian_pyramid(real, 3)
    assert [tuple(p[0].shape) for p in pairs] == [(4, 8, 8, 2), (4, 4, 4, 2), (4, 2, 2, 1)]
    for k in range(2):
        coarse_up = pl.upsample(pl.downsample(real, k + 1)).numpy()
        np.testing.assert_array_equal(pairs[k][0].numpy()[..., :1], pyramid[k].numpy())
        np.testing.assert_array_equal(pairs[k][0].numpy()[..., 1:], coarse_up)
        np.testing.assert_array_equal(pairs[k][1].numpy()[..., 1:], coarse_up)  # same condition
    assert [c.name for c in gan.critics] == ["critic_0", "critic_1", "critic_2"]


def test_sampling_runs_coarse_to_fine_in_the_data_range():
    gan = _lapgan()
    samples = gan.sample(6, seed=2).numpy()
    assert samples.shape == (6, 8, 8, 1)
    assert samples.min() >= 0 and samples.max() <= 16
    np.testing.assert_array_equal(samples, np.round(samples))
    np.testing.assert_array_equal(gan.sample(6, seed=2), samples)


def test_level_by_level_training_updates_only_that_level():
    x = np.asarray(unigen.datasets.as_numpy("digits", "train")[:32])
    gan = _lapgan(train_level=1)
    gan.build()
    before = [[w.numpy().copy() for w in g.weights] for g in gan.level_generators]
    unigen.fit(gan, x, epochs=1, batch_size=16, seed=0, verbose=0)
    for k, generator in enumerate(gan.level_generators):
        changed = any(not np.array_equal(a, b.numpy())
                      for a, b in zip(before[k], generator.weights, strict=True))
        assert changed == (k == 1), k
    assert [int(c.optimizer.iterations) for c in gan.critics] == [0, 2, 0]
    with pytest.raises(ValueError, match="train_level"):
        gan.set_train_level(3)
    with pytest.raises(ValueError, match="multiples of 4"):
        _lapgan(image_shape=(6, 6, 1), levels=3)
    with pytest.raises(ValueError, match="critic"):
        _lapgan(divergence="mmd")
