"""Model families of unigen, and a registry for building them by name.

`create(name, event_shape=..., num_levels=...)` is what the command line and
`unigen.compare` use; in scripts, construct the classes directly.
"""

from unigen.models.gaussian import Gaussian

# Each family adds its import here (one line each).
# -- GAN family --
from unigen.models._gan_presets import DCGAN, MLPGAN, create_gan
# -- flow family --
from unigen.models.glow import MAF, Glow, RealNVP
# -- VAE family --
from unigen.models.vae import VAE

__all__ = ["Gaussian", "available", "create", "register"]
# Each family extends __all__ here: __all__ += [...]
__all__ += ["DCGAN", "MLPGAN"]  # GAN family
__all__ += ["VAE"]  # VAE family
__all__ += ["MAF", "Glow", "RealNVP"]  # flow family

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
# Each family registers its default builders below, in its own block.
# -- GAN family --
register("gan", create_gan)
register("dcgan", create_gan)
# -- VAE family --
register("vae", VAE)
# -- flow family --
register("glow", Glow)
register("realnvp", RealNVP)
register("maf", MAF)
