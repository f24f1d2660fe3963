"""The VAE's objectives as pure functions of tensors.

Notation, for one example x and K draws z_k = mu(x) + sigma(x) eps_k from the
Gaussian posterior q(z | x):

    log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x)
    ELBO    = E_q[log p(x | z)] - KL(q(z | x) || p(z))        <= log p(x)
    IWAE_K  = E[log (1/K) sum_k w_k]                           <= log p(x)

with ELBO = IWAE_1 <= IWAE_K <= IWAE_{K+1}, and IWAE_K -> log p(x) as K grows
(Burda et al. 2016). A beta-VAE multiplies the KL term by beta.
"""

import math

import tensorflow as tf
import tensorflow_probability as tfp

__all__ = []

tfd = tfp.distributions
_HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def posterior_params(encoder_output, latent_dim, min_scale=1e-4):
    """Splits the encoder output into the posterior mean and standard deviation."""
    loc, raw = encoder_output[..., :latent_dim], encoder_output[..., latent_dim:]
    return loc, tf.nn.softplus(raw) + min_scale


def posterior_distribution(loc, scale):
    """q(z | x) as a TFP distribution with batch shape [batch]."""
    return tfd.MultivariateNormalDiag(loc=loc, scale_diag=scale)


def log_q_from_noise(eps, scale):
    """log q(z | x) at z = mu + scale eps: sum_d -eps_d^2/2 - log scale_d - log(2 pi)/2.

    Args:
        eps: standard normal noise [batch, K, latent_dim].
        scale: posterior standard deviations [batch, latent_dim].
    """
    return tf.reduce_sum(-0.5 * tf.square(eps) - tf.math.log(scale)[:, None, :]
                         - _HALF_LOG_2PI, axis=-1)


def log_mean_exp(values, axis):
    """log (1/K) sum_k exp(values_k) along ``axis``, computed stably."""
    count = tf.cast(tf.shape(values)[axis], values.dtype)
    return tf.reduce_logsumexp(values, axis=axis) - tf.math.log(count)


def iwae_bound(log_px_z, log_pz, log_qz, kl_weight=1.0):
    """log (1/K) sum_k exp(log p(x|z_k) + w (log p(z_k) - log q(z_k|x))), per example.

    With w = 1 the importance-weighted bound; inputs are [batch, K].
    """
    return log_mean_exp(log_px_z + kl_weight * (log_pz - log_qz), axis=1)


def kl_to_prior(kl_divergence, loc, scale, prior, log_qz, log_pz):
    """KL(q(z|x) || p(z)) per example and whether it is exact.

    Uses ``kl_divergence.between(q, p, method="closed_form")`` (TFP's registry)
    where it exists; otherwise the Monte Carlo average of log q(z_k|x) - log p(z_k)
    over the K reparameterised draws (unbiased, differentiable).
    """
    try:
        estimate = kl_divergence.between(posterior_distribution(loc, scale), prior,
                                         method="closed_form")
        return estimate.value, True
    except ValueError:
        return tf.reduce_mean(log_qz - log_pz, axis=1), False


def warmup_weight(iterations, warmup_steps):
    """Linear KL warm-up: min(1, (t + 1) / N) at optimizer step t; 1 if N == 0."""
    if not warmup_steps:
        return tf.constant(1.0)
    t = tf.cast(iterations, "float32") + 1.0
    return tf.minimum(1.0, t / float(warmup_steps))
