"""Wasserstein-1 (WGAN) and hinge (geometric GAN) divergences."""

import tensorflow as tf

from unigen.divergences import _closed_forms, _functional, _numerics, _sample_estimators
from unigen.divergences._base import Divergence, Estimate, _register
from unigen.divergences._f_divergences import TotalVariation

__all__ = ["Hinge", "Wasserstein"]

LIPSCHITZ_CONTROLS = ("gradient_penalty", "clip", "spectral_norm")


@_register("wasserstein", "w1", "wgan", "earth_mover", "earth_movers")
class Wasserstein(Divergence):
    """Wasserstein-1 (earth mover's) distance and the WGAN losses.

    W1(p, q) = inf over couplings gamma of E_gamma |x - y|, the least work to
    move the mass of q onto p. Unlike the f-divergences it stays finite and
    continuous when p and q have disjoint supports. Its Kantorovich-Rubinstein
    dual is

        W1(p, q) = sup over 1-Lipschitz D of E_p[D(x)] - E_q[D(x)],

    so a critic D trained to minimise `discriminator_loss` = E_q[D] - E_p[D]
    estimates -W1 (K W1 for a K-Lipschitz critic), and the generator minimises
    `generator_loss` = -E_q[D(G(z))]. The supremum is over Lipschitz critics
    only, so the critic needs a Lipschitz control:

    - "gradient_penalty": add `critic_penalty(...)` = weight E[(||grad D(x_hat)||
      - 1)^2] on random interpolates x_hat (WGAN-GP, the default);
    - "clip": clip the critic weights into [-c, c] after each step with
      `apply_constraints(critic.trainable_variables)` (the original WGAN);
    - "spectral_norm": the GAN wraps the critic's layers in
      `keras.layers.SpectralNormalization` (Miyato et al. 2018).

    With `lipschitz=None` the losses and `between` still work, but
    `check_trainable()` (which a GAN calls) raises.

    `between(p, q)`: exact between two 1D Normals, the integral of
    |F_p(t) - F_q(t)| for other scalar distributions, or a Monte Carlo average of
    |F_p^-1(U) - F_q^-1(U)| with U ~ Uniform(0, 1) (the optimal 1D coupling).
    `from_samples(x, y)`: exact W1 between the two empirical distributions.

    Args:
        lipschitz: "gradient_penalty", "clip", "spectral_norm" or None.
        clip_value: c for "clip" (0.01 in Arjovsky et al.).
        penalty_weight: weight of the gradient penalty (10 in Gulrajani et al.).

    References:
        Arjovsky, Chintala and Bottou. "Wasserstein Generative Adversarial
        Networks." ICML 2017.
        Gulrajani et al. "Improved Training of Wasserstein GANs." NeurIPS 2017.
        Miyato et al. "Spectral Normalization for Generative Adversarial
        Networks." ICLR 2018.
    """

    requires_lipschitz = True

    def __init__(
        self, lipschitz="gradient_penalty", clip_value=0.01, penalty_weight=10.0
    ):
        if lipschitz is not None and lipschitz not in LIPSCHITZ_CONTROLS:
            raise ValueError(
                "`lipschitz` must be one of "
                f"{', '.join(map(repr, LIPSCHITZ_CONTROLS))} or None, "
                f"got {lipschitz!r}."
            )
        if not isinstance(clip_value, (int, float)) or clip_value <= 0:
            raise ValueError(
                f"`clip_value` must be a positive float, got {clip_value!r}."
            )
        if not isinstance(penalty_weight, (int, float)) or penalty_weight < 0:
            raise ValueError(
                "`penalty_weight` must be a non-negative float, "
                f"got {penalty_weight!r}."
            )
        self.lipschitz = lipschitz
        self.clip_value = float(clip_value)
        self.penalty_weight = float(penalty_weight)

    def get_config(self):
        return {
            **super().get_config(),
            "lipschitz": self.lipschitz,
            "clip_value": self.clip_value,
            "penalty_weight": self.penalty_weight,
        }

    def _discriminator_loss(self, real, fake):
        return _functional.wasserstein_critic_loss(real, fake)

    def _generator_loss(self, fake, real):
        del real
        return _functional.wasserstein_generator_loss(fake)

    def critic_penalty(self, critic_fn, real, fake, seed=None):
        """`penalty_weight` times the gradient penalty, or 0 without one.

        Args:
            critic_fn: callable mapping a batch to raw critic outputs.
            real, fake: data and generated batches of the same shape.
            seed: int or `keras.random.SeedGenerator` for the interpolation.
        """
        if self.lipschitz != "gradient_penalty":
            return tf.constant(0.0)
        return self.penalty_weight * _functional.gradient_penalty(
            critic_fn, real, fake, seed=seed
        )

    def apply_constraints(self, critic_variables):
        """Clips `critic_variables` into [-clip_value, clip_value] for "clip"."""
        if self.lipschitz == "clip":
            _functional.clip_weights(critic_variables, self.clip_value)

    # ------------------------------------------------------- between p and q
    def _closed_form(self, p, q):
        return _closed_forms.for_pair(p, q, _closed_forms.wasserstein1_normal)

    def _supports_quadrature(self, p, q):
        try:
            p.cdf(p.mean())
            q.cdf(q.mean())
        except NotImplementedError:
            return False
        return True

    def _quadrature(self, p, q):
        def integrand(x):
            cdf_p = tf.cast(p.cdf(tf.cast(x, p.dtype)), tf.float64)
            cdf_q = tf.cast(q.cdf(tf.cast(x, q.dtype)), tf.float64)
            return tf.abs(cdf_p - cdf_q)

        return _numerics.integrate(integrand, p, q)

    def _monte_carlo(self, p, q, num_samples, seed):
        if not _numerics.is_scalar(p):
            raise ValueError(
                "`Wasserstein.between` has no Monte Carlo estimator for "
                f"multivariate events (event shape {p.event_shape}): draw samples "
                "and use "
                "`from_samples(x, y)`, the exact W1 between the empirical "
                "distributions (biased upward for small samples)."
            )
        batch = tf.broadcast_static_shape(p.batch_shape, q.batch_shape).as_list()
        (seed_u,) = _numerics.split_seed(seed, n=1)
        u = tf.random.stateless_uniform(
            [num_samples, *batch], seed=seed_u, dtype=p.dtype
        )
        try:
            gaps = tf.abs(p.quantile(u) - q.quantile(u))
        except NotImplementedError as err:
            raise ValueError(
                '`Wasserstein.between` with `method="monte_carlo"` needs '
                f"`quantile` of both distributions; {type(p).__name__} or "
                f'{type(q).__name__} has none. Use `method="quadrature"`.'
            ) from err
        return _numerics.mean_and_stderr(gaps)

    def _from_samples(self, x, y):
        x2 = _sample_estimators.flatten(x)
        y2 = _sample_estimators.flatten(y)
        if x2.shape[1] == 1:
            value = _sample_estimators.wasserstein1_1d(x2, y2)
        else:
            value = _sample_estimators.wasserstein1_assignment(x2, y2)
        return Estimate(value, tf.constant(float("nan"), value.dtype), "samples")


@_register("hinge", "geometric")
class Hinge(Divergence):
    """The hinge (geometric GAN, SN-GAN, BigGAN) adversarial loss.

    The critic minimises E_p[relu(1 - v)] + E_q[relu(1 + v)], a soft-margin SVM
    separating data from samples; the generator minimises -E_q[v]. Over all
    critics the optimum is v = +1 where p > q and -1 where p < q, and the critic
    loss there is 2 - 2 TV(p, q): the divergence behind the hinge loss is the
    total variation distance, which `between` returns. It is usually paired with
    spectral normalisation, but does not require a Lipschitz critic.

    References:
        Lim and Ye. "Geometric GAN." arXiv:1705.02894, 2017.
        Miyato et al. "Spectral Normalization for Generative Adversarial
        Networks." ICLR 2018.
    """

    def __init__(self):
        self._total_variation = TotalVariation()

    def _discriminator_loss(self, real, fake):
        return _functional.hinge_discriminator_loss(real, fake)

    def _generator_loss(self, fake, real):
        del real
        return _functional.hinge_generator_loss(fake)

    def _closed_form(self, p, q):
        return self._total_variation._closed_form(p, q)

    def _quadrature(self, p, q):
        return self._total_variation._quadrature(p, q)

    def _monte_carlo(self, p, q, num_samples, seed):
        return self._total_variation._monte_carlo(p, q, num_samples, seed)
