"""`DCGAN` (images) and `MLPGAN` (vectors): GANs that build their own networks."""

import keras

from unigen import _checks
from unigen import divergences as ud
from unigen.base import _check_positive_int
from unigen.models.gan import networks as nets
from unigen.models.gan._critic import needs_features
from unigen.models.gan._model import GAN

__all__ = ["DCGAN", "MLPGAN"]


def _resolve_divergence(divergence, gradient_penalty, spectral_norm):
    """The divergence with the Lipschitz control the preset's arguments ask for."""
    divergence = ud.get(divergence)
    if gradient_penalty is not None and not float(gradient_penalty) > 0:
        raise ValueError(
            f"`gradient_penalty` must be a positive WGAN-GP weight (10 in the paper), got "
            f"{gradient_penalty!r}: a Wasserstein critic without a Lipschitz control is "
            f"unbounded. Pass gradient_penalty=10.0, or spectral_norm=True instead.")
    if isinstance(divergence, ud.Wasserstein):
        if gradient_penalty is not None:
            return ud.Wasserstein(lipschitz="gradient_penalty", clip_value=divergence.clip_value,
                                  penalty_weight=float(gradient_penalty))
        if spectral_norm and divergence.lipschitz != "spectral_norm":
            return ud.Wasserstein(lipschitz="spectral_norm", clip_value=divergence.clip_value,
                                  penalty_weight=divergence.penalty_weight)
    elif gradient_penalty is not None:
        raise ValueError(
            f"`gradient_penalty` is the WGAN-GP weight and applies to "
            f"divergence='wasserstein', got divergence {type(divergence).__name__}.")
    return divergence


def _critic_layout(num_classes, gan_kwargs):
    """(pack, classes, extra input channels per example, whether the critic ends in
    features) for the `unigen.GAN` options a preset passes through."""
    pack = gan_kwargs.get("pack", 1)
    conditioning = gan_kwargs.get("conditioning", "concat")
    classes = num_classes or 0
    extra = classes if (num_classes and conditioning == "concat") else 0
    features = needs_features(num_classes, conditioning,
                              gan_kwargs.get("auxiliary_classifier_weight", 0.0),
                              gan_kwargs.get("feature_matching", 0.0),
                              gan_kwargs.get("minibatch_discrimination", 0),
                              gan_kwargs.get("semi_supervised_classes"))
    return pack, classes, extra, features


def _uses_sn(divergence, spectral_norm):
    return bool(spectral_norm) or getattr(divergence, "lipschitz", None) == "spectral_norm"


class _Preset(GAN):
    """Shared config handling: the networks are rebuilt from the preset's arguments."""

    _preset_keys = ()
    #: `unigen.GAN` arguments the preset sets itself: not options of the preset.
    _not_options = ("generator", "discriminator")

    @classmethod
    def _refuse_networks(cls, kwargs):
        given = [k for k in cls._not_options if k in kwargs]
        if given:
            raise TypeError(
                f"{cls.__name__} builds its own generator and discriminator; got "
                f"{', '.join(f'`{k}`' for k in given)}. To train networks of your own, use "
                f"unigen.models.GAN(generator, discriminator, latent_dim, divergence, "
                f"event_shape=...).")

    def get_config(self):
        config = super().get_config()
        for key in ("generator", "discriminator", "event_shape"):
            config.pop(key, None)
        config.update({key: getattr(self, key) for key in self._preset_keys})
        return config


@keras.saving.register_keras_serializable(package="unigen")
class DCGAN(_Preset):
    """A GAN with DCGAN networks sized from the image shape.

    Generator: Dense -> transposed strided convolutions with batch norm -> tanh;
    discriminator: strided convolutions with LeakyReLU, no pooling, no batch
    norm (see `unigen.models.gan.networks`). Works for 8x8 digits and 28x28
    Fashion-MNIST alike.

    Example::

        gan = unigen.models.DCGAN(image_shape=(28, 28, 1), latent_dim=64,
                                  divergence="wasserstein", gradient_penalty=10.0)
        unigen.fit(gan, "fashion_mnist", epochs=20)

    Args:
        image_shape: (height, width, channels) (``event_shape`` is accepted too,
            the name every family takes).
        latent_dim: size of z.
        divergence: a `unigen.divergences` name, config or instance.
        gradient_penalty: WGAN-GP weight (divergence "wasserstein" only).
        spectral_norm: spectrally normalise the discriminator's layers (and use
            it as the Lipschitz control of a Wasserstein critic).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        base_filters: width of the networks.
        num_classes: classes of a conditional GAN, or None.
        discriminator_batch_norm: batch normalisation after each of the
            critic's convolutions but the first, as in DCGAN. The critic is
            called on the real and on the generated batch separately, so each
            is normalised with its own statistics (Goodfellow 2016, "use two
            minibatches"); not with a gradient penalty, which needs a critic
            that treats examples independently. The batch norm is
            synchronised across replicas (statistics over the global batch),
            and the convolutions it follows have no bias (batch norm's offset
            replaces it): a bias whose gradient is zero up to rounding would
            be moved by Adam's normalised step in the direction of the
            rounding noise, and 1 device and 2 replicas differed by 2.5e-3
            after two steps; now they agree as for every other option.
        **kwargs: the other `unigen.GAN` arguments (``pack``, ``ema_decay``,
            ``conditioning``, ...).
    """

    _preset_keys = ("image_shape", "gradient_penalty", "spectral_norm", "base_filters",
                    "discriminator_batch_norm")

    def __init__(self, image_shape=(28, 28, 1), latent_dim=64, divergence="js", *,
                 gradient_penalty=None, spectral_norm=False, num_levels="auto", base_filters=32,
                 num_classes=None, event_shape=None, discriminator_batch_norm=False,
                 **kwargs):
        self._refuse_networks(kwargs)
        image_shape = _checks.image_shape(image_shape, event_shape)
        divergence = _resolve_divergence(divergence, gradient_penalty, spectral_norm)
        if not isinstance(discriminator_batch_norm, bool):
            raise TypeError(f"`discriminator_batch_norm` must be True or False, got "
                            f"{discriminator_batch_norm!r}.")
        if discriminator_batch_norm and getattr(divergence, "lipschitz", None) == \
                "gradient_penalty":
            raise ValueError("discriminator_batch_norm=True does not combine with a "
                             "gradient penalty (the penalty needs a critic that treats "
                             "examples independently); use spectral_norm=True instead.")
        latent_dim = _check_positive_int("latent_dim", latent_dim)
        base_filters = _check_positive_int("base_filters", base_filters)
        pack, classes, extra, features = _critic_layout(num_classes, kwargs)
        generator = nets.dcgan_generator(image_shape, latent_dim, base_filters * 2,
                                         extra_inputs=classes)
        discriminator = None
        if divergence.uses_critic:
            channels = image_shape[-1]
            discriminator = nets.dcgan_discriminator(
                image_shape, base_filters, extra_channels=pack * (channels + extra) - channels,
                outputs=None if features else 1,
                spectral_norm=_uses_sn(divergence, spectral_norm),
                batch_norm=discriminator_batch_norm)
        self.discriminator_batch_norm = discriminator_batch_norm
        self.image_shape = image_shape
        self.gradient_penalty = gradient_penalty
        self.spectral_norm = bool(spectral_norm)
        self.base_filters = int(base_filters)
        super().__init__(generator, discriminator, latent_dim, divergence,
                         event_shape=image_shape, num_levels=num_levels,
                         num_classes=num_classes, **kwargs)

    def get_config(self):
        config = super().get_config()
        config["image_shape"] = list(self.image_shape)
        return config


@keras.saving.register_keras_serializable(package="unigen")
class MLPGAN(_Preset):
    """A GAN with fully connected networks, for vectors (2-D toy data and the like).

    Example::

        gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=2,
                                   divergence="wasserstein", discriminator_steps=5)
        unigen.fit(gan, "ring8", epochs=10)

    Args:
        event_shape: shape of one vector, (d,).
        latent_dim: size of z.
        divergence: a `unigen.divergences` name, config or instance.
        hidden_units: widths of the generator's hidden layers.
        discriminator_hidden_units: widths of the critic's (default: hidden_units).
        gradient_penalty, spectral_norm: as in `DCGAN`.
        **kwargs: the other `unigen.GAN` arguments.
    """

    supports_discrete = False
    levels_hint = "Use DCGAN for images."

    _preset_keys = ("gradient_penalty", "spectral_norm")

    def __init__(self, event_shape=(2,), latent_dim=8, divergence="js", *,
                 hidden_units=(128, 128), discriminator_hidden_units=None,
                 gradient_penalty=None, spectral_norm=False, num_levels="auto",
                 num_classes=None, **kwargs):
        self._refuse_networks(kwargs)
        event_shape = tuple(int(d) for d in event_shape)
        if len(event_shape) != 1:
            raise ValueError(f"MLPGAN models vectors: `event_shape` must be (d,), got "
                             f"{event_shape!r}; use DCGAN for images.")
        divergence = _resolve_divergence(divergence, gradient_penalty, spectral_norm)
        latent_dim = _check_positive_int("latent_dim", latent_dim)
        self.hidden_units = _checks.check_widths("hidden_units", hidden_units)
        self.discriminator_hidden_units = (
            None if discriminator_hidden_units is None else
            _checks.check_widths("discriminator_hidden_units", discriminator_hidden_units))
        pack, classes, extra, features = _critic_layout(num_classes, kwargs)
        generator = nets.mlp_generator(event_shape, latent_dim, self.hidden_units,
                                       extra_inputs=classes)
        discriminator = None
        if divergence.uses_critic:
            discriminator = nets.mlp_discriminator(
                pack * (event_shape[0] + extra),
                self.discriminator_hidden_units or self.hidden_units,
                outputs=None if features else 1,
                spectral_norm=_uses_sn(divergence, spectral_norm))
        self.gradient_penalty = gradient_penalty
        self.spectral_norm = bool(spectral_norm)
        super().__init__(generator, discriminator, latent_dim, divergence,
                         event_shape=event_shape, num_levels=num_levels,
                         num_classes=num_classes, **kwargs)

    def get_config(self):
        config = super().get_config()
        config.update(event_shape=list(self.event_shape), hidden_units=self.hidden_units,
                      discriminator_hidden_units=self.discriminator_hidden_units)
        config.pop("num_levels", None)
        return config


def create_gan(event_shape, num_levels="auto", **kwargs):
    """Registry builder: `DCGAN` for images (rank-3 events), `MLPGAN` for vectors."""
    event_shape = tuple(int(d) for d in event_shape)
    if len(event_shape) == 3:
        return DCGAN(image_shape=event_shape, num_levels=num_levels, **kwargs)
    return MLPGAN(event_shape=event_shape, num_levels=num_levels, **kwargs)
