"""The MODE score and the AM score: the Inception Score's two successors.

Both use class probabilities p(y | x) of a classifier (unigen's feature
network: its classes, or its k-means clusters for a network trained without
labels) and, unlike the Inception Score, compare the samples' class marginal
p(y) = E_x p(y | x) with the real data's p*(y) = E_{x ~ data} p(y | x):

* MODE score (Che et al. 2017), higher is better:

      MODE = exp(E_x KL(p(y | x) || p*(y)) - KL(p(y) || p*(y)))

  confident samples raise the first term; a class marginal unlike the data's
  (missing modes) is penalised by the second. At most the number of classes.
* AM score (Zhou et al. 2018), lower is better, 0 at best:

      AM = KL(p*(y) || p(y)) + E_x H(p(y | x))

  the first term is large when samples miss classes the data have, the second
  when samples are not confidently of one class.

Standard errors come from a bootstrap over the samples (p*(y) held fixed).

References:
    Che, Li, Jacob, Bengio and Li. "Mode Regularized Generative Adversarial
    Networks." ICLR 2017.
    Zhou, Cai, Ren, Zhang, Yu and Wang. "Activation Maximization Generative
    Adversarial Nets." ICLR 2018.
"""

import math

import numpy as np

from unigen.evaluation._metrics import Score

__all__ = ["am_score", "mode_score"]

_EPS = 1e-12


def _probs(p, name):
    p = np.asarray(p, np.float64)
    if p.ndim != 2 or len(p) < 1:
        raise ValueError(f"`{name}` must be class probabilities [n, classes], got shape "
                         f"{list(p.shape)}.")
    return np.clip(p, _EPS, 1.0)


def _marginal(real_probabilities, num_classes):
    marginal = _probs(real_probabilities, "real_probabilities")
    if marginal.shape[1] != num_classes:
        raise ValueError(f"`real_probabilities` have {marginal.shape[1]} classes, the "
                         f"samples' {num_classes}.")
    return marginal.mean(axis=0)


def _kl(p, q):
    """KL(p || q) along the last axis."""
    return np.sum(p * (np.log(p) - np.log(q)), axis=-1)


def _mode_value(probs, reference):
    marginal = probs.mean(axis=0)
    return math.exp(float(np.mean(_kl(probs, reference)) - _kl(marginal, reference)))


def _am_value(probs, reference):
    marginal = np.clip(probs.mean(axis=0), _EPS, 1.0)
    entropy = -np.sum(probs * np.log(probs), axis=1)
    return float(_kl(reference, marginal) + np.mean(entropy))


def _bootstrap(fn, probs, reference, num_bootstrap, seed):
    if num_bootstrap < 2 or len(probs) < 2:
        return math.nan
    rng = np.random.default_rng(seed)
    values = [fn(probs[rng.integers(0, len(probs), len(probs))], reference)
              for _ in range(num_bootstrap)]
    return float(np.std(values, ddof=1))


def mode_score(probabilities, real_probabilities, *, num_bootstrap=20, seed=0):
    """MODE score exp(E_x KL(p(y|x) || p*(y)) - KL(p(y) || p*(y))) (Che et al. 2017).

    Args:
        probabilities: class probabilities of the samples, ``[n, classes]``.
        real_probabilities: class probabilities of real (held-out) data,
            whose mean is p*(y).
        num_bootstrap: bootstrap resamples of the samples for the standard error.
        seed: seed of the bootstrap.

    Returns:
        A `Score` (higher is better; at most the number of classes).
    """
    probs = _probs(probabilities, "probabilities")
    reference = _marginal(real_probabilities, probs.shape[1])
    return Score("mode_score", _mode_value(probs, reference),
                 _bootstrap(_mode_value, probs, reference, num_bootstrap, seed),
                 "exp(E KL(p(y given x), p*(y)) - KL(p(y), p*(y))), p* from real test "
                 f"data, with the feature classifier; ± bootstrap std ({num_bootstrap})",
                 True)


def am_score(probabilities, real_probabilities, *, num_bootstrap=20, seed=0):
    """AM score KL(p*(y) || p(y)) + E_x H(p(y|x)) (Zhou et al. 2018), in nats.

    Args:
        probabilities: class probabilities of the samples, ``[n, classes]``.
        real_probabilities: class probabilities of real (held-out) data,
            whose mean is p*(y).
        num_bootstrap: bootstrap resamples of the samples for the standard error.
        seed: seed of the bootstrap.

    Returns:
        A `Score` (lower is better; 0 for confident samples with the data's
        class marginal).
    """
    probs = _probs(probabilities, "probabilities")
    reference = _marginal(real_probabilities, probs.shape[1])
    return Score("am_score", _am_value(probs, reference),
                 _bootstrap(_am_value, probs, reference, num_bootstrap, seed),
                 "KL(p*(y), p(y)) + E H(p(y given x)) in nats, p* from real test data, "
                 f"with the feature classifier; ± bootstrap std ({num_bootstrap})", False)
