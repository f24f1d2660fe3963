"""Glow's layers: ActNorm, invertible 1x1 convolution, couplings, squeeze, split.

Each works on images ``[batch, height, width, channels]`` and (except squeeze)
on vectors ``[batch, dims]``; the last axis is the channel axis.
"""

import keras
import numpy as np
import scipy.linalg
import tensorflow as tf

from unigen.flows._bijector import Bijector, _sum_event
from unigen.flows._ops import (
    _batch_zeros,
    _mix_channels,
    _per_example,
    _run_network,
    _spatial_size,
)

__all__ = [
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "InvertibleConv1x1",
    "SplitPrior",
    "Squeeze",
]


@keras.saving.register_keras_serializable(package="unigen")
class ActNorm(Bijector):
    """Per-channel affine normalisation with data-dependent initialisation.

    forward: y = (x + bias) * exp(log_scale), per channel c;
    log|det J| = (number of positions) * sum_c log_scale_c.

    The first batch seen in eager mode (or `initialize(x)`, which
    ``GenerativeModel.data_dependent_init`` reaches) sets bias = -mean and
    log_scale = -log(std) per channel, so the output has mean 0 and standard
    deviation 1 per channel on that batch. The non-trainable ``initialized``
    flag is saved with the weights, so a reloaded model is not re-initialised.

    Args:
        epsilon: added to the standard deviation at initialisation.

    References:
        Kingma and Dhariwal. "Glow: Generative Flow with Invertible 1x1
        Convolutions." NeurIPS 2018.
    """

    def __init__(self, epsilon=1e-6, **kwargs):
        super().__init__(**kwargs)
        self.epsilon = float(epsilon)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.bias = self.add_weight(shape=(channels,), initializer="zeros", name="bias")
        self.log_scale = self.add_weight(shape=(channels,), initializer="zeros",
                                         name="log_scale")
        self.initialized = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                           name="initialized")
        self.built = True

    def initialize(self, x):
        """Sets bias and scale from the batch ``x`` (mean 0, std 1 per channel)."""
        x = tf.convert_to_tensor(x, self.compute_dtype)
        if not self.built:
            self.build(tuple(x.shape))
        axes = list(range(len(x.shape) - 1))
        mean, var = tf.nn.moments(x, axes=axes)
        self.bias.assign(-mean)
        self.log_scale.assign(-tf.math.log(tf.sqrt(var) + self.epsilon))
        self.initialized.assign(1.0)

    def _maybe_initialize(self, x):
        if tf.executing_eagerly() and float(self.initialized.numpy()) == 0.0:
            self.initialize(x)

    def _forward_and_log_det(self, x):
        self._maybe_initialize(x)
        y = (x + self.bias) * tf.exp(self.log_scale)
        log_det = _spatial_size(x) * tf.reduce_sum(self.log_scale)
        return y, _per_example(log_det, x)

    def _inverse_and_log_det(self, y):
        x = y * tf.exp(-self.log_scale) - self.bias
        log_det = -_spatial_size(y) * tf.reduce_sum(self.log_scale)
        return x, _per_example(log_det, y)

    def get_config(self):
        return {**super().get_config(), "epsilon": self.epsilon}


@keras.saving.register_keras_serializable(package="unigen")
class InvertibleConv1x1(Bijector):
    """Invertible 1x1 convolution (a learned channel mixing), LU-decomposed.

    forward: y[..., :] = W x[..., :] at every position, with
    W = P (L + I) (U + diag(sign * exp(log_s))), P a fixed permutation, L
    strictly lower and U strictly upper triangular (trainable), and
    log|det J| = (number of positions) * sum(log_s): the log-det costs O(C)
    instead of O(C^3). W starts as a random rotation drawn from ``seed``.

    Args:
        seed: int seeding the initial rotation.

    References:
        Kingma and Dhariwal. "Glow." NeurIPS 2018, section 3.2.
    """

    def __init__(self, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.seed = int(seed)

    def build(self, input_shape):
        c = int(input_shape[-1])
        rng = np.random.default_rng(self.seed)
        w0 = np.linalg.qr(rng.standard_normal((c, c)))[0]
        p, lower, upper = scipy.linalg.lu(w0)
        s = np.diag(upper)
        self.permutation = self.add_weight(
            shape=(c, c), initializer=keras.initializers.Constant(p), trainable=False,
            name="permutation")
        self.sign_s = self.add_weight(
            shape=(c,), initializer=keras.initializers.Constant(np.sign(s)), trainable=False,
            name="sign_s")
        self.lower = self.add_weight(
            shape=(c, c), initializer=keras.initializers.Constant(np.tril(lower, -1)),
            name="lower")
        self.upper = self.add_weight(
            shape=(c, c), initializer=keras.initializers.Constant(np.triu(upper, 1)),
            name="upper")
        self.log_s = self.add_weight(
            shape=(c,), initializer=keras.initializers.Constant(np.log(np.abs(s))),
            name="log_s")
        self._lower_mask = np.tril(np.ones((c, c), "float32"), -1)
        self.built = True

    def weight_matrix(self):
        """W = P (L + I) (U + diag(sign * exp(log_s)))."""
        c = self.log_s.shape[0]
        eye = tf.eye(c, dtype=self.log_s.dtype)
        mask = tf.constant(self._lower_mask, dtype=self.log_s.dtype)
        lower = self.lower * mask + eye
        upper = (self.upper * tf.transpose(mask)
                 + tf.linalg.diag(self.sign_s * tf.exp(self.log_s)))
        return tf.matmul(self.permutation, tf.matmul(lower, upper))

    def _log_det(self, x):
        return _spatial_size(x) * tf.reduce_sum(self.log_s)

    def _forward_and_log_det(self, x):
        return _mix_channels(x, self.weight_matrix()), _per_example(self._log_det(x), x)

    def _inverse_and_log_det(self, y):
        w_inv = tf.linalg.inv(self.weight_matrix())
        return _mix_channels(y, w_inv), _per_example(-self._log_det(y), y)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


def _glorot(seed, offset):
    return keras.initializers.GlorotUniform(seed=None if seed is None else seed * 7 + offset)


def _network(rank, hidden, outputs, name, seed=None):
    """The coupling's conditioner: conv3x3-relu-conv1x1-relu-conv3x3(zeros) on
    images, a 2-hidden-layer MLP with a zero-initialised last layer on vectors."""
    if rank == 4:
        layers = [keras.layers.Conv2D(hidden, 3, padding="same", activation="relu",
                                      kernel_initializer=_glorot(seed, 0)),
                  keras.layers.Conv2D(hidden, 1, activation="relu",
                                      kernel_initializer=_glorot(seed, 1)),
                  keras.layers.Conv2D(outputs, 3, padding="same", kernel_initializer="zeros")]
    else:
        layers = [keras.layers.Dense(hidden, activation="relu",
                                     kernel_initializer=_glorot(seed, 0)),
                  keras.layers.Dense(hidden, activation="relu",
                                     kernel_initializer=_glorot(seed, 1)),
                  keras.layers.Dense(outputs, kernel_initializer="zeros")]
    return keras.Sequential(layers, name=name)


_MIN_SCALE = 1e-3


def _stable_scale(raw):
    """1e-3 + (1 - 1e-3) * sigmoid(raw + 2): a scale in (0.001, 1)."""
    return _MIN_SCALE + (1.0 - _MIN_SCALE) * tf.sigmoid(raw + 2.0)


def _stable_log_scale(raw):
    """log of `_stable_scale` (the log-scale of the autoregressive flows)."""
    return tf.math.log(_stable_scale(raw))


@keras.saving.register_keras_serializable(package="unigen")
class AffineCoupling(Bijector):
    """Affine coupling: half the channels transform the other half.

    With a binary ``mask`` on the last axis (1 = conditioning, passed through),
    x_a = x[mask == 1], x_b = x[mask == 0] and (shift, raw) = NN(x_a)::

        forward:  y_a = x_a,  y_b = x_b * s + shift,
                  s = 1e-3 + (1 - 1e-3) * sigmoid(raw + 2)
        log|det J| = sum log s

    The Jacobian is triangular (y_a does not depend on x_b), so its log-det is
    the sum of the log-scales. The last layer of NN starts at zero (the layer
    starts near the identity, s = sigmoid(2)), and the sigmoid keeps the scale
    in (0.001, 1), so log-scales never overflow and the inverse never divides by
    an underflowed scale (Glow's stable choice, with a floor).

    Args:
        hidden: width of the conditioner (channels for images, units for vectors).
        mask: list of 0/1 of the channel length, or None for "first half
            conditions" (the first floor(C/2) channels).
        seed: int seeding the conditioner's initial weights, or None.

    References:
        Dinh, Sohl-Dickstein and Bengio. "Density estimation using Real NVP."
        ICLR 2017. Kingma and Dhariwal. "Glow." NeurIPS 2018.
    """

    additive = False

    def __init__(self, hidden=64, mask=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else int(seed)
        self.hidden = int(hidden)
        self.mask = None if mask is None else [int(m) for m in mask]

    def build(self, input_shape):
        c = int(input_shape[-1])
        mask = self.mask if self.mask is not None else [1] * (c // 2) + [0] * (c - c // 2)
        if len(mask) != c or not 0 < sum(mask) < c or set(mask) - {0, 1}:
            raise ValueError(
                f"`mask` must be {c} zeros and ones with both present, got {self.mask!r}."
            )
        self._cond = [i for i in range(c) if mask[i]]
        self._trans = [i for i in range(c) if not mask[i]]
        self._merge = [int(i) for i in np.argsort(self._cond + self._trans)]
        # A mask that is one block of ones then zeros (the default), or zeros
        # then ones, splits and joins by slicing; any other by gathering.
        k = len(self._cond)
        self._blocks = ("first" if mask == [1] * k + [0] * (c - k) else
                        "last" if mask == [0] * (c - k) + [1] * k else None)
        outputs = len(self._trans) * (1 if self.additive else 2)
        self.network = _network(len(input_shape), self.hidden, outputs, "conditioner",
                               self.seed)
        self.network.build((*input_shape[:-1], len(self._cond)))
        self.built = True

    def _params(self, x_a):
        # The conditioner may compute in low precision; the bijection is float32.
        h = tf.cast(_run_network(self.network, x_a), x_a.dtype)
        if self.additive:
            return h, None
        shift, raw = tf.split(h, 2, axis=-1)
        return shift, _stable_scale(raw)

    def _split(self, x):
        k = len(self._cond)
        if self._blocks == "first":
            return tf.split(x, [k, x.shape[-1] - k], axis=-1)
        if self._blocks == "last":
            x_b, x_a = tf.split(x, [x.shape[-1] - k, k], axis=-1)
            return x_a, x_b
        return tf.gather(x, self._cond, axis=-1), tf.gather(x, self._trans, axis=-1)

    def _join(self, a, b):
        if self._blocks == "first":
            return tf.concat([a, b], axis=-1)
        if self._blocks == "last":
            return tf.concat([b, a], axis=-1)
        return tf.gather(tf.concat([a, b], axis=-1), self._merge, axis=-1)

    def _forward_and_log_det(self, x):
        x_a, x_b = self._split(x)
        shift, scale = self._params(x_a)
        if scale is None:
            return self._join(x_a, x_b + shift), _batch_zeros(x)
        return self._join(x_a, x_b * scale + shift), _sum_event(tf.math.log(scale))

    def _inverse_and_log_det(self, y):
        y_a, y_b = self._split(y)
        shift, scale = self._params(y_a)
        if scale is None:
            return self._join(y_a, y_b - shift), _batch_zeros(y)
        return self._join(y_a, (y_b - shift) / scale), -_sum_event(tf.math.log(scale))

    def get_config(self):
        return {**super().get_config(), "hidden": self.hidden, "mask": self.mask,
                "seed": self.seed}


@keras.saving.register_keras_serializable(package="unigen")
class AdditiveCoupling(AffineCoupling):
    """Additive coupling (NICE): y_b = x_b + NN(x_a); volume preserving, log-det 0.

    Takes the arguments of `AffineCoupling`.

    References:
        Dinh, Krueger and Bengio. "NICE: Non-linear Independent Components
        Estimation." ICLR 2015 workshop.
    """

    additive = True


@keras.saving.register_keras_serializable(package="unigen")
class Squeeze(Bijector):
    """Space-to-depth: [B, H, W, C] -> [B, H/2, W/2, 4C] (each 2x2 patch to channels).

    A permutation of the elements, so log-det 0. H and W must be even.
    """

    def forward_shape(self, input_shape):
        b, h, w, c = input_shape
        return (b, h // 2, w // 2, c * 4)

    def inverse_shape(self, output_shape):
        b, h, w, c = output_shape
        return (b, h * 2, w * 2, c // 4)

    def build(self, input_shape):
        if len(input_shape) != 4 or input_shape[1] % 2 or input_shape[2] % 2:
            raise ValueError(
                f"Squeeze needs images [batch, H, W, C] with even H and W, got shape "
                f"{list(input_shape)}."
            )
        self.built = True

    def _forward_and_log_det(self, x):
        return tf.nn.space_to_depth(x, 2), _batch_zeros(x)

    def _inverse_and_log_det(self, y):
        return tf.nn.depth_to_space(y, 2), _batch_zeros(y)


@keras.saving.register_keras_serializable(package="unigen")
class SplitPrior(Bijector):
    """Multi-scale split with a learned conditional prior, as a bijector.

    The channels split into h (the first floor(C/2), kept for the next level)
    and z (factored out). Glow models z ~ N(mu(h), sigma(h)^2) with (mu, raw)
    from a zero-initialised network of h; writing eps = (z - mu(h)) / sigma(h)
    makes it a bijection x -> [h, eps] with eps ~ N(0, 1) and

        log|det J| = -sum log sigma(h),  sigma = softplus(raw + log(e - 1)) + 1e-3

    (sigma = 1 + 1e-3 at initialisation). A flow model then passes only h on.

    The prior network is one zero-initialised 3x3 convolution on images, one
    dense layer on vectors.

    References:
        Kingma and Dhariwal. "Glow." NeurIPS 2018 (the split prior of its code).
    """

    _SHIFT = float(np.log(np.e - 1.0))

    def build(self, input_shape):
        c = int(input_shape[-1])
        if c < 2:
            raise ValueError(f"SplitPrior needs at least 2 channels, got {c}.")
        self.keep = c // 2
        out = 2 * (c - self.keep)
        if len(input_shape) == 4:
            self.prior = keras.layers.Conv2D(out, 3, padding="same", kernel_initializer="zeros",
                                             name="prior")
        else:
            self.prior = keras.layers.Dense(out, kernel_initializer="zeros", name="prior")
        self.prior.build((*input_shape[:-1], self.keep))
        self.built = True

    def _params(self, h):
        mu, raw = tf.split(tf.cast(self.prior(h), h.dtype), 2, axis=-1)
        return mu, tf.nn.softplus(raw + self._SHIFT) + 1e-3

    def _forward_and_log_det(self, x):
        h, z = tf.split(x, [self.keep, x.shape[-1] - self.keep], axis=-1)
        mu, sigma = self._params(h)
        eps = (z - mu) / sigma
        return tf.concat([h, eps], axis=-1), -_sum_event(tf.math.log(sigma))

    def _inverse_and_log_det(self, y):
        h, eps = tf.split(y, [self.keep, y.shape[-1] - self.keep], axis=-1)
        mu, sigma = self._params(h)
        return tf.concat([h, eps * sigma + mu], axis=-1), _sum_event(tf.math.log(sigma))
