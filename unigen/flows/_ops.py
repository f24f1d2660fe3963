"""Small tensor helpers of Glow's layers, written for few graph ops per step.

Static shapes are used where they are known, so the helpers add no shape
arithmetic to a traced step; the 1x1 convolution is one GEMM.
"""

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
