"""Model families of unigen, and a registry for building them by name.

`create(name, event_shape=..., num_levels=...)` is what the command line and
`unigen.compare` use; in scripts, construct the classes directly.
"""

from unigen.models.flows import MAF, FlowGAN, Glow, RealNVP, create_flow_gan
from unigen.models.gan import DCGAN, GAN, MLPGAN, create_gan
from unigen.models.gaussian import Gaussian
from unigen.models.vae import VAE

__all__ = [
    "DCGAN",
    "GAN",
    "MAF",
    "MLPGAN",
    "VAE",
    "FlowGAN",
    "Gaussian",
    "Glow",
    "RealNVP",
    "available",
    "create",
    "register",
]

_BUILDERS = {}


def register(name, builder):
    """Registers ``builder(event_shape, num_levels, **kwargs) -> model`` as ``name``."""
    _BUILDERS[name.lower()] = builder


def available():
    """Names accepted by `create` and by ``unigen train --model``."""
    return sorted(_BUILDERS)


def create(name, *, event_shape, num_levels=None, **kwargs):
    """Builds the model registered as ``name`` for data of the given shape.

    Args:
        name: a name from `available()`, case-insensitive.
        event_shape: shape of one example, for example ``info.event_shape`` of
            `unigen.datasets.info`.
        num_levels: discrete levels of the data, or None for continuous data.
        **kwargs: passed to the model's constructor.
    """
    key = str(name).lower().replace("-", "_")
    if key not in _BUILDERS:
        raise ValueError(f"Unknown model {name!r}; available: {', '.join(available())}.")
    return _BUILDERS[key](event_shape=event_shape, num_levels=num_levels, **kwargs)


register("gaussian", Gaussian)
register("gan", create_gan)
register("dcgan", create_gan)
register("glow", Glow)
register("realnvp", RealNVP)
register("maf", MAF)
register("vae", VAE)
register("flow_gan", create_flow_gan)
