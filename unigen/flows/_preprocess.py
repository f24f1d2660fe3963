"""Pre-processing of discrete pixels: dequantization and the logit transform."""

import keras
import numpy as np
import tensorflow as tf

from unigen.flows._bijector import Bijector, _sum_event

__all__ = ["LogitTransform", "uniform_dequantize"]


def uniform_dequantize(x, noise):
    """y = x + u with u ~ U[0, 1): integer levels to a continuous value in [0, L).

    For any density p_Y on [0, L)^D, the probability mass of the bins
    P(x) = integral over u in [0, 1)^D of p_Y(x + u) satisfies, by Jensen,
    log P(x) >= E_u log p_Y(x + u): a flow trained on y bounds the discrete
    log-likelihood from below (Theis et al. 2016; RealNVP; Glow).

    Args:
        x: integer levels as floats.
        noise: uniform noise in [0, 1) of the same shape.
    """
    return x + noise


@keras.saving.register_keras_serializable(package="unigen")
class LogitTransform(Bijector):
    """Maps y in [0, L)^D to R^D: t = logit(alpha + (1 - 2 alpha) y / L).

    log|det J| = sum_d [log(1 - 2 alpha) - log L - log s_d - log(1 - s_d)],
    s = alpha + (1 - 2 alpha) y / L. With ``alpha=None`` the map is the affine
    t = y / L - 1/2 of Glow (log-det -D log L).

    Args:
        num_levels: L, the number of discrete levels.
        alpha: the logit's margin in (0, 1/2), or None for the affine map.

    References:
        Dinh, Sohl-Dickstein and Bengio. "Density estimation using Real NVP."
        ICLR 2017, section 4.1.
    """

    def __init__(self, num_levels, alpha=0.05, **kwargs):
        super().__init__(**kwargs)
        self.num_levels = int(num_levels)
        if alpha is not None and not 0.0 < float(alpha) < 0.5:
            raise ValueError(f"`alpha` must be in (0, 0.5) or None, got {alpha!r}.")
        self.alpha = None if alpha is None else float(alpha)

    def _forward_and_log_det(self, y):
        size = tf.cast(tf.reduce_prod(tf.shape(y)[1:]), y.dtype)
        if self.alpha is None:
            return y / self.num_levels - 0.5, -size * np.log(self.num_levels) * tf.ones(
                tf.shape(y)[:1], y.dtype)
        s = self.alpha + (1.0 - 2.0 * self.alpha) * y / self.num_levels
        t = tf.math.log(s) - tf.math.log1p(-s)
        log_det = (size * (np.log(1.0 - 2.0 * self.alpha) - np.log(self.num_levels))
                   - _sum_event(tf.math.log(s) + tf.math.log1p(-s)))
        return t, log_det

    def _inverse_and_log_det(self, t):
        if self.alpha is None:
            y = (t + 0.5) * self.num_levels
        else:
            s = tf.sigmoid(t)
            y = (s - self.alpha) / (1.0 - 2.0 * self.alpha) * self.num_levels
        return y, -self._forward_and_log_det(y)[1]

    def get_config(self):
        return {**super().get_config(), "num_levels": self.num_levels, "alpha": self.alpha}
