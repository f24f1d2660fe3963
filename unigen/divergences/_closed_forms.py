"""Closed forms between Gaussians, each a pure function of the parameters.

Each `*_normal` function takes two `tfd.Normal` (any broadcastable batch shape)
and each `*_mvn` two `tfd.MultivariateNormalLinearOperator` (MultivariateNormalTriL,
-Diag, -FullCovariance, ...). `for_pair(p, q, normal_fn, mvn_fn)` picks the one
that applies and returns None otherwise, so a `Divergence` can fall back on
quadrature or Monte Carlo. KL divergences come from `tfp.distributions.kl_divergence`,
which knows many more pairs.

Formulas, with d = mu_p - mu_q and s_p, s_q the standard deviations:

- squared Hellinger H^2 = integral of (sqrt(p) - sqrt(q))^2 = 2 (1 - BC), where the
  Bhattacharyya coefficient is BC = exp(-D_B) and, with S = (S_p + S_q) / 2,
  D_B = d' S^-1 d / 8 + log(det S / sqrt(det S_p det S_q)) / 2.
- Pearson chi^2 = integral of p^2 / q - 1
  = s_q^2 / (s_p sqrt(2 s_q^2 - s_p^2)) exp(d^2 / (2 s_q^2 - s_p^2)) - 1,
  infinite when 2 s_q^2 <= s_p^2.
- total variation TV = sup_A |P(A) - Q(A)| = |P(A) - Q(A)| for A = {p > q}, an
  interval whose end points solve log p(x) = log q(x) (a quadratic in x).
- Wasserstein-1 in 1D couples the quantiles: W1 = E|d + (s_p - s_q) Z|, Z ~ N(0, 1),
  the mean of a folded normal,
  |c| sqrt(2/pi) exp(-d^2 / (2 c^2)) + d (1 - 2 Phi(-d/|c|)),
  with c = s_p - s_q; W1 = |d| when the scales are equal.
- Gaussian-kernel mean embeddings: for k(x, y) = exp(-|x - y|^2 / (2 h^2)) and
  independent X ~ N(m1, S1), Y ~ N(m2, S2),
  E k(X, Y) = det(I + (S1 + S2) / h^2)^(-1/2) exp(-e' (S1 + S2 + h^2 I)^-1 e / 2),
  e = m1 - m2. MMD^2 = E k(X, X') + E k(Y, Y') - 2 E k(X, Y).
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

__all__ = []

tfd = tfp.distributions


def for_pair(p, q, normal_fn=None, mvn_fn=None):
    """Applies `normal_fn` to two Normals or `mvn_fn` to two MVNs, else None."""
    if (
        normal_fn is not None
        and isinstance(p, tfd.Normal)
        and isinstance(q, tfd.Normal)
    ):
        return normal_fn(p, q)
    mvn = tfd.MultivariateNormalLinearOperator
    if mvn_fn is not None and isinstance(p, mvn) and isinstance(q, mvn):
        return mvn_fn(p, q)
    return None


def kl(p, q):
    """KL(p || q) from TFP's registry of closed forms, or None."""
    try:
        return tfd.kl_divergence(p, q)
    except NotImplementedError:
        return None


def _normal_params(p, q):
    dtype = p.dtype
    return (
        tf.convert_to_tensor(p.loc, dtype),
        tf.convert_to_tensor(p.scale, dtype),
        tf.convert_to_tensor(q.loc, dtype),
        tf.convert_to_tensor(q.scale, dtype),
    )


def squared_hellinger_normal(p, q):
    mu_p, s_p, mu_q, s_q = _normal_params(p, q)
    var_sum = tf.square(s_p) + tf.square(s_q)
    log_bc = 0.5 * tf.math.log(2.0 * s_p * s_q / var_sum) - tf.square(mu_p - mu_q) / (
        4.0 * var_sum
    )
    return tf.maximum(-2.0 * tf.math.expm1(log_bc), 0.0)


def squared_hellinger_mvn(p, q):
    cov_p, cov_q = p.covariance(), q.covariance()
    cov = 0.5 * (cov_p + cov_q)
    chol = tf.linalg.cholesky(cov)
    diff = (p.mean() - q.mean())[..., tf.newaxis]
    solved = tf.linalg.cholesky_solve(chol, diff)
    mahalanobis = tf.reduce_sum(diff * solved, axis=[-2, -1])
    logdet = 2.0 * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol)), axis=-1)
    logdet_p = tf.linalg.logdet(cov_p)
    logdet_q = tf.linalg.logdet(cov_q)
    bhattacharyya = mahalanobis / 8.0 + 0.5 * (logdet - 0.5 * (logdet_p + logdet_q))
    return tf.maximum(-2.0 * tf.math.expm1(-bhattacharyya), 0.0)


def pearson_normal(p, q):
    mu_p, s_p, mu_q, s_q = _normal_params(p, q)
    denom = 2.0 * tf.square(s_q) - tf.square(s_p)
    finite = denom > 0
    safe = tf.where(finite, denom, tf.ones_like(denom))
    log_term = (
        2.0 * tf.math.log(s_q)
        - tf.math.log(s_p)
        - 0.5 * tf.math.log(safe)
        + tf.square(mu_p - mu_q) / safe
    )
    return tf.where(finite, tf.math.expm1(log_term), tf.cast(float("inf"), p.dtype))


def total_variation_normal(p, q):
    mu_p, s_p, mu_q, s_q = _normal_params(p, q)
    # log p(x) - log q(x) = a x^2 + b x + c.
    a = 0.5 / tf.square(s_q) - 0.5 / tf.square(s_p)
    b = mu_p / tf.square(s_p) - mu_q / tf.square(s_q)
    c = (
        0.5 * tf.square(mu_q / s_q)
        - 0.5 * tf.square(mu_p / s_p)
        + tf.math.log(s_q)
        - tf.math.log(s_p)
    )
    identical = tf.logical_and(tf.equal(a, 0.0), tf.equal(b, 0.0))
    # Stable roots: r1 = t / a, r2 = c / t, t = -(b + sign(b) sqrt(disc)) / 2.
    disc = tf.maximum(tf.square(b) - 4.0 * a * c, 0.0)
    sign_b = tf.where(b >= 0, tf.ones_like(b), -tf.ones_like(b))
    t = -0.5 * (b + sign_b * tf.sqrt(disc))
    t = tf.where(tf.equal(t, 0.0), tf.ones_like(t), t)
    inf = tf.cast(float("inf"), p.dtype)
    r1 = tf.where(
        tf.equal(a, 0.0),
        -sign_b * inf,
        t / tf.where(tf.equal(a, 0.0), tf.ones_like(a), a),
    )
    r2 = c / t
    lo, hi = tf.minimum(r1, r2), tf.maximum(r1, r2)
    normal_p = tfd.Normal(mu_p, s_p)
    normal_q = tfd.Normal(mu_q, s_q)
    mass_p = normal_p.cdf(hi) - normal_p.cdf(lo)
    mass_q = normal_q.cdf(hi) - normal_q.cdf(lo)
    return tf.where(identical, tf.zeros_like(a), tf.abs(mass_p - mass_q))


def wasserstein1_normal(p, q):
    mu_p, s_p, mu_q, s_q = _normal_params(p, q)
    d = mu_p - mu_q
    c = tf.abs(s_p - s_q)
    same_scale = tf.equal(c, 0.0)
    safe_c = tf.where(same_scale, tf.ones_like(c), c)
    folded = c * math.sqrt(2.0 / math.pi) * tf.exp(-0.5 * tf.square(d / safe_c)) + d * (
        1.0 - 2.0 * tfd.Normal(tf.zeros_like(d), tf.ones_like(d)).cdf(-d / safe_c)
    )
    return tf.where(same_scale, tf.abs(d), folded)


def gaussian_kernel_expectation(mean_diff, cov_sum, bandwidths):
    """E k(X, Y) for X - Y ~ N(mean_diff, cov_sum), k the mean Gaussian kernel.

    Args:
        mean_diff: [..., d] mean of X - Y.
        cov_sum: [..., d, d] covariance of X - Y.
        bandwidths: sequence of kernel bandwidths h.
    """
    dim = tf.shape(cov_sum)[-1]
    eye = tf.eye(dim, dtype=cov_sum.dtype)
    terms = []
    for h in bandwidths:
        h2 = tf.cast(h * h, cov_sum.dtype)
        shifted = cov_sum + h2 * eye
        chol = tf.linalg.cholesky(shifted)
        diff = mean_diff[..., tf.newaxis]
        quad = tf.reduce_sum(diff * tf.linalg.cholesky_solve(chol, diff), axis=[-2, -1])
        # det(I + S / h^2) = det(S + h^2 I) / h^(2d).
        logdet = 2.0 * tf.reduce_sum(tf.math.log(tf.linalg.diag_part(chol)), axis=-1)
        logdet = logdet - tf.cast(dim, cov_sum.dtype) * tf.math.log(h2)
        terms.append(tf.exp(-0.5 * logdet - 0.5 * quad))
    return tf.add_n(terms) / float(len(bandwidths))


def mmd_squared_mvn(p, q, bandwidths):
    cov_p, cov_q = p.covariance(), q.covariance()
    mean_diff = p.mean() - q.mean()
    zero = tf.zeros_like(mean_diff)
    kpp = gaussian_kernel_expectation(zero, 2.0 * cov_p, bandwidths)
    kqq = gaussian_kernel_expectation(zero, 2.0 * cov_q, bandwidths)
    kpq = gaussian_kernel_expectation(mean_diff, cov_p + cov_q, bandwidths)
    return kpp + kqq - 2.0 * kpq


def mmd_squared_normal(p, q, bandwidths):
    mu_p, s_p, mu_q, s_q = _normal_params(p, q)

    def expect(diff, var):
        return tf.add_n(
            [
                tf.exp(
                    -0.5 * tf.math.log1p(var / (h * h))
                    - 0.5 * tf.square(diff) / (var + h * h)
                )
                for h in bandwidths
            ]
        ) / float(len(bandwidths))

    zero = tf.zeros_like(mu_p - mu_q)
    var_p, var_q = tf.square(s_p), tf.square(s_q)
    return (
        expect(zero, 2.0 * var_p)
        + expect(zero, 2.0 * var_q)
        - 2.0 * expect(mu_p - mu_q, var_p + var_q)
    )
