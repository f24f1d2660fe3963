"""Sample quality on images without labels: the self-supervised feature network.

Digits passed as plain arrays (no labels, no dataset name), as a user's own
images would be. The calibration mirrors test_evaluation_digits: real data sit
at the floor, a collapsed model, the noise mixture and the memoriser are each
caught by the metric that should catch them.
"""

import os

import numpy as np
import pytest

import unigen
from unigen import evaluation as ev


class _Replay:
    """Plays back a fixed array of images (a stand-in for a model)."""

    has_log_prob, num_levels = False, 17

    def __init__(self, images):
        self.images = np.asarray(images, np.float32)
        self.event_shape = self.images.shape[1:]  # unigen.evaluate checks it against the data

    def sample(self, n, seed=None):
        return np.resize(self.images, (n, *self.images.shape[1:]))


@pytest.fixture(scope="module")
def unlabelled(tmp_path_factory):
    cache = str(tmp_path_factory.mktemp("ssl_cache"))
    train, train_y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    test, test_y = unigen.datasets.as_numpy("digits", "test", with_labels=True)
    validation = unigen.datasets.as_numpy("digits", "validation")
    # 440 of the 447 test images: not a built-in split, so nothing is inferred
    test, test_y = test[:440], test_y[:440]
    # fewer epochs than the default (30) to keep the test short
    net = ev.feature_network("user", train=train, num_levels=17, cache_dir=cache, epochs=12)
    ctx = ev.EvaluationData(test, train=train, validation=validation, num_levels=17,
                            features=net, verbose=0)
    assert ctx.info is None
    return ctx, cache, (train_y, test_y)


def test_unlabelled_images_get_a_cached_self_supervised_network(unlabelled):
    ctx, cache, (train_y, test_y) = unlabelled
    net = ctx.feature_network
    assert net.objective == "contrastive" and net.test_accuracy is None
    assert "without labels" in net.description
    assert net.path.startswith(cache) and os.path.exists(net.path)
    again = ev.feature_network("user", train=ctx.train_x, num_levels=17, cache_dir=cache,
                               epochs=12)
    assert again.path == net.path and again.objective == "contrastive"
    np.testing.assert_allclose(again.features(ctx.x[:20]), net.features(ctx.x[:20]),
                               rtol=1e-5, atol=1e-5)
    # the features carry the classes it never saw: nearest-neighbour accuracy
    from sklearn.neighbors import KNeighborsClassifier

    accuracy = KNeighborsClassifier(5).fit(net.features(ctx.train_x), train_y).score(
        net.features(ctx.x), test_y)
    assert accuracy > 0.85
    probs = net.probabilities(ctx.x)
    assert probs.shape == (len(ctx.x), 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-6)
    assert len(np.unique(probs.argmax(1))) >= 8  # the clusters are used


def test_calibration_without_labels(unlabelled):
    ctx, _, _ = unlabelled
    metrics = ["fid", "kid", "precision_recall", "density_coverage", "inception_score",
               "c2st", "memorisation"]
    real = ev.evaluate(_Replay(ctx.train_x[-350:]), ctx, metrics=metrics, verbose=0)
    collapsed = ev.evaluate(_Replay(ctx.train_x[:10]), ctx, metrics=metrics, verbose=0)
    base = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    base.build((None, 8, 8, 1))
    base.data_dependent_init(np.asarray(ctx.train_x, np.float32))
    noise = ev.evaluate(ev.NoiseMixture(base, 0.01), ctx, metrics=metrics, verbose=0)
    memoriser = ev.evaluate(ev.Memoriser(ctx.train_x, 17, validation=ctx.validation), ctx,
                            metrics=metrics, verbose=0)
    floor = real["fid"].extra["floor"]  # features scaled to unit variance: floor ~ 1
    assert real["fid"].value < 3 * floor + 1
    assert real["recall"].value > 0.8 and real["coverage"].value > 0.8
    assert real["c2st"].p_value > 0.001
    # the ordering: real ~ memoriser (copies of real images) << collapse, noise
    assert memoriser["fid"].value < 3 * floor + 1 < 10 * floor < collapsed["fid"].value
    assert noise["fid"].value > 10 * max(real["fid"].value, memoriser["fid"].value)
    assert noise["kid"].value > 10 * noise["kid"].stderr + memoriser["kid"].value
    assert collapsed["recall"].value < 0.2 and collapsed["coverage"].value < 0.3
    assert noise["precision"].value < 0.3 < memoriser["precision"].value
    assert memoriser["copy_share"].value > 0.95 > 0.15 > real["copy_share"].extra["floor"]
    assert collapsed["inception_score"].value < real["inception_score"].value
    assert noise["c2st"].p_value < 0.05 and collapsed["c2st"].p_value < 0.05


def test_evaluate_trains_the_network_on_unlabelled_train_images(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.integers(0, 4, (60, 4, 4, 1)).astype(np.uint8)
    ctx = ev.EvaluationData(x[:20], train=x[20:], validation=x[:20], num_levels=4,
                            cache_dir=str(tmp_path), verbose=0)
    scores = ev.evaluate(_Replay(x[20:40]), ctx, metrics=["fid", "inception_score"],
                         verbose=0)
    assert ctx.feature_network.objective == "contrastive"
    assert np.isfinite(scores["fid"].value) and scores["inception_score"].value >= 1.0
    assert len(list(tmp_path.glob("user-*.keras"))) == 1


def test_unlabelled_images_without_train_still_say_what_to_pass():
    x = np.random.default_rng(0).integers(0, 4, (40, 4, 4, 1)).astype(np.uint8)
    with pytest.raises(ev.MetricNotApplicableError, match="train=x"):
        ev.evaluate(_Replay(x), x, metrics=["fid"], verbose=0)
    with pytest.raises(ev.MetricNotApplicableError, match="needs labels"):
        ev.evaluate(_Replay(x), x, metrics=["fid"], train=x, features="classifier",
                    verbose=0)
    with pytest.raises(ValueError, match="`features` must be one of"):
        ev.EvaluationData(x, features="inception")
