"""Coarse-to-fine GANs: progressive growing (`ProGAN`) and the Laplacian pyramid (`LAPGAN`).

Both are compositions of the GAN's pieces: `unigen.adversarial.Critic` for every
critic update and `unigen.training._distribute.minimize` for every generator
update.
"""

from unigen.models.pyramid import layers
from unigen.models.pyramid.lapgan import LAPGAN, create_lapgan
from unigen.models.pyramid.progan import (
    ProGAN,
    ProgressiveCritic,
    ProgressiveGenerator,
    create_progan,
    growth_schedule,
)

__all__ = ["LAPGAN", "ProGAN", "ProgressiveCritic", "ProgressiveGenerator", "create_lapgan",
           "create_progan", "growth_schedule", "layers"]
