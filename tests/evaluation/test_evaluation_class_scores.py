"""MODE and AM scores against hand computations on fixed probability arrays."""

import math

import numpy as np
import pytest

from unigen import evaluation as ev


def test_mode_and_am_scores_by_hand():
    probs = np.array([[0.9, 0.1], [0.6, 0.4]])
    real = np.array([[0.8, 0.2], [0.6, 0.4]])  # p* = (0.7, 0.3)
    # sample marginal p(y) = (0.75, 0.25)
    kl_1 = 0.9 * math.log(0.9 / 0.7) + 0.1 * math.log(0.1 / 0.3)
    kl_2 = 0.6 * math.log(0.6 / 0.7) + 0.4 * math.log(0.4 / 0.3)
    kl_marginal = 0.75 * math.log(0.75 / 0.7) + 0.25 * math.log(0.25 / 0.3)
    mode = ev.mode_score(probs, real)
    assert mode.value == pytest.approx(math.exp((kl_1 + kl_2) / 2 - kl_marginal), rel=1e-9)
    assert mode.higher_is_better and mode.stderr >= 0
    kl_star = 0.7 * math.log(0.7 / 0.75) + 0.3 * math.log(0.3 / 0.25)
    entropy = (-(0.9 * math.log(0.9) + 0.1 * math.log(0.1))
               - (0.6 * math.log(0.6) + 0.4 * math.log(0.4))) / 2
    am = ev.am_score(probs, real)
    assert am.value == pytest.approx(kl_star + entropy, rel=1e-9)
    assert am.higher_is_better is False


def test_mode_and_am_scores_limits():
    k = 4
    confident = np.eye(k)[np.arange(400) % k]  # every class, each sample certain
    uniform_real = np.full((10, k), 1.0 / k)
    # perfect samples: MODE = number of classes, AM = 0
    assert ev.mode_score(confident, uniform_real).value == pytest.approx(k, rel=1e-6)
    assert ev.am_score(confident, uniform_real).value == pytest.approx(0.0, abs=1e-6)
    # one class only: MODE = exp(log k - log k) = 1, AM = KL(p* || p) is huge
    collapsed = np.eye(k)[np.zeros(400, int)]
    assert ev.mode_score(collapsed, uniform_real).value == pytest.approx(1.0, rel=1e-6)
    assert ev.am_score(collapsed, uniform_real).value > 10
    # undecided samples: MODE = 1 (no confidence), AM = log k (entropy)
    undecided = np.full((400, k), 1.0 / k)
    assert ev.mode_score(undecided, uniform_real).value == pytest.approx(1.0, rel=1e-6)
    assert ev.am_score(undecided, uniform_real).value == pytest.approx(math.log(k), rel=1e-6)
    with pytest.raises(ValueError, match="classes"):
        ev.mode_score(confident, np.full((3, k + 1), 0.2))


def test_bootstrap_standard_error_shrinks_with_more_samples():
    rng = np.random.default_rng(0)
    real = rng.dirichlet(np.ones(5), 200)
    small = ev.am_score(rng.dirichlet(np.ones(5), 50), real).stderr
    large = ev.am_score(rng.dirichlet(np.ones(5), 5000), real).stderr
    assert 0 < large < small / 4
