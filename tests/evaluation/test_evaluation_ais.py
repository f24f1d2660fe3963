"""Annealed importance sampling against closed forms; the memoriser's exact likelihood."""

import math

import numpy as np
import pytest
import tensorflow as tf
from scipy import stats

import unigen
from unigen import evaluation as ev


class _PPCA:
    """Probabilistic PCA: z ~ N(0, I_k), x | z ~ N(W z + b, s^2 I_d); log p(x) closed form."""

    def __init__(self, d=12, k=3, s=0.3, n=24, seed=0):
        rng = np.random.default_rng(seed)
        self.d, self.k, self.s, self.n = d, k, s, n
        self.w = rng.normal(size=(d, k)).astype(np.float32)
        self.b = rng.normal(size=d).astype(np.float32)
        z = rng.normal(size=(n, k))
        self.x = (z @ self.w.T + self.b + s * rng.normal(size=(n, d))).astype(np.float32)
        cov = self.w @ self.w.T + s ** 2 * np.eye(d)
        self.log_p = stats.multivariate_normal(self.b, cov).logpdf(self.x)
        self.post_cov = np.linalg.inv(np.eye(k) + self.w.T @ self.w / s ** 2)
        self.post_mean = (self.x - self.b) @ self.w / s ** 2 @ self.post_cov
        self.rng = rng

    @staticmethod
    def log_prior(z):
        return -0.5 * tf.reduce_sum(tf.square(z), -1) - 0.5 * z.shape[-1] * math.log(2 * math.pi)

    def log_likelihood(self, chains):
        x = tf.constant(np.tile(self.x, (chains, 1)))  # row c * n + i: example i

        def fn(z):
            mean = tf.matmul(z, self.w, transpose_b=True) + self.b
            return tf.reduce_sum(-0.5 * tf.square((x - mean) / self.s), -1) - (
                self.d * math.log(self.s * math.sqrt(2 * math.pi)))
        return fn

    def prior_draws(self, chains):
        return self.rng.normal(size=(chains * self.n, self.k)).astype(np.float32)

    def posterior_draws(self, chains):
        noise = self.rng.normal(size=(chains * self.n, self.k))
        return (np.tile(self.post_mean, (chains, 1))
                + noise @ np.linalg.cholesky(self.post_cov).T).astype(np.float32)

    def estimate(self, num_steps, chains=8, seed=0, reverse=False):
        """Per-example log p estimates (forward) or upper estimates (reverse), with
        the step sizes of an independent adaptive pilot run, as `ais_log_prob` does."""
        draws = self.posterior_draws if reverse else self.prior_draws
        _, pilot = ev.annealed_importance_sampling(
            self.log_prior, self.log_likelihood(1), draws(1), num_steps=num_steps,
            adapt_step_size=True, seed=seed + 100, reverse=reverse)
        log_w, info = ev.annealed_importance_sampling(
            self.log_prior, self.log_likelihood(chains), draws(chains), num_steps=num_steps,
            step_size=np.tile(pilot["step_sizes"], (1, chains)), seed=seed, reverse=reverse)
        assert 0.3 < info["acceptance"] < 0.98
        log_mean_w = np.logaddexp.reduce(log_w.reshape(chains, self.n), 0) - math.log(chains)
        return -log_mean_w if reverse else log_mean_w


@pytest.fixture(scope="module")
def ppca():
    return _PPCA()


def test_schedules_run_from_zero_to_one():
    for schedule in ("sigmoid", "linear"):
        betas = ev.annealing_schedule(50, schedule)
        assert betas[0] == 0.0 and betas[-1] == 1.0 and np.all(np.diff(betas) > 0)
    sigmoid = ev.annealing_schedule(50)
    assert sigmoid[1] < 1 / 50 and 1 - sigmoid[-2] < 1 / 50  # denser at both ends
    with pytest.raises(ValueError, match="num_steps"):
        ev.annealing_schedule(0)


def test_ais_on_ppca_is_a_lower_bound_that_tightens_with_more_steps(ppca):
    gaps = {}
    for steps in (5, 50, 300):
        est = ppca.estimate(steps, seed=steps)
        gap = ppca.log_p - est  # >= 0 in expectation
        gaps[steps] = (float(np.mean(gap)), float(np.std(gap, ddof=1) / math.sqrt(ppca.n)))
    mean, se = gaps[300]
    assert mean > -3 * se - 0.02  # does not exceed the truth beyond noise
    assert mean < 0.5  # and is close to it with enough steps
    assert gaps[5][0] > gaps[50][0] > mean  # monotone in expectation (averages)
    assert gaps[5][0] > 2.0


def test_bidirectional_sandwich_on_ppca(ppca):
    # Reverse AIS from exact posterior draws gives a stochastic upper bound.
    lower = ppca.estimate(200, seed=1)
    upper = ppca.estimate(200, seed=2, reverse=True)
    se = np.std(upper - lower, ddof=1) / math.sqrt(ppca.n)
    assert np.mean(upper - ppca.log_p) > -3 * se
    assert np.mean(ppca.log_p - lower) > -3 * se
    assert np.mean(upper - lower) < 1.0  # a tight sandwich


def test_vae_ais_is_at_least_its_iwae_bound_and_gan_ais_is_finite():
    # Digits as 64-vectors: the VAE gets small MLP networks, so AIS is cheap.
    x = unigen.datasets.as_numpy("digits", "train")[:300].reshape(-1, 64)
    vae = unigen.models.create("vae", event_shape=(64,), num_levels=17, latent_dim=4)
    unigen.fit(vae, x, epochs=3, batch_size=50, seed=0, verbose=0, sample_every_epoch=0)
    test = unigen.datasets.as_numpy("digits", "test")[:24].reshape(-1, 64)
    iwae = np.asarray(vae.log_prob(test, num_samples=16, seed=0), np.float64)
    ais = ev.ais_log_prob(vae, test, num_steps=200, num_chains=4, seed=0)
    diff = ais - iwae
    se = np.std(diff, ddof=1) / math.sqrt(len(diff))
    assert np.mean(diff) > -3 * se  # AIS, the tighter lower bound, is not below IWAE
    scores = ev.likelihood(vae, test, estimator="ais", ais_steps=20, ais_chains=4)
    assert scores.extra["kind"] == "ais" and np.isfinite(scores.value)
    assert ev.estimators(vae) == ["importance", "ais"]

    gan = unigen.models.create("gan", event_shape=(8, 8, 1), num_levels=17, latent_dim=4)
    gan.build((None, 8, 8, 1))
    test = test.reshape(-1, 8, 8, 1)
    assert ev.estimators(gan) == ["ais", "parzen"]
    with pytest.raises(ValueError, match="observation_scale"):
        ev.ais_log_prob(gan, test, num_steps=2)
    sigma, _ = ev.choose_observation_scale(gan, test[:8], candidates=[1.0, 4.0],
                                           num_steps=3, num_chains=2)
    assert sigma in (1.0, 4.0)
    log_p = ev.ais_log_prob(gan, test, num_steps=5, num_chains=2, observation_scale=sigma)
    assert np.all(np.isfinite(log_p))
    # A probability mass over 17 levels per pixel: log P(x) <= 0.
    assert np.all(log_p <= 0)
    with pytest.raises(TypeError, match="decoder-based"):
        ev.ais_log_prob(unigen.models.Gaussian(event_shape=(64,), num_levels=17), test)


def test_memoriser_has_an_exact_infinite_test_nll_and_a_finite_parzen_one():
    train = unigen.datasets.as_numpy("digits", "train")
    validation = unigen.datasets.as_numpy("digits", "validation")
    test = unigen.datasets.as_numpy("digits", "test")
    memoriser = ev.Memoriser(train, 17, validation=validation)
    n = len(train)
    keys = [row.tobytes() for row in train.reshape(n, -1)]
    counts = np.array([keys.count(k) for k in keys])
    np.testing.assert_allclose(memoriser.log_prob(train), np.log(counts / n))
    assert np.all(memoriser.log_prob(train) <= -math.log(n) + math.log(counts.max()))
    unseen = np.array([row.tobytes() not in set(keys) for row in test.reshape(len(test), -1)])
    assert unseen.any()
    assert np.all(memoriser.log_prob(test)[unseen] == -np.inf)

    on_test = ev.likelihood(memoriser, test)
    assert on_test.value == math.inf and on_test.extra["kind"] == "exact"
    assert on_test.extra["num_zero_probability"] == int(unseen.sum())
    on_train = ev.likelihood(memoriser, train)
    assert on_train.value == pytest.approx(-np.mean(np.log(counts / n)))
    assert on_train.value <= math.log(n)
    parzen = ev.likelihood(memoriser, test, estimator="parzen")
    assert parzen.extra["kind"] == "parzen" and math.isfinite(parzen.value)
    assert math.isfinite(parzen.stderr) and parzen.value < 64 * math.log(17)
