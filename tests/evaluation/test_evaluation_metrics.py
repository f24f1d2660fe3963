"""Sample-quality metrics against closed forms and simulations (NumPy only, fast)."""

import math

import numpy as np
import pytest
import scipy.linalg
from scipy import stats

from unigen import evaluation as ev
from unigen.evaluation._parzen import _log_bin_mass


def _random_cov(rng, d):
    a = rng.normal(size=(d, d))
    return a @ a.T / d + 0.1 * np.eye(d)


def test_frechet_distance_matches_the_closed_form_between_gaussians():
    rng = np.random.default_rng(0)
    d = 5
    m1, m2 = rng.normal(size=d), rng.normal(size=d)
    c1, c2 = _random_cov(rng, d), _random_cov(rng, d)
    root = scipy.linalg.sqrtm(c1 @ c2).real
    expected = np.sum((m1 - m2) ** 2) + np.trace(c1 + c2 - 2 * root)
    assert ev.frechet_distance(m1, c1, m2, c2) == pytest.approx(expected, rel=1e-8)
    # Diagonal covariances: sum (m1-m2)^2 + (s1 - s2)^2.
    s1, s2 = rng.uniform(0.5, 2, d), rng.uniform(0.5, 2, d)
    assert ev.frechet_distance(m1, np.diag(s1**2), m2, np.diag(s2**2)) == pytest.approx(
        np.sum((m1 - m2) ** 2) + np.sum((s1 - s2) ** 2), rel=1e-10)
    assert ev.frechet_distance(m1, c1, m1, c1) == pytest.approx(0.0, abs=1e-8)


def test_fid_of_samples_converges_to_the_closed_form():
    rng = np.random.default_rng(1)
    d = 4
    m1, m2 = np.zeros(d), np.full(d, 0.5)
    c1, c2 = _random_cov(rng, d), _random_cov(rng, d)
    x = rng.multivariate_normal(m1, c1, 20_000)
    y = rng.multivariate_normal(m2, c2, 20_000)
    score = ev.fid(x, y, num_bootstrap=5)
    assert score.value == pytest.approx(ev.frechet_distance(m1, c1, m2, c2), abs=4 * score.stderr
                                        + 0.02)
    assert score.stderr > 0


def test_kid_is_unbiased_for_real_versus_real():
    rng = np.random.default_rng(2)
    values = [ev.kid(rng.normal(size=(200, 8)), rng.normal(size=(200, 8)),
                     num_subsets=1, subset_size=200).value for _ in range(60)]
    mean, se = np.mean(values), np.std(values, ddof=1) / math.sqrt(len(values))
    assert abs(mean) < 3 * se
    shifted = ev.kid(rng.normal(size=(200, 8)), rng.normal(0.5, 1, size=(200, 8)))
    assert shifted.value > 10 * shifted.stderr


def test_precision_recall_density_coverage_on_known_cases():
    rng = np.random.default_rng(3)
    real = rng.normal(size=(500, 2))
    same = rng.normal(size=(500, 2))
    precision, recall = ev.precision_recall(real, same)
    density, coverage = ev.density_coverage(real, same)
    assert precision.value > 0.85 and recall.value > 0.85
    assert 0.8 < density.value < 1.2 and coverage.value > 0.85
    collapsed = np.repeat(real[:5], 100, axis=0) + 1e-3 * rng.normal(size=(500, 2))
    precision, recall = ev.precision_recall(real, collapsed)
    _, coverage = ev.density_coverage(real, collapsed)
    assert precision.value > 0.95 and recall.value < 0.1 and coverage.value < 0.1
    far = rng.normal(size=(500, 2)) + 20.0
    assert ev.precision_recall(real, far)[0].value == 0.0


def test_c2st_rejects_different_distributions():
    rng = np.random.default_rng(4)
    real = rng.normal(size=(300, 10))
    fake = rng.normal(size=(300, 10)) + 0.4
    score = ev.c2st(real, fake)
    assert score.value > 0.6 and score.p_value < 0.05
    # A ring against a Gaussian blob of the same mean: only the kNN classifier sees it.
    angle = rng.uniform(0, 2 * np.pi, 400)
    ring = np.stack([np.cos(angle), np.sin(angle)], 1)
    assert ev.c2st(ring, rng.normal(0, 0.5, size=(400, 2))).p_value < 0.05


def test_c2st_p_values_are_not_biased_under_the_null():
    rng = np.random.default_rng(5)
    p_values = np.array([ev.c2st(rng.normal(size=(100, 5)), rng.normal(size=(100, 5)),
                                 seed=i).p_value for i in range(50)])
    # Discrete binomial p-values are conservative: no excess of small values.
    assert np.mean(p_values < 0.05) <= 0.14
    assert 0.35 < np.mean(p_values) < 0.7
    assert stats.kstest(p_values, "uniform").pvalue > 1e-3


def test_mmd_test_permutation_p_values():
    rng = np.random.default_rng(6)
    same = ev.mmd_test(rng.normal(size=(150, 3)), rng.normal(size=(150, 3)), seed=1)
    different = ev.mmd_test(rng.normal(size=(150, 3)), rng.standard_t(3, size=(150, 3)),
                            seed=1)
    assert same.p_value > 0.01
    assert different.p_value < 0.05 and different.value > 0
    assert 1 / 201 <= different.p_value <= 1


def test_nearest_neighbour_check_catches_copies():
    rng = np.random.default_rng(7)
    train, held_out = rng.normal(size=(300, 6)), rng.normal(size=(200, 6))
    fresh = ev.nearest_neighbour_check(train, rng.normal(size=(200, 6)), held_out)
    copies = ev.nearest_neighbour_check(train, train[rng.integers(0, 300, 200)], held_out)
    assert fresh.value < 0.15 and copies.value == 1.0
    assert copies.extra["exact_copies"] == 1.0 and copies.extra["median_ratio"] == 0.0


def test_discrete_parzen_window_is_a_probability_mass():
    # Two pixels, three levels: the masses of all 9 images sum to 1.
    centres = np.array([[0, 2], [1, 1], [2, 0]], dtype=np.float64)
    grid = np.array([[a, b] for a in range(3) for b in range(3)], dtype=np.float64)
    for sigma in (0.2, 1.0, 4.0):
        total = np.exp(ev.parzen_log_prob(grid, centres, sigma, num_levels=3)).sum()
        assert total == pytest.approx(1.0, abs=1e-10)
        # Non-integer centres take the general path: the same maths.
        shifted = ev.parzen_log_prob(grid, centres + 0.25, sigma, num_levels=3)
        assert np.exp(shifted).sum() == pytest.approx(1.0, abs=1e-10)
    levels = np.arange(17.0)[:, None]
    assert np.exp(_log_bin_mass(levels, np.array([[3.0, 16.0]]), 0.7, 17)).sum(0) == (
        pytest.approx([1.0, 1.0]))


def test_continuous_parzen_window_matches_scipy():
    rng = np.random.default_rng(8)
    centres, x = rng.normal(size=(50, 2)), rng.normal(size=(20, 2))
    sigma = 0.3
    expected = np.log(np.mean([stats.multivariate_normal(c, np.eye(2) * sigma**2).pdf(x)
                               for c in centres], axis=0))
    assert ev.parzen_log_prob(x, centres, sigma) == pytest.approx(expected, rel=1e-8)
    validation = rng.normal(size=(100, 2))
    sigma, _ = ev.choose_bandwidth(validation, centres)
    assert 0.05 < sigma < 2.0


def test_inception_score_limits():
    confident = np.eye(10)[np.arange(1000) % 10]
    assert ev.inception_score(confident).value == pytest.approx(10.0, rel=1e-6)
    assert ev.inception_score(np.full((1000, 10), 0.1)).value == pytest.approx(1.0)


def test_image_only_metrics_fail_clearly_on_points():
    x = np.random.default_rng(9).normal(size=(100, 2)).astype(np.float32)

    class Points:
        has_log_prob, num_levels, event_shape = False, None, (2,)

        def sample(self, n, seed=None):
            return x[:n]

    with pytest.raises(ev.MetricNotApplicableError, match="'mmd', 'c2st'"):
        ev.evaluate(Points(), x, metrics=["fid"], train=x, validation=x)
    with pytest.raises(ev.MetricNotApplicableError, match="ring8, grid25"):
        ev.evaluate(Points(), x, metrics=["modes"], train=x, validation=x)
    with pytest.raises(ValueError, match="Unknown metric"):
        ev.evaluate(Points(), x, metrics=["fun"], train=x, validation=x)


def test_modes_on_ring8_and_user_arrays():
    import unigen

    data = unigen.datasets.as_numpy("ring8", "test", num_examples=400)

    class Collapsed:
        has_log_prob, num_levels, event_shape = False, None, (2,)

        def sample(self, n, seed=None):
            return np.tile(data[data[:, 0] > 0.9][:1], (n, 1))

    ctx = ev.EvaluationData(
        data, dataset="ring8",
        train=unigen.datasets.as_numpy("ring8", "train", num_examples=400),
        validation=unigen.datasets.as_numpy("ring8", "validation", num_examples=400))
    real = ev.evaluate(None, ctx, metrics=["modes", "precision_recall"],
                       samples=ctx.validation)
    collapsed = ev.evaluate(Collapsed(), ctx, metrics=["modes", "precision_recall", "nll"],
                            num_samples=300)
    assert real["modes"].value == 8 and real["high_quality"].value > 0.95
    assert collapsed["modes"].value == 1 and collapsed["recall"].value < 0.2
    assert collapsed["nll"].extra["kind"] == "parzen"


def test_user_image_arrays_with_a_feature_callable():
    rng = np.random.default_rng(10)
    train = rng.integers(0, 4, (120, 4, 4, 1)).astype(np.uint8)
    test = rng.integers(0, 4, (80, 4, 4, 1)).astype(np.uint8)
    val = rng.integers(0, 4, (80, 4, 4, 1)).astype(np.uint8)

    class Uniform:
        has_log_prob, num_levels, event_shape = True, 4, (4, 4, 1)
        likelihood_estimator = "exact uniform"

        def sample(self, n, seed=None):
            return np.random.default_rng(seed).integers(0, 4, (n, 4, 4, 1)).astype(np.float32)

        def log_prob(self, x):
            return np.full(len(x), -16 * np.log(4.0))

    flat = lambda x: np.asarray(x, np.float64).reshape(len(x), -1)  # noqa: E731
    scores = ev.evaluate(Uniform(), test, metrics=["nll", "fid", "precision_recall"],
                         train=train, validation=val, features=flat)
    assert scores["nll"].value == pytest.approx(16 * np.log(4.0))
    assert scores["nll"].extra["bits_per_dim"] == pytest.approx(2.0)
    assert scores["fid"].value < 5 * scores["fid"].extra["floor"] + 1
    # without training images there is nothing to train a feature network on
    with pytest.raises(ev.MetricNotApplicableError, match="train=\\(x, y\\)"):
        ev.evaluate(Uniform(), test, metrics=["fid"], validation=val)


# ------------------------------------- the lecture notes' two-sample and likelihood claims
def test_mmd_test_has_its_level_under_the_null_and_power_against_a_shift():
    # A two-sample test of H0: P = Q at level 0.05 rejects about 5% of null pairs
    # (a permutation p-value is valid at any sample size) and nearly every
    # pair from distributions a mean shift of 0.8 apart.
    rng = np.random.default_rng(11)
    trials = 40
    null = [ev.mmd_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)),
                        num_permutations=100, seed=i).p_value for i in range(trials)]
    shifted = [ev.mmd_test(rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 0.8,
                           num_permutations=100, seed=i).p_value for i in range(trials)]
    level, power = np.mean(np.array(null) <= 0.05), np.mean(np.array(shifted) <= 0.05)
    # Binomial(40, 0.05) exceeds 6 rejections with probability 0.014.
    assert level <= 6 / trials, level
    assert power >= 0.9, power


def test_noise_mixture_likelihood_stays_within_log_100_in_every_dimension():
    # p_theta = 0.01 p_data + 0.99 noise: E log p_theta >= E log p_data - log 100,
    # and <= E log p_data (Gibbs). The gap relative to |E log p_data| shrinks
    # like 1 / D while 99% of the samples are noise.
    import unigen

    for dim in (1, 10, 100, 1000):
        base = unigen.models.Gaussian(event_shape=(dim,), num_levels=None)
        data = np.asarray(base.sample(2000, seed=dim))
        mixture = ev.NoiseMixture(base, 0.01, value_range=(-10.0, 10.0))
        log_data = np.asarray(base.log_prob(data), np.float64).mean()
        gap = mixture.log_prob(data).mean() - log_data
        assert -math.log(100) - 1e-6 <= gap <= 1e-9, (dim, gap)
        if dim >= 100:
            assert abs(gap + math.log(100)) < 1e-3
            assert abs(gap / log_data) < 3.3 / dim  # log 100 / (D (1 + log 2 pi) / 2)
    samples = mixture.sample(4000, seed=0)
    noise_share = np.mean(np.abs(samples).max(axis=1) > 6.0)  # |N(0, 1)| < 6 for all
    assert abs(noise_share - 0.99) < 3 * math.sqrt(0.99 * 0.01 / 4000), noise_share
