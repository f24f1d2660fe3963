"""Default encoder, decoder and latent discriminator networks of `VAE`.

Small, CPU-friendly Keras 3 functional models built from the data's shape:
convolutional for images ``(H, W, C)``, multilayer perceptrons for vectors.
All use plain Keras layers (no ``Lambda``), so they serialise safely.

Contracts (the same for user-given networks):

* encoder: scaled data ``[batch, *event_shape]`` (with ``num_classes``: a list
  ``[x, one_hot_labels]``) -> ``[batch, 2 * latent_dim]``, the posterior mean
  and the raw (pre-softplus) standard deviation.
* decoder: ``[batch, latent_dim (+ num_classes)]`` -> any shape with
  ``event_size * params_per_value`` numbers per example, for example
  ``[batch, H, W, C * params_per_value]`` (params_per_value is the
  likelihood's: 1 for Bernoulli, 2 for a logistic, L for a categorical).
"""

import keras

from unigen.adversarial import LeakyMax

__all__ = []


def _downsamplings(size):
    count = 0
    while size % 2 == 0 and size // 2 >= 4 and count < 2:
        size //= 2
        count += 1
    return count


def conv_encoder(event_shape, latent_dim, num_classes=None, filters=(32, 64), hidden=256):
    """Conv trunk (stride 2 while the image stays at least 4x4) + dense head."""
    height, width, _ = event_shape
    x_in = keras.Input(event_shape, name="x")
    inputs = [x_in]
    down = min(_downsamplings(height), _downsamplings(width))
    h = x_in
    for i, f in enumerate(filters):
        stride = 2 if i >= len(filters) - down else 1
        h = keras.layers.Conv2D(f, 3, strides=stride, padding="same", activation="elu")(h)
    h = keras.layers.Flatten()(h)
    if num_classes:
        y_in = keras.Input((num_classes,), name="labels")
        inputs.append(y_in)
        h = keras.layers.Concatenate()([h, y_in])
    h = keras.layers.Dense(hidden, activation="elu")(h)
    out = keras.layers.Dense(2 * latent_dim, name="posterior_params")(h)
    return keras.Model(inputs if num_classes else x_in, out, name="encoder")


def conv_decoder(event_shape, latent_dim, params_per_value, num_classes=None,
                 filters=(64, 32), hidden=256):
    """Dense stem to a small feature map, transposed convs back to full size."""
    height, width, channels = event_shape
    down = min(_downsamplings(height), _downsamplings(width))
    h0, w0 = height // 2**down, width // 2**down
    z_in = keras.Input((latent_dim + (num_classes or 0),), name="z")
    h = keras.layers.Dense(hidden, activation="elu")(z_in)
    h = keras.layers.Dense(h0 * w0 * filters[0], activation="elu")(h)
    h = keras.layers.Reshape((h0, w0, filters[0]))(h)
    for i, f in enumerate(filters):
        stride = 2 if i < down else 1
        h = keras.layers.Conv2DTranspose(f, 3, strides=stride, padding="same",
                                         activation="elu")(h)
    out = keras.layers.Conv2D(channels * params_per_value, 3, padding="same",
                              name="likelihood_params")(h)
    return keras.Model(z_in, out, name="decoder")


def mlp_encoder(event_shape, latent_dim, num_classes=None, hidden=(128, 128)):
    """MLP from the flattened example to the posterior parameters."""
    x_in = keras.Input(event_shape, name="x")
    h = keras.layers.Flatten()(x_in) if len(event_shape) > 1 else x_in
    inputs = x_in
    if num_classes:
        y_in = keras.Input((num_classes,), name="labels")
        inputs = [x_in, y_in]
        h = keras.layers.Concatenate()([h, y_in])
    for units in hidden:
        h = keras.layers.Dense(units, activation="elu")(h)
    out = keras.layers.Dense(2 * latent_dim, name="posterior_params")(h)
    return keras.Model(inputs, out, name="encoder")


def mlp_decoder(event_size, latent_dim, params_per_value, num_classes=None,
                hidden=(128, 128)):
    """MLP from the latent code to ``event_size * params_per_value`` numbers."""
    z_in = keras.Input((latent_dim + (num_classes or 0),), name="z")
    h = z_in
    for units in hidden:
        h = keras.layers.Dense(units, activation="elu")(h)
    out = keras.layers.Dense(event_size * params_per_value, name="likelihood_params")(h)
    return keras.Model(z_in, out, name="decoder")


def latent_discriminator(latent_dim, hidden=(256, 256)):
    """MLP critic on latent codes for the adversarial autoencoder."""
    z_in = keras.Input((latent_dim,), name="z")
    h = z_in
    for units in hidden:
        h = keras.layers.Dense(units)(h)
        h = LeakyMax(0.2)(h)
    out = keras.layers.Dense(1, name="critic_output")(h)
    return keras.Model(z_in, out, name="latent_discriminator")
