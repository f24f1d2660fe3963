"""`unigen.GAN`: adversarial training of any generator against any divergence.

The generator maps latent noise z ~ N(0, I) (and, for a conditional GAN, a
label) to the data space; the discriminator (critic) maps data to a raw real
number v(x). Which game they play is set by a `unigen.divergences.Divergence`:
"js" (Goodfellow et al.'s GAN), any f-divergence (f-GAN), "wasserstein" (WGAN,
with a Lipschitz control), "hinge", or "mmd" (no critic: a generative
moment-matching network).
"""

import keras
import numpy as np
import tensorflow as tf

from unigen import divergences as ud
from unigen import errors
from unigen.base import GenerativeModel, _check_positive_int
from unigen.models.gan import _ops as ops
from unigen.models.gan._compile import GANCompileMixin
from unigen.models.gan._training import GANTrainingMixin
from unigen.models.gan.networks import has_spectral_norm

__all__ = ["GAN"]

CONDITIONINGS = ("concat", "projection", "none")


def _check_fraction(name, value, upper=1.0):
    value = float(value)
    if not 0.0 <= value < upper:
        raise ValueError(f"`{name}` must be in [0, {upper}), got {value!r}.")
    return value


def _network(value, what):
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, keras.layers.Layer):
        raise TypeError(f"`{what}` must be a Keras model or layer, got {type(value).__name__}.")
    return value


@keras.saving.register_keras_serializable(package="unigen")
class GAN(GANTrainingMixin, GANCompileMixin, GenerativeModel):
    """A generative adversarial network trained on a `unigen.divergences` divergence.

    Each training step (``train_step``, run by `unigen.fit` or ``Model.fit``)
    makes ``discriminator_steps`` critic updates, each on the same data batch and
    fresh latent noise, then one generator update, with two optimizers::

        critic:     minimise divergence.discriminator_loss(v(x), v(G(z)))
                    (+ critic_penalty, + label smoothing s E[v(x)], + AC-GAN term)
        generator:  minimise divergence.generator_loss(v(G(z)))

    Every loss is a per-replica mean scaled by `scale_loss_for_replicas`, and all
    noise (latent codes, instance noise, gradient-penalty interpolation weights)
    comes from a model-owned `keras.random.SeedGenerator` through
    `global_batch_noise`, so R replicas train exactly as one device does.

    Data: images with ``num_levels=L`` (integer levels, as `unigen.datasets`
    yields them) are mapped to [-1, 1] for a tanh generator, x / (L - 1) * 2 - 1;
    ``sample`` maps back and rounds to integer levels. Vectors are used as they are.

    Args:
        generator: Keras model from ``[batch, latent_dim (+ num_classes)]`` to
            ``[batch, *event_shape]`` in the generator's range.
        discriminator: Keras model on ``[batch / pack, *input]`` (input = an
            example with one-hot labels concatenated for ``conditioning="concat"``,
            ``pack`` of them concatenated on the last axis) returning raw values
            ``[batch / pack, 1]``; or, with ``conditioning="projection"`` or an
            auxiliary classifier, features ``[batch / pack, F]`` (the GAN adds
            the heads). None for ``divergence="mmd"``.
        latent_dim: size of z.
        divergence: a `unigen.divergences` name, config dict or instance.
        discriminator_steps: critic updates per generator update (5 for WGAN).
        generator_learning_rate, discriminator_learning_rate: Adam learning
            rates of the default optimizers (two time-scale update rule when they
            differ); None takes `unigen.fit`'s ``learning_rate``.
        label_smoothing: one-sided label smoothing s (real targets 1 - s) for the
            "js" divergence.
        instance_noise: std of Gaussian noise added to the critic's real and
            fake inputs (in the generator's range).
        instance_noise_steps: anneal ``instance_noise`` linearly to 0 over this
            many generator steps (None: constant).
        pack: PacGAN packing degree; the batch must be a multiple of it.
        ema_decay: decay of an exponential moving average of the generator's
            weights, used by ``sample`` (None: no average), with the decay warmed
            up as min(ema_decay, (1 + t) / (10 + t)) after t generator steps so
            the initial weights are soon forgotten. The average lives in
            a copy of the generator rebuilt from its config (a Sequential or
            functional model).
        num_classes: number of classes of a conditional GAN (labels 0..K-1).
        conditioning: how the critic sees labels: "concat" (one-hot
            concatenated to its input), "projection" (Miyato and Koyama 2018:
            v = w.phi(x) + embed(y).phi(x)) or "none" (AC-GAN style: only the
            auxiliary classifier uses labels).
        auxiliary_classifier_weight: weight of the AC-GAN class loss (0: off).
        event_shape: shape of one example; default: the generator's output shape.
        num_levels: discrete levels of image data, or None for real vectors.
        seed: seed of the training-noise generator (None: from Keras's global seed).
        **kwargs: passed to `unigen.GenerativeModel` (for example ``name``).

    References:
        Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
        Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016.
        Gulrajani et al. "Improved Training of Wasserstein GANs." NeurIPS 2017.
        Odena, Olah and Shlens. "Conditional Image Synthesis with Auxiliary
        Classifier GANs." ICML 2017.
        Miyato and Koyama. "cGANs with Projection Discriminator." ICLR 2018.
        Lin et al. "PacGAN." NeurIPS 2018.
        Yazici et al. "The Unusual Effectiveness of Averaging in GAN Training." ICLR 2019.
    """

    has_log_prob = False

    def __init__(self, generator, discriminator, latent_dim, divergence="js", *,
                 discriminator_steps=1, generator_learning_rate=None,
                 discriminator_learning_rate=None, label_smoothing=0.0,
                 instance_noise=0.0, instance_noise_steps=None, pack=1, ema_decay=None,
                 num_classes=None, conditioning="concat", auxiliary_classifier_weight=0.0,
                 event_shape=None, num_levels=None, seed=None, **kwargs):
        self.divergence = ud.get(divergence)
        self.divergence.check_trainable()
        generator = _network(generator, "generator")
        if event_shape is None:
            event_shape = tuple(generator.output_shape[1:])
        super().__init__(event_shape, num_levels=num_levels, **kwargs)
        self.generator = generator
        self.latent_dim = _check_positive_int("latent_dim", latent_dim)
        self.discriminator_steps = _check_positive_int("discriminator_steps", discriminator_steps)
        self.pack = _check_positive_int("pack", pack)
        self.label_smoothing = _check_fraction("label_smoothing", label_smoothing)
        self.instance_noise = float(instance_noise)
        if self.instance_noise < 0:
            raise ValueError(f"`instance_noise` must be >= 0, got {instance_noise!r}.")
        self.instance_noise_steps = (None if instance_noise_steps is None else
                                     _check_positive_int("instance_noise_steps",
                                                         instance_noise_steps))
        self.ema_decay = None if ema_decay is None else _check_fraction("ema_decay", ema_decay)
        self.generator_learning_rate = generator_learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.num_classes = (None if num_classes is None else
                            _check_positive_int("num_classes", num_classes))
        if conditioning not in CONDITIONINGS:
            raise ValueError(f"`conditioning` must be one of {list(CONDITIONINGS)}, "
                             f"got {conditioning!r}.")
        self.conditioning = conditioning
        self.auxiliary_classifier_weight = float(auxiliary_classifier_weight)
        self.seed = seed
        self._check_options()
        self.discriminator = None
        if self.divergence.uses_critic:
            if discriminator is None:
                raise ValueError(f"`discriminator` is required for the "
                                 f"{type(self.divergence).__name__} divergence; only "
                                 f"'mmd' trains without one.")
            self.discriminator = _network(discriminator, "discriminator")
            if self.divergence.lipschitz == "spectral_norm" and not has_spectral_norm(
                    self.discriminator):
                raise ValueError(
                    "`divergence` asks for lipschitz='spectral_norm' but the "
                    "discriminator has no keras.layers.SpectralNormalization layer. "
                    "Wrap its Dense/Conv layers with unigen.models.gan.networks."
                    "spectral_norm(layer), or build it with spectral_norm=True.")
        self._make_heads()
        self.ema_generator = None
        if self.ema_decay is not None:
            self.ema_generator = self.generator.__class__.from_config(
                {**self.generator.get_config(), "name": "ema_generator"})
        self._trackers = {name: keras.metrics.Mean(name=name) for name in self._metric_names()}

    # ------------------------------------------------------------ set-up
    def _check_options(self):
        is_js = isinstance(self.divergence, ud.JensenShannon)
        if self.label_smoothing and not is_js:
            raise ValueError(
                f"`label_smoothing` applies to the 'js' divergence (real targets "
                f"1 - s of the binary cross-entropy), got divergence "
                f"{type(self.divergence).__name__}; set label_smoothing=0.")
        conditional = self.num_classes is not None
        if self.auxiliary_classifier_weight < 0:
            raise ValueError("`auxiliary_classifier_weight` must be >= 0, got "
                             f"{self.auxiliary_classifier_weight!r}.")
        if self.auxiliary_classifier_weight and not conditional:
            raise ValueError("`auxiliary_classifier_weight` > 0 needs `num_classes`.")
        if conditional and self.conditioning == "none" and not self.auxiliary_classifier_weight:
            raise ValueError("conditioning='none' needs auxiliary_classifier_weight > 0 "
                             "(an AC-GAN); otherwise the critic never sees the labels.")
        if self.pack > 1 and (self._needs_features or
                              (conditional and self.conditioning != "concat")):
            raise ValueError("`pack` > 1 works with unconditional critics or "
                             "conditioning='concat'; got a projection or auxiliary "
                             "classifier head.")
        if conditional and not self.divergence.uses_critic:
            raise ValueError("A conditional GAN needs a critic-based divergence, not 'mmd'.")

    @property
    def _needs_features(self):
        return self.num_classes is not None and (
            self.conditioning == "projection" or self.auxiliary_classifier_weight > 0)

    def _make_heads(self):
        self.critic_head = self.class_embedding = self.auxiliary_head = None
        if not self._needs_features or self.discriminator is None:
            return
        head = keras.layers.Dense(1, name="critic_head")
        if self.divergence.lipschitz == "spectral_norm":
            head = keras.layers.SpectralNormalization(head, name="critic_head_sn")
        self.critic_head = head
        if self.auxiliary_classifier_weight:
            self.auxiliary_head = keras.layers.Dense(self.num_classes, name="auxiliary_head")

    def _metric_names(self):
        names = ["loss", "d_loss"]
        if getattr(self.divergence, "lipschitz", None) == "gradient_penalty":
            names.append("penalty")
        if self.auxiliary_classifier_weight:
            names.append("aux_loss")
        return names

    @property
    def metrics(self):
        """The trackers of the reported values: ``loss`` is the generator loss."""
        return list(self._trackers.values())

    def _generator_input_size(self):
        return self.latent_dim + (self.num_classes or 0)

    def _critic_input_shape(self):
        shape = list(self.event_shape)
        if self.num_classes is not None and self.conditioning == "concat":
            shape[-1] += self.num_classes
        shape[-1] *= self.pack
        return tuple(shape)

    def build(self, input_shape=None):
        del input_shape
        self._seed_generator = keras.random.SeedGenerator(self.seed, name="training_noise")
        if not self.generator.built:
            self.generator.build((None, self._generator_input_size()))
        if self.discriminator is not None:
            if not self.discriminator.built:
                self.discriminator.build((None, *self._critic_input_shape()))
            if self.critic_head is not None:
                features = int(self.discriminator.compute_output_shape(
                    (None, *self._critic_input_shape()))[-1])
                self.critic_head.build((None, features))
                if self.conditioning == "projection":
                    # Sized by the critic's features, known once it is built.
                    self.class_embedding = keras.layers.Embedding(
                        self.num_classes, features, name="class_embedding")
                    self.class_embedding.build((None,))
                if self.auxiliary_head is not None:
                    self.auxiliary_head.build((None, features))
        if self.ema_generator is not None:
            self.ema_generator.build((None, self._generator_input_size()))
            for average, weight in zip(self.ema_generator.weights, self.generator.weights,
                                       strict=True):
                average.assign(weight)
        self.built = True

    # ---------------------------------------------------- the two networks
    def _generate(self, z, labels, training, average=False):
        if self.num_classes is not None:
            z = tf.concat([z, tf.one_hot(labels, self.num_classes, dtype=z.dtype)], -1)
        network = self.ema_generator if average else self.generator
        # The generator may compute in low precision; what leaves it is float32.
        return tf.cast(network(z, training=training), "float32")

    def critic(self, x, labels=None, training=False):
        """Raw critic outputs v(x) on a batch in the generator's range.

        Returns ``(values [batch / pack], auxiliary class logits or None)``.
        """
        inputs = x
        if self.num_classes is not None and self.conditioning == "concat":
            inputs = ops.attach_labels(inputs, labels, self.num_classes)
        outputs = tf.cast(self.discriminator(ops.pack_samples(inputs, self.pack),
                                             training=training), "float32")
        if self.critic_head is None:
            return tf.reshape(outputs, [-1]), None
        features = tf.reshape(outputs, [tf.shape(outputs)[0], -1])
        values = tf.cast(self.critic_head(features, training=training)[:, 0], "float32")
        if self.class_embedding is not None:
            embedded = tf.cast(self.class_embedding(labels), "float32")
            values += tf.reduce_sum(embedded * features, axis=-1)
        logits = (None if self.auxiliary_head is None else
                  tf.cast(self.auxiliary_head(features), "float32"))
        return values, logits

    def call(self, x, training=False):
        """Critic values on a data batch (unconditional GANs)."""
        if self.discriminator is None or self.num_classes is not None:
            raise TypeError("Call `critic(x, labels)` for a conditional GAN; an MMD "
                            "GAN has no critic.")
        return self.critic(self._preprocess(x), training=training)[0]

    def validate_data(self, x):
        """`GenerativeModel.validate_data`, plus: the batch is a multiple of ``pack``."""
        super().validate_data(x)
        if self.pack > 1 and len(x) % self.pack:
            raise errors.DataError(
                f"With pack={self.pack} the batch size must be a multiple of "
                f"{self.pack} (per replica), got a batch of {len(x)}.")

    def _preprocess(self, x):
        return ops.to_generator_range(x, self.num_levels)

    # ----------------------------------------------------------- sampling
    def sample(self, num_samples, seed=None, labels=None):
        """Draws ``num_samples`` examples in the data space.

        Uses the moving average of the generator's weights when ``ema_decay`` is
        set. Images with ``num_levels`` come back as integer levels (float32).

        Args:
            num_samples: positive int.
            seed: int for reproducible draws, or None.
            labels: int labels ``[num_samples]`` of a conditional GAN; default:
                0, 1, ..., K-1, 0, 1, ... Passing labels to an unconditional GAN
                is an error.
        """
        num_samples = _check_positive_int("num_samples", num_samples)
        if seed is not None and (isinstance(seed, bool) or
                                 not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an int or None, got {seed!r}.")
        if labels is not None and self.num_classes is None:
            raise ValueError("`labels` needs a conditional GAN (num_classes set).")
        if self.num_classes is not None:
            if labels is None:
                labels = np.arange(num_samples) % self.num_classes
            labels = np.asarray(labels).reshape(-1)
            if labels.shape[0] != num_samples or labels.min() < 0 or (
                    labels.max() >= self.num_classes):
                raise ValueError(f"`labels` must be {num_samples} ints in "
                                 f"0..{self.num_classes - 1}, got {labels!r}.")
            labels = tf.constant(labels, "int32")
        self._ensure_built()
        z = keras.random.normal((num_samples, self.latent_dim), seed=seed)
        out = self._generate(z, labels, training=False, average=self.ema_generator is not None)
        return ops.from_generator_range(out, self.num_levels)

    def _sample(self, num_samples, seed):
        return self.sample(num_samples, seed)

    # -------------------------------------------------------------- config
    def _gan_options(self):
        return {
            "latent_dim": self.latent_dim,
            "divergence": ud.serialize(self.divergence),
            "discriminator_steps": self.discriminator_steps,
            "generator_learning_rate": self.generator_learning_rate,
            "discriminator_learning_rate": self.discriminator_learning_rate,
            "label_smoothing": self.label_smoothing,
            "instance_noise": self.instance_noise,
            "instance_noise_steps": self.instance_noise_steps,
            "pack": self.pack,
            "ema_decay": self.ema_decay,
            "num_classes": self.num_classes,
            "conditioning": self.conditioning,
            "auxiliary_classifier_weight": self.auxiliary_classifier_weight,
            "seed": self.seed,
        }

    def get_config(self):
        return {
            **super().get_config(),
            **self._gan_options(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": (None if self.discriminator is None else
                              keras.saving.serialize_keras_object(self.discriminator)),
        }
