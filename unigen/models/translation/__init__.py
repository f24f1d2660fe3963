"""Image-to-image translation: `CycleGAN`, `StarGAN` and `Pix2Pix`.

Each is a composition of generators, `unigen.adversarial.Critic` layers and a
`unigen.divergences` game, trained by `unigen.fit` like every model, on the
translation sets of `unigen.datasets` (``digits_inverted``, ``digits_domains``,
``digits_inverted_paired``, ...), whose true translations
`unigen.datasets.true_targets` holds back for scoring.
"""

from unigen.models.translation import networks
from unigen.models.translation._base import ImagePool
from unigen.models.translation._cyclegan import CycleGAN
from unigen.models.translation._pix2pix import Pix2Pix
from unigen.models.translation._scores import multi_domain_set, translation_scores
from unigen.models.translation._stargan import DomainCritic, StarGAN, create_stargan

__all__ = ["CycleGAN", "DomainCritic", "ImagePool", "Pix2Pix", "StarGAN", "create_stargan",
           "multi_domain_set", "networks", "translation_scores"]
