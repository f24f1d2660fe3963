"""Maximum mean discrepancy with a mixture of Gaussian kernels."""

import tensorflow as tf

from unigen.divergences import _closed_forms, _numerics, _sample_estimators
from unigen.divergences._base import Divergence, Estimate, _register

__all__ = ["MMD"]

DEFAULT_BANDWIDTHS = (0.25, 0.5, 1.0, 2.0, 4.0)


@_register("mmd", "maximum_mean_discrepancy", "gmmn")
class MMD(Divergence):
    """Squared maximum mean discrepancy MMD^2 with a mixture of Gaussian kernels.

    For the kernel k(x, y) = mean over bandwidths h of exp(-|x - y|^2 / (2 h^2)),

        MMD^2(p, q) = E k(x, x') + E k(y, y') - 2 E k(x, y),  x, x' ~ p; y, y' ~ q,

    the squared distance between the kernel mean embeddings of p and q; the
    Gaussian kernel is characteristic, so MMD^2 = 0 if and only if p = q. It needs
    no critic (`uses_critic=False`): a generative moment-matching network trains
    its generator on `generator_loss_from_samples(real, fake)`, the unbiased
    estimate of MMD^2 between a data batch and a generated batch.

    Every estimate here is of MMD^2 (not its square root), for the same kernel:
    `between` is exact between (multivariate) Normals, a double Gauss-Legendre
    integral for other scalar distributions, or a block-wise unbiased Monte Carlo
    estimate; `from_samples` gives the unbiased estimate and a jackknife standard
    error. Scale the data so that the bandwidths match its spread.

    Args:
        bandwidths: positive kernel bandwidths h (default 0.25, 0.5, 1, 2, 4).

    References:
        Gretton et al. "A Kernel Two-Sample Test." JMLR 13, 2012.
        Li, Swersky and Zemel. "Generative Moment Matching Networks." ICML 2015.
        Dziugaite, Roy and Ghahramani. "Training generative neural networks via
        Maximum Mean Discrepancy optimization." UAI 2015.
    """

    uses_critic = False

    def __init__(self, bandwidths=DEFAULT_BANDWIDTHS):
        try:
            bandwidths = tuple(float(h) for h in bandwidths)
        except (TypeError, ValueError):
            bandwidths = ()
        if not bandwidths or any(not h > 0 for h in bandwidths):
            raise ValueError(
                "`bandwidths` must be a non-empty sequence of positive floats, got "
                f"{bandwidths!r}."
            )
        self.bandwidths = bandwidths

    def get_config(self):
        return {**super().get_config(), "bandwidths": list(self.bandwidths)}

    def kernel(self, x, y):
        """The kernel matrix k(x_i, y_j) between samples x [m, ...] and y [n, ...]."""
        x = _sample_estimators.flatten(_numerics.as_float(x, "x"))
        y = _sample_estimators.flatten(tf.cast(_numerics.as_float(y, "y"), x.dtype))
        return _sample_estimators.kernel_matrix(x, y, self.bandwidths)

    def _sample_loss(self, real, fake):
        """Unbiased MMD^2 between a data batch and a generated batch
        (`generator_loss_from_samples`).

        Differentiable with respect to `fake`; minimising it trains a generative
        moment-matching network (Li et al. 2015). Both batches need at least two
        examples; the value can be slightly negative when the batches match.

        Args:
            real: data batch [m, ...].
            fake: generated batch [n, ...].

        Returns:
            The scalar loss.
        """
        real = _sample_estimators.flatten(real)
        fake = _sample_estimators.flatten(fake)
        return _sample_estimators.mmd_squared_unbiased(real, fake, self.bandwidths)

    # ------------------------------------------------------- between p and q
    def _closed_form(self, p, q):
        return _closed_forms.for_pair(
            p,
            q,
            lambda a, b: _closed_forms.mmd_squared_normal(a, b, self.bandwidths),
            lambda a, b: _closed_forms.mmd_squared_mvn(a, b, self.bandwidths),
        )

    def _supports_quadrature(self, p, q):
        # The double integral is a dense [N, N] kernel: no batch dimensions.
        return p.batch_shape.rank == 0 and q.batch_shape.rank == 0

    def _quadrature(self, p, q):
        results = []
        for order in (16, 8):
            nodes, weights = _numerics.quadrature_grid(p, q, order)
            log_p, log_q = _numerics.log_probs(p, q, nodes)
            # MMD^2 = integral integral (p - q)(x) k(x, y) (p - q)(y) dx dy.
            signed = weights * (tf.exp(log_p) - tf.exp(log_q))
            gram = _sample_estimators.kernel_matrix(
                nodes[:, tf.newaxis], nodes[:, tf.newaxis], self.bandwidths
            )
            results.append(
                tf.reduce_sum(signed[:, tf.newaxis] * gram * signed[tf.newaxis, :])
            )
        value, coarse = results
        return tf.cast(value, p.dtype), tf.cast(tf.abs(value - coarse), p.dtype)

    def _monte_carlo(self, p, q, num_samples, seed):
        if p.batch_shape.rank != 0 or q.batch_shape.rank != 0:
            raise ValueError(
                '`MMD.between` with `method="monte_carlo"` needs distributions '
                f"without batch dimensions, got batch shapes {p.batch_shape} and "
                f"{q.batch_shape}."
            )
        x, y = _numerics.sample_pair(p, q, num_samples, seed)
        x = _sample_estimators.flatten(tf.cast(x, tf.float64))
        y = _sample_estimators.flatten(tf.cast(y, tf.float64))
        value, stderr = _sample_estimators.mmd_squared_blocks(x, y, self.bandwidths)
        return tf.cast(value, p.dtype), tf.cast(stderr, p.dtype)

    def _from_samples(self, x, y):
        x = _sample_estimators.flatten(x)
        y = tf.cast(_sample_estimators.flatten(y), x.dtype)
        if x.shape[0] is not None and (x.shape[0] < 3 or y.shape[0] < 3):
            raise ValueError(
                "`MMD.from_samples` needs at least 3 samples in each of `x` and `y`, "
                f"got {x.shape[0]} and {y.shape[0]}."
            )
        value, stderr = _sample_estimators.mmd_squared_with_stderr(
            x, y, self.bandwidths
        )
        return Estimate(value, stderr, "samples")
