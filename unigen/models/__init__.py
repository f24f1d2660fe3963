"""Model families of unigen, and a registry for building them by name.

`create(name, event_shape=..., num_levels=...)` is what the command line and
`unigen.compare` use; in scripts, construct the classes directly.
"""

import collections

from unigen.models.autoregressive import CategoricalMADE, PixelCNN
from unigen.models.diffusion import DDPM
from unigen.models.flows import MAF, FlowGAN, Glow, RealNVP, create_flow_gan
from unigen.models.gan import DCGAN, GAN, MLPGAN, BigGAN, create_biggan, create_gan
from unigen.models.gaussian import Gaussian
from unigen.models.pyramid import LAPGAN, ProGAN, create_lapgan, create_progan
from unigen.models.sequence import GumbelGAN, SeqGAN, SequenceModel
from unigen.models.translation import CycleGAN, Pix2Pix, StarGAN, create_stargan
from unigen.models.vae import VAE

__all__ = [
    "DCGAN",
    "DDPM",
    "GAN",
    "LAPGAN",
    "MAF",
    "MLPGAN",
    "VAE",
    "BigGAN",
    "CategoricalMADE",
    "CycleGAN",
    "Description",
    "FlowGAN",
    "Gaussian",
    "Glow",
    "GumbelGAN",
    "Pix2Pix",
    "PixelCNN",
    "ProGAN",
    "RealNVP",
    "Recipe",
    "SeqGAN",
    "SequenceModel",
    "StarGAN",
    "available",
    "create",
    "describe",
    "recipe",
    "register",
]

_BUILDERS = {}
_RECIPES = {}
_DESCRIPTIONS = {}

#: How ``unigen compare`` trains a registered name when the user gives only the name.
#: ``labels``: the model trains on ``(x, y)`` with the dataset's labels (its builder
#: takes ``dataset=``), so the command line and ``unigen compare`` load them.
Recipe = collections.namedtuple("Recipe", ["epochs", "learning_rate", "image_options",
                                           "labels"], defaults=(False,))

#: What a registered name is, as ``unigen models`` shows it: its ``family`` (flow, GAN,
#: ...), the ``data`` it trains on, and the ``likelihood`` it reports (``"none"`` for
#: models that only sample).
Description = collections.namedtuple("Description", ["family", "data", "likelihood"])


def register(name, builder, *, epochs=10, learning_rate=1e-3, image_options=None,
             labels=False, family=None, data=None, likelihood=None):
    """Registers ``builder(event_shape, num_levels, **kwargs) -> model`` as ``name``.

    Args:
        name: the name for `create`, ``unigen train --model`` and ``unigen compare``.
        builder: a callable taking ``event_shape=``, ``num_levels=`` and keyword options.
        epochs: training epochs ``unigen compare`` gives the model on a small CPU budget
            (digits: about a minute).
        learning_rate: the learning rate ``unigen compare`` trains it with.
        image_options: constructor options ``unigen compare`` adds on image data.
        labels: the model trains on ``(x, y)`` pairs with the dataset's labels (StarGAN:
            the domains). Its builder also takes ``dataset=``, the
            `unigen.datasets.DatasetInfo` of the training data (or None), to read the
            label set from; the command line and ``unigen compare`` load the labels.
        family, data, likelihood: what ``unigen models`` and `describe` say of the
            name: its family (``"flow"``), the data it trains on (``"images"``) and the
            likelihood it reports (``"exact"``, ``"none"``); unknown when left out.
    """
    key = name.lower()
    _BUILDERS[key] = builder
    _RECIPES[key] = Recipe(int(epochs), float(learning_rate), dict(image_options or {}),
                           bool(labels))
    _DESCRIPTIONS[key] = Description(*(str(v) if v else "?" for v in (family, data,
                                                                       likelihood)))


def _unknown_model(name, key):
    from unigen._checks import did_you_mean

    return ValueError(f"Unknown model {name!r};{did_you_mean(key, available())} "
                      f"available: {', '.join(available())}.")


def recipe(name):
    """The `Recipe` (epochs, learning rate, image options) ``unigen compare`` uses for ``name``."""
    key = str(name).lower().replace("-", "_")
    if key not in _RECIPES:
        raise _unknown_model(name, key)
    return _RECIPES[key]


def describe(name):
    """The `Description` (family, data, likelihood) of a registered name."""
    key = str(name).lower().replace("-", "_")
    if key not in _DESCRIPTIONS:
        raise _unknown_model(name, key)
    return _DESCRIPTIONS[key]


def available():
    """Names accepted by `create` and by ``unigen train --model``."""
    return sorted(_BUILDERS)


def create(name, dataset=None, *, event_shape=None, num_levels="auto", **kwargs):
    """Builds the model registered as ``name`` for a dataset or for data of a given shape.

    Example: ``create("stargan", "digits_domains")`` (shape, levels and the four
    domains from the dataset) or ``create("glow", event_shape=(8, 8, 1), num_levels=17)``.

    Args:
        name: a name from `available()`, case-insensitive.
        dataset: a built-in dataset name or its `unigen.datasets.DatasetInfo`, or None.
            It gives the defaults of ``event_shape`` and ``num_levels``, and a model
            registered with ``labels=True`` reads its label set from it.
        event_shape: shape of one example, for example ``info.event_shape`` of
            `unigen.datasets.info` (default: the dataset's).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): the dataset's levels when a dataset is given, else 256
            (8-bit) for images and None for vectors.
        **kwargs: passed to the model's constructor.
    """
    key = str(name).lower().replace("-", "_")
    if key not in _BUILDERS:
        raise _unknown_model(name, key)
    info = dataset
    if isinstance(dataset, str):
        from unigen import datasets

        info = datasets.info(dataset)
    if info is not None:
        event_shape = info.event_shape if event_shape is None else event_shape
        num_levels = info.num_levels if num_levels == "auto" else num_levels
    if event_shape is None:
        raise TypeError(f"create({name!r}) needs the data's shape: pass a dataset, for "
                        f"example create({name!r}, 'digits'), or event_shape=.")
    if _RECIPES[key].labels:
        kwargs["dataset"] = info
    return _BUILDERS[key](event_shape=event_shape, num_levels=num_levels, **kwargs)


# Compare budgets: digits, about a minute each on a CPU. The default DCGAN collapses to
# one mode on digits within them (measured: FID 766, IS 1.02); PacGAN packing 2, an EMA
# generator and a 16-d latent give FID 80, IS 5.7 in 40 epochs. GANs use Radford et
# al.'s learning rate 2e-4.
_GAN_IMAGE_OPTIONS = {"latent_dim": 16, "ema_decay": 0.99, "pack": 2}
register("gaussian", Gaussian, epochs=5, family="baseline", data="images, vectors",
         likelihood="exact")
register("gan", create_gan, epochs=40, learning_rate=2e-4, image_options=_GAN_IMAGE_OPTIONS,
         family="GAN", data="images (DCGAN), vectors (MLP)",
         likelihood="none (AIS or Parzen estimates in compare)")
register("dcgan", create_gan, epochs=40, learning_rate=2e-4, image_options=_GAN_IMAGE_OPTIONS,
         family="GAN", data="images (DCGAN), vectors (MLP)",
         likelihood="none (AIS or Parzen estimates in compare)")
register("glow", Glow, family="flow", data="images",
         likelihood="exact (a dequantisation bound on pixel levels)")
register("realnvp", RealNVP, family="flow", data="images, vectors",
         likelihood="exact (a dequantisation bound on pixel levels)")
register("maf", MAF, family="flow", data="vectors", likelihood="exact")
register("vae", VAE, epochs=30, family="VAE", data="images, vectors",
         likelihood="ELBO / importance-weighted bound")
register("flow_gan", create_flow_gan, family="flow + GAN critic", data="images, vectors",
         likelihood="exact (a dequantisation bound on pixel levels)")
# Autoregressive: digits overfit without dropout (PixelCNN 81.5 nats early-stopped, 79.4 with
# dropout 0.2, 78.3 with 0.5 in 56 epochs); 25 epochs at 0.2 take about 1.5 minutes.
register("pixelcnn", PixelCNN, epochs=25, learning_rate=2e-3, image_options={"dropout": 0.2},
         family="autoregressive", data="images of pixel levels", likelihood="exact")
register("made", CategoricalMADE, epochs=40, learning_rate=1e-3, family="autoregressive",
         data="images or vectors of integer levels", likelihood="exact")
# Image-to-image translation (unigen.models.translation): trained on the translation sets
# of unigen.datasets (digits_inverted, digits_inverted_paired, digits_domains).
register("cyclegan", CycleGAN, epochs=20, learning_rate=2e-4, family="translation",
         data="two image domains, unpaired", likelihood="none")
register("stargan", create_stargan, epochs=20, learning_rate=1e-4, labels=True,
         family="translation", data="images with domain labels", likelihood="none")
register("pix2pix", Pix2Pix, epochs=20, learning_rate=2e-4, family="translation",
         data="two image domains, paired", likelihood="none")
# Sequence models (token data: oracle, words). Oracle budgets about a minute each on a CPU;
# the GANs pre-train their generator by maximum likelihood for 300 steps first.
register("sequence_lm", SequenceModel, epochs=4, learning_rate=3e-3, family="sequence",
         data="token sequences", likelihood="exact")
register("gumbel_gan", lambda **kw: GumbelGAN(**{"pretrain_steps": 300, **kw}), epochs=4,
         learning_rate=1e-3, family="sequence GAN", data="token sequences",
         likelihood="exact (its generator's)")
register("seqgan", lambda **kw: SeqGAN(**{"pretrain_steps": 300, **kw}), epochs=4,
         learning_rate=1e-3, family="sequence GAN", data="token sequences",
         likelihood="exact (its generator's)")
register("biggan", create_biggan, epochs=40, learning_rate=2e-4, family="GAN", data="images",
         likelihood="none (AIS or Parzen estimates in compare)")
# ProGAN in compare's 40 epochs of about 16 steps on digits: full size from step 400.
register("progan", create_progan, epochs=40, learning_rate=1e-3,
         image_options={"phase_steps": 100, "fade_steps": 100}, family="GAN", data="images",
         likelihood="none (AIS or Parzen estimates in compare)")
register("lapgan", create_lapgan, epochs=40, learning_rate=2e-4, family="GAN", data="images",
         likelihood="none (AIS or Parzen estimates in compare)")
# DDPM on digits: an MLP on the 64 pixels (about 0.5 s per epoch here, the default
# U-Net about 1.7 s), trained on the bound (importance-sampled t) with a learned
# variance: 119.7 nats in 100 epochs (before the weight average), 108.6 in 400
# (benchmarks/diffusion_digits.py); the U-Net reaches 82.0 in 200 epochs (156 s).
register("ddpm", DDPM, epochs=100, image_options={
    "architecture": "mlp", "hidden_units": (512, 512, 512), "variance": "learned",
    "loss": "vlb"}, family="diffusion", data="images, vectors",
    likelihood="ELBO (a discretised decoder on pixel levels)")
