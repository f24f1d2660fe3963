"""Invertible layers (bijectors) for normalizing flows, as Keras 3 layers.

Every layer owns its variables (TFP's trainable flow pieces are Keras 2 and are
not tracked by Keras 3). ``forward`` maps data towards the base distribution;
log-determinants are per example, shape ``[batch]``::

    import unigen.flows as uf
    step = uf.Chain([uf.ActNorm(), uf.InvertibleConv1x1(seed=0), uf.AffineCoupling(64)])
    z, log_det = step.forward_and_log_det(x)      # x: [batch, H, W, C]
    x_again = step.inverse(z)

The models `unigen.models.Glow`, `RealNVP` and `MAF` are built from these.
"""

from unigen.flows._autoregressive import MADE, MaskedAutoregressive
from unigen.flows._bijector import Bijector, Chain, Permute, Reverse
from unigen.flows._dequantization import VariationalDequantizer
from unigen.flows._layers import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleConv1x1,
    SplitPrior,
    Squeeze,
)
from unigen.flows._multiscale import MultiScale
from unigen.flows._preprocess import LogitTransform, uniform_dequantize

__all__ = [
    "MADE",
    "ActNorm",
    "AdditiveCoupling",
    "AffineCoupling",
    "Bijector",
    "Chain",
    "InvertibleConv1x1",
    "LogitTransform",
    "MaskedAutoregressive",
    "MultiScale",
    "Permute",
    "Reverse",
    "SplitPrior",
    "Squeeze",
    "VariationalDequantizer",
    "uniform_dequantize",
]
