"""MADE and the masked autoregressive flow (MAF) on vectors."""

import itertools

import keras
import numpy as np
import tensorflow as tf

from unigen.flows._bijector import Bijector, _sum_event
from unigen.flows._layers import _stable_log_scale

__all__ = ["MADE", "MaskedAutoregressive"]


def _made_masks(dims, hidden_units):
    """Connectivity masks: output d may depend only on inputs with index < d."""
    degrees = [np.arange(1, dims + 1)]
    for units in hidden_units:
        degrees.append(np.arange(units) % max(1, dims - 1) + 1)
    masks = [(d_out[None, :] >= d_in[:, None]).astype("float32")
             for d_in, d_out in itertools.pairwise(degrees)]
    out_degrees = np.arange(1, dims + 1)
    masks.append((out_degrees[None, :] > degrees[-1][:, None]).astype("float32"))
    return masks


@keras.saving.register_keras_serializable(package="unigen")
class MADE(keras.layers.Layer):
    """Masked autoencoder for distribution estimation: an autoregressive MLP.

    Maps x [batch, D] to ``params_per_dim`` outputs per dimension,
    [batch, D, params_per_dim], where output d depends only on x_1..x_{d-1}
    (masked dense layers with the degree construction, ordering 1..D). The last
    layer starts at zero.

    Args:
        hidden_units: list of hidden layer widths.
        params_per_dim: outputs per input dimension.
        seed: int seeding the initial weights, or None.

    References:
        Germain, Gregor, Murray and Larochelle. "MADE: Masked Autoencoder for
        Distribution Estimation." ICML 2015.
    """

    def __init__(self, hidden_units=(64, 64), params_per_dim=2, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = None if seed is None else int(seed)
        self.hidden_units = [int(u) for u in hidden_units]
        self.params_per_dim = int(params_per_dim)

    def build(self, input_shape):
        dims = int(input_shape[-1])
        self.dims = dims
        masks = _made_masks(dims, self.hidden_units)
        masks[-1] = np.repeat(masks[-1], self.params_per_dim, axis=1)
        self._masks = masks
        self.kernels, self.biases = [], []
        widths = [dims, *self.hidden_units, dims * self.params_per_dim]
        for i, (n_in, n_out) in enumerate(itertools.pairwise(widths)):
            last = i == len(widths) - 2
            self.kernels.append(self.add_weight(
                shape=(n_in, n_out), name=f"kernel_{i}",
                initializer="zeros" if last else keras.initializers.GlorotUniform(
                    seed=None if self.seed is None else self.seed * 7 + i)))
            self.biases.append(self.add_weight(shape=(n_out,), initializer="zeros",
                                               name=f"bias_{i}"))
        self.built = True

    def call(self, x):
        h = x
        for i, (k, b) in enumerate(zip(self.kernels, self.biases, strict=True)):
            h = tf.matmul(h, k * tf.constant(self._masks[i], k.dtype)) + b
            if i < len(self.kernels) - 1:
                h = tf.nn.relu(h)
        # Output columns are laid out dimension-major: d * params_per_dim + j.
        return tf.reshape(h, [-1, self.dims, self.params_per_dim])

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units,
                "params_per_dim": self.params_per_dim, "seed": self.seed}


@keras.saving.register_keras_serializable(package="unigen")
class MaskedAutoregressive(Bijector):
    """Masked autoregressive flow layer (MAF) on vectors [batch, D].

    forward (data -> base, one pass): with (shift_d, raw_d) = MADE(x)_d, which
    depend on x_<d only,

        z_d = x_d * s_d + shift_d,   s_d = 1e-3 + (1 - 1e-3) sigmoid(raw_d + 2),
        log|det J| = sum_d log s_d   (the Jacobian is triangular).

    inverse (base -> data) solves x_d = (z_d - shift_d) / s_d one dimension at
    a time: D passes of the MADE.

    Args:
        hidden_units: MADE hidden widths.
        seed: int seeding the MADE's initial weights, or None.

    References:
        Papamakarios, Pavlakou and Murray. "Masked Autoregressive Flow for
        Density Estimation." NeurIPS 2017.
    """

    def __init__(self, hidden_units=(64, 64), seed=None, **kwargs):
        super().__init__(**kwargs)
        self.hidden_units = [int(u) for u in hidden_units]
        self.seed = None if seed is None else int(seed)
        self.made = MADE(self.hidden_units, params_per_dim=2, seed=self.seed, name="made")

    def build(self, input_shape):
        if len(input_shape) != 2:
            raise ValueError(f"MaskedAutoregressive works on vectors [batch, D], got "
                             f"shape {list(input_shape)}.")
        self.made.build(input_shape)
        self.built = True

    def _params(self, x):
        p = tf.cast(self.made(x), x.dtype)
        return p[..., 0], _stable_log_scale(p[..., 1])

    def _forward_and_log_det(self, x):
        shift, log_s = self._params(x)
        return x * tf.exp(log_s) + shift, _sum_event(log_s)

    def _inverse_and_log_det(self, y):
        x = tf.zeros_like(y)
        for _ in range(int(y.shape[-1])):
            shift, log_s = self._params(x)
            x = (y - shift) * tf.exp(-log_s)
        return x, -_sum_event(log_s)

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units, "seed": self.seed}
