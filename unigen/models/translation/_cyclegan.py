"""`CycleGAN`: unpaired translation between two image domains (Zhu et al. 2017)."""

import keras
import tensorflow as tf

from unigen import divergences as ud
from unigen import errors
from unigen.adversarial import Critic, adversarial_loss
from unigen.base import _check_positive_int
from unigen.models.translation import _ops, networks
from unigen.models.translation._base import ImagePool, TranslationModel, check_weight, network
from unigen.training._distribute import minimize

__all__ = ["CycleGAN"]

DIRECTIONS = ("a_to_b", "b_to_a")


def check_direction(direction, allowed=DIRECTIONS):
    if direction not in allowed:
        raise ValueError(f"`direction` must be one of {list(allowed)}, got {direction!r}.")
    return direction


@keras.saving.register_keras_serializable(package="unigen")
class CycleGAN(TranslationModel):
    """Two generators G: A -> B and F: B -> A, two critics, cycle consistency.

    Data: pairs of images ``x = concat(a, b)`` on the channel axis, shape
    ``event_shape = (h, w, 2c)``, with a from domain A and b from domain B of
    *unrelated* sources (an unpaired translation set such as
    ``unigen.datasets.load("digits_inverted")``). Each training step makes one
    update of both generators (`unigen.training._distribute.minimize`) on::

        L_G = D_adv(critic_b; G(a)) + D_adv(critic_a; F(b))
              + cycle_weight * (E|F(G(a)) - a|_1 + E|G(F(b)) - b|_1)
              + identity_weight * (E|G(b) - b|_1 + E|F(a) - a|_1)

    (D_adv is the divergence's generator loss against the critic), then one
    update of each critic (`unigen.adversarial.Critic.step`) on its domain's
    real images against generated ones, half of them drawn from a history of
    ``pool_size`` past generated images (`_ops.query_pool`).

    The model is the implicit joint distribution of translated pairs: ``sample``
    draws training images a of domain A (from a bank of ``source_bank_size``
    images kept while training) or takes ``source=`` and returns the pairs
    ``concat(a, G(a))`` (``direction="b_to_a"``: ``concat(F(b), b)``) in the
    data's levels. ``log_prob`` raises `unigen.errors.ImplicitModelError`.
    `translate` maps single-domain images.

    Args:
        event_shape: (h, w, 2c): an image of each domain on the channel axis.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        generator_a_to_b, generator_b_to_a: Keras models ``[n, h, w, c] -> [n, h, w, c]``
            in [-1, 1]; default `networks.translation_generator`.
        critic_a, critic_b: critic networks on ``[n, h, w, c]`` returning raw values
            per image or per patch; default `networks.translation_critic`.
        divergence: the adversarial game, any `unigen.divergences` name or object
            with a critic: "pearson" (least squares, as the paper), "js",
            "wasserstein" (with its gradient penalty), "hinge", ...
        cycle_weight: lambda of the cycle-consistency term (10 in the paper).
        identity_weight: weight of the identity term (0.5 lambda = 5 in the paper;
            0 turns it off). It asks G(b) = b, which contradicts a true map that
            is not the identity on domain B (an inversion): use 0 there.
        pool_size: images in each critic's history buffer (50 in the paper).
        filters, residual_blocks, critic_filters, patch: sizes of the default
            networks (see `networks`).
        seed: seed of the initial weights and of the training noise.
        **kwargs: ``source_bank_size`` (training images kept for ``sample``,
            default 256), ``generator_learning_rate`` and
            ``discriminator_learning_rate`` (Adam rates of the default
            optimizers; None: `unigen.fit`'s ``learning_rate``), and the options
            of `unigen.GenerativeModel`.

    References:
        Zhu, Park, Isola and Efros. "Unpaired Image-to-Image Translation using
        Cycle-Consistent Adversarial Networks." ICCV 2017.
        Shrivastava et al. "Learning from Simulated and Unsupervised Images
        through Adversarial Training." CVPR 2017 (the history buffer).
    """

    def __init__(self, event_shape, num_levels="auto", *, generator_a_to_b=None,
                 generator_b_to_a=None, critic_a=None, critic_b=None, divergence="pearson",
                 cycle_weight=10.0, identity_weight=5.0, pool_size=50, filters=32,
                 residual_blocks=2, critic_filters=32, patch=None, seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        if self.event_shape[-1] % 2:
            raise ValueError(f"CycleGAN's `event_shape` holds an image of each domain on "
                             f"the channel axis, (h, w, 2c); got an odd channel count "
                             f"{self.event_shape}.")
        self.channels = self.event_shape[-1] // 2
        image = (*self.event_shape[:2], self.channels)
        self.divergence = ud.get(divergence)
        self.cycle_weight = check_weight("cycle_weight", cycle_weight)
        self.identity_weight = check_weight("identity_weight", identity_weight)
        self.pool_size = _check_positive_int("pool_size", pool_size)
        self.filters, self.residual_blocks = int(filters), int(residual_blocks)
        self.critic_filters, self.patch = int(critic_filters), patch

        def generator(value, name):
            if value is None:
                return networks.translation_generator(image, self.channels, self.filters,
                                                      self.residual_blocks, name=name)
            return network(value, name)

        def critic_network(value, name):
            if value is None:
                return networks.translation_critic(
                    image, self.critic_filters, patch=patch, name=name,
                    spectral_normalization=self.divergence.lipschitz == "spectral_norm")
            return network(value, name)

        self.generator_a_to_b = generator(generator_a_to_b, "generator_a_to_b")
        self.generator_b_to_a = generator(generator_b_to_a, "generator_b_to_a")
        self.critic_a = Critic(critic_network(critic_a, "critic_a_network"), self.divergence,
                               name="critic_a")
        self.critic_b = Critic(critic_network(critic_b, "critic_b_network"), self.divergence,
                               name="critic_b")
        self.pool_a = ImagePool(self.pool_size, name="pool_a")
        self.pool_b = ImagePool(self.pool_size, name="pool_b")
        self._track(["loss", "cycle_loss", "identity_loss", "critic_loss", "critic_a_loss",
                     "critic_b_loss"])

    def build(self, input_shape=None):
        del input_shape
        image = (None, *self.event_shape[:2], self.channels)
        for layer in (self.generator_a_to_b, self.generator_b_to_a, self.critic_a,
                      self.critic_b, self.pool_a, self.pool_b):
            if not layer.built:
                layer.build(image)
        if not self.source_bank.built:
            self.source_bank.build((None, *self.event_shape))
        self.built = True

    # ----------------------------------------------------------- translation
    def _a_to_b(self, a, training=False):
        return self._apply(self.generator_a_to_b, a, training)

    def _b_to_a(self, b, training=False):
        return self._apply(self.generator_b_to_a, b, training)

    def translate(self, x, direction="a_to_b"):
        """G(x) (``direction="a_to_b"``) or F(x) (``"b_to_a"``) of images ``[n, h, w, c]``.

        Takes and returns images in the data's levels (integers 0..L-1 with
        ``num_levels``; the result rounded), like the translation sets hold them.
        """
        direction = check_direction(direction)
        self._ensure_built()
        x = self._check_images(x, self.channels)
        out = self._a_to_b(x) if direction == "a_to_b" else self._b_to_a(x)
        return self._postprocess(out)

    def call(self, x, training=False):
        """G(a) of the domain-a half of a pair batch, in [-1, 1]."""
        a, _ = _ops.split_pair(self._preprocess(x), self.channels)
        return self._a_to_b(a, training)

    def _sample(self, num_samples, seed, source=None, direction="a_to_b"):
        """Translated pairs ``concat(a, G(a))`` (or ``concat(F(b), b)``) in levels.

        ``source``: images ``[num_samples, h, w, c]`` of the source domain
        (default: drawn with ``seed`` from the training images the model kept).
        """
        direction = check_direction(direction)
        if source is None:
            a, b = _ops.split_pair(self._source_images(num_samples, seed, None, None),
                                   self.channels)
            source = a if direction == "a_to_b" else b
        else:
            source = self._source_images(num_samples, seed, source, self.channels)
        if direction == "a_to_b":
            pair = _ops.join_pair(source, self._a_to_b(source))
        else:
            pair = _ops.join_pair(self._b_to_a(source), source)
        return self._postprocess(pair)

    # --------------------------------------------------------------- training
    def _generator_terms(self, a, b, training):
        fake_b, fake_a = self._a_to_b(a, training), self._b_to_a(b, training)
        adversarial = (adversarial_loss(self.divergence, self.critic_b, b, fake_b)
                       + adversarial_loss(self.divergence, self.critic_a, a, fake_a))
        cycle = (_ops.mean_absolute_error(self._b_to_a(fake_b, training), a)
                 + _ops.mean_absolute_error(self._a_to_b(fake_a, training), b))
        identity = tf.constant(0.0)
        if self.identity_weight:
            identity = _ops.identity_loss(a, b, lambda t: self._a_to_b(t, training),
                                          lambda t: self._b_to_a(t, training))
        loss = adversarial + self.cycle_weight * cycle + self.identity_weight * identity
        return loss, cycle, identity, fake_a, fake_b

    def _labels_refused(self):
        return (f"{type(self).__name__} trains on unpaired image pairs x = concat(a, b) "
                f"(shape [batch, {', '.join(map(str, self.event_shape))}]), without labels; "
                f"got (x, y). Use an unpaired translation set such as "
                f"unigen.datasets.as_numpy('digits_inverted').")

    def _pair(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        if y is not None:  # `keras.Model.fit` (unigen.fit checks before training)
            raise errors.DataError(self._labels_refused())
        x = self._preprocess(x)
        return x, *_ops.split_pair(x, self.channels)

    def train_step(self, data):
        """One update of both generators, then one of each critic (see the class)."""
        x, a, b = self._pair(data)
        self.source_bank.fill(x)
        variables = (self.generator_a_to_b.trainable_variables
                     + self.generator_b_to_a.trainable_variables)
        loss, cycle, identity, fake_a, fake_b = minimize(
            self.optimizer, lambda: self._generator_terms(a, b, True), variables)
        logs_a = self.critic_a.step(a, self.pool_a.query(fake_a, self.noise_generator),
                                    seed=self.noise_generator)
        logs_b = self.critic_b.step(b, self.pool_b.query(fake_b, self.noise_generator),
                                    seed=self.noise_generator)
        return self._report({
            "loss": loss, "cycle_loss": cycle, "identity_loss": identity,
            "critic_a_loss": logs_a["critic_loss"], "critic_b_loss": logs_b["critic_loss"],
            "critic_loss": 0.5 * (logs_a["critic_loss"] + logs_b["critic_loss"])})

    def test_step(self, data):
        """The generators' loss and the cycle error on a batch, without updates."""
        _, a, b = self._pair(data)
        loss, cycle, identity, _, _ = self._generator_terms(a, b, False)
        return self._report_eval({"loss": loss, "cycle_loss": cycle,
                                  "identity_loss": identity})

    def get_config(self):
        return {
            **super().get_config(),
            "generator_a_to_b": keras.saving.serialize_keras_object(self.generator_a_to_b),
            "generator_b_to_a": keras.saving.serialize_keras_object(self.generator_b_to_a),
            "critic_a": keras.saving.serialize_keras_object(self.critic_a.network),
            "critic_b": keras.saving.serialize_keras_object(self.critic_b.network),
            "divergence": ud.serialize(self.divergence),
            "cycle_weight": self.cycle_weight, "identity_weight": self.identity_weight,
            "pool_size": self.pool_size, "filters": self.filters,
            "residual_blocks": self.residual_blocks, "critic_filters": self.critic_filters,
            "patch": self.patch,
        }
