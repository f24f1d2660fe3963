"""The GAN tricks of the notes as `unigen.GAN` options: feature matching, minibatch
discrimination, batch norm in the critic with separate real/fake statistics,
flipped labels and the semi-supervised K+1-class critic."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.models.gan import _ops as ops
from unigen.models.gan._critic import GANCritic
from unigen.models.gan.layers import MinibatchDiscrimination


def _softplus(v):
    return np.logaddexp(0.0, v)


def _features_net(inputs=3, features=4):
    keras.utils.set_random_seed(0)
    return keras.Sequential([keras.Input((inputs,)), keras.layers.Dense(features,
                                                                        activation="tanh")])


def _batches(n=6, d=3):
    rng = np.random.default_rng(0)
    return (rng.normal(size=(n, d)).astype("float32"),
            rng.normal(size=(n, d)).astype("float32"))


def test_k_plus_one_loss_equals_the_hand_computation():
    critic = GANCritic(_features_net(), "js", semi_supervised_classes=3, supervised_weight=0.7)
    critic.build((None, 3))
    real, fake = _batches()
    labels = np.array([0, 2, -1, 1, -1, -1], "int32")
    total, logs = critic.loss(real, fake, labels, training=False)
    lr = critic.outputs(real, labels)[1]["class_logits"].numpy().astype("float64")
    lf = critic.outputs(fake, labels)[1]["class_logits"].numpy().astype("float64")
    z_real, z_fake = np.exp(lr).sum(-1), np.exp(lf).sum(-1)
    unsupervised = (-np.mean(np.log(z_real / (z_real + 1.0)))
                    - np.mean(np.log(1.0 / (z_fake + 1.0))))
    log_p = lr - np.log(z_real)[:, None]
    labelled = labels >= 0
    supervised = -np.sum(log_p[labelled, labels[labelled]]) / len(labels)
    np.testing.assert_allclose(float(logs["supervised_loss"]), supervised, rtol=1e-5)
    np.testing.assert_allclose(float(total), unsupervised + 0.7 * supervised, rtol=1e-5)
    probabilities = critic.classify(real).numpy()
    np.testing.assert_allclose(probabilities, np.exp(log_p), rtol=1e-5, atol=1e-6)


def test_feature_matching_loss_against_numpy():
    critic = GANCritic(_features_net(), "js", feature_matching=2.5)
    critic.build((None, 3))
    real, fake = _batches()
    fr = critic.outputs(real)[1]["features"].numpy().astype("float64")
    ff = critic.outputs(fake)[1]["features"].numpy().astype("float64")
    matching = np.sum((fr.mean(0) - ff.mean(0)) ** 2)
    np.testing.assert_allclose(float(ops.feature_matching_loss(fr, ff)), matching, rtol=1e-6)
    v_fake = critic(fake).numpy().astype("float64")
    expected = np.mean(_softplus(-v_fake)) + 2.5 * matching  # non-saturating + lambda FM
    np.testing.assert_allclose(float(critic.generator_loss(fake, real)), expected, rtol=1e-5)
    # Without the real batch there is nothing to match.
    np.testing.assert_allclose(float(critic.generator_loss(fake)),
                               np.mean(_softplus(-v_fake)), rtol=1e-5)


def test_minibatch_discrimination_formula_shape_and_permutation_equivariance():
    layer = MinibatchDiscrimination(num_kernels=4, kernel_dim=3)
    x = np.random.default_rng(1).normal(size=(5, 6)).astype("float32")
    out = layer(x).numpy()
    assert out.shape == (5, 10) == tuple(layer.compute_output_shape((5, 6)))
    np.testing.assert_array_equal(out[:, :6], x)
    m = (x.astype("float64") @ layer.kernel.numpy().astype("float64")).reshape(5, 4, 3)
    c = np.exp(-np.abs(m[:, None] - m[None, :]).sum(-1))  # [i, j, b]
    expected = c.sum(1) - 1.0
    np.testing.assert_allclose(out[:, 6:], expected, rtol=1e-5, atol=1e-6)
    perm = np.array([3, 0, 4, 1, 2])
    np.testing.assert_allclose(layer(x[perm]).numpy(), out[perm], rtol=1e-5, atol=1e-6)
    again = MinibatchDiscrimination.from_config(layer.get_config())
    assert (again.num_kernels, again.kernel_dim) == (4, 3)
    with pytest.raises(ValueError, match="num_kernels"):
        MinibatchDiscrimination(num_kernels=0)


def test_critic_batch_norm_normalises_real_and_fake_separately():
    gan = unigen.models.DCGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=4,
                              num_levels=17, discriminator_batch_norm=True)
    gan.build()
    assert any(isinstance(layer, keras.layers.BatchNormalization)
               for layer in gan.discriminator.layers)
    rng = np.random.default_rng(0)
    real = rng.uniform(-1, 1, (8, 8, 8, 1)).astype("float32")
    seen = []
    original = gan.critic.outputs

    def spy(x, context=None, training=False):
        out = original(x, context, training)
        seen.append(out[0].numpy())
        return out

    gan.critic.outputs = spy
    for scale in (0.1, 5.0):  # two very different fake batches
        gan.critic.loss(real, scale * rng.normal(size=real.shape).astype("float32"),
                        training=True)
    gan.critic.outputs = original
    np.testing.assert_array_equal(seen[0], seen[2])  # the real values: same either way
    joint = original(np.concatenate([real, 5.0 * real]), training=True)[0].numpy()[:8]
    assert not np.allclose(joint, seen[0], atol=1e-4)  # one joint batch would differ
    with pytest.raises(ValueError, match="gradient penalty"):
        unigen.models.DCGAN(image_shape=(8, 8, 1), divergence="wasserstein",
                            gradient_penalty=10.0, discriminator_batch_norm=True)


def test_flipped_labels_equal_binary_cross_entropy_with_swapped_targets():
    rng = np.random.default_rng(2)
    vr, vf = rng.normal(size=7), rng.normal(size=7)
    mr, mf = rng.uniform(size=7) < 0.4, rng.uniform(size=7) < 0.4
    bce = (np.mean(np.where(mr, _softplus(vr), _softplus(-vr)))
           + np.mean(np.where(mf, _softplus(-vf), _softplus(vf))))
    plain = np.mean(_softplus(-vr)) + np.mean(_softplus(vf))
    term = ops.flipped_label_term(vr.astype("float32"), vf.astype("float32"), mr, mf)
    np.testing.assert_allclose(plain + float(term), bce, rtol=1e-5)
    # In a critic, about p of the targets flip (here measured on the masks drawn).
    critic = GANCritic(keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)]), "js",
                       label_flip=0.3)
    flips = critic._flips(tf.constant(4000), keras.random.SeedGenerator(0)).numpy()
    assert abs(flips.mean() - 0.3) < 0.03


@pytest.mark.parametrize("options, match", [
    ({"label_flip": 0.5}, "label_flip"),
    ({"label_flip": 0.1, "divergence": "hinge"}, "label_flip"),
    ({"feature_matching": -1.0}, "feature_matching"),
    ({"minibatch_discrimination": -2}, "minibatch_discrimination"),
    ({"semi_supervised_classes": 0}, "semi_supervised_classes"),
    ({"semi_supervised_classes": 3, "divergence": "hinge"}, "js"),
    ({"semi_supervised_classes": 3, "num_classes": 3}, "exclude"),
    ({"feature_matching": 1.0, "pack": 2}, "pack"),
])
def test_bad_trick_options_name_the_argument(options, match):
    with pytest.raises((ValueError, TypeError), match=match):
        unigen.models.MLPGAN(event_shape=(2,), latent_dim=2, hidden_units=(8,), **options)


def test_tricks_train_serialise_and_classify(tmp_path):
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    x, y = np.asarray(x[:64]), np.asarray(y[:64]).astype("int32")
    y[16:] = -1  # 16 labelled examples
    options = dict(image_shape=(8, 8, 1), latent_dim=4, base_filters=4, num_levels=17,
                   semi_supervised_classes=10, feature_matching=1.0,
                   minibatch_discrimination=3, label_flip=0.05,
                   discriminator_batch_norm=True)
    gan = unigen.fit(lambda: unigen.models.DCGAN(**options), (x, y), epochs=1, batch_size=32,
                     verbose=0).model
    history = gan.history.history
    assert np.isfinite(history["supervised_loss"]).all()
    assert gan.classify(x[:5]).shape == (5, 10)
    path = str(tmp_path / "tricks.keras")
    gan.save(path)
    again = unigen.load(path)
    for key, value in options.items():
        assert getattr(again, key) == (tuple(value) if key == "image_shape" else value)
    np.testing.assert_allclose(again.classify(x[:5]), gan.classify(x[:5]), rtol=1e-6)
    np.testing.assert_array_equal(again.sample(4, seed=1), gan.sample(4, seed=1))
    with pytest.raises(TypeError, match="semi-supervised"):
        unigen.models.MLPGAN(event_shape=(2,), latent_dim=2, hidden_units=(8,)).classify(x)
