"""The default fully connected critic network, shared by every family."""

import keras

__all__ = ["LeakyMax", "mlp_critic", "spectral_norm"]


@keras.saving.register_keras_serializable(package="unigen")
class LeakyMax(keras.layers.Layer):
    """Leaky ReLU written as max(x, slope x) (slope in [0, 1]): the same function and
    gradient as `keras.layers.LeakyReLU`.

    TensorFlow's graph optimizer fuses Conv2D/MatMul + BiasAdd + LeakyRelu and
    then fails on the critic's training graph, whose LeakyRelu gradient still
    reads the BiasAdd output ("remapper failed: ... fanout ... exist for
    missing node"); the step runs unfused and correct, but prints an error
    line on every fit. Written as a maximum, the pattern is not matched.
    """

    def __init__(self, negative_slope=0.2, **kwargs):
        super().__init__(**kwargs)
        self.negative_slope = float(negative_slope)
        if not 0.0 <= self.negative_slope <= 1.0:
            raise ValueError(f"`negative_slope` must be in [0, 1], got {negative_slope!r}.")

    def call(self, x):
        return keras.ops.maximum(x, self.negative_slope * x)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "negative_slope": self.negative_slope}


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
    """A fully connected critic on flat inputs of ``input_size``: Dense + leaky ReLU (0.2).

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
                   LeakyMax(0.2)]
    if outputs is not None:
        layers.append(_wrap(keras.layers.Dense(outputs), spectral_norm))
    return keras.Sequential(layers, name=name)
