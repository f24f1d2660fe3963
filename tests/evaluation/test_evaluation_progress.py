"""Progress lines (silent with verbose=0) and the importance sampler's standard error."""

import math
import re

import numpy as np
import pytest

import unigen
from unigen import evaluation as ev
from unigen.evaluation._likelihood import importance_estimate


def test_importance_standard_error_matches_a_known_variance():
    # log w ~ N(0, s^2): w is log-normal with mean m = exp(s^2 / 2) and variance
    # (exp(s^2) - 1) m^2, so log p-hat has standard error sqrt((exp(s^2) - 1) / K).
    s, k, n = 0.5, 400, 3000
    rng = np.random.default_rng(0)
    log_p, stderr, ess = importance_estimate(rng.normal(0.0, s, (n, k)))
    expected = math.sqrt((math.exp(s * s) - 1) / k)
    assert np.mean(stderr) == pytest.approx(expected, rel=0.03)
    assert np.std(log_p, ddof=1) == pytest.approx(expected, rel=0.05)  # the real spread
    assert np.mean(log_p) == pytest.approx(s * s / 2, abs=4 * expected / math.sqrt(n) + 1e-3)
    # effective sample size K / E[w^2] * E[w]^2 = K exp(-s^2)
    assert np.mean(ess) == pytest.approx(k * math.exp(-s * s), rel=0.03)
    equal, zero, full = importance_estimate(np.full((2, 5), -3.0))
    np.testing.assert_allclose(equal, -3.0)
    np.testing.assert_allclose(zero, 0.0, atol=1e-12)
    np.testing.assert_allclose(full, 5.0)


@pytest.fixture(scope="module")
def vae():
    x = unigen.datasets.as_numpy("digits", "train")[:200].reshape(-1, 64)
    model = unigen.models.create("vae", event_shape=(64,), num_levels=17, latent_dim=2)
    unigen.fit(model, x, epochs=1, batch_size=50, seed=0, verbose=0, sample_every_epoch=0)
    return model


def test_vae_weights_give_its_log_prob_and_the_score_carries_the_error(vae):
    test = unigen.datasets.as_numpy("digits", "test")[:40].reshape(-1, 64)
    weights = vae.log_importance_weights(test, num_samples=16, seed=3)
    log_p, _, _ = importance_estimate(np.asarray(weights))
    np.testing.assert_allclose(log_p, np.asarray(vae.log_prob(test, num_samples=16, seed=3)),
                               rtol=1e-5, atol=1e-4)
    score = ev.likelihood(vae, test, importance_samples=16, verbose=0)
    assert score.extra["kind"] == "importance"
    assert 0 < score.extra["monte_carlo_stderr"] < score.extra["importance_stderr"]
    assert "Monte Carlo error of the mean" in score.estimator
    more = ev.likelihood(vae, test, importance_samples=256, verbose=0)
    assert more.extra["importance_stderr"] < score.extra["importance_stderr"]


def _no_bar(text):
    """No Keras progress bar: no bar glyphs, no carriage returns, no 'n/m' counters."""
    assert "━" not in text and "\r" not in text and "[====" not in text, text
    assert not re.search(r"\b\d+/\d+ \S*\s", text), text


def test_verbose_zero_prints_nothing_and_one_prints_one_line(vae, capsys):
    test = unigen.datasets.as_numpy("digits", "test")[:24].reshape(-1, 64)
    # K = 4096 draws: 16 examples per call, so 2 batches (a progress bar until 0.3.0)
    ev.likelihood(vae, test, importance_samples=4096, verbose=0)
    ev.ais_log_prob(vae, test, num_steps=2, num_chains=1, batch_size=16, verbose=0)
    assert capsys.readouterr().out == ""
    ev.likelihood(vae, test, importance_samples=4096, verbose=1)
    out = capsys.readouterr().out
    _no_bar(out)
    assert re.fullmatch(r"nll \(IWAE\) on 24 examples: \d+\.\d\d nats, \S+ s\n", out), out
    ev.ais_log_prob(vae, test, num_steps=2, num_chains=1, batch_size=16, verbose=1)
    out = capsys.readouterr().out
    _no_bar(out)
    assert re.fullmatch(r"AIS \(2 steps × 1 chain\) on 24 examples: \S+ s\n", out), out
    x = np.random.default_rng(0).integers(0, 4, (40, 4, 4, 1)).astype(np.uint8)

    class Replay:
        has_log_prob, num_levels, event_shape = False, 4, (4, 4, 1)

        def sample(self, n, seed=None):
            return np.resize(x, (n, 4, 4, 1)).astype(np.float32)

    flat = lambda a: np.asarray(a, np.float64).reshape(len(a), -1)  # noqa: E731
    ev.compare({"replay": Replay()}, x[:20], train=x[20:], validation=x[:20], features=flat,
               metrics=["fid"], references=False, verbose=0)
    assert capsys.readouterr().out == ""
