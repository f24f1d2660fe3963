"""Noise-prediction networks of `DDPM`: a compact U-Net for images, an MLP for vectors.

Contract (the same for a user-given network): a Keras model taking
``[x_t, t]`` (with ``num_classes``: ``[x_t, t, labels]``), x_t of shape
``[batch, *event_shape]`` in the model's scaled space, t a float ``[batch]``
(the timestep index 1..T), labels ints ``[batch]`` in 0..K where K is the "no
label" class of classifier-free guidance; it returns ``[batch, *event_shape]``
numbers eps_theta(x_t, t) (``[..., 2 C]`` for images / ``[batch, 2 D]`` for
vectors with a learned variance: eps, then the variance interpolation v). All
layers are plain Keras layers (no ``Lambda``), so the networks serialise safely.
"""

import math

import keras
from keras import ops

__all__ = ["FourierFeatures", "SinusoidalEmbedding"]


@keras.saving.register_keras_serializable(package="unigen")
class SinusoidalEmbedding(keras.layers.Layer):
    """Transformer-style embedding of a scalar timestep (Vaswani et al.; Ho et al.).

    emb(t)_i = sin(t w_i) for i < dim/2 and cos(t w_{i - dim/2}) after, with
    frequencies w_i = max_period^(-i / (dim/2 - 1)) geometrically spaced.
    """

    def __init__(self, dim, max_period=10000.0, **kwargs):
        super().__init__(**kwargs)
        if dim < 2 or dim % 2:
            raise ValueError(f"`dim` must be an even int >= 2, got {dim!r}.")
        self.dim, self.max_period = int(dim), float(max_period)

    @property
    def input_dtype(self):
        # t stays float32 in a 16-bit network: bfloat16 rounds timesteps above
        # 256 (999 -> 1000) and float16 above 2048, merging neighbouring steps.
        return "float32"

    def call(self, t):
        half = self.dim // 2
        frequencies = ops.exp(-math.log(self.max_period)
                              * ops.arange(half, dtype="float32") / max(half - 1, 1))
        angles = ops.cast(ops.reshape(t, (-1, 1)), "float32") * frequencies[None, :]
        return ops.cast(ops.concatenate([ops.sin(angles), ops.cos(angles)], -1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.dim)

    def get_config(self):
        return {**super().get_config(), "dim": self.dim, "max_period": self.max_period}


@keras.saving.register_keras_serializable(package="unigen")
class FourierFeatures(keras.layers.Layer):
    """Appends sin(f x) and cos(f x) for each frequency f to the channels of x.

    On discrete data scaled to [-1, 1] the levels lie on a grid of spacing
    2 / (L - 1); with f a multiple of pi (L - 1) / 2 these features give the
    network the position of x_t inside its bin directly, which is what the
    noise prediction needs at small noise (Kingma et al. 2021, appendix C).
    """

    def __init__(self, frequencies, **kwargs):
        super().__init__(**kwargs)
        self.frequencies = [float(f) for f in frequencies]

    @property
    def input_dtype(self):
        # x stays float32 in a 16-bit network: sin(f x) at f ~ pi (L - 1) / 2
        # needs x to better than 1 / (L - 1), which bfloat16 (2^-8) does not give.
        return "float32"

    def call(self, x):
        x = ops.cast(x, "float32")
        parts = [x] + [fn(f * x) for f in self.frequencies for fn in (ops.sin, ops.cos)]
        return ops.cast(ops.concatenate(parts, -1), self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] * (1 + 2 * len(self.frequencies)))

    def get_config(self):
        return {**super().get_config(), "frequencies": self.frequencies}


def _features(x_in, frequencies):
    return x_in if not frequencies else FourierFeatures(frequencies, name="fourier")(x_in)


def _embedding(t_in, labels_in, width, num_classes):
    emb = SinusoidalEmbedding(width, name="time_sinusoid")(t_in)
    emb = keras.layers.Dense(4 * width, activation="swish", name="time_dense_1")(emb)
    emb = keras.layers.Dense(4 * width, name="time_dense_2")(emb)
    if labels_in is not None:
        # K classes plus the "no label" class K of classifier-free guidance.
        label = keras.layers.Embedding(num_classes + 1, 4 * width, name="label_embedding")(
            labels_in)
        emb = keras.layers.Add()([emb, label])
    return keras.layers.Activation("swish")(emb)


def _inputs(event_shape, num_classes):
    x_in = keras.Input(event_shape, name="x_t")
    t_in = keras.Input((), name="t")
    labels_in = None if num_classes is None else keras.Input((), dtype="int32", name="labels")
    return x_in, t_in, labels_in


def _groups(channels):
    return math.gcd(channels, 8)


def _res_block(h, emb, channels, name):
    """GroupNorm-swish-conv twice, the time embedding added in between, a skip connection."""
    skip = h
    if h.shape[-1] != channels:
        skip = keras.layers.Conv2D(channels, 1, name=f"{name}_skip")(h)
    h = keras.layers.GroupNormalization(_groups(h.shape[-1]), name=f"{name}_norm_1")(h)
    h = keras.layers.Activation("swish")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv_1")(h)
    shift = keras.layers.Dense(channels, name=f"{name}_time")(emb)
    h = keras.layers.Add()([h, keras.layers.Reshape((1, 1, channels))(shift)])
    h = keras.layers.GroupNormalization(_groups(channels), name=f"{name}_norm_2")(h)
    h = keras.layers.Activation("swish")(h)
    h = keras.layers.Conv2D(channels, 3, padding="same", name=f"{name}_conv_2")(h)
    return keras.layers.Add()([skip, h])


def unet(event_shape, channels=32, channel_multipliers=(1, 2), out_channels=None,
         num_classes=None, fourier_frequencies=None):
    """A compact U-Net: one residual block per resolution, halving between them.

    Resolutions H, H/2, ... (one per multiplier, H divisible accordingly), two
    residual blocks at the lowest, skip connections by concatenation, and a
    zero-initialised output convolution (so training starts from eps_theta = 0).
    """
    height, width, depth = event_shape
    factor = 2 ** (len(channel_multipliers) - 1)
    if height % factor or width % factor:
        raise ValueError(
            f"The U-Net halves the image {len(channel_multipliers) - 1} time(s), so height "
            f"and width must be divisible by {factor}; got {height}x{width}. Pass fewer "
            f"`channel_multipliers`.")
    x_in, t_in, labels_in = _inputs(event_shape, num_classes)
    emb = _embedding(t_in, labels_in, channels, num_classes)
    h = keras.layers.Conv2D(channels, 3, padding="same", name="conv_in")(
        _features(x_in, fourier_frequencies))
    skips = []
    for i, multiplier in enumerate(channel_multipliers):
        h = _res_block(h, emb, channels * multiplier, f"down_{i}")
        skips.append(h)
        if i < len(channel_multipliers) - 1:
            h = keras.layers.Conv2D(channels * multiplier, 3, strides=2, padding="same",
                                    name=f"downsample_{i}")(h)
    top = channels * channel_multipliers[-1]
    h = _res_block(h, emb, top, "middle_1")
    h = _res_block(h, emb, top, "middle_2")
    for i in reversed(range(len(channel_multipliers))):
        h = keras.layers.Concatenate()([h, skips[i]])
        h = _res_block(h, emb, channels * channel_multipliers[i], f"up_{i}")
        if i > 0:
            h = keras.layers.UpSampling2D(2)(h)
            h = keras.layers.Conv2D(channels * channel_multipliers[i - 1], 3, padding="same",
                                    name=f"upsample_{i}")(h)
    h = keras.layers.GroupNormalization(_groups(h.shape[-1]), name="norm_out")(h)
    h = keras.layers.Activation("swish")(h)
    out = keras.layers.Conv2D(out_channels or depth, 3, padding="same",
                              kernel_initializer="zeros", name="conv_out")(h)
    inputs = [x_in, t_in] + ([] if labels_in is None else [labels_in])
    return keras.Model(inputs, out, name="denoiser")


def mlp(event_shape, hidden_units=(256, 256, 256), out_units=None, num_classes=None,
        fourier_frequencies=None):
    """An MLP on the flattened x_t with the time embedding added to every hidden layer."""
    size = math.prod(event_shape)
    x_in, t_in, labels_in = _inputs(event_shape, num_classes)
    width = max(16, hidden_units[0] // 4 // 2 * 2)
    emb = _embedding(t_in, labels_in, width, num_classes)
    h = keras.layers.Flatten()(_features(x_in, fourier_frequencies))
    for i, units in enumerate(hidden_units):
        h = keras.layers.Dense(units, name=f"dense_{i}")(h)
        h = keras.layers.Add()([h, keras.layers.Dense(units, name=f"time_{i}")(emb)])
        h = keras.layers.Activation("swish")(h)
    out_units = out_units or size
    out = keras.layers.Dense(out_units, kernel_initializer="zeros", name="dense_out")(h)
    shape = tuple(event_shape) if out_units == size else (*event_shape[:-1],
                                                         out_units // size * event_shape[-1])
    out = keras.layers.Reshape(shape)(out)
    inputs = [x_in, t_in] + ([] if labels_in is None else [labels_in])
    return keras.Model(inputs, out, name="denoiser")
