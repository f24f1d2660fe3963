"""Generative adversarial networks: `GAN` and the presets `DCGAN`, `MLPGAN` and `BigGAN`.

Each holds a generator and one `unigen.adversarial.Critic`; `networks` has the
builders of the default generator and critic networks.
"""

from unigen.models.gan import layers, networks
from unigen.models.gan._model import GAN
from unigen.models.gan._presets import DCGAN, MLPGAN, create_gan
from unigen.models.gan.biggan import BigGAN, create_biggan

__all__ = ["DCGAN", "GAN", "MLPGAN", "BigGAN", "create_biggan", "create_gan", "layers",
           "networks"]
