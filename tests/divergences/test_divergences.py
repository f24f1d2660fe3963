"""Tests for unigen.divergences: every value against an independent computation.

References are scipy.integrate.quad on scipy.stats densities, NumPy grids,
TFP's closed-form KL and autodiff; Monte Carlo checks allow 3 standard errors.
"""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp
from scipy import integrate, stats

import unigen.divergences as ud

tfd = tfp.distributions
LOG2 = math.log(2.0)

# (mean_p, std_p, mean_q, std_q): p is the data, q the model.
PAIRS = [(0.3, 1.0, -0.5, 1.6), (1.0, 0.7, 0.0, 1.0)]
F_NAMES = ["kl", "reverse_kl", "pearson", "squared_hellinger", "total_variation", "js"]
DENSITY_NAMES = [*F_NAMES, "wasserstein", "mmd", "hinge"]
CLOSED_FORM_NAMES = [
    "kl",
    "reverse_kl",
    "pearson",
    "squared_hellinger",
    "total_variation",
    "wasserstein",
    "mmd",
    "hinge",
]


def _normals(pair):
    mp, sp, mq, sq = (np.float64(v) for v in pair)
    return tfd.Normal(mp, sp), tfd.Normal(mq, sq)


def _quad(fn, pair):
    mp, sp, mq, sq = pair
    lo = min(mp - 30 * sp, mq - 30 * sq)
    hi = max(mp + 30 * sp, mq + 30 * sq)
    value, _ = integrate.quad(fn, lo, hi, points=[mp, mq], limit=500, epsabs=1e-13)
    return value


def _mmd_reference(pair, bandwidths):
    """MMD^2 = (p - q)' K (p - q) on a fine trapezoid grid."""
    mp, sp, mq, sq = pair
    x = np.linspace(-14.0, 14.0, 2801)
    dx = x[1] - x[0]
    diff = (stats.norm.pdf(x, mp, sp) - stats.norm.pdf(x, mq, sq)) * dx
    diff[[0, -1]] *= 0.5
    sq_dist = (x[:, None] - x[None, :]) ** 2
    kernel = np.mean([np.exp(-sq_dist / (2 * h * h)) for h in bandwidths], axis=0)
    return float(diff @ kernel @ diff)


def reference(name, pair):
    """The divergence by scipy quadrature, independent of the package."""
    mp, sp, mq, sq = pair

    def logp(x):
        return stats.norm.logpdf(x, mp, sp)

    def logq(x):
        return stats.norm.logpdf(x, mq, sq)

    def p(x):
        return math.exp(logp(x))

    def q(x):
        return math.exp(logq(x))

    def js(x):
        log_m = np.logaddexp(logp(x), logq(x)) - LOG2
        return 0.5 * (p(x) * (logp(x) - log_m) + q(x) * (logq(x) - log_m))

    integrands = {
        "kl": lambda x: p(x) * (logp(x) - logq(x)),
        "reverse_kl": lambda x: q(x) * (logq(x) - logp(x)),
        "pearson": lambda x: math.exp(2 * logp(x) - logq(x)) - 2 * p(x) + q(x),
        "squared_hellinger": lambda x: (math.sqrt(p(x)) - math.sqrt(q(x))) ** 2,
        "total_variation": lambda x: 0.5 * abs(p(x) - q(x)),
        "hinge": lambda x: 0.5 * abs(p(x) - q(x)),
        "js": js,
        "wasserstein": lambda x: abs(
            stats.norm.cdf(x, mp, sp) - stats.norm.cdf(x, mq, sq)
        ),
    }
    if name == "mmd":
        return _mmd_reference(pair, ud.MMD().bandwidths)
    return _quad(integrands[name], pair)


# --------------------------------------------------------------- between(p, q)
@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("name", DENSITY_NAMES)
def test_between_matches_independent_integration(name, pair):
    p, q = _normals(pair)
    truth = reference(name, pair)
    assert truth > 1e-3
    divergence = ud.get(name)
    for method in ("auto", "quadrature"):
        estimate = divergence.between(p, q, method=method)
        assert estimate.method in ("closed_form", "quadrature")
        np.testing.assert_allclose(float(estimate.value), truth, rtol=1e-3)


@pytest.mark.parametrize("pair", PAIRS)
@pytest.mark.parametrize("name", CLOSED_FORM_NAMES)
def test_closed_form_equals_quadrature(name, pair):
    p, q = _normals(pair)
    divergence = ud.get(name)
    closed = divergence.between(p, q, method="closed_form")
    quad = divergence.between(p, q, method="quadrature")
    assert closed.method == "closed_form"
    assert quad.method == "quadrature"
    np.testing.assert_allclose(float(closed.value), float(quad.value), rtol=1e-4)
    assert float(quad.stderr) < 1e-3 * float(quad.value)


def test_closed_forms_follow_batch_shapes():
    p = tfd.Normal(np.zeros(3), np.ones(3))
    q = tfd.Normal(np.array([0.0, 1.0, -2.0]), np.array([1.0, 1.5, 0.8]))
    for name in ["kl", "squared_hellinger", "total_variation", "wasserstein", "js"]:
        estimate = ud.get(name).between(p, q)
        assert estimate.value.shape == (3,)
        for i in range(3):
            one = ud.get(name).between(p[i], q[i], method="quadrature")
            np.testing.assert_allclose(
                estimate.value[i], one.value, rtol=1e-4, atol=1e-9
            )


def test_wasserstein_equal_scales_is_mean_gap():
    p, q = _normals((0.0, 1.3, 1.5, 1.3))
    for method in ("closed_form", "quadrature"):
        value = ud.get("wasserstein").between(p, q, method=method).value
        np.testing.assert_allclose(float(value), 1.5, rtol=1e-4)


@pytest.mark.parametrize("name", ud.available())
def test_zero_when_p_equals_q(name):
    p = tfd.Normal(np.float64(0.4), np.float64(1.3))
    same = tfd.Normal(np.float64(0.4), np.float64(1.3))
    divergence = ud.get(name)
    estimate = divergence.between(p, same)
    assert abs(float(estimate.value)) < 1e-6
    mc = divergence.between(p, same, method="monte_carlo", num_samples=4000, seed=0)
    assert abs(float(mc.value)) <= 3 * float(mc.stderr) + 1e-9


def test_js_is_symmetric_and_at_most_log2():
    js = ud.get("js")
    p, q = _normals(PAIRS[0])
    np.testing.assert_allclose(
        float(js.between(p, q).value), float(js.between(q, p).value), rtol=1e-6
    )
    far_p, far_q = _normals((0.0, 1.0, 60.0, 1.0))
    far = float(js.between(far_p, far_q).value)
    assert far <= LOG2 + 1e-9
    np.testing.assert_allclose(far, LOG2, rtol=1e-4)


@pytest.mark.parametrize("name", ["kl", "reverse_kl", "squared_hellinger", "mmd"])
def test_monte_carlo_2d_within_3_stderr(name):
    p = tfd.MultivariateNormalTriL(
        np.array([0.0, 0.5]), np.array([[1.0, 0.0], [0.3, 0.8]])
    )
    q = tfd.MultivariateNormalDiag(np.array([0.4, 0.0]), np.array([1.2, 1.0]))
    divergence = ud.get(name)
    truth = divergence.between(p, q)
    assert truth.method == "closed_form"
    mc = divergence.between(p, q, method="monte_carlo", num_samples=20_000, seed=3)
    assert mc.method == "monte_carlo"
    assert 0 < float(mc.stderr) < 0.05 * float(truth.value)
    assert abs(float(mc.value) - float(truth.value)) < 3 * float(mc.stderr)


def test_monte_carlo_1d_within_3_stderr_for_every_divergence():
    p, q = _normals(PAIRS[0])
    for name in DENSITY_NAMES:
        divergence = ud.get(name)
        truth = float(divergence.between(p, q, method="quadrature").value)
        mc = divergence.between(p, q, method="monte_carlo", num_samples=20_000, seed=7)
        assert abs(float(mc.value) - truth) < 3 * float(mc.stderr), name


def test_between_rejects_bad_arguments():
    p, q = _normals(PAIRS[0])
    with pytest.raises(ValueError, match="`method` must be one of"):
        ud.get("kl").between(p, q, method="exact")
    with pytest.raises(ValueError, match="no closed form"):
        ud.get("js").between(p, q, method="closed_form")
    with pytest.raises(ValueError, match="num_samples"):
        ud.get("js").between(p, q, num_samples=0)
    mvn = tfd.MultivariateNormalDiag(np.zeros(2), np.ones(2))
    with pytest.raises(ValueError, match="scalar"):
        ud.get("js").between(mvn, mvn, method="quadrature")
    with pytest.raises(ValueError, match="event shape"):
        ud.get("js").between(p, mvn)
    with pytest.raises(TypeError, match="Distribution"):
        ud.get("js").between(np.zeros(3), q)


# ------------------------------------------------------------- the f-family
@pytest.mark.parametrize("name", F_NAMES)
def test_f_generator_conjugate_and_activation_agree(name):
    divergence = ud.get(name)
    u = tf.constant(np.linspace(0.0, 6.0, 61))
    f = divergence.f(u).numpy()
    assert abs(divergence.f(tf.constant([1.0], tf.float64)).numpy()[0]) < 1e-12
    # f is convex: second differences are >= 0.
    assert np.all(np.diff(f, 2) >= -1e-9)
    # Fenchel-Young: f*(t) >= u t - f(u) for every u, t, with equality at t = f'(u).
    v = tf.constant(np.linspace(-3.0, 3.0, 41))
    t = divergence.activation(v).numpy()
    conj = divergence.conjugate(t).numpy()
    uu = np.linspace(1e-3, 6.0, 400)
    f_uu = divergence.f(tf.constant(uu)).numpy()
    sup = np.max(uu[None, :] * t[:, None] - f_uu[None, :], axis=1)
    assert np.all(conj >= sup - 1e-9)
    # The stable f*(g_f(v)) used by the losses equals conjugate(activation(v)).
    _, fake_terms = divergence.variational_bound_terms(v, v)
    np.testing.assert_allclose(fake_terms.numpy(), conj, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("name", F_NAMES)
def test_variational_bound_is_tight_at_optimal_critic(name):
    pair = PAIRS[0]
    p, q = _normals(pair)
    divergence = ud.get(name)
    truth = reference(name, pair)
    n = 40_000
    x_p = p.sample(n, seed=(1, 2))
    x_q = q.sample(n, seed=(3, 4))

    def critic(x, shift=0.0, scale=1.0):
        log_ratio = p.log_prob(x) - q.log_prob(x)
        return divergence.optimal_critic(log_ratio) * scale + shift

    real_terms, fake_terms = divergence.variational_bound_terms(
        critic(x_p), critic(x_q)
    )
    bound = float(divergence.variational_bound(critic(x_p), critic(x_q)))
    stderr = math.sqrt(
        float(tf.math.reduce_variance(real_terms)) / n
        + float(tf.math.reduce_variance(fake_terms)) / n
    )
    assert abs(bound - truth) < 3 * stderr + 1e-6
    # The critic loss is -bound (for JS the cross-entropy log 4 - 2 bound).
    expected_loss = math.log(4.0) - 2.0 * bound if name == "js" else -bound
    np.testing.assert_allclose(
        float(divergence.discriminator_loss(critic(x_p), critic(x_q))),
        expected_loss,
        rtol=1e-6,
    )

    # Any other critic gives a smaller bound, computed here on a fine grid.
    mp, sp, mq, sq = pair
    grid = np.linspace(-14.0, 14.0, 20001)

    def exact_bound(critic_fn):
        v = critic_fn(tf.constant(grid))
        real, fake = divergence.variational_bound_terms(v, v)
        values = (
            stats.norm.pdf(grid, mp, sp) * real.numpy()
            - stats.norm.pdf(grid, mq, sq) * fake.numpy()
        )
        return integrate.trapezoid(values, grid)

    np.testing.assert_allclose(exact_bound(critic), truth, rtol=1e-4)
    if name == "total_variation":  # v* = +-inf: try finite critics instead
        others = [lambda x: p.log_prob(x) - q.log_prob(x), lambda x: 0.0 * x + 2.0]
    else:
        others = [lambda x: critic(x, scale=0.5), lambda x: critic(x, shift=0.4)]
    for other in others:
        assert exact_bound(other) < truth - 1e-3


def test_js_bound_is_the_gan_value_shifted():
    js = ud.get("js")
    real = tf.random.stateless_normal([64], seed=(0, 1), dtype=tf.float64)
    fake = tf.random.stateless_normal([64], seed=(0, 2), dtype=tf.float64)
    value = js.gan_value(real, fake)
    np.testing.assert_allclose(
        float(js.variational_bound(real, fake)),
        0.5 * (float(value) + math.log(4.0)),
        rtol=1e-10,
    )
    np.testing.assert_allclose(float(js.discriminator_loss(real, fake)), -float(value))


def test_generator_losses_of_the_f_family():
    v = tf.constant([-1.0, 0.5, 2.0], tf.float64)
    kl = ud.get("kl")
    np.testing.assert_allclose(float(kl.generator_loss(v)), -float(tf.reduce_mean(v)))
    minimax = ud.KLDivergence(generator_loss="minimax")
    np.testing.assert_allclose(
        float(minimax.generator_loss(v)), -float(tf.reduce_mean(tf.exp(v - 1.0)))
    )
    js = ud.JensenShannon
    softplus = np.log1p(np.exp(v.numpy()))
    np.testing.assert_allclose(float(js("minimax").generator_loss(v)), -softplus.mean())
    np.testing.assert_allclose(
        float(js("non_saturating").generator_loss(v)),
        np.log1p(np.exp(-v.numpy())).mean(),
    )
    np.testing.assert_allclose(float(js("logit").generator_loss(v)), -v.numpy().mean())
    with pytest.raises(ValueError, match="generator_loss"):
        ud.KLDivergence(generator_loss="logit")


def test_half_precision_outputs_give_float32_losses():
    v = tf.constant([[0.5], [-0.25]], tf.float16)
    for name in ["js", "kl", "wasserstein", "hinge"]:
        assert ud.get(name).discriminator_loss(v, v).dtype == tf.float32


# ------------------------------------------------------ Wasserstein and hinge
def test_wasserstein_and_hinge_losses():
    real = tf.constant([2.0, 0.5, -1.0])
    fake = tf.constant([-2.0, 0.0, 1.5])
    w = ud.get("wasserstein")
    np.testing.assert_allclose(
        float(w.discriminator_loss(real, fake)), -1.0 / 6.0 - 0.5, rtol=1e-6
    )
    np.testing.assert_allclose(float(w.generator_loss(fake)), 1.0 / 6.0, rtol=1e-6)
    h = ud.get("hinge")
    expected = np.mean([0.0, 0.5, 2.0]) + np.mean([0.0, 1.0, 2.5])
    np.testing.assert_allclose(
        float(h.discriminator_loss(real, fake)), expected, rtol=1e-6
    )
    np.testing.assert_allclose(float(h.generator_loss(fake)), 1.0 / 6.0, rtol=1e-6)


def test_hinge_loss_at_its_optimal_critic_is_2_minus_2tv():
    p, q = _normals(PAIRS[0])
    n = 40_000
    x_p = p.sample(n, seed=(6, 1))
    x_q = q.sample(n, seed=(6, 2))

    def critic(x):  # the pointwise optimum: +1 where p > q, -1 where p < q
        return tf.sign(p.log_prob(x) - q.log_prob(x))

    loss = float(ud.get("hinge").discriminator_loss(critic(x_p), critic(x_q)))
    tv = float(ud.get("hinge").between(p, q).value)
    # Each per-example term is 0 or 2: a Bernoulli standard error.
    stderr = 2.0 * math.sqrt(0.25 / n + 0.25 / n)
    assert abs(loss - (2.0 - 2.0 * tv)) < 3 * stderr


def test_gradient_penalty_matches_linear_critic():
    w = tf.constant([0.3, -1.2, 2.0, 0.1, 0.7])
    real = tf.random.stateless_normal([32, 5], seed=(1, 1))
    fake = tf.random.stateless_normal([32, 5], seed=(1, 2))
    penalty = ud.gradient_penalty(lambda x: tf.linalg.matvec(x, w), real, fake, seed=0)
    expected = (float(tf.norm(w)) - 1.0) ** 2
    np.testing.assert_allclose(float(penalty), expected, rtol=1e-5)
    weighted = ud.Wasserstein(penalty_weight=10.0).critic_penalty(
        lambda x: tf.linalg.matvec(x, w), real, fake, seed=0
    )
    np.testing.assert_allclose(float(weighted), 10.0 * expected, rtol=1e-5)
    assert float(ud.Wasserstein("clip").critic_penalty(None, real, fake)) == 0.0


def test_gradient_penalty_is_finite_where_the_gradient_vanishes():
    weights = tf.Variable([1.0, 2.0, 3.0])
    real = tf.zeros([8, 3])
    with tf.GradientTape() as tape:
        penalty = ud.gradient_penalty(
            lambda x: tf.reduce_sum(weights * x**2, axis=1), real, real, seed=1
        )
    grad = tape.gradient(penalty, weights)
    assert np.isfinite(float(penalty))
    np.testing.assert_allclose(float(penalty), 1.0, atol=1e-5)
    assert np.all(np.isfinite(grad.numpy()))


def test_gradient_penalty_draws_one_uniform_weight_per_example():
    seen = []

    def critic(x):
        seen.append(x)
        return tf.reduce_sum(x, axis=[1, 2])

    real = tf.zeros([2000, 3, 2])
    fake = tf.ones([2000, 3, 2])
    ud.gradient_penalty(critic, real, fake, seed=5)
    alpha = seen[0].numpy()  # real + alpha (fake - real) = alpha
    per_example = alpha[:, :1, :1]
    np.testing.assert_array_equal(alpha, np.broadcast_to(per_example, alpha.shape))
    flat = per_example.ravel()
    assert flat.min() >= 0.0 and flat.max() <= 1.0
    assert stats.kstest(flat, "uniform").pvalue > 1e-3
    ud.gradient_penalty(critic, real, fake, seed=5)
    np.testing.assert_array_equal(seen[1].numpy(), alpha)


def test_weight_clipping_keeps_weights_in_bounds():
    layer = keras.layers.Dense(4)
    layer.build((None, 3))
    layer.kernel.assign(5.0 * np.ones((3, 4), np.float32))
    ud.clip_weights(layer.trainable_variables, 0.05)
    assert np.max(np.abs(layer.kernel.numpy())) <= 0.05
    layer.kernel.assign(-np.ones((3, 4), np.float32))
    ud.Wasserstein(lipschitz="clip", clip_value=0.01).apply_constraints(
        layer.trainable_variables
    )
    np.testing.assert_allclose(layer.kernel.numpy(), -0.01)
    with pytest.raises(ValueError, match="clip_value"):
        ud.clip_weights(layer.trainable_variables, 0.0)


def test_wasserstein_without_lipschitz_control_raises():
    unconstrained = ud.Wasserstein(lipschitz=None)
    with pytest.raises(ValueError, match="Lipschitz control") as info:
        unconstrained.check_trainable()
    assert "gradient_penalty" in str(info.value) and "spectral_norm" in str(info.value)
    with pytest.raises(ValueError, match="Lipschitz control"):
        ud.require_lipschitz(unconstrained)
    for ok in ("gradient_penalty", "clip", "spectral_norm"):
        ud.require_lipschitz(ud.Wasserstein(lipschitz=ok))
    ud.require_lipschitz(ud.get("js"))
    with pytest.raises(ValueError, match="`lipschitz` must be one of"):
        ud.Wasserstein(lipschitz="weight_decay")


def test_wasserstein_from_samples():
    rng = np.random.default_rng(0)
    x = rng.normal(size=500)
    y = rng.normal(1.0, 2.0, size=300)
    estimate = ud.get("wasserstein").from_samples(x, y)
    assert estimate.method == "samples"
    np.testing.assert_allclose(
        float(estimate.value), stats.wasserstein_distance(x, y), rtol=1e-6
    )
    same_size = ud.get("wasserstein").from_samples(x[:300, None], y[:, None])
    np.testing.assert_allclose(
        float(same_size.value), stats.wasserstein_distance(x[:300], y), rtol=1e-6
    )
    points = rng.normal(size=(40, 2))
    shift = np.array([0.3, -0.4])
    moved = ud.get("wasserstein").from_samples(points, rng.permutation(points) + shift)
    np.testing.assert_allclose(float(moved.value), 0.5, rtol=1e-6)


# ------------------------------------------------------------------------ MMD
def test_mmd_from_samples_same_and_different():
    mmd = ud.get("mmd")
    rng = np.random.default_rng(1)
    x = rng.normal(size=(400, 2))
    y = rng.normal(size=(400, 2))
    same = mmd.from_samples(x, y)
    assert same.method == "samples"
    assert abs(float(same.value)) < 3 * float(same.stderr)
    shifted = mmd.from_samples(x, rng.normal(0.7, 1.0, size=(300, 2)))
    assert float(shifted.value) > 3 * float(shifted.stderr) > 0


def test_mmd_from_samples_estimates_closed_form():
    mmd = ud.get("mmd")
    p, q = _normals(PAIRS[0])
    truth = float(mmd.between(p, q).value)
    x = p.sample(1500, seed=(5, 1))
    y = q.sample(1500, seed=(5, 2))
    estimate = mmd.from_samples(x, y)
    assert abs(float(estimate.value) - truth) < 3 * float(estimate.stderr)


def test_mmd_generator_loss_trains_samples_toward_data():
    mmd = ud.MMD(bandwidths=(0.5, 1.0, 2.0))
    real = tf.random.stateless_normal([128, 2], seed=(2, 1))
    fake = tf.Variable(tf.random.stateless_normal([128, 2], seed=(2, 2)) + 2.0)
    with tf.GradientTape() as tape:
        loss = mmd.generator_loss_from_samples(real, fake)
    grad = tape.gradient(loss, fake)
    fake.assign_sub(20.0 * grad)
    assert float(mmd.generator_loss_from_samples(real, fake)) < float(loss)
    assert not mmd.uses_critic
    with pytest.raises(NotImplementedError, match="generator_loss_from_samples"):
        mmd.discriminator_loss(real[:, 0], real[:, 0])
    with pytest.raises(ValueError, match="bandwidths"):
        ud.MMD(bandwidths=(1.0, -2.0))


def test_from_samples_unsupported_is_clear():
    with pytest.raises(NotImplementedError, match="variational_bound"):
        ud.get("kl").from_samples(np.zeros(4), np.zeros(4))


# ------------------------------------------------------- registry and saving
@pytest.mark.parametrize("name", ud.available())
def test_get_serialize_round_trip(name):
    divergence = ud.get(name)
    assert divergence.short_name == name
    for restored in (
        ud.deserialize(ud.serialize(divergence)),
        ud.get(ud.serialize(divergence)),
        keras.saving.deserialize_keras_object(
            keras.saving.serialize_keras_object(divergence)
        ),
        ud.get({"class_name": name, "config": divergence.get_config()}),
        type(divergence).from_config(divergence.get_config()),
    ):
        assert type(restored) is type(divergence)
        assert restored.get_config() == divergence.get_config()


def test_round_trip_keeps_hyperparameters():
    w = ud.Wasserstein(lipschitz="clip", clip_value=0.02, penalty_weight=5.0)
    restored = ud.deserialize(ud.serialize(w))
    assert (restored.lipschitz, restored.clip_value, restored.penalty_weight) == (
        "clip",
        0.02,
        5.0,
    )
    js = ud.deserialize(ud.serialize(ud.JensenShannon(generator_loss="logit")))
    assert js.generator_loss_mode == "logit"
    mmd = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(ud.MMD(bandwidths=(0.3, 3.0)))
    )
    assert mmd.bandwidths == (0.3, 3.0)


def test_get_accepts_names_instances_and_classes():
    assert isinstance(ud.get("Reverse-KL"), ud.ReverseKLDivergence)
    assert isinstance(ud.get(" JS "), ud.JensenShannon)
    assert isinstance(ud.get("Total_Variation"), ud.TotalVariation)
    instance = ud.Wasserstein()
    assert ud.get(instance) is instance
    assert isinstance(ud.get(ud.Hinge), ud.Hinge)
    assert set(ud.available()) == {
        "js",
        "kl",
        "reverse_kl",
        "pearson",
        "squared_hellinger",
        "total_variation",
        "wasserstein",
        "hinge",
        "mmd",
    }
    assert ud.get("wasserstein").requires_lipschitz
    assert not ud.get("js").requires_lipschitz


def test_get_rejects_bad_identifiers():
    with pytest.raises(ValueError, match="Valid names: hinge, js, kl"):
        ud.get("jensen-shanon")
    with pytest.raises(ValueError, match="Unknown divergence"):
        ud.deserialize({"class_name": "NotADivergence", "config": {}})
    with pytest.raises(ValueError, match="class_name"):
        ud.deserialize({"config": {}})
    with pytest.raises(TypeError, match="identifier"):
        ud.get(3)
    with pytest.raises(TypeError, match="Divergence"):
        ud.serialize("js")


def test_every_module_lists_its_public_names():
    import importlib

    for module in [
        "",
        "._base",
        "._csiszar",
        "._closed_forms",
        "._functional",
        "._f_divergences",
        "._wasserstein",
        "._mmd",
        "._numerics",
        "._sample_estimators",
    ]:
        mod = importlib.import_module("unigen.divergences" + module)
        assert hasattr(mod, "__all__")
        for public in mod.__all__:
            assert hasattr(mod, public)


# ------------------------------------------ the lecture notes' claims on KL and JS
def test_maximum_likelihood_is_minimum_kl_to_the_data():
    # E_p[-log q] = H(p) + KL(p || q): maximising the expected log-likelihood of q
    # over a family minimises KL(p || q), and E_p log p >= E_p log q (Gibbs).
    mp, sp = 0.3, 1.2
    p = tfd.Normal(np.float64(mp), np.float64(sp))
    entropy = 0.5 * math.log(2 * math.pi * math.e * sp**2)
    means, scales = np.linspace(-1.0, 1.5, 11), np.linspace(0.6, 2.0, 15)
    kl, cross = np.zeros((11, 15)), np.zeros((11, 15))
    for i, mq in enumerate(means):
        for j, sq in enumerate(scales):
            q = tfd.Normal(np.float64(mq), np.float64(sq))
            kl[i, j] = float(ud.get("kl").between(p, q).value)
            cross[i, j] = _quad(lambda x, mq=mq, sq=sq: -stats.norm.pdf(x, mp, sp)
                                * stats.norm.logpdf(x, mq, sq), (mp, sp, mq, sq))
    np.testing.assert_allclose(cross, entropy + kl, rtol=1e-8)
    assert np.all(-cross <= -entropy + 1e-12)
    assert np.argmax(-cross) == np.argmin(kl)
    i, j = np.unravel_index(np.argmin(kl), kl.shape)
    assert abs(means[i] - mp) < 0.13 and abs(scales[j] - sp) < 0.06


def _fit_normal(name, target, start):
    """The Normal N(m, s) minimising D(target, N(m, s)) (target is the data p)."""
    from scipy import optimize

    divergence = ud.get(name)

    def objective(params):
        q = tfd.Normal(np.float64(params[0]), np.float64(math.exp(params[1])))
        return float(divergence.between(target, q, method="quadrature").value)

    result = optimize.minimize(objective, start, method="Nelder-Mead",
                               options={"xatol": 1e-3, "fatol": 1e-7})
    return result.x[0], math.exp(result.x[1]), result.fun


def _two_modes(d):
    return tfd.MixtureSameFamily(tfd.Categorical(probs=np.array([0.5, 0.5])),
                                 tfd.Normal(np.array([-d, d]), np.array([0.5, 0.5])))


def test_kl_covers_both_modes_and_reverse_kl_seeks_one():
    # The notes: maximum likelihood (KL(p_data || q)) spreads over the modes and
    # blurs; the reverse KL(q || p_data) picks a mode. One Normal fitted to an
    # equal mixture of N(-2, 0.5^2) and N(2, 0.5^2).
    m, s, _ = _fit_normal("kl", _two_modes(2.0), [0.5, 0.0])
    # Forward KL matches the moments: mean 0, variance 0.25 + 4.
    assert abs(m) < 1e-2 and abs(s - math.sqrt(4.25)) < 1e-2
    m, s, _ = _fit_normal("reverse_kl", _two_modes(2.0), [0.5, 0.0])
    assert abs(m - 2.0) < 1e-2 and abs(s - 0.5) < 1e-2  # one mode, its own width


def test_js_fit_has_a_mode_seeking_and_a_covering_minimum():
    # "GAN (JS) is somewhat similar to reverse KL": JS has both minima. The
    # mode-seeking one is worth 0.2158 whatever the separation (its limit
    # (log(2/3) + log 2) / 4 + log(4/3) / 2); the covering one wins at +-2 and
    # loses at +-3.
    mode_limit = 0.25 * (math.log(2 / 3) + math.log(2)) + 0.5 * math.log(4 / 3)
    for d, covering_wins in ((2.0, True), (3.0, False)):
        m1, s1, seeking = _fit_normal("js", _two_modes(d), [d, -0.7])
        m2, s2, covering = _fit_normal("js", _two_modes(d), [0.0, math.log(d)])
        assert abs(m1 - d) < 0.02 and abs(s1 - 0.5) < 0.02
        assert abs(seeking - mode_limit) < 2e-4
        assert abs(m2) < 0.02 and s2 > d
        assert (covering < seeking) == covering_wins, (d, covering, seeking)
