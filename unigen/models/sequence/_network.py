"""`SequenceNetwork`: the autoregressive recurrent network every sequence model uses.

An embedding of the previous token, a GRU or LSTM cell and a dense head give the
logits of the next token, step by step over the T positions:

    h_t = cell(embed(x_{t-1}), h_{t-1}),   logits_t = head(h_t),   x_0 = padding id.

Padding is never predicted (its logit is -1e9), nor EOS first (sequences are
not empty, as in the ``oracle`` and ``words`` data); positions after the first EOS
are not counted (`unigen.datasets.counted_mask`) and, when generating, are
filled with padding. Scoring and generating run the same step function, so a
model's samples and its ``log_prob`` describe one distribution.
"""

import keras
import tensorflow as tf

from unigen.datasets._sequences import EOS_ID, PAD_ID, counted_mask
from unigen.models.sequence._estimators import gumbel_softmax

__all__ = []

CELLS = ("gru", "lstm")


@keras.saving.register_keras_serializable(package="unigen")
class SequenceNetwork(keras.layers.Layer):
    """Embedding + recurrent cell + dense head over a vocabulary of ``vocab_size`` ids.

    Args:
        vocab_size: V, padding and EOS included.
        length: T, the number of positions.
        embedding_dim: size of the token embedding.
        hidden_units: size of the recurrent state.
        cell: "gru" or "lstm".
    """

    def __init__(self, vocab_size, length, embedding_dim=32, hidden_units=64, cell="gru",
                 **kwargs):
        super().__init__(**kwargs)
        if cell not in CELLS:
            raise ValueError(f"`cell` must be one of {list(CELLS)}, got {cell!r}.")
        self.vocab_size, self.length = int(vocab_size), int(length)
        self.embedding_dim, self.hidden_units, self.cell_type = (
            int(embedding_dim), int(hidden_units), cell)
        self.embedding = keras.layers.Embedding(self.vocab_size, self.embedding_dim,
                                                name="embedding")
        make = keras.layers.GRUCell if cell == "gru" else keras.layers.LSTMCell
        self.cell = make(self.hidden_units, name="cell")
        self.head = keras.layers.Dense(self.vocab_size, name="head")

    def build(self, input_shape=None):
        del input_shape
        self.embedding.build((None,))
        self.cell.build((None, self.embedding_dim))
        self.head.build((None, self.hidden_units))
        self.built = True

    # ------------------------------------------------------------ one step
    def _initial_state(self, batch):
        zeros = tf.zeros([batch, self.hidden_units], self.cell.compute_dtype)
        return [zeros] if self.cell_type == "gru" else [zeros, zeros]

    def _step(self, inputs, states, first, training=False):
        """(logits [B, V] float32, new states) from embedded inputs [B, E]."""
        out, states = self.cell(inputs, states, training=training)
        logits = tf.cast(self.head(out), "float32")
        banned = [PAD_ID, EOS_ID] if first else [PAD_ID]
        mask = tf.reduce_sum(tf.one_hot(banned, self.vocab_size, on_value=-1e9), axis=0)
        return logits + mask, list(states) if isinstance(states, (list, tuple)) else [states]

    def _embed_tokens(self, tokens):
        return self.embedding(tokens)

    def _embed_soft(self, one_hots):
        table = tf.cast(self.embedding.embeddings, one_hots.dtype)
        return tf.cast(tf.matmul(one_hots, table), self.embedding.compute_dtype)

    # -------------------------------------------------------------- scoring
    def logits(self, tokens, training=False):
        """Teacher-forced logits [B, T, V] of int tokens [B, T]."""
        batch = tf.shape(tokens)[0]
        previous = tf.concat([tf.fill([batch, 1], PAD_ID), tokens[:, :-1]], axis=1)
        inputs = self._embed_tokens(previous)
        states = self._initial_state(batch)
        out = []
        for t in range(self.length):
            logits, states = self._step(inputs[:, t], states, t == 0, training)
            out.append(logits)
        return tf.stack(out, axis=1)

    def step_log_probs(self, tokens, temperature=1.0, training=False):
        """m_t log p(x_t | x_<t) per position, float32 [B, T] (logits / temperature)."""
        logits = self.logits(tokens, training) / temperature
        chosen = tf.gather(tf.nn.log_softmax(logits), tokens, batch_dims=2)
        return chosen * counted_mask(tokens)

    def log_prob(self, tokens, temperature=1.0, training=False):
        """log p(x) in nats per sequence, float32 [B]."""
        return tf.reduce_sum(self.step_log_probs(tokens, temperature, training), axis=1)

    # ----------------------------------------------------------- generating
    def generate(self, gumbel, temperature=1.0, relaxation=None, straight_through=False,
                 training=False):
        """Tokens [B, T] drawn with Gumbel noise ``gumbel`` [B, T, V] (and relaxed one-hots).

        x_t = argmax(logits_t / temperature + g_t) (the Gumbel-max trick: a
        draw of softmax(logits_t / temperature); zero noise gives greedy decoding).
        After EOS every token is padding. With ``relaxation`` = tau (a float or
        scalar tensor) it also returns relaxed one-hots [B, T, V]:
        y_t = softmax((logits_t + g_t) / tau), fed back as the next input
        (embedding y_t E), and masked as a_t y_t + (1 - a_t) onehot(pad) with
        a_t = prod_{s<t} (1 - y_s[EOS]), the relaxed "no EOS yet"; with
        ``straight_through`` the forward values are the hard one-hots.

        Returns:
            tokens int32 [B, T], or (tokens, relaxed float32 [B, T, V]).
        """
        batch = tf.shape(gumbel)[0]
        states = self._initial_state(batch)
        inputs = self._embed_tokens(tf.fill([batch], PAD_ID))
        alive = tf.ones([batch], tf.bool)
        soft_alive = tf.ones([batch, 1], "float32")
        pad = tf.one_hot(tf.fill([batch], PAD_ID), self.vocab_size)
        tokens, relaxed = [], []
        for t in range(self.length):
            logits, states = self._step(inputs, states, t == 0, training)
            noise = tf.cast(gumbel[:, t], "float32")
            drawn = tf.argmax(logits / temperature + noise, axis=-1, output_type=tf.int32)
            token = tf.where(alive, drawn, PAD_ID)
            alive = tf.logical_and(alive, tf.not_equal(drawn, EOS_ID))
            tokens.append(token)
            if relaxation is None:
                inputs = self._embed_tokens(token)
                continue
            soft = gumbel_softmax(logits, noise, relaxation)
            if straight_through:
                hard = tf.one_hot(drawn, self.vocab_size)
                soft = soft + tf.stop_gradient(hard - soft)
            out = soft_alive * soft + (1.0 - soft_alive) * pad
            soft_alive = soft_alive * (1.0 - soft[:, EOS_ID:EOS_ID + 1])
            relaxed.append(out)
            inputs = self._embed_soft(out)
        tokens = tf.stack(tokens, axis=1)
        if relaxation is None:
            return tokens
        return tokens, tf.stack(relaxed, axis=1)

    def get_config(self):
        return {**super().get_config(), "vocab_size": self.vocab_size, "length": self.length,
                "embedding_dim": self.embedding_dim, "hidden_units": self.hidden_units,
                "cell": self.cell_type}
