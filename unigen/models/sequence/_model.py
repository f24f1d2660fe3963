"""`SequenceModel`: an autoregressive recurrent language model trained by maximum likelihood.

It is the likelihood baseline on sequence data and the architecture of the
sequence GANs' generators (`GumbelGAN`, `SeqGAN`), which share everything here
but the training step.
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen.base import GenerativeModel, _check_positive_int
from unigen.datasets._sequences import check_canonical
from unigen.models.sequence._estimators import gumbel_noise
from unigen.models.sequence._network import SequenceNetwork

__all__ = ["SequenceModel"]


class SequenceGeneratorMixin:
    """What every sequence model shares: the network, exact ``log_prob``, ``sample``.

    Data: int token ids ``[batch, T]`` (``event_shape=(T,)``) over a vocabulary
    of ``num_levels`` = V ids, padded after EOS as `unigen.datasets` yields
    them (`unigen.datasets.Vocabulary`); float arrays of integer ids work too.
    """

    supports_continuous = False
    levels_hint = ("Sequence models take num_levels=V, the vocabulary size, as "
                   "unigen.datasets.info('oracle').num_levels gives it.")

    def _init_network(self, embedding_dim, hidden_units, cell):
        if len(self.event_shape) != 1 or self.num_levels is None:
            raise ValueError(
                f"{type(self).__name__} models token sequences: pass event_shape=(T,) and "
                f"num_levels=V (the vocabulary size), as unigen.datasets.info('oracle') "
                f"gives them; got event_shape={self.event_shape}, "
                f"num_levels={self.num_levels}.")
        self.network = SequenceNetwork(self.num_levels, self.event_shape[0],
                                       _check_positive_int("embedding_dim", embedding_dim),
                                       _check_positive_int("hidden_units", hidden_units),
                                       cell, name="generator")
        self._sampler = None

    def _network_config(self):
        return {"embedding_dim": self.network.embedding_dim,
                "hidden_units": self.network.hidden_units, "cell": self.network.cell_type}

    def validate_data(self, x):
        """`GenerativeModel.validate_data`, plus the padding rule (padding only after EOS)."""
        super().validate_data(x)
        check_canonical(keras.ops.convert_to_numpy(x).astype("int64"), self.num_levels)

    def _preprocess(self, x):
        return tf.cast(tf.round(tf.cast(x, "float32")), "int32")

    def _log_prob(self, x, temperature=1.0):
        """Exact log p(x) in nats per sequence: sum_t m_t log softmax(logits_t / temperature)[x_t].

        ``temperature`` scores under the tempered model that ``sample`` draws
        from at that temperature (1: the model itself; must be > 0).
        """
        if temperature <= 0:
            raise ValueError("`temperature` must be > 0 to score sequences (0 is greedy "
                             "decoding, which has no density).")
        return self.network.log_prob(x, temperature)

    def _sample(self, num_samples, seed, temperature=1.0):
        """int32 tokens ``[num_samples, T]``, drawn token by token in one compiled function.

        ``temperature`` divides the logits (0: greedy argmax decoding).
        """
        shape = (num_samples, self.event_shape[0], self.num_levels)
        if seed is None:
            seed = int(_random.randint((), 0, 2**31 - 1, seed=None))
        uniform = tf.random.stateless_uniform(shape, seed=[seed, 0x5EC])
        noise = gumbel_noise(uniform)
        if temperature == 0:  # greedy: argmax of the logits, no noise
            noise, temperature = tf.zeros_like(noise), 1.0
        if self._sampler is None:
            self._sampler = tf.function(self.network.generate, reduce_retracing=True)
        return self._sampler(noise, tf.constant(float(temperature)))


@keras.saving.register_keras_serializable(package="unigen")
class SequenceModel(SequenceGeneratorMixin, GenerativeModel):
    """An autoregressive recurrent language model over token sequences (MLE).

    p(x) = prod_t m_t softmax(head(h_t))[x_t], h_t = cell(embed(x_{t-1}), h_{t-1}),
    with m the counted positions (`unigen.datasets.counted_mask`: up to and
    including the first EOS). Trained by maximum likelihood: ``compute_loss``
    minimises -mean log p(x) over the batch. ``log_prob`` is exact, in nats per
    sequence; ``sample(n, seed, temperature=)`` draws from softmax(logits / temperature).

    Args:
        event_shape: ``(T,)``, the sequence length.
        num_levels: V, the vocabulary size (padding and EOS included); required.
        embedding_dim: token embedding size.
        hidden_units: recurrent state size.
        cell: "gru" or "lstm".
        seed: seed of the initial weights.
        **kwargs: passed to `unigen.GenerativeModel`.
    """

    def __init__(self, event_shape, num_levels="auto", embedding_dim=32, hidden_units=64,
                 cell="gru", seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self._init_network(embedding_dim, hidden_units, cell)

    def build(self, input_shape=None):
        del input_shape
        if not self.network.built:
            self.network.build()
        self.built = True

    def get_config(self):
        return {**super().get_config(), **self._network_config()}

