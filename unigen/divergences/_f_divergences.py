"""The f-divergences: KL, reverse KL, Pearson chi^2, squared Hellinger, TV, JS.

Each class binds one row of the Csiszar table in `_csiszar` (its generator f,
output activation g_f and conjugate f*) to the `Divergence` interface: an f-GAN
critic loss, a generator loss, `between(p, q)` and the variational bound.
Convention: D_f(P || Q) = E_Q[f(p / q)] with P the data, Q the model.

References:
    Nowozin, Cseke and Tomioka. "f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization." NeurIPS 2016.
    Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
"""

import tensorflow as tf

from unigen.divergences import _closed_forms, _csiszar, _functional, _numerics
from unigen.divergences._base import Divergence, _register

__all__ = [
    "FDivergence",
    "JensenShannon",
    "KLDivergence",
    "PearsonChiSquared",
    "ReverseKLDivergence",
    "SquaredHellinger",
    "TotalVariation",
]


class FDivergence(Divergence):
    """An f-divergence D_f(P || Q) = E_Q[f(p / q)], trained as in f-GAN.

    The critic V outputs a raw real number v(x); the output activation g_f maps it
    into the domain of the conjugate f*, and

        F(V) = E_P[g_f(v(x))] - E_Q[f*(g_f(v(x)))] <= D_f(P || Q)

    for every critic, with equality at v*(x) = g_f^{-1}(f'(p(x) / q(x)))
    (`optimal_critic`). The critic maximises F (`discriminator_loss` is -F); the
    generator minimises it ("minimax", loss -E_Q[f*(g_f(v))]) or, with the same
    fixed point and stronger early gradients, maximises E_Q[g_f(v)]
    ("non_saturating", loss -E_Q[g_f(v)], Nowozin et al. 2016, Section 3.2).

    Args:
        generator_loss: "non_saturating" (default) or "minimax".

    References:
        Nowozin, Cseke and Tomioka. "f-GAN: Training Generative Neural Samplers
        using Variational Divergence Minimization." NeurIPS 2016.
    """

    csiszar = None  # a `_csiszar.CsiszarFunction`, set by each subclass
    generator_losses = ("minimax", "non_saturating")

    def __init__(self, generator_loss="non_saturating"):
        if generator_loss not in self.generator_losses:
            raise ValueError(
                f"`generator_loss` must be one of "
                f"{', '.join(map(repr, self.generator_losses))} for "
                f"{type(self).__name__}, got {generator_loss!r}."
            )
        self.generator_loss_mode = generator_loss

    def get_config(self):
        return {**super().get_config(), "generator_loss": self.generator_loss_mode}

    # ------------------------------------------------------ the f-GAN pieces
    def f(self, u):
        """The generator function f(u) at finite density ratios u = p / q >= 0."""
        return _csiszar.f_of_ratio(self.csiszar, _numerics.as_float(u, "u"))

    def activation(self, v):
        """The output activation g_f(v), mapping raw critic outputs into dom f*."""
        return self.csiszar.activation(_numerics.as_float(v, "v"))

    def conjugate(self, t):
        """The Fenchel conjugate f*(t) = sup_u (u t - f(u)); +inf outside dom f*."""
        return self.csiszar.conjugate(_numerics.as_float(t, "t"))

    def optimal_critic(self, log_ratio):
        """The raw output v* = g_f^{-1}(f'(p / q)) of the optimal critic.

        Args:
            log_ratio: log p(x) - log q(x) at the points of interest.
        """
        return self.csiszar.optimal_critic(_numerics.as_float(log_ratio, "log_ratio"))

    def variational_bound_terms(self, real_outputs, fake_outputs):
        """Per-example terms (g_f(v) on data, f*(g_f(v)) on samples).

        `variational_bound` is the difference of their means; keeping the terms
        lets a caller attach a standard error to the bound.
        """
        real = _numerics.as_float(real_outputs, "real_outputs")
        fake = _numerics.as_float(fake_outputs, "fake_outputs")
        return _csiszar.variational_bound_terms(self.csiszar, real, fake)

    def variational_bound(self, real_outputs, fake_outputs):
        """E_P[g_f(v)] - E_Q[f*(g_f(v))], a lower bound on D_f(P || Q).

        Args:
            real_outputs: raw critic outputs on data samples (x ~ P).
            fake_outputs: raw critic outputs on model samples (x ~ Q).

        Returns:
            The scalar bound; it equals D_f(P || Q) in expectation at the optimal
            critic and is smaller for any other critic.
        """
        real_terms, fake_terms = self.variational_bound_terms(
            real_outputs, fake_outputs
        )
        return tf.reduce_mean(real_terms) - tf.reduce_mean(fake_terms)

    # ------------------------------------------------------------------ hooks
    def _discriminator_loss(self, real, fake):
        return _csiszar.critic_loss(self.csiszar, real, fake)

    def _generator_loss(self, fake, real):
        del real
        return _csiszar.generator_loss(self.csiszar, fake, self.generator_loss_mode)

    def _quadrature(self, p, q):
        def integrand(x):
            log_p, log_q = _numerics.log_probs(p, q, x)
            return _csiszar.density_integrand(self.csiszar, log_p, log_q)

        return _numerics.integrate(integrand, p, q)

    def _monte_carlo(self, p, q, num_samples, seed):
        # D_f = E_M[h(log p/q)] with M = (P + Q) / 2, sampled half from each.
        x_p, x_q = _numerics.sample_pair(p, q, num_samples, seed)
        means, errors = [], []
        for x in (x_p, x_q):
            log_p, log_q = _numerics.log_probs(p, q, x)
            h = _csiszar.mixture_integrand(self.csiszar, log_p - log_q)
            mean, stderr = _numerics.mean_and_stderr(h)
            means.append(mean)
            errors.append(stderr)
        value = 0.5 * (means[0] + means[1])
        stderr = 0.5 * tf.sqrt(tf.square(errors[0]) + tf.square(errors[1]))
        return tf.cast(value, p.dtype), tf.cast(stderr, p.dtype)


@_register("kl", "kl_divergence", "forward_kl", "kullback_leibler")
class KLDivergence(FDivergence):
    """Kullback-Leibler divergence KL(p || q) = E_p[log p(x) - log q(x)].

    Maximum likelihood minimises KL(p_data || q_model), which punishes a model
    that misses data mass (mass covering). A VAE's regulariser is
    KL(posterior || prior) = `get("kl").between(posterior, prior)`.

    f(u) = u log u, g_f(v) = v, f*(t) = exp(t - 1), optimal critic
    v* = 1 + log(p / q). `between` is exact for every pair TFP has a KL for
    (`tfp.distributions.kl_divergence`).

    References:
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Table 6.
    """

    csiszar = _csiszar.KL
    bounds_likelihood = True

    def _closed_form(self, p, q):
        return _closed_forms.kl(p, q)


@_register("reverse_kl", "kl_reverse", "backward_kl")
class ReverseKLDivergence(FDivergence):
    """Reverse Kullback-Leibler divergence KL(q || p) = E_q[log q(x) - log p(x)].

    Minimising KL(q_model || p_data) punishes model mass where the data has none
    (mode seeking). The GAN generator loss -E[logit D(G(z))] ("logit") equals it
    at the optimal discriminator.

    f(u) = -log u, g_f(v) = -exp(-v), f*(t) = -1 - log(-t) for t < 0, optimal
    critic v* = log(p / q).

    References:
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Table 6.
    """

    csiszar = _csiszar.REVERSE_KL

    def _closed_form(self, p, q):
        return _closed_forms.kl(q, p)


@_register("pearson", "pearson_chi2", "chi2", "chi_squared")
class PearsonChiSquared(FDivergence):
    """Pearson chi^2 divergence: integral of (p(x) - q(x))^2 / q(x) dx.

    f(u) = (u - 1)^2, g_f(v) = v, f*(t) = t^2 / 4 + t, optimal critic
    v* = 2 (p / q - 1). Between Normals it is finite only when
    2 sigma_q^2 > sigma_p^2, and then in closed form.

    References:
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Table 6.
    """

    csiszar = _csiszar.PEARSON

    def _closed_form(self, p, q):
        return _closed_forms.for_pair(p, q, _closed_forms.pearson_normal)


@_register("squared_hellinger", "hellinger")
class SquaredHellinger(FDivergence):
    """Squared Hellinger distance: integral of (sqrt(p(x)) - sqrt(q(x)))^2 dx.

    Without the factor 1/2 some texts use, as in Nowozin et al., so it lies in
    [0, 2] and equals 2 (1 - BC) with BC the Bhattacharyya coefficient
    (closed form between Normals and between multivariate Normals).

    f(u) = (sqrt(u) - 1)^2, g_f(v) = 1 - exp(-v), f*(t) = t / (1 - t) for t < 1,
    optimal critic v* = log(p / q) / 2.

    References:
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Table 6.
    """

    csiszar = _csiszar.SQUARED_HELLINGER

    def _closed_form(self, p, q):
        return _closed_forms.for_pair(
            p,
            q,
            _closed_forms.squared_hellinger_normal,
            _closed_forms.squared_hellinger_mvn,
        )


@_register("total_variation", "tv")
class TotalVariation(FDivergence):
    """Total variation distance TV = sup_A |P(A) - Q(A)| = integral |p - q| / 2.

    It lies in [0, 1]. f(u) = |u - 1| / 2, g_f(v) = tanh(v) / 2, f*(t) = t on
    [-1/2, 1/2]. The optimal critic is v* = +inf where p > q and -inf where
    p < q, so a trained critic only approaches the bound. Exact between Normals.

    References:
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Table 6.
    """

    csiszar = _csiszar.TOTAL_VARIATION

    def _closed_form(self, p, q):
        return _closed_forms.for_pair(p, q, _closed_forms.total_variation_normal)


@_register("js", "jensen_shannon", "jsd", "gan")
class JensenShannon(FDivergence):
    """Jensen-Shannon divergence, and the classic GAN that minimises it.

    JSD(p, q) = KL(p || m) / 2 + KL(q || m) / 2 with m = (p + q) / 2, in nats:
    symmetric, 0 if and only if p = q, at most log 2.

    The GAN of Goodfellow et al. trains a discriminator D(x) = sigmoid(v(x)) to
    maximise V(D, G) = E_p[log D(x)] + E_q[log(1 - D(x))], that is to minimise
    the binary cross-entropy `discriminator_loss` = -V. For a fixed generator the
    best discriminator is D*(x) = p(x) / (p(x) + q(x)) (Proposition 1), where

        V(D*, G) = -log 4 + 2 JSD(p, q)     (Theorem 1),

    minimal (-log 4) exactly when q = p. The f-GAN view says the same: with
    f(u) = (u log u - (u + 1) log((u + 1) / 2)) / 2 the variational bound is
    (V(D, G) + log 4) / 2 <= JSD(p, q), tight at v* = log(p / q) = logit D*.

    Generator losses on v = logit D(G(z)):

    - "minimax": E[log(1 - D)], the zero-sum game; it saturates (gradient -D
      with respect to v) when the discriminator rejects the samples.
    - "non_saturating" (default): -E[log D]; gradient -(1 - D), strong early.
    - "logit": -E[logit D] = -E[v]; at D* it is the reverse KL(q || p).

    Args:
        generator_loss: "non_saturating", "minimax" or "logit".

    References:
        Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
        Goodfellow. "NIPS 2016 Tutorial: Generative Adversarial Networks." 2016.
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016, Tables 2 and 6.
    """

    csiszar = _csiszar.JENSEN_SHANNON
    generator_losses = _functional.GAN_GENERATOR_LOSSES

    def gan_value(self, real_outputs, fake_outputs):
        """V(D, G) = E_p[log D] + E_q[log(1 - D)] on logits; = 2 JSD - log 4 at D*."""
        return _functional.gan_value(real_outputs, fake_outputs)

    def _discriminator_loss(self, real, fake):
        return _functional.gan_discriminator_loss(real, fake)

    def _generator_loss(self, fake, real):
        del real
        return _functional.gan_generator_loss(fake, self.generator_loss_mode)
