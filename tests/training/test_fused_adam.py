"""`unigen.training.FusedAdam`: Keras's Adam as one ResourceApplyAdam per variable (#18)."""

import os
import sys

import keras
import numpy as np
import pytest
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


def _toy_steps(optimizer, steps=5, scale=1.0):
    """Steps on a small quadratic whose gradients rise and fall (so clipping and
    amsgrad's running maximum act)."""
    variables = [keras.Variable(np.linspace(-1.0, 2.0, 6, dtype="float32").reshape(3, 2)),
                 keras.Variable(np.array([0.5, -3.0], "float32"))]
    target = tf.constant(np.arange(6, dtype="float32").reshape(3, 2))
    for i in range(steps):
        with tf.GradientTape() as tape:
            factor = (10.0, 10.0, 0.1, 1.0, 0.1)[i % 5]
            loss = (factor * tf.reduce_sum(tf.square(variables[0] - target))
                    + tf.reduce_sum(tf.abs(variables[1])))
        grads = [scale * g for g in tape.gradient(loss, variables)]
        optimizer.apply_gradients(zip(grads, variables, strict=True))
    optimizer.finalize_variable_values(variables)  # as `fit` ends: the EMA weights if use_ema
    return [v.numpy() for v in variables] + [v.numpy() for v in optimizer.variables]


# The options unigen's families use (beta_1=0.5, global_clipnorm, use_ema) and the
# ones Keras applies outside ``update_step`` (weight_decay, clipnorm, clipvalue).
OPTIONS = {"gan": dict(learning_rate=0.1, beta_1=0.5),
           "global_clipnorm": dict(learning_rate=0.1, global_clipnorm=0.5),
           "clipnorm": dict(learning_rate=0.1, clipnorm=0.3),
           "clipvalue": dict(learning_rate=0.1, clipvalue=0.2),
           "weight_decay": dict(learning_rate=0.1, weight_decay=0.3),
           "ema": dict(learning_rate=0.1, use_ema=True, ema_momentum=0.5),
           "amsgrad": dict(learning_rate=0.1, beta_2=0.5, amsgrad=True)}


@pytest.mark.parametrize("name", sorted(OPTIONS))
def test_fused_adam_honours_keras_adams_options(name):
    ours = _toy_steps(FusedAdam(**OPTIONS[name]))
    reference = _toy_steps(keras.optimizers.Adam(**OPTIONS[name]))
    plain = _toy_steps(keras.optimizers.Adam(
        **{k: v for k, v in OPTIONS[name].items() if k in ("learning_rate", "beta_2")}))
    assert len(ours) == len(reference)
    # the option changes the result, and the fused update follows it
    assert max(float(np.abs(a - b).max()) for a, b in zip(reference[:2], plain[:2],
                                                          strict=True)) > 1e-2
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # float rounding


def test_fused_adam_under_loss_scaling_equals_keras_adam():
    """Mixed precision wraps the default optimizer in a LossScaleOptimizer; the
    wrapper divides the (scaled) gradients and applies its inner optimizer."""
    def wrapped(cls):
        return keras.optimizers.LossScaleOptimizer(cls(0.1, beta_1=0.5),
                                                   initial_scale=64.0)

    ours = _toy_steps(wrapped(FusedAdam), scale=64.0)
    reference = _toy_steps(wrapped(keras.optimizers.Adam), scale=64.0)
    for a, b in zip(ours, reference, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)  # float rounding


def _tiny_gan():
    return unigen.models.MLPGAN(event_shape=(2,), latent_dim=2, hidden_units=(8,), seed=1)


def test_every_family_defaults_to_the_fused_adam_for_model_and_critics():
    gan = _tiny_gan()
    gan.compile()  # plain compile: Adam(2e-4, beta_1=0.5) for generator and critic
    assert [type(o) for o in [gan.optimizer, *(c.optimizer for c in gan.critics)]] == [
        FusedAdam, FusedAdam]
    assert gan.optimizer.beta_1 == 0.5 and gan.critics[0].optimizer.beta_1 == 0.5
    gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=2, hidden_units=(8,), seed=1,
                               generator_learning_rate=1e-4, discriminator_learning_rate=4e-4)
    gan.compile_for_fit(learning_rate=1e-3)  # two learning rates (TTUR) kept
    critic = gan.critics[0].optimizer
    assert type(gan.optimizer) is FusedAdam and type(critic) is FusedAdam
    assert np.isclose(float(gan.optimizer.learning_rate), 1e-4)
    assert np.isclose(float(critic.learning_rate), 4e-4) and critic.beta_1 == 0.5
    vae = unigen.models.VAE(input_shape=(4, 4, 1), num_levels=17, latent_dim=2)
    glow = unigen.models.Glow(image_shape=(4, 4, 1), levels=1, steps_per_level=1,
                              hidden_channels=4, num_levels=None)
    for model in (vae, glow):
        assert type(model._default_optimizer(1e-3)) is FusedAdam
    # user-supplied optimizers are left as they are
    gan = _tiny_gan()
    mine = keras.optimizers.Adam(1e-3)
    gan.compile(optimizer=mine, critic_optimizer=keras.optimizers.RMSprop(1e-3))
    assert gan.optimizer is mine
    assert type(gan.critics[0].optimizer) is keras.optimizers.RMSprop


def test_every_registered_configuration_defaults_to_the_fused_adam():
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "models"))
    import contract_models

    for name in contract_models.CONFIGS:
        model = contract_models.build(name)
        made = [model._default_optimizer(1e-3)]
        if model.critics:
            made.append(model._default_critic_optimizer())
        assert [type(o) for o in made] == [FusedAdam] * len(made), name


def test_models_make_their_adam_in_one_place():
    """No family builds a Keras Adam of its own: `_model_state._adam` is the default."""
    root = os.path.join(os.path.dirname(unigen.__file__), "models")
    offenders = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith(".py"):
                with open(os.path.join(folder, name)) as f:
                    if "optimizers.Adam(" in f.read():
                        offenders.append(os.path.join(folder, name))
    assert offenders == []


def test_a_gan_saved_with_keras_adam_loads_trains_and_resumes_with_the_fused_adam(tmp_path):
    data = unigen.datasets.as_numpy("ring8", "train")[:32].astype("float32")
    old = _tiny_gan()
    old.compile(optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5),
                critic_optimizer=keras.optimizers.Adam(1e-3, beta_1=0.5))
    old.fit(data, batch_size=16, epochs=1, verbose=0)
    path = str(tmp_path / "old.keras")
    old.save(path)
    loaded = keras.saving.load_model(path)
    assert type(loaded.optimizer) is keras.optimizers.Adam  # what the file says
    assert int(loaded.optimizer.iterations) == 2
    before = [w.copy() for w in loaded.get_weights()]
    loaded.fit(data, batch_size=16, epochs=1, verbose=0)
    assert int(loaded.optimizer.iterations) == 4
    assert max(float(np.abs(a - b).max()) for a, b in zip(
        before, loaded.get_weights(), strict=True)) > 0
    # a checkpoint of the old default (every variable, moments included) restores
    # into the new default, variable for variable, and trains on
    state = [v.numpy() for v in old.training_state()]
    new = _tiny_gan()
    new.compile_for_fit(learning_rate=1e-3)
    assert type(new.optimizer) is FusedAdam
    target = new.training_state()
    assert [tuple(v.shape) for v in target] == [a.shape for a in state]
    for variable, value in zip(target, state, strict=True):
        variable.assign(value)
    new.fit(data, batch_size=16, epochs=1, verbose=0)
    assert all(np.isfinite(w).all() for w in new.get_weights())
    assert int(new.optimizer.iterations) == 4
