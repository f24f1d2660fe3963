"""`Pix2Pix`: paired translation with a conditional critic and an L1 term (Isola et al. 2017)."""

import keras

from unigen import divergences as ud
from unigen import errors
from unigen.adversarial import Critic, adversarial_loss
from unigen.models.translation import _ops, networks
from unigen.models.translation._base import TranslationModel, check_weight, network
from unigen.models.translation._cyclegan import check_direction
from unigen.training._distribute import minimize

__all__ = ["Pix2Pix"]


@keras.saving.register_keras_serializable(package="unigen")
class Pix2Pix(TranslationModel):
    """A generator G: A -> B trained on PAIRED images, with a conditional critic.

    Data: true pairs ``x = concat(a, b)`` on the channel axis (``event_shape =
    (h, w, 2c)``), b the image a should become (a paired translation set such as
    ``unigen.datasets.load("digits_inverted_paired")``). The critic sees
    (input, output) pairs: it tells concat(a, b) from concat(a, G(a)). Each
    training step makes one critic update (`unigen.adversarial.Critic.step`)
    and one generator update on::

        L_G = D_adv(critic; concat(a, G(a))) + l1_weight * E|G(a) - b|_1

    The critic network is whole-image for small images (8x8) and PatchGAN (one
    value per patch, the loss a mean over patches) from 16 pixels up.

    Unpaired data cannot train it: the L1 term would pull G(a) towards an
    unrelated image. Data with domain labels ``(x, y)`` are refused with the fix;
    an unpaired pair set (``digits_inverted``) has the same shape as a paired one
    and cannot be told apart from its pixels, so use the ``_paired`` sets.

    ``sample`` returns the pairs ``concat(a, G(a))`` for training images a (kept
    in a bank while training) or ``source=``; ``log_prob`` raises
    `unigen.errors.ImplicitModelError`.

    Args:
        event_shape: (h, w, 2c).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        generator: Keras model ``[n, h, w, c] -> [n, h, w, c]`` in [-1, 1].
        critic: critic network on ``[n, h, w, 2c]`` pairs, raw values per image or patch.
        divergence: the adversarial game (default "js", the paper's GAN loss).
        l1_weight: lambda of the L1 term (100 in the paper).
        filters, residual_blocks, critic_filters, patch: sizes of the default networks.
        seed: seed of the initial weights and of the training noise.
        **kwargs: ``source_bank_size``, ``generator_learning_rate`` and
            ``discriminator_learning_rate`` as in `CycleGAN`, and the options of
            `unigen.GenerativeModel`.

    References:
        Isola, Zhu, Zhou and Efros. "Image-to-Image Translation with Conditional
        Adversarial Networks." CVPR 2017.
    """

    def __init__(self, event_shape, num_levels="auto", *, generator=None, critic=None,
                 divergence="js", l1_weight=100.0, filters=32, residual_blocks=2,
                 critic_filters=32, patch=None, seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        if self.event_shape[-1] % 2:
            raise ValueError(f"Pix2Pix's `event_shape` holds the input and its target on the "
                             f"channel axis, (h, w, 2c); got {self.event_shape}.")
        self.channels = self.event_shape[-1] // 2
        self.divergence = ud.get(divergence)
        self.l1_weight = check_weight("l1_weight", l1_weight)
        self.filters, self.residual_blocks = int(filters), int(residual_blocks)
        self.critic_filters, self.patch = int(critic_filters), patch
        if generator is None:
            generator = networks.translation_generator(
                (*self.event_shape[:2], self.channels), self.channels, self.filters,
                self.residual_blocks, name="generator")
        if critic is None:
            critic = networks.translation_critic(
                self.event_shape, self.critic_filters, patch=patch, name="critic_network",
                spectral_normalization=self.divergence.lipschitz == "spectral_norm")
        self.generator = network(generator, "generator")
        self.critic = Critic(network(critic, "critic"), self.divergence)
        self._track(["loss", "l1_loss", *self.critic.metric_names])

    def build(self, input_shape=None):
        del input_shape
        if not self.generator.built:
            self.generator.build((None, *self.event_shape[:2], self.channels))
        for layer in (self.critic, self.source_bank):
            if not layer.built:
                layer.build((None, *self.event_shape))
        self.built = True

    def _a_to_b(self, a, training=False):
        return self._apply(self.generator, a, training)

    def translate(self, x, direction="a_to_b"):
        """G(x) of domain-a images ``[n, h, w, c]`` in the data's levels; returns levels.

        Pix2Pix learns one direction: ``direction`` must be "a_to_b".
        """
        if direction == "b_to_a":
            raise ValueError("Pix2Pix learns one direction, 'a_to_b'. For b to a, train "
                             "another Pix2Pix on the swapped pairs concat(b, a), or a "
                             "CycleGAN.")
        check_direction(direction, ("a_to_b",))
        self._ensure_built()
        return self._postprocess(self._a_to_b(self._check_images(x, self.channels)))

    def call(self, x, training=False):
        """G(a) of the input half of a pair batch, in [-1, 1]."""
        a, _ = _ops.split_pair(self._preprocess(x), self.channels)
        return self._a_to_b(a, training)

    def _sample(self, num_samples, seed, source=None):
        """The pairs ``concat(a, G(a))`` in levels, a from the bank or ``source``."""
        if source is None:
            a, _ = _ops.split_pair(self._source_images(num_samples, seed, None, None),
                                   self.channels)
        else:
            a = self._source_images(num_samples, seed, source, self.channels)
        return self._postprocess(_ops.join_pair(a, self._a_to_b(a)))

    # --------------------------------------------------------------- training
    def _labels_refused(self):
        return ("Pix2Pix trains on PAIRED images x = concat(a, b) (b the true translation of "
                "a), without labels; got (x, y), which looks like unpaired multi-domain data. "
                "Use a paired set such as unigen.datasets.as_numpy('digits_inverted_paired'), "
                "or StarGAN / CycleGAN for unpaired data.")

    def _pair(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is not None:  # `keras.Model.fit` (unigen.fit checks before training)
            raise errors.DataError(self._labels_refused())
        x = self._preprocess(x)
        return x, *_ops.split_pair(x, self.channels)

    def _generator_loss(self, a, b, training):
        fake = self._a_to_b(a, training)
        l1 = _ops.mean_absolute_error(fake, b)
        adversarial = adversarial_loss(self.divergence, self.critic, _ops.join_pair(a, b),
                                       _ops.join_pair(a, fake))
        return adversarial + self.l1_weight * l1, l1

    def train_step(self, data):
        """One critic update, then one generator update (see the class)."""
        x, a, b = self._pair(data)
        self.source_bank.fill(x)
        fake = self._a_to_b(a, training=True)
        logs = self.critic.step(x, _ops.join_pair(a, fake), seed=self.noise_generator)
        loss, l1 = minimize(self.optimizer, lambda: self._generator_loss(a, b, True),
                            self.generator.trainable_variables)
        return self._report({**logs, "loss": loss, "l1_loss": l1})

    def test_step(self, data):
        """The generator's loss and its L1 error on a batch, without updates."""
        _, a, b = self._pair(data)
        loss, l1 = self._generator_loss(a, b, False)
        return self._report_eval({"loss": loss, "l1_loss": l1})

    def get_config(self):
        return {
            **super().get_config(),
            "generator": keras.saving.serialize_keras_object(self.generator),
            "critic": keras.saving.serialize_keras_object(self.critic.network),
            "divergence": ud.serialize(self.divergence), "l1_weight": self.l1_weight,
            "filters": self.filters, "residual_blocks": self.residual_blocks,
            "critic_filters": self.critic_filters, "patch": self.patch,
        }
