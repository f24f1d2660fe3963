"""Generator and discriminator networks for GANs: DCGAN (images) and MLP (vectors).

Pure builders returning `keras.Sequential` models, so they serialise without
custom code and can be cloned (the GAN's exponential moving average keeps a
clone of the generator).

* `dcgan_generator(image_shape, latent_dim)`: Dense -> reshape to a small grid
  -> strided transposed convolutions (batch norm + ReLU) doubling the size ->
  a 3x3 convolution with tanh, output in [-1, 1]. The number of doublings is
  chosen from the image shape: 8x8 starts from 2x2 (two doublings), 28x28 from
  7x7 (two), 32x32 from 4x4 (three).
* `dcgan_discriminator(image_shape)`: strided convolutions with LeakyReLU, no
  pooling and no batch normalisation (a gradient penalty needs a critic that
  treats examples independently), then a linear output.
* `mlp_generator` / `mlp_discriminator`: fully connected networks for vectors.

Every builder takes ``spectral_norm=True`` to wrap its Dense and Conv layers in
`keras.layers.SpectralNormalization` (Miyato et al. 2018), one way to keep a
Wasserstein critic Lipschitz.

References:
    Radford, Metz and Chintala. "Unsupervised Representation Learning with Deep
    Convolutional Generative Adversarial Networks." ICLR 2016.
    Miyato et al. "Spectral Normalization for Generative Adversarial Networks."
    ICLR 2018.
"""

import math

import keras

from unigen.adversarial import LeakyMax, has_spectral_norm, mlp_critic, spectral_norm

__all__ = [
    "dcgan_discriminator",
    "dcgan_generator",
    "has_spectral_norm",
    "mlp_discriminator",
    "mlp_generator",
    "spectral_norm",
    "upsampling_plan",
]

_MAX_DOUBLINGS = 3


def upsampling_plan(image_shape):
    """(start height, start width, number of 2x doublings) for an image shape.

    Halves height and width while both are even and the result is at least 2,
    at most three times: (8, 8) -> (2, 2, 2); (28, 28) -> (7, 7, 2);
    (32, 32) -> (4, 4, 3); (7, 7) -> (7, 7, 0).
    """
    height, width = int(image_shape[0]), int(image_shape[1])
    doublings = 0
    while (doublings < _MAX_DOUBLINGS and height % 2 == 0 and width % 2 == 0
           and height // 2 >= 2 and width // 2 >= 2):
        height, width, doublings = height // 2, width // 2, doublings + 1
    return height, width, doublings


def _wrap(layer, use_sn):
    return spectral_norm(layer) if use_sn else layer


def dcgan_generator(image_shape, latent_dim, base_filters=64, extra_inputs=0,
                    name="generator"):
    """A DCGAN generator from ``latent_dim (+ extra_inputs)`` to ``image_shape`` in [-1, 1].

    Args:
        image_shape: (height, width, channels).
        latent_dim: size of the latent vector z.
        base_filters: filters of the last transposed convolution; each earlier
            one has twice as many.
        extra_inputs: extra input features (one-hot labels of a conditional GAN).
        name: the model's name.
    """
    height, width, doublings = upsampling_plan(image_shape)
    channels = int(image_shape[-1])
    top = base_filters * 2 ** max(doublings - 1, 0)
    layers = [
        keras.Input((latent_dim + extra_inputs,)),
        keras.layers.Dense(height * width * top, use_bias=False),
        keras.layers.BatchNormalization(synchronized=True),
        keras.layers.ReLU(),
        keras.layers.Reshape((height, width, top)),
    ]
    for i in range(doublings):
        filters = max(base_filters, top // 2**i)
        layers += [
            keras.layers.Conv2DTranspose(filters, 4, strides=2, padding="same", use_bias=False),
            keras.layers.BatchNormalization(synchronized=True),
            keras.layers.ReLU(),
        ]
    layers.append(keras.layers.Conv2D(channels, 3, padding="same", activation="tanh"))
    return keras.Sequential(layers, name=name)


def dcgan_discriminator(image_shape, base_filters=64, extra_channels=0, outputs=1,
                        spectral_norm=False, batch_norm=False, name="discriminator"):
    """A DCGAN discriminator: strided 4x4 convolutions, LeakyReLU(0.2), linear output.

    Args:
        image_shape: (height, width, channels) of one input (before packing).
        base_filters: filters of the first convolution, doubled at each one.
        extra_channels: channels appended to the input (PacGAN packing, tiled
            one-hot labels): the network sees ``channels + extra_channels``.
        outputs: size of the linear output (1 for a critic value), or None to
            end with the flattened convolutional features (the GAN then adds its
            own heads: projection, auxiliary classifier).
        spectral_norm: wrap every Conv and Dense layer in SpectralNormalization.
        batch_norm: batch normalisation after every convolution but the first
            (DCGAN's critic); synchronised across replicas. Those convolutions
            have no bias: batch norm removes it (its gradient is 0 up to
            rounding, which Adam's normalised step would amplify).
        name: the model's name.
    """
    _, _, doublings = upsampling_plan(image_shape)
    shape = (*tuple(int(d) for d in image_shape[:2]), int(image_shape[-1]) + extra_channels)
    layers = [keras.Input(shape)]
    filters = base_filters
    for i in range(max(doublings, 1)):
        normalised = batch_norm and i > 0
        layers.append(_wrap(keras.layers.Conv2D(filters, 4, strides=2, padding="same",
                                                use_bias=not normalised), spectral_norm))
        if normalised:
            layers.append(keras.layers.BatchNormalization(synchronized=True))
        layers.append(LeakyMax(0.2))
        filters *= 2
    layers.append(keras.layers.Flatten())
    if outputs is not None:
        layers.append(_wrap(keras.layers.Dense(outputs), spectral_norm))
    return keras.Sequential(layers, name=name)


def mlp_generator(event_shape, latent_dim, hidden_units=(128, 128), extra_inputs=0,
                  output_activation=None, name="generator"):
    """A fully connected generator from ``latent_dim (+ extra_inputs)`` to ``event_shape``.

    ReLU hidden layers, linear output (or ``output_activation``).
    """
    size = int(math.prod(event_shape))
    layers = [keras.Input((latent_dim + extra_inputs,))]
    layers += [keras.layers.Dense(int(units), activation="relu") for units in hidden_units]
    layers.append(keras.layers.Dense(size, activation=output_activation))
    layers.append(keras.layers.Reshape(tuple(int(d) for d in event_shape)))
    return keras.Sequential(layers, name=name)


def mlp_discriminator(input_size, hidden_units=(128, 128), outputs=1, spectral_norm=False,
                      name="discriminator"):
    """A fully connected critic on flat inputs: `unigen.adversarial.mlp_critic`."""
    return mlp_critic(input_size, hidden_units, outputs=outputs, spectral_norm=spectral_norm,
                      name=name)
