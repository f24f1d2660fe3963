"""Sample-quality metrics as pure NumPy functions of feature arrays.

Every function takes a real set and a generated set of feature vectors
(``[n, d]`` arrays; images are first mapped through a feature network, see
`unigen.evaluation.FeatureNetwork`) and returns a `Score` holding the value,
its uncertainty and the estimator's name. Nearest-neighbour searches use
scikit-learn; kernels and the MMD statistic come from `unigen.divergences`.

References:
    Heusel et al. "GANs Trained by a Two Time-Scale Update Rule Converge to a
    Local Nash Equilibrium." NeurIPS 2017 (FID).
    Binkowski et al. "Demystifying MMD GANs." ICLR 2018 (KID).
    Kynkaanniemi et al. "Improved Precision and Recall Metric for Assessing
    Generative Models." NeurIPS 2019.
    Naeem et al. "Reliable Fidelity and Diversity Metrics for Generative
    Models." ICML 2020 (density and coverage).
    Salimans et al. "Improved Techniques for Training GANs." NeurIPS 2016 (IS).
    Lopez-Paz and Oquab. "Revisiting Classifier Two-Sample Tests." ICLR 2017.
    Gretton et al. "A Kernel Two-Sample Test." JMLR 13, 2012.
"""

import dataclasses
import math

import numpy as np
from scipy import stats

__all__ = [
    "Score",
    "c2st",
    "density_coverage",
    "fid",
    "frechet_distance",
    "inception_score",
    "kid",
    "mmd_test",
    "nearest_neighbour_check",
    "precision_recall",
]


@dataclasses.dataclass
class Score:
    """One metric value with its uncertainty and how it was obtained.

    Attributes:
        name: metric name, for example "fid".
        value: the estimate (float).
        stderr: its standard error (float; NaN when not available).
        estimator: one line saying how the value and its uncertainty were
            obtained (shown in reports).
        higher_is_better: direction of the metric (None when neither).
        p_value: the p-value of a two-sample test, else None.
        extra: further numbers (dict), for example bits/dim beside nats.
    """

    name: str
    value: float
    stderr: float = float("nan")
    estimator: str = ""
    higher_is_better: bool | None = None
    p_value: float | None = None
    extra: dict = dataclasses.field(default_factory=dict)

    def as_dict(self):
        return dataclasses.asdict(self)

    def __format__(self, spec):
        text = f"{self.value:{spec or '.4g'}}"
        if math.isfinite(self.stderr):
            text += f" ± {self.stderr:{spec or '.2g'}}"
        return text


def _features(x, name):
    x = np.asarray(x, dtype=np.float64)
    if x.ndim == 1:
        x = x[:, None]
    x = x.reshape(len(x), -1)
    if len(x) < 2:
        raise ValueError(f"`{name}` needs at least 2 examples, got {len(x)}.")
    if not np.all(np.isfinite(x)):
        raise ValueError(f"`{name}` holds NaN or infinite values.")
    return x


def _pair(real, fake):
    real, fake = _features(real, "real"), _features(fake, "fake")
    if real.shape[1] != fake.shape[1]:
        raise ValueError(
            f"`real` and `fake` must have the same feature size, got {real.shape[1]} "
            f"and {fake.shape[1]}."
        )
    return real, fake


def _binomial_se(p, n):
    return math.sqrt(max(p * (1.0 - p), 0.0) / n)


# --------------------------------------------------------------------- FID
def _sqrt_psd(matrix):
    values, vectors = np.linalg.eigh((matrix + matrix.T) / 2.0)
    return (vectors * np.sqrt(np.clip(values, 0.0, None))) @ vectors.T


def frechet_distance(mean1, cov1, mean2, cov2):
    """Squared Frechet (2-Wasserstein) distance between two Gaussians.

    d^2 = sum((m1 - m2)^2) + tr(C1 + C2 - 2 (C1^(1/2) C2 C1^(1/2))^(1/2)),

    computed from the eigenvalues of the symmetric matrix C1^(1/2) C2 C1^(1/2)
    (the trace of (C1 C2)^(1/2) equals the sum of their square roots), which is
    stable for singular covariances.
    """
    mean1, mean2 = np.atleast_1d(mean1).astype(np.float64), np.atleast_1d(mean2).astype(np.float64)
    cov1, cov2 = np.atleast_2d(cov1).astype(np.float64), np.atleast_2d(cov2).astype(np.float64)
    root1 = _sqrt_psd(cov1)
    middle = root1 @ cov2 @ root1
    cross = np.sum(np.sqrt(np.clip(np.linalg.eigvalsh((middle + middle.T) / 2.0), 0.0, None)))
    value = np.sum((mean1 - mean2) ** 2) + np.trace(cov1) + np.trace(cov2) - 2.0 * cross
    return float(max(value, 0.0))


def _fid_value(real, fake):
    return frechet_distance(real.mean(0), np.cov(real, rowvar=False),
                            fake.mean(0), np.cov(fake, rowvar=False))


def fid(real, fake, *, num_bootstrap=20, seed=0):
    """Frechet distance between Gaussians fitted to real and generated features.

    The standard error is the standard deviation of FID over ``num_bootstrap``
    resamplings (with replacement) of both sets. FID is biased upwards with a
    finite number of samples: compare models only at equal sample sizes and
    beside the real-versus-real floor.
    """
    real, fake = _pair(real, fake)
    value = _fid_value(real, fake)
    rng = np.random.default_rng(seed)
    boots = [_fid_value(real[rng.integers(0, len(real), len(real))],
                        fake[rng.integers(0, len(fake), len(fake))])
             for _ in range(num_bootstrap)]
    return Score("fid", value, float(np.std(boots, ddof=1)) if num_bootstrap > 1 else math.nan,
                 f"Frechet distance of Gaussian fits to features ({len(real)} real, "
                 f"{len(fake)} generated); ± bootstrap std ({num_bootstrap})",
                 higher_is_better=False)


# --------------------------------------------------------------------- KID
def _polynomial_mmd(x, y):
    d = x.shape[1]
    kxx = (x @ x.T / d + 1.0) ** 3
    kyy = (y @ y.T / d + 1.0) ** 3
    kxy = (x @ y.T / d + 1.0) ** 3
    m, n = len(x), len(y)
    return ((kxx.sum() - np.trace(kxx)) / (m * (m - 1))
            + (kyy.sum() - np.trace(kyy)) / (n * (n - 1)) - 2.0 * kxy.mean())


def kid(real, fake, *, num_subsets=50, subset_size=1000, seed=0):
    """Kernel Inception Distance: unbiased MMD^2 with the cubic polynomial kernel.

    k(x, y) = (x . y / d + 1)^3. The value is the mean of the unbiased MMD^2
    over ``num_subsets`` random subsets of ``min(subset_size, n_real, n_fake)``
    examples of each set; the standard error is the standard deviation over
    subsets divided by sqrt(num_subsets) (subsets overlap, so it is optimistic
    when they cover most of the data). Unbiased: its mean is 0 when both sets
    come from the same distribution, and it can be negative.
    """
    real, fake = _pair(real, fake)
    size = min(subset_size, len(real), len(fake))
    rng = np.random.default_rng(seed)
    values = np.array([
        _polynomial_mmd(real[rng.choice(len(real), size, replace=False)],
                        fake[rng.choice(len(fake), size, replace=False)])
        for _ in range(num_subsets)
    ])
    stderr = values.std(ddof=1) / math.sqrt(num_subsets) if num_subsets > 1 else math.nan
    return Score("kid", float(values.mean()), float(stderr),
                 f"unbiased MMD^2, cubic polynomial kernel, mean over {num_subsets} "
                 f"subsets of {size}; ± std/sqrt(subsets)", higher_is_better=False)


# ------------------------------------------------- nearest-neighbour metrics
def _kth_radius(x, k):
    from sklearn.neighbors import NearestNeighbors

    k = min(k, len(x) - 1)
    distances, _ = NearestNeighbors(n_neighbors=k + 1).fit(x).kneighbors(x)
    return distances[:, k]  # column 0 is the point itself


def _pairwise(a, b, chunk=2048):
    rows = []
    sq_b = np.sum(b * b, axis=1)[None, :]
    for start in range(0, len(a), chunk):
        part = a[start:start + chunk]
        sq = np.sum(part * part, axis=1)[:, None] + sq_b - 2.0 * part @ b.T
        rows.append(np.sqrt(np.clip(sq, 0.0, None)))
    return np.concatenate(rows, axis=0)


def precision_recall(real, fake, *, k=3):
    """Improved precision and recall (Kynkaanniemi et al. 2019).

    Each set's manifold is the union of balls around its points whose radius is
    the distance to the k-th nearest neighbour within the set. Precision is the
    share of generated points inside the real manifold (fidelity); recall the
    share of real points inside the generated manifold (diversity). Standard
    errors are binomial, sqrt(p (1 - p) / n), ignoring the randomness of the radii.

    Returns:
        ``(precision, recall)`` as two `Score` objects.
    """
    real, fake = _pair(real, fake)
    real_radius, fake_radius = _kth_radius(real, k), _kth_radius(fake, k)
    distance = _pairwise(fake, real)  # [n_fake, n_real]
    precision = float(np.mean(np.any(distance <= real_radius[None, :], axis=1)))
    recall = float(np.mean(np.any(distance <= fake_radius[:, None], axis=0)))
    note = f"k={k} nearest-neighbour balls; ± binomial"
    return (Score("precision", precision, _binomial_se(precision, len(fake)),
                  "share of samples inside the real manifold, " + note, True),
            Score("recall", recall, _binomial_se(recall, len(real)),
                  "share of real data inside the sample manifold, " + note, True))


def density_coverage(real, fake, *, k=5):
    """Density and coverage (Naeem et al. 2020), with real k-NN balls only.

    density = 1/(k M) sum_j sum_i 1[f_j in B(r_i, NND_k(r_i))] (about 1 for a
    perfect model; can exceed 1); coverage = share of real points whose ball
    holds at least one generated point. Standard errors: density from the
    spread of per-sample counts, coverage binomial.

    Returns:
        ``(density, coverage)`` as two `Score` objects.
    """
    real, fake = _pair(real, fake)
    radius = _kth_radius(real, k)
    inside = _pairwise(fake, real) <= radius[None, :]
    per_sample = inside.sum(axis=1) / k
    coverage = float(np.mean(inside.any(axis=0)))
    return (Score("density", float(per_sample.mean()),
                  float(per_sample.std(ddof=1) / math.sqrt(len(fake))),
                  f"mean number of real k={k} balls holding a sample, / k; ± std of mean",
                  True),
            Score("coverage", coverage, _binomial_se(coverage, len(real)),
                  f"share of real k={k} balls holding a sample; ± binomial", True))


def inception_score(probabilities, *, num_splits=10):
    """Classifier-based Inception Score exp(E_x KL(p(y|x) || p(y))).

    Computed on ``num_splits`` splits of the samples (Salimans et al. 2016);
    the standard error is the standard deviation over splits / sqrt(splits).
    The classifier is unigen's own feature network, not Inception: values are
    comparable only between models scored with the same network; at most the
    number of classes.
    """
    probs = np.clip(np.asarray(probabilities, np.float64), 1e-12, 1.0)
    splits = np.array_split(probs, min(num_splits, len(probs)))
    values = []
    for part in splits:
        marginal = part.mean(axis=0, keepdims=True)
        values.append(math.exp(np.mean(np.sum(part * (np.log(part) - np.log(marginal)), 1))))
    values = np.array(values)
    stderr = values.std(ddof=1) / math.sqrt(len(values)) if len(values) > 1 else math.nan
    return Score("inception_score", float(values.mean()), float(stderr),
                 f"exp E KL(p(y given x), p(y)) with the feature classifier, {len(values)} "
                 f"splits; ± std/sqrt(splits)", True)


# ------------------------------------------------------ two-sample tests
def c2st(real, fake, *, classifier="auto", seed=0):
    """Classifier two-sample test (Lopez-Paz and Oquab 2017).

    Balances the two sets (the larger is subsampled), splits the pooled data in
    halves, trains a classifier to tell real from generated on one half and
    measures its accuracy on the other. Under the null hypothesis p = q the
    number of correct test predictions is Binomial(n_test, 1/2); the p-value is
    its one-sided exact tail P(Binomial >= correct). Accuracy near 0.5 means the
    classifier cannot tell the samples apart.

    Args:
        real, fake: feature arrays [n, d].
        classifier: "logistic" (scaled logistic regression), "knn" (k nearest
            neighbours, k = sqrt(n)) or "auto" (knn for d <= 4, else logistic).
        seed: seed of the subsampling and of the split.

    Returns:
        A `Score` with the accuracy as value and ``p_value`` set.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    real, fake = _pair(real, fake)
    rng = np.random.default_rng(seed)
    n = min(len(real), len(fake))
    real = real[rng.permutation(len(real))[:n]]
    fake = fake[rng.permutation(len(fake))[:n]]
    x = np.concatenate([real, fake])
    y = np.concatenate([np.ones(n), np.zeros(n)])
    order = rng.permutation(2 * n)
    x, y = x[order], y[order]
    half = n
    if classifier == "auto":
        classifier = "knn" if x.shape[1] <= 4 else "logistic"
    if classifier == "logistic":
        model = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
    elif classifier == "knn":
        model = make_pipeline(StandardScaler(),
                              KNeighborsClassifier(max(1, round(math.sqrt(half)))))
    else:
        raise ValueError(f'`classifier` must be "auto", "logistic" or "knn", got {classifier!r}.')
    model.fit(x[:half], y[:half])
    correct = int(np.sum(model.predict(x[half:]) == y[half:]))
    n_test = len(y) - half
    accuracy = correct / n_test
    p_value = float(stats.binom.sf(correct - 1, n_test, 0.5))
    return Score("c2st", accuracy, _binomial_se(0.5, n_test),
                 f"held-out accuracy of a {classifier} classifier real vs generated "
                 f"({n_test} test points); ± binomial at 0.5; p exact binomial",
                 higher_is_better=None, p_value=p_value)


def mmd_test(real, fake, *, num_permutations=200, seed=0, max_points=1000):
    """Kernel two-sample test: unbiased MMD^2 and a permutation p-value.

    The features are standardised and divided by the median pairwise distance;
    the kernel is `unigen.divergences.MMD`'s mixture of Gaussian kernels. The
    p-value is (1 + #{permuted statistic >= observed}) / (1 + permutations) for
    the (biased) V-statistic, which is a valid test for any statistic; the
    reported value is the unbiased MMD^2 with its jackknife standard error.
    """
    import tensorflow as tf

    from unigen.divergences import MMD
    from unigen.divergences._sample_estimators import mmd_squared_with_stderr

    real, fake = _pair(real, fake)
    rng = np.random.default_rng(seed)
    real = real[rng.permutation(len(real))[:max_points]]
    fake = fake[rng.permutation(len(fake))[:max_points]]
    pooled = np.concatenate([real, fake])
    scale = pooled.std(axis=0)
    pooled = (pooled - pooled.mean(axis=0)) / np.where(scale > 0, scale, 1.0)
    sub = pooled[rng.permutation(len(pooled))[:500]]
    median = np.median(_pairwise(sub, sub)[np.triu_indices(len(sub), 1)])
    pooled = pooled / max(median, 1e-12)
    divergence = MMD()
    kernel = divergence.kernel(pooled, pooled).numpy().astype(np.float64)
    m, n = len(real), len(fake)
    signs = np.concatenate([np.full(m, 1.0 / m), np.full(n, -1.0 / n)])
    observed = signs @ kernel @ signs
    perms = np.stack([signs[rng.permutation(m + n)] for _ in range(num_permutations)])
    permuted = np.sum((perms @ kernel) * perms, axis=1)
    p_value = (1.0 + np.sum(permuted >= observed - 1e-12)) / (1.0 + num_permutations)
    value, stderr = mmd_squared_with_stderr(
        tf.constant(pooled[:m]), tf.constant(pooled[m:]), divergence.bandwidths)
    return Score("mmd", float(value), float(stderr),
                 f"unbiased MMD^2, Gaussian kernel mixture on standardised features / "
                 f"median distance; ± jackknife; p from {num_permutations} permutations",
                 higher_is_better=False, p_value=float(p_value))


def nearest_neighbour_check(train, samples, held_out, *, quantile=0.05):
    """Memorisation check: distances of samples to their nearest training example.

    Compares the distances d(sample, nearest training example) with the same
    distances for held-out real data. ``copy_share`` is the share of samples
    closer to a training example than the ``quantile`` of the held-out
    distances: about ``quantile`` for a model that generalises, near 1 for one
    that replays its training set. Also returns the ratio of the medians.

    Returns:
        A `Score` (copy share, binomial error) with ``extra`` holding
        ``median_ratio``, ``exact_copies`` and the threshold.
    """
    from sklearn.neighbors import NearestNeighbors

    train, samples = _pair(train, samples)
    held_out = _features(held_out, "held_out")
    index = NearestNeighbors(n_neighbors=1).fit(train)
    d_samples = index.kneighbors(samples)[0][:, 0]
    d_held = index.kneighbors(held_out)[0][:, 0]
    threshold = float(np.quantile(d_held, quantile))
    share = float(np.mean(d_samples < threshold)) if threshold > 0 else float(
        np.mean(d_samples <= 0))
    median_held = float(np.median(d_held))
    return Score(
        "copy_share", share, _binomial_se(share, len(samples)),
        f"share of samples nearer a training image than {quantile:.0%} of held-out "
        f"images are (pixel distance); held-out data give {quantile:.0%}; ± binomial",
        higher_is_better=False,
        extra={"median_ratio": float(np.median(d_samples)) / max(median_held, 1e-12),
               "exact_copies": float(np.mean(d_samples <= 1e-9)),
               "threshold": threshold, "quantile": quantile})
