"""Test log-likelihood of any model, labelled with how it was obtained.

* exact: the Gaussian baseline (a discretised Gaussian mass) and flows on
  continuous data;
* dequantization bound: flows on discrete levels (log p(x + u), one uniform draw);
* variational dequantization bound: flows with ``dequantization="variational"``,
  the importance-weighted bound with K draws u_k ~ q(u | x),
  log (1/K) sum_k p(x + u_k) / q(u_k | x) (``log_prob(x, num_samples=K)``);
* importance-weighted bound: VAEs, ``log_prob(x, num_samples=K)`` (Burda et al.);
* Parzen window: implicit models (GANs), a kernel estimate on model samples with
  the bandwidth chosen on validation data (Goodfellow et al. 2014).
"""

import inspect
import math

import numpy as np

from unigen.evaluation._metrics import Score
from unigen.evaluation._parzen import choose_bandwidth, parzen_log_prob

__all__ = ["BIASES", "likelihood"]

BIASES = {
    "exact": "none: exact; only the sampling error over test examples",
    "dequantization": "lower bound on log P(x) (uniform dequantization, one draw): "
                      "underestimates the likelihood by the dequantization gap",
    "variational": "lower bound on log P(x) (variational dequantization, importance-weighted "
                   "over K draws of q(u | x)): tightens as K grows; underestimates the "
                   "likelihood",
    "importance": "lower bound in expectation (Burda et al. 2016), tightening as K grows: "
                  "underestimates the likelihood",
    "parzen": "Parzen estimates are unreliable in high dimension (Theis et al. 2016): "
              "they depend on the number of samples and the bandwidth, usually lie far "
              "below the true likelihood, and can rank models wrongly",
    "mixture": "exact given its base model (inherits the base model's bias)",
    "model": "as documented by the model's log_prob",
}


def _kind(model):
    from unigen.models.flows import FlowModel
    from unigen.models.gaussian import Gaussian

    if getattr(model, "likelihood_estimator", None):
        from unigen.evaluation._reference import Memoriser, NoiseMixture

        if isinstance(model, Memoriser):
            return "parzen"
        if isinstance(model, NoiseMixture):
            return "mixture"
        return "model"
    if not getattr(model, "has_log_prob", True):
        return "parzen"
    if isinstance(model, Gaussian):
        return "exact"
    if isinstance(model, FlowModel):
        if model.num_levels is None:
            return "exact"
        return "variational" if model.dequantizer is not None else "dequantization"
    if "num_samples" in inspect.signature(model.log_prob).parameters:
        return "importance"
    return "model"


def _batched(fn, x, batch_size):
    return np.concatenate([np.asarray(fn(x[s:s + batch_size]), np.float64).reshape(-1)
                           for s in range(0, len(x), batch_size)])


def likelihood(model, x, *, validation=None, importance_samples=100,
               parzen_samples=1000, seed=0, batch_size=256):
    """Test negative log-likelihood in nats per example, with its estimator.

    Args:
        model: a unigen model (or an object with ``log_prob``/``sample``).
        x: test examples, shape [n, ...event_shape].
        validation: held-out examples for the Parzen bandwidth (implicit
            models); default: the first half of ``x`` chooses it and the
            second half is scored.
        importance_samples: K of the importance-weighted bound (VAEs, and flows
            with variational dequantization).
        parzen_samples: model samples the Parzen window is built on.
        seed: seed of the model samples (Parzen) and importance draws.
        batch_size: examples per ``log_prob`` call.

    Returns:
        A `Score` named "nll" (nats per example, lower is better); ``extra``
        holds ``bits_per_dim`` and its standard error, ``kind``, ``bias`` and
        for Parzen estimates the bandwidth.
    """
    x = np.asarray(x)
    kind = _kind(model)
    extra = {}
    if kind == "parzen" and not getattr(model, "has_log_prob", True):
        if validation is None:
            half = len(x) // 2
            validation, x = x[:half], x[half:]
        centres = np.asarray(model.sample(parzen_samples, seed=seed))
        sigma, _ = choose_bandwidth(validation, centres, num_levels=model.num_levels)
        log_p = parzen_log_prob(x, centres, sigma, num_levels=model.num_levels)
        estimator = (f"Parzen window on {parzen_samples} samples, sigma={sigma:.3g} "
                     f"chosen on {len(validation)} validation examples")
        extra["bandwidth"] = sigma
    elif kind in ("importance", "variational"):
        log_p = _batched(lambda b: model.log_prob(b, num_samples=importance_samples, seed=seed),
                         x, batch_size)
        estimator = f"importance-weighted bound, K={importance_samples}"
        if kind == "variational":
            estimator = (f"variational dequantization bound, importance-weighted over "
                         f"K={importance_samples} draws of q(u | x)")
    else:
        log_p = _batched(model.log_prob, x, batch_size)
        estimator = getattr(model, "likelihood_estimator", None) or {
            "exact": "exact log probability",
            "dequantization": "dequantization bound log p(x + u), one uniform draw u",
            "model": "the model's log_prob",
        }[kind]
    if not np.all(np.isfinite(log_p)):
        bad = int(np.sum(~np.isfinite(log_p)))
        estimator += f" ({bad} non-finite values)"
    nll = -log_p
    n = len(nll)
    stderr = float(np.std(nll, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    dims = int(np.prod(x.shape[1:]))
    to_bits = 1.0 / (dims * math.log(2.0))
    extra.update(kind=kind, bias=BIASES[kind], bits_per_dim=float(np.mean(nll)) * to_bits,
                 bits_per_dim_stderr=stderr * to_bits, num_examples=n)
    return Score("nll", float(np.mean(nll)), stderr,
                 estimator + "; ± std error over test examples", False, extra=extra)
