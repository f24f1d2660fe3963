"""unigen.GAN, DCGAN and MLPGAN: training step, options, saving, fit and resume.

The adversarial losses themselves (saturation, the optimal discriminator) are
tested in test_gan_theory.py; here: what the model adds on top of them.
"""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import ROOT, run_pythons

import unigen
from unigen import divergences as ud
from unigen import errors
from unigen.models.gan import _ops as ops
from unigen.models.gan import networks as nets


def _mlp_gan(**kwargs):
    keras.utils.set_random_seed(0)
    options = dict(event_shape=(2,), latent_dim=4, hidden_units=(16, 16), seed=1)
    options.update(kwargs)
    return unigen.models.MLPGAN(**options)


def _ring(n=256):
    return unigen.datasets.as_numpy("ring8", "train")[:n]


# ------------------------------------------------------------ construction
def test_wasserstein_without_lipschitz_control_raises_at_construction():
    with pytest.raises(ValueError, match="Lipschitz"):
        _mlp_gan(divergence=ud.Wasserstein(lipschitz=None))


def test_spectral_norm_control_needs_spectrally_normalised_critic():
    g = nets.mlp_generator((2,), 4, (8,))
    d = nets.mlp_discriminator(2, (8,))
    with pytest.raises(ValueError, match="SpectralNormalization"):
        unigen.GAN(g, d, 4, ud.Wasserstein(lipschitz="spectral_norm"))
    sn = nets.mlp_discriminator(2, (8,), spectral_norm=True)
    assert nets.has_spectral_norm(sn)
    unigen.GAN(g, sn, 4, ud.Wasserstein(lipschitz="spectral_norm"))


def test_bad_options_raise_with_the_argument_named():
    with pytest.raises(ValueError, match="label_smoothing"):
        _mlp_gan(divergence="hinge", label_smoothing=0.1)
    with pytest.raises(ValueError, match="pack"):
        _mlp_gan(pack=0)
    with pytest.raises(ValueError, match="gradient_penalty"):
        _mlp_gan(divergence="js", gradient_penalty=10.0)


def test_gan_is_implicit_and_registered():
    gan = unigen.models.create("gan", event_shape=(8, 8, 1), num_levels=17, base_filters=8)
    assert isinstance(gan, unigen.models.DCGAN) and isinstance(gan, unigen.GAN)
    assert isinstance(unigen.models.create("dcgan", event_shape=(2,)), unigen.models.MLPGAN)
    with pytest.raises(errors.ImplicitModelError, match="estimat"):
        gan.log_prob(np.zeros((1, 8, 8, 1), "uint8"))


@pytest.mark.parametrize("shape, plan", [((8, 8, 1), (2, 2, 2)), ((28, 28, 1), (7, 7, 2)),
                                         ((32, 32, 3), (4, 4, 3))])
def test_dcgan_networks_sized_from_the_image_shape(shape, plan):
    assert nets.upsampling_plan(shape) == plan
    g = nets.dcgan_generator(shape, 8, base_filters=4)
    d = nets.dcgan_discriminator(shape, base_filters=4)
    assert g.output_shape == (None, *shape)
    assert d.compute_output_shape((None, *shape)) == (None, 1)
    assert not any(isinstance(layer, keras.layers.MaxPooling2D) for layer in d.layers)


# ---------------------------------------------------------------- pure ops
def test_data_maps_to_generator_range_and_back():
    levels = np.arange(17, dtype="float32")
    scaled = ops.to_generator_range(levels, 17).numpy()
    assert scaled[0] == -1.0 and scaled[-1] == 1.0
    np.testing.assert_array_equal(ops.from_generator_range(scaled, 17).numpy(), levels)
    np.testing.assert_array_equal(ops.from_generator_range([-3.0, 3.0], 17).numpy(), [0, 16])


def test_pack_samples_concatenates_consecutive_examples():
    x = np.arange(24, dtype="float32").reshape(4, 3, 1, 2)  # 4 images 3x1x2
    packed = ops.pack_samples(tf.constant(x), 2).numpy()
    assert packed.shape == (2, 3, 1, 4)
    np.testing.assert_array_equal(packed[1, ..., :2], x[2])
    np.testing.assert_array_equal(packed[1, ..., 2:], x[3])
    v = np.arange(12, dtype="float32").reshape(6, 2)
    np.testing.assert_array_equal(ops.pack_samples(tf.constant(v), 3).numpy(),
                                  v.reshape(2, 6))
    gan = _mlp_gan(pack=4)
    gan._ensure_built()
    assert gan.discriminator.input_shape == (None, 8)
    assert gan.critic(tf.constant(_ring(16))).shape == (4,)


def test_label_smoothing_changes_only_the_real_targets():
    real, fake = tf.constant([[-2.0], [0.5], [3.0]]), tf.constant([[1.0], [-1.0], [0.2]])
    s = 0.2
    smoothed = (ud.get("js").discriminator_loss(real, fake)
                + ops.smoothed_label_term(real, s)).numpy()
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    expected = bce(tf.fill([3, 1], 1.0 - s), real) + bce(tf.zeros([3, 1]), fake)
    np.testing.assert_allclose(smoothed, expected.numpy(), rtol=1e-6)


# ------------------------------------------------------------------ training
def _train(gan, data, steps_epochs=1, batch_size=64, **kwargs):
    return unigen.fit(gan, data, epochs=steps_epochs, batch_size=batch_size, seed=0,
                      verbose=0, **kwargs)


def test_clipped_critic_stays_within_its_bound():
    gan = _mlp_gan(divergence=ud.Wasserstein(lipschitz="clip", clip_value=0.02),
                   discriminator_steps=2)
    _train(gan, _ring(), learning_rate=0.05)
    weights = np.concatenate([np.ravel(w) for w in gan.discriminator.get_weights()])
    assert np.abs(weights).max() <= 0.02 + 1e-7
    assert np.isclose(np.abs(weights).max(), 0.02)  # the clip was active


def test_gradient_penalty_path_trains_and_is_finite():
    gan = _mlp_gan(divergence="wasserstein", gradient_penalty=10.0, discriminator_steps=3)
    history = _train(gan, _ring())
    for key in ("loss", "critic_loss", "critic_penalty"):
        assert np.isfinite(history.history[key]).all(), key
    assert history.history["critic_penalty"][0] > 0
    assert int(gan.discriminator_optimizer.iterations) == 3 * int(gan.optimizer.iterations)


def test_mlp_gan_matches_the_mean_and_std_of_a_gaussian():
    rng = np.random.default_rng(0)
    data = (3.0 + 0.5 * rng.standard_normal((1024, 1))).astype("float32")
    gan = _mlp_gan(event_shape=(1,), latent_dim=1, hidden_units=(16,), seed=3)
    start = gan.sample(2000, seed=0).numpy()
    gap_before = abs(start.mean() - 3.0) + abs(start.std() - 0.5)
    _train(gan, data, steps_epochs=8, batch_size=64, learning_rate=1e-2)  # 128 steps
    end = gan.sample(2000, seed=0).numpy()
    gap_after = abs(end.mean() - 3.0) + abs(end.std() - 0.5)
    assert gap_after < 0.25 * gap_before, (gap_before, gap_after, end.mean(), end.std())


def test_mmd_trains_the_generator_alone():
    gan = _mlp_gan(divergence="mmd")
    assert gan.discriminator is None
    history = _train(gan, _ring())
    assert np.isfinite(history.history["loss"]).all()


def test_ema_weights_differ_from_raw_and_are_what_sample_uses():
    gan = _mlp_gan(ema_decay=0.9)
    _train(gan, _ring())
    raw = gan.generator.get_weights()
    average = gan.ema_generator.get_weights()
    assert any(not np.allclose(r, a) for r, a in zip(raw, average, strict=True))
    z = keras.random.normal((5, gan.latent_dim), seed=7)
    np.testing.assert_allclose(gan.sample(5, seed=7).numpy(),
                               gan.ema_generator(z).numpy(), rtol=1e-6)
    assert not np.allclose(gan.sample(5, seed=7).numpy(), gan.generator(z).numpy())


def test_ema_decay_warms_up_so_the_initial_weights_are_forgotten():
    gan = _mlp_gan(ema_decay=0.999)
    gan.build((None, 2))
    gan.compile_for_fit(learning_rate=1e-2)
    initial = [w.copy() for w in gan.generator.get_weights()]
    history = []
    for _ in range(3):
        gan.train_on_batch(_ring(64))
        weights = gan.generator.get_weights()
        history.append(weights)
    # d_t = min(0.999, (1 + t) / (10 + t)): 2/11, 3/12, 4/13 for t = 1, 2, 3
    expected = initial
    for t, weights in enumerate(history, start=1):
        d = min(0.999, (1 + t) / (10 + t))
        expected = [d * e + (1 - d) * w for e, w in zip(expected, weights, strict=True)]
    for got, want in zip(gan.ema_generator.get_weights(), expected, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)
    # with a constant decay the average would still be 99.7% the initial weights
    moved = [np.abs(g - i).max() for g, i in zip(gan.ema_generator.get_weights(), initial,
                                                  strict=True)]
    assert max(moved) > 0.5 * max(np.abs(h - i).max() for h, i in
                                  zip(history[-1], initial, strict=True))


def test_conditional_sampling_respects_labels():
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, 1024).astype("int32")
    x = (np.where(labels == 0, -2.0, 2.0)[:, None]
         + 0.1 * rng.standard_normal((1024, 1))).astype("float32")
    gan = _mlp_gan(event_shape=(1,), latent_dim=2, hidden_units=(16,), num_classes=2,
                   conditioning="none", auxiliary_classifier_weight=1.0)
    _train(gan, (x, labels), steps_epochs=4, batch_size=128, learning_rate=5e-3)
    zeros = gan.sample(200, seed=1, labels=np.zeros(200, "int32")).numpy()
    ones = gan.sample(200, seed=1, labels=np.ones(200, "int32")).numpy()
    assert zeros.mean() < 0 < ones.mean(), (zeros.mean(), ones.mean())
    with pytest.raises(ValueError, match="labels"):
        gan.sample(3, labels=[0, 5, 1])


def test_conditional_dcgan_projection_shapes():
    keras.utils.set_random_seed(0)
    gan = unigen.models.DCGAN((8, 8, 1), latent_dim=4, num_levels=17, base_filters=4,
                              num_classes=10, conditioning="projection", divergence="hinge",
                              spectral_norm=True)
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    _train(gan, (x[:64], y[:64]), batch_size=32)
    samples = gan.sample(10, seed=0, labels=np.arange(10)).numpy()
    assert samples.shape == (10, 8, 8, 1)
    assert samples.min() >= 0 and samples.max() <= 16
    np.testing.assert_array_equal(samples, np.round(samples))


# ------------------------------------------------------------ saving, resume
def test_keras_round_trip_restores_samples_and_both_optimizers(tmp_path):
    gan = _mlp_gan(ema_decay=0.5, discriminator_learning_rate=3e-3)
    _train(gan, _ring())
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    loaded = unigen.load(path)
    assert type(loaded) is unigen.models.MLPGAN
    np.testing.assert_array_equal(loaded.sample(8, seed=3).numpy(), gan.sample(8, seed=3).numpy())
    for name in ("generator_optimizer", "discriminator_optimizer"):
        mine, theirs = getattr(gan, name), getattr(loaded, name)
        assert theirs is not None and int(theirs.iterations) == int(mine.iterations) > 0
        assert len(theirs.variables) == len(mine.variables)
        for a, b in zip(mine.variables, theirs.variables, strict=True):
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert float(loaded.discriminator_optimizer.learning_rate) == pytest.approx(3e-3)
    assert loaded.generator_optimizer is not loaded.discriminator_optimizer


def test_fit_checkpoints_and_resumes_exactly(tmp_path):
    data = _ring(192)
    out = str(tmp_path / "run")
    _train(_mlp_gan(), data, steps_epochs=2, output_dir=out)
    with open(os.path.join(out, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 2
    resumed = _train(_mlp_gan(), data, steps_epochs=3, output_dir=out)
    straight = _train(_mlp_gan(), data, steps_epochs=3)
    assert len(resumed.history["loss"]) == 3
    np.testing.assert_allclose(resumed.history["loss"], straight.history["loss"], rtol=1e-6)
    for a, b in zip(resumed.model.get_weights(), straight.model.get_weights(), strict=True):
        np.testing.assert_allclose(a, b, atol=1e-6)
    assert int(resumed.model.discriminator_optimizer.iterations) == 9


def test_two_replicas_train_both_networks_like_one_device(tmp_path):
    job = os.path.join(ROOT, "tests", "models", "jobs_gan.py")
    run_pythons([[job, "--dump", str(tmp_path / "one.npz")],
                 [job, "--replicas", "2", "--dump", str(tmp_path / "two.npz")]])
    with np.load(tmp_path / "one.npz") as one, np.load(tmp_path / "two.npz") as two:
        assert sorted(one.files) == sorted(two.files)
        nets_seen = {k.split("_")[1] for k in one.files if "loss" not in k}
        assert {"generator", "discriminator", "ema"} <= nets_seen
        for key in one.files:
            np.testing.assert_allclose(one[key], two[key], atol=1e-5, err_msg=key)


def test_mode_metrics_follow_the_veegan_pacgan_definitions():
    from unigen.models.gan import _metrics

    info = unigen.datasets.info("ring8")
    modes = np.asarray(info.modes)
    near = modes[np.arange(70) % 7] + 0.02  # 7 modes, 0.028 < 3 std away
    far = np.array([[0.0, 0.0], [modes[7, 0] + 0.05, modes[7, 1]]])  # not high quality
    stats = _metrics.mode_statistics(np.concatenate([near, far]), modes, info.mode_std)
    assert stats["modes_captured"] == 7 and stats["num_modes"] == 8
    assert stats["high_quality"] == pytest.approx(70 / 72)
    assert stats["reverse_kl"] == pytest.approx(np.log(8 / 7))
    assert _metrics.reverse_kl_to_uniform(np.full(8, 5)) == 0.0
    assert _metrics.reverse_kl_to_uniform(np.zeros(8)) == np.inf


def test_validation_reports_losses_without_touching_training_noise():
    data = _ring(256)
    with_val = _train(_mlp_gan(), data, steps_epochs=2, validation_data=_ring(128))
    without = _train(_mlp_gan(), data, steps_epochs=2)
    assert np.isfinite(with_val.history["val_loss"]).all()
    assert "val_critic_loss" in with_val.history
    np.testing.assert_array_equal(with_val.history["loss"], without.history["loss"])


@pytest.mark.parametrize("weight", [0.0, -1.0])
def test_wasserstein_without_a_positive_penalty_weight_is_refused(weight):
    with pytest.raises(ValueError, match=r"gradient_penalty.*positive"):
        unigen.models.DCGAN(image_shape=(8, 8, 1), num_levels=17, divergence="wasserstein",
                            gradient_penalty=weight)
