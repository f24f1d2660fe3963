"""Layers of the GAN tricks and of BigGAN's networks, each a serialisable Keras layer.

* `MinibatchDiscrimination` (Salimans et al. 2016): lets the critic compare an
  example with the rest of its batch.
* `ConditionalBatchNorm`: batch norm whose gain and bias are linear functions
  of a conditioning vector (BigGAN: the shared class embedding and a chunk of z).
* `SelfAttention` (Zhang et al. 2019, SAGAN): x + gamma * attention(x), gamma = 0
  at initialisation.
* `GeneratorResBlock` / `CriticResBlock`: BigGAN's residual blocks, up- and
  downsampling by 2.

References:
    Salimans et al. "Improved Techniques for Training GANs." NeurIPS 2016.
    Zhang et al. "Self-Attention Generative Adversarial Networks." ICML 2019.
    Brock, Donahue and Simonyan. "Large Scale GAN Training for High Fidelity
    Natural Image Synthesis." ICLR 2019.
"""

import keras
import tensorflow as tf

from unigen.adversarial import spectral_norm as _spectral_norm
from unigen.training._distribute import gather_global_batch

__all__ = ["ConditionalBatchNorm", "CriticResBlock", "GeneratorResBlock",
           "MinibatchDiscrimination", "SelfAttention"]


def _positive_int(name, value):
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="unigen")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination: features f(x_i) [n, A] -> [f(x_i), o(x_i)] [n, A + B].

    With a learned tensor T [A, B, C], M_i = f(x_i) T [B, C] and, for each of the
    B kernels,

        c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1),
        o(x_i)_b = sum_{j != i} c_b(x_i, x_j),

    so the critic sees how close each example is to the others in its batch (a
    collapsed generator makes o large). The sum over j runs over the GLOBAL
    batch: under a `tf.distribute` strategy each replica gathers every
    replica's M (``all_gather``, whose gradient sums the replicas' gradients
    back onto each replica's own rows) and computes o for its own rows, so R
    replicas compute, and train, exactly what one device does. The layer is
    equivariant to permutations of the batch.

    Args:
        num_kernels: B.
        kernel_dim: C.
    """

    def __init__(self, num_kernels=16, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = _positive_int("num_kernels", num_kernels)
        self.kernel_dim = _positive_int("kernel_dim", kernel_dim)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05), name="kernel")
        self.built = True

    def call(self, x):
        m = tf.reshape(tf.matmul(x, tf.cast(self.kernel, x.dtype)),
                       [-1, self.num_kernels, self.kernel_dim])
        everyone = gather_global_batch(m)  # [N, B, C]: every replica's rows
        distances = tf.reduce_sum(tf.abs(m[:, None] - everyone[None, :]), axis=-1)  # [n, N, B]
        o = tf.reduce_sum(tf.exp(-distances), axis=1) - 1.0  # drop j = i (exp(0) = 1)
        return tf.concat([x, o], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(input_shape[-1]) + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim}


def _maybe_sn(layer, use_sn):
    return _spectral_norm(layer) if use_sn else layer


def _upsample(x):
    """Nearest-neighbour 2x upsampling of [b, h, w, c]."""
    return tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)


def _downsample(x):
    """2x2 average pooling (floor for odd sizes)."""
    return tf.nn.avg_pool2d(x, 2, 2, "VALID")


@keras.saving.register_keras_serializable(package="unigen")
class ConditionalBatchNorm(keras.layers.Layer):
    """BN(x) * (1 + W_g c) + W_b c: batch norm with gain and bias from a vector c.

    The normalisation has no parameters of its own (synchronised across
    replicas); ``W_g`` and ``W_b`` start at 0, so the layer starts as plain
    batch norm. Called as ``layer(x, c)``, x [b, h, w, C], c [b, cond_dim].
    """

    def __init__(self, cond_dim, **kwargs):
        super().__init__(**kwargs)
        self.cond_dim = _positive_int("cond_dim", cond_dim)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        self.norm = keras.layers.BatchNormalization(center=False, scale=False,
                                                    synchronized=True, name="norm")
        self.norm.build(input_shape)
        self.gain = keras.layers.Dense(channels, kernel_initializer="zeros", name="gain")
        self.bias = keras.layers.Dense(channels, kernel_initializer="zeros", name="bias")
        self.gain.build((None, self.cond_dim))
        self.bias.build((None, self.cond_dim))
        self.built = True

    def call(self, x, condition, training=False):
        gain = 1.0 + self.gain(condition)[:, None, None, :]
        return self.norm(x, training=training) * gain + self.bias(condition)[:, None, None, :]

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "cond_dim": self.cond_dim}


@keras.saving.register_keras_serializable(package="unigen")
class SelfAttention(keras.layers.Layer):
    """SAGAN self-attention: y = x + gamma * o(softmax(f(x) g(x)^T) h(x)).

    f, g: 1x1 convolutions to C/8 channels (at least 1), h: to C/2, o: back to
    C; the softmax runs over the N = height * width positions. gamma is a
    learned scalar starting at 0, so the layer is the identity at
    initialisation.

    Args:
        spectral_norm: spectrally normalise the 1x1 convolutions (critic).
    """

    def __init__(self, spectral_norm=False, **kwargs):
        super().__init__(**kwargs)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        key, value = max(channels // 8, 1), max(channels // 2, 1)
        self.f = _maybe_sn(keras.layers.Conv2D(key, 1, use_bias=False, name="f"),
                           self.spectral_norm)
        self.g = _maybe_sn(keras.layers.Conv2D(key, 1, use_bias=False, name="g"),
                           self.spectral_norm)
        self.h = _maybe_sn(keras.layers.Conv2D(value, 1, use_bias=False, name="h"),
                           self.spectral_norm)
        self.o = _maybe_sn(keras.layers.Conv2D(channels, 1, use_bias=False, name="o"),
                           self.spectral_norm)
        for layer in (self.f, self.g, self.h):
            layer.build(input_shape)
        self.o.build((*input_shape[:-1], value))
        self.gamma = self.add_weight(shape=(), initializer="zeros", name="gamma")
        self.built = True

    def call(self, x, training=False):
        shape = tf.shape(x)
        positions = shape[1] * shape[2]

        def flat(t):
            return tf.reshape(t, [shape[0], positions, t.shape[-1]])

        attention = tf.nn.softmax(tf.matmul(flat(self.f(x, training=training)),
                                            flat(self.g(x, training=training)),
                                            transpose_b=True), axis=-1)  # [b, N, N]
        attended = tf.matmul(attention, flat(self.h(x, training=training)))
        attended = tf.reshape(attended, [shape[0], shape[1], shape[2], attended.shape[-1]])
        return x + tf.cast(self.gamma, x.dtype) * self.o(attended, training=training)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "spectral_norm": self.spectral_norm}


@keras.saving.register_keras_serializable(package="unigen")
class GeneratorResBlock(keras.layers.Layer):
    """BigGAN's generator block, called as ``block(x, c)``::

        h = conv3x3(relu(CBN(up(conv3x3(relu(CBN(x, c)))), c)))   (up: 2x nearest)
        y = h + conv1x1(up(x))

    with both conditional batch norms fed the same c (class embedding and this
    block's chunk of z).
    """

    def __init__(self, filters, cond_dim, upsample=True, **kwargs):
        super().__init__(**kwargs)
        self.filters = _positive_int("filters", filters)
        self.cond_dim = _positive_int("cond_dim", cond_dim)
        self.upsample = bool(upsample)

    def build(self, input_shape):
        height, width, channels = input_shape[1:]
        scale = 2 if self.upsample else 1
        inner = (input_shape[0], None if height is None else height * scale,
                 None if width is None else width * scale, self.filters)
        self.norm1 = ConditionalBatchNorm(self.cond_dim, name="cbn1")
        self.norm1.build(input_shape)
        self.conv1 = keras.layers.Conv2D(self.filters, 3, padding="same", name="conv1")
        self.conv1.build((*inner[:3], channels))
        self.norm2 = ConditionalBatchNorm(self.cond_dim, name="cbn2")
        self.norm2.build(inner)
        self.conv2 = keras.layers.Conv2D(self.filters, 3, padding="same", name="conv2")
        self.conv2.build(inner)
        self.shortcut = keras.layers.Conv2D(self.filters, 1, name="shortcut")
        self.shortcut.build((*inner[:3], channels))
        self.built = True

    def call(self, x, condition, training=False):
        up = _upsample if self.upsample else (lambda t: t)
        h = tf.nn.relu(self.norm1(x, condition, training=training))
        h = self.conv1(up(h))
        h = tf.nn.relu(self.norm2(h, condition, training=training))
        return self.conv2(h) + self.shortcut(up(x))

    def compute_output_shape(self, input_shape):
        scale = 2 if self.upsample else 1
        height, width = input_shape[1:3]
        return (input_shape[0], None if height is None else height * scale,
                None if width is None else width * scale, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters, "cond_dim": self.cond_dim,
                "upsample": self.upsample}


@keras.saving.register_keras_serializable(package="unigen")
class CriticResBlock(keras.layers.Layer):
    """BigGAN's critic block::

        h = down(conv3x3(relu(conv3x3(relu(x)))))      (down: 2x2 average pooling)
        y = h + down(conv1x1(x))

    (the first block of a critic skips the first relu: ``preactivation=False``).
    Spectral normalisation on every convolution by default.
    """

    def __init__(self, filters, downsample=True, preactivation=True, spectral_norm=True,
                 **kwargs):
        super().__init__(**kwargs)
        self.filters = _positive_int("filters", filters)
        self.downsample = bool(downsample)
        self.preactivation = bool(preactivation)
        self.spectral_norm = bool(spectral_norm)

    def build(self, input_shape):
        inner = (*input_shape[:3], self.filters)
        self.conv1 = _maybe_sn(keras.layers.Conv2D(self.filters, 3, padding="same",
                                                   name="conv1"), self.spectral_norm)
        self.conv1.build(input_shape)
        self.conv2 = _maybe_sn(keras.layers.Conv2D(self.filters, 3, padding="same",
                                                   name="conv2"), self.spectral_norm)
        self.conv2.build(inner)
        self.shortcut = _maybe_sn(keras.layers.Conv2D(self.filters, 1, name="shortcut"),
                                  self.spectral_norm)
        self.shortcut.build(input_shape)
        self.built = True

    def call(self, x, training=False):
        down = _downsample if self.downsample else (lambda t: t)
        h = tf.nn.relu(x) if self.preactivation else x
        h = self.conv2(tf.nn.relu(self.conv1(h, training=training)), training=training)
        return down(h) + down(self.shortcut(x, training=training))

    def compute_output_shape(self, input_shape):
        height, width = input_shape[1:3]
        if self.downsample:
            height = None if height is None else height // 2
            width = None if width is None else width // 2
        return (input_shape[0], height, width, self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "downsample": self.downsample, "preactivation": self.preactivation,
                "spectral_norm": self.spectral_norm}
