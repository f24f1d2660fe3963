"""LAPGAN (Denton et al. 2015): a Laplacian pyramid of adversarial generators.

An image x = I_0 has the Laplacian pyramid (`layers.laplacian_pyramid`)

    I_{k+1} = d(I_k),   h_k = I_k - u(I_{k+1}),   k = 0..K-1,

with d 2x2 average pooling and u nearest upsampling; I_0 = u(I_1) + h_0 = ...
is recovered exactly from (h_0, ..., h_{K-1}, I_K) (`layers.collapse_pyramid`).
LAPGAN models each piece: an ordinary GAN generates the coarsest image
I_K = G_K(z_K), and at every finer level a conditional generator produces the
band-pass residual from the upsampled coarser image and a noise plane,

    h_k = G_k(z_k, u(I_{k+1})),   I_k = u(I_{k+1}) + h_k,

so sampling runs coarse to fine. Each level has its own critic
(`unigen.adversarial.Critic`), which sees pairs (residual, upsampled coarse
image): real pairs (h_k, u(I_{k+1})) from the data's pyramid against
(G_k(z_k, u(I_{k+1})), u(I_{k+1})) with the same real coarse image. The levels
train jointly (every critic steps, then one generator update on the sum of the
levels' generator losses), or one level alone (``train_level=k``, set with
`set_train_level`), as in the paper.
"""

import keras
import tensorflow as tf

from unigen import _checks, _random
from unigen import divergences as ud
from unigen._model_state import _adam
from unigen.adversarial import Critic, LeakyMax, adversarial_loss
from unigen.base import GenerativeModel, _check_positive_int
from unigen.models._builders import image_builder
from unigen.models.gan import _ops as ops
from unigen.models.gan.networks import upsampling_plan
from unigen.models.pyramid import layers as pl
from unigen.training._distribute import global_batch_noise, minimize

__all__ = ["LAPGAN", "create_lapgan"]


def _coarse_generator(shape, latent_dim, units, name):
    return keras.Sequential([
        keras.Input((latent_dim,)),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(units, activation="relu"),
        keras.layers.Dense(int(shape[0] * shape[1] * shape[2]), activation="tanh"),
        keras.layers.Reshape(tuple(shape)),
    ], name=name)


def _residual_generator(shape, filters, name):
    """[u(I_{k+1}), noise] (C + 1 channels) -> residual h_k (C channels, linear)."""
    return keras.Sequential([
        keras.Input((shape[0], shape[1], shape[2] + 1)),
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(filters, 3, padding="same", activation="relu"),
        keras.layers.Conv2D(shape[2], 3, padding="same"),
    ], name=name)


def _critic_network(shape, filters, name):
    """Images [h, w, c] -> one value: strided 3x3 convolutions (while the size
    is even), leaky ReLU, linear output."""
    layers = [keras.Input(tuple(shape))]
    height, width = shape[0], shape[1]
    layers += [keras.layers.Conv2D(filters, 3, padding="same"), LeakyMax(0.2)]
    while height % 2 == 0 and width % 2 == 0 and height > 2:
        layers += [keras.layers.Conv2D(filters, 3, strides=2, padding="same"), LeakyMax(0.2)]
        height, width = height // 2, width // 2
    layers += [keras.layers.Flatten(), keras.layers.Dense(1)]
    return keras.Sequential(layers, name=name)


@keras.saving.register_keras_serializable(package="unigen")
class LAPGAN(GenerativeModel):
    """A Laplacian pyramid of GANs (see the module docstring).

    Example::

        gan = unigen.models.LAPGAN(image_shape=(28, 28, 1))   # levels 28, 14, 7
        unigen.fit(gan, "fashion_mnist", epochs=20, learning_rate=2e-4)

    Args:
        image_shape: (height, width, channels); halved while even, down to
            ``levels`` sizes (default: as many as DCGAN's plan, 28 -> 14 -> 7,
            8 -> 4 -> 2).
        latent_dim: size of the coarsest GAN's z.
        divergence: the game of every level (a `unigen.divergences` name,
            config or instance; "js" by default).
        levels: number of pyramid levels (None: from the image shape).
        filters: width of the residual generators and critics.
        coarse_units: width of the coarsest GAN's fully connected generator.
        train_level: None to train all levels jointly, or k to train level k
            alone (0 = finest, ``levels - 1`` = the coarse GAN).
        discriminator_learning_rate: the critics' Adam learning rate (None:
            `unigen.fit`'s ``learning_rate``).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        seed: seed of the initial weights and of the training noise.
    """

    has_log_prob = False

    def __init__(self, image_shape=(28, 28, 1), latent_dim=32, divergence="js", *,
                 levels=None, filters=32, coarse_units=128, train_level=None,
                 discriminator_learning_rate=None, num_levels="auto", event_shape=None,
                 seed=0, **kwargs):
        image_shape = _checks.image_shape(image_shape, event_shape)
        super().__init__(image_shape, num_levels=num_levels, seed=seed, **kwargs)
        self.divergence = ud.get(divergence)
        if not self.divergence.uses_critic:
            raise ValueError("LAPGAN trains a critic per level: pass a critic-based "
                             "divergence ('js', 'hinge', 'wasserstein', ...), not 'mmd'.")
        self.divergence.check_trainable()
        _, _, doublings = upsampling_plan(image_shape)
        self.levels = doublings + 1 if levels is None else _check_positive_int("levels", levels)
        height, width = image_shape[:2]
        if height % 2 ** (self.levels - 1) or width % 2 ** (self.levels - 1):
            raise ValueError(f"{self.levels} levels halve the image "
                             f"{_checks.plural(self.levels - 1, 'time')}: height and width "
                             f"must be multiples of {2 ** (self.levels - 1)}, got "
                             f"{image_shape[:2]}.")
        self.image_shape = image_shape
        self.latent_dim = _check_positive_int("latent_dim", latent_dim)
        self.filters = _check_positive_int("filters", filters)
        self.coarse_units = _check_positive_int("coarse_units", coarse_units)
        self.discriminator_learning_rate = discriminator_learning_rate
        self.train_level = None
        self._check_level(train_level)
        self.train_level = None if train_level is None else int(train_level)
        shapes = [(height // 2**k, width // 2**k, image_shape[-1]) for k in range(self.levels)]
        self.level_shapes = shapes
        coarsest = self.levels - 1
        self.level_generators = [
            _residual_generator(shapes[k], self.filters, f"generator_{k}")
            for k in range(coarsest)
        ] + [_coarse_generator(shapes[coarsest], self.latent_dim, self.coarse_units,
                               f"generator_{coarsest}")]
        self.level_critics = []
        for k in range(self.levels):
            channels = shapes[k][2] * (2 if k < coarsest else 1)  # (h_k, u(I_{k+1})) pairs
            network = _critic_network((*shapes[k][:2], channels), self.filters,
                                      f"discriminator_{k}")
            self.level_critics.append(Critic(network, self.divergence, name=f"critic_{k}"))
        names = ["loss", "critic_loss"] + (
            ["critic_penalty"] if self.level_critics[0].reports_penalty else [])
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}

    def _check_level(self, level):
        if level is not None and (isinstance(level, bool) or int(level) != level
                                  or not 0 <= int(level) < self.levels):
            raise ValueError(f"`train_level` must be None (all levels) or a level in "
                             f"0..{self.levels - 1}, got {level!r}.")

    def set_train_level(self, level):
        """Trains only level ``level`` from the next `fit` (None: all levels jointly)."""
        self._check_level(level)
        self.train_level = None if level is None else int(level)
        self.train_function = None  # retraced with the new level

    @property
    def metrics(self):
        return list(self._trackers.values())

    def build(self, input_shape=None):
        del input_shape
        coarsest = self.levels - 1
        for k, (generator, critic) in enumerate(zip(self.level_generators, self.level_critics,
                                                    strict=True)):
            shape = self.level_shapes[k]
            if not generator.built:
                generator.build((None, self.latent_dim) if k == coarsest else
                                (None, shape[0], shape[1], shape[2] + 1))
            channels = shape[2] * (2 if k < coarsest else 1)
            critic.build((None, shape[0], shape[1], channels))
        self.built = True

    # ------------------------------------------------------------ pieces
    def _noise(self, batch, shape, seed):
        return global_batch_noise(lambda n: _random.normal((n, *shape), seed=seed), batch)

    def _residual(self, k, coarse_up, noise, training):
        inputs = tf.concat([coarse_up, noise], axis=-1)
        return tf.cast(self.level_generators[k](inputs, training=training), "float32")

    def _coarse(self, z, training):
        return tf.cast(self.level_generators[-1](z, training=training), "float32")

    def _level_pairs(self, real, seed, training):
        """Per level k: (real critic input, generated critic input) in the pyramid's
        terms, each generator conditioned on the real coarser image."""
        batch = tf.shape(real)[0]
        pyramid = pl.laplacian_pyramid(real, self.levels)
        images = [real]
        for _ in range(self.levels - 1):
            images.append(pl.downsample(images[-1]))
        pairs = []
        for k in range(self.levels - 1):
            coarse_up = pl.upsample(images[k + 1])
            noise = self._noise(batch, (*self.level_shapes[k][:2], 1), seed)
            fake = self._residual(k, coarse_up, noise, training)
            pairs.append((tf.concat([pyramid[k], coarse_up], -1),
                          tf.concat([fake, coarse_up], -1)))
        z = self._noise(batch, (self.latent_dim,), seed)
        pairs.append((pyramid[-1], self._coarse(z, training)))
        return pairs

    def _active_levels(self):
        return range(self.levels) if self.train_level is None else [self.train_level]

    # ----------------------------------------------------------- training
    def train_step(self, data):
        """Every active level's critic steps once, then one generator update on the
        sum of the active levels' generator losses.

        Reported: ``loss`` (that sum), ``critic_loss`` and ``critic_penalty``
        (means over the active levels' critics)."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        real = self._preprocess(x)
        critic_loss, penalty = 0.0, 0.0
        pairs = self._level_pairs(real, self.noise_generator, training=True)
        for k in self._active_levels():
            logs = self.level_critics[k].step(*pairs[k], seed=self.noise_generator)
            critic_loss += logs["critic_loss"]
            penalty += logs.get("critic_penalty", 0.0)
        active = list(self._active_levels())
        variables = [v for k in active for v in self.level_generators[k].trainable_variables]

        def loss():
            level_pairs = self._level_pairs(real, self.noise_generator, training=True)
            return tf.add_n([adversarial_loss(self.divergence, self.level_critics[k],
                                              *level_pairs[k]) for k in active])

        # The critics' values are reported as means over the active levels.
        logs = {"loss": minimize(self.optimizer, loss, variables),
                "critic_loss": critic_loss / len(active), "critic_penalty": penalty / len(active)}
        for name, tracker in self._trackers.items():
            tracker.update_state(logs[name])
        return self.get_metrics_result()

    def test_step(self, data):
        """The generator loss of every level on a batch, with fixed noise, no update."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        pairs = self._level_pairs(self._preprocess(x), 0, training=False)
        self._trackers["loss"].update_state(tf.add_n([
            adversarial_loss(self.divergence, critic, *pair)
            for critic, pair in zip(self.level_critics, pairs, strict=True)]))
        return {"loss": self._trackers["loss"].result()}

    def _preprocess(self, x):
        return ops.to_generator_range(x, self.num_levels)

    def _default_optimizer(self, learning_rate):
        return _adam(learning_rate, beta_1=0.5)

    # ----------------------------------------------------------- sampling
    def _sample(self, num_samples, seed):
        """Coarse to fine: I_K = G_K(z), I_k = u(I_{k+1}) + G_k(z_k, u(I_{k+1}))."""
        generator = keras.random.SeedGenerator(seed)
        image = self._coarse(_random.normal((num_samples, self.latent_dim),
                                                 seed=generator), training=False)
        for k in range(self.levels - 2, -1, -1):
            coarse_up = pl.upsample(image)
            noise = _random.normal((num_samples, *self.level_shapes[k][:2], 1),
                                        seed=generator)
            image = coarse_up + self._residual(k, coarse_up, noise, training=False)
        return ops.from_generator_range(tf.clip_by_value(image, -1.0, 1.0), self.num_levels)

    def get_config(self):
        config = super().get_config()
        config.pop("event_shape", None)
        return {**config, "image_shape": list(self.image_shape),
                "latent_dim": self.latent_dim, "divergence": ud.serialize(self.divergence),
                "levels": self.levels, "filters": self.filters,
                "coarse_units": self.coarse_units, "train_level": self.train_level,
                "discriminator_learning_rate": self.discriminator_learning_rate}


create_lapgan = image_builder(LAPGAN)
