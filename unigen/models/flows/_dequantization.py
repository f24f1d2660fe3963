"""Dequantization of a flow model's discrete data: uniform or variational.

`FlowModel` mixes this in. The noise a flow's training step and ``log_prob``
draw is U[0, 1)^D for uniform dequantization and N(0, I) for variational
dequantization, where `unigen.flows.VariationalDequantizer` maps it to
u ~ q(u | x) in [0, 1)^D with its log-density; `_dequantize` hides the
difference: it returns (u, log q(u | x)), with log q = 0 for uniform noise.
"""

import math

import tensorflow as tf

from unigen import _random
from unigen.flows import VariationalDequantizer

__all__ = []

DEQUANTIZATIONS = ("uniform", "variational")
# examples x noise draws evaluated in one pass of `_importance_log_prob`
_MAX_ROWS = 8192


class DequantizationMixin:
    """Uniform or variational dequantization for `FlowModel` (internal)."""

    dequantizer = None

    def _init_dequantizer(self, dequantization, couplings, hidden):
        if dequantization not in DEQUANTIZATIONS:
            raise ValueError(f"`dequantization` must be one of {list(DEQUANTIZATIONS)}, got "
                             f"{dequantization!r}.")
        if dequantization == "variational" and self.num_levels is None:
            raise ValueError("`dequantization='variational'` needs discrete data: pass "
                             "`num_levels` (the number of pixel levels), or use the default "
                             "dequantization='uniform' for continuous data.")
        self.dequantization = dequantization
        self.dequantizer_couplings = int(couplings)
        self.dequantizer_hidden = int(hidden)
        self.dequantizer = None
        if dequantization == "variational":
            self.dequantizer = VariationalDequantizer(
                self.num_levels, num_couplings=couplings, hidden=hidden,
                seed=self.seed + 7919, name="dequantizer")

    def _dequantizer_config(self):
        return {"dequantization": self.dequantization,
                "dequantizer_couplings": self.dequantizer_couplings,
                "dequantizer_hidden": self.dequantizer_hidden}

    def _noise_fn(self):
        """`keras.random.uniform` (uniform) or `keras.random.normal` (variational), as
        drawn by `unigen._random`."""
        return _random.uniform if self.dequantizer is None else _random.normal

    def _dequantize(self, x, noise):
        """(u, log q(u | x)): the noise itself and 0 (uniform), or q's draw and density."""
        if self.dequantizer is None:
            return noise, tf.zeros(tf.shape(x)[:1], x.dtype)
        return self.dequantizer.sample_and_log_prob(x, noise)

    def _likelihood_variables(self):
        """What the likelihood term trains: the flow and the dequantizer."""
        extra = [] if self.dequantizer is None else self.dequantizer.trainable_variables
        return list(self.flow.trainable_variables) + list(extra)

    def _importance_log_prob(self, x, num_samples, seed):
        """log (1/K) sum_k exp(log p_Y(x + u_k) - log q(u_k | x)), per example."""
        n = int(x.shape[0])
        rows = max(1, _MAX_ROWS // max(1, n))
        base_seed = 0 if seed is None else int(seed)
        log_w = []
        for start in range(0, num_samples, rows):
            k = min(rows, num_samples - start)
            shape = (k * n, *self.event_shape)
            noise = self._noise_fn()(shape, seed=base_seed * 1_000_003 + start + 1,
                                     dtype=x.dtype)
            xs = tf.tile(x, [k] + [1] * len(self.event_shape))
            log_w.append(tf.reshape(self._log_prob_with_noise(xs, noise), [k, n]))
        log_w = tf.concat(log_w, axis=0)
        return tf.reduce_logsumexp(log_w, axis=0) - math.log(num_samples)
