"""`FusedAdam`: Keras's Adam, each variable updated by one fused kernel.

Keras 3's Adam updates each variable with about fifteen small graph ops (casts,
powers, the two moment updates, the step), so a model of many small variables
(Glow: 90 at 2 levels x 4 steps) spends a large, layer-proportional part of
its step on the optimizer. TensorFlow has the same update as one kernel,
``ResourceApplyAdam``; `FusedAdam` calls it, with Keras's variables, state,
schedule, clipping, loss scaling, saving and distribution untouched.
"""

import keras
import tensorflow as tf

__all__ = ["FusedAdam"]


@keras.saving.register_keras_serializable(package="unigen")
class FusedAdam(keras.optimizers.Adam):
    """`keras.optimizers.Adam` whose update is TensorFlow's fused ``ResourceApplyAdam``.

    The same maths as Keras's Adam (Kingma and Ba, with Keras's epsilon
    placement), at step t with gradient g:

        m <- m + (1 - beta_1) (g - m),   v <- v + (1 - beta_2) (g^2 - v),
        var <- var - lr sqrt(1 - beta_2^t) / (1 - beta_1^t) * m / (sqrt(v) + epsilon),

    computed by one kernel per variable instead of about fifteen ops, so the
    weights equal Keras's Adam's to float rounding. The optimizer variables
    (``momentum``/``velocity`` per weight) are Keras's, so checkpoints and
    ``.keras`` files move between the two. Falls back to Keras's update for
    ``amsgrad=True``, sparse gradients and backends other than TensorFlow.
    Keras applies clipping, weight decay and weight averaging (``use_ema``)
    around ``update_step``, so they act as with Keras's Adam (tested).

    Every unigen model's default optimizer (its own and its critics') is this
    one. Takes the arguments of `keras.optimizers.Adam`.
    """

    def update_step(self, gradient, variable, learning_rate):
        if (self.amsgrad or keras.backend.backend() != "tensorflow"
                or isinstance(gradient, tf.IndexedSlices)):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        step = tf.cast(self.iterations + 1, dtype)
        beta_1 = tf.cast(self.beta_1, dtype)
        beta_2 = tf.cast(self.beta_2, dtype)
        return tf.raw_ops.ResourceApplyAdam(
            var=_handle(variable), m=_handle(m), v=_handle(v),
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, dtype), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, dtype), grad=tf.cast(gradient, dtype),
            use_locking=False)


def _handle(variable):
    """The resource handle of a Keras or tf.Variable (a mirrored replica's own)."""
    if isinstance(variable, keras.Variable):
        variable = variable.value
    return variable.handle
