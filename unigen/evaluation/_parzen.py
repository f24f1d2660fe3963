"""Parzen-window (kernel) log-likelihoods from a set of centres.

For continuous data the window is an isotropic Gaussian density. For data of L
integer levels the window is the discretised Gaussian, a proper probability
mass over the levels 0..L-1 (the end bins take the tails), so the estimate is
in the same unit as every other model's ``log_prob``:

    log P(x) = logsumexp_i sum_d log P_sigma(x_d | c_id) - log n.

References:
    Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014 (Parzen
    estimate with the bandwidth chosen on validation data).
    Theis, van den Oord and Bethge. "A note on the evaluation of generative
    models." ICLR 2016 (why it is unreliable in high dimension).
"""

import math

import numpy as np
from scipy import special

__all__ = ["choose_bandwidth", "parzen_log_prob"]

# Above this many levels (uint8 images: 256) the bin mass is taken as the
# Gaussian density at the level times the bin width 1 (midpoint rule; the error
# per dimension is about 1 / (24 sigma^2) nats), which is a matrix product and
# fits in memory for 784-pixel images.
_MAX_EXACT_LEVELS = 64


def _log_bin_mass(levels, centres, sigma, num_levels):
    """log P(level | centre) of the discretised Gaussian; broadcasts."""
    upper = (levels + 0.5 - centres) / sigma
    lower = (levels - 0.5 - centres) / sigma
    upper = np.where(levels >= num_levels - 1, np.inf, upper)
    lower = np.where(levels <= 0, -np.inf, lower)
    # log(Phi(b) - Phi(a)), evaluated on the side of the smaller tail.
    flip = (lower + upper) > 0
    a = np.where(flip, -upper, lower)
    b = np.where(flip, -lower, upper)
    log_b, log_a = special.log_ndtr(b), special.log_ndtr(a)
    return log_b + np.log1p(-np.exp(np.minimum(log_a - log_b, -1e-300)))


def parzen_log_prob(x, centres, sigma, *, num_levels=None, chunk=64):
    """Log-likelihood of each row of ``x`` under a Parzen window on ``centres``.

    Args:
        x: [n, ...] evaluation points (integer levels when ``num_levels``).
        centres: [m, ...] kernel centres (model samples or training data).
        sigma: bandwidth (in the data's units: levels for discrete data).
        num_levels: L for discrete data (a probability mass), None for a density.
            With more than 64 levels the mass of a bin is approximated by the
            density at its level (midpoint rule), which is exact enough for
            bandwidths of a few levels and much cheaper.
        chunk: evaluation points per block (memory ~ chunk * m * D).

    Returns:
        float64 array [n] in nats.
    """
    x = np.asarray(x, np.float64).reshape(len(x), -1)
    centres = np.asarray(centres, np.float64).reshape(len(centres), -1)
    sigma = float(sigma)
    out = np.empty(len(x))
    if num_levels is None or num_levels > _MAX_EXACT_LEVELS:
        dim = x.shape[1]
        sq_c = np.sum(centres ** 2, 1)[None, :]
        const = -0.5 * dim * math.log(2 * math.pi * sigma ** 2) - math.log(len(centres))
        for s in range(0, len(x), 4 * chunk):
            part = x[s:s + 4 * chunk]
            sq = np.clip(np.sum(part ** 2, 1)[:, None] + sq_c - 2 * part @ centres.T, 0, None)
            out[s:s + len(part)] = special.logsumexp(-sq / (2 * sigma ** 2), axis=1) + const
        return out
    integral = np.all(np.floor(centres) == centres)
    if integral:
        # Table of log P(level k | centre v) for all k, v; then gather.
        grid = np.arange(num_levels, dtype=np.float64)
        table = _log_bin_mass(grid[:, None], grid[None, :], sigma, num_levels)
        # sum_d table[x_d, c_d] as one matrix product of one-hot codes of x
        # [n, D*L] with the table rows of the centres [D*L, m].
        eye = np.eye(num_levels)
        xi = np.clip(x, 0, num_levels - 1).astype(np.int64)
        ci = np.clip(centres, 0, num_levels - 1).astype(np.int64)
        rows = table.T[ci].reshape(len(centres), -1).T  # [D*L, m]: table[k, c_jd]
        for s in range(0, len(x), 16 * chunk):
            onehot = eye[xi[s:s + 16 * chunk]].reshape(len(xi[s:s + 16 * chunk]), -1)
            logk = onehot @ rows
            out[s:s + len(logk)] = special.logsumexp(logk, axis=1) - math.log(len(centres))
        return out
    for s in range(0, len(x), chunk):
        part = x[s:s + chunk]
        logk = _log_bin_mass(part[:, None, :], centres[None, :, :], sigma, num_levels).sum(2)
        out[s:s + chunk] = special.logsumexp(logk, axis=1) - math.log(len(centres))
    return out


def choose_bandwidth(validation, centres, *, num_levels=None, candidates=None,
                     max_validation=1000, seed=0):
    """The bandwidth maximising the mean Parzen log-likelihood of ``validation``.

    Searches a geometric grid (default 10 values from 0.05 to 5 times the mean
    per-dimension std of the centres, at least 0.05 levels for discrete data),
    then refines around the best value. At most ``max_validation`` validation
    examples (a seeded random subset) are used.

    Returns:
        ``(sigma, mean_validation_log_prob)``.
    """
    validation = np.asarray(validation)
    if len(validation) > max_validation:
        pick = np.random.default_rng(seed).permutation(len(validation))[:max_validation]
        validation = validation[pick]
    centres_flat = np.asarray(centres, np.float64).reshape(len(centres), -1)
    if candidates is None:
        spread = float(np.mean(np.std(centres_flat, axis=0))) or 1.0
        low = 0.02 * spread if num_levels is None else max(0.05, 0.02 * spread)
        candidates = np.geomspace(low, 5.0 * spread, 10)

    def score(sigma):
        return float(np.mean(parzen_log_prob(validation, centres, sigma, num_levels=num_levels)))

    scores = [score(s) for s in candidates]
    best = int(np.argmax(scores))
    lo = candidates[max(best - 1, 0)]
    hi = candidates[min(best + 1, len(candidates) - 1)]
    fine = np.geomspace(lo, hi, 5)
    fine_scores = [score(s) for s in fine]
    j = int(np.argmax(fine_scores))
    if fine_scores[j] >= scores[best]:
        return float(fine[j]), fine_scores[j]
    return float(candidates[best]), scores[best]
