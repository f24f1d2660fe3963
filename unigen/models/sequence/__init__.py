"""Models of discrete token sequences: maximum likelihood and two sequence GANs.

`SequenceModel` is an autoregressive recurrent language model trained by
maximum likelihood. `GumbelGAN` and `SeqGAN` train the same network against a
`unigen.adversarial.Critic` (a 1-D convolutional classifier on one-hot
sequences): through the Gumbel-softmax relaxation of its samples, or with the
REINFORCE score-function gradient and a moving-average baseline. All three have
an exact ``log_prob`` (nats per sequence) and ``sample(..., temperature=)``.
"""

from unigen.models.sequence._estimators import (
    gumbel_noise,
    gumbel_softmax,
    gumbel_temperature,
    reinforce_surrogate,
)
from unigen.models.sequence._gans import GumbelGAN, SeqGAN, conv_critic
from unigen.models.sequence._model import SequenceModel

__all__ = ["GumbelGAN", "SeqGAN", "SequenceModel", "conv_critic", "gumbel_noise",
           "gumbel_softmax", "gumbel_temperature", "reinforce_surrogate"]
