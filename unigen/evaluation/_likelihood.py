"""Test log-likelihood of any model, labelled with how it was obtained.

* exact: the Gaussian baseline (a discretised Gaussian mass), flows on
  continuous data, and the memoriser (uniform over its training examples:
  probability 0, an infinite NLL, for any example it has not seen);
* dequantization bound: flows on discrete levels (log p(x + u), one uniform draw);
* variational dequantization bound: flows with ``dequantization="variational"``,
  the importance-weighted bound with K draws u_k ~ q(u | x),
  log (1/K) sum_k p(x + u_k) / q(u_k | x) (``log_prob(x, num_samples=K)``);
* importance-weighted bound: VAEs, ``log_prob(x, num_samples=K)`` (Burda et al.);
* annealed importance sampling (AIS): decoder-based models, a VAE with its own
  decoder and a GAN with a Gaussian observation model (Wu et al. 2017);
* evidence lower bound (ELBO): diffusion models (the sum over all T steps of the
  hierarchical-VAE bound, `unigen.models.DDPM`);
* Parzen window: implicit models (GANs), a kernel estimate on model samples with
  the bandwidth chosen on validation data (Goodfellow et al. 2014).

A model can have several: `estimators` lists them, the first is the one
reported as "nll" (VAE: importance-weighted bound, then AIS; GAN: AIS, then
Parzen; memoriser: exact, then Parzen on its training images).
"""

import math
import time

import numpy as np

from unigen._checks import plural
from unigen.evaluation._metrics import Score
from unigen.evaluation._parzen import choose_bandwidth, parzen_log_prob

__all__ = ["BIASES", "estimators", "importance_estimate", "likelihood"]

BIASES = {
    "exact": "none: exact; only the sampling error over test examples",
    "dequantization": "lower bound on log P(x) (uniform dequantization, one draw): "
                      "underestimates the likelihood by the dequantization gap",
    "variational": "lower bound on log P(x) (variational dequantization, importance-weighted "
                   "over K draws of q(u | x)): tightens as K grows; underestimates the "
                   "likelihood",
    "importance": "lower bound in expectation (Burda et al. 2016), tightening as K grows: "
                  "underestimates the likelihood",
    "ais": "stochastic lower bound on log p(x) (Neal 2001; Wu et al. 2017): E[estimate] "
           "<= log p(x), so −log p is an upper bound in expectation; tightens with more "
           "annealing steps",
    "parzen": "Parzen estimates are unreliable in high dimension (Theis et al. 2016): "
              "they depend on the number of samples and the bandwidth, usually lie far "
              "below the true likelihood, and can rank models wrongly",
    "mixture": "exact given its base model (inherits the base model's bias)",
    "model": "as documented by the model's log_prob",
    "elbo": "lower bound on log P(x) (evidence lower bound of a latent-variable model, "
            "e.g. a diffusion model's, estimated with one draw per term): "
            "underestimates the likelihood",
}
_AIS_GAN = ("; of the GAN smoothed by Gaussian observation noise N(G(z), sigma^2), not of "
            "the GAN itself (which has no density): the value depends on sigma")
_SHORT = {"exact": "exact", "dequantization": "dequant.", "variational": "var. dequant.",
          "importance": "IWAE",
          "ais": "AIS", "parzen": "Parzen", "mixture": "exact", "model": "log_prob",
          "elbo": "ELBO"}


def _needs_observation_scale(model):
    decoder = getattr(model, "latent_decoder", lambda: None)()
    return decoder is not None and decoder.needs_observation_scale


def _kind(model):
    """The estimator reported for ``model`` (the first of `estimators`)."""
    return estimators(model)[0]


def estimators(model, ais=True):
    """The likelihood estimators that apply to ``model``, the reported one first.

    Each unigen model says which it offers (``model.likelihood_estimators()``,
    part of the `unigen.GenerativeModel` contract); an object with only a
    ``log_prob`` gets "model", one without gets "parzen".

    Args:
        model: a unigen model, a reference model, or any object with
            ``log_prob`` and/or ``sample``.
        ais: include annealed importance sampling.

    Returns:
        list of kinds among "exact", "dequantization", "variational",
        "importance", "ais", "parzen", "mixture", "model" (keys of `BIASES`).
    """
    if hasattr(model, "likelihood_estimators"):
        kinds = list(model.likelihood_estimators())
    else:
        kinds = ["model"] if getattr(model, "has_log_prob", True) else ["parzen"]
    unknown = [k for k in kinds if k not in BIASES]
    if unknown:
        raise ValueError(f"{type(model).__name__}.likelihood_estimators() names unknown "
                         f"estimators {unknown}; known: {sorted(BIASES)}.")
    if not ais:
        kinds = [k for k in kinds if k != "ais"] or ["parzen"]
    return kinds


def seconds_text(seconds):
    """``0.04 s``, ``3.1 s``, ``75 s``: a duration in the progress lines of scoring."""
    return f"{seconds:.2f} s" if seconds < 1 else (
        f"{seconds:.1f} s" if seconds < 10 else f"{seconds:.0f} s")


def summary(score, seconds, name="nll"):
    """One progress line of a likelihood `Score`: what was computed, the value, the time.

    For example ``nll_ais (AIS, 10 steps × 2 chains) on 32 examples: 121.21 nats,
    3.1 s``; `unigen.evaluate` and `unigen.compare` print it instead of a progress bar.
    """
    extra = score.extra
    what = extra.get("short", extra.get("kind", "?"))
    if extra.get("kind") == "ais":
        what += (f", {plural(extra['ais_steps'], 'step')} × "
                 f"{plural(extra['ais_chains'], 'chain')}")
    return (f"{name} ({what}) on {plural(extra.get('num_examples', 0), 'example')}: "
            f"{score.value:.2f} nats, {seconds_text(seconds)}")


def _batched(fn, x, batch_size):
    out = [np.asarray(fn(x[s:s + batch_size]), np.float64).reshape(-1)
           for s in range(0, len(x), batch_size)]
    return np.concatenate(out)


def importance_estimate(log_weights):
    """log p-hat = log mean_k w_k per example and its Monte Carlo standard error.

    With K i.i.d. weights of mean p and variance v, p-hat has standard error
    sqrt(v / K), and by the delta method log p-hat has standard error
    sqrt(v / K) / p, estimated by ``std(w) / (sqrt(K) mean(w))`` (computed
    with the weights scaled by their maximum). Large values (or a small
    effective sample size (sum w)^2 / sum w^2) mean K is too small.

    Args:
        log_weights: ``[n, K]`` log importance weights.

    Returns:
        ``(log_p, stderr, effective_sample_size)``, float64 arrays ``[n]``.
    """
    log_w = np.asarray(log_weights, np.float64)
    if log_w.ndim != 2 or log_w.shape[1] < 1:
        raise ValueError(f"`log_weights` must have shape [n, K], got {list(log_w.shape)}.")
    k = log_w.shape[1]
    top = np.max(log_w, axis=1, keepdims=True)
    w = np.exp(log_w - top)
    mean = w.mean(axis=1)
    log_p = np.log(mean) + top[:, 0]
    std = w.std(axis=1, ddof=1) if k > 1 else np.full(len(w), np.nan)
    ess = w.sum(axis=1) ** 2 / np.sum(w * w, axis=1)
    return log_p, std / (math.sqrt(k) * mean), ess


def _importance(model, x, settings):
    """(log p, extra) of an importance-sampled bound, with its Monte Carlo error
    where the model gives its weights (``log_importance_weights``)."""
    k, seed = settings["importance_samples"], settings["seed"]
    rows = max(1, min(settings["batch_size"], 65_536 // k))
    if not hasattr(model, "log_importance_weights"):
        return _batched(lambda b: model.log_prob(b, num_samples=k, seed=seed), x, rows), {}
    parts = [importance_estimate(model.log_importance_weights(x[s:s + rows], num_samples=k,
                                                              seed=seed))
             for s in range(0, len(x), rows)]
    log_p, stderr, ess = (np.concatenate(a) for a in zip(*parts, strict=True))
    mc = float(np.sqrt(np.sum(stderr ** 2)) / len(stderr))
    return log_p, {"importance_stderr": float(np.sqrt(np.mean(stderr ** 2))),
                   "monte_carlo_stderr": mc, "effective_sample_size": float(np.mean(ess))}


def likelihood(model, x, *, estimator=None, validation=None, importance_samples=100,
               parzen_samples=1000, ais_steps=100, ais_chains=4, ais_examples=None, seed=0,
               batch_size=256, verbose=0):
    """Test negative log-likelihood in nats per example, with its estimator.

    Args:
        model: a unigen model (or an object with ``log_prob``/``sample``).
        x: test examples, shape [n, ...event_shape].
        estimator: one of `estimators(model)`; default: the first.
        validation: held-out examples for the Parzen bandwidth and the sigma of
            a GAN's AIS observation model; default: the first half of ``x``
            chooses them and the second half is scored.
        importance_samples: K of the importance-weighted bound (VAEs, and flows
            with variational dequantization).
        parzen_samples: model samples the Parzen window is built on.
        ais_steps, ais_chains: annealing steps T and chains S per example of
            AIS (`unigen.evaluation.ais_log_prob`, 5 leapfrog steps each).
        ais_examples: score AIS on at most this many test examples (a seeded
            random subset; None: all); the model's other estimator is then
            also computed on the same subset, for a paired comparison
            (``extra["paired"]``).
        seed: seed of the model samples (Parzen), importance draws and AIS.
        batch_size: examples per ``log_prob`` call (fewer for large K: at most
            65,536 importance draws per call).
        verbose: 1 prints one line when done: the estimator, the number of
            examples, the value and the seconds taken (`summary`); 0 nothing.

    Returns:
        A `Score` named "nll" (nats per example, lower is better); ``extra``
        holds ``bits_per_dim`` and its standard error, ``kind``, ``bias``,
        ``num_zero_probability`` (examples with log p = -inf, whose NLL is
        infinite: then the mean is inf and the standard error NaN) and for
        Parzen estimates the bandwidth, for a GAN's AIS the observation sigma;
        for importance-weighted bounds of models that give their weights,
        ``importance_stderr`` (Monte Carlo standard error of one example's
        estimate, nats), ``monte_carlo_stderr`` (of the mean) and the mean
        ``effective_sample_size`` of the K weights.
    """
    start = time.perf_counter()
    x = np.asarray(x)
    options = estimators(model)
    kind = estimator or options[0]
    if kind not in options:
        raise ValueError(f"`estimator` must be one of {options} for "
                         f"{type(model).__name__}, got {estimator!r}.")
    implicit = (kind == "ais" and _needs_observation_scale(model)) or (
        kind == "parzen" and not hasattr(model, "parzen_log_prob"))
    if implicit and validation is None:
        half = len(x) // 2
        validation, x = x[:half], x[half:]
    settings = {"validation": validation, "importance_samples": importance_samples,
                "parzen_samples": parzen_samples, "ais_steps": ais_steps,
                "ais_chains": ais_chains, "ais_examples": ais_examples, "seed": seed,
                "batch_size": batch_size}
    if kind == "parzen":
        log_p, estimator, extra = _parzen(model, x, settings)
    elif kind == "ais":
        log_p, estimator, extra, x = _ais(model, x, options, settings)
    elif kind in ("importance", "variational"):
        log_p, extra = _importance(model, x, settings)
        estimator = f"importance-weighted bound, K={importance_samples}"
        if kind == "variational":
            estimator = (f"variational dequantization bound, importance-weighted over "
                         f"K={importance_samples} draws of q(u | x)")
        if "monte_carlo_stderr" in extra:
            estimator += (f" (Monte Carlo error of the mean ±{extra['monte_carlo_stderr']:.2f}, "
                          f"of one example ±{extra['importance_stderr']:.2f} nats)")
    else:
        log_p = _batched(model.log_prob, x, batch_size)
        estimator = getattr(model, "likelihood_estimator", None) or {
            "exact": "exact log probability",
            "dequantization": "dequantization bound log p(x + u), one uniform draw u",
        }.get(kind, "the model's log_prob")
        extra = {}
    score = _score(kind, log_p, estimator, extra, x)
    if verbose:
        print(summary(score, time.perf_counter() - start), flush=True)
    return score


def _parzen(model, x, settings):
    """(log p, description, extra) of a Parzen window on model samples (or the model's own)."""
    if hasattr(model, "parzen_log_prob"):
        return model.parzen_log_prob(x), model.parzen_estimator, {"bandwidth": model.bandwidth}
    validation, count = settings["validation"], settings["parzen_samples"]
    centres = np.asarray(model.sample(count, seed=settings["seed"]))
    sigma, _ = choose_bandwidth(validation, centres, num_levels=model.num_levels)
    log_p = parzen_log_prob(x, centres, sigma, num_levels=model.num_levels)
    return log_p, (f"Parzen window on {plural(count, 'sample')}, sigma={sigma:.3g} chosen on "
                   f"{len(validation)} validation examples"), {"bandwidth": sigma}


def _ais(model, x, options, settings):
    """(log p, description, extra, scored x) of annealed importance sampling."""
    from unigen.evaluation._ais import ais_log_prob, choose_observation_scale

    extra, sigma, seed = {}, None, settings["seed"]
    validation = settings["validation"]
    if _needs_observation_scale(model):
        sigma, _ = choose_observation_scale(model, validation, seed=seed)
        extra["observation_scale"] = sigma
        extra["bias_note"] = _AIS_GAN
    limit = settings["ais_examples"]
    if limit is not None and len(x) > limit:
        pick = np.sort(np.random.default_rng(seed).permutation(len(x))[:limit])
        x = x[pick]
        other = [k for k in options if k != "ais"]
        if other:
            paired = likelihood(model, x, estimator=other[0], validation=validation,
                                importance_samples=settings["importance_samples"],
                                parzen_samples=settings["parzen_samples"], seed=seed)
            extra["paired"] = {other[0]: paired.value}
    steps, chains = settings["ais_steps"], settings["ais_chains"]
    log_p = ais_log_prob(model, x, num_steps=steps, num_chains=chains,
                         observation_scale=sigma, seed=seed)
    estimator = f"AIS, {plural(steps, 'step')} × {plural(chains, 'chain')}, HMC"
    if sigma is not None:
        estimator += (f"; Gaussian observation model sigma={sigma:.3g} chosen on "
                      f"{min(len(validation), 64)} validation examples")
    if "paired" in extra:
        (other, value), = extra["paired"].items()
        estimator += (f"; on {len(x)} test examples, where {_SHORT[other]} gives "
                      f"{value:.2f}")
    extra.update(ais_steps=steps, ais_chains=chains)
    return log_p, estimator, extra, x


def _score(kind, log_p, estimator, extra, x):
    """The `Score` of per-example log-likelihoods ``log_p`` of the examples ``x``."""
    bias = BIASES[kind] + extra.pop("bias_note", "")
    zero = int(np.sum(log_p == -np.inf))
    if zero:
        estimator += (f" ({zero} of {len(log_p)} examples "
                      f"{'has' if zero == 1 else 'have'} probability 0)")
    bad = int(np.sum(np.isnan(log_p) | (log_p == np.inf)))
    if bad:
        estimator += f" ({bad} non-finite values)"
    nll = -log_p
    n = len(nll)
    finite = bool(np.all(np.isfinite(nll)))
    stderr = float(np.std(nll, ddof=1) / math.sqrt(n)) if n > 1 and finite else math.nan
    dims = int(np.prod(x.shape[1:]))
    to_bits = 1.0 / (dims * math.log(2.0))
    with np.errstate(invalid="ignore"):
        mean = float(np.mean(nll))
    extra.update(kind=kind, short=_SHORT[kind], bias=bias,
                 bits_per_dim=mean * to_bits, bits_per_dim_stderr=stderr * to_bits,
                 num_examples=n, num_zero_probability=zero)
    return Score("nll", mean, stderr, estimator + "; ± std error over test examples", False,
                 extra=extra)
