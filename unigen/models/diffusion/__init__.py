"""Diffusion models: `DDPM` (ancestral and DDIM sampling, classifier-free guidance)."""

from unigen.models.diffusion._model import DDPM
from unigen.models.diffusion._networks import FourierFeatures, SinusoidalEmbedding

__all__ = ["DDPM", "FourierFeatures", "SinusoidalEmbedding"]
