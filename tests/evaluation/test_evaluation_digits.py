"""Calibration of `unigen.evaluate` on digits: real data, collapse, copies, noise."""

import os

import numpy as np
import pytest

import unigen
from unigen import evaluation as ev


@pytest.fixture(scope="module")
def digits(tmp_path_factory):
    # One feature-network cache for the whole session (shared with test_compare_cli).
    cache = tmp_path_factory.getbasetemp() / "features"  # = $UNIGEN_CACHE_DIR/features
    ctx = ev.EvaluationData("digits", cache_dir=str(cache))
    base = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    base.build((None, 8, 8, 1))
    base.data_dependent_init(np.asarray(ctx.train_x, np.float32))
    return ctx, base


class _Replay:
    """Plays back a fixed array of images (a stand-in for a model)."""

    has_log_prob, num_levels, event_shape = False, 17, (8, 8, 1)

    def __init__(self, images):
        self.images = np.asarray(images, np.float32)

    def sample(self, n, seed=None):
        return np.resize(self.images, (n, 8, 8, 1))


def test_digits_feature_network_ships_with_unigen(digits, tmp_path):
    ctx, _ = digits
    net = ctx.feature_network
    assert net.test_accuracy > 0.95
    # the shipped weights, not a network trained on this machine: nothing is cached
    shipped = os.path.join(os.path.dirname(ev._features.__file__), "weights")
    assert os.path.dirname(net.path) == shipped and net.path.endswith(".npz")
    again = ev.feature_network("digits", cache_dir=str(tmp_path))
    assert again.path == net.path and not os.listdir(tmp_path)
    np.testing.assert_array_equal(again.features(ctx.x[:20]), net.features(ctx.x[:20]))


def test_feature_network_of_arrays_is_cached_and_exported_weights_are_used(tmp_path,
                                                                           monkeypatch):
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    x, y = x[:300], y[:300]
    cache = str(tmp_path / "cache")
    net = ev.feature_network("mine", train=(x, y), num_levels=17, cache_dir=cache)
    assert net.path.startswith(cache) and net.path.endswith(".keras")
    again = ev.feature_network("mine", train=(x, y), num_levels=17, cache_dir=cache)
    assert again.path == net.path
    np.testing.assert_allclose(again.features(x[:20]), net.features(x[:20]),
                               rtol=1e-5, atol=1e-5)
    # weights written by `export` into the shipped directory replace training
    weights = tmp_path / "weights"
    weights.mkdir()
    monkeypatch.setattr(ev._features, "_SHIPPED_DIR", str(weights))
    net.export(str(weights / (ev._features.shipped_key("mine", x, y, num_levels=17) + ".npz")))
    shipped = ev.feature_network("mine", train=(x, y), num_levels=17,
                                 cache_dir=str(tmp_path / "empty"))
    assert shipped.path.startswith(str(weights)) and not (tmp_path / "empty").exists()
    np.testing.assert_array_equal(shipped.features(x[:20]), net.features(x[:20]))


def test_real_data_near_the_floor_and_collapse_clearly_worse(digits):
    ctx, _ = digits
    metrics = ["fid", "kid", "precision_recall", "density_coverage", "c2st", "memorisation"]
    held_out = ctx.train_x[-350:]  # real images that are not the test images
    real = ev.evaluate(_Replay(held_out), ctx, metrics=metrics)
    collapsed = ev.evaluate(_Replay(ctx.train_x[:10]), ctx, metrics=metrics)
    floor = real["fid"].extra["floor"]
    assert real["fid"].value < 3 * floor + 5
    assert abs(real["kid"].value) < 5 * real["kid"].stderr + real["kid"].extra["floor"] + 5
    assert real["recall"].value > 0.8 and real["coverage"].value > 0.8
    assert real["c2st"].p_value > 0.001
    assert collapsed["recall"].value < 0.2 and collapsed["coverage"].value < 0.3
    assert collapsed["fid"].value > 5 * real["fid"].value
    assert collapsed["c2st"].p_value < 0.05


def test_memoriser_is_caught_by_the_nearest_neighbour_check(digits):
    ctx, _ = digits
    memoriser = ev.Memoriser(ctx.train_x, 17, validation=ctx.validation)
    scores = ev.evaluate(memoriser, ctx, metrics=["nll", "precision_recall", "memorisation"])
    assert scores["precision"].value > 0.8  # its samples look perfect...
    assert scores["copy_share"].value > 0.95  # ...because they are copies
    assert scores["copy_share"].extra["floor"] < 0.15
    assert scores["nll"].extra["kind"] == "exact" and scores["nll"].value == np.inf
    assert scores["nll_parzen"].extra["kind"] == "parzen"


def test_noise_mixture_has_good_likelihood_and_bad_precision(digits):
    ctx, base = digits
    noise = ev.NoiseMixture(base, 0.01)
    base_scores = ev.evaluate(base, ctx, metrics=["nll", "precision_recall"])
    scores = ev.evaluate(noise, ctx, metrics=["nll", "precision_recall"])
    gap = scores["nll"].value - base_scores["nll"].value
    assert 0 <= gap <= np.log(100) + 1e-6  # within log 100 nats of the base model
    assert scores["precision"].value < 0.3 < base_scores["precision"].value
    assert base_scores["nll"].extra["kind"] == "exact"
    x = ctx.x[:5]
    expected = np.logaddexp(np.log(0.01) + np.asarray(base.log_prob(x)),
                            np.log(0.99) - 64 * np.log(17))
    np.testing.assert_allclose(noise.log_prob(x), expected, rtol=1e-6)


def test_evaluate_accepts_a_tf_dataset_and_infers_digits(digits):
    ctx, base = digits
    test = unigen.datasets.load("digits", split="test")
    scores = unigen.evaluate(base, test, metrics=["nll", "fid"], cache_dir=ctx.cache_dir)
    assert scores["fid"].extra["floor"] == pytest.approx(
        ev.evaluate(base, ctx, metrics=["fid"])["fid"].extra["floor"])
    assert np.isfinite(scores["nll"].extra["bits_per_dim"])


def test_feature_network_training_is_deterministic():
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    a = ev.FeatureNetwork.train(x[:200], y[:200], num_levels=17, epochs=1, seed=3)
    b = ev.FeatureNetwork.train(x[:200], y[:200], num_levels=17, epochs=1, seed=3)
    for wa, wb in zip(a.classifier.get_weights(), b.classifier.get_weights(), strict=True):
        np.testing.assert_array_equal(wa, wb)
