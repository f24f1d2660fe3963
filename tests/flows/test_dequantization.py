"""Variational dequantization (Flow++): q(u | x), the bound, importance weighting, saving."""

import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.flows import VariationalDequantizer

DIGITS = unigen.datasets.as_numpy("digits", "train")[:32]


def _perturb(variables, seed=0, scale=0.3):
    rng = np.random.default_rng(seed)
    for v in variables:
        v.assign(v.numpy() + scale * rng.standard_normal(v.shape).astype(v.dtype))


def _tiny_discrete_flow():
    """A 2-"pixel" RealNVP on 3 levels (9 bins) with a perturbed flow and dequantizer."""
    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8, num_levels=3,
                                  dequantization="variational", dequantizer_couplings=2,
                                  dequantizer_hidden=8)
    bins = np.stack(np.meshgrid(np.arange(3), np.arange(3)), -1).reshape(-1, 2)
    model.data_dependent_init(tf.constant(np.repeat(bins, 4, 0), "float32"))
    _perturb(model.flow.trainable_variables, seed=1)
    _perturb(model.dequantizer.trainable_variables, seed=2)
    return model, bins.astype("float32")


def _exact_log_mass(model, bins, nodes=48):
    """log of the integral of p_Y over each bin cube, by tensor Gauss-Legendre quadrature."""
    t, w = np.polynomial.legendre.leggauss(nodes)
    t, w = (t + 1.0) / 2.0, w / 2.0
    u = np.stack(np.meshgrid(t, t), -1).reshape(-1, 2)
    weights = np.outer(w, w).reshape(-1)
    out = []
    for x in bins:
        log_p = model._continuous_log_prob(tf.constant(x + u, "float32")).numpy()
        out.append(np.log(np.sum(weights * np.exp(log_p.astype("float64")))))
    return np.array(out)


def test_bound_below_exact_mass_and_importance_weighting_approaches_it():
    model, bins = _tiny_discrete_flow()
    exact = _exact_log_mass(model, bins)
    assert np.all(np.isfinite(exact)) and np.sum(np.exp(exact)) <= 1.0 + 1e-4
    # per-draw log weights log p_Y(x + u) - log q(u | x), u ~ q(u | x)
    draws = 8000
    x = tf.constant(np.tile(bins, (draws, 1)))
    eps = tf.random.stateless_normal(x.shape, seed=[3, 4])
    log_w = model._log_prob_with_noise(x, eps).numpy().reshape(draws, len(bins)).astype("f8")
    elbo, elbo_se = log_w.mean(0), log_w.std(0) / np.sqrt(draws)
    assert np.all(elbo <= exact + 3 * elbo_se + 1e-4), (elbo, exact)
    gap = exact - elbo
    assert np.all(gap > 0.1)  # the perturbed q is far from the bin-restricted p

    def iw(k):  # mean over disjoint blocks of log (1/k) sum exp(log_w)
        blocks = log_w[: draws // k * k].reshape(draws // k, k, -1)
        m = blocks.max(1, keepdims=True)
        return (np.log(np.mean(np.exp(blocks - m), 1)) + m[:, 0]).mean(0)

    # E[log (1/K) sum w_k] rises with K towards log P(x). The weights p/q are
    # heavy-tailed near the faces of the cube (q -> 0 faster than p there), so
    # one realisation can overshoot a little: compare in units of the gap.
    iw10, iw100 = iw(10), iw(100)
    assert elbo.mean() < iw10.mean() < iw100.mean() <= exact.mean() + 1e-3
    assert np.all((exact - iw10) / gap < 0.4) and np.all((exact - iw10) / gap > 0.0)
    assert np.all(np.abs(exact - iw100) / gap < 0.3) and np.mean((exact - iw100) / gap) < 0.15
    # the public API: log_prob(x, num_samples=K) is that estimate
    public = model.log_prob(bins, num_samples=200, seed=5).numpy()
    assert abs(np.mean(exact - public)) < 0.3 * np.mean(gap), (public, exact)
    np.testing.assert_array_equal(model.log_prob(bins, num_samples=50, seed=5),
                                  model.log_prob(bins, num_samples=50, seed=5))


@pytest.mark.parametrize("shape", [(4, 4, 2), (3,)])
def test_log_q_matches_the_autodiff_jacobian_and_u_in_unit_cube(shape):
    deq = VariationalDequantizer(num_levels=5, num_couplings=3, hidden=6, seed=1)
    x = tf.constant(np.random.default_rng(0).integers(0, 5, (2, *shape)), "float32")
    deq.build(x.shape)
    _perturb(deq.trainable_variables, scale=0.1)
    eps = tf.random.stateless_normal(x.shape, seed=[1, 2])
    d = int(np.prod(shape))
    flat = tf.reshape(eps, [2, d])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        u, log_q = deq.sample_and_log_prob(x, tf.reshape(flat, x.shape))
        u_flat = tf.reshape(u, [2, d])
    jac = tape.batch_jacobian(u_flat, flat).numpy().astype("float64")
    _, logdet = np.linalg.slogdet(jac)
    log_normal = -0.5 * np.sum(flat.numpy() ** 2, 1) - 0.5 * d * np.log(2 * np.pi)
    assert np.all(u > 1e-3) and np.all(u < 1.0 - 1e-3)  # away from sigmoid saturation
    assert np.std(log_q - log_normal) > 0.1 or np.ptp(log_q) > 0.1  # a non-trivial map
    np.testing.assert_allclose(log_q, log_normal - logdet, rtol=1e-4, atol=1e-3)
    # extreme noise: u stays in [0, 1) and log q stays finite
    far = tf.concat([tf.fill([1, *shape], 60.0), tf.fill([1, *shape], -60.0)], 0)
    u, log_q = deq.sample_and_log_prob(x, far)
    assert np.all(u.numpy() >= 0.0) and np.all(u.numpy() < 1.0)
    assert np.all(np.isfinite(log_q))


def test_glow_trains_saves_and_reports_the_variational_bound(tmp_path):
    model = unigen.models.Glow(image_shape=(8, 8, 1), levels=2, steps_per_level=1,
                               hidden_channels=8, num_levels=17, dequantization="variational",
                               dequantizer_couplings=2, dequantizer_hidden=8)
    model.data_dependent_init(tf.cast(DIGITS, "float32"))
    deq_vars = model.dequantizer.trainable_variables
    assert len(deq_vars) == 1 + 3 * 2 * 3  # log-scale; features + 2 couplings, 3 layers each
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(model(DIGITS, training=True))
    grads = tape.gradient(loss, deq_vars)
    for v, g in zip(deq_vars, grads, strict=True):
        assert g is not None and np.all(np.isfinite(g.numpy())), v.path
    before = [v.numpy().copy() for v in deq_vars]
    unigen.fit(model, DIGITS, epochs=2, batch_size=16, seed=0, verbose=0,
               output_dir=str(tmp_path / "run"))
    assert all(np.any(a != v.numpy()) for a, v in zip(before, deq_vars, strict=True))
    lp = model.log_prob(DIGITS)
    np.testing.assert_array_equal(lp, model.log_prob(DIGITS))  # fixed seed
    iw = model.log_prob(DIGITS, num_samples=16, seed=1)
    assert np.all(np.isfinite(iw)) and np.mean(iw) > np.mean(lp)
    path = str(tmp_path / "glow.keras")
    model.save(path)
    loaded = unigen.load(path)
    assert loaded.get_config()["dequantization"] == "variational"
    np.testing.assert_array_equal(loaded.log_prob(DIGITS), lp)
    np.testing.assert_array_equal(loaded.log_prob(DIGITS, num_samples=16, seed=1), iw)
    assert np.all(loaded.sample(4, seed=0).numpy() == np.round(loaded.sample(4, seed=0)))
    score = unigen.evaluation.likelihood(model, DIGITS, importance_samples=16, seed=1)
    assert score.extra["kind"] == "variational" and "q(u | x)" in score.estimator
    np.testing.assert_allclose(score.value, -np.mean(iw), rtol=1e-6)


def test_uniform_importance_weighting_and_errors():
    model = unigen.models.RealNVP((8, 8, 1), num_levels=17, levels=1, steps_per_level=1,
                                  hidden=4)
    model.data_dependent_init(tf.cast(DIGITS, "float32"))
    one = model.log_prob(DIGITS)
    # uniform q = 1: log (1/K) sum_k p(x + u_k), whose mean rises above the one-draw bound
    many = model.log_prob(DIGITS, num_samples=32, seed=0)
    assert np.all(np.isfinite(many)) and np.mean(many) > np.mean(one)
    assert unigen.evaluation.likelihood(model, DIGITS).extra["kind"] == "dequantization"
    with pytest.raises(ValueError, match="dequantization"):
        unigen.models.RealNVP((2,), num_levels=3, dequantization="learned")
    with pytest.raises(ValueError, match="num_levels"):
        unigen.models.RealNVP((2,), dequantization="variational")
    with pytest.raises(ValueError, match="num_samples"):
        model.log_prob(DIGITS, num_samples=0)
