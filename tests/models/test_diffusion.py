"""DDPM: the bound's terms against closed forms, brute force and TFP; sampling; errors."""

import math

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import unigen
from unigen.models import DDPM
from unigen.models.diffusion import _schedule as sch

tfd = tfp.distributions


def _tiny(**kwargs):
    options = dict(num_timesteps=10, hidden_units=(16,), seed=0)
    options.update(kwargs)
    event_shape = options.pop("event_shape", (3,))
    num_levels = options.pop("num_levels", 5)
    return DDPM(event_shape, num_levels=num_levels, **options)


def _randomise(model, scale=0.3):
    """Non-zero output weights, so the network's prediction is not identically 0."""
    model._ensure_built()
    rng = np.random.default_rng(0)
    for w in model.network.weights:
        w.assign(rng.normal(0.0, scale, w.shape).astype("float32"))


@pytest.mark.parametrize("name", ["linear", "cosine"])
def test_marginal_is_the_composition_of_the_one_step_kernels(name):
    schedule = sch.make_schedule(name, 50)
    x0 = 0.7
    mean, variance = x0, 0.0
    for t in range(1, 51):  # q(x_t | x_{t-1}) = N(sqrt(1 - beta_t) x_{t-1}, beta_t)
        beta = schedule["beta"][t]
        mean, variance = math.sqrt(1.0 - beta) * mean, (1.0 - beta) * variance + beta
        np.testing.assert_allclose(mean, math.sqrt(schedule["alpha_bar"][t]) * x0, rtol=1e-10)
        np.testing.assert_allclose(variance, 1.0 - schedule["alpha_bar"][t], rtol=1e-10)


@pytest.mark.parametrize("t", [2, 5, 10])
def test_posterior_is_bayes_rule_on_a_grid(t):
    """q(x_{t-1} | x_t, x_0) ∝ q(x_{t-1} | x_0) q(x_t | x_{t-1}), normalised numerically."""
    schedule = sch.make_schedule("cosine", 10)
    x0, xt = 0.4, -0.3
    grid = np.linspace(-6.0, 6.0, 400_001)
    a_prev, beta = schedule["alpha_bar"][t - 1], schedule["beta"][t]
    log_density = (-0.5 * (grid - math.sqrt(a_prev) * x0) ** 2 / (1.0 - a_prev)
                   - 0.5 * (xt - math.sqrt(1.0 - beta) * grid) ** 2 / beta)
    weights = np.exp(log_density - log_density.max())
    weights /= weights.sum()
    numeric_mean = float(np.sum(weights * grid))
    numeric_variance = float(np.sum(weights * (grid - numeric_mean) ** 2))
    mean, variance, log_variance = sch.posterior_mean_variance(
        schedule, tf.constant([[x0]]), tf.constant([[xt]]), tf.constant([t]))
    np.testing.assert_allclose(float(mean[0, 0]), numeric_mean, atol=1e-5)
    np.testing.assert_allclose(float(variance[0, 0]), numeric_variance, rtol=1e-3)
    np.testing.assert_allclose(float(log_variance[0, 0]), math.log(numeric_variance), atol=1e-3)


def test_normal_kl_is_tfps():
    rng = np.random.default_rng(1)
    m1, m2 = rng.normal(size=(2, 20)).astype("float32")
    s1, s2 = rng.uniform(0.1, 2.0, size=(2, 20)).astype("float32")
    mine = sch.normal_kl(m1, 2 * np.log(s1), m2, 2 * np.log(s2))
    np.testing.assert_allclose(mine, tfd.kl_divergence(tfd.Normal(m1, s1), tfd.Normal(m2, s2)),
                               rtol=1e-5, atol=1e-6)


def test_bound_terms_are_closed_form_gaussian_kls_and_the_discrete_decoder():
    model = _tiny(variance="learned")
    _randomise(model)
    x = tf.constant([[0.0, 2.0, 4.0], [1.0, 3.0, 4.0], [4.0, 0.0, 2.0]])
    noise = tf.constant(np.random.default_rng(2).normal(size=(3, 3)), tf.float32)
    t = tf.constant([1, 4, 10])
    terms, eps = model.bound_terms(x, t, noise)
    schedule = model.schedule
    x0 = x.numpy() / 2.0 - 1.0
    for i, step in enumerate(t.numpy()):
        a_bar = schedule["alpha_bar"][step]
        xt = math.sqrt(a_bar) * x0[i] + math.sqrt(1.0 - a_bar) * noise.numpy()[i]
        e, v = (o.numpy()[0] for o in model._network(tf.constant(xt[None], tf.float32),
                                                   tf.constant([step]), None))
        pred = np.clip((xt - math.sqrt(1.0 - a_bar) * e) / math.sqrt(a_bar), -1.0, 1.0)
        coef0, coeft = schedule["posterior_coef_x0"][step], schedule["posterior_coef_xt"][step]
        p_mean = coef0 * pred + coeft * xt
        small = schedule["posterior_log_variance"][step]
        large = small if step == 1 else math.log(schedule["beta"][step])
        p_log_var = (v + 1) / 2 * large + (1 - (v + 1) / 2) * small
        if step == 1:  # -log of the discretised Gaussian mass of the observed bins
            half = 1.0 / (5 - 1)  # bins of width 2 / (L - 1) around each level
            lo = np.where(x0[i] <= -1, -np.inf, x0[i] - half)
            hi = np.where(x0[i] >= 1, np.inf, x0[i] + half)
            p = tfd.Normal(p_mean, np.exp(0.5 * p_log_var))
            expected = -np.sum(np.log(p.cdf(hi) - p.cdf(lo)))
        else:
            q = tfd.Normal(coef0 * x0[i] + coeft * xt,
                           math.sqrt(schedule["posterior_variance"][step]))
            expected = np.sum(tfd.kl_divergence(q, tfd.Normal(p_mean, np.exp(0.5 * p_log_var))))
        np.testing.assert_allclose(terms[i], expected, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(eps[i], e, rtol=1e-6)
    prior = tfd.Normal(math.sqrt(schedule["alpha_bar"][-1]) * x0,
                       math.sqrt(1.0 - schedule["alpha_bar"][-1]))
    np.testing.assert_allclose(model.prior_kl(x.numpy().astype("float64")), np.sum(
        tfd.kl_divergence(prior, tfd.Normal(0.0, 1.0)), -1), rtol=1e-4, atol=1e-6)


def test_the_discretised_decoder_sums_to_one_over_all_levels():
    model = _tiny(event_shape=(1,), num_levels=7)
    model._ensure_built()
    levels = tf.constant(np.arange(7.0)[:, None], tf.float32)
    for mean, log_var in ((0.1, -3.0), (-0.95, -1.0), (1.3, -6.0)):
        log_p = model._decoder_log_prob(levels, tf.fill([7, 1], mean), tf.fill([7, 1], log_var))
        np.testing.assert_allclose(np.sum(np.exp(log_p.numpy())), 1.0, rtol=1e-5)


def test_the_bound_is_below_the_log_mass_of_a_one_pixel_two_level_image():
    model = _tiny(event_shape=(1,), num_levels=2, num_timesteps=5)
    _randomise(model, 0.5)
    draws = 400  # each row gets its own x_t draws: the mean is the ELBO
    x = tf.constant(np.repeat([[0.0], [1.0]], draws, axis=0), tf.float32)
    bound = model.log_prob(x).numpy().reshape(2, draws).mean(1)
    assert np.all(bound <= 0.0)
    assert np.sum(np.exp(bound)) <= 1.0


def test_the_timestep_estimate_is_unbiased_for_the_full_sum():
    model = _tiny()
    _randomise(model, 0.2)
    x = tf.constant(np.tile([[0.0, 2.0, 4.0]], (4000, 1)), tf.float32)
    full = model.log_prob(x).numpy()
    sampled = model.log_prob(x, timestep_samples=3, seed=1).numpy()
    error = math.hypot(full.std(), sampled.std()) / math.sqrt(len(full))
    assert abs(sampled.mean() - full.mean()) < 4 * error
    assert sampled.std() > full.std()  # fewer terms, more variance
    again = model.log_prob(x[:4], seed=5)
    np.testing.assert_array_equal(again, model.log_prob(x[:4], seed=5))


def test_the_importance_sampled_vlb_loss_is_an_unbiased_estimate_of_the_bound():
    model = _tiny(loss="vlb", variance="learned")
    _randomise(model, 0.2)
    probabilities = model._timestep_probabilities()
    assert probabilities.shape == (10,) and probabilities.sum() == pytest.approx(1.0)
    assert probabilities[0] > probabilities[-1]  # small noise weighs most in the bound
    x = tf.constant(np.tile([[0.0, 2.0, 4.0]], (4000, 1)), tf.float32)
    loss = -model(x).numpy()  # evaluation draws: t ~ p(t), one noise draw each
    bound = -model.log_prob(x).numpy()
    error = math.hypot(loss.std(), bound.std()) / math.sqrt(len(loss))
    assert abs(loss.mean() - bound.mean()) < 4 * error


def test_strided_chain_of_all_steps_is_the_schedule():
    schedule = sch.make_schedule("cosine", 20)
    steps = sch.strided_timesteps(20, 20)
    np.testing.assert_array_equal(steps, np.arange(1, 21))
    respaced = sch.schedule_from_betas(sch.respace(schedule["alpha_bar"], steps))
    for key, values in schedule.items():
        np.testing.assert_allclose(respaced[key], values, rtol=1e-9, atol=1e-12, err_msg=key)
    few = sch.strided_timesteps(20, 4)
    assert few[0] == 1 and few[-1] == 20 and len(few) == 4
    kept = sch.schedule_from_betas(sch.respace(schedule["alpha_bar"], few))["alpha_bar"]
    np.testing.assert_allclose(kept[1:], schedule["alpha_bar"][few], rtol=1e-12)


def test_ddim_with_eta_zero_is_deterministic_given_x_T_and_ancestral_is_not():
    model = _tiny(event_shape=(4, 4, 1), num_levels=17, architecture="mlp")
    _randomise(model, 0.1)
    x_T = tf.random.stateless_normal([3, 4, 4, 1], [7, 7])
    a = model.denoise(x_T, method="ddim", num_steps=4, seed=1)
    b = model.denoise(x_T, method="ddim", num_steps=4, seed=2)
    np.testing.assert_array_equal(a, b)
    noisy = model.denoise(x_T, method="ddim", num_steps=4, seed=2, eta=1.0)
    assert not np.array_equal(noisy, a)
    c = model.denoise(x_T, method="ancestral", seed=1)
    d = model.denoise(x_T, method="ancestral", seed=2)
    assert not np.array_equal(c, d)
    samples = model.sample(5, seed=3, num_steps=3)
    assert samples.shape == (5, 4, 4, 1)
    values = samples.numpy()
    assert np.all(values == np.round(values)) and values.min() >= 0 and values.max() <= 16
    np.testing.assert_array_equal(samples, model.sample(5, seed=3, num_steps=3))


def test_conditional_model_trains_and_samples_with_guidance():
    model = _tiny(event_shape=(3,), num_classes=3, label_dropout=0.5)
    x = np.random.default_rng(0).integers(0, 5, size=(64, 3)).astype("float32")
    y = np.arange(64) % 3
    history = unigen.fit(model, (x, y), epochs=1, batch_size=32, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    samples = model.sample(4, seed=0, labels=[0, 1, 2, 0], guidance=2.0, method="ddim",
                           num_steps=5)
    assert samples.shape == (4, 3)
    conditional = model.log_prob(x[:3], labels=y[:3])
    assert conditional.shape == (3,)


def test_evaluation_labels_the_likelihood_as_a_bound():
    model = _tiny()
    x = np.random.default_rng(0).integers(0, 5, size=(8, 3)).astype("float32")
    score = unigen.evaluation.likelihood(model, x)
    assert score.extra["kind"] == "elbo" and score.extra["bias"].startswith("lower bound")
    assert "ELBO" in score.estimator


def test_continuous_vectors_train_and_sample():
    model = _tiny(num_levels=None, event_shape=(2,), loss="vlb")
    x = unigen.datasets.as_numpy("ring8", "train")[:64].astype("float32")
    history = unigen.fit(model, x, epochs=1, batch_size=32, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert np.isfinite(model.log_prob(x[:4]).numpy()).all()
    assert model.sample(3, seed=0, method="ddim", num_steps=2).shape == (3, 2)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": "elbo"}, "`loss` must be one of"),
    ({"variance": "fixed"}, "`variance` must be one of"),
    ({"schedule": "sigmoid"}, "`schedule` must be one of"),
    ({"architecture": "unet"}, "needs images"),
    ({"num_timesteps": 1}, "at least 2"),
    ({"label_dropout": 1.0}, "label_dropout"),
    ({"event_shape": (6, 6, 1), "channel_multipliers": (1, 2, 2)}, "divisible by 4"),
])
def test_bad_options_say_what_to_do(kwargs, match):
    with pytest.raises(ValueError, match=match):
        _tiny(**kwargs)._ensure_built()


def test_bad_call_options_say_what_to_do():
    model = _tiny()
    with pytest.raises(ValueError, match=r"`num_steps` must be an int in 1\.\.10"):
        model.sample(2, num_steps=11)
    with pytest.raises(ValueError, match="`method` must be one of"):
        model.sample(2, method="euler")
    with pytest.raises(ValueError, match="needs a conditional DDPM"):
        model.sample(2, guidance=1.0)
    with pytest.raises(ValueError, match="`timestep_samples` must be a positive int"):
        model.log_prob(np.zeros((2, 3)), timestep_samples=0)
    with pytest.raises(unigen.errors.DataError, match=r"integer levels 0\.\.4"):
        model.log_prob(np.full((2, 3), 0.5))
