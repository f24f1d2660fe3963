"""Numerical helpers: tensor conversion, 1D quadrature grids and Monte Carlo draws.

Quadrature for scalar distributions. The integration range and the panels come
from the quantiles of both p and q (65 levels each, from about 1e-7 to 1 - 1e-7,
spaced like a logistic), so the panels are dense where either distribution has its
mass, whatever its scale; four panels on each side extend the range by twice its
width, for integrands such as p^2 / q whose tails decay more slowly than p's.
Each panel gets a 16-point Gauss-Legendre rule; the same sum with an 8-point rule
gives a conservative estimate of the integration error.
"""

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

__all__ = []

_QUANTILE_LOGITS = np.linspace(-16.0, 16.0, 65)
_EXTENSION = np.array([0.25, 0.5, 1.0, 2.0])


def as_float(x, name="x"):
    """Converts `x` to a float tensor; integer and half precision become float32."""
    try:
        x = tf.convert_to_tensor(x)
    except (TypeError, ValueError) as err:
        raise TypeError(
            f"`{name}` must be a tensor or array, got {type(x).__name__}."
        ) from err
    if not x.dtype.is_floating or x.dtype in (tf.float16, tf.bfloat16):
        x = tf.cast(x, tf.float32)
    return x


def is_scalar(dist):
    """True when `dist` has a scalar event (a 1D continuous distribution)."""
    return dist.event_shape.rank == 0


def mean_and_stderr(values, axis=0):
    """Sample mean along `axis` and its standard error (ddof = 1)."""
    n = tf.cast(tf.shape(values)[axis], values.dtype)
    mean = tf.reduce_mean(values, axis=axis)
    var = tf.reduce_sum(tf.square(values - tf.expand_dims(mean, axis)), axis=axis) / (
        n - 1.0
    )
    return mean, tf.sqrt(var / n)


def _support_points(dist, dtype):
    """Quantiles of `dist` at the fixed levels, shape [65, *batch]."""
    levels = tf.cast(tf.math.sigmoid(_QUANTILE_LOGITS), dist.dtype)
    levels = tf.reshape(levels, [-1] + [1] * len(dist.batch_shape))
    try:
        points = dist.quantile(levels)
    except NotImplementedError:
        # Without a quantile function, fall back on mean +- 40 standard deviations.
        scale = np.linspace(-40.0, 40.0, 65).reshape([-1] + [1] * len(dist.batch_shape))
        points = dist.mean() + tf.cast(scale, dist.dtype) * dist.stddev()
    return tf.cast(points, dtype)


def quadrature_grid(p, q, order=16):
    """Nodes and weights of a composite Gauss-Legendre rule covering p and q.

    Args:
        p, q: scalar distributions with broadcastable batch shapes.
        order: number of Gauss-Legendre nodes per panel.

    Returns:
        `(nodes, weights)`, float64 tensors of shape [num_nodes, *batch].
    """
    dtype = tf.float64
    batch = tf.broadcast_static_shape(p.batch_shape, q.batch_shape)
    shape = [65, *batch.as_list()]
    qp = tf.broadcast_to(_support_points(p, dtype), shape)
    qq = tf.broadcast_to(_support_points(q, dtype), shape)
    breaks = tf.sort(tf.concat([qp, qq], axis=0), axis=0)
    lo, hi = breaks[0], breaks[-1]
    width = hi - lo
    ext = tf.reshape(tf.constant(_EXTENSION, dtype), [-1] + [1] * batch.rank)
    breaks = tf.concat([lo - width * ext[::-1], breaks, hi + width * ext], axis=0)
    left, right = breaks[:-1], breaks[1:]
    unit_nodes, unit_weights = np.polynomial.legendre.leggauss(order)
    unit_nodes = tf.reshape(tf.constant(unit_nodes, dtype), [-1, 1] + [1] * batch.rank)
    unit_weights = tf.reshape(
        tf.constant(unit_weights, dtype), [-1, 1] + [1] * batch.rank
    )
    half = 0.5 * (right - left)
    nodes = 0.5 * (right + left) + half * unit_nodes
    weights = half * unit_weights * tf.ones_like(nodes)
    flat = tf.concat([[-1], tf.shape(nodes)[2:]], 0)
    return tf.reshape(nodes, flat), tf.reshape(weights, flat)


def integrate(integrand, p, q):
    """Integrates `integrand(x)` (float64 in, float64 out) over the real line.

    Returns:
        `(value, error)` in p's dtype: the 16-point result and its distance from
        the 8-point result, a conservative estimate of the integration error.
    """
    results = []
    for order in (16, 8):
        nodes, weights = quadrature_grid(p, q, order)
        results.append(tf.reduce_sum(weights * integrand(nodes), axis=0))
    value, coarse = results
    return tf.cast(value, p.dtype), tf.cast(tf.abs(value - coarse), p.dtype)


def log_probs(p, q, x):
    """log p(x) and log q(x) as float64, evaluating in each distribution's dtype."""
    return (
        tf.cast(p.log_prob(tf.cast(x, p.dtype)), tf.float64),
        tf.cast(q.log_prob(tf.cast(x, q.dtype)), tf.float64),
    )


def split_seed(seed, n=2):
    """Stateless seeds for `n` independent draws (`seed=None` draws a fresh one).

    An int seed becomes the stateless seed [0, seed] itself: TFP's
    `sanitize_seed(int)` would mix in TensorFlow's global seed, so the same
    `seed=` would give other draws after `tf.random.set_seed`.
    """
    if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool):
        seed = tf.constant([0, int(seed)], tf.int32)
    return tfp.random.split_seed(tfp.random.sanitize_seed(seed), n=n)


def sample_pair(p, q, num_samples, seed):
    """`num_samples // 2` draws from each of p and q, with independent seeds."""
    seed_p, seed_q = split_seed(seed)
    n = max(num_samples // 2, 2)
    return p.sample(n, seed=seed_p), q.sample(n, seed=seed_q)
