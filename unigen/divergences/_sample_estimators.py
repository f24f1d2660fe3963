"""Estimators of a divergence from two sets of samples, as pure functions.

Maximum mean discrepancy. For a kernel k with feature map phi,
MMD^2(p, q) = ||E_p phi(x) - E_q phi(y)||^2
            = E k(x, x') + E k(y, y') - 2 E k(x, y),
zero if and only if p = q for a characteristic kernel such as the Gaussian. Here k
is the mean of Gaussian kernels exp(-|x - y|^2 / (2 h^2)) over a set of
bandwidths h, the mixture Li et al. (2015) train generative moment-matching
networks with. With x_1..x_m ~ p and y_1..y_n ~ q the unbiased estimate drops the
i = j terms (Gretton et al. 2012, Lemma 6):

    MMD_u^2 = sum_{i != j} k(x_i, x_j) / (m (m - 1))
            + sum_{i != j} k(y_i, y_j) / (n (n - 1))
            - 2 sum_{i, j} k(x_i, y_j) / (m n).

It can be negative when p = q. Its standard error comes from the two-sample
jackknife (leave one x_i, then one y_j out, computed from row sums in O(m n)),
which by the Efron-Stein inequality errs on the large side.

Wasserstein-1 in 1D. W1(p, q) = integral of |F_p(t) - F_q(t)| dt; for two sets of
samples the empirical CDFs are step functions and the integral is a finite sum
(with equal sizes it is the mean of |sort(x) - sort(y)|). In more dimensions the
W1 distance between two equal-size empirical measures is an assignment problem,
solved exactly with `scipy.optimize.linear_sum_assignment` (O(n^3)).

References:
    Gretton et al. "A Kernel Two-Sample Test." JMLR 13, 2012.
    Li, Swersky and Zemel. "Generative Moment Matching Networks." ICML 2015.
"""

import numpy as np
import tensorflow as tf

__all__ = []


def flatten(x):
    """[m, ...] -> [m, d] (a vector of m scalars becomes [m, 1])."""
    if x.shape.rank == 1:
        return x[:, tf.newaxis]
    return tf.reshape(x, [tf.shape(x)[0], -1])


def kernel_matrix(x, y, bandwidths):
    """Mean Gaussian kernel between rows of x [..., m, d] and y [..., n, d]."""
    sq_x = tf.reduce_sum(tf.square(x), axis=-1)[..., :, tf.newaxis]
    sq_y = tf.reduce_sum(tf.square(y), axis=-1)[..., tf.newaxis, :]
    sq_dist = tf.maximum(sq_x + sq_y - 2.0 * tf.matmul(x, y, transpose_b=True), 0.0)
    kernels = [tf.exp(-sq_dist / (2.0 * h * h)) for h in bandwidths]
    return tf.add_n(kernels) / float(len(bandwidths))


def _off_diagonal_sum(k):
    return tf.reduce_sum(k, axis=[-2, -1]) - tf.linalg.trace(k)


def mmd_squared_unbiased(x, y, bandwidths):
    """The unbiased MMD^2 of samples x [m, d] and y [n, d] (differentiable)."""
    m = tf.cast(tf.shape(x)[-2], x.dtype)
    n = tf.cast(tf.shape(y)[-2], x.dtype)
    kxx = kernel_matrix(x, x, bandwidths)
    kyy = kernel_matrix(y, y, bandwidths)
    kxy = kernel_matrix(x, y, bandwidths)
    return (
        _off_diagonal_sum(kxx) / (m * (m - 1.0))
        + _off_diagonal_sum(kyy) / (n * (n - 1.0))
        - 2.0 * tf.reduce_sum(kxy, axis=[-2, -1]) / (m * n)
    )


def mmd_squared_with_stderr(x, y, bandwidths):
    """Unbiased MMD^2 of x [m, d], y [n, d] and its jackknife standard error."""
    m = tf.cast(tf.shape(x)[0], x.dtype)
    n = tf.cast(tf.shape(y)[0], x.dtype)
    kxx = kernel_matrix(x, x, bandwidths)
    kyy = kernel_matrix(y, y, bandwidths)
    kxy = kernel_matrix(x, y, bandwidths)
    row_xx = tf.reduce_sum(kxx, axis=1) - tf.linalg.diag_part(kxx)
    row_yy = tf.reduce_sum(kyy, axis=1) - tf.linalg.diag_part(kyy)
    row_xy = tf.reduce_sum(kxy, axis=1)
    col_xy = tf.reduce_sum(kxy, axis=0)
    a, b, c = tf.reduce_sum(row_xx), tf.reduce_sum(row_yy), tf.reduce_sum(row_xy)
    value = a / (m * (m - 1.0)) + b / (n * (n - 1.0)) - 2.0 * c / (m * n)
    loo_x = (
        (a - 2.0 * row_xx) / ((m - 1.0) * (m - 2.0))
        + b / (n * (n - 1.0))
        - 2.0 * (c - row_xy) / ((m - 1.0) * n)
    )
    loo_y = (
        a / (m * (m - 1.0))
        + (b - 2.0 * row_yy) / ((n - 1.0) * (n - 2.0))
        - 2.0 * (c - col_xy) / (m * (n - 1.0))
    )
    var = (m - 1.0) / m * tf.reduce_sum(tf.square(loo_x - tf.reduce_mean(loo_x))) + (
        n - 1.0
    ) / n * tf.reduce_sum(tf.square(loo_y - tf.reduce_mean(loo_y)))
    return value, tf.sqrt(var)


def mmd_squared_blocks(x, y, bandwidths, block_size=256):
    """Mean of unbiased MMD^2 over disjoint blocks and its standard error.

    Memory and time grow linearly with the number of samples, so this suits
    Monte Carlo estimates between two distributions with many draws.

    Args:
        x, y: samples [N, d] (the same N); the remainder after whole blocks is
            dropped.
        bandwidths: kernel bandwidths.
        block_size: samples of each distribution per block (>= 2).

    Returns:
        `(value, stderr)`.
    """
    num_blocks = int(x.shape[0]) // block_size
    if num_blocks < 2:
        raise ValueError(
            f"`num_samples` must give at least 2 blocks of {block_size} draws from "
            f"each distribution, got {int(x.shape[0])} draws each."
        )
    keep = num_blocks * block_size
    xb = tf.reshape(x[:keep], [num_blocks, block_size, -1])
    yb = tf.reshape(y[:keep], [num_blocks, block_size, -1])
    per_block = mmd_squared_unbiased(xb, yb, bandwidths)
    mean = tf.reduce_mean(per_block)
    var = tf.reduce_sum(tf.square(per_block - mean)) / (num_blocks - 1.0)
    return mean, tf.sqrt(var / num_blocks)


def wasserstein1_1d(x, y):
    """W1 between the empirical distributions of 1D samples x [m], y [n]."""
    x = tf.sort(tf.reshape(x, [-1]))
    y = tf.sort(tf.reshape(y, [-1]))
    if x.shape[0] is not None and x.shape[0] == y.shape[0]:
        return tf.reduce_mean(tf.abs(x - y))
    both = tf.sort(tf.concat([x, y], axis=0))
    deltas = both[1:] - both[:-1]
    m = tf.cast(tf.shape(x)[0], x.dtype)
    n = tf.cast(tf.shape(y)[0], x.dtype)
    cdf_x = tf.cast(tf.searchsorted(x, both[:-1], side="right"), x.dtype) / m
    cdf_y = tf.cast(tf.searchsorted(y, both[:-1], side="right"), x.dtype) / n
    return tf.reduce_sum(tf.abs(cdf_x - cdf_y) * deltas)


def wasserstein1_assignment(x, y):
    """Exact W1 between two equal-size empirical measures in d dimensions."""
    from scipy.optimize import linear_sum_assignment  # scipy comes with scikit-learn

    x_np = np.asarray(x, np.float64)
    y_np = np.asarray(y, np.float64)
    if x_np.shape[0] != y_np.shape[0]:
        raise ValueError(
            "Wasserstein from samples in more than one dimension needs as many `x` "
            f"as `y` samples, got {x_np.shape[0]} and {y_np.shape[0]}."
        )
    cost = np.sqrt(((x_np[:, None, :] - y_np[None, :, :]) ** 2).sum(-1))
    rows, cols = linear_sum_assignment(cost)
    return tf.constant(cost[rows, cols].mean(), dtype=x.dtype)
