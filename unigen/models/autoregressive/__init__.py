"""Autoregressive image models: `PixelCNN` (gated, no blind spot) and `CategoricalMADE`.

Both are `unigen.GenerativeModel` subclasses on the shared `AutoregressiveModel`
base: a categorical distribution over the L pixel levels for each pixel given
the pixels before it, an exact ``log_prob`` by the chain rule, and ancestral
sampling pixel by pixel in one compiled loop. The masked layers PixelCNN is
built from are `MaskedConv2D` and `GatedBlock`.
"""

from unigen.models.autoregressive._base import AutoregressiveModel
from unigen.models.autoregressive._layers import GatedBlock, MaskedConv2D, shift_down
from unigen.models.autoregressive._made import CategoricalMADE
from unigen.models.autoregressive._pixelcnn import PixelCNN

__all__ = ["AutoregressiveModel", "CategoricalMADE", "GatedBlock", "MaskedConv2D", "PixelCNN",
           "shift_down"]
