"""Normalizing-flow models: `Glow`, `RealNVP`, `MAF` on the shared `FlowModel` base,
and `FlowGAN`, a flow trained on likelihood and an adversarial loss together.

The bijectors they are made of live in `unigen.flows`.
"""

from unigen.models.flows._base import FlowModel, WarmupSchedule
from unigen.models.flows._flow_gan import FlowGAN
from unigen.models.flows._models import MAF, Glow, RealNVP, create_flow_gan

__all__ = ["MAF", "FlowGAN", "FlowModel", "Glow", "RealNVP", "WarmupSchedule", "create_flow_gan"]
