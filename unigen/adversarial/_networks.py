"""The default fully connected critic network, shared by every family."""

import keras

__all__ = ["mlp_critic", "spectral_norm"]


def spectral_norm(layer, power_iterations=1):
    """Wraps a Dense or Conv layer in `keras.layers.SpectralNormalization`.

    The wrapper divides the kernel by an estimate of its largest singular value
    (one power iteration per training call), so the layer is 1-Lipschitz
    (Miyato et al. 2018).
    """
    return keras.layers.SpectralNormalization(layer, power_iterations=power_iterations)


def _wrap(layer, use_sn):
    return spectral_norm(layer) if use_sn else layer


def mlp_critic(input_size, hidden_units=(128, 128), outputs=1, spectral_norm=False,
               name="discriminator"):
    """A fully connected critic on flat inputs of ``input_size``: Dense + LeakyReLU(0.2).

    Args:
        input_size: features of one (flat) input.
        hidden_units: widths of the hidden layers.
        outputs: size of the linear output (1 for a critic value), or None to end
            with the last hidden layer (features for a model's own heads).
        spectral_norm: wrap every Dense layer in `keras.layers.SpectralNormalization`.
        name: the network's name.
    """
    layers = [keras.Input((int(input_size),))]
    for units in hidden_units:
        layers += [_wrap(keras.layers.Dense(int(units)), spectral_norm),
                   keras.layers.LeakyReLU(0.2)]
    if outputs is not None:
        layers.append(_wrap(keras.layers.Dense(outputs), spectral_norm))
    return keras.Sequential(layers, name=name)
