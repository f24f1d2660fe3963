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


# ------------------------------------------ the lecture notes' further GAN claims
def test_a_log_y_plus_b_log_1_minus_y_peaks_at_a_over_a_plus_b():
    # The step in Proposition 1's proof, by brute force over a grid of logits.
    # unigen's JS row is half of Nowozin et al.'s: its critic terms are
    # (log 2 + log D) / 2 and -(log 2 + log(1 - D)) / 2 with D = sigmoid(v).
    js = ud.get("js")
    v = tf.constant(np.linspace(-12.0, 12.0, 240001))
    real_terms, fake_terms = js.variational_bound_terms(v, v)
    d = tf.sigmoid(v).numpy()
    half_log2 = 0.5 * math.log(2.0)
    np.testing.assert_allclose(real_terms.numpy(), half_log2 + 0.5 * np.log(d), rtol=1e-9)
    np.testing.assert_allclose(fake_terms.numpy(), -half_log2 - 0.5 * np.log1p(-d),
                               rtol=1e-9, atol=1e-12)
    for a, b in [(1.0, 1.0), (0.3, 0.9), (2.0, 0.05), (1e-3, 1.0)]:
        objective = a * real_terms.numpy() - b * fake_terms.numpy()
        assert abs(d[np.argmax(objective)] - a / (a + b)) < 1e-4, (a, b)


def test_logit_generator_loss_at_the_optimal_discriminator_is_the_reverse_kl():
    # Cost III of the notes: J(G) = -E_z logit D(G(z)). Since exp(logit(y)) =
    # y / (1 - y), at D* it is -E_{p_g} log(p_data / p_g) = KL(p_g || p_data).
    y = np.linspace(0.01, 0.99, 99)
    np.testing.assert_allclose(np.exp(np.log(y) - np.log1p(-y)), y / (1 - y), rtol=1e-12)
    p = tfd.Normal(np.float64(DATA[0]), np.float64(DATA[1]))
    q = tfd.Normal(np.float64(MODEL[0]), np.float64(MODEL[1]))
    truth = float(ud.get("reverse_kl").between(p, q).value)  # KL(q || p)
    x_g = q.sample(200_000, seed=(5, 6))
    v_star = p.log_prob(x_g) - q.log_prob(x_g)  # logit D*(x) = log p_data / p_g
    loss = ud.JensenShannon(generator_loss="logit").generator_loss(v_star)
    stderr = float(tf.math.reduce_std(v_star)) / math.sqrt(200_000)
    assert abs(float(loss) - truth) < 3 * stderr, (float(loss), truth, stderr)


def _categorical_jsd(p, q):
    m = 0.5 * (p + q)
    return 0.5 * tf.reduce_sum(p * tf.math.log(p / m)) + 0.5 * tf.reduce_sum(
        q * tf.math.log(q / m))


def test_descent_at_the_optimal_discriminator_converges_to_p_data():
    # Proposition 2 on 6 points: p_g = softmax(theta). With D held at its optimum
    # D*(p_g), the gradient of V(G, D*) is the gradient of C(G) = -log 4 + 2 JSD
    # (the derivative of a supremum at its argmax), zero at p_g = p_data, and
    # gradient descent on it drives p_g to p_data.
    js = ud.get("js")
    p_data = tf.constant([0.05, 0.1, 0.15, 0.2, 0.2, 0.3], tf.float64)
    theta = tf.Variable(np.random.default_rng(0).normal(0.0, 2.0, 6))

    def value_at_fixed_optimal_d(theta):
        p_g = tf.nn.softmax(theta)
        v = tf.stop_gradient(tf.math.log(p_data) - tf.math.log(p_g))  # logit D*
        real_terms, fake_terms = js.variational_bound_terms(v, v)
        # V(G, D) = 2 (sum p_data real - sum p_g fake) - log 4 for the half-JS row.
        return 2.0 * (tf.reduce_sum(p_data * real_terms)
                      - tf.reduce_sum(p_g * fake_terms)) - LOG4

    def criterion(theta):
        return -LOG4 + 2.0 * _categorical_jsd(p_data, tf.nn.softmax(theta))

    with tf.GradientTape(persistent=True) as tape:
        value = value_at_fixed_optimal_d(theta)
        c = criterion(theta)
    np.testing.assert_allclose(float(value), float(c), rtol=1e-10)
    np.testing.assert_allclose(tape.gradient(value, theta), tape.gradient(c, theta),
                               rtol=1e-8, atol=1e-12)
    start = float(c)
    for _ in range(300):
        with tf.GradientTape() as tape:
            value = value_at_fixed_optimal_d(theta)
        theta.assign_sub(2.0 * tape.gradient(value, theta))
    p_g = tf.nn.softmax(theta)
    assert start > -LOG4 + 0.1
    assert float(_categorical_jsd(p_data, p_g)) < 1e-6
    np.testing.assert_allclose(p_g.numpy(), p_data.numpy(), atol=1e-3)
    np.testing.assert_allclose(float(value_at_fixed_optimal_d(theta)), -LOG4, atol=1e-5)
    # A stationary point: at p_g = p_data, D* = 1/2 everywhere and the gradient is 0.
    at_data = tf.Variable(tf.math.log(p_data))
    with tf.GradientTape() as tape:
        value = value_at_fixed_optimal_d(at_data)
    np.testing.assert_allclose(tape.gradient(value, at_data), 0.0, atol=1e-12)


def test_jsd_properties_and_sqrt_jsd_triangle_inequality():
    # JSD >= 0, = 0 iff p = q, symmetric; sqrt(JSD) is a metric, JSD itself is not.
    js = ud.get("js")

    def jsd(a, b):
        return float(js.between(tfd.Normal(*map(np.float64, a)),
                                tfd.Normal(*map(np.float64, b))).value)

    p, r, q = (0.0, 1.0), (1.0, 1.0), (2.0, 1.0)
    assert jsd(p, q) > jsd(p, r) + jsd(r, q)  # JSD breaks the triangle inequality
    assert math.sqrt(jsd(p, q)) <= math.sqrt(jsd(p, r)) + math.sqrt(jsd(r, q))
    rng = np.random.default_rng(1)
    for _ in range(15):
        a, b, c = ((rng.normal(0, 2), rng.uniform(0.3, 3)) for _ in range(3))
        ab, bc, ac = jsd(a, b), jsd(b, c), jsd(a, c)
        assert min(ab, bc, ac) > 0 and max(ab, bc, ac) <= math.log(2) + 1e-9
        assert math.sqrt(ac) <= math.sqrt(ab) + math.sqrt(bc) + 1e-9
        np.testing.assert_allclose(jsd(b, a), ab, rtol=1e-6)
    assert abs(jsd(p, p)) < 1e-12


def test_on_disjoint_supports_js_is_flat_kl_infinite_and_w1_linear():
    # Uniform(0, 1) against Uniform(t, t + 1), t > 1: JSD = log 2 whatever t (no
    # gradient), KL(p || q) = inf, and W1 = t (gradient 1).
    def uniforms(t):
        return tfd.Uniform(np.float64(0), np.float64(1)), tfd.Uniform(np.float64(t),
                                                                      np.float64(t + 1))

    for t in (1.5, 3.0, 10.0):
        p, q = uniforms(t)
        np.testing.assert_allclose(float(ud.get("js").between(p, q).value), math.log(2),
                                   atol=1e-6)
        np.testing.assert_allclose(float(ud.get("wasserstein").between(p, q).value), t,
                                   rtol=1e-6)
        x_p = p.sample(2000, seed=(1, 1))
        assert float(tf.reduce_mean(p.log_prob(x_p) - q.log_prob(x_p))) == math.inf
    # The same for point masses, from samples, with the gradient in t.
    t = tf.Variable(2.5, dtype=tf.float64)
    with tf.GradientTape() as tape:
        w1 = ud.get("wasserstein").from_samples(tf.zeros([64, 1], tf.float64),
                                                t + tf.zeros([64, 1], tf.float64)).value
    np.testing.assert_allclose(float(w1), 2.5, rtol=1e-12)
    np.testing.assert_allclose(float(tape.gradient(w1, t)), 1.0, rtol=1e-12)


def test_kantorovich_rubinstein_critic_attains_w1_and_other_critics_stay_below():
    # W(p, q) = (1/K) sup_{||f||_L <= K} E_p f - E_q f. In 1-D the optimal critic
    # is f*(x) = integral_0^x sign(F_q - F_p), slope +-1.
    w = ud.get("wasserstein")
    p = tfd.Normal(np.float64(0.0), np.float64(1.0))
    q = tfd.Normal(np.float64(1.0), np.float64(2.0))
    truth = float(w.between(p, q).value)
    x = np.linspace(-25.0, 27.0, 200_001)
    slope = np.sign(stats.norm.cdf(x, 1.0, 2.0) - stats.norm.cdf(x, 0.0, 1.0))
    f_star = integrate.cumulative_trapezoid(slope, x, initial=0.0)
    f_star -= np.interp(0.0, x, f_star)
    p_x, q_x = stats.norm.pdf(x, 0.0, 1.0), stats.norm.pdf(x, 1.0, 2.0)

    def gap(f):
        return integrate.trapezoid((p_x - q_x) * f, x)

    np.testing.assert_allclose(gap(f_star), truth, rtol=1e-4)
    for k in (0.5, 3.0):  # a K-Lipschitz critic: the supremum is K W
        np.testing.assert_allclose(gap(k * f_star) / k, truth, rtol=1e-4)
    for other in (-x, x, np.tanh(x), np.abs(x - 1.0), np.sin(x)):  # 1-Lipschitz
        assert gap(other) < truth - 1e-3
    # The critic loss -(E_p f - E_q f) on samples, at f*, estimates -W1.
    x_p, x_q = p.sample(100_000, seed=(2, 1)), q.sample(100_000, seed=(2, 2))
    f_p, f_q = np.interp(x_p, x, f_star), np.interp(x_q, x, f_star)
    loss = float(w.discriminator_loss(tf.constant(f_p), tf.constant(f_q)))
    stderr = math.sqrt(f_p.var() / len(f_p) + f_q.var() / len(f_q))
    assert abs(loss + truth) < 3 * stderr, (loss, truth, stderr)


def test_an_unlimited_critic_separates_two_samples_of_one_distribution():
    # CMU notes: "a discriminator with unlimited capacity can still assign an
    # arbitrarily large distance to 2 similar distributions". Two samples of the
    # same N(0, 1) are disjoint sets; a lookup critic (+c on one, -c on the other)
    # drives the GAN value to 0, i.e. an estimated JSD of log 2 (the maximum)
    # where the true JSD is 0, and an unconstrained Wasserstein critic's estimate
    # to 2c. A 1-Lipschitz critic cannot: W1 between the samples stays small.
    rng = np.random.default_rng(8)
    x, y = rng.normal(size=(200, 1)), rng.normal(size=(200, 1))
    for c in (5.0, 20.0, 40.0):
        real, fake = tf.fill([200], c), tf.fill([200], -c)
        value = float(ud.get("js").gan_value(real, fake))
        assert -2 * math.exp(-c) * 1.01 <= value <= 0.0  # -> 0 = -log 4 + 2 log 2
        np.testing.assert_allclose(
            float(ud.get("wasserstein").discriminator_loss(real, fake)), -2 * c)
    w1 = float(ud.get("wasserstein").from_samples(x, y).value)
    assert 0.0 < w1 < 0.3, w1


def test_the_exp_cost_gradient_is_dominated_by_a_few_samples():
    # Gao's notes (after Goodfellow's tutorial): the "maximum likelihood" cost
    # -exp(logit D(G(z))) changes fast where D -> 1, so a few samples dominate its
    # gradient; the non-saturating -log D spreads it. Per-sample gradients in the
    # logit v for v ~ N(-2, 1.5^2): the share of the top 5% of samples.
    v = tf.Variable(np.random.default_rng(9).normal(-2.0, 1.5, 2000))
    with tf.GradientTape(persistent=True) as tape:
        exp_cost = ud.KLDivergence(generator_loss="minimax").generator_loss(v)  # -E e^(v-1)
        non_saturating = ud.JensenShannon().generator_loss(v)
    shares = []
    for loss in (exp_cost, non_saturating):
        grads = np.sort(np.abs(tape.gradient(loss, v).numpy()))[::-1]
        shares.append(grads[:100].sum() / grads.sum())
    np.testing.assert_allclose(tape.gradient(exp_cost, v).numpy(),
                               -np.exp(v.numpy() - 1.0) / 2000, rtol=1e-6)
    assert shares[0] > 0.35 and shares[1] < 0.1, shares


def test_a_constant_half_discriminator_also_stalls_the_generator_but_not_itself():
    """The notes' "this is also true of a random discriminator": a critic that says
    D = 1/2 everywhere (its last layer zero) gives the generator exactly zero
    gradient and the game value -log 4, as at the equilibrium, though p_g is far
    from p_data. Only the discriminator's own gradient shows the difference."""
    rng = np.random.default_rng(0)
    real = rng.normal(*DATA, size=(4096, 1)).astype("float32")
    z = rng.normal(size=(4096, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    generator = keras.Sequential([
        keras.Input((1,)), keras.layers.Dense(16, activation="tanh"),
        keras.layers.Dense(1, bias_initializer=keras.initializers.Constant(MODEL[0]))])
    critic = _mlp(0)
    last = critic.layers[-1]
    last.kernel.assign(tf.zeros_like(last.kernel))
    last.bias.assign(tf.zeros_like(last.bias))
    with tf.GradientTape(persistent=True) as tape:
        fake = generator(z)
        real_logits, fake_logits = critic(real), critic(fake)
        generator_losses = {mode: ud.gan_generator_loss(fake_logits, mode=mode)
                            for mode in ("non_saturating", "minimax")}
        discriminator_loss = ud.gan_discriminator_loss(real_logits, fake_logits)
    assert float(tf.reduce_mean(fake)) - DATA[0] > 1.0  # p_g is not p_data
    for mode, loss in generator_losses.items():
        grads = tape.gradient(loss, generator.trainable_variables)
        assert all(g is not None and not np.any(g.numpy()) for g in grads), mode
    np.testing.assert_allclose(float(ud.gan_value(real_logits, fake_logits)), -LOG4, rtol=1e-5)
    # d loss / d last kernel = (E_fake h - E_real h) / 2: the critic still learns.
    kernel_grad = tape.gradient(discriminator_loss, last.kernel)
    assert float(tf.reduce_max(tf.abs(kernel_grad))) > 1e-2
    # Any critic whose output varies moves the generator.
    last.kernel.assign(tf.fill(last.kernel.shape, 0.1))
    with tf.GradientTape() as tape:
        loss = ud.gan_generator_loss(critic(generator(z)))
    grads = tape.gradient(loss, generator.trainable_variables)
    assert max(float(tf.reduce_max(tf.abs(g))) for g in grads) > 1e-3
