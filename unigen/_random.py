"""unigen's random draws: `keras.random`'s values, with a fast XLA path.

Every model draws its training and sampling noise here (``normal``,
``uniform``, ``randint``) instead of calling `keras.random` directly. The
arguments and the values are Keras's: the seed is an int or a
`keras.random.SeedGenerator` (whose state advances by one per draw), mapped to
a stateless seed exactly as Keras's TensorFlow backend maps it, and the draw is
TensorFlow's stateless Philox generator, which is what Keras's
``alg="auto_select"`` resolves to on CPUs and GPUs. So outside XLA a model
draws bit for bit what `keras.random` would draw (tested).

Why not call `keras.random`: under XLA on a CPU, a ``tf.random.stateless_*``
op with ``alg="auto_select"`` whose seed comes from a `SeedGenerator` updated in
the same compiled step costs about 340 ns per number (17 ms for one 64 x 28 x
28 batch of dequantization noise, about 30 times the plain op), while the same op
with ``alg="philox"`` costs what the plain op costs
(``benchmarks/xla_cpu.py --models`` and ``docs/benchmarks.rst``). Under XLA the
values differ from the plain path's with either choice (XLA has its own
counter layout), as they did before.

``seed=None`` (Keras's global generator) and anything else is passed to
`keras.random` unchanged.
"""

import keras
import tensorflow as tf

__all__ = ["normal", "randint", "uniform"]

_ALG = "philox"


def _stateless_seed(seed):
    """The int32 pair Keras's TensorFlow backend derives from ``seed``, or None."""
    if isinstance(seed, keras.random.SeedGenerator):
        pair = seed.next()
    elif isinstance(seed, int) and not isinstance(seed, bool):
        pair = tf.constant([seed, 0], tf.int64)
    else:
        return None
    if pair.dtype == tf.int32:
        return pair
    return tf.cast(tf.math.floormod(pair, tf.int32.max - 1), tf.int32)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """`keras.random.normal`'s draw (same arguments, same values outside XLA)."""
    pair = _stateless_seed(seed)
    if pair is None:
        return keras.random.normal(shape, mean=mean, stddev=stddev, dtype=dtype, seed=seed)
    return tf.random.stateless_normal(shape, seed=pair, mean=mean, stddev=stddev,
                                      dtype=dtype or keras.config.floatx(), alg=_ALG)


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """`keras.random.uniform`'s draw (same arguments, same values outside XLA)."""
    pair = _stateless_seed(seed)
    if pair is None:
        return keras.random.uniform(shape, minval=minval, maxval=maxval, dtype=dtype,
                                    seed=seed)
    dtype = dtype or keras.config.floatx()
    return tf.random.stateless_uniform(shape, seed=pair, minval=tf.cast(minval, dtype),
                                       maxval=tf.cast(maxval, dtype), dtype=dtype, alg=_ALG)


def randint(shape, minval, maxval, dtype="int32", seed=None):
    """`keras.random.randint`'s draw (same arguments, same values outside XLA)."""
    pair = _stateless_seed(seed)
    if pair is None:
        return keras.random.randint(shape, minval, maxval, dtype=dtype, seed=seed)
    drawn = dtype if dtype in ("int32", "int64", tf.int32, tf.int64) else "int64"
    return tf.cast(tf.random.stateless_uniform(shape, seed=pair, minval=minval, maxval=maxval,
                                               dtype=drawn, alg=_ALG), dtype)
