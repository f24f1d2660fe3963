"""Two reference models that show why one evaluation axis is not enough.

* `NoiseMixture`: p(x) = w p_data(x) + (1 - w) noise(x) with w = 0.01. Its test
  log-likelihood is at least log p_base(x) + log w, within log 100 = 4.6 nats of
  the base model's however many dimensions there are, yet 99% of its samples
  are noise.
* `Memoriser`: replays training images. Its samples are perfect copies of data,
  and its distribution, uniform over the N training examples, gives every
  held-out example it has not seen probability 0: an infinite test NLL. A
  Parzen smoothing of the training images (the estimate an implicit model
  would get) hides that and scores well in low dimension.

Both are light objects with the model surface `unigen.evaluate` uses:
``sample``, ``log_prob``, ``bits_per_dim``, ``event_shape``, ``num_levels``,
``has_log_prob`` and ``likelihood_estimator``.

References:
    Theis, van den Oord and Bethge. "A note on the evaluation of generative
    models." ICLR 2016.
"""

import collections
import math

import numpy as np

from unigen.evaluation._parzen import choose_bandwidth, parzen_log_prob

__all__ = ["Memoriser", "NoiseMixture"]


class _Reference:
    has_log_prob = True

    @property
    def event_size(self):
        return int(math.prod(self.event_shape))

    def bits_per_dim(self, x):
        return -np.asarray(self.log_prob(x)) / (self.event_size * math.log(2.0))


class NoiseMixture(_Reference):
    """The mixture ``weight * base + (1 - weight) * uniform noise``.

    Args:
        base: a model with ``log_prob`` and ``sample`` (a good explicit model:
            a flow or the Gaussian baseline trained on the data).
        weight: share of the base model (default 0.01).
        value_range: for continuous data, the box (low, high) of the uniform
            noise; discrete data (``base.num_levels`` set) use uniform levels.
    """

    def __init__(self, base, weight=0.01, value_range=None):
        if not 0.0 < float(weight) < 1.0:
            raise ValueError(f"`weight` must be in (0, 1), got {weight!r}.")
        self.base, self.weight = base, float(weight)
        self.event_shape = tuple(base.event_shape)
        self.num_levels = base.num_levels
        if self.num_levels is None and value_range is None:
            raise ValueError("`value_range` (low, high) is required for continuous data.")
        self.value_range = None if value_range is None else tuple(map(float, value_range))
        base_name = getattr(base, "likelihood_estimator", None) or type(base).__name__
        self.likelihood_estimator = (
            f"exact mixture of {base_name} (weight {self.weight:g}) and uniform noise")

    def likelihood_estimators(self):
        """Exact given its base model (it inherits the base model's bias)."""
        return ["mixture"]

    def _log_noise(self):
        if self.num_levels is not None:
            return -self.event_size * math.log(self.num_levels)
        low, high = self.value_range
        return -self.event_size * math.log(high - low)

    def log_prob(self, x):
        """log(w p_base(x) + (1 - w) u(x)) in nats, shape [n]."""
        base = np.asarray(self.base.log_prob(x), np.float64)
        return np.logaddexp(math.log(self.weight) + base,
                            math.log1p(-self.weight) + self._log_noise())

    def sample(self, num_samples, seed=None):
        """Each draw comes from the base model with probability ``weight``."""
        rng = np.random.default_rng(seed)
        shape = (num_samples, *self.event_shape)
        if self.num_levels is not None:
            out = rng.integers(0, self.num_levels, shape).astype(np.float32)
        else:
            out = rng.uniform(*self.value_range, shape).astype(np.float32)
        take = rng.random(num_samples) < self.weight
        if take.any():
            base_seed = None if seed is None else int(seed) + 1
            out[take] = np.asarray(self.base.sample(int(take.sum()), seed=base_seed))
        return out


class Memoriser(_Reference):
    """Replays the training set: the uniform distribution over its examples.

    Its exact log probability is

        log p(x) = log(count of x in train / N)

    with N training examples: -inf (probability 0) for an example that is not
    in the training set. `parzen_log_prob` gives the Parzen-window estimate on
    the training examples that an implicit model would get instead (bandwidth
    chosen on validation data), to show how a kernel estimate flatters a
    memoriser (Theis et al. 2016).

    Args:
        train: training examples, shape [n, ...event_shape] (as `unigen.datasets` yields).
        num_levels: data levels, or None for continuous data.
        validation: held-out examples used to choose the Parzen bandwidth;
            required unless ``bandwidth`` is given.
        bandwidth: the kernel's standard deviation (levels for images).
    """

    def __init__(self, train, num_levels=None, validation=None, bandwidth=None):
        self.train = np.asarray(train)
        self.event_shape = tuple(self.train.shape[1:])
        self.num_levels = num_levels
        if bandwidth is None:
            if validation is None:
                raise ValueError("Memoriser needs `validation` data or a `bandwidth`.")
            bandwidth, _ = choose_bandwidth(validation, self.train, num_levels=num_levels)
        self.bandwidth = float(bandwidth)
        self._counts = collections.Counter(self._keys(self.train))
        self.likelihood_estimator = (
            f"exact: uniform over the {len(self.train)} training examples")
        self.parzen_estimator = (
            f"Parzen window on the {len(self.train)} training examples "
            f"(sigma={self.bandwidth:.3g}, chosen on validation data)")

    @staticmethod
    def _keys(x):
        flat = np.ascontiguousarray(np.asarray(x, np.float64).reshape(len(x), -1))
        return [row.tobytes() for row in flat]

    def log_prob(self, x):
        """log(count of x in train / N) per example: -inf for unseen examples."""
        counts = np.array([self._counts.get(k, 0) for k in self._keys(x)], np.float64)
        with np.errstate(divide="ignore"):
            return np.log(counts) - math.log(len(self.train))

    def likelihood_estimators(self):
        """Exact (infinite NLL off the training set), then Parzen on its images."""
        return ["exact", "parzen"]

    def parzen_log_prob(self, x):
        """The Parzen-window estimate on the training examples, in nats, shape [n]."""
        return parzen_log_prob(x, self.train, self.bandwidth, num_levels=self.num_levels)

    def sample(self, num_samples, seed=None):
        """Training examples drawn uniformly with replacement."""
        rng = np.random.default_rng(seed)
        return self.train[rng.integers(0, len(self.train), num_samples)].astype(np.float32)
