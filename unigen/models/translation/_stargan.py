"""`StarGAN`: one generator translating among K domains (Choi et al. 2018)."""

import keras
import tensorflow as tf

from unigen import _random, errors
from unigen import divergences as ud
from unigen.adversarial import Critic, adversarial_loss
from unigen.base import _check_positive_int
from unigen.models.gan import _ops as gan_ops
from unigen.models.translation import _ops, networks
from unigen.models.translation._base import TranslationModel, check_weight, network
from unigen.training._distribute import global_batch_noise, minimize

__all__ = ["DomainCritic", "StarGAN", "create_stargan"]


@keras.saving.register_keras_serializable(package="unigen")
class DomainCritic(Critic):
    """A critic with an auxiliary domain classifier D_cls (StarGAN's discriminator).

    The network maps images to features; the critic adds two heads, the raw
    value v(x) (a dense layer) and K domain logits. ``context`` is the pair
    ``(source domains, target domains)`` of the batch: the critic learns to
    classify REAL images into their source domain, the generator to make FAKE
    images the critic classifies as their target domain::

        critic:     + domain_weight * E_x[-log D_cls(c | x)]        (c: x's domain)
        generator:  + domain_weight * E_x[-log D_cls(c' | G(x, c'))] (c': the target)

    Args:
        network: features ``[batch, F]`` of an image batch.
        divergence: the adversarial game.
        num_domains: K.
        domain_weight: lambda_cls (1 in the paper).
    """

    def __init__(self, network, divergence, num_domains, domain_weight=1.0, name="critic",
                 **kwargs):
        super().__init__(network, divergence, name=name, **kwargs)
        self.num_domains = _check_positive_int("num_domains", num_domains)
        self.domain_weight = check_weight("domain_weight", domain_weight)
        head = keras.layers.Dense(1, name="critic_head")
        if self.divergence.lipschitz == "spectral_norm":
            head = keras.layers.SpectralNormalization(head, name="critic_head_sn")
        self.critic_head = head
        self.domain_head = keras.layers.Dense(self.num_domains, name="domain_head")

    @property
    def metric_names(self):
        return [*super().metric_names, "domain_loss"]

    def build(self, input_shape):
        if not self.network.built:
            self.network.build(input_shape)
        features = int(self.network.compute_output_shape(input_shape)[-1])
        self.critic_head.build((None, features))
        self.domain_head.build((None, features))
        self.built = True

    def outputs(self, x, context=None, training=False):
        """``(values [batch], domain logits [batch, K])``."""
        del context
        features = tf.cast(self.network(x, training=training), "float32")
        features = tf.reshape(features, [tf.shape(features)[0], -1])
        values = tf.cast(self.critic_head(features, training=training)[:, 0], "float32")
        return values, tf.cast(self.domain_head(features), "float32")

    def _extra_terms(self, real_outputs, fake_outputs, context, seed=None, training=True):
        del fake_outputs, seed, training
        source, _ = context
        return {"domain_loss": (gan_ops.classifier_loss(real_outputs[1], source),
                                self.domain_weight)}

    def _generator_terms(self, fake_outputs, context, real_outputs=None):
        del real_outputs
        _, target = context
        return {"domain_loss": (gan_ops.classifier_loss(fake_outputs[1], target),
                                self.domain_weight)}

    def get_config(self):
        return {**super().get_config(), "num_domains": self.num_domains,
                "domain_weight": self.domain_weight}


@keras.saving.register_keras_serializable(package="unigen")
class StarGAN(TranslationModel):
    """One generator G(x, c) that translates an image x into any of K domains c.

    Data: ``(x, y)`` with x images ``[batch, *event_shape]`` and y their domain
    indices 0..K-1 (a multi-domain translation set such as
    ``unigen.datasets.as_numpy("digits_domains", with_labels=True)``). Each
    training step draws a target domain c' per image (uniform over the K
    domains, from the model's noise generator), makes ``critic_steps`` updates
    of the critic (`DomainCritic`) and one of the generator::

        critic:     D_adv critic loss on x vs G(x, c') (+ gradient penalty)
                    + domain_weight * E[-log D_cls(c | x)]
        generator:  D_adv generator loss on G(x, c')
                    + domain_weight * E[-log D_cls(c' | G(x, c'))]
                    + reconstruction_weight * E|G(G(x, c'), c) - x|_1

    The target domain enters the generator as K one-hot channels appended to the
    image. The model is the implicit conditional distribution of translated
    images given a domain: ``sample(n, labels=c)`` draws training images (from a
    bank of ``source_bank_size`` kept while training, or ``source=``) and
    translates each to its domain in ``labels`` (default 0, 1, ..., K-1, 0, ...).
    ``log_prob`` raises `unigen.errors.ImplicitModelError`.

    Args:
        event_shape: (h, w, c) of one image.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        num_domains: K.
        generator: Keras model ``[n, h, w, c + K] -> [n, h, w, c]`` in [-1, 1];
            default `networks.translation_generator`.
        critic: network from images to features ``[n, F]``; default
            `networks.translation_critic` with ``outputs=None``.
        divergence: the adversarial game; default "wasserstein" with the
            gradient penalty of weight 10 (the paper's WGAN-GP).
        domain_weight: lambda_cls (1 in the paper).
        reconstruction_weight: lambda_rec (10 in the paper).
        critic_steps: critic updates per generator update (5 in the paper).
        filters, residual_blocks, critic_filters: sizes of the default networks.
        seed: seed of the initial weights and of the training noise.
        **kwargs: ``source_bank_size``, ``generator_learning_rate`` and
            ``discriminator_learning_rate`` as in `CycleGAN`, and the options of
            `unigen.GenerativeModel`.

    References:
        Choi et al. "StarGAN: Unified Generative Adversarial Networks for
        Multi-Domain Image-to-Image Translation." CVPR 2018.
    """

    labels_hint = ("Its labels are the domains 0..K-1 of a multi-domain set: "
                   "unigen.datasets.as_numpy('digits_domains', with_labels=True).")

    def __init__(self, event_shape, num_levels="auto", *, num_domains, generator=None,
                 critic=None, divergence="wasserstein", domain_weight=1.0,
                 reconstruction_weight=10.0, critic_steps=5, filters=32, residual_blocks=2,
                 critic_filters=32, seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self.num_domains = self.num_classes = _check_positive_int("num_domains", num_domains)
        if self.num_domains < 2:
            raise ValueError(f"`num_domains` must be at least 2, got {num_domains}.")
        self.divergence = ud.get(divergence)
        self.domain_weight = check_weight("domain_weight", domain_weight)
        self.reconstruction_weight = check_weight("reconstruction_weight",
                                                  reconstruction_weight)
        self.critic_steps = _check_positive_int("critic_steps", critic_steps)
        self.filters, self.residual_blocks = int(filters), int(residual_blocks)
        self.critic_filters = int(critic_filters)
        channels = self.event_shape[-1]
        if generator is None:
            generator = networks.translation_generator(
                (*self.event_shape[:2], channels + self.num_domains), channels, self.filters,
                self.residual_blocks, name="generator")
        if critic is None:
            critic = networks.translation_critic(
                self.event_shape, self.critic_filters, outputs=None, name="critic_network",
                spectral_normalization=self.divergence.lipschitz == "spectral_norm")
        self.generator = network(generator, "generator")
        self.critic = DomainCritic(network(critic, "critic"), self.divergence,
                                   self.num_domains, self.domain_weight)
        self._track(["loss", "reconstruction_loss", *self.critic.metric_names])

    def build(self, input_shape=None):
        del input_shape
        if not self.generator.built:
            self.generator.build((None, *self.event_shape[:2],
                                  self.event_shape[-1] + self.num_domains))
        for layer in (self.critic, self.source_bank):
            if not layer.built:
                layer.build((None, *self.event_shape))
        self.built = True

    # ----------------------------------------------------------- translation
    def _translate(self, x, domains, training=False):
        return self._apply(self.generator,
                           gan_ops.attach_labels(x, domains, self.num_domains), training)

    def _check_domains(self, domains, count):
        values = tf.convert_to_tensor(domains)
        if values.shape.rank == 0:
            values = tf.fill([count], tf.cast(values, "int32"))
        return self._check_labels(values.numpy(), count)

    def translate(self, x, target_domain):
        """G(x, c): images ``[n, h, w, c]`` (in the data's levels) into domain(s)
        ``target_domain`` (an int, or n ints in 0..K-1); returns levels."""
        self._ensure_built()
        x = self._check_images(x, self.event_shape[-1])
        try:
            domains = self._check_domains(target_domain, int(x.shape[0]))
        except ValueError:
            raise ValueError(f"`target_domain` must be an int in 0..{self.num_domains - 1} "
                             f"or {int(x.shape[0])} of them, got {target_domain!r}.") from None
        return self._postprocess(self._translate(x, domains))

    def call(self, x, training=False):
        """G(x, 0) on a batch, in [-1, 1]."""
        x = self._preprocess(x)
        return self._translate(x, tf.zeros([tf.shape(x)[0]], "int32"), training)

    def _sample(self, num_samples, seed, labels=None, source=None):
        """Training images (or ``source``) translated to the domains ``labels``, in levels."""
        images = self._source_images(num_samples, seed, source, self.event_shape[-1])
        return self._postprocess(self._translate(images, labels))

    # --------------------------------------------------------------- training
    def _batch(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is None:
            raise errors.DataError(
                "StarGAN trains on (x, y) pairs: images and their domain indices "
                f"0..{self.num_domains - 1}; got images without domains. Load them with "
                "unigen.datasets.as_numpy('digits_domains', with_labels=True).")
        return self._preprocess(x), tf.reshape(tf.cast(y, "int32"), [-1])

    def _generator_loss(self, real, source, target, training):
        fake = self._translate(real, target, training)
        reconstruction = _ops.mean_absolute_error(self._translate(fake, source, training), real)
        adversarial = adversarial_loss(self.divergence, self.critic, real, fake,
                                       (source, target))
        return adversarial + self.reconstruction_weight * reconstruction, reconstruction

    def train_step(self, data):
        """``critic_steps`` critic updates, then one generator update (see the class)."""
        real, source = self._batch(data)
        batch = tf.shape(real)[0]
        self.source_bank.fill(real)
        target = global_batch_noise(
            lambda n: _random.randint((n,), 0, self.num_domains,
                                           seed=self.noise_generator), batch)
        fake = self._translate(real, target, training=True)
        for _ in range(self.critic_steps):
            logs = self.critic.step(real, fake, (source, target), seed=self.noise_generator)
        loss, reconstruction = minimize(
            self.optimizer, lambda: self._generator_loss(real, source, target, True),
            self.generator.trainable_variables)
        return self._report({**logs, "loss": loss, "reconstruction_loss": reconstruction})

    def test_step(self, data):
        """The generator's loss and the reconstruction error on a batch, without updates."""
        real, source = self._batch(data)
        target = (source + 1) % self.num_domains  # a fixed, different target per image
        loss, reconstruction = self._generator_loss(real, source, target, False)
        return self._report_eval({"loss": loss, "reconstruction_loss": reconstruction})

    def get_config(self):
        return {
            **super().get_config(),
            "num_domains": self.num_domains,
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic.network),
            "divergence": ud.serialize(self.divergence), "domain_weight": self.domain_weight,
            "reconstruction_weight": self.reconstruction_weight,
            "critic_steps": self.critic_steps, "filters": self.filters,
            "residual_blocks": self.residual_blocks, "critic_filters": self.critic_filters,
        }


def create_stargan(event_shape, num_levels=None, *, dataset=None, num_domains=None, **kwargs):
    """Registry builder of ``stargan``: the number of domains K from the dataset.

    ``unigen train --model stargan --data digits_domains``, ``unigen compare`` and
    ``unigen.models.create("stargan", "digits_domains")`` come here with the
    dataset's `unigen.datasets.DatasetInfo`. A multi-domain translation set (layout
    "domains") labels every image with its domain, so K = ``len(dataset.domains)``
    and the labels that `unigen.fit` feeds are the source domains StarGAN needs.

    Args:
        event_shape, num_levels: of the data.
        dataset: the training data's `DatasetInfo`, or None.
        num_domains: K; default from ``dataset`` (needed without one).
        **kwargs: the other `StarGAN` arguments.

    Raises:
        ValueError: neither ``num_domains`` nor a dataset with domain labels, or a
            ``num_domains`` other than the dataset's.
    """
    layout = getattr(dataset, "layout", None)
    if layout == "domains":
        found = len(dataset.domains)
        if num_domains is not None and int(num_domains) != found:
            raise ValueError(f"`num_domains`={num_domains} but {dataset.name!r} has {found} "
                             f"domains ({', '.join(dataset.domains)}); leave num_domains "
                             f"unset to take them from the dataset.")
        num_domains = found
    elif num_domains is None:
        what = ("no dataset was given" if dataset is None else
                f"{dataset.name!r} has no domain labels (" + (
                    f"its labels are {dataset.num_classes} classes" if dataset.num_classes
                    else "it has no labels") + (f", layout {layout!r}" if layout else "")
                + ")")
        raise ValueError(
            f"StarGAN translates among K domains and trains on (image, domain) pairs, "
            f"but {what}. Train it on a multi-domain translation set, whose label is "
            f"the domain: --data digits_domains (or fashion_mnist_domains), "
            f"unigen.models.create('stargan', 'digits_domains'); or pass num_domains=K "
            f"and (x, domain) pairs yourself.")
    return StarGAN(event_shape, num_levels, num_domains=num_domains, **kwargs)
