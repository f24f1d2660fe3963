"""Layers of the GAN tricks and of BigGAN's networks, each a serialisable Keras layer.

* `MinibatchDiscrimination` (Salimans et al. 2016): lets the critic compare an
  example with the rest of its batch.

References:
    Salimans et al. "Improved Techniques for Training GANs." NeurIPS 2016.
"""

import keras
import tensorflow as tf

__all__ = ["MinibatchDiscrimination"]


def _positive_int(name, value):
    if isinstance(value, bool) or int(value) != value or int(value) < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    return int(value)


@keras.saving.register_keras_serializable(package="unigen")
class MinibatchDiscrimination(keras.layers.Layer):
    """Minibatch discrimination: features f(x_i) [n, A] -> [f(x_i), o(x_i)] [n, A + B].

    With a learned tensor T [A, B, C], M_i = f(x_i) T [B, C] and, for each of the
    B kernels,

        c_b(x_i, x_j) = exp(-||M_{i,b} - M_{j,b}||_1),
        o(x_i)_b = sum_{j != i} c_b(x_i, x_j),

    so the critic sees how close each example is to the others in its batch (a
    collapsed generator makes o large). The sum runs over the batch the layer is
    called on (the per-replica batch under a strategy). The layer is equivariant
    to permutations of the batch.

    Args:
        num_kernels: B.
        kernel_dim: C.
    """

    def __init__(self, num_kernels=16, kernel_dim=5, **kwargs):
        super().__init__(**kwargs)
        self.num_kernels = _positive_int("num_kernels", num_kernels)
        self.kernel_dim = _positive_int("kernel_dim", kernel_dim)

    def build(self, input_shape):
        self.kernel = self.add_weight(
            shape=(int(input_shape[-1]), self.num_kernels * self.kernel_dim),
            initializer=keras.initializers.RandomNormal(stddev=0.05), name="kernel")
        self.built = True

    def call(self, x):
        m = tf.reshape(tf.matmul(x, tf.cast(self.kernel, x.dtype)),
                       [-1, self.num_kernels, self.kernel_dim])
        distances = tf.reduce_sum(tf.abs(m[:, None] - m[None, :]), axis=-1)  # [n, n, B]
        o = tf.reduce_sum(tf.exp(-distances), axis=1) - 1.0  # drop j = i (exp(0) = 1)
        return tf.concat([x, o], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], int(input_shape[-1]) + self.num_kernels)

    def get_config(self):
        return {**super().get_config(), "num_kernels": self.num_kernels,
                "kernel_dim": self.kernel_dim}
