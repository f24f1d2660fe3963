"""`unigen.adversarial.Critic`: its update against an autodiff reference, and its checks."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
import unigen.divergences as ud
from unigen.adversarial import Critic, adversarial_loss, mlp_critic


def _critic(divergence="js", lipschitz_network=None):
    network = lipschitz_network or keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    critic = Critic(network, divergence)
    critic.build((None, 2))
    return critic


def _batches():
    rng = np.random.default_rng(0)
    return (tf.constant(rng.normal(size=(16, 2)), "float32"),
            tf.constant(rng.normal(1.0, 1.0, size=(16, 2)), "float32"))


@pytest.mark.parametrize("divergence", ["js", "kl", "pearson", "hinge"])
def test_one_step_is_sgd_on_the_divergence_loss(divergence):
    critic = _critic(divergence)
    critic.compile(keras.optimizers.SGD(0.1))
    real, fake = _batches()
    before = [v.numpy().copy() for v in critic.trainable_variables]
    with tf.GradientTape() as tape:
        loss = critic.divergence.discriminator_loss(critic(real), critic(fake))
    grads = tape.gradient(loss, critic.trainable_variables)
    logs = critic.step(real, fake)
    assert float(logs["critic_loss"]) == pytest.approx(float(loss), rel=1e-6)
    for w0, g, w1 in zip(before, grads, critic.trainable_variables, strict=True):
        np.testing.assert_allclose(w1.numpy(), w0 - 0.1 * g.numpy(), rtol=1e-6, atol=1e-7)


def test_gradient_penalty_is_added_and_clipping_is_applied():
    real, fake = _batches()
    gp = _critic(ud.Wasserstein(lipschitz="gradient_penalty", penalty_weight=10.0))
    gp.compile("sgd")
    logs = gp.step(real, fake, seed=keras.random.SeedGenerator(0))
    assert set(logs) >= {"critic_loss", "critic_penalty"}
    assert "critic_penalty" in gp.metric_names
    clipped = _critic(ud.Wasserstein(lipschitz="clip", clip_value=0.01))
    clipped.compile(keras.optimizers.SGD(10.0))
    clipped.step(real, fake)
    assert max(float(tf.reduce_max(tf.abs(v))) for v in clipped.trainable_variables) <= 0.01


def test_linear_critic_penalty_matches_its_closed_form():
    real, fake = _batches()
    critic = _critic(ud.Wasserstein(lipschitz="gradient_penalty", penalty_weight=10.0))
    kernel = critic.network.layers[-1].kernel.numpy()[:, 0]
    _, logs = critic.loss(real, fake, seed=keras.random.SeedGenerator(0))
    expected = 10.0 * (np.sqrt(np.sum(kernel**2) + 1e-12) - 1.0) ** 2
    assert float(logs["critic_penalty"]) == pytest.approx(expected, rel=1e-5)


def test_critic_checks_say_what_to_do():
    with pytest.raises(ValueError, match="SpectralNormalization"):
        _critic(ud.Wasserstein(lipschitz="spectral_norm"))
    with pytest.raises(ValueError, match="uses_critic=False"):
        _critic("mmd")
    with pytest.raises(ValueError, match="Lipschitz"):
        _critic(ud.Wasserstein(lipschitz=None))
    with pytest.raises(TypeError, match="Keras layer"):
        Critic("not a network", "js")
    real, fake = _batches()
    with pytest.raises(RuntimeError, match="no optimizer"):
        _critic().step(real, fake)
    spectral = _critic(ud.Wasserstein(lipschitz="spectral_norm"),
                       mlp_critic(2, (4,), spectral_norm=True))
    assert spectral.network.built


def test_adversarial_loss_answers_from_samples_without_a_critic():
    real, fake = _batches()
    mmd = ud.get("mmd")
    value = adversarial_loss(mmd, None, real, fake)
    assert float(value) == pytest.approx(float(mmd.generator_loss_from_samples(real, fake)))
    critic = _critic("js")
    expected = critic.divergence.generator_loss(critic(fake))
    assert float(adversarial_loss(critic.divergence, critic, real, fake)) == pytest.approx(
        float(expected))


def test_every_family_holds_critics_of_this_one_class():
    models = [unigen.models.MLPGAN((2,), hidden_units=(4,)),
              unigen.models.VAE((2,), latent_dim=2, divergence="js"),
              unigen.models.create("flow_gan", event_shape=(2,), num_couplings=2, hidden=4)]
    for model in models:
        model._ensure_built()
        assert len(model.critics) == 1, type(model).__name__
        assert isinstance(model.critics[0], Critic)
