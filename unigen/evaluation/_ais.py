"""Annealed importance sampling (AIS) of log p(x) for decoder-based models.

A decoder-based model defines p(x) = integral p(z) p(x | z) dz. AIS (Neal 2001)
moves S chains per example through the geometric path of unnormalised densities

    f_t(z) = p(z) p(x | z)^beta_t,   0 = beta_0 < beta_1 < ... < beta_T = 1,

from the prior (t = 0, normalised) to the unnormalised posterior (t = T, whose
normaliser is p(x)). Each chain starts at z_0 ~ p(z); at step t it adds

    log w += (beta_t - beta_{t-1}) log p(x | z_{t-1})

and then moves z with a Hamiltonian Monte Carlo (HMC) transition that leaves
f_t invariant. E[w] = p(x) exactly, so

    log p_hat(x) = log (1/S) sum_s w_s

is a stochastic lower bound: E[log p_hat(x)] <= log p(x) (Jensen), with a gap
that shrinks as the number of steps T grows and the chains mix. Run backwards
from exact posterior samples (beta from 1 to 0), the same recursion gives a
stochastic upper bound (bidirectional Monte Carlo, Grosse et al. 2015).

HMC here: ``leapfrog_steps`` leapfrog steps per transition. `ais_log_prob` adapts
per-chain step sizes towards an acceptance probability of 0.65 in a pilot run on
independent chains, then holds them fixed for the scored chains, which keeps
E[w] = p(x) exact (adapting a chain from its own path biases w slightly).

Observation models:

* VAE: its own decoder likelihood p(x | z) (the same as its IWAE bound uses).
* GAN (implicit, no p(x | z)): a Gaussian observation model around the
  generator output, p(x | z) = N(x; G(z), sigma^2 I) (Wu et al. 2017), with
  sigma chosen on validation data (`choose_observation_scale`). For data of L
  integer levels the Gaussian is discretised over the levels 0..L-1 exactly as
  unigen's Parzen window and VAE likelihoods are (bin k covers [k - 1/2,
  k + 1/2] in level units, the end bins take the tails), with its centre at the
  generator output in level units, (G(z) + 1) (L - 1) / 2, before rounding; so
  the estimate is a log probability mass in nats, comparable with every other
  model's. (The Parzen window replaces the mass by a density at the level when
  L > 64; AIS always uses the exact mass.) The model scored is therefore the
  GAN smoothed by that observation noise, not the GAN's own (singular)
  distribution.

Cost: ``num_steps * leapfrog_steps`` decoder forward and backward passes on
``num_chains`` copies of every example.

References:
    Neal. "Annealed importance sampling." Statistics and Computing 2001.
    Grosse, Ghahramani and Adams. "Sandwiching the marginal likelihood using
    bidirectional Monte Carlo." arXiv 2015.
    Wu, Burda, Salakhutdinov and Grosse. "On the quantitative analysis of
    decoder-based generative models." ICLR 2017.
"""

import math
import time
import weakref

import numpy as np
import tensorflow as tf

__all__ = ["ais_log_prob", "annealed_importance_sampling", "annealing_schedule",
           "choose_observation_scale"]

_TARGET_ACCEPT = 0.65
_ADAPT_RATE = 0.05
_LOG_EPS_RANGE = (math.log(1e-4), math.log(2.0))


def annealing_schedule(num_steps, schedule="sigmoid", sharpness=4.0):
    """The inverse temperatures beta_0 = 0 < ... < beta_T = 1, float64 ``[T + 1]``.

    "linear": beta_t = t / T. "sigmoid" (Grosse et al. 2015): beta_t is
    sigmoid(sharpness (2 t / T - 1)) rescaled to run from 0 to 1, which spends
    more steps near both ends, where the distributions change fastest.
    """
    if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)) or (
            num_steps < 1):
        raise ValueError(f"`num_steps` must be a positive int, got {num_steps!r}.")
    t = np.arange(num_steps + 1, dtype=np.float64) / num_steps
    if schedule == "linear":
        return t
    if schedule != "sigmoid":
        raise ValueError(f'`schedule` must be "sigmoid" or "linear", got {schedule!r}.')
    s = 1.0 / (1.0 + np.exp(-sharpness * (2.0 * t - 1.0)))
    return (s - s[0]) / (s[-1] - s[0])


def _energy_terms(log_prior_fn, log_likelihood_fn, z):
    """log p(z), log p(x | z) and their gradients with respect to z."""
    with tf.GradientTape(persistent=True) as tape:
        tape.watch(z)
        log_prior = log_prior_fn(z)
        log_lik = log_likelihood_fn(z)
    grad_prior = tape.gradient(log_prior, z)
    grad_lik = tape.gradient(log_lik, z)
    del tape
    return log_prior, log_lik, grad_prior, grad_lik


def _hmc_step(terms_fn, state, beta, log_eps, leapfrog_steps, seed):
    """One HMC transition leaving p(z) p(x | z)^beta invariant, per chain."""
    z, log_prior, log_lik, grad_prior, grad_lik = state
    eps = tf.exp(log_eps)[:, None]
    momentum = tf.random.stateless_normal(tf.shape(z), seed, dtype=z.dtype)
    p = momentum + 0.5 * eps * (grad_prior + beta * grad_lik)
    new = state
    for step in range(leapfrog_steps):
        z_new = new[0] + eps * p
        new = (z_new, *terms_fn(z_new))
        scale = 0.5 if step == leapfrog_steps - 1 else 1.0
        p = p + scale * eps * (new[3] + beta * new[4])
    h_old = -(log_prior + beta * log_lik) + 0.5 * tf.reduce_sum(tf.square(momentum), -1)
    h_new = -(new[1] + beta * new[2]) + 0.5 * tf.reduce_sum(tf.square(p), -1)
    log_accept = tf.minimum(0.0, h_old - h_new)
    log_accept = tf.where(tf.math.is_finite(log_accept), log_accept, -np.inf)
    u = tf.random.stateless_uniform(tf.shape(log_accept), tf.random.experimental.
                                    stateless_fold_in(seed, 1), dtype=z.dtype)
    accept = tf.math.log(u) < log_accept
    out = tuple(tf.where(accept[:, None] if a.shape.rank == 2 else accept, a, b)
                for a, b in zip(new, state, strict=True))
    log_eps = tf.clip_by_value(log_eps + _ADAPT_RATE * (tf.exp(log_accept) - _TARGET_ACCEPT),
                               *_LOG_EPS_RANGE)
    return out, log_eps, tf.exp(log_accept)


def _anneal(log_prior_fn, log_likelihood_fn, initial_state, betas, leapfrog_steps,
            log_step_sizes, adapt, seed):
    """The AIS recursion (graph code).

    ``log_step_sizes`` is ``[C]`` (initial values, ``adapt=True``) or
    ``[T - 1, C]`` (a fixed schedule). Returns (log weights float64 [C], mean
    acceptance, log step sizes used ``[T - 1, C]``).
    """
    betas = tf.cast(betas, initial_state.dtype)
    num_steps = tf.shape(betas)[0] - 1

    def terms_fn(z):
        return _energy_terms(log_prior_fn, log_likelihood_fn, z)

    state = (initial_state, *terms_fn(initial_state))
    log_eps = log_step_sizes if adapt else log_step_sizes[0]
    used = tf.TensorArray(initial_state.dtype, size=tf.maximum(num_steps - 1, 0),
                          element_shape=log_eps.shape)
    log_w = tf.zeros(tf.shape(initial_state)[:1], tf.float64)
    accept_sum = tf.zeros_like(log_eps)
    for t in tf.range(1, num_steps):
        log_w += tf.cast((betas[t] - betas[t - 1]) * state[2], tf.float64)
        if not adapt:
            log_eps = log_step_sizes[t - 1]
        used = used.write(t - 1, log_eps)
        step_seed = tf.random.experimental.stateless_fold_in(seed, t)
        state, adapted, accept = _hmc_step(terms_fn, state, betas[t], log_eps,
                                           leapfrog_steps, step_seed)
        if adapt:
            log_eps = adapted
        accept_sum += accept
    log_w += tf.cast((betas[num_steps] - betas[num_steps - 1]) * state[2], tf.float64)
    moves = tf.cast(tf.maximum(num_steps - 1, 1), accept_sum.dtype)
    return log_w, tf.reduce_mean(accept_sum) / moves, used.stack()


def annealed_importance_sampling(log_prior_fn, log_likelihood_fn, initial_state, *,
                                 num_steps=100, schedule="sigmoid", leapfrog_steps=5,
                                 step_size=0.1, adapt_step_size=False, seed=0,
                                 reverse=False):
    """AIS log importance weights from p(z) to p(z) p(x | z), one per chain.

    A pure function of two callables: use it for any latent-variable model.
    Chains are the rows of ``initial_state``; stack examples and chains along
    that axis and let the callables read which example a row belongs to.

    Forward (``reverse=False``): ``initial_state`` must be exact draws of the
    prior; log_mean_exp of the weights of one example's chains is a stochastic
    lower bound on log p(x). Reverse (``reverse=True``, beta from 1 to 0):
    ``initial_state`` must be exact posterior draws (available for simulated
    data); then -log_mean_exp of the weights is a stochastic upper bound.

    Step sizes: with ``adapt_step_size=True`` each chain adapts its own HMC
    step size towards 0.65 acceptance. The kernel then depends on the chain's
    own path, which biases the weights slightly: use it for a pilot run on
    independent draws, and pass the pilot's ``info["step_sizes"]`` (one row
    per transition) as ``step_size`` of the run that is scored, as
    `ais_log_prob` does; fixed step sizes keep E[w] = p(x) exact.

    Args:
        log_prior_fn: z ``[C, d]`` -> log p(z) ``[C]`` (normalised).
        log_likelihood_fn: z ``[C, d]`` -> log p(x | z) ``[C]``.
        initial_state: float32 ``[C, d]``.
        num_steps: T, the number of intermediate distributions.
        schedule: "sigmoid" or "linear" (`annealing_schedule`).
        leapfrog_steps: leapfrog steps per HMC transition.
        step_size: a float, or ``[T - 1, C]`` step sizes of every transition
            and chain (initial values when adapting: a float or ``[C]``).
        adapt_step_size: adapt each chain's step size as it runs.
        seed: int seed of the momenta and accept draws.
        reverse: run from the posterior to the prior.

    Returns:
        ``(log_weights float64 [C], info)``: NumPy log weights and a dict with
        the mean ``acceptance`` rate and the ``step_sizes`` used ``[T - 1, C]``.
    """
    betas = annealing_schedule(num_steps, schedule)
    if reverse:
        betas = betas[::-1].copy()
    z = tf.convert_to_tensor(initial_state, tf.float32)
    shape = (int(z.shape[0]),) if adapt_step_size else (max(num_steps - 1, 1),
                                                         int(z.shape[0]))
    try:
        steps = np.broadcast_to(np.asarray(step_size, np.float32), shape)
    except ValueError:
        raise ValueError(f"`step_size` must be a float or an array that broadcasts to "
                         f"{shape}, got shape {np.shape(step_size)}.") from None
    if not np.all(steps > 0):
        raise ValueError("`step_size` must be positive.")
    run = tf.function(lambda z, b, e, s: _anneal(log_prior_fn, log_likelihood_fn, z, b,
                                                 int(leapfrog_steps), e,
                                                 bool(adapt_step_size), s))
    log_w, accept, used = run(z, tf.constant(betas, tf.float32),
                              tf.constant(np.log(steps), tf.float32),
                              tf.constant([int(seed), 0], tf.int64))
    return log_w.numpy(), {"acceptance": float(accept), "step_sizes": np.exp(used.numpy())}


# ------------------------------------------------------------- unigen models
def _check_model(model):
    """The model's `unigen.LatentDecoder`; raises if it has none."""
    decoder = model.latent_decoder() if hasattr(model, "latent_decoder") else None
    if decoder is None:
        raise TypeError(
            f"AIS needs an unconditional decoder-based model (a `VAE`, "
            f"or a `GAN` with a Gaussian observation model: `model.latent_decoder()` is "
            f"not None), got {type(model).__name__}; exact models (flows, Gaussian) need "
            f"no estimate: use `model.log_prob`.")
    return decoder


def _decoder_functions(model):
    """(sample_prior(n, seed), log_prior(z), log_lik(x_flat, z, sigma)) of a model."""
    decoder = _check_model(model)

    def sample_prior(n, seed):
        normal = tf.random.stateless_normal([n, decoder.latent_dim], seed)
        uniform = tf.random.stateless_uniform([n, 1], tf.random.experimental.
                                              stateless_fold_in(seed, 1))
        return decoder.sample_prior(normal, uniform)

    return sample_prior, decoder.log_prior, decoder.log_likelihood


_COMPILED = weakref.WeakKeyDictionary()


def _compiled(model, chains, leapfrog_steps, step_size):
    """The graph function of `ais_log_prob` for a model, traced once and cached."""
    cache = _COMPILED.setdefault(model, {})
    key = (chains, leapfrog_steps, step_size)
    if key in cache:
        return cache[key]
    sample_prior, log_prior, log_lik = _decoder_functions(model)

    @tf.function(input_signature=[tf.TensorSpec([None, model.event_size], tf.float32),
                                  tf.TensorSpec([None], tf.float32),
                                  tf.TensorSpec([], tf.float32),
                                  tf.TensorSpec([2], tf.int64)])
    def run(x_flat, betas, sigma, seed_pair):
        n = tf.shape(x_flat)[0]
        # Pilot: one chain per example from independent prior draws adapts the
        # HMC step sizes; the scored chains then use them as a fixed schedule.
        pilot_seed, main_seed = (tf.random.experimental.stateless_fold_in(seed_pair, i)
                                 for i in (1, 2))
        log_eps = tf.fill([n], tf.cast(math.log(step_size), tf.float32))
        _, _, schedule = _anneal(log_prior, lambda z: log_lik(x_flat, z, sigma),
                                 sample_prior(n, pilot_seed), betas, leapfrog_steps,
                                 log_eps, True, tf.random.experimental.stateless_fold_in(
                                     pilot_seed, 7))
        schedule = tf.concat([schedule, log_eps[None]], 0)  # T - 1 >= 1 rows
        x_rep = tf.tile(x_flat, [chains, 1])  # row c * n + i: chain c of example i
        log_w, _, _ = _anneal(log_prior, lambda z: log_lik(x_rep, z, sigma),
                              sample_prior(chains * n, main_seed), betas, leapfrog_steps,
                              tf.tile(schedule, [1, chains]), False,
                              tf.random.experimental.stateless_fold_in(main_seed, 7))
        log_w = tf.reshape(log_w, [chains, n])
        return tf.reduce_logsumexp(log_w, 0) - math.log(chains)

    cache[key] = run
    return run


def ais_log_prob(model, x, *, num_steps=100, num_chains=4, leapfrog_steps=5,
                 schedule="sigmoid", observation_scale=None, seed=0, batch_size=128,
                 step_size=0.1, verbose=0):
    """AIS estimate of log p(x) per example of a VAE or GAN, in nats.

    log (1/S) sum_s w_s over ``num_chains`` = S independent chains per example
    (module docstring): a stochastic lower bound, E[estimate] <= log p(x), so
    the NLL it gives is an upper bound in expectation; it tightens with
    ``num_steps``. For a GAN, p is the generator smoothed by the Gaussian
    observation model of standard deviation ``observation_scale``.

    Example::

        log_p = unigen.evaluation.ais_log_prob(vae, test_images, num_steps=200)

    Args:
        model: an unconditional `unigen.models.VAE` or `unigen.models.GAN`.
        x: examples ``[n, *event_shape]`` in the data space (integer levels for
            discrete data).
        num_steps: T intermediate distributions.
        num_chains: S chains per example.
        leapfrog_steps: leapfrog steps per HMC transition.
        schedule: "sigmoid" or "linear".
        observation_scale: sigma of a GAN's Gaussian observation model (level
            units for discrete data); required for GANs, unused for VAEs.
        seed: int seed of the prior draws and the HMC noise.
        batch_size: examples per graph call (each runs ``num_chains`` copies).
        step_size: initial HMC step size.
        verbose: 1 prints one line when done (examples, seconds taken); 0 nothing.

    Returns:
        float64 array ``[n]``.

    Cost: about ``num_steps * leapfrog_steps * num_chains * n`` decoder forward
    and backward passes. On digits (447 test images, small MLP decoders) the
    defaults take tens of seconds on 2 CPU cores.
    """
    for name, value in (("num_chains", num_chains), ("leapfrog_steps", leapfrog_steps),
                        ("batch_size", batch_size)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    model._ensure_built()
    if _check_model(model).needs_observation_scale and (
            observation_scale is None or not float(observation_scale) > 0):
        raise ValueError("A GAN has no p(x | z): pass a positive `observation_scale` (the "
                         "sigma of the Gaussian observation model, in level units for "
                         "discrete data) or choose one with `choose_observation_scale`; "
                         f"got {observation_scale!r}.")
    run = _compiled(model, int(num_chains), int(leapfrog_steps), float(step_size))
    betas = tf.constant(annealing_schedule(num_steps, schedule), tf.float32)
    sigma = tf.constant(float(observation_scale or 1.0), tf.float32)
    x = np.asarray(x, np.float32).reshape(len(x), -1)
    from unigen._checks import plural
    from unigen.evaluation._likelihood import _batched, seconds_text

    starts = iter(range(0, len(x), int(batch_size)))

    def one(batch):  # the batch's seed pair is (seed, its first index), as before
        return run(tf.constant(batch), betas, sigma,
                   tf.constant([int(seed), next(starts)], tf.int64)).numpy()

    start = time.perf_counter()
    log_p = _batched(one, x, int(batch_size))
    if verbose:
        print(f"AIS ({plural(num_steps, 'step')} × {plural(int(num_chains), 'chain')}) on "
              f"{plural(len(x), 'example')}: {seconds_text(time.perf_counter() - start)}",
              flush=True)
    return log_p


def choose_observation_scale(model, validation, *, candidates=None, num_steps=20,
                             num_chains=2, max_validation=64, seed=0):
    """The sigma of a GAN's Gaussian observation model that maximises validation AIS.

    Runs a short AIS (``num_steps``, ``num_chains``) on at most
    ``max_validation`` validation examples for each candidate and returns the
    best. Default candidates: 7 values geometrically spaced from 0.03 to 1
    times the mean per-dimension std of the validation data (at least 0.2
    levels for discrete data). A short AIS is looser for small sigma (a
    sharper posterior), so the choice leans to larger sigma than a long run's.

    Returns:
        ``(sigma, mean validation log p estimate)``.
    """
    validation = np.asarray(validation, np.float32)
    if len(validation) > max_validation:
        pick = np.random.default_rng(seed).permutation(len(validation))[:max_validation]
        validation = validation[pick]
    if candidates is None:
        spread = float(np.mean(np.std(validation.reshape(len(validation), -1), 0))) or 1.0
        candidates = np.geomspace(0.03, 1.0, 7) * spread
        if model.num_levels is not None:
            candidates = np.maximum(candidates, 0.2)
    scores = [float(np.mean(ais_log_prob(model, validation, num_steps=num_steps,
                                         num_chains=num_chains, observation_scale=float(c),
                                         seed=seed)))
              for c in candidates]
    best = int(np.argmax(scores))
    return float(candidates[best]), scores[best]
