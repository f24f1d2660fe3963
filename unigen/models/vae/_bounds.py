"""The VAE's bounds on log p(x) for a batch: the ELBO and the importance-weighted bound.

A mixin of `VAE`, computed in chunks of at most ``_MAX_DECODES`` decoder
evaluations so that large K does not exhaust memory.
"""

import tensorflow as tf

from unigen import _random
from unigen import divergences as ud
from unigen.base import check_positive_int
from unigen.models.vae import _objectives as obj

__all__ = []

_MAX_DECODES = 8192  # decoder evaluations per chunk
#: K of ``VAE.log_prob`` and ``log_importance_weights`` unless given, as in
#: ``unigen.evaluate(importance_samples=100)``. On the digits VAE of ``unigen compare``
#: (benchmarks/vae_importance_samples.py) K = 100 gives 87.06 nats per image with a
#: Monte Carlo standard error of 0.02 for the test mean (0.48 per example) in 7 s;
#: K = 1000 gives 86.64 (the bound tightens by 0.43 nats) in 64 s.
IMPORTANCE_SAMPLES = 100


class VAEBoundsMixin:
    """``elbo`` and the importance-weighted ``log_prob`` of a `VAE`."""

    def elbo(self, x, labels=None, num_samples=1, seed=None):
        """The evidence lower bound per example, in nats, shape ``[batch]``.

        E_q[log p(x | z)] (Monte Carlo over ``num_samples`` draws) minus
        KL(q(z | x) || p(z)) (closed form where available). It is <= log p(x).
        """
        num_samples = check_positive_int("num_samples", num_samples)
        x = self._convert_input(x)
        self._ensure_built()
        onehot = self._one_hot(labels, tf.shape(x)[0])
        kl_divergence = self.divergence if self.regularizer == "kl" else ud.KLDivergence()
        rows = max(1, _MAX_DECODES // num_samples)
        results = []
        for i, start in enumerate(range(0, int(x.shape[0]), rows)):
            xs = x[start:start + rows]
            eps = _random.normal((int(xs.shape[0]), num_samples, self.latent_dim),
                                      seed=None if seed is None else seed + i)
            oh = None if onehot is None else onehot[start:start + rows]
            loc, scale, _, log_px_z, log_pz, log_qz = self._forward(xs, oh, eps)
            kl, _ = obj.kl_to_prior(kl_divergence, loc, scale, self.prior.distribution(),
                                    log_qz, log_pz)
            results.append(tf.reduce_mean(log_px_z, 1) - kl)
        return tf.concat(results, 0)

    def _importance_log_prob(self, x, labels, num_samples, seed):
        return obj.log_mean_exp(self._importance_log_weights(x, labels, num_samples, seed),
                                axis=1)

    def log_importance_weights(self, x, num_samples=IMPORTANCE_SAMPLES, seed=None,
                               labels=None):
        """log w_k = log p(x | z_k) + log p(z_k) - log q(z_k | x), z_k ~ q(z | x),
        shape ``[batch, num_samples]``: the weights whose log-mean is
        ``log_prob(x, num_samples=K, seed=seed)`` (same draws for the same
        seed), for the estimator's Monte Carlo standard error."""
        num_samples = check_positive_int("num_samples", num_samples)
        x = self._convert_input(x)
        self._ensure_built()
        return self._importance_log_weights(x, labels, num_samples, seed)

    def _importance_log_weights(self, x, labels, num_samples, seed):
        if self._log_weights_fn is None:
            def log_weights(x, onehot, eps):
                _, _, _, log_px_z, log_pz, log_qz = self._forward(x, onehot, eps)
                return log_px_z + log_pz - log_qz
            self._log_weights_fn = tf.function(log_weights, reduce_retracing=True)
        n = int(x.shape[0])
        onehot = self._one_hot(labels, n)
        chunk = min(num_samples, _MAX_DECODES)
        rows = max(1, _MAX_DECODES // chunk)
        results, draw = [], 0
        for start in range(0, n, rows):
            xs = x[start:start + rows]
            oh = None if onehot is None else onehot[start:start + rows]
            pieces = []
            for s in range(0, num_samples, chunk):
                size = min(chunk, num_samples - s)
                eps = _random.normal((int(xs.shape[0]), size, self.latent_dim),
                                          seed=None if seed is None else seed + draw)
                draw += 1
                pieces.append(self._log_weights_fn(xs, oh, eps))
            results.append(tf.concat(pieces, 1))
        return tf.concat(results, 0)
