"""Progressive growing (ProGAN): fade-in identities, ProGAN's layers against NumPy,
the growth schedule, and exact resume of growth and fade-in from a checkpoint."""

import numpy as np
import pytest

import unigen
from unigen.models.pyramid import ProgressiveCritic, ProgressiveGenerator, growth_schedule
from unigen.models.pyramid import layers as pl


def test_growth_schedule_phases_and_fades():
    got = [tuple(float(v) for v in growth_schedule(t, 3, 2, 4)) for t in range(15)]
    expected = ([(0, 1.0)] * 2 + [(1, a) for a in (0, .25, .5, .75)] + [(1, 1.0)] * 2
                + [(2, a) for a in (0, .25, .5, .75)] + [(2, 1.0)] * 3)
    assert got == expected


def _at(network, stage, alpha):
    network.stage.assign(stage)
    network.alpha.assign(alpha)


def test_generator_fade_in_at_zero_and_one_is_the_smaller_and_larger_network():
    gen = ProgressiveGenerator((8, 8, 1), base_filters=2)
    gen.build((None, 5))
    z = np.random.default_rng(0).normal(size=(4, 5)).astype("float32")
    for s in (1, 2):
        _at(gen, s - 1, 1.0)
        smaller = gen(z).numpy()
        _at(gen, s, 0.0)
        np.testing.assert_array_equal(gen(z).numpy(), smaller)
        _at(gen, s, 1.0)
        features = gen._features(z, s)
        larger = pl.upsample(gen.to_rgb[s](features[s]), 2 - s).numpy()
        np.testing.assert_array_equal(gen(z).numpy(), larger)
        _at(gen, s, 0.3)
        np.testing.assert_allclose(gen(z).numpy(), 0.7 * smaller + 0.3 * larger,
                                   rtol=1e-5, atol=1e-6)
    # Early stages are blocky: a stage-0 image is a 2x2 grid upsampled to 8x8.
    _at(gen, 0, 1.0)
    image = gen(z).numpy()
    np.testing.assert_array_equal(image, pl.upsample(pl.downsample(image, 2), 2).numpy())


def test_critic_fade_in_at_zero_and_one_is_the_smaller_and_larger_network():
    critic = ProgressiveCritic((8, 8, 1), base_filters=2, group_size=2)
    critic.build((None, 8, 8, 1))
    x = np.random.default_rng(1).normal(size=(4, 8, 8, 1)).astype("float32")
    for s in (1, 2):
        _at(critic, s - 1, 1.0)
        smaller = critic(x).numpy()
        _at(critic, s, 0.0)
        np.testing.assert_array_equal(critic(x).numpy(), smaller)
        _at(critic, s, 1.0)
        larger = critic(x).numpy()
        assert not np.allclose(larger, smaller)
        _at(critic, s, 0.5)
        mixed = critic(x).numpy()
        assert np.isfinite(mixed).all() and mixed.shape == (4, 1)


def test_pixel_norm_and_minibatch_stddev_against_numpy():
    x = np.random.default_rng(2).normal(size=(6, 3, 2, 5)).astype("float32")
    expected = x / np.sqrt(np.mean(x.astype("float64") ** 2, -1, keepdims=True) + 1e-8)
    np.testing.assert_allclose(pl.PixelNorm()(x).numpy(), expected, rtol=1e-5)
    out = pl.MinibatchStdDev(group_size=3)(x).numpy()
    assert out.shape == (6, 3, 2, 6)
    np.testing.assert_array_equal(out[..., :5], x)
    for g in range(2):
        group = x[3 * g:3 * g + 3].astype("float64")
        s = np.mean(np.sqrt(group.var(0) + 1e-8))
        np.testing.assert_allclose(out[3 * g:3 * g + 3, ..., 5], s, rtol=1e-5)
    # A last, smaller batch that is not a multiple of the group: groups of 2.
    ragged = pl.minibatch_stddev(x[:4], group_size=3).numpy()
    np.testing.assert_allclose(ragged[0, ..., 5], np.mean(np.sqrt(x[:2].var(0) + 1e-8)),
                               rtol=1e-5)


def test_equalized_layers_scale_weights_at_run_time():
    layer = pl.EqualizedDense(3)
    x = np.ones((2, 8), "float32")
    y = layer(x).numpy()
    np.testing.assert_allclose(y, x @ layer.kernel.numpy() * np.sqrt(2.0 / 8), rtol=1e-5)
    assert abs(layer.kernel.numpy().std() - 1.0) < 0.5  # drawn N(0, 1), not scaled
    conv = pl.EqualizedConv2D(4, 3)
    assert conv(np.ones((1, 5, 5, 2), "float32")).shape == (1, 5, 5, 4)
    assert conv.scale == pytest.approx(np.sqrt(2.0 / 18))


def _progan(**kwargs):
    options = dict(image_shape=(8, 8, 1), num_levels=17, latent_dim=4, base_filters=2,
                   phase_steps=1, fade_steps=4, group_size=4)
    return unigen.models.ProGAN(**{**options, **kwargs})


def test_growth_and_fade_in_resume_exactly_from_a_checkpoint(tmp_path):
    x = np.asarray(unigen.datasets.as_numpy("digits", "train")[:64])  # 4 steps an epoch
    out = str(tmp_path / "run")
    options = dict(batch_size=16, seed=0, verbose=0)

    def build():  # the "js" game: growth does not depend on it, and it traces faster
        return _progan(divergence="js")

    first = unigen.fit(build, x, epochs=1, output_dir=out, **options)
    # 4 generator steps done: the 4th ran at stage 1, alpha = 0.5 (mid-fade).
    assert (first.model.stage, first.model.alpha) == (1, 0.5)
    first.model.save(str(tmp_path / "mid_fade.keras"))
    loaded = unigen.load(str(tmp_path / "mid_fade.keras"))
    assert (loaded.stage, loaded.alpha) == (1, 0.5)
    resumed = unigen.fit(build, x, epochs=2, output_dir=out, **options)
    straight = unigen.fit(build, x, epochs=2, **options)
    assert (resumed.model.stage, resumed.model.alpha) == (2, 0.25) == (
        straight.model.stage, straight.model.alpha)
    np.testing.assert_allclose(resumed.history["loss"], straight.history["loss"], rtol=1e-6)
    for a, b in zip(resumed.model.get_weights(), straight.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)


def test_progan_checks_its_options():
    with pytest.raises(ValueError, match="phase_steps"):
        _progan(phase_steps=0)
    with pytest.raises(ValueError, match="num_classes"):
        _progan(num_classes=10)
    gan = _progan()
    with pytest.raises(unigen.errors.DataError, match="group_size"):
        gan.validate_data(np.zeros((6, 8, 8, 1)))
    gan.build()
    gan.set_growth(2, 0.5)
    assert (gan.stage, gan.alpha) == (2, 0.5)
    assert int(gan.discriminator.stage.numpy()) == 2
    assert float(gan.discriminator.alpha.numpy()) == 0.5


def test_drift_term_in_the_critic_loss_against_a_hand_computation():
    gan = _progan(drift=0.5)  # a large epsilon, to see it clearly
    assert _progan().drift == _progan().critic.drift == 1e-3  # the paper's default
    assert gan.get_config()["drift"] == 0.5
    assert unigen.models.ProGAN.from_config(gan.get_config()).critic.drift == 0.5
    gan.build()
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    fake = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    total, logs = gan.critic.loss(real, fake, seed=0)
    v_real = gan.critic(real).numpy().astype("float64")
    v_fake = gan.critic(fake).numpy().astype("float64")
    drift = np.mean(v_real**2)
    np.testing.assert_allclose(float(logs["drift"]), drift, rtol=1e-5)
    # L_D = E[D(G(z))] - E[D(x)] + gradient penalty + epsilon E[D(x)^2]
    expected = v_fake.mean() - v_real.mean() + float(logs["critic_penalty"]) + 0.5 * drift
    np.testing.assert_allclose(float(total), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(ValueError, match="drift"):
        _progan(drift=-1.0)

