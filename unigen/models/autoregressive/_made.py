"""`CategoricalMADE`: MADE (Germain et al. 2015) with categorical conditionals."""

import keras
import numpy as np
import tensorflow as tf

from unigen import _checks
from unigen.flows import MADE
from unigen.models.autoregressive._base import AutoregressiveModel

__all__ = ["CategoricalMADE"]

_ORDERINGS = ("natural", "random")


@keras.saving.register_keras_serializable(package="unigen")
class CategoricalMADE(AutoregressiveModel):
    """MADE on flattened examples: masked dense layers, a categorical per dimension.

    With pi the ``ordering`` (pi(k) is the k-th dimension generated)::

        log P(x) = sum_k log Categorical(x_pi(k); softmax(g(x)_k)),

    where g is a `unigen.flows.MADE` network (masked dense layers with the
    degree construction of Germain et al.) applied to the permuted, scaled
    input x_pi(1..D), so that its k-th output group, L logits, depends only on
    x_pi(1), ..., x_pi(k-1). One pass gives every conditional; ``log_prob``
    is exact, ``sample`` needs D passes (one compiled loop).

    Args:
        event_shape: shape of one example (flattened inside).
        num_levels: L, the levels of each value (17 for digits); "auto" (default):
            256 for images. None is refused (see `AutoregressiveModel`).
        hidden_units: widths of the masked hidden layers.
        ordering: "natural" (raster order 0..D-1), "random" (a permutation
            drawn from the model's seed) or a permutation of 0..D-1 listing
            the flattened dimensions in the order they are generated.
        **kwargs: passed to `unigen.GenerativeModel` (``seed``, ``name``, ``dtype``).

    References:
        Germain, Gregor, Murray and Larochelle. "MADE: Masked Autoencoder for
        Distribution Estimation." ICML 2015.
    """

    def __init__(self, event_shape, num_levels="auto", hidden_units=(512, 512),
                 ordering="natural", **kwargs):
        super().__init__(event_shape, num_levels=num_levels, **kwargs)
        self.hidden_units = _checks.check_widths("hidden_units", hidden_units)
        self.ordering = _check_ordering(ordering, self.event_size, self.seed)
        self._inverse_ordering = np.argsort(self.ordering).astype("int32")
        self.made = MADE(self.hidden_units, params_per_dim=self.num_levels, seed=self.seed,
                         name="made")

    def sampling_order(self):
        return list(self.ordering)

    def _logits(self, x, training=False):
        del training
        """Logits ``[batch, *event_shape, L]``: dimension pi(k) sees x_pi(<k) only."""
        flat = tf.reshape(self._scaled(x), [-1, self.event_size])
        permuted = tf.gather(flat, self.ordering, axis=1)
        logits = tf.gather(tf.cast(self.made(permuted), "float32"), self._inverse_ordering,
                           axis=1)
        return tf.reshape(logits, [-1, *self.event_shape, self.num_levels])

    def get_config(self):
        return {**super().get_config(), "hidden_units": self.hidden_units,
                "ordering": [int(i) for i in self.ordering]}


def _check_ordering(ordering, size, seed):
    """The ordering as a permutation of 0..size-1 (int32 NumPy array)."""
    if isinstance(ordering, str):
        if ordering not in _ORDERINGS:
            raise ValueError(f"`ordering` must be one of {list(_ORDERINGS)} or a permutation "
                             f"of 0..{size - 1}, got {ordering!r}.")
        if ordering == "natural":
            return np.arange(size, dtype="int32")
        return np.random.RandomState(0 if seed is None else seed).permutation(size).astype(
            "int32")
    values = np.asarray(ordering)
    if values.shape != (size,) or sorted(values.tolist()) != list(range(size)):
        raise ValueError(f"`ordering` must be a permutation of 0..{size - 1} (one entry per "
                         f"flattened dimension), got {ordering!r}.")
    return values.astype("int32")
