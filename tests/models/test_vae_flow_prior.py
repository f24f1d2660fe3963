"""VAE with a learned normalizing-flow prior (prior="flow")."""

import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.models import VAE
from unigen.models.vae import _objectives as obj
from unigen.models.vae._priors import FlowPrior


def _digits(split="train", n=None):
    x = unigen.datasets.as_numpy("digits", split)
    return x if n is None else x[:n]


def _perturbed_prior(seed=0):
    """A 2-D flow prior whose weights are all random (not near the identity)."""
    prior = FlowPrior(2, num_layers=3, hidden=16, name="prior")
    prior.build()
    rng = np.random.RandomState(seed)
    for v in prior.weights:
        v.assign(0.3 * rng.normal(size=v.shape).astype("float32"))
    return prior


def test_flow_prior_density_integrates_to_one_and_inverts():
    prior = _perturbed_prior()
    # Trapezoid-free midpoint quadrature on [-10, 10]^2 (the density is smooth
    # and decays like a Gaussian well inside the box).
    n, half = 400, 10.0
    h = 2 * half / n
    grid = -half + h * (np.arange(n) + 0.5)
    zz = np.stack(np.meshgrid(grid, grid, indexing="ij"), -1).reshape(-1, 2).astype("float32")
    log_p = prior.log_prob(zz).numpy()
    total = np.exp(log_p.astype("float64")).sum() * h * h
    assert abs(total - 1.0) < 2e-2, total
    # The TFP distribution the VAE uses is the same density.
    tfp_log_p = prior.distribution().log_prob(zz[:500]).numpy()
    np.testing.assert_allclose(tfp_log_p, log_p[:500], rtol=1e-5, atol=1e-5)
    # Sampling is the inverse direction: f(f^-1(u)) = u, and the log-dets cancel.
    u = tf.random.stateless_normal((64, 2), seed=[1, 2])
    z, log_det_inv = prior._to_latent(u)
    u_again, log_det = prior._to_base(z)
    np.testing.assert_allclose(u_again.numpy(), u.numpy(), atol=1e-4)
    np.testing.assert_allclose(log_det.numpy(), -log_det_inv.numpy(), atol=1e-4)
    np.testing.assert_allclose(prior.sample_from_noise(u, None).numpy(), z.numpy())
    # No closed-form KL: the VAE falls back to the Monte Carlo term.
    loc, scale = tf.zeros((3, 2)), tf.ones((3, 2))
    log_q, log_p3 = tf.zeros((3, 1)), tf.ones((3, 1))
    kl, exact = obj.kl_to_prior(unigen.divergences.get("kl"), loc, scale,
                                prior.distribution(), log_q, log_p3)
    assert not exact
    np.testing.assert_allclose(kl.numpy(), -np.ones(3))


def test_flow_prior_errors():
    with pytest.raises(ValueError, match="latent_dim >= 2"):
        VAE(input_shape=(2,), latent_dim=1, prior="flow")
    with pytest.raises(ValueError, match="prior_flow_layers"):
        VAE(input_shape=(2,), latent_dim=2, prior="flow", prior_flow_layers=0)


def test_fit_trains_the_flow_prior_and_keras_round_trip(tmp_path):
    kwargs = {"prior": "flow", "prior_flow_layers": 2, "prior_flow_hidden": 16}
    vae = VAE(input_shape=(8, 8, 1), latent_dim=3, num_levels=17, **kwargs)
    # The prior's initial weights are deterministic: a twin holds them.
    twin = FlowPrior(3, num_layers=2, hidden=16, name="prior")
    twin.build()
    history = unigen.fit(vae, _digits(n=128), epochs=1, batch_size=64, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"][-1])
    assert np.isfinite(history.history["kl"][-1])
    trained = vae.prior.trainable_variables
    assert len(trained) == len(twin.trainable_variables) > 2
    for a, b in zip(trained, twin.trainable_variables, strict=True):
        assert a.shape == b.shape
        assert not np.array_equal(a.numpy(), b.numpy()), a.path

    path = str(tmp_path / "vae.keras")
    vae.save(path)
    loaded = unigen.load(path)
    assert isinstance(loaded.prior, FlowPrior)
    assert (loaded.prior_flow_layers, loaded.prior_flow_hidden) == (2, 16)
    x = _digits("test", 16)
    elbo = vae.elbo(x, seed=3).numpy()
    assert np.all(np.isfinite(elbo))
    np.testing.assert_array_equal(elbo, loaded.elbo(x, seed=3).numpy())
    np.testing.assert_array_equal(vae.sample(8, seed=4).numpy(),
                                  loaded.sample(8, seed=4).numpy())
