"""`AutoregressiveModel`: the shared base of PixelCNN and MADE over discrete pixels.

An autoregressive model writes p(x) with the chain rule in a fixed order
pi(1), ..., pi(D) of the D pixels,

    log p(x) = sum_k log p(x_pi(k) | x_pi(1), ..., x_pi(k-1)),

each conditional a categorical distribution over the L pixel levels whose
logits a masked network computes for all pixels in one pass (the masks make
the logits of pixel pi(k) a function of x_pi(<k) only). ``log_prob`` is therefore
an exact log probability mass, in nats per example, of integer levels
0..L-1 as `unigen.datasets` yields them.

Sampling cannot be done in one pass: pixel pi(k) needs the sampled values of
the pixels before it, so ``sample`` runs the network D times (64 for 8x8
digits, 784 for 28x28 images), all inside one compiled `tf.function`
(a `tf.while_loop` over the pixels). Each pass costs as much as one
``log_prob`` of the batch, so drawing n images costs about D times a
``log_prob`` of n images.
"""

import random

import tensorflow as tf

from unigen.base import GenerativeModel

__all__ = ["AutoregressiveModel"]

#: Where the errors of these discrete-only models send continuous data: models of real
#: values, by class and registry name (tests/models/test_num_levels.py trains each on
#: continuous vectors).
CONTINUOUS_ALTERNATIVES = ("MAF", "RealNVP", "Gaussian")
CONTINUOUS_HINT = (
    f"For continuous data use a model of real values: unigen.models."
    f"{', '.join(CONTINUOUS_ALTERNATIVES[:-1])} or {CONTINUOUS_ALTERNATIVES[-1]} "
    f"(`unigen train --model {'|'.join(n.lower() for n in CONTINUOUS_ALTERNATIVES)}`), "
    f"or discretise the data into integer levels 0..L-1 and pass num_levels=L.")

# Smallest uniform draw of the Gumbel noise: keeps -log(-log(u)) finite.
_TINY = 1e-20


class AutoregressiveModel(GenerativeModel):
    """Base of the autoregressive models: categorical conditionals over L levels.

    Subclasses write ``_logits(x, training=False)``: float levels ``[batch, *event_shape]`` to
    float32 logits ``[batch, *event_shape, num_levels]`` where the logits of
    each pixel depend only on the pixels before it in ``sampling_order``; and
    may override ``sampling_order`` (default: raster order 0..D-1 of the
    flattened example). Training is maximum likelihood (``compute_loss`` of
    `unigen.GenerativeModel`: the negative mean of ``log_prob``).

    Args:
        event_shape: shape of one example.
        num_levels: L, the number of pixel levels; the default ``"auto"`` is
            256 (8-bit) for images. These models are distributions over
            discrete levels: None (continuous data) is refused.
        **kwargs: passed to `unigen.GenerativeModel` (``seed``, ``name``, ``dtype``).
    """

    supports_continuous = False
    levels_hint = ("Pass the data's levels (17 for digits, 256 for uint8 images; "
                   "unigen.datasets.info(name).num_levels). " + CONTINUOUS_HINT)

    def __init__(self, event_shape, num_levels="auto", **kwargs):
        super().__init__(event_shape, num_levels=num_levels, **kwargs)

    # ----------------------------------------------------------------- hooks
    def _logits(self, x, training=False):
        raise NotImplementedError(f"{type(self).__name__} must implement `_logits`.")

    def sampling_order(self):
        """Flattened pixel indices in the order the chain rule visits them."""
        return list(range(self.event_size))

    # ----------------------------------------------------------------- maths
    def _log_prob(self, x):
        """Exact log P(x) = sum_d log Categorical(x_d; softmax(logits_d(x_<d))), nats."""
        return self._chain_rule_log_prob(x)

    def call(self, x, training=False):
        """log P(x) per example (with the networks' dropout when ``training``)."""
        return self._chain_rule_log_prob(self._preprocess(x), training=training)

    def _chain_rule_log_prob(self, x, training=False):
        logits = self._logits(x, training=training)
        levels = tf.cast(tf.round(x), "int32")
        log_p = -tf.nn.sparse_softmax_cross_entropy_with_logits(labels=levels, logits=logits)
        return tf.reduce_sum(tf.reshape(log_p, [tf.shape(x)[0], -1]), axis=-1)

    def conditionals(self, x):
        """Log-probabilities of every level at every pixel given the pixels before it.

        Returns ``[batch, *event_shape, num_levels]``: entry [..., d, k] is
        log p(x_d = k | x_<d). Checked like ``log_prob``'s input.
        """
        x = self._convert_input(x)
        self._ensure_built()
        return tf.nn.log_softmax(self._logits(x), axis=-1)

    def _sample(self, num_samples, seed, temperature=1.0):
        """Ancestral sampling, pixel by pixel in ``sampling_order``, in one compiled loop.

        Each pixel's level is argmax_k(logits_k + temperature * g_k) with g_k
        Gumbel noise: for temperature T > 0 a draw from softmax(logits / T)
        (T = 1: the model; T < 1: sharper; T -> 0: the most probable level,
        which T = 0 gives exactly). Costs D passes of the network (D = number
        of pixels).
        """
        if seed is None:
            seed = random.getrandbits(31)
        flat = self._draw(int(num_samples), tf.constant(int(seed), "int64"),
                          tf.constant(float(temperature), "float32"))
        return tf.reshape(flat, [num_samples, *self.event_shape])

    @tf.function(reduce_retracing=True)
    def _draw(self, num_samples, seed, temperature):
        size, levels = self.event_size, self.num_levels
        order = tf.constant(self.sampling_order(), "int32")

        def step(k, x):
            position = order[k]
            logits = tf.reshape(self._logits(tf.reshape(x, [num_samples, *self.event_shape])),
                                [num_samples, size, levels])
            logits = tf.gather(logits, position, axis=1)
            u = tf.random.stateless_uniform([num_samples, levels],
                                            seed=tf.stack([seed, tf.cast(k, "int64")]),
                                            minval=_TINY, maxval=1.0)
            gumbel = -tf.math.log(-tf.math.log(u))
            level = tf.argmax(logits + temperature * gumbel, axis=-1, output_type="int32")
            update = tf.one_hot(position, size)[None, :] * tf.cast(level, "float32")[:, None]
            return k + 1, x + update

        x = tf.zeros([num_samples, size], "float32")
        _, x = tf.while_loop(lambda k, x: k < size, step, [tf.constant(0), x])
        return x

    def likelihood_estimators(self):
        """["exact"]: the chain rule gives log P(x) exactly."""
        return ["exact"]

    def build(self, input_shape=None):
        """Creates every layer's variables with one pass on a zero batch."""
        self._logits(tf.zeros((1, *self.event_shape), "float32"))
        self.built = True

    def _scaled(self, x):
        """Levels 0..L-1 mapped linearly to [-1, 1], the networks' input."""
        return tf.cast(x, "float32") * (2.0 / (self.num_levels - 1)) - 1.0
