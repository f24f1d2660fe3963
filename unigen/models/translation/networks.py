"""Default networks of the translation models: encoder-decoder generators and critics.

* `translation_generator`: convolution, ``downsamplings`` stride-2 convolutions,
  ``residual_blocks`` residual blocks, as many stride-2 transposed convolutions
  back, and a tanh convolution to the output channels (Johnson et al. 2016, as
  CycleGAN's generator; small for 8x8 and 28x28 images). Instance normalisation
  (`keras.layers.GroupNormalization` with one group per channel) after each
  hidden convolution but the first (whose input may carry constant planes:
  StarGAN's one-hot target domain, which instance normalisation would erase).
* `translation_critic`: stride-2 convolutions with leaky ReLU, ending in either
  one value per image (``patch=False``: flatten, dense) or one value per patch
  (``patch=True``: a final 3x3 convolution to one channel, PatchGAN; the
  critic's loss is then a mean over patches and images), or in features for a
  model that adds its own heads (``outputs=None``: StarGAN).
"""

import keras

from unigen.adversarial import LeakyMax

__all__ = ["translation_critic", "translation_generator"]


def _auto_downsamplings(height):
    return 1 if height <= 16 else 2


def _norm(normalization, name):
    if normalization == "instance":
        return keras.layers.GroupNormalization(groups=-1, name=name)
    if normalization is None:
        return None
    raise ValueError(f"`normalization` must be 'instance' or None, got {normalization!r}.")


def _conv(layer_class, width, normalization, name, **kwargs):
    # A bias before instance normalisation is subtracted again: it only gets round-off
    # gradients, which Adam would scale up to full steps.
    return layer_class(width, 3, padding="same", use_bias=normalization is None, name=name,
                       **kwargs)


def _conv_block(h, layer, normalization, name):
    h = layer(h)
    norm = _norm(normalization, f"{name}_norm")
    if norm is not None:
        h = norm(h)
    return keras.layers.ReLU(name=f"{name}_relu")(h)


def translation_generator(input_shape, output_channels, filters=32, residual_blocks=2,
                          downsamplings=None, normalization="instance", name="generator"):
    """An image-to-image generator ``[batch, h, w, c_in] -> [batch, h, w, c_out]`` in [-1, 1].

    Args:
        input_shape: (h, w, c_in); h and w divisible by 2**downsamplings.
        output_channels: c_out.
        filters: channels of the first convolution (doubled at each downsampling).
        residual_blocks: residual blocks at the lowest resolution.
        downsamplings: stride-2 steps (default 1 up to 16 pixels, else 2).
        normalization: "instance" or None.
        name: the network's name.
    """
    h_size, w_size, _ = (int(d) for d in input_shape)
    downs = _auto_downsamplings(h_size) if downsamplings is None else int(downsamplings)
    if h_size % 2**downs or w_size % 2**downs:
        raise ValueError(f"The image size {h_size}x{w_size} must be divisible by "
                         f"2**downsamplings = {2**downs}; pass another `downsamplings`.")
    # Every layer named: a functional config names its inputs, and `unigen.fit` compares
    # configs to resume a run.
    inputs = keras.Input(tuple(int(d) for d in input_shape), name=f"{name}_input")
    conv, transposed = keras.layers.Conv2D, keras.layers.Conv2DTranspose
    # No normalisation after the first convolution: a constant input plane (StarGAN's
    # one-hot target domain) would be removed by it, but for the image borders.
    h = _conv_block(inputs, _conv(conv, filters, None, "in_conv"), None, "in")
    width = filters
    for i in range(downs):
        width *= 2
        h = _conv_block(h, _conv(conv, width, normalization, f"down{i}_conv", strides=2),
                        normalization, f"down{i}")
    for i in range(int(residual_blocks)):
        skip = h
        r = _conv_block(h, _conv(conv, width, normalization, f"res{i}_conv1"), normalization,
                        f"res{i}a")
        r = keras.layers.Conv2D(width, 3, padding="same", name=f"res{i}_conv2")(r)
        h = keras.layers.Add(name=f"res{i}_add")([skip, r])
    for i in range(downs):
        width //= 2
        h = _conv_block(h, _conv(transposed, width, normalization, f"up{i}_conv", strides=2),
                        normalization, f"up{i}")
    out = keras.layers.Conv2D(int(output_channels), 3, padding="same", name="out_conv")(h)
    out = keras.layers.Activation("tanh", name="out_tanh")(out)
    return keras.Model(inputs, out, name=name)


def translation_critic(input_shape, filters=32, layers=2, patch=None, outputs=1,
                       spectral_normalization=False, name="critic_network"):
    """A convolutional critic on images ``[batch, h, w, c]``.

    Args:
        input_shape: (h, w, c).
        filters: channels of the first convolution (doubled at each layer).
        layers: stride-2 convolutions with leaky ReLU (0.2).
        patch: True for one value per patch (PatchGAN; a final 3x3 convolution
            to one channel), False for one per image; default True from 16
            pixels up.
        outputs: 1 for raw critic values; None to end in flat features (a
            model adds its own heads).
        spectral_normalization: wrap every convolution and dense layer.
        name: the network's name.
    """
    def wrap(layer):
        if not spectral_normalization:
            return layer
        return keras.layers.SpectralNormalization(layer, name=f"{layer.name}_sn")

    patch = int(input_shape[0]) >= 16 if patch is None else bool(patch)
    inputs = keras.Input(tuple(int(d) for d in input_shape), name=f"{name}_input")
    h, width = inputs, int(filters)
    for i in range(int(layers)):
        h = wrap(keras.layers.Conv2D(width, 3, strides=2, padding="same", name=f"conv{i}"))(h)
        h = LeakyMax(0.2, name=f"leaky{i}")(h)
        width *= 2
    if outputs is not None and patch:
        h = wrap(keras.layers.Conv2D(int(outputs), 3, padding="same", name="patch_values"))(h)
        h = keras.layers.Flatten(name="flatten")(h)
    else:
        h = keras.layers.Flatten(name="flatten")(h)
        if outputs is not None:
            h = wrap(keras.layers.Dense(int(outputs), name="values"))(h)
    return keras.Model(inputs, h, name=name)
