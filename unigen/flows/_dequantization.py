"""Variational dequantization (Flow++): a learned noise distribution q(u | x).

Uniform dequantization trains a continuous density p on y = x + u with
u ~ U[0, 1)^D, which bounds the discrete log-likelihood from below by
E_u log p(x + u). The bound is loose wherever p is not flat inside a bin.
Variational dequantization replaces the uniform noise by a conditional flow
q(u | x) on [0, 1)^D, trained jointly with p, and bounds

    log P(x) = log integral_{[0,1)^D} p(x + u) du
             >= E_{u ~ q(.|x)} [log p(x + u) - log q(u | x)]

(Jensen on the importance weight p(x + u) / q(u | x)). The bound is tight when
q(u | x) is the density of p restricted to the bin of x, renormalised. Using K
draws, log (1/K) sum_k p(x + u_k) / q(u_k | x) is a tighter bound whose
expectation increases towards log P(x) as K grows (Burda et al. 2016).
"""

import math

import keras
import numpy as np
import tensorflow as tf

from unigen.flows._bijector import _float32_under_mixed_policy, _sum_event

__all__ = ["VariationalDequantizer"]

_LOG_2PI = math.log(2.0 * math.pi)
# the largest float32 below 1: keeps u in [0, 1) where sigmoid rounds to 1.
_BELOW_ONE = float(np.nextafter(np.float32(1.0), np.float32(0.0)))


def _checkerboard(event_shape):
    """Binary mask of ``event_shape``: (row + column) mod 2 on images, index mod 2 on vectors."""
    index = np.indices(event_shape[:2] if len(event_shape) == 3 else event_shape[:1])
    mask = index.sum(axis=0) % 2
    if len(event_shape) == 3:
        mask = np.repeat(mask[..., None], event_shape[-1], axis=-1)
    return mask.astype("float32")


def _glorot(seed, offset):
    return keras.initializers.GlorotUniform(seed=seed * 11 + offset)


def _net(images, hidden, outputs, seed, offset, name):
    """Two hidden layers (3x3 convolutions on images, dense layers on vectors);
    the last layer is zero-initialised when ``outputs`` are coupling parameters."""
    if images:
        def layer(units, **kw):
            return keras.layers.Conv2D(units, 3, padding="same", **kw)
    else:
        def layer(units, **kw):
            return keras.layers.Dense(units, **kw)
    return keras.Sequential([
        layer(hidden, activation="relu", kernel_initializer=_glorot(seed, offset)),
        layer(hidden, activation="relu", kernel_initializer=_glorot(seed, offset + 1)),
        layer(outputs, kernel_initializer="zeros")], name=name)


@keras.saving.register_keras_serializable(package="unigen")
class VariationalDequantizer(keras.layers.Layer):
    """The conditional noise distribution q(u | x) of variational dequantization.

    A flow from Gaussian noise eps ~ N(0, I) (of the data's shape) to
    u in [0, 1)^D, conditioned on the discrete data x:

        h = F(x / (L - 1) - 1/2)                 (features of x, a small network)
        v = C_K(... C_1(eps * exp(a); h) ...; h)  (a scale per channel, then couplings)
        u = sigmoid(v)

    Coupling k with binary mask m (checkerboard, alternating with 1 - m)
    computes (shift, raw) = NN_k([m * v, h]) and
    v' = m * v + (1 - m) * (v * exp(s) + shift), s = 2 tanh(raw / 2), so
    log|det dv'/dv| = sum (1 - m) s. The density of u follows by the change of
    variables, counted exactly:

        log q(u | x) = log N(eps; 0, I) - (positions) * sum_c a_c
                       - sum_k log|det J_{C_k}|
                       - sum_d log(sigmoid(v_d) (1 - sigmoid(v_d))).

    The last layer of every coupling network starts at zero and a = log 1.7,
    so q starts as u = sigmoid(1.7 eps), a logit-normal density on each
    coordinate whose entropy (-0.01 nats) is close to the uniform's 0. Values of u
    that round to 1 in float32 are clipped to the largest float below 1 (the
    log-density is that of the unclipped value).

    Args:
        num_levels: L, the number of discrete levels of the data.
        num_couplings: affine couplings K.
        hidden: width of the feature and coupling networks (channels on images,
            units on vectors).
        seed: int seeding the initial weights.

    References:
        Ho, Chen, Srinivas, Duan and Abbeel. "Flow++: Improving Flow-Based
        Generative Models with Variational Dequantization and Architecture
        Design." ICML 2019.
    """

    def __init__(self, num_levels, num_couplings=4, hidden=32, seed=0, **kwargs):
        # Under a mixed policy the density arithmetic is float32 and the feature
        # and coupling networks take the mixed policy when they are built.
        super().__init__(**_float32_under_mixed_policy(kwargs))
        self.num_levels = int(num_levels)
        for name, value in (("num_couplings", num_couplings), ("hidden", hidden)):
            if int(value) < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        self.num_couplings = int(num_couplings)
        self.hidden = int(hidden)
        self.seed = int(seed)

    def build(self, input_shape):
        event_shape = tuple(int(d) for d in input_shape[1:])
        if len(event_shape) not in (1, 3):
            raise ValueError(f"VariationalDequantizer takes vectors (D,) or images "
                             f"(H, W, C), got event shape {event_shape}.")
        images = len(event_shape) == 3
        channels = event_shape[-1]
        self._mask = _checkerboard(event_shape)
        self.log_scale = self.add_weight(
            shape=(channels,), initializer=keras.initializers.Constant(math.log(1.7)),
            name="log_scale")
        self.features = _net(images, self.hidden, self.hidden, self.seed, 0, "features")
        self.features.build((None, *event_shape))
        self.couplings = []
        for k in range(self.num_couplings):
            net = _net(images, self.hidden, 2 * channels, self.seed, 10 * (k + 1),
                       f"coupling_{k}")
            net.build((None, *event_shape[:-1], channels + self.hidden))
            self.couplings.append(net)
        self.built = True

    def sample_and_log_prob(self, x, noise):
        """Noise u in [0, 1)^D for the data ``x`` and its log-density log q(u | x).

        Args:
            x: discrete levels (floats) ``[batch, *event_shape]``.
            noise: standard normal eps of the same shape (the reparameterisation:
                gradients flow to the dequantizer's variables through u).

        Returns:
            ``(u, log_q)``, u of the shape of ``x`` and log_q of shape ``[batch]``.
        """
        x = tf.convert_to_tensor(x, self.compute_dtype)
        eps = tf.convert_to_tensor(noise, self.compute_dtype)
        if not self.built:
            self.build(tuple(x.shape))
        h = tf.cast(self.features(x / float(self.num_levels - 1) - 0.5), self.compute_dtype)
        size = tf.cast(tf.reduce_prod(tf.shape(eps)[1:]), eps.dtype)
        log_q = -0.5 * _sum_event(tf.square(eps)) - 0.5 * size * _LOG_2PI
        positions = size / float(self.log_scale.shape[0])
        v = eps * tf.exp(self.log_scale)
        log_q = log_q - positions * tf.reduce_sum(self.log_scale)
        for k, net in enumerate(self.couplings):
            m = tf.constant(self._mask if k % 2 == 0 else 1.0 - self._mask, v.dtype)
            out = tf.cast(net(tf.concat([m * v, h], axis=-1)), self.compute_dtype)
            c = out.shape[-1] // 2
            shift, log_s = out[..., :c], 2.0 * tf.tanh(out[..., c:] / 2.0)
            v = m * v + (1.0 - m) * (v * tf.exp(log_s) + shift)
            log_q = log_q - _sum_event((1.0 - m) * log_s)
        # log sigmoid'(v) = log sigmoid(v) + log sigmoid(-v) = -softplus(-v) - softplus(v)
        log_q = log_q + _sum_event(tf.nn.softplus(v) + tf.nn.softplus(-v))
        u = tf.minimum(tf.sigmoid(v), _BELOW_ONE)
        return u, log_q

    def get_config(self):
        return {**super().get_config(), "num_levels": self.num_levels,
                "num_couplings": self.num_couplings, "hidden": self.hidden,
                "seed": self.seed}
