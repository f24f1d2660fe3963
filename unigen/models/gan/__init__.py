"""Generative adversarial networks: `GAN` and the presets `DCGAN` and `MLPGAN`.

Each holds a generator and one `unigen.adversarial.Critic`; `networks` has the
builders of the default generator and critic networks.
"""

from unigen.models.gan import networks
from unigen.models.gan._model import GAN
from unigen.models.gan._presets import DCGAN, MLPGAN, create_gan

__all__ = ["DCGAN", "GAN", "MLPGAN", "create_gan", "networks"]
