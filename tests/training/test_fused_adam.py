"""`unigen.training.FusedAdam`: Keras's Adam as one ResourceApplyAdam per variable (#18)."""

import keras
import numpy as np
import tensorflow as tf

import unigen
from unigen.training import FusedAdam


def _train(optimizer, steps=4):
    """A few Adam steps on a small Glow's variables; returns weights and moments."""
    model = unigen.models.Glow(image_shape=(4, 4, 1), levels=1, steps_per_level=2,
                               hidden_channels=4, num_levels=None, seed=1)
    x = tf.random.stateless_normal([8, 4, 4, 1], seed=[1, 2])
    model.data_dependent_init(x)
    variables = model.trainable_variables
    for i in range(steps):
        batch = x + 0.1 * tf.random.stateless_normal(x.shape, seed=[3, i])
        with tf.GradientTape() as tape:
            loss = -tf.reduce_mean(model.log_prob(batch))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables, strict=True))
    return [v.numpy() for v in variables], [v.numpy() for v in optimizer.variables]


def test_fused_adam_equals_keras_adam_with_schedule_and_clipping():
    from unigen.models.flows._base import WarmupSchedule

    def kwargs():
        return dict(learning_rate=WarmupSchedule(0.05, 3), beta_1=0.8, epsilon=1e-6,
                    global_clipnorm=1.0)

    ours, ours_state = _train(FusedAdam(**kwargs()))
    reference, reference_state = _train(keras.optimizers.Adam(**kwargs()))
    assert len(ours_state) == len(reference_state)  # the same optimizer variables
    moved = max(float(np.abs(a - b).max()) for a, b in zip(ours, _train(
        keras.optimizers.Adam(**kwargs()), steps=0)[0], strict=True))
    assert moved > 1e-2  # the steps did change the weights
    for a, b in zip(ours + ours_state, reference + reference_state, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # steps of 0.05: rounding only


def test_fused_adam_runs_one_kernel_per_variable_and_round_trips():
    optimizer = FusedAdam(1e-3)
    variables = [keras.Variable(np.ones((3, 2), "float32")), keras.Variable(np.zeros(2, "float32"))]
    optimizer.build(variables)

    @tf.function
    def step():
        optimizer.apply([tf.ones((3, 2)), tf.ones(2)], variables)

    kinds = [op.type for op in step.get_concrete_function().graph.get_operations()]
    assert kinds.count("ResourceApplyAdam") == 2
    assert "AssignSubVariableOp" not in kinds
    clone = keras.optimizers.deserialize(keras.optimizers.serialize(optimizer))
    assert type(clone) is FusedAdam and clone.get_config() == optimizer.get_config()


def test_flow_models_default_to_the_fused_adam():
    model = unigen.models.Glow(image_shape=(4, 4, 1), levels=1, steps_per_level=1,
                               hidden_channels=4, num_levels=None)
    assert type(model._default_optimizer(1e-3)) is FusedAdam
