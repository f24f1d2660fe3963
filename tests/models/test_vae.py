"""`unigen.models.VAE`: bounds against closed forms, likelihoods, saving, training."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf
from conftest import ROOT, run_pythons

import unigen
import unigen.divergences as ud
from unigen.models import VAE
from unigen.models.vae import _likelihoods as lik


def _digits(split="train", n=None):
    x = unigen.datasets.as_numpy("digits", split)
    return x if n is None else x[:n]


# ------------------------------------------------------------------ PPCA
def _ppca_data(n=3000, dim=5, latent=2, noise=0.4, seed=0):
    rng = np.random.RandomState(seed)
    w = rng.normal(size=(dim, latent)) * np.array([2.0, 1.0])
    mu = rng.normal(size=dim)
    z = rng.normal(size=(n, latent))
    return (z @ w.T + mu + noise * rng.normal(size=(n, dim))).astype("float32")


def _ppca_fit(x, latent):
    """Tipping and Bishop's closed-form maximum-likelihood PPCA.

    Returns (mean log-likelihood, W, mu, sigma^2) with W = U (L - sigma^2 I)^(1/2),
    the rotation for which W^T W is diagonal, so the exact posterior
    N(M^-1 W^T (x - mu), sigma^2 M^-1), M = W^T W + sigma^2 I, is diagonal.
    """
    dim = x.shape[1]
    mean = x.mean(0)
    s = np.cov(x.T, bias=True)
    vals, vecs = np.linalg.eigh(s)
    vals, vecs = vals[::-1], vecs[:, ::-1]
    sigma2 = vals[latent:].mean()
    w = vecs[:, :latent] * np.sqrt(vals[:latent] - sigma2)
    c = w @ w.T + sigma2 * np.eye(dim)
    _, logdet = np.linalg.slogdet(c)
    ll = -0.5 * (dim * np.log(2 * np.pi) + logdet + np.trace(np.linalg.solve(c, s)))
    return ll, w, mean, sigma2


def _gaussian_mean_log_prob(x, mean, cov):
    diff = x - mean
    _, logdet = np.linalg.slogdet(cov)
    maha = np.einsum("nd,nd->n", diff @ np.linalg.inv(cov), diff)
    return -0.5 * (x.shape[1] * np.log(2 * np.pi) + logdet + maha)


def _softplus_inverse(y):
    return np.log(np.expm1(y)).astype("float32")


def test_linear_vae_matches_ppca_likelihood():
    """Closed-form init (decoder at the PPCA optimum, encoder at the exact
    posterior), then 300 full-batch Adam steps on the noisy ELBO: the trained
    ELBO stays within 1% of the PPCA log-likelihood, and the importance-weighted
    estimate never exceeds it (nor the trained model's exact marginal)."""
    keras.utils.set_random_seed(0)
    x = _ppca_data()
    exact, w, mu, sigma2 = _ppca_fit(x, 2)
    m = w.T @ w + sigma2 * np.eye(2)
    post_std = np.sqrt(sigma2 * np.diag(np.linalg.inv(m)))
    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(5)])
    vae = VAE(input_shape=(5,), latent_dim=2, likelihood="gaussian", encoder=encoder,
              decoder=decoder, gaussian_scale="learned", seed=0)
    vae.compile(optimizer=keras.optimizers.Adam(0.003))
    a = np.linalg.solve(m, w.T)  # posterior mean = a (x - mu)
    encoder.layers[-1].set_weights([
        np.concatenate([a.T, np.zeros((5, 2))], 1).astype("float32"),
        np.concatenate([-a @ mu, _softplus_inverse(post_std - 1e-4)]).astype("float32")])
    decoder.layers[-1].set_weights([w.T.astype("float32"), mu.astype("float32")])
    vae.likelihood.raw_scale.assign(np.full(5, _softplus_inverse(np.sqrt(sigma2) - 1e-3)))
    vae.fit(tf.data.Dataset.from_tensors(x).repeat(300), epochs=1, verbose=0)

    elbo = vae.elbo(x, num_samples=50, seed=1).numpy()
    iw = vae.log_prob(x, num_samples=500, seed=2).numpy()
    stderr = iw.std() / np.sqrt(len(iw))
    assert abs(elbo.mean() - exact) < 0.01 * abs(exact), (elbo.mean(), exact)
    assert iw.mean() <= exact + stderr, (iw.mean(), exact, stderr)
    # The trained model is linear-Gaussian: its marginal is N(b, W W^T + Psi).
    kernel, bias = (v.numpy() for v in vae.decoder.layers[-1].weights)
    _, scale = vae.likelihood.loc_and_scale(tf.zeros((1, 5, 1)))
    cov = kernel.T @ kernel + np.diag(scale.numpy()[0] ** 2)
    model_ll = _gaussian_mean_log_prob(x, bias, cov).mean()
    assert elbo.mean() <= iw.mean() <= model_ll + stderr, (elbo.mean(), iw.mean(), model_ll)
    assert model_ll <= exact + 1e-3  # PPCA is the maximum-likelihood linear model


# -------------------------------------------------------------- the bounds
@pytest.fixture(scope="module")
def trained_digits_vae():
    keras.utils.set_random_seed(0)
    vae = VAE(input_shape=(8, 8, 1), latent_dim=4, num_levels=17, seed=0)
    unigen.fit(vae, _digits(), epochs=8, batch_size=100, seed=0, verbose=0,
               learning_rate=3e-3)
    return vae


def test_elbo_below_iwae_bounds_that_increase_with_k(trained_digits_vae):
    x = _digits("test", 64)
    elbo = trained_digits_vae.elbo(x, num_samples=20, seed=0).numpy().mean()
    iw10 = trained_digits_vae.log_prob(x, num_samples=10, seed=1).numpy().mean()
    iw100 = trained_digits_vae.log_prob(x, num_samples=100, seed=2).numpy().mean()
    assert elbo <= iw10 <= iw100, (elbo, iw10, iw100)


def test_analytic_kl_equals_monte_carlo(trained_digits_vae):
    import tensorflow_probability as tfp
    q = trained_digits_vae.posterior(_digits("test", 8))
    p = trained_digits_vae.prior_distribution()
    exact = ud.get("kl").between(q, p, method="closed_form").value.numpy()
    # The same posteriors in float64, so that only Monte Carlo error remains.
    q64 = tfp.distributions.MultivariateNormalDiag(
        tf.cast(q.mean(), "float64"), tf.cast(q.stddev(), "float64"))
    p64 = tfp.distributions.MultivariateNormalDiag(tf.zeros(4, "float64"),
                                                   tf.ones(4, "float64"))
    z = q64.sample(50000, seed=(1, 2))
    terms = (q64.log_prob(z) - p64.log_prob(z)).numpy()
    mc, se = terms.mean(0), terms.std(0) / np.sqrt(len(terms))
    assert np.all(np.abs(mc - exact) <= 3 * se + 1e-5), (mc, exact, se)
    # The VAE's own fallback (used for priors without a closed form) agrees too.
    from unigen.models.vae._objectives import kl_to_prior
    log_q = tf.transpose(q64.log_prob(z))  # [batch, K]
    log_p = tf.transpose(p64.log_prob(z))
    mc_vae, analytic = kl_to_prior(ud.get("js"), q.mean(), q.stddev(), p, log_q, log_p)
    assert not analytic
    np.testing.assert_allclose(mc_vae.numpy(), mc, rtol=1e-4, atol=1e-4)


def test_mixture_prior_uses_monte_carlo_kl_and_trains():
    vae = VAE(input_shape=(8, 8, 1), latent_dim=3, num_levels=17, prior="mixture",
              prior_components=4)
    history = unigen.fit(vae, _digits(n=256), epochs=1, batch_size=64, seed=0, verbose=0)
    assert np.isfinite(history.history["kl"][-1])
    assert vae.prior.trainable_variables


# ------------------------------------------------------------ likelihoods
@pytest.mark.parametrize("name,levels", [("bernoulli", 2), ("gaussian", 17),
                                         ("logistic", 17), ("logistic", 256),
                                         ("categorical", 17)])
def test_level_probabilities_sum_to_one(name, levels):
    layer = lik.get_likelihood(name, levels, event_size=6, gaussian_scale="decoder")
    layer.build(None)
    params = tf.random.stateless_normal((3, 6, layer.params_per_value), seed=(0, 1)) * 3.0
    log_probs = layer.level_log_probs(params)
    np.testing.assert_allclose(tf.reduce_sum(tf.exp(log_probs), -1).numpy(), 1.0, atol=2e-5)
    x = tf.constant(np.random.RandomState(0).randint(0, levels, (3, 6)), "float32")
    direct = layer.log_prob(params, x).numpy()
    gathered = np.take_along_axis(log_probs.numpy(), x.numpy().astype(int)[..., None], -1)
    np.testing.assert_allclose(direct, gathered[..., 0], rtol=1e-4, atol=1e-5)
    samples = layer.sample(params, seed=0).numpy()
    assert samples.min() >= 0 and samples.max() <= levels - 1
    np.testing.assert_array_equal(samples, np.round(samples))


def test_discretized_gaussian_matches_tfp_quantized():
    import tensorflow_probability as tfp
    loc, scale = tf.constant([3.3, 0.2, 15.9]), tf.constant([0.7, 2.0, 0.3])
    x = tf.constant([3.0, 0.0, 16.0])
    ours = lik.discretized_log_prob(x, loc, scale, 17, "gaussian")
    ref = tfp.distributions.QuantizedDistribution(
        tfp.distributions.Normal(loc - 0.5, scale), low=0.0, high=16.0).log_prob(x)
    np.testing.assert_allclose(ours.numpy(), ref.numpy(), atol=1e-5)


def test_bernoulli_on_levels_is_documented_not_a_mass():
    layer = lik.get_likelihood("bernoulli", 17, event_size=2)
    with pytest.raises(ValueError, match="binary data"):
        layer.level_log_probs(tf.zeros((1, 2, 1)))


# ---------------------------------------------------- training and saving
def test_reconstruction_beats_the_mean_image(trained_digits_vae):
    x = _digits("test").astype("float32")
    recon = trained_digits_vae.reconstruct(x).numpy()
    mean_image = _digits().astype("float32").mean(0)
    assert np.mean((recon - x) ** 2) < 0.8 * np.mean((mean_image - x) ** 2)


@pytest.mark.parametrize("kwargs", [
    {},
    {"divergence": "mmd", "likelihood": "logistic"},
    {"divergence": "js", "prior": "mixture", "prior_components": 3},
])
def test_keras_round_trip(tmp_path, kwargs):
    vae = VAE(input_shape=(8, 8, 1), latent_dim=3, num_levels=17, **kwargs)
    history = unigen.fit(vae, _digits(n=128), epochs=1, batch_size=64, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    path = str(tmp_path / "vae.keras")
    vae.save(path)
    loaded = unigen.load(path)
    x = _digits("test", 16)
    np.testing.assert_array_equal(vae.elbo(x, seed=3).numpy(), loaded.elbo(x, seed=3).numpy())
    np.testing.assert_array_equal(vae.sample(8, seed=4).numpy(), loaded.sample(8, seed=4).numpy())
    assert loaded.divergence.get_config() == vae.divergence.get_config()
    if kwargs.get("divergence") == "js":
        assert loaded.discriminator_optimizer is not None
        for opt in ("optimizer", "discriminator_optimizer"):
            saved = getattr(vae, opt).variables
            for a, b in zip(saved, getattr(loaded, opt).variables, strict=True):
                np.testing.assert_array_equal(np.asarray(a), np.asarray(b))


def test_user_networks_round_trip(tmp_path):
    encoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, "tanh"),
                                keras.layers.Dense(2)])
    decoder = keras.Sequential([keras.Input((1,)), keras.layers.Dense(8, "tanh"),
                                keras.layers.Dense(4)])
    vae = VAE(input_shape=(2,), latent_dim=1, encoder=encoder, decoder=decoder,
              gaussian_scale="decoder")
    x = np.random.RandomState(0).normal(size=(10, 2)).astype("float32")
    path = str(tmp_path / "user.keras")
    vae.save(path)
    loaded = unigen.load(path)
    np.testing.assert_array_equal(vae.elbo(x, seed=0).numpy(), loaded.elbo(x, seed=0).numpy())


def test_kl_warmup_counts_optimizer_steps():
    from unigen.models.vae._objectives import warmup_weight
    assert float(warmup_weight(tf.constant(0), 4)) == 0.25
    assert float(warmup_weight(tf.constant(9), 4)) == 1.0
    assert float(warmup_weight(tf.constant(9), 0)) == 1.0


def test_resume_continues_the_warmup_step_count(tmp_path):
    def make():
        return VAE(input_shape=(8, 8, 1), latent_dim=2, num_levels=17,
                   kl_warmup_steps=100, divergence="js")

    x = _digits(n=128)
    out = str(tmp_path / "run")
    unigen.fit(make(), x, epochs=1, batch_size=64, seed=0, output_dir=out, verbose=0)
    resumed = make()
    unigen.fit(resumed, x, epochs=2, batch_size=64, seed=0, output_dir=out, verbose=0)
    assert int(resumed.optimizer.iterations) == 4
    assert int(resumed.discriminator_optimizer.iterations) == 4


def test_iwae_training_and_conditional_sampling():
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    vae = VAE(input_shape=(8, 8, 1), latent_dim=3, num_levels=17, iwae_samples=4,
              num_classes=10, kl_warmup_steps=10)
    history = unigen.fit(vae, (x[:256], y[:256]), epochs=1, batch_size=64, seed=0,
                         verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    samples = vae.sample(5, seed=0, labels=[0, 1, 2, 3, 4]).numpy()
    assert samples.shape == (5, 8, 8, 1)
    lp = vae.log_prob(x[:4], num_samples=8, seed=0, labels=y[:4]).numpy()
    assert np.all(np.isfinite(lp)) and np.all(lp < 0)
    # Without labels a conditional model cycles through the classes (every family).
    np.testing.assert_array_equal(vae.sample(5, seed=0).numpy(), samples)
    with pytest.raises(ValueError, match="labels"):
        vae.sample(2, labels=[0, 99])


def test_vector_data_and_errors():
    vae = VAE(input_shape=(2,), latent_dim=2)
    x = unigen.datasets.as_numpy("moons", "train")[:256]
    unigen.fit(vae, x, epochs=1, batch_size=64, seed=0, verbose=0)
    assert vae.sample(4, seed=0).shape == (4, 2)
    with pytest.raises(ValueError, match="discrete levels"):
        VAE(input_shape=(2,), likelihood="logistic")
    with pytest.raises(ValueError, match="iwae_samples"):
        VAE(input_shape=(2,), divergence="mmd", iwae_samples=3)
    with pytest.raises(ValueError, match="Lipschitz"):
        VAE(input_shape=(2,), divergence=ud.Wasserstein(lipschitz=None))
    with pytest.raises(ValueError, match="input_shape"):
        VAE(latent_dim=2)


def test_registered_builder():
    model = unigen.models.create("vae", event_shape=(8, 8, 1), num_levels=17)
    assert isinstance(model, VAE) and model.likelihood_name == "categorical"


# ------------------------------------------------- 1 device == 2 replicas
def test_two_replicas_match_one_device(tmp_path):
    job = os.path.join(ROOT, "tests", "models", "jobs_vae.py")
    run_pythons([[job, "--replicas", str(r), "--dump", str(tmp_path / f"r{r}.npz")]
                 for r in (1, 2)], timeout=600)
    with np.load(tmp_path / "r1.npz") as one, np.load(tmp_path / "r2.npz") as two:
        assert sorted(one.files) == sorted(two.files)
        for key in one.files:
            np.testing.assert_allclose(one[key], two[key], atol=2e-5, err_msg=key)


def _linear_gaussian_vae():
    """A VAE with decoder p(x | z) = N(W z + b, s^2 I) and an encoder whose mean is
    the exact posterior mean shifted by 0.3 and whose scale is 1.5 times too wide.
    Returns (vae, W, b, s, x), s being the scale the likelihood really uses."""
    keras.utils.set_random_seed(0)
    rng = np.random.RandomState(1)
    w, b, s = rng.normal(size=(5, 2)), rng.normal(size=5), 0.7
    x = _ppca_data(n=6, seed=3)
    encoder = keras.Sequential([keras.Input((5,)), keras.layers.Dense(4)])
    decoder = keras.Sequential([keras.Input((2,)), keras.layers.Dense(5)])
    vae = VAE(input_shape=(5,), latent_dim=2, likelihood="gaussian", encoder=encoder,
              decoder=decoder, gaussian_scale="learned", seed=0)
    vae.elbo(x[:1])  # builds
    m = w.T @ w + s**2 * np.eye(2)
    a = np.linalg.solve(m, w.T)  # the exact posterior mean is a (x - b)
    post_std = np.sqrt(s**2 * np.diag(np.linalg.inv(m)))
    encoder.layers[-1].set_weights([
        np.concatenate([a.T, np.zeros((5, 2))], 1).astype("float32"),
        np.concatenate([-a @ b + 0.3, _softplus_inverse(1.5 * post_std - 1e-4)])
        .astype("float32")])
    decoder.layers[-1].set_weights([w.T.astype("float32"), b.astype("float32")])
    vae.likelihood.raw_scale.assign(np.full(5, _softplus_inverse(s)))
    _, scale = vae.likelihood.loc_and_scale(tf.zeros((1, 5, 1)))
    return vae, w, b, float(scale.numpy().ravel()[0]), x


def test_elbo_gap_is_the_kl_to_the_exact_posterior():
    """log p(x) - ELBO(x) = KL(q(z | x) || p(z | x)) for a linear-Gaussian VAE with
    an arbitrary (not optimal) encoder: p(x) = N(b, W W^T + s^2 I) and
    p(z | x) = N(M^-1 W^T (x - b), s^2 M^-1), M = W^T W + s^2 I, in closed form.
    Also the backup slide's "E_q[log p(x, z)] - KL(q || p(z))", which counts the
    prior twice: it equals ELBO + E_q[log p(z)], below the ELBO for N(0, I)."""
    import tensorflow_probability as tfp
    tfd = tfp.distributions
    vae, w, b, s, x = _linear_gaussian_vae()

    log_px = _gaussian_mean_log_prob(x, b, w @ w.T + s**2 * np.eye(5))
    m = w.T @ w + s**2 * np.eye(2)  # again, with the scale in use
    post = tfd.MultivariateNormalTriL((np.linalg.solve(m, w.T) @ (x - b).T).T,
                                      np.linalg.cholesky(s**2 * np.linalg.inv(m)))
    q = vae.posterior(x)
    q64 = tfd.MultivariateNormalDiag(tf.cast(q.mean(), "float64"),
                                     tf.cast(q.stddev(), "float64"))
    kl_to_posterior = ud.get("kl").between(q64, post).value.numpy()
    assert np.all(kl_to_posterior > 0.05)  # the encoder is far from the posterior

    k = 20000
    log_w = vae.log_importance_weights(x, num_samples=k, seed=4).numpy().astype(np.float64)
    elbo_mc, stderr = log_w.mean(1), log_w.std(1) / np.sqrt(k)  # E_q log w = ELBO
    assert np.all(np.abs(elbo_mc - (log_px - kl_to_posterior)) < 3 * stderr + 1e-3), (
        elbo_mc, log_px - kl_to_posterior, stderr)
    elbo = vae.elbo(x, num_samples=k, seed=5).numpy()  # closed-form KL to the prior
    assert np.all(np.abs(elbo - (log_px - kl_to_posterior)) < 4 * stderr + 1e-3)
    # The slide's expression: ELBO + E_q log N(z; 0, I), closed form.
    mu, sd = q64.mean().numpy(), q64.stddev().numpy()
    e_log_prior = -np.log(2 * np.pi) - 0.5 * np.sum(mu**2 + sd**2, 1)
    assert np.all(elbo + e_log_prior < elbo - np.log(2 * np.pi) + 1e-9)


def test_reparameterised_elbo_gradient_is_unbiased():
    """z = mu + sigma eps makes the Monte Carlo ELBO differentiable in the encoder,
    and its gradient unbiased: averaged over draws it equals the gradient of the
    closed-form ELBO of the linear-Gaussian VAE,
    E_q log N(x; W z + b, s^2 I) = sum_d [-log(2 pi s^2) / 2
    - ((x - W mu - b)_d^2 + sum_j W_dj^2 sigma_j^2) / (2 s^2)], minus KL(q || N(0, I))."""
    vae, _, _, s, x = _linear_gaussian_vae()
    encoder_kernel = vae.encoder.layers[-1].kernel
    with tf.GradientTape() as tape:
        q = vae.posterior(x)
        mu, sigma = q.mean(), q.stddev()
        kernel = vae.decoder.layers[-1].kernel  # W^T
        resid = x - mu @ kernel - vae.decoder.layers[-1].bias
        expected_log_lik = tf.reduce_sum(
            -0.5 * np.log(2 * np.pi * s**2)
            - (resid**2 + (sigma**2) @ kernel**2) / (2 * s**2), axis=1)
        kl = 0.5 * tf.reduce_sum(mu**2 + sigma**2 - 1.0 - 2.0 * tf.math.log(sigma), axis=1)
        exact = tf.reduce_mean(expected_log_lik - kl)
    exact_grad = tape.gradient(exact, encoder_kernel).numpy()
    np.testing.assert_allclose(float(exact), vae.elbo(x, num_samples=20000, seed=0).numpy()
                               .mean(), atol=0.05)
    grads = []
    for seed in range(20):
        with tf.GradientTape() as tape:
            estimate = tf.reduce_mean(vae.elbo(x, num_samples=500, seed=100 * seed))
        grads.append(tape.gradient(estimate, encoder_kernel).numpy())
    grads = np.array(grads)
    mean, stderr = grads.mean(0), grads.std(0, ddof=1) / np.sqrt(len(grads))
    assert np.abs(exact_grad).max() > 1.0  # the encoder is far from the optimum
    assert np.all(np.abs(mean - exact_grad) < 4 * stderr + 1e-3), (mean, exact_grad, stderr)
