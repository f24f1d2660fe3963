"""Glow's bijectors as they were before issue #18, for old-vs-new figures and tests.

`use_legacy_ops(layer)` swaps, on one instance and everything inside it, the
forward and inverse of ActNorm, the invertible 1x1 convolution, the
couplings, the split prior and the multi-scale flow for their former
formulation:

* the 1x1 convolution as ``tf.linalg.matvec(W, x)`` over [B, H, W, C] (a
  batched matmul of B*H*W tiny products) instead of one reshape + GEMM;
* the coupling's channel split and join by ``tf.gather`` (transposes and
  segment sums in the gradient) instead of ``tf.split`` / ``tf.concat``, and
  its scale as exp(log(s)) instead of s;
* per-example log-dets from ``tf.shape`` arithmetic and ``tf.ones``
  products, events summed after a reshape;
* the coupling network called as a Keras ``Sequential`` (its hidden 1x1
  ``Conv2D`` as oneDNN's convolution kernel) instead of `_run_network`'s
  one GEMM for it.

(The optimizer is not a bijector op: `benchmarks/glow_step_cost.py` pairs this
formulation with Keras's ``keras.optimizers.Adam``, the default before #18.)

The weights are untouched, so an old and a new model built with the same
seed compute the same function: the speed suite times both in one process,
and ``tests/test_bijectors.py`` checks their ``log_prob`` agree to 1e-5.
"""

import types

import tensorflow as tf

from unigen.flows import ActNorm, AffineCoupling, InvertibleConv1x1, MultiScale, SplitPrior

__all__ = ["use_legacy_ops"]


def _spatial_size(x):
    shape = tf.shape(x)
    return tf.cast(tf.reduce_prod(shape[1:-1]), x.dtype)


def _sum_event(t):
    return tf.reduce_sum(tf.reshape(t, [tf.shape(t)[0], -1]), axis=1)


def _flatten(t):
    return tf.reshape(t, [tf.shape(t)[0], -1])


def _actnorm_forward(self, x):
    self._maybe_initialize(x)
    y = (x + self.bias) * tf.exp(self.log_scale)
    log_det = _spatial_size(x) * tf.reduce_sum(self.log_scale)
    return y, log_det * tf.ones(tf.shape(x)[:1], x.dtype)


def _actnorm_inverse(self, y):
    x = y * tf.exp(-self.log_scale) - self.bias
    log_det = -_spatial_size(y) * tf.reduce_sum(self.log_scale)
    return x, log_det * tf.ones(tf.shape(y)[:1], y.dtype)


def _conv_log_det(self, x):
    return _spatial_size(x) * tf.reduce_sum(self.log_s) * tf.ones(tf.shape(x)[:1], x.dtype)


def _conv_forward(self, x):
    return tf.linalg.matvec(self.weight_matrix(), x), _conv_log_det(self, x)


def _conv_inverse(self, y):
    w_inv = tf.linalg.inv(self.weight_matrix())
    return tf.linalg.matvec(w_inv, y), -_conv_log_det(self, y)


def _coupling_params(self, x_a):
    h = tf.cast(self.network(x_a), x_a.dtype)
    n = len(self._trans)
    if self.additive:
        return h, None
    return h[..., :n], tf.math.log(1e-3 + (1.0 - 1e-3) * tf.sigmoid(h[..., n:] + 2.0))


def _coupling_split(self, x):
    return tf.gather(x, self._cond, axis=-1), tf.gather(x, self._trans, axis=-1)


def _coupling_join(self, a, b):
    return tf.gather(tf.concat([a, b], axis=-1), self._merge, axis=-1)


def _zeros(x):
    return tf.zeros(tf.shape(x)[:1], x.dtype)


def _coupling_forward(self, x):
    x_a, x_b = _coupling_split(self, x)
    shift, log_s = _coupling_params(self, x_a)
    if log_s is None:
        return _coupling_join(self, x_a, x_b + shift), _zeros(x)
    return _coupling_join(self, x_a, x_b * tf.exp(log_s) + shift), _sum_event(log_s)


def _coupling_inverse(self, y):
    y_a, y_b = _coupling_split(self, y)
    shift, log_s = _coupling_params(self, y_a)
    if log_s is None:
        return _coupling_join(self, y_a, y_b - shift), _zeros(y)
    return _coupling_join(self, y_a, (y_b - shift) * tf.exp(-log_s)), -_sum_event(log_s)


def _split_params(self, h):
    out = tf.cast(self.prior(h), h.dtype)
    n = out.shape[-1] // 2
    return out[..., :n], tf.nn.softplus(out[..., n:] + self._SHIFT) + 1e-3


def _split_forward(self, x):
    h, z = x[..., :self.keep], x[..., self.keep:]
    mu, sigma = _split_params(self, h)
    return tf.concat([h, (z - mu) / sigma], axis=-1), -_sum_event(tf.math.log(sigma))


def _split_inverse(self, y):
    h, eps = y[..., :self.keep], y[..., self.keep:]
    mu, sigma = _split_params(self, h)
    return tf.concat([h, eps * sigma + mu], axis=-1), _sum_event(tf.math.log(sigma))


def _multiscale_forward(self, x):
    total = tf.zeros(tf.shape(x)[:1], x.dtype)
    pieces = []
    h = x
    for level, (_, _, keep) in enumerate(self._levels_plan):
        if self.squeezes[level] is not None:
            h = self.squeezes[level].forward(h)
        h, log_det = self.steps[level].forward_and_log_det(h)
        total = total + log_det
        if level < self.levels - 1:
            h, log_det = self.splits[level].forward_and_log_det(h)
            total = total + log_det
            pieces.append(_flatten(h[..., keep:]))
            h = h[..., :keep]
    pieces.append(_flatten(h))
    return tf.concat(pieces, axis=-1), total


_LEGACY = (  # checked in this order: AdditiveCoupling is an AffineCoupling
    (ActNorm, _actnorm_forward, _actnorm_inverse),
    (InvertibleConv1x1, _conv_forward, _conv_inverse),
    (AffineCoupling, _coupling_forward, _coupling_inverse),
    (SplitPrior, _split_forward, _split_inverse),
    (MultiScale, _multiscale_forward, None),
)


def use_legacy_ops(layer):
    """Gives ``layer`` and its sub-layers the pre-#18 forward/inverse; returns it.

    The layer must be built (the legacy coupling reads its index lists).
    Returns the number of layers changed as ``layer._legacy_layers``.
    """
    changed = 0
    for sub in layer._flatten_layers(include_self=True, recursive=True):
        for cls, forward, inverse in _LEGACY:
            if isinstance(sub, cls):
                object.__setattr__(sub, "_forward_and_log_det", types.MethodType(forward, sub))
                if inverse is not None:
                    object.__setattr__(sub, "_inverse_and_log_det",
                                       types.MethodType(inverse, sub))
                changed += 1
                break
    object.__setattr__(layer, "_legacy_layers", changed)
    return layer
