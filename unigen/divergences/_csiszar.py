"""The f-divergence (Csiszar) family as pure functions of tensors.

An f-divergence between a data distribution P (density p) and a model Q (density
q) is

    D_f(P || Q) = integral of q(x) f(p(x) / q(x)) dx = E_Q[f(u)],  u = p / q,

for a convex generator f with f(1) = 0. Its Fenchel conjugate
f*(t) = sup_u (u t - f(u)) gives the variational lower bound that f-GAN trains
(Nowozin et al. 2016, eq. 4 and 6): for any critic V with raw output v(x),

    D_f(P || Q) >= E_P[g_f(v(x))] - E_Q[f*(g_f(v(x)))],

where the output activation g_f maps the real line into the domain of f*. The
bound is tight at v*(x) = g_f^{-1}(f'(p(x) / q(x))), the optimal critic.

Each member is a `CsiszarFunction`: its functions take the log density ratio
l = log p - log q (so f(u) is computed as a function of l, in log space where that
avoids overflow and cancellation, in the spirit of TFP's `tfp.vi` Csiszar
functions) or the raw critic output v. `conjugate_of_activation(v)` is
f*(g_f(v)) simplified by hand, for example softplus(v) - log 2 rather than
-log(2 - exp(log 2 - softplus(-v))), so that the losses stay finite for any v.

The table (Nowozin et al. 2016, Tables 1, 2 and 6; u = p / q):

    name               f(u)                     g_f(v)              f*(t)
    kl                 u log u                  v                   exp(t - 1)
    reverse_kl         -log u                   -exp(-v)            -1 - log(-t)
    pearson            (u - 1)^2                v                   t^2 / 4 + t
    squared_hellinger  (sqrt(u) - 1)^2          1 - exp(-v)         t / (1 - t)
    total_variation    |u - 1| / 2              tanh(v) / 2         t
    js                 (u log u - (u + 1)       (log 2 -            -log(2 - e^(2t)) / 2
                        log((u + 1) / 2)) / 2    softplus(-v)) / 2

The Jensen-Shannon row is half of Nowozin et al.'s, so that D_f is exactly
JSD(P, Q) = KL(P || M) / 2 + KL(Q || M) / 2 with M = (P + Q) / 2, bounded by
log 2; their generator gives 2 JSD. Its optimal critic is v* = log(p / q), the
logit of Goodfellow et al.'s optimal discriminator D*(x) = p / (p + q).

References:
    Nowozin, Cseke and Tomioka. "f-GAN: Training Generative Neural Samplers using
    Variational Divergence Minimization." NeurIPS 2016.
"""

import math
from collections.abc import Callable
from typing import NamedTuple

import tensorflow as tf

__all__ = []

_LOG2 = math.log(2.0)
_INF = float("inf")


class CsiszarFunction(NamedTuple):
    """The functions that define one f-divergence (see the module docstring).

    Attributes:
        f_of_log_ratio: l -> f(exp(l)), the generator as a function of log p/q.
        activation: v -> g_f(v), the f-GAN output activation.
        conjugate: t -> f*(t), +inf outside the domain of f*.
        conjugate_of_activation: v -> f*(g_f(v)), simplified for stability.
        optimal_critic: l -> v* = g_f^{-1}(f'(exp(l))).
        f_over_u_of_log_ratio: l -> f(exp(l)) / exp(l), the same function
            written so that it stays finite for large l (where q << p).
        f_at_zero: f(0), the limit where p = 0 < q.
    """

    f_of_log_ratio: Callable
    activation: Callable
    conjugate: Callable
    conjugate_of_activation: Callable
    optimal_critic: Callable
    f_over_u_of_log_ratio: Callable
    f_at_zero: float


def _restricted(t, in_domain, fn, safe_value):
    """fn(t) where `in_domain`, +inf elsewhere, with no NaN in either branch."""
    safe = tf.where(in_domain, t, tf.cast(safe_value, t.dtype))
    return tf.where(in_domain, fn(safe), tf.cast(_INF, t.dtype))


def _identity(v):
    return v


KL = CsiszarFunction(
    f_of_log_ratio=lambda r: tf.math.multiply_no_nan(r, tf.exp(r)),
    activation=_identity,
    conjugate=lambda t: tf.exp(t - 1.0),
    conjugate_of_activation=lambda v: tf.exp(v - 1.0),
    optimal_critic=lambda r: 1.0 + r,
    f_over_u_of_log_ratio=_identity,
    f_at_zero=0.0,
)

REVERSE_KL = CsiszarFunction(
    f_of_log_ratio=lambda r: -r,
    activation=lambda v: -tf.exp(-v),
    conjugate=lambda t: _restricted(t, t < 0, lambda s: -1.0 - tf.math.log(-s), -1.0),
    conjugate_of_activation=lambda v: v - 1.0,
    optimal_critic=_identity,
    f_over_u_of_log_ratio=lambda r: tf.math.multiply_no_nan(-r, tf.exp(-r)),
    f_at_zero=_INF,
)

PEARSON = CsiszarFunction(
    f_of_log_ratio=lambda r: tf.square(tf.math.expm1(r)),
    activation=_identity,
    conjugate=lambda t: 0.25 * tf.square(t) + t,
    conjugate_of_activation=lambda v: 0.25 * tf.square(v) + v,
    optimal_critic=lambda r: 2.0 * tf.math.expm1(r),
    f_over_u_of_log_ratio=lambda r: 4.0 * tf.square(tf.sinh(0.5 * r)),
    f_at_zero=1.0,
)

SQUARED_HELLINGER = CsiszarFunction(
    f_of_log_ratio=lambda r: tf.square(tf.math.expm1(0.5 * r)),
    activation=lambda v: -tf.math.expm1(-v),
    conjugate=lambda t: _restricted(t, t < 1, lambda s: s / (1.0 - s), 0.0),
    conjugate_of_activation=tf.math.expm1,
    optimal_critic=lambda r: 0.5 * r,
    f_over_u_of_log_ratio=lambda r: tf.square(tf.math.expm1(-0.5 * r)),
    f_at_zero=1.0,
)


def _tv_optimal_critic(log_ratio):
    # f'(u) = sign(u - 1) / 2 is reached by tanh(v) / 2 only at v = +-inf.
    inf = tf.cast(_INF, log_ratio.dtype)
    zero = tf.zeros_like(log_ratio)
    return tf.where(log_ratio > 0, inf, tf.where(log_ratio < 0, -inf, zero))


TOTAL_VARIATION = CsiszarFunction(
    f_of_log_ratio=lambda r: 0.5 * tf.abs(tf.math.expm1(r)),
    activation=lambda v: 0.5 * tf.tanh(v),
    conjugate=lambda t: _restricted(t, tf.abs(t) <= 0.5, _identity, 0.0),
    conjugate_of_activation=lambda v: 0.5 * tf.tanh(v),
    optimal_critic=_tv_optimal_critic,
    f_over_u_of_log_ratio=lambda r: 0.5 * tf.abs(tf.math.expm1(-r)),
    f_at_zero=0.5,
)


def _js_f(log_ratio):
    # (u log u - (u + 1) log((u + 1) / 2)) / 2 with u = exp(l), rewritten as
    # (-u softplus(-l) - softplus(l) + (u + 1) log 2) / 2: no u log u cancellation.
    u = tf.exp(log_ratio)
    return 0.5 * (
        -tf.math.multiply_no_nan(tf.math.softplus(-log_ratio), u)
        - tf.math.softplus(log_ratio)
        + (u + 1.0) * _LOG2
    )


JENSEN_SHANNON = CsiszarFunction(
    f_of_log_ratio=_js_f,
    activation=lambda v: 0.5 * (_LOG2 - tf.math.softplus(-v)),
    conjugate=lambda t: _restricted(
        t, t < 0.5 * _LOG2, lambda s: -0.5 * tf.math.log(2.0 - tf.exp(2.0 * s)), 0.0
    ),
    conjugate_of_activation=lambda v: 0.5 * (tf.math.softplus(v) - _LOG2),
    optimal_critic=_identity,
    f_over_u_of_log_ratio=lambda r: _js_f(-r),  # f(u) / u = f(1 / u): symmetric
    f_at_zero=0.5 * _LOG2,
)


def f_of_ratio(fn, u):
    """f(u) for finite density ratios u >= 0 (f(0) is the limit `fn.f_at_zero`)."""
    positive = u > 0
    log_u = tf.math.log(tf.where(positive, u, tf.ones_like(u)))
    return tf.where(positive, fn.f_of_log_ratio(log_u), tf.cast(fn.f_at_zero, u.dtype))


def variational_bound_terms(fn, real_outputs, fake_outputs):
    """Per-example terms g_f(v_real) and f*(g_f(v_fake)) of the f-GAN bound."""
    return fn.activation(real_outputs), fn.conjugate_of_activation(fake_outputs)


def variational_bound(fn, real_outputs, fake_outputs):
    """E_P[g_f(v)] - E_Q[f*(g_f(v))], a lower bound on D_f(P || Q) for any critic."""
    real_terms, fake_terms = variational_bound_terms(fn, real_outputs, fake_outputs)
    return tf.reduce_mean(real_terms) - tf.reduce_mean(fake_terms)


def critic_loss(fn, real_outputs, fake_outputs):
    """The f-GAN critic loss: minus the variational bound."""
    return -variational_bound(fn, real_outputs, fake_outputs)


def generator_loss(fn, fake_outputs, mode):
    """The f-GAN generator loss on raw critic outputs for generated samples.

    "minimax" minimises the bound itself, -E_Q[f*(g_f(v))]; "non_saturating"
    maximises E_Q[g_f(v)] instead (Nowozin et al. 2016, Section 3.2), which has
    the same fixed point and stronger gradients early in training.
    """
    if mode == "minimax":
        return -tf.reduce_mean(fn.conjugate_of_activation(fake_outputs))
    return -tf.reduce_mean(fn.activation(fake_outputs))


def mixture_integrand(fn, log_ratio):
    """h(l) = 2 f(e^l) / (1 + e^l), so that D_f(P || Q) = E_M[h(log p/q)].

    M = (P + Q) / 2. Sampling from M (half the draws from each of P and Q) keeps h
    bounded for JS, TV and squared Hellinger and only logarithmic for KL and
    reverse KL, so the Monte Carlo average has a small variance. For l <= 0 it is
    computed as 2 f(e^l) sigmoid(-l), for l > 0 as 2 (f(e^l) / e^l) sigmoid(l),
    so it has no overflow and no NaN for any l, l = +-inf (p = 0 or q = 0)
    included; it is +inf only where the divergence itself is (for example KL
    where q = 0 < p).
    """
    zero = tf.zeros_like(log_ratio)
    below = tf.minimum(tf.where(tf.math.is_nan(log_ratio), zero, log_ratio), 0.0)
    above = tf.maximum(tf.where(tf.math.is_nan(log_ratio), zero, log_ratio), 0.0)
    h_below = 2.0 * fn.f_of_log_ratio(below) * tf.math.sigmoid(-below)
    h_above = 2.0 * fn.f_over_u_of_log_ratio(above) * tf.math.sigmoid(above)
    h = tf.where(log_ratio > 0, h_above, h_below)
    # NaN ratio: p = q = 0 there, a point of zero mixture density.
    return tf.where(tf.math.is_nan(log_ratio), zero, h)


def density_integrand(fn, log_p, log_q):
    """q(x) f(p(x) / q(x)) evaluated from log densities, 0 where p = q = 0."""
    log_m = tf.reduce_logsumexp(tf.stack([log_p, log_q]), axis=0) - _LOG2
    m = tf.exp(log_m)
    h = mixture_integrand(fn, log_p - log_q)
    return tf.where(m > 0, m * h, tf.zeros_like(h))
