"""``features="inception_v3"``: Keras's InceptionV3 from a user-supplied weights file.

A randomly initialised InceptionV3 saved to a temporary file stands in for the
ImageNet weights (nothing is downloaded): the features and logits must equal a
direct computation with Keras's own preprocessing, and FID on them the formula.
"""

import numpy as np
import pytest

import unigen
from unigen.evaluation import EvaluationData


def test_missing_weights_file_says_where_to_get_it(tmp_path, monkeypatch):
    monkeypatch.delenv("UNIGEN_INCEPTION_WEIGHTS", raising=False)
    x = np.zeros((4, 8, 8, 1), np.uint8)
    with pytest.raises(FileNotFoundError, match=r"(?s)never downloads.*\.keras.*"
                                                r"inception_weights="):
        EvaluationData(x, features="inception_v3")
    missing = str(tmp_path / "nope.h5")
    with pytest.raises(FileNotFoundError, match=r"nope\.h5"):
        EvaluationData(x, features="inception_v3", inception_weights=missing)
    monkeypatch.setenv("UNIGEN_INCEPTION_WEIGHTS", missing)
    with pytest.raises(FileNotFoundError, match=r"nope\.h5"):
        unigen.evaluate(object(), x, metrics=["fid"], features="inception_v3")
    with pytest.raises(ValueError, match="inception_weights"):
        EvaluationData(x, features="classifier", inception_weights=missing)


def test_features_and_logits_equal_a_direct_computation_and_fid_the_formula(tmp_path):
    import keras
    import tensorflow as tf

    reference = keras.applications.InceptionV3(weights=None, include_top=True,
                                               classifier_activation=None)
    path = str(tmp_path / "random_inception.weights.h5")
    reference.save_weights(path)

    levels = 17
    images = np.random.default_rng(0).integers(0, levels, (4, 8, 8, 1)).astype(np.uint8)
    ctx = EvaluationData(images, features="inception_v3", inception_weights=path,
                         num_levels=levels)
    network = ctx.feature_network
    network.batch_size = 3  # two batches
    features, logits = network._outputs(images)

    # Keras's own preprocessing of 0..255 RGB images at 299x299.
    rgb = np.repeat(images.astype(np.float32) * (255.0 / (levels - 1)), 3, axis=-1)
    resized = tf.image.resize(rgb, (299, 299), method="bilinear")
    direct_in = keras.applications.inception_v3.preprocess_input(np.array(resized))
    pool = keras.Model(reference.inputs, [reference.get_layer("avg_pool").output,
                                          reference.output])
    direct_features, direct_logits = (np.asarray(a, np.float64)
                                      for a in pool(direct_in, training=False))
    assert features.shape == (4, 2048) and logits.shape == (4, 1000)
    np.testing.assert_allclose(features, direct_features, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(logits, direct_logits, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(ctx.features(images[:1]), features[:1], rtol=1e-5, atol=1e-6)

    # FID = |m1 - m2|^2 + tr C1 + tr C2 - 2 tr (C1 C2)^(1/2); with n examples
    # C = A^T A / (n - 1) and tr (C1 C2)^(1/2) = nuclear norm of A1 A2^T / (n - 1).
    real, fake = direct_features[:2], direct_features[2:]
    a1, a2 = real - real.mean(0), fake - fake.mean(0)
    cross = np.linalg.svd(a1 @ a2.T, compute_uv=False).sum()  # n - 1 = 1
    formula = (np.sum((real.mean(0) - fake.mean(0)) ** 2) + np.sum(a1 ** 2)
               + np.sum(a2 ** 2) - 2.0 * cross)
    score = unigen.evaluation.fid(features[:2], features[2:], num_bootstrap=0)
    np.testing.assert_allclose(score.value, formula, rtol=1e-4)


def test_compare_command_refuses_a_missing_weights_file_before_training(tmp_path):
    from unigen.cli import _parser
    from unigen.evaluation._cli import run_compare

    args = _parser().parse_args(
        ["compare", "--data", "digits", "--models", "gaussian", "--out", str(tmp_path / "out"),
         "--inception-weights", str(tmp_path / "absent.h5")])
    with pytest.raises(FileNotFoundError, match=r"absent\.h5"):
        run_compare(args)
    assert not (tmp_path / "out" / "models").exists()
