"""`Bijector`: an invertible Keras 3 layer that reports its log-Jacobian.

Direction convention. In unigen's flows ``forward`` is the *normalizing*
direction: it maps data towards the base distribution, so a flow f built from
bijectors f_1, ..., f_K (applied in that order) gives

    log p(x) = log p_base(f(x)) + sum_k log |det J_{f_k}(h_{k-1})|,

with h_0 = x and h_k = f_k(h_{k-1}). ``inverse`` maps base samples to data.
Every log-determinant is per example: a tensor of shape ``[batch]``, already
summed over the event axes (all axes but the first).

Precision. A bijector computes in float32 (its default ``dtype``) under any
global policy: its arithmetic and log-determinants are part of a density. The
networks inside it (coupling conditioners, MADEs, split priors) follow the
global policy, so under mixed precision they compute in float16 / bfloat16 and
their outputs are cast back to float32 before they enter the bijection.
"""

import keras
import numpy as np
import tensorflow as tf

__all__ = ["Bijector", "Chain", "Permute", "Reverse"]


def _sum_event(t):
    """Sums a per-element tensor over every axis but the batch axis."""
    if t.shape.rank is not None:
        return tf.reduce_sum(t, axis=list(range(1, t.shape.rank)))
    return tf.reduce_sum(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


@keras.saving.register_keras_serializable(package="unigen")
class Bijector(keras.layers.Layer):
    """Base class of unigen's invertible layers.

    A subclass writes ``_forward_and_log_det(x)`` and
    ``_inverse_and_log_det(y)``, each returning ``(output, log_det)`` with
    ``log_det`` of shape ``[batch]``; it may write ``build`` (variables are
    created there, from the input shape of the forward direction) and
    ``forward_shape`` / ``inverse_shape`` when it changes shapes. The base
    derives ``forward``, ``inverse``, ``forward_and_log_det`` and
    ``inverse_and_log_det``, and builds the layer on first use. Calling the
    layer (``bijector(x)``) is ``forward``.

    Args:
        **kwargs: passed to `keras.layers.Layer`; ``dtype`` defaults to
            "float32" whatever the global policy (see the module docstring).
    """

    def __init__(self, **kwargs):
        super().__init__(**_float32_under_mixed_policy(kwargs))

    def forward_shape(self, input_shape):
        """Shape of ``forward``'s output for an input of ``input_shape``."""
        return tuple(input_shape)

    def inverse_shape(self, output_shape):
        """Shape of ``inverse``'s output (the forward input) for ``output_shape``."""
        return tuple(output_shape)

    # ------------------------------------------------------------- public
    def forward_and_log_det(self, x):
        """Returns ``(f(x), log|det J_f(x)|)``, the log-det of shape ``[batch]``."""
        x = tf.convert_to_tensor(x, dtype=self.compute_dtype)
        if not self.built:
            self.build(tuple(x.shape))
        return self._forward_and_log_det(x)

    def inverse_and_log_det(self, y):
        """Returns ``(f^-1(y), log|det J_{f^-1}(y)|)`` (= -forward log-det)."""
        y = tf.convert_to_tensor(y, dtype=self.compute_dtype)
        if not self.built:
            self.build(self.inverse_shape(tuple(y.shape)))
        return self._inverse_and_log_det(y)

    def forward(self, x):
        """f(x): data towards the base distribution."""
        return self.forward_and_log_det(x)[0]

    def inverse(self, y):
        """f^-1(y): base towards data."""
        return self.inverse_and_log_det(y)[0]

    def call(self, x):
        return self.forward(x)

    def compute_output_shape(self, input_shape):
        return self.forward_shape(input_shape)

    def build(self, input_shape):
        self.built = True

    # ------------------------------------------------------------- hooks
    def _forward_and_log_det(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement `_forward_and_log_det`.")

    def _inverse_and_log_det(self, y):
        raise NotImplementedError(f"{type(self).__name__} must implement `_inverse_and_log_det`.")


@keras.saving.register_keras_serializable(package="unigen")
class Chain(Bijector):
    """Composition of bijectors, applied by ``forward`` in list order.

    Unlike ``tfp.bijectors.Chain`` (which applies its list last-first), the
    first bijector here is the first applied to the data. The log-det of a
    composition is the sum of the log-dets along the way (chain rule).

    Args:
        bijectors: list of `Bijector` layers.
    """

    def __init__(self, bijectors, **kwargs):
        super().__init__(**kwargs)
        bijectors = list(bijectors)
        for b in bijectors:
            if not isinstance(b, Bijector):
                raise TypeError(
                    f"`bijectors` must hold unigen.flows.Bijector layers, got "
                    f"{type(b).__name__}."
                )
        self.bijectors = bijectors

    def forward_shape(self, input_shape):
        for b in self.bijectors:
            input_shape = b.forward_shape(input_shape)
        return tuple(input_shape)

    def inverse_shape(self, output_shape):
        for b in reversed(self.bijectors):
            output_shape = b.inverse_shape(output_shape)
        return tuple(output_shape)

    def build(self, input_shape):
        shape = tuple(input_shape)
        for b in self.bijectors:
            if not b.built:
                b.build(shape)
            shape = b.forward_shape(shape)
        self.built = True

    def _forward_and_log_det(self, x):
        total = tf.zeros(tf.shape(x)[:1], x.dtype)
        for b in self.bijectors:
            x, log_det = b.forward_and_log_det(x)
            total = total + log_det
        return x, total

    def _inverse_and_log_det(self, y):
        total = tf.zeros(tf.shape(y)[:1], y.dtype)
        for b in reversed(self.bijectors):
            y, log_det = b.inverse_and_log_det(y)
            total = total + log_det
        return y, total

    def get_config(self):
        return {**super().get_config(),
                "bijectors": [keras.saving.serialize_keras_object(b) for b in self.bijectors]}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["bijectors"] = [keras.saving.deserialize_keras_object(b)
                               for b in config["bijectors"]]
        return cls(**config)


@keras.saving.register_keras_serializable(package="unigen")
class Permute(Bijector):
    """A fixed permutation of the last axis; log-det 0.

    Args:
        permutation: list of ints, a permutation of ``range(n)``: output[..., i]
            = input[..., permutation[i]].
    """

    def __init__(self, permutation, **kwargs):
        super().__init__(**kwargs)
        permutation = [int(p) for p in permutation]
        if sorted(permutation) != list(range(len(permutation))):
            raise ValueError(
                f"`permutation` must be a permutation of 0..{len(permutation) - 1}, "
                f"got {permutation!r}."
            )
        self.permutation = permutation
        self._inverse_perm = [int(i) for i in np.argsort(permutation)]

    @classmethod
    def random(cls, size, seed=0, **kwargs):
        """A fixed random permutation of ``size`` elements drawn from ``seed``."""
        perm = np.random.default_rng(seed).permutation(int(size))
        return cls(perm.tolist(), **kwargs)

    def _forward_and_log_det(self, x):
        return tf.gather(x, self.permutation, axis=-1), tf.zeros(tf.shape(x)[:1], x.dtype)

    def _inverse_and_log_det(self, y):
        return tf.gather(y, self._inverse_perm, axis=-1), tf.zeros(tf.shape(y)[:1], y.dtype)

    def get_config(self):
        return {**super().get_config(), "permutation": self.permutation}


@keras.saving.register_keras_serializable(package="unigen")
class Reverse(Bijector):
    """Reverses the order of the last axis (RealNVP's alternation); log-det 0."""

    def _forward_and_log_det(self, x):
        return tf.reverse(x, axis=[-1]), tf.zeros(tf.shape(x)[:1], x.dtype)

    def _inverse_and_log_det(self, y):
        return tf.reverse(y, axis=[-1]), tf.zeros(tf.shape(y)[:1], y.dtype)


def _float32_under_mixed_policy(kwargs):
    """Layer kwargs with ``dtype="float32"`` when the global policy is mixed.

    Bijector arithmetic (and log-determinants) stays float32 under
    "mixed_float16" / "mixed_bfloat16" while the conditioner networks inside
    follow the mixed policy. Under a full-precision policy ("float32",
    "float64") the layer follows it, so float64 checks stay float64.
    """
    if "dtype" not in kwargs and keras.config.dtype_policy().name.startswith("mixed_"):
        kwargs = {**kwargs, "dtype": "float32"}
    return kwargs
