"""The theory behind the adversarial losses, checked numerically.

Goodfellow et al. (2014): for a fixed generator the best discriminator is
D*(x) = p_data(x) / (p_data(x) + p_g(x)) (Proposition 1), the game value there is
-log 4 + 2 JSD(p_data, p_g), and -log 4 when p_g = p_data (Theorem 1). The
minimax generator loss saturates when D(G(z)) -> 0, the non-saturating one does
not. Nowozin et al. (2016): a trained f-GAN critic's variational bound approaches
the f-divergence from below. Tiny Keras 3 MLPs, a few hundred Adam steps each.
"""

import math

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import integrate, stats

import unigen.divergences as ud

tfd = tfp.distributions
LOG4 = math.log(4.0)
DATA = (0.0, 1.0)  # p_data = N(0, 1)
MODEL = (1.5, 0.7)  # p_g = N(1.5, 0.7^2)
GRID = np.linspace(-6.0, 7.0, 6501)


def _mlp(seed):
    keras.utils.set_random_seed(seed)
    return keras.Sequential(
        [
            keras.Input((1,)),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(32, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )


def _train(loss_fn, data, model_dist, *, steps=400, batch_size=512, seed=0):
    """Trains a critic to minimise loss_fn(critic(real), critic(fake))."""
    critic = _mlp(seed)
    optimizer = keras.optimizers.Adam(learning_rate=0.01)
    optimizer.build(critic.trainable_variables)
    rng = np.random.default_rng(seed)
    real = rng.normal(data[0], data[1], size=(steps, batch_size, 1)).astype("float32")
    fake = rng.normal(model_dist[0], model_dist[1], size=(steps, batch_size, 1))
    fake = fake.astype("float32")

    @tf.function
    def step(real_batch, fake_batch):
        with tf.GradientTape() as tape:
            loss = loss_fn(critic(real_batch), critic(fake_batch))
        grads = tape.gradient(loss, critic.trainable_variables)
        optimizer.apply_gradients(zip(grads, critic.trainable_variables, strict=False))
        return loss

    for i in range(steps):
        step(real[i], fake[i])
    return critic


def _on_grid(critic):
    return critic(GRID[:, None].astype("float32"))[:, 0].numpy().astype(np.float64)


def _densities(data, model_dist):
    return stats.norm.pdf(GRID, *data), stats.norm.pdf(GRID, *model_dist)


def _game_value(logits, p_data, p_g):
    """V(D, G) = integral of p_data log D + p_g log(1 - D), D = sigmoid(logits)."""
    log_d = -np.logaddexp(0.0, -logits)
    log_1md = -np.logaddexp(0.0, logits)
    return integrate.trapezoid(p_data * log_d + p_g * log_1md, GRID)


def _jsd(data, model_dist):
    p = tfd.Normal(np.float64(data[0]), np.float64(data[1]))
    q = tfd.Normal(np.float64(model_dist[0]), np.float64(model_dist[1]))
    return float(ud.get("js").between(p, q).value)


def test_value_at_optimal_discriminator_is_2jsd_minus_log4():
    # Theorem 1's identity, by independent quadrature of V(D*, G).
    def integrand(x):
        p = stats.norm.pdf(x, *DATA)
        q = stats.norm.pdf(x, *MODEL)
        return p * math.log(p / (p + q)) + q * math.log(q / (p + q))

    value, _ = integrate.quad(integrand, -12, 12, points=[0.0, 1.5], limit=200)
    np.testing.assert_allclose(value, -LOG4 + 2.0 * _jsd(DATA, MODEL), rtol=1e-6)
    np.testing.assert_allclose(-LOG4 + 2.0 * _jsd(DATA, DATA), -LOG4, atol=1e-9)


def test_trained_discriminator_approaches_the_optimal_one():
    js = ud.get("js")
    critic = _train(js.discriminator_loss, DATA, MODEL)
    logits = _on_grid(critic)
    p_data, p_g = _densities(DATA, MODEL)
    d_star = p_data / (p_data + p_g)
    trained = 1.0 / (1.0 + np.exp(-logits))
    where_mass = 0.5 * (p_data + p_g) > 0.02
    assert np.mean(np.abs(trained - d_star)[where_mass]) < 0.05
    # Its game value is below, and close to, V(D*) = -log 4 + 2 JSD.
    optimum = -LOG4 + 2.0 * _jsd(DATA, MODEL)
    value = _game_value(logits, p_data, p_g)
    np.testing.assert_allclose(
        _game_value(np.log(p_data / p_g), p_data, p_g), optimum, rtol=1e-5
    )
    assert optimum - 0.02 < value <= optimum + 1e-6


def test_game_value_is_minus_log4_when_the_generator_matches_the_data():
    js = ud.get("js")
    critic = _train(js.discriminator_loss, DATA, DATA, steps=200, seed=1)
    logits = _on_grid(critic)
    p_data, _ = _densities(DATA, DATA)
    where_mass = p_data > 0.02
    trained = 1.0 / (1.0 + np.exp(-logits))
    assert np.mean(np.abs(trained - 0.5)[where_mass]) < 0.05
    value = _game_value(logits, p_data, p_data)
    assert -LOG4 - 0.02 < value <= -LOG4 + 1e-6
    # The same on fresh samples, through the package's gan_value.
    rng = np.random.default_rng(2)
    real = rng.normal(*DATA, size=(20000, 1)).astype("float32")
    fake = rng.normal(*DATA, size=(20000, 1)).astype("float32")
    np.testing.assert_allclose(
        float(js.gan_value(critic(real), critic(fake))), -LOG4, atol=0.02
    )


def test_trained_f_critic_bound_approaches_kl_from_below():
    data, model_dist = (0.0, 1.0), (1.0, 1.3)
    kl = ud.get("kl")
    truth = float(
        kl.between(
            tfd.Normal(np.float64(data[0]), np.float64(data[1])),
            tfd.Normal(np.float64(model_dist[0]), np.float64(model_dist[1])),
        ).value
    )
    critic = _train(kl.discriminator_loss, data, model_dist, seed=3)
    v = tf.constant(_on_grid(critic))
    real_terms, fake_terms = kl.variational_bound_terms(v, v)
    p_data, p_g = _densities(data, model_dist)
    bound = integrate.trapezoid(
        p_data * real_terms.numpy() - p_g * fake_terms.numpy(), GRID
    )
    assert 0.9 * truth < bound <= truth + 1e-6


def test_minimax_generator_loss_saturates_and_non_saturating_does_not():
    js_minimax = ud.JensenShannon(generator_loss="minimax")
    js_non_saturating = ud.JensenShannon(generator_loss="non_saturating")
    logits = tf.Variable([-12.0, -10.0, -8.0])  # D(G(z)) = sigmoid(v) close to 0
    d = tf.sigmoid(logits).numpy()
    n = 3.0
    with tf.GradientTape(persistent=True) as tape:
        minimax = js_minimax.generator_loss(logits)
        non_saturating = js_non_saturating.generator_loss(logits)
        logit_loss = ud.JensenShannon(generator_loss="logit").generator_loss(logits)
    grad_minimax = n * tape.gradient(minimax, logits).numpy()
    grad_non_saturating = n * tape.gradient(non_saturating, logits).numpy()
    grad_logit = n * tape.gradient(logit_loss, logits).numpy()
    # d/dv log(1 - sigmoid(v)) = -D: vanishes; d/dv -log sigmoid(v) = -(1 - D): ~ -1.
    np.testing.assert_allclose(grad_minimax, -d, rtol=1e-4)
    assert np.all(np.abs(grad_minimax) < 1e-3)
    np.testing.assert_allclose(grad_non_saturating, -(1.0 - d), rtol=1e-4)
    assert np.all(np.abs(grad_non_saturating) > 0.99)
    np.testing.assert_allclose(grad_logit, -1.0)
    # Both losses decrease as D(G(z)) rises: they push the generator the same way.
    assert float(js_minimax.generator_loss([-1.0])) < float(
        js_minimax.generator_loss([-5.0])
    )
