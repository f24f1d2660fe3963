"""Variational autoencoders: `VAE` with KL, IWAE, MMD or adversarial regularisers."""

from unigen.models.vae._model import VAE

__all__ = ["VAE"]
