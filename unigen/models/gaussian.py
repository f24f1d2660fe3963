"""Maximum-likelihood Gaussian: the baseline of every comparison."""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from unigen import _random
from unigen.base import GenerativeModel

tfd = tfp.distributions

__all__ = ["Gaussian"]

_COVARIANCES = ("diagonal", "full")


@keras.saving.register_keras_serializable(package="unigen")
class Gaussian(GenerativeModel):
    """A Gaussian over the flattened data, fitted by maximum likelihood.

    Continuous data (``num_levels=None``)::

        diagonal:  log p(x) = sum_d log N(x_d; mu_d, sigma_d^2)
        full:      log p(x) = log N(x; mu, L L^T),  L lower-triangular

    Discrete data with L levels (``num_levels=L``, diagonal only) use the
    discretised Gaussian, an exact probability mass::

        P(x_d = k) = Phi((k + 1/2 - mu_d) / sigma_d) - Phi((k - 1/2 - mu_d) / sigma_d)

    with the two end bins taking the tails (k = 0 gets everything below 1/2,
    k = L-1 everything above L - 3/2), so the masses over 0..L-1 sum to 1.

    Scales are ``softplus(raw) + min_scale`` so the likelihood stays bounded when
    a dimension is constant in the data (the corner pixels of digits).

    Args:
        event_shape: shape of one example.
        covariance: "diagonal" or "full".
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        min_scale: lower bound on every standard deviation (full: on the
            diagonal of L). Default: 0.5 levels for discrete data (without it a
            pixel that is constant in the training data gets a scale near 0 and
            any other value on test data costs thousands of nats), 1e-3 for
            continuous data.
        **kwargs: passed to `unigen.GenerativeModel`.
    """

    def __init__(self, event_shape, covariance="diagonal", num_levels="auto",
                 min_scale=None, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, **kwargs)
        if covariance not in _COVARIANCES:
            raise ValueError(
                f"`covariance` must be one of {list(_COVARIANCES)}, got {covariance!r}."
            )
        if covariance == "full" and self.num_levels is not None:
            raise ValueError(
                "covariance='full' is a continuous density; for discrete data "
                "(num_levels set) use covariance='diagonal', which gives an exact "
                "probability mass, or pass num_levels=None."
            )
        if min_scale is None:
            min_scale = 0.5 if self.num_levels is not None else 1e-3
        if not min_scale > 0:
            raise ValueError(f"`min_scale` must be positive, got {min_scale!r}.")
        self.covariance = covariance
        self.min_scale = float(min_scale)

    def build(self, input_shape=None):
        d = self.event_size
        self.loc = self.add_weight(shape=(d,), initializer="zeros", name="loc")
        raw_one = float(np.log(np.expm1(1.0 - self.min_scale)))
        self.raw_scale = self.add_weight(
            shape=(d,), initializer=keras.initializers.Constant(raw_one), name="raw_scale"
        )
        if self.covariance == "full":
            self.off_diagonal = self.add_weight(
                shape=(d * (d - 1) // 2,), initializer="zeros", name="off_diagonal"
            )
        self.built = True

    # ------------------------------------------------------------- maths
    def _scale_diag(self):
        return tf.nn.softplus(self.raw_scale) + self.min_scale

    def _scale_tril(self):
        d = self.event_size
        strict = tfp.math.fill_triangular(
            tf.concat([self.off_diagonal, tf.zeros([d], self.off_diagonal.dtype)], 0)
        )
        # fill_triangular puts the zeros somewhere on the triangle; keep only the
        # strictly lower part and put the positive scales on the diagonal.
        strict = tf.linalg.band_part(strict, -1, 0) - tf.linalg.diag(tf.linalg.diag_part(strict))
        return strict + tf.linalg.diag(self._scale_diag())

    def distribution(self):
        """The fitted distribution over flattened examples, a TFP distribution."""
        self._ensure_built()
        if self.covariance == "full":
            return tfd.MultivariateNormalTriL(self.loc, self._scale_tril())
        base = tfd.Normal(self.loc, self._scale_diag())
        if self.num_levels is not None:
            # Quantized(Y) puts P(Y = k) = P(X in (k - 1, k]); shifting the
            # Normal by -1/2 centres bin k on [k - 1/2, k + 1/2].
            base = tfd.QuantizedDistribution(
                tfd.Normal(self.loc - 0.5, self._scale_diag()),
                low=0.0, high=float(self.num_levels - 1),
            )
        return tfd.Independent(base, reinterpreted_batch_ndims=1)

    def _log_prob(self, x):
        flat = tf.reshape(x, [-1, self.event_size])
        return self.distribution().log_prob(flat)

    def _sample(self, num_samples, seed):
        stream = _random.normal((num_samples, self.event_size), seed=seed)
        if self.covariance == "full":
            flat = self.loc + tf.linalg.matvec(self._scale_tril(), stream)
        else:
            flat = self.loc + self._scale_diag() * stream
        if self.num_levels is not None:
            flat = tf.clip_by_value(tf.round(flat), 0.0, float(self.num_levels - 1))
        return tf.reshape(flat, (num_samples, *self.event_shape))

    def data_dependent_init(self, x):
        """Starts from the first batch's per-dimension mean and std."""
        self._ensure_built()
        flat = tf.reshape(tf.cast(x, "float32"), [-1, self.event_size])
        mean, var = tf.nn.moments(flat, axes=[0])
        std = tf.maximum(tf.sqrt(var), 2.0 * self.min_scale)
        self.loc.assign(mean)
        self.raw_scale.assign(tfp.math.softplus_inverse(std - self.min_scale))

    def get_config(self):
        return {
            **super().get_config(),
            "covariance": self.covariance,
            "min_scale": self.min_scale,
        }
