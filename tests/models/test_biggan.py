"""BigGAN's parts: truncation trick, orthogonal regularisation, self-attention,
conditional batch norm with a shared embedding and hierarchical latent, residual blocks."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.models.gan import _ops as ops
from unigen.models.gan import biggan
from unigen.models.gan import layers as gl


def test_truncated_normal_stays_within_bounds_with_the_right_variance():
    for t in (0.25, 1.0, 2.0):
        z = ops.truncated_normal((20000, 2), t, seed=3).numpy()
        assert np.abs(z).max() <= t
        # Var of N(0,1) truncated to [-t, t]: 1 - 2 t phi(t) / (2 Phi(t) - 1).
        phi = math.exp(-t * t / 2) / math.sqrt(2 * math.pi)
        mass = math.erf(t / math.sqrt(2))
        np.testing.assert_allclose(z.var(), 1 - 2 * t * phi / mass, rtol=0.03)
        assert abs(z.mean()) < 0.02


def test_every_gan_samples_with_truncation():
    gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=3, hidden_units=(8,))
    gan.build()
    sampled = gan.sample(50, seed=4, truncation=0.5).numpy()
    z = ops.truncated_normal((50, 3), 0.5, seed=4)
    np.testing.assert_allclose(sampled, gan.generator(z).numpy(), rtol=1e-6)
    assert not np.allclose(sampled, gan.sample(50, seed=4).numpy())
    with pytest.raises(ValueError, match="truncation"):
        gan.sample(5, truncation=0.0)


def test_orthogonal_penalty_against_numpy():
    rng = np.random.default_rng(0)
    kernel = rng.normal(size=(3, 3, 2, 5)).astype("float32")
    w = kernel.reshape(-1, 5).astype("float64")
    gram = w.T @ w
    expected = np.sum((gram * (1 - np.eye(5))) ** 2)
    np.testing.assert_allclose(float(ops.orthogonal_penalty(kernel)), expected, rtol=1e-5)
    q, _ = np.linalg.qr(rng.normal(size=(6, 4)))  # orthonormal columns: no penalty
    assert float(ops.orthogonal_penalty(q.astype("float32"))) < 1e-10
    gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=3, hidden_units=(8,),
                               orthogonal_regularization=0.1)
    gan.build()
    total = sum(float(ops.orthogonal_penalty(v)) for v in gan.generator.trainable_variables
                if v.name == "kernel")
    np.testing.assert_allclose(float(gan.orthogonal_penalty()), total, rtol=1e-6)
    with pytest.raises(ValueError, match="orthogonal_regularization"):
        unigen.models.MLPGAN(event_shape=(2,), orthogonal_regularization=-1.0)


def test_self_attention_is_the_identity_at_initialisation():
    layer = gl.SelfAttention()
    x = np.random.default_rng(1).normal(size=(2, 4, 3, 16)).astype("float32")
    y = layer(x).numpy()
    assert y.shape == x.shape
    np.testing.assert_array_equal(y, x)
    assert [w.shape for w in (layer.f.kernel, layer.h.kernel, layer.o.kernel)] == [
        (1, 1, 16, 2), (1, 1, 16, 8), (1, 1, 8, 16)]
    layer.gamma.assign(1.0)
    f = x.reshape(2, 12, 16) @ layer.f.kernel.numpy()[0, 0]
    g = x.reshape(2, 12, 16) @ layer.g.kernel.numpy()[0, 0]
    h = x.reshape(2, 12, 16) @ layer.h.kernel.numpy()[0, 0]
    logits = f @ g.transpose(0, 2, 1)
    beta = np.exp(logits - logits.max(-1, keepdims=True))
    beta /= beta.sum(-1, keepdims=True)
    expected = x + ((beta @ h) @ layer.o.kernel.numpy()[0, 0]).reshape(x.shape)
    np.testing.assert_allclose(layer(x).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_conditional_batch_norm_uses_the_condition():
    layer = gl.ConditionalBatchNorm(cond_dim=3)
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 2, 2, 5)).astype("float32")
    c = np.eye(3, dtype="float32")[[0, 1, 2, 0]]
    plain = keras.layers.BatchNormalization(center=False, scale=False)(x, training=True)
    np.testing.assert_allclose(layer(x, c, training=True), plain, rtol=1e-5, atol=1e-5)
    wg, wb = rng.normal(size=(3, 5)), rng.normal(size=(3, 5))
    layer.gain.kernel.assign(wg)
    layer.bias.kernel.assign(wb)
    y = layer(x, c, training=True).numpy()
    normed = (x - x.mean((0, 1, 2))) / np.sqrt(x.var((0, 1, 2)) + 1e-3)
    expected = normed * (1 + c @ wg)[:, None, None] + (c @ wb)[:, None, None]
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=1e-4)
    # The class changes the output of the same image.
    assert not np.allclose(y[0], y[1])
    np.testing.assert_allclose(y[0] - expected[0], 0, atol=1e-4)


def test_generator_shares_the_class_embedding_and_splits_z():
    assert biggan.latent_chunks(7, 2) == [3, 2, 2]
    with pytest.raises(ValueError, match="latent_dim"):
        biggan.latent_chunks(2, 2)
    gen = biggan.BigGANGenerator((8, 8, 1), latent_dim=6, num_classes=10, base_filters=4,
                                 embedding_dim=3)
    gen.build((None, 16))
    assert [b.cond_dim for b in gen.blocks] == [3 + 2, 3 + 2]  # e(y) and a chunk of z
    # One embedding, used by every block; a conditional batch norm per block.
    assert len([w for w in gen.weights if "shared_embedding" in w.path]) == 1
    rng = np.random.default_rng(0)
    for block in gen.blocks:  # conditional gains and biases start at 0: make them act
        for norm in (block.norm1, block.norm2):
            for dense in (norm.gain, norm.bias):
                dense.kernel.assign(rng.normal(size=dense.kernel.shape))
    z = np.repeat(rng.normal(size=(1, 6)), 2, 0).astype("float32")
    labels = np.eye(10, dtype="float32")[[1, 7]]
    gen.embedding.kernel.assign(np.random.default_rng(0).normal(size=(10, 3)))
    out = gen(np.concatenate([z, labels], -1)).numpy()
    assert out.shape == (2, 8, 8, 1) and np.abs(out).max() <= 1
    assert not np.allclose(out[0], out[1])  # same z, other class: other image
    z2 = np.concatenate([z[:1, :2], z[:1, 2:] + 1.0], -1).astype("float32")
    moved = gen(np.concatenate([z2, labels[:1]], -1)).numpy()  # the blocks' chunks only
    assert not np.allclose(moved[0], out[0])


def test_residual_blocks_change_the_size_by_two():
    up = gl.GeneratorResBlock(6, cond_dim=2)
    x = np.ones((3, 7, 7, 4), "float32")
    assert up(x, np.ones((3, 2), "float32")).shape == (3, 14, 14, 6)
    down = gl.CriticResBlock(5)
    assert down(np.ones((3, 14, 14, 4), "float32")).shape == (3, 7, 7, 5)
    assert unigen.adversarial.has_spectral_norm(keras.Sequential([keras.Input((8, 8, 1)),
                                                                  gl.CriticResBlock(2)]))


def test_biggan_preset_defaults_and_config():
    gan = unigen.models.create("biggan", event_shape=(8, 8, 1), num_levels=17, latent_dim=6,
                               base_filters=2, num_classes=10)
    assert gan.conditioning == "projection" and gan.ema_decay == 0.999
    assert (gan.generator_learning_rate, gan.discriminator_learning_rate) == (1e-4, 4e-4)
    assert gan.orthogonal_regularization == 1e-4
    assert type(gan.divergence).__name__ == "Hinge"
    config = gan.get_config()
    again = unigen.models.BigGAN.from_config(config)
    assert again.get_config() == config
    tf.debugging.assert_equal(tf.constant(again.image_shape), tf.constant((8, 8, 1)))
    with pytest.raises(ValueError, match="images"):
        unigen.models.create("biggan", event_shape=(2,))
