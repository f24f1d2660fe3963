"""Pieces of coarse-to-fine GANs: resampling, Laplacian pyramids, and ProGAN's layers.

Pure functions of tensors first (`downsample`, `upsample`, `laplacian_pyramid`,
`collapse_pyramid`, `pixel_norm`, `minibatch_stddev`), then the layers that bind
them (`PixelNorm`, `MinibatchStdDev`, `EqualizedDense`, `EqualizedConv2D`).

References:
    Karras et al. "Progressive Growing of GANs for Improved Quality, Stability,
    and Variation." ICLR 2018.
    Denton et al. "Deep Generative Image Models using a Laplacian Pyramid of
    Adversarial Networks." NeurIPS 2015.
"""

import itertools
import math

import keras
import tensorflow as tf

__all__ = [
    "EqualizedConv2D",
    "EqualizedDense",
    "MinibatchStdDev",
    "PixelNorm",
    "collapse_pyramid",
    "downsample",
    "laplacian_pyramid",
    "minibatch_stddev",
    "pixel_norm",
    "upsample",
]


def downsample(x, times=1):
    """2x2 average pooling of [b, h, w, c], ``times`` times (h, w even each time)."""
    for _ in range(times):
        x = tf.nn.avg_pool2d(x, 2, 2, "VALID")
    return x


def upsample(x, times=1):
    """Nearest-neighbour 2x upsampling of [b, h, w, c], ``times`` times."""
    for _ in range(times):
        x = tf.repeat(tf.repeat(x, 2, axis=1), 2, axis=2)
    return x


def laplacian_pyramid(x, levels):
    """The Laplacian pyramid [h_0, ..., h_{K-1}, I_K] of an image batch.

    With I_0 = x and I_{k+1} = d(I_k) (2x2 average pooling), the band-pass
    residuals are h_k = I_k - u(I_{k+1}) (u: nearest upsampling) and the last
    entry is the coarsest image I_K (K = ``levels - 1``). `collapse_pyramid`
    inverts it: I_k = u(I_{k+1}) + h_k.
    """
    images = [x]
    for _ in range(levels - 1):
        images.append(downsample(images[-1]))
    residuals = [fine - upsample(coarse) for fine, coarse in itertools.pairwise(images)]
    return [*residuals, images[-1]]


def collapse_pyramid(pyramid):
    """The image of a Laplacian pyramid: I_K, then I_k = u(I_{k+1}) + h_k down to I_0."""
    image = pyramid[-1]
    for residual in reversed(pyramid[:-1]):
        image = upsample(image) + residual
    return image


def pixel_norm(x, epsilon=1e-8):
    """ProGAN's pixel-wise feature normalisation: x / sqrt(mean_c x^2 + epsilon)."""
    return x * tf.math.rsqrt(tf.reduce_mean(tf.square(x), axis=-1, keepdims=True) + epsilon)


def minibatch_stddev(x, group_size=4):
    """ProGAN's minibatch standard deviation, appended as one more channel.

    The batch is split into groups of ``group_size`` consecutive examples; in
    each group, the standard deviation over the group of every feature and
    position, averaged over features and positions, is one number s, appended
    to each member as a constant channel: [b, h, w, c] -> [b, h, w, c + 1]. A
    batch that is not a multiple of ``group_size`` (the last, smaller batch of
    an epoch) is split into groups of 2, or of 1 (s = 1e-4) for an odd batch.
    """
    shape = tf.shape(x)
    batch = shape[0]
    group = tf.where(batch % group_size == 0, group_size, tf.where(batch % 2 == 0, 2, 1))
    grouped = tf.reshape(x, tf.concat([[-1, group], shape[1:]], 0))  # [g, G, h, w, c]
    variance = tf.reduce_mean(tf.square(grouped - tf.reduce_mean(grouped, 1, keepdims=True)),
                              axis=1)
    s = tf.reduce_mean(tf.sqrt(variance + 1e-8), axis=[1, 2, 3])  # [g]
    s = tf.repeat(s, group)  # one per example
    channel = s[:, None, None, None] * tf.ones_like(x[..., :1])
    return tf.concat([x, channel], axis=-1)


@keras.saving.register_keras_serializable(package="unigen")
class PixelNorm(keras.layers.Layer):
    """`pixel_norm` as a layer."""

    def call(self, x):
        return pixel_norm(x)

    def compute_output_shape(self, input_shape):
        return input_shape


@keras.saving.register_keras_serializable(package="unigen")
class MinibatchStdDev(keras.layers.Layer):
    """`minibatch_stddev` as a layer (one more channel)."""

    def __init__(self, group_size=4, **kwargs):
        super().__init__(**kwargs)
        self.group_size = int(group_size)

    def call(self, x):
        return minibatch_stddev(x, self.group_size)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(input_shape[-1]) + 1)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size}


_HE_GAIN = math.sqrt(2.0)


class _Equalized(keras.layers.Layer):
    """Equalised learning rate: weights drawn N(0, 1), scaled at run time by
    c = gain / sqrt(fan_in) (He's constant), so Adam's step is the same size
    for every layer."""

    def __init__(self, units, gain=_HE_GAIN, **kwargs):
        super().__init__(**kwargs)
        self.units = int(units)
        self.gain = float(gain)

    def _make(self, kernel_shape, fan_in):
        self.scale = self.gain / math.sqrt(fan_in)
        self.kernel = self.add_weight(shape=kernel_shape, name="kernel",
                                      initializer=keras.initializers.RandomNormal(0.0, 1.0))
        self.bias = self.add_weight(shape=(self.units,), name="bias", initializer="zeros")

    def get_config(self):
        return {**super().get_config(), "units": self.units, "gain": self.gain}


@keras.saving.register_keras_serializable(package="unigen")
class EqualizedDense(_Equalized):
    """A Dense layer with an equalised learning rate (see `_Equalized`)."""

    def build(self, input_shape):
        fan_in = int(input_shape[-1])
        self._make((fan_in, self.units), fan_in)
        self.built = True

    def call(self, x):
        return tf.matmul(x, self.kernel * self.scale) + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)


@keras.saving.register_keras_serializable(package="unigen")
class EqualizedConv2D(_Equalized):
    """A stride-1 "same" convolution with an equalised learning rate."""

    def __init__(self, units, kernel_size=3, gain=_HE_GAIN, **kwargs):
        super().__init__(units, gain, **kwargs)
        self.kernel_size = int(kernel_size)

    def build(self, input_shape):
        channels = int(input_shape[-1])
        k = self.kernel_size
        self._make((k, k, channels, self.units), k * k * channels)
        self.built = True

    def call(self, x):
        return tf.nn.conv2d(x, self.kernel * self.scale, 1, "SAME") + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {**super().get_config(), "kernel_size": self.kernel_size}
