"""BigGAN's networks and the `BigGAN` preset (Brock, Donahue and Simonyan 2019).

* `BigGANGenerator`: z is split into chunks z_0, z_1, ..., z_n (the
  hierarchical latent); z_0 goes through a Dense layer to a small grid, and
  residual block i (`layers.GeneratorResBlock`, 2x upsampling) is conditioned,
  through conditional batch norm, on c_i = [e(y), z_i], where e is one class
  embedding shared by every block; an optional self-attention layer
  (`layers.SelfAttention`) after the first block; then BN, ReLU, a 3x3
  convolution and tanh.
* `biggan_discriminator`: residual blocks (`layers.CriticResBlock`, 2x average
  pooling) with spectral normalisation, optional self-attention after the
  first, ReLU and global sum pooling: features for the projection head of the
  GAN's critic (or one linear value).
* `BigGAN`: a `unigen.GAN` with these networks and BigGAN's defaults: hinge
  loss, spectral norm, projection critic for class-conditional data, an
  exponential moving average of the generator, two learning rates (critic
  4x the generator's) and orthogonal regularisation of the generator. Sample
  with ``truncation=t`` for the truncation trick.

References:
    Brock, Donahue and Simonyan. "Large Scale GAN Training for High Fidelity
    Natural Image Synthesis." ICLR 2019.
    Miyato and Koyama. "cGANs with Projection Discriminator." ICLR 2018.
    Zhang et al. "Self-Attention Generative Adversarial Networks." ICML 2019.
"""

import keras
import tensorflow as tf

from unigen import _checks
from unigen.base import _check_positive_int
from unigen.models._builders import image_builder
from unigen.models.gan import layers as gl
from unigen.models.gan._presets import _critic_layout, _Preset, _resolve_divergence
from unigen.models.gan.networks import upsampling_plan

__all__ = ["BigGAN", "BigGANGenerator", "biggan_discriminator", "latent_chunks"]


def latent_chunks(latent_dim, num_blocks):
    """Sizes of the hierarchical latent's chunks: ``num_blocks + 1`` near-equal parts
    of ``latent_dim`` (the first ones one larger when it does not divide)."""
    parts = num_blocks + 1
    if latent_dim < parts:
        raise ValueError(f"BigGAN splits z into {parts} chunks (one per block and one for "
                         f"the first layer): `latent_dim` must be >= {parts}, got "
                         f"{latent_dim}.")
    base, extra = divmod(latent_dim, parts)
    return [base + (1 if i < extra else 0) for i in range(parts)]


@keras.saving.register_keras_serializable(package="unigen")
class BigGANGenerator(keras.layers.Layer):
    """BigGAN's generator on inputs ``[z, one_hot(y)]`` (see the module docstring).

    Args:
        image_shape: (height, width, channels) of the output, in [-1, 1].
        latent_dim: size of z (split across the blocks).
        num_classes: K of a class-conditional generator (its input ends in a
            one-hot label), or None.
        base_filters: filters of the last block; earlier ones have twice as many
            per doubling.
        embedding_dim: size of the shared class embedding e(y).
        attention: a self-attention layer after the first block.
    """

    def __init__(self, image_shape, latent_dim, num_classes=None, base_filters=32,
                 embedding_dim=16, attention=True, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.latent_dim = _check_positive_int("latent_dim", latent_dim)
        self.num_classes = (None if num_classes is None else
                            _check_positive_int("num_classes", num_classes))
        self.base_filters = _check_positive_int("base_filters", base_filters)
        self.embedding_dim = _check_positive_int("embedding_dim", embedding_dim)
        self.attention = bool(attention)
        self.start_height, self.start_width, self.doublings = upsampling_plan(self.image_shape)
        self.num_blocks = max(self.doublings, 1)
        self.chunks = latent_chunks(self.latent_dim, self.num_blocks)

    def _filters(self, block):
        return self.base_filters * 2 ** (self.num_blocks - 1 - block)

    def build(self, input_shape):
        del input_shape
        classes = self.num_classes or 0
        cond_extra = self.embedding_dim if classes else 0
        self.embedding = None
        if classes:  # Dense without bias on a one-hot label: an embedding lookup
            self.embedding = keras.layers.Dense(self.embedding_dim, use_bias=False,
                                                name="shared_embedding")
            self.embedding.build((None, classes))
        top = self._filters(0)
        self.stem = keras.layers.Dense(self.start_height * self.start_width * top, name="stem")
        self.stem.build((None, self.chunks[0]))
        self.blocks, shape = [], (None, self.start_height, self.start_width, top)
        for i in range(self.num_blocks):
            block = gl.GeneratorResBlock(self._filters(i), cond_extra + self.chunks[i + 1],
                                         upsample=i < self.doublings, name=f"block{i}")
            block.build(shape)
            shape = block.compute_output_shape(shape)
            self.blocks.append(block)
        self.self_attention = None
        if self.attention:
            self.self_attention = gl.SelfAttention(name="self_attention")
            first = self.blocks[0].compute_output_shape(
                (None, self.start_height, self.start_width, top))
            self.self_attention.build(first)
        self.out_norm = keras.layers.BatchNormalization(synchronized=True, name="out_norm")
        self.out_norm.build(shape)
        self.out_conv = keras.layers.Conv2D(self.image_shape[-1], 3, padding="same",
                                            name="out_conv")
        self.out_conv.build(shape)
        self.built = True

    def call(self, inputs, training=False):
        z = inputs[:, :self.latent_dim]
        pieces = tf.split(z, self.chunks, axis=-1)
        embedded = None
        if self.embedding is not None:
            embedded = self.embedding(inputs[:, self.latent_dim:])
        h = self.stem(pieces[0])
        h = tf.reshape(h, [-1, self.start_height, self.start_width, self._filters(0)])
        for i, block in enumerate(self.blocks):
            condition = pieces[i + 1] if embedded is None else tf.concat(
                [embedded, pieces[i + 1]], -1)
            h = block(h, condition, training=training)
            if i == 0 and self.self_attention is not None:
                h = self.self_attention(h, training=training)
        h = tf.nn.relu(self.out_norm(h, training=training))
        return tf.tanh(self.out_conv(h))

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)

    @property
    def output_shape(self):
        return (None, *self.image_shape)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim, "num_classes": self.num_classes,
                "base_filters": self.base_filters, "embedding_dim": self.embedding_dim,
                "attention": self.attention}


@keras.saving.register_keras_serializable(package="unigen")
class GlobalSumPooling(keras.layers.Layer):
    """Sum over the spatial positions: [b, h, w, c] -> [b, c] (BigGAN's critic)."""

    def call(self, x):
        return tf.reduce_sum(x, axis=[1, 2])

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1])


def biggan_discriminator(image_shape, base_filters=32, extra_channels=0, outputs=None,
                         attention=True, spectral_norm=True, name="discriminator"):
    """BigGAN's critic: residual blocks halving the size, ReLU, global sum pooling.

    Args:
        image_shape: (height, width, channels) of one input.
        base_filters: filters of the first block, doubled at each one.
        extra_channels: channels appended to the input (tiled one-hot labels).
        outputs: size of a linear output, or None for the pooled features (the
            projection head of `unigen.GAN`'s critic is then added).
        attention: self-attention after the first block.
        spectral_norm: spectrally normalise every convolution (and the output).
    """
    _, _, doublings = upsampling_plan(image_shape)
    shape = (*tuple(int(d) for d in image_shape[:2]), int(image_shape[-1]) + extra_channels)
    layers = [keras.Input(shape)]
    filters = base_filters
    for i in range(max(doublings, 1)):
        layers.append(gl.CriticResBlock(filters, downsample=i < doublings,
                                        preactivation=i > 0, spectral_norm=spectral_norm))
        if i == 0 and attention:
            layers.append(gl.SelfAttention(spectral_norm=spectral_norm))
        filters *= 2
    layers += [keras.layers.ReLU(), GlobalSumPooling()]
    if outputs is not None:
        dense = keras.layers.Dense(outputs)
        layers.append(keras.layers.SpectralNormalization(dense) if spectral_norm else dense)
    return keras.Sequential(layers, name=name)


@keras.saving.register_keras_serializable(package="unigen")
class BigGAN(_Preset):
    """A GAN with BigGAN's networks and defaults (see the module docstring).

    Example::

        gan = unigen.models.BigGAN(image_shape=(8, 8, 1), num_levels=17, num_classes=10)
        unigen.fit(gan, "digits", epochs=20)
        images = gan.sample(100, labels=np.repeat(np.arange(10), 10), truncation=0.5)

    Args:
        image_shape: (height, width, channels) (``event_shape`` is accepted too).
        latent_dim: size of z, split into one chunk per generator block plus one.
        divergence: default "hinge" (BigGAN's loss).
        spectral_norm: spectral normalisation in the critic (default True).
        base_filters: width of the networks.
        embedding_dim: size of the shared class embedding.
        attention: self-attention layers in both networks.
        num_levels, num_classes: as in `DCGAN`; a class-conditional BigGAN
            uses a projection critic unless ``conditioning`` says otherwise.
        orthogonal_regularization: BigGAN's beta (default 1e-4).
        ema_decay: default 0.999.
        generator_learning_rate, discriminator_learning_rate: default 1e-4 and
            4e-4 (two time scales).
        **kwargs: the other `unigen.GAN` arguments.
    """

    _preset_keys = ("image_shape", "spectral_norm", "base_filters", "embedding_dim",
                    "attention", "gradient_penalty")

    def __init__(self, image_shape=(28, 28, 1), latent_dim=24, divergence="hinge", *,
                 spectral_norm=True, base_filters=32, embedding_dim=16, attention=True,
                 num_levels="auto", num_classes=None, event_shape=None,
                 orthogonal_regularization=1e-4, ema_decay=0.999,
                 generator_learning_rate=1e-4, discriminator_learning_rate=4e-4,
                 gradient_penalty=None, **kwargs):
        image_shape = _checks.image_shape(image_shape, event_shape)
        divergence = _resolve_divergence(divergence, gradient_penalty, spectral_norm)
        if num_classes is not None:
            kwargs.setdefault("conditioning", "projection")
        generator = BigGANGenerator(image_shape, latent_dim, num_classes, base_filters,
                                    embedding_dim, attention, name="generator")
        pack, _, extra, features = _critic_layout(num_classes, kwargs)
        discriminator = None
        if divergence.uses_critic:
            channels = image_shape[-1]
            discriminator = biggan_discriminator(
                image_shape, base_filters,
                extra_channels=pack * (channels + extra) - channels,
                outputs=None if features else 1, attention=attention,
                spectral_norm=bool(spectral_norm) or getattr(
                    divergence, "lipschitz", None) == "spectral_norm")
        self.image_shape = image_shape
        self.spectral_norm = bool(spectral_norm)
        self.base_filters = int(base_filters)
        self.embedding_dim = int(embedding_dim)
        self.attention = bool(attention)
        self.gradient_penalty = gradient_penalty
        super().__init__(generator, discriminator, latent_dim, divergence,
                         event_shape=image_shape, num_levels=num_levels,
                         num_classes=num_classes,
                         orthogonal_regularization=orthogonal_regularization,
                         ema_decay=ema_decay, generator_learning_rate=generator_learning_rate,
                         discriminator_learning_rate=discriminator_learning_rate, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["image_shape"] = list(self.image_shape)
        return config


create_biggan = image_builder(BigGAN)
