"""Observation models p(x | z) of `VAE`, each a Keras layer with its formulas.

A likelihood turns the decoder's raw outputs, reshaped to ``params`` of shape
``[batch, D, params_per_value]`` (D values per example), into log p(x | z) per
value, samples and means, all in the data space as passed (integer levels
0..L-1 for discrete data). Pure functions come first; the layers bind the
number of levels and the scale option and hold any learned scale.

Discretised likelihoods (``gaussian`` and ``logistic`` on L levels) put bin k
on the interval [k - 1/2, k + 1/2] in level units, and the two end bins take the
tails (bin 0 everything below 1/2, bin L-1 everything above L - 3/2), so the L
probabilities sum to exactly 1:

    P(x = k) = F((k + 1/2 - mu) / s) - F((k - 1/2 - mu) / s)

with F the standard Normal or logistic CDF (PixelCNN++, Salimans et al. 2017),
computed in log space from whichever tail is more accurate.
"""

import math

import keras
import tensorflow as tf
import tensorflow_probability as tfp

from unigen import _random

__all__ = ["LIKELIHOODS", "get_likelihood"]

LIKELIHOODS = ("bernoulli", "gaussian", "logistic", "categorical")


# ------------------------------------------------------------ pure functions
def _log_sub_exp(a, b):
    """log(exp(a) - exp(b)) for a >= b, finite even when a == b numerically."""
    return a + tf.math.log(tf.maximum(-tf.math.expm1(b - a), 1e-30))


def _log_cdf(t, family):
    if family == "gaussian":
        return tfp.distributions.Normal(0.0, 1.0).log_cdf(t)  # a stable log_ndtr
    return -tf.nn.softplus(-t)


def discretized_log_prob(x, loc, scale, num_levels, family):
    """log P(x) of the discretised Normal/logistic over levels 0..L-1.

    Args:
        x: integer levels as floats, any shape.
        loc, scale: location and scale in level units, broadcastable to x.
        num_levels: L.
        family: "gaussian" or "logistic".
    """
    upper = (x + 0.5 - loc) / scale
    lower = (x - 0.5 - loc) / scale
    log_f_upper, log_f_lower = _log_cdf(upper, family), _log_cdf(lower, family)
    log_s_upper, log_s_lower = _log_cdf(-upper, family), _log_cdf(-lower, family)
    # Middle bins: difference of CDFs below the mode, of survivals above it.
    middle = tf.where(upper + lower > 0.0,
                      _log_sub_exp(log_s_lower, log_s_upper),
                      _log_sub_exp(log_f_upper, log_f_lower))
    return tf.where(x < 0.5, log_f_upper,
                    tf.where(x > num_levels - 1.5, log_s_lower, middle))


def _levels(num_levels, dtype="float32"):
    return tf.range(num_levels, dtype=dtype)


# -------------------------------------------------------------------- layers
class _Likelihood(keras.layers.Layer):
    """Base: ``log_prob(params, x)``, ``sample``, ``mean``, ``level_log_probs``."""

    name_ = None
    discrete_only = False

    def __init__(self, num_levels=None, **kwargs):
        super().__init__(**kwargs)
        self.num_levels = num_levels
        if self.discrete_only and num_levels is None:
            raise ValueError(
                f'likelihood="{self.name_}" is defined over discrete levels; build the '
                f"VAE with num_levels=L for integer data, or use "
                f'likelihood="gaussian" for continuous data.'
            )

    @property
    def params_per_value(self):
        return 1

    def level_log_probs(self, params):
        """log P(x = k | z) for every level k, shape ``[batch, D, L]``."""
        levels = _levels(self.num_levels, params.dtype)
        x = tf.broadcast_to(levels, tf.concat([tf.shape(params)[:-1], [self.num_levels]], 0))
        expanded = tf.repeat(params[..., None, :], self.num_levels, axis=-2)
        flat_x = tf.reshape(x, [tf.shape(x)[0], -1])
        flat_p = tf.reshape(expanded, [tf.shape(x)[0], -1, tf.shape(params)[-1]])
        return tf.reshape(self.log_prob(flat_p, flat_x), tf.shape(x))

    def get_config(self):
        return {**super().get_config(), "num_levels": self.num_levels}


@keras.saving.register_keras_serializable(package="unigen")
class BernoulliLikelihood(_Likelihood):
    """Bernoulli cross-entropy on t = x / (L - 1).

        log p(x | z) = t log sigmoid(l) + (1 - t) log sigmoid(-l)

    A proper log probability only for binary data (L = 2, or continuous data
    that are exactly 0 or 1). For L > 2 levels it treats the grey level as a
    probability: the number is NOT a log probability mass over the L levels (the
    values over 0..L-1 do not sum to 1) and is not comparable with the nats of
    other models; use "categorical" or "logistic" for comparable numbers.
    Samples are 0 or L - 1; the mean is sigmoid(l) (L - 1).
    """

    name_ = "bernoulli"

    def _scale(self):
        return 1.0 if self.num_levels is None else float(self.num_levels - 1)

    def log_prob(self, params, x):
        logits = params[..., 0]
        t = x / self._scale()
        return t * tf.math.log_sigmoid(logits) + (1.0 - t) * tf.math.log_sigmoid(-logits)

    def sample(self, params, seed):
        u = _random.uniform(tf.shape(params[..., 0]), seed=seed)
        return tf.cast(u < tf.sigmoid(params[..., 0]), params.dtype) * self._scale()

    def mean(self, params):
        return tf.sigmoid(params[..., 0]) * self._scale()

    def level_log_probs(self, params):
        if self.num_levels != 2:
            raise ValueError(
                "The Bernoulli likelihood is a distribution over levels only for "
                f"binary data (num_levels=2), got num_levels={self.num_levels}."
            )
        logits = params[..., 0]
        return tf.stack([tf.math.log_sigmoid(-logits), tf.math.log_sigmoid(logits)], -1)


@keras.saving.register_keras_serializable(package="unigen")
class GaussianLikelihood(_Likelihood):
    """Gaussian p(x | z) = N(x; mu(z), s^2), discretised over L levels if discrete.

    Continuous data: a density, loc = decoder output. Discrete data: the
    discretised Gaussian over 0..L-1 (module docstring), an exact probability
    mass, with loc = (L - 1)(u + 1) / 2 for the decoder output u (so u in
    [-1, 1] spans the levels).

    Args:
        num_levels: L or None.
        scale: "learned" (one learned standard deviation per data dimension, the
            same for every z), "decoder" (the decoder predicts it per value) or
            a positive float (fixed; in level units for discrete data).
        event_size: D, needed for scale="learned".
        min_scale: lower bound added to learned scales.
    """

    name_ = "gaussian"

    def __init__(self, num_levels=None, scale="learned", event_size=None, min_scale=None,
                 **kwargs):
        super().__init__(num_levels, **kwargs)
        if not (scale in ("learned", "decoder")
                or (isinstance(scale, (int, float)) and not isinstance(scale, bool)
                    and scale > 0)):
            raise ValueError(
                f'`gaussian_scale` must be "learned", "decoder" or a positive float, '
                f"got {scale!r}."
            )
        self.scale = scale if isinstance(scale, str) else float(scale)
        self.event_size = event_size
        if min_scale is None:
            min_scale = 0.1 if num_levels is not None else 1e-3
        self.min_scale = float(min_scale)

    def build(self, input_shape=None):
        if self.scale == "learned":
            self.raw_scale = self.add_weight(shape=(self.event_size,), initializer="zeros",
                                             name="raw_scale")
        self.built = True

    @property
    def params_per_value(self):
        return 2 if self.scale == "decoder" else 1

    def _half_range(self):
        return 1.0 if self.num_levels is None else (self.num_levels - 1) / 2.0

    def loc_and_scale(self, params):
        loc = params[..., 0]
        if self.num_levels is not None:
            loc = self._half_range() * (loc + 1.0)
        if self.scale == "decoder":
            scale = self._half_range() * tf.nn.softplus(params[..., 1]) + self.min_scale
        elif self.scale == "learned":
            scale = self._half_range() * tf.nn.softplus(self.raw_scale) + self.min_scale
            scale = tf.broadcast_to(scale, tf.shape(loc))
        else:
            scale = tf.fill(tf.shape(loc), tf.cast(self.scale, loc.dtype))
        return loc, scale

    def log_prob(self, params, x):
        loc, scale = self.loc_and_scale(params)
        if self.num_levels is None:
            z = (x - loc) / scale
            return -0.5 * tf.square(z) - tf.math.log(scale) - 0.5 * math.log(2 * math.pi)
        return discretized_log_prob(x, loc, scale, self.num_levels, "gaussian")

    def sample(self, params, seed):
        loc, scale = self.loc_and_scale(params)
        x = loc + scale * _random.normal(tf.shape(loc), seed=seed)
        if self.num_levels is not None:
            x = tf.clip_by_value(tf.round(x), 0.0, float(self.num_levels - 1))
        return x

    def mean(self, params):
        return self.loc_and_scale(params)[0]

    def get_config(self):
        return {**super().get_config(), "scale": self.scale,
                "event_size": self.event_size, "min_scale": self.min_scale}


@keras.saving.register_keras_serializable(package="unigen")
class LogisticLikelihood(_Likelihood):
    """Discretised logistic over L levels (PixelCNN++ / IAF), exact mass.

    loc = (L - 1)(u + 1) / 2 and s = (L - 1) softplus(v) / 2 + 0.01 from the
    decoder's two outputs (u, v) per value.
    """

    name_ = "logistic"
    discrete_only = True

    @property
    def params_per_value(self):
        return 2

    def loc_and_scale(self, params):
        half = (self.num_levels - 1) / 2.0
        return half * (params[..., 0] + 1.0), half * tf.nn.softplus(params[..., 1]) + 0.01

    def log_prob(self, params, x):
        loc, scale = self.loc_and_scale(params)
        return discretized_log_prob(x, loc, scale, self.num_levels, "logistic")

    def sample(self, params, seed):
        loc, scale = self.loc_and_scale(params)
        u = _random.uniform(tf.shape(loc), minval=1e-5, maxval=1.0 - 1e-5, seed=seed)
        x = loc + scale * (tf.math.log(u) - tf.math.log1p(-u))
        return tf.clip_by_value(tf.round(x), 0.0, float(self.num_levels - 1))

    def mean(self, params):
        return tf.reduce_sum(tf.exp(self.level_log_probs(params)) * _levels(self.num_levels),
                             -1)


@keras.saving.register_keras_serializable(package="unigen")
class CategoricalLikelihood(_Likelihood):
    """A categorical over the L levels of every value: L logits per value.

    The most flexible per-value model (no ordering assumed); costs L decoder
    outputs per value, so it suits few levels (digits: 17).
    """

    name_ = "categorical"
    discrete_only = True

    @property
    def params_per_value(self):
        return self.num_levels

    def level_log_probs(self, params):
        return tf.nn.log_softmax(params, axis=-1)

    def log_prob(self, params, x):
        index = tf.cast(tf.round(x), "int32")
        one_hot = tf.one_hot(index, self.num_levels, dtype=params.dtype)
        return tf.reduce_sum(tf.nn.log_softmax(params, -1) * one_hot, -1)

    def sample(self, params, seed):
        flat = tf.reshape(params, [-1, self.num_levels])
        draws = keras.random.categorical(flat, 1, seed=seed)
        return tf.cast(tf.reshape(draws, tf.shape(params)[:-1]), params.dtype)

    def mean(self, params):
        return tf.reduce_sum(tf.nn.softmax(params, -1) * _levels(self.num_levels), -1)


_CLASSES = {c.name_: c for c in (BernoulliLikelihood, GaussianLikelihood,
                                  LogisticLikelihood, CategoricalLikelihood)}


def get_likelihood(name, num_levels, event_size, gaussian_scale="learned"):
    """Builds the likelihood layer called ``name``."""
    if name not in _CLASSES:
        raise ValueError(f"`likelihood` must be one of {list(LIKELIHOODS)}, got {name!r}.")
    if name == "gaussian":
        return GaussianLikelihood(num_levels, scale=gaussian_scale, event_size=event_size,
                                  name="likelihood")
    return _CLASSES[name](num_levels, name="likelihood")
