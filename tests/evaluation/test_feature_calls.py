"""The feature network is called without tf.function retracing, with predict's numbers."""

import numpy as np
from conftest import run_python

import unigen
from unigen.evaluation._features import feature_network

_SCRIPT = """
import unigen
model = unigen.models.create("gaussian", "digits")
for seed in range(3):  # each call builds its own feature network, as a user's loop does
    unigen.evaluate(model, "digits", metrics=["fid", "inception_score"], num_samples=100,
                    verbose=0, seed=seed, cache_dir={cache!r})
print("done")
"""


def test_repeated_evaluate_does_not_retrace(tmp_path):
    proc = run_python(["-c", _SCRIPT.format(cache=str(tmp_path))], timeout=300)
    assert "done" in proc.stdout
    assert "retracing" not in proc.stderr, proc.stderr[-3000:]


def test_features_equal_keras_predict(tmp_path):
    net = feature_network("digits", cache_dir=str(tmp_path))
    rng = np.random.default_rng(0)
    for x in (unigen.datasets.as_numpy("digits", "test"), rng.integers(0, 17, (600, 8, 8, 1)),
              np.zeros((0, 8, 8, 1))):
        scaled = net._scale(x)
        if len(x):
            features = net._features.predict(scaled, batch_size=512, verbose=0)
            logits = net.classifier.predict(scaled, batch_size=512, verbose=0)
        else:
            features, logits = np.zeros((0, 64)), np.zeros((0, 10))
        np.testing.assert_allclose(net.features(x), features, rtol=0, atol=1e-6)
        expected = np.exp(logits - logits.max(1, keepdims=True))
        expected /= expected.sum(1, keepdims=True)
        np.testing.assert_allclose(net.probabilities(x), expected, rtol=0, atol=1e-6)
        assert net.features(x).dtype == np.float64 and net.features(x).shape == (len(x), 64)
