"""Masked convolutions and the gated block of PixelCNN (Keras 3 layers).

A masked convolution multiplies its kernel by a fixed 0/1 mask so that the
output at pixel (r, c) sees only some inputs around it. PixelCNN needs three:

* ``"vertical"``: a k x k kernel keeping the rows above the centre and the
  centre row (all k columns). The vertical stack uses it; its output at
  (r, c) sees rows <= r, so it is shifted down one row (`shift_down`) before
  it feeds a pixel's prediction, which then sees only rows < r.
* ``"A"``: a 1 x k kernel keeping the columns strictly left of the centre:
  the horizontal stack's first layer, which must not see the pixel itself.
* ``"B"``: a 1 x k kernel keeping the columns left of the centre and the
  centre: the horizontal stack's later layers (the pixel's own features, which
  depend only on what came before it, may be reused).
"""

import keras
import numpy as np
import tensorflow as tf

__all__ = ["GatedBlock", "MaskedConv2D", "shift_down"]

MASK_TYPES = ("vertical", "A", "B")


def causal_mask(mask_type, kernel_size):
    """The 0/1 mask ``[kh, kw]`` of a masked convolution (see the module docstring)."""
    k, centre = int(kernel_size), int(kernel_size) // 2
    if mask_type == "vertical":
        mask = np.zeros((k, k), "float32")
        mask[:centre + 1, :] = 1.0
        return mask
    mask = np.zeros((1, k), "float32")
    mask[0, :centre + (1 if mask_type == "B" else 0)] = 1.0
    return mask


def shift_down(x):
    """Moves an image batch ``[b, h, w, c]`` down one row (zeros in the top row)."""
    return tf.pad(x, [[0, 0], [1, 0], [0, 0], [0, 0]])[:, :-1]


@keras.saving.register_keras_serializable(package="unigen")
class MaskedConv2D(keras.layers.Layer):
    """A same-padded 2-D convolution whose kernel is multiplied by a causal mask.

    Args:
        filters: output channels.
        kernel_size: odd int k; the kernel is k x k ("vertical") or 1 x k ("A", "B").
        mask_type: "vertical", "A" or "B" (see `unigen.models.autoregressive`).
        **kwargs: passed to `keras.layers.Layer`.
    """

    def __init__(self, filters, kernel_size, mask_type, **kwargs):
        super().__init__(**kwargs)
        if mask_type not in MASK_TYPES:
            raise ValueError(f"`mask_type` must be one of {list(MASK_TYPES)}, got "
                             f"{mask_type!r}.")
        if int(kernel_size) < 3 or int(kernel_size) % 2 == 0:
            raise ValueError(f"`kernel_size` must be an odd int >= 3, got {kernel_size!r}.")
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.mask_type = mask_type
        self._mask = causal_mask(mask_type, self.kernel_size)

    def build(self, input_shape):
        kh, kw = self._mask.shape
        self.kernel = self.add_weight(shape=(kh, kw, int(input_shape[-1]), self.filters),
                                      initializer="glorot_uniform", name="kernel")
        self.bias = self.add_weight(shape=(self.filters,), initializer="zeros", name="bias")
        self.built = True

    def call(self, x):
        mask = tf.constant(self._mask[:, :, None, None], self.kernel.dtype)
        return tf.nn.conv2d(x, self.kernel * mask, strides=1, padding="SAME") + self.bias

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "mask_type": self.mask_type}


def _gate(features):
    """tanh(a) * sigmoid(b) for the two halves [a, b] of the channels."""
    a, b = tf.split(features, 2, axis=-1)
    return tf.tanh(a) * tf.sigmoid(b)


@keras.saving.register_keras_serializable(package="unigen")
class GatedBlock(keras.layers.Layer):
    """One gated PixelCNN layer on a (vertical, horizontal) pair of stacks.

    With v, h the stacks' features (``[b, h, w, filters]``)::

        v_feat = conv_vertical(v)                              # rows <= r
        h_feat = conv_horizontal(h) + conv_1x1(shift_down(v_feat))
        v' = tanh(v_feat_a) * sigmoid(v_feat_b)
        h' = h + conv_1x1(dropout(tanh(h_feat_a) * sigmoid(h_feat_b)))  # no h + if first

    The horizontal stack at (r, c) sees row r left of c (the first block:
    strictly left, mask "A") and, through the shifted vertical stack, every
    row above within the receptive field, which grows by k // 2 columns on
    each side and k // 2 rows up per block: no blind spot.

    Args:
        filters: channels of each stack.
        kernel_size: odd int k of both masked convolutions.
        first: True for the first block (mask "A", no residual connection).
        dropout: dropout rate on the gated horizontal features when training.
        **kwargs: passed to `keras.layers.Layer`.
    """

    def __init__(self, filters, kernel_size, first=False, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.filters = int(filters)
        self.kernel_size = int(kernel_size)
        self.first = bool(first)
        self.dropout = float(dropout)
        self.dropout_layer = keras.layers.Dropout(self.dropout) if self.dropout else None
        self.vertical = MaskedConv2D(2 * self.filters, self.kernel_size, "vertical",
                                     name="vertical")
        self.horizontal = MaskedConv2D(2 * self.filters, self.kernel_size,
                                       "A" if self.first else "B", name="horizontal")
        self.vertical_to_horizontal = keras.layers.Conv2D(2 * self.filters, 1,
                                                          name="vertical_to_horizontal")
        self.output_projection = keras.layers.Conv2D(self.filters, 1, name="output_projection")

    def build(self, input_shape):
        v_shape, h_shape = input_shape
        wide = (*v_shape[:-1], 2 * self.filters)
        self.vertical.build(v_shape)
        self.horizontal.build(h_shape)
        self.vertical_to_horizontal.build(wide)
        self.output_projection.build((*h_shape[:-1], self.filters))
        self.built = True

    def call(self, inputs, training=False):
        v, h = inputs
        v_feat = self.vertical(v)
        h_feat = self.horizontal(h) + self.vertical_to_horizontal(shift_down(v_feat))
        gated = _gate(h_feat)
        if self.dropout_layer is not None:
            gated = self.dropout_layer(gated, training=training)
        h_out = self.output_projection(gated)
        if not self.first:
            h_out = h + h_out
        return _gate(v_feat), h_out

    def compute_output_shape(self, input_shape):
        v_shape, h_shape = input_shape
        return (*v_shape[:-1], self.filters), (*h_shape[:-1], self.filters)

    def get_config(self):
        return {**super().get_config(), "filters": self.filters,
                "kernel_size": self.kernel_size, "first": self.first, "dropout": self.dropout}
