"""The Gaussian maths of a diffusion model: schedules, q's marginals and posteriors, KLs.

Pure functions of arrays and tensors; `DDPM` binds them to a schedule. Time runs
over t = 0, 1, ..., T, with x_0 the data (scaled to [-1, 1] for discrete levels).
The forward (noising) process is the Markov chain::

    q(x_t | x_{t-1}) = N(x_t; sqrt(1 - beta_t) x_{t-1}, beta_t I),   t = 1..T,

whose t-step marginal is (alpha_t = 1 - beta_t, alpha_bar_t = prod_{s<=t} alpha_s)::

    q(x_t | x_0) = N(x_t; sqrt(alpha_bar_t) x_0, (1 - alpha_bar_t) I),

and whose reverse-time posterior, by Bayes' rule on these Gaussians, is::

    q(x_{t-1} | x_t, x_0) = N(x_{t-1}; mu_tilde_t, beta_tilde_t I),
    mu_tilde_t   = sqrt(alpha_bar_{t-1}) beta_t / (1 - alpha_bar_t) x_0
                   + sqrt(alpha_t) (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) x_t,
    beta_tilde_t = (1 - alpha_bar_{t-1}) / (1 - alpha_bar_t) beta_t.

Arrays returned by `make_schedule` have T + 1 entries, index t (entry 0 is t = 0:
alpha_bar_0 = 1, beta_0 = 0), computed in float64.
"""

import math

import numpy as np
import tensorflow as tf

__all__ = []

SCHEDULES = ("linear", "cosine")


def _alpha_bar_cosine(num_timesteps, offset):
    """Nichol & Dhariwal's alpha_bar_t = f(t) / f(0), f(t) = cos^2((t/T + s)/(1 + s) pi/2)."""
    steps = np.arange(num_timesteps + 1, dtype=np.float64) / num_timesteps
    f = np.cos((steps + offset) / (1.0 + offset) * math.pi / 2.0) ** 2
    return f / f[0]


def make_schedule(name, num_timesteps, cosine_offset=0.008):
    """The variance schedule and the constants derived from it, as float64 arrays.

    Args:
        name: "linear" (Ho et al.: beta from 1e-4 to 0.02 over T = 1000 steps,
            both ends scaled by 1000 / T so that other T keep the same end
            points of alpha_bar) or "cosine" (Nichol & Dhariwal: alpha_bar_t =
            f(t) / f(0) with f(t) = cos^2((t/T + s) / (1 + s) pi/2), betas
            clipped at 0.999).
        num_timesteps: T.
        cosine_offset: s of the cosine schedule; it sets the noise of the
            first step (std about pi/2 sqrt(2 s / T) for small s / T).

    Returns:
        dict of arrays of length T + 1 indexed by t: ``beta``, ``alpha``,
        ``alpha_bar``, ``alpha_bar_prev`` (alpha_bar_{t-1}; 1 at t = 0),
        ``posterior_variance`` (beta_tilde_t; 0 at t <= 1),
        ``posterior_log_variance`` (log beta_tilde_t with t = 1 given t = 2's
        value, Ho et al.'s "clipped" log variance, so it is finite),
        ``posterior_coef_x0`` and ``posterior_coef_xt`` (mu_tilde's weights).
    """
    if name not in SCHEDULES:
        raise ValueError(f"`schedule` must be one of {list(SCHEDULES)}, got {name!r}.")
    if num_timesteps < 2:
        raise ValueError(f"`num_timesteps` must be at least 2, got {num_timesteps!r}.")
    if name == "linear":
        scale = 1000.0 / num_timesteps
        beta = np.linspace(scale * 1e-4, scale * 0.02, num_timesteps, dtype=np.float64)
        if beta[-1] >= 1.0:
            raise ValueError(f"The linear schedule needs num_timesteps >= 21 (its last beta "
                             f"is 20 / T), got {num_timesteps}; use schedule='cosine'.")
    else:
        if not cosine_offset > 0:
            raise ValueError(f"`cosine_offset` must be positive, got {cosine_offset!r}.")
        alpha_bar = _alpha_bar_cosine(num_timesteps, float(cosine_offset))
        beta = np.minimum(1.0 - alpha_bar[1:] / alpha_bar[:-1], 0.999)
    return schedule_from_betas(beta)


def schedule_from_betas(beta):
    """The constants of `make_schedule` for betas beta_1..beta_T (float64 array)."""
    beta = np.concatenate([[0.0], np.asarray(beta, np.float64)])
    alpha = 1.0 - beta
    alpha_bar = np.cumprod(alpha)
    alpha_bar_prev = np.concatenate([[1.0], alpha_bar[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        denominator = 1.0 - alpha_bar
        variance = np.where(denominator > 0, beta * (1.0 - alpha_bar_prev) / denominator, 0.0)
        coef_x0 = np.where(denominator > 0, np.sqrt(alpha_bar_prev) * beta / denominator, 1.0)
        coef_xt = np.where(denominator > 0,
                           np.sqrt(alpha) * (1.0 - alpha_bar_prev) / denominator, 0.0)
    clipped = variance.copy()
    # beta_tilde_1 = 0: t = 1 borrows t = 2's (Ho et al.); a one-step chain its beta.
    clipped[:2] = variance[2] if len(variance) > 2 else beta[-1]
    log_variance = np.log(clipped)
    return {"beta": beta, "alpha": alpha, "alpha_bar": alpha_bar,
            "alpha_bar_prev": alpha_bar_prev, "posterior_variance": variance,
            "posterior_log_variance": log_variance, "posterior_coef_x0": coef_x0,
            "posterior_coef_xt": coef_xt}


def respace(alpha_bar, timesteps):
    """Betas of the chain that visits only ``timesteps`` (Nichol & Dhariwal, appendix).

    Keeping alpha_bar at t_1 < ... < t_S, the strided chain has
    beta'_i = 1 - alpha_bar_{t_i} / alpha_bar_{t_{i-1}} (t_0 = 0): the same
    marginals q(x_{t_i} | x_0) with S steps instead of T.
    """
    kept = np.asarray(alpha_bar, np.float64)[np.asarray(timesteps)]
    previous = np.concatenate([[1.0], kept[:-1]])
    return 1.0 - kept / previous


def strided_timesteps(num_timesteps, num_steps):
    """``num_steps`` timesteps in 1..T evenly spaced, always including 1 and T."""
    if not 1 <= num_steps <= num_timesteps:
        raise ValueError(f"`num_steps` must be an int in 1..{num_timesteps} (the model's "
                         f"num_timesteps), got {num_steps!r}.")
    if num_steps == 1:
        return np.array([num_timesteps], np.int64)
    steps = np.round(np.linspace(1, num_timesteps, num_steps)).astype(np.int64)
    return np.unique(steps)


# ------------------------------------------------------------- Gaussians
def gather(values, t, ndim):
    """values[t] as a float32 tensor shaped [batch, 1, ..., 1] for x of rank ``ndim``."""
    out = tf.gather(tf.constant(values, tf.float32), t)
    return tf.reshape(out, tf.concat([tf.shape(t), tf.ones([ndim - 1], tf.int32)], 0))


def q_sample(schedule, x0, t, noise):
    """x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise, a draw of q(x_t | x_0)."""
    alpha_bar = gather(schedule["alpha_bar"], t, len(x0.shape))
    return tf.sqrt(alpha_bar) * x0 + tf.sqrt(1.0 - alpha_bar) * noise


def predict_x0(schedule, xt, t, eps):
    """x_0 = (x_t - sqrt(1 - alpha_bar_t) eps) / sqrt(alpha_bar_t), q_sample solved for x_0."""
    alpha_bar = gather(schedule["alpha_bar"], t, len(xt.shape))
    return (xt - tf.sqrt(1.0 - alpha_bar) * eps) / tf.sqrt(alpha_bar)


def posterior_mean_variance(schedule, x0, xt, t):
    """(mu_tilde_t, beta_tilde_t, clipped log beta_tilde_t) of q(x_{t-1} | x_t, x_0)."""
    ndim = len(x0.shape)
    mean = (gather(schedule["posterior_coef_x0"], t, ndim) * x0
            + gather(schedule["posterior_coef_xt"], t, ndim) * xt)
    return (mean, gather(schedule["posterior_variance"], t, ndim),
            gather(schedule["posterior_log_variance"], t, ndim))


def normal_kl(mean1, log_var1, mean2, log_var2):
    """KL(N(mean1, exp(log_var1)) || N(mean2, exp(log_var2))) elementwise, in nats.

    0.5 (log_var2 - log_var1 + exp(log_var1 - log_var2)
         + (mean1 - mean2)^2 exp(-log_var2) - 1)
    """
    return 0.5 * (log_var2 - log_var1 + tf.exp(log_var1 - log_var2)
                  + tf.square(mean1 - mean2) * tf.exp(-log_var2) - 1.0)


def gaussian_log_density(x, mean, log_var):
    """log N(x; mean, exp(log_var)) elementwise."""
    return -0.5 * (math.log(2.0 * math.pi) + log_var + tf.square(x - mean) * tf.exp(-log_var))
