"""`unigen.GAN`: adversarial training of any generator against any divergence.

The generator maps latent noise z ~ N(0, I) (and, for a conditional GAN, a
label) to the data space; the discriminator (critic) maps data to a raw real
number v(x). Which game they play is set by a `unigen.divergences.Divergence`:
"js" (Goodfellow et al.'s GAN), any f-divergence (f-GAN), "wasserstein" (WGAN,
with a Lipschitz control), "hinge", or "mmd" (no critic: a generative
moment-matching network).
"""

import math

import keras
import tensorflow as tf

from unigen import _random, errors
from unigen import divergences as ud
from unigen._checks import check_number
from unigen._model_state import _adam
from unigen.base import GenerativeModel, LatentDecoder, _check_positive_int
from unigen.models.gan import _ops as ops
from unigen.models.gan._critic import GANCritic, needs_features
from unigen.models.gan._training import GANTrainingMixin
from unigen.models.vae._likelihoods import discretized_log_prob

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
class GAN(GANTrainingMixin, GenerativeModel):
    """A generative adversarial network trained on a `unigen.divergences` divergence.

    Each training step (``train_step``, run by `unigen.fit` or ``Model.fit``)
    makes ``discriminator_steps`` critic updates (`unigen.adversarial.Critic.step`
    of the GAN's ``critic``), each on the same data batch and fresh latent
    noise, then one generator update, with two optimizers::

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
        label_flip: probability p in [0, 0.5) of flipping each real and each
            fake target of the "js" critic's loss (noisy labels, "ganhacks").
        feature_matching: weight lambda of feature matching (Salimans et al.
            2016): the generator minimises its adversarial loss plus
            lambda ||E f(x) - E f(G(z))||^2, f the critic network's last
            hidden features (means over the global batch).
        minibatch_discrimination: number of kernels B of a
            `layers.MinibatchDiscrimination` layer between the critic's
            features and its head (0: off); it compares each example with the
            others of the global batch (gathered from every replica), so R
            replicas train as one device does.
        semi_supervised_classes: K of a semi-supervised GAN (Salimans et al.
            2016, Section 5): the critic has K class logits l_k and the "real"
            logit log sum_k exp l_k (the (K+1)-th, fake, class has logit 0);
            data are (x, y) with y in 0..K-1 for labelled and -1 for unlabelled
            examples; ``classify(x)`` gives p(y | x). "js" divergence only; the
            generator stays unconditional.
        supervised_weight: weight of the labelled examples' cross-entropy
            (a mean over the whole batch, unlabelled ones counting 0).
        drift: epsilon_drift of Karras et al. (ProGAN): the critic's loss gets
            + epsilon E_x[v(x)^2] over the real batch, keeping a Wasserstein
            critic's values near 0 (0: off; needs a critic).
        orthogonal_regularization: beta of BigGAN's orthogonal regularisation:
            the generator minimises its loss plus
            beta sum_W ||W^T W * (1 - I)||_F^2 over its kernels (0: off).
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
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        seed: seed of the initial weights of the networks the GAN builds and of
            its training-noise generator (None: Keras's global random state).
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
                 label_flip=0.0, feature_matching=0.0, minibatch_discrimination=0,
                 semi_supervised_classes=None, supervised_weight=1.0,
                 orthogonal_regularization=0.0, drift=0.0, event_shape=None,
                 num_levels="auto", seed=0, **kwargs):
        self.divergence = ud.get(divergence)
        self.divergence.check_trainable()
        generator = _network(generator, "generator")
        if event_shape is None:
            event_shape = tuple(generator.output_shape[1:])
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
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
        self.label_flip = _check_fraction("label_flip", label_flip, upper=0.5)
        self.feature_matching = float(feature_matching)
        if not self.feature_matching >= 0:
            raise ValueError(f"`feature_matching` must be a weight >= 0, got "
                             f"{feature_matching!r}.")
        self.minibatch_discrimination = (
            0 if not minibatch_discrimination else
            _check_positive_int("minibatch_discrimination", minibatch_discrimination))
        self.semi_supervised_classes = (
            None if semi_supervised_classes is None else
            _check_positive_int("semi_supervised_classes", semi_supervised_classes))
        self.supervised_weight = float(supervised_weight)
        if not self.supervised_weight >= 0:
            raise ValueError(f"`supervised_weight` must be >= 0, got {supervised_weight!r}.")
        self.orthogonal_regularization = float(orthogonal_regularization)
        if not self.orthogonal_regularization >= 0:
            raise ValueError(f"`orthogonal_regularization` must be >= 0, got "
                             f"{orthogonal_regularization!r}.")
        self.drift = float(drift)
        if not self.drift >= 0:
            raise ValueError(f"`drift` must be a weight >= 0 (1e-3 in ProGAN), got {drift!r}.")
        if self.drift and not self.divergence.uses_critic:
            raise ValueError("`drift` penalises a critic's values; the "
                             f"{type(self.divergence).__name__} divergence has no critic: "
                             "pass drift=0.")
        self._check_options()
        self.critic = None
        if self.divergence.uses_critic:
            if discriminator is None:
                raise ValueError(f"`discriminator` is required for the "
                                 f"{type(self.divergence).__name__} divergence; only a "
                                 f"divergence estimated from samples ('mmd') trains "
                                 f"without one.")
            self.critic = GANCritic(
                _network(discriminator, "discriminator"), self.divergence,
                num_classes=self.num_classes, conditioning=conditioning,
                auxiliary_classifier_weight=self.auxiliary_classifier_weight,
                pack=self.pack, label_smoothing=self.label_smoothing,
                label_flip=self.label_flip, feature_matching=self.feature_matching,
                minibatch_discrimination=self.minibatch_discrimination,
                semi_supervised_classes=self.semi_supervised_classes,
                supervised_weight=self.supervised_weight, drift=self.drift)
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
        if self.pack > 1 and (needs_features(self.num_classes, self.conditioning,
                                             self.auxiliary_classifier_weight) or
                              (conditional and self.conditioning != "concat")):
            raise ValueError("`pack` > 1 works with unconditional critics or "
                             "conditioning='concat'; got a projection or auxiliary "
                             "classifier head.")
        if conditional and not self.divergence.uses_critic:
            raise ValueError("A conditional GAN needs a critic-based divergence, not 'mmd'.")
        if self.label_flip and not is_js:
            raise ValueError(
                f"`label_flip` flips the binary targets of the 'js' divergence, got "
                f"divergence {type(self.divergence).__name__}; set label_flip=0.")
        if self.semi_supervised_classes is not None:
            if not is_js:
                raise ValueError(
                    f"A semi-supervised GAN (semi_supervised_classes) plays the 'js' game "
                    f"of the K+1-class critic, got divergence "
                    f"{type(self.divergence).__name__}; pass divergence='js'.")
            if conditional:
                raise ValueError("`semi_supervised_classes` and `num_classes` exclude each "
                                 "other: the semi-supervised generator is unconditional; "
                                 "pass only semi_supervised_classes.")
        tricks = (self.feature_matching or self.minibatch_discrimination
                  or self.semi_supervised_classes)
        if tricks and not self.divergence.uses_critic:
            raise ValueError("feature_matching, minibatch_discrimination and "
                             "semi_supervised_classes need a critic; 'mmd' has none.")
        if self.pack > 1 and tricks:
            raise ValueError("`pack` > 1 does not combine with feature_matching, "
                             "minibatch_discrimination or semi_supervised_classes; "
                             "set pack=1.")

    @property
    def discriminator(self):
        """The critic's network (None for a divergence estimated from samples)."""
        return None if self.critic is None else self.critic.network

    @property
    def discriminator_optimizer(self):
        """The critic's optimizer (``critic.optimizer``)."""
        return None if self.critic is None else self.critic.optimizer

    @property
    def generator_optimizer(self):
        """The generator's optimizer (the same object as ``optimizer``)."""
        return getattr(self, "optimizer", None)

    def _metric_names(self):
        return ["loss"] + ([] if self.critic is None else self.critic.metric_names)

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
        if not self.generator.built:
            self.generator.build((None, self._generator_input_size()))
        if self.critic is not None:
            self.critic.build((None, *self._critic_input_shape()))
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

    def call(self, x, training=False):
        """Critic values on a data batch (unconditional GANs)."""
        if self.critic is None or self.num_classes is not None:
            raise TypeError("Call `critic(x, labels)` for a conditional GAN; an MMD "
                            "GAN has no critic.")
        return self.critic(self._preprocess(x), training=training)

    def orthogonal_penalty(self):
        """sum_W ||W^T W * (1 - I)||_F^2 over the generator's kernels (rank >= 2)."""
        kernels = [v for v in self.generator.trainable_variables
                   if v.name == "kernel" and len(v.shape) >= 2]
        return tf.add_n([ops.orthogonal_penalty(k) for k in kernels])

    def classify(self, x):
        """p(y | x), [batch, K], of a semi-supervised GAN: the softmax of the critic's
        K class logits on data ``x`` (in the data's own range, like ``log_prob``)."""
        if self.semi_supervised_classes is None:
            raise TypeError("`classify` needs a semi-supervised GAN: pass "
                            "semi_supervised_classes=K.")
        return self.critic.classify(self._preprocess(x))

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
    def _sample(self, num_samples, seed, labels=None, truncation=None):
        """Draws from the generator (its moving average when ``ema_decay`` is set).

        ``labels``: ints ``[num_samples]`` of a conditional GAN (default 0, 1,
        ..., K-1, 0, ...). ``truncation``: the truncation trick (Brock et al.
        2019): z from the standard normal truncated to [-t, t], trading variety
        for fidelity as t shrinks (None: the untruncated prior). Images with
        ``num_levels`` come back as integer levels.
        """
        if truncation is None:
            z = _random.normal((num_samples, self.latent_dim), seed=seed)
        else:
            truncation = check_number("truncation", truncation, positive=True,
                                      hint=" (the bound t of z in [-t, t])")
            z = ops.truncated_normal((num_samples, self.latent_dim), truncation, seed)
        out = self._generate(z, labels, training=False, average=self.ema_generator is not None)
        return ops.from_generator_range(out, self.num_levels)

    # ------------------------------------------------------- evaluation
    def likelihood_estimators(self):
        """AIS with a Gaussian observation model, then Parzen (unconditional);
        Parzen only for a conditional GAN."""
        return ["parzen"] if self.num_classes is not None else ["ais", "parzen"]

    def latent_decoder(self):
        """z ~ N(0, I) through the generator, observed with N(G(z), sigma^2) noise
        (sigma in level units for discrete data); None for a conditional GAN."""
        if self.num_classes is not None:
            return None
        half_log_2pi = 0.5 * math.log(2.0 * math.pi)

        def log_prior(z):
            return -0.5 * tf.reduce_sum(tf.square(z), -1) - self.latent_dim * half_log_2pi

        def log_likelihood(x_flat, z, sigma):
            out = self._generate(z, None, training=False,
                                 average=self.ema_generator is not None)
            loc = tf.reshape(out, tf.shape(x_flat))
            if self.num_levels is None:
                return tf.reduce_sum(-0.5 * tf.square((x_flat - loc) / sigma), -1) - (
                    self.event_size * tf.math.log(sigma * math.sqrt(2.0 * math.pi)))
            top = self.num_levels - 1
            return tf.reduce_sum(discretized_log_prob(
                x_flat, (loc + 1.0) * 0.5 * top, sigma, self.num_levels, "gaussian"), -1)

        return LatentDecoder(self.latent_dim, lambda normal, uniform: normal, log_prior,
                             log_likelihood, needs_observation_scale=True)

    # ------------------------------------------------------- optimizers
    default_critic_learning_rate = 2e-4

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, **kwargs):
        """Sets the two optimizers (default: Adam(2e-4, beta_1=0.5) each).

        Args:
            generator_optimizer: Keras optimizer (or name/config) of the generator.
            discriminator_optimizer: the critic's optimizer; must be a different
                object from the generator's (``critic_optimizer`` is a synonym).
            **kwargs: passed to `keras.Model.compile` (``jit_compile``,
                ``steps_per_execution``, ``run_eagerly``, ``auto_scale_loss``).

        Under "mixed_float16" (``precision``) each optimizer is wrapped in its
        own `keras.optimizers.LossScaleOptimizer` unless ``auto_scale_loss=False``.
        """
        if kwargs.get("optimizer") is not None and generator_optimizer is None:
            generator_optimizer = kwargs.pop("optimizer")
        kwargs.pop("optimizer", None)
        critic_optimizer = kwargs.pop("critic_optimizer", None) or discriminator_optimizer
        super().compile(generator_optimizer or _adam(2e-4, beta_1=0.5),
                        critic_optimizer=critic_optimizer, **kwargs)

    def _default_optimizer(self, learning_rate):
        return _adam(self.generator_learning_rate or learning_rate, beta_1=0.5)

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
            "label_flip": self.label_flip,
            "feature_matching": self.feature_matching,
            "minibatch_discrimination": self.minibatch_discrimination,
            "semi_supervised_classes": self.semi_supervised_classes,
            "supervised_weight": self.supervised_weight,
            "orthogonal_regularization": self.orthogonal_regularization,
            "drift": self.drift,
            "seed": self.seed,
        }

    def _label_range(self):
        """Labels of a semi-supervised GAN: -1 (unlabelled) to K-1; else the class labels."""
        if self.semi_supervised_classes is not None:
            return -1, self.semi_supervised_classes - 1
        return super()._label_range()

    def get_config(self):
        return {
            **super().get_config(),
            **self._gan_options(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "discriminator": (None if self.discriminator is None else
                              keras.saving.serialize_keras_object(self.discriminator)),
        }
