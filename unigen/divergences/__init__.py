"""Divergences between distributions: one abstraction for GANs, VAEs and flows.

A `Divergence` D(p, q) compares a data distribution p with a model q. Each member
offers the adversarial form a GAN trains (`discriminator_loss`,
`generator_loss` on raw critic outputs), the value between two TFP
distributions (`between`: closed form, quadrature or Monte Carlo, with an error)
and, where it makes sense, an estimate from samples (`from_samples`).

    import unigen.divergences as ud

    gan_loss = ud.get("js")                      # classic non-saturating GAN
    wgan = ud.get({"class_name": "Wasserstein",
                   "config": {"lipschitz": "gradient_penalty"}})
    kl = ud.get("kl").between(posterior, prior)  # a VAE's KL term
    mmd = ud.get("mmd").from_samples(x, y)       # Estimate(value, stderr, method)

Names accepted by `get` (case-insensitive, "-" or "_"): see `available()`.

References:
    Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
    Nowozin, Cseke and Tomioka. "f-GAN." NeurIPS 2016.
    Arjovsky, Chintala and Bottou. "Wasserstein GAN." ICML 2017.
    Gulrajani et al. "Improved Training of Wasserstein GANs." NeurIPS 2017.
    Gretton et al. "A Kernel Two-Sample Test." JMLR 2012.
    Li, Swersky and Zemel. "Generative Moment Matching Networks." ICML 2015.
    Lim and Ye. "Geometric GAN." 2017.
"""

import keras

from unigen.divergences._base import (
    _ALIASES,
    _REGISTRY,
    METHODS,
    Divergence,
    Estimate,
    _normalize_name,
    require_lipschitz,
)
from unigen.divergences._f_divergences import (
    FDivergence,
    JensenShannon,
    KLDivergence,
    PearsonChiSquared,
    ReverseKLDivergence,
    SquaredHellinger,
    TotalVariation,
)
from unigen.divergences._functional import (
    clip_weights,
    gan_discriminator_loss,
    gan_generator_loss,
    gan_value,
    gradient_penalty,
    hinge_discriminator_loss,
    hinge_generator_loss,
    wasserstein_critic_loss,
    wasserstein_generator_loss,
)
from unigen.divergences._mmd import MMD
from unigen.divergences._wasserstein import Hinge, Wasserstein

__all__ = [
    "METHODS",
    "MMD",
    "Divergence",
    "Estimate",
    "FDivergence",
    "Hinge",
    "JensenShannon",
    "KLDivergence",
    "PearsonChiSquared",
    "ReverseKLDivergence",
    "SquaredHellinger",
    "TotalVariation",
    "Wasserstein",
    "available",
    "clip_weights",
    "deserialize",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gan_value",
    "get",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "require_lipschitz",
    "serialize",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]


def available():
    """The registered short names, sorted: the strings `get` accepts."""
    return tuple(sorted(_REGISTRY))


def _unknown(name):
    return ValueError(
        f"Unknown divergence {name!r}. Valid names: {', '.join(available())} "
        "(case-insensitive, '-' or '_')."
    )


def serialize(divergence):
    """A JSON-serialisable dict for `divergence` (Keras's serialisation format)."""
    if not isinstance(divergence, Divergence):
        raise TypeError(
            f"`divergence` must be a `Divergence`, got {type(divergence).__name__}."
        )
    return keras.saving.serialize_keras_object(divergence)


def deserialize(config):
    """Builds a divergence from `serialize`'s output or {"class_name", "config"}.

    `class_name` may be the class name ("Wasserstein"), the Keras registered name
    ("unigen>Wasserstein") or a short name ("wasserstein").
    """
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "`config` must be a dict with a 'class_name' key (and optionally "
            f"'config'), got {config!r}."
        )
    name = str(config["class_name"])
    name = name.removeprefix("unigen>")
    by_class = {cls.__name__: cls for cls in _REGISTRY.values()}
    cls = by_class.get(name) or _REGISTRY.get(_ALIASES.get(_normalize_name(name), ""))
    if cls is None:
        raise _unknown(config["class_name"])
    kwargs = config.get("config") or {}
    if not isinstance(kwargs, dict):
        raise TypeError(f"`config['config']` must be a dict, got {kwargs!r}.")
    return cls.from_config(dict(kwargs))


def get(identifier):
    """Returns a `Divergence` from a name, a config dict, a class or an instance.

    Args:
        identifier: a registered name such as "js", "Reverse-KL" or
            "wasserstein"; a dict from `serialize`; a `Divergence` subclass
            (instantiated with its defaults); or a `Divergence` (returned as is).

    Raises:
        ValueError: an unknown name, listing the valid ones.
        TypeError: any other kind of identifier.
    """
    if isinstance(identifier, Divergence):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Divergence):
        return identifier()
    if isinstance(identifier, str):
        canonical = _ALIASES.get(_normalize_name(identifier))
        if canonical is None:
            raise _unknown(identifier)
        return _REGISTRY[canonical]()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    raise TypeError(
        "`identifier` must be a divergence name, a config dict or a `Divergence`, "
        f"got {identifier!r} of type {type(identifier).__name__}."
    )
