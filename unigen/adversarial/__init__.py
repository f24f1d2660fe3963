"""The adversarial component every unigen family shares.

`Critic` holds a critic network, the divergence it estimates, its optimizer and
its update step; `adversarial_loss` is what a model minimises against a critic
(or from samples, for a divergence that needs none); `mlp_critic` is the default
fully connected critic network.

    critic = unigen.adversarial.Critic(unigen.adversarial.mlp_critic(2), "wasserstein")
"""

from unigen.adversarial._critic import Critic, adversarial_loss, has_spectral_norm
from unigen.adversarial._networks import LeakyMax, mlp_critic, spectral_norm

__all__ = ["Critic", "LeakyMax", "adversarial_loss", "has_spectral_norm", "mlp_critic",
           "spectral_norm"]
