"""Sequence GANs: a `SequenceNetwork` generator against a `unigen.adversarial.Critic`.

A sampled token is the argmax of a noisy score: no gradient reaches the
generator through it. The two GANs here get one anyway:

* `GumbelGAN` feeds the critic the Gumbel-softmax relaxation of each sample
  (relaxed one-hots, temperature tau annealed towards 0), differentiable in the
  generator's logits (Kusner and Hernandez-Lobato 2016; Jang et al. 2017).
* `SeqGAN` keeps hard samples and uses the score-function (REINFORCE) gradient
  of the expected reward R(x) = -l_G(v(x)), the divergence's generator loss of
  the critic's value on one sequence, with a moving-average baseline (Yu et al.
  2017; Williams 1992).

The critic is a `unigen.adversarial.Critic` on one-hot sequences ``[B, T, V]``
(`conv_critic`, a 1-D convolutional classifier), trained by its one update
`Critic.step` on any critic-based divergence. Both generators are autoregressive
models with an exact ``log_prob``; ``pretrain_steps`` first trains the generator
by maximum likelihood (or start from a trained `SequenceModel` with ``from_mle``).
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen import divergences as ud
from unigen.adversarial import Critic, adversarial_loss
from unigen.base import GenerativeModel
from unigen.models.sequence._estimators import (
    SCHEDULES,
    gumbel_noise,
    gumbel_temperature,
    reinforce_surrogate,
)
from unigen.models.sequence._model import SequenceGeneratorMixin
from unigen.training._distribute import gather_global_batch, global_batch_noise, minimize

__all__ = ["GumbelGAN", "SeqGAN", "conv_critic"]


def conv_critic(vocab_size, length, filters=64, kernel_size=3):
    """A 1-D convolutional critic on one-hot sequences ``[B, length, vocab_size]`` -> ``[B, 1]``.

    Two convolutions (leaky ReLU), a max over positions and a dense output.
    """
    return keras.Sequential([
        keras.Input((int(length), int(vocab_size))),
        keras.layers.Conv1D(filters, kernel_size, padding="same", activation="leaky_relu"),
        keras.layers.Conv1D(filters, kernel_size, padding="same", activation="leaky_relu"),
        keras.layers.GlobalMaxPooling1D(),
        keras.layers.Dense(1),
    ], name="sequence_critic")


class _SequenceGAN(SequenceGeneratorMixin, GenerativeModel):
    """Shared set-up of `GumbelGAN` and `SeqGAN`: networks, critic, pre-training, metrics."""

    _extra_metrics = ()

    def __init__(self, event_shape, num_levels="auto", *, divergence="js", embedding_dim=32,
                 hidden_units=64, cell="gru", critic_filters=64, discriminator=None,
                 discriminator_steps=1, pretrain_steps=0, discriminator_learning_rate=None,
                 seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self._init_network(embedding_dim, hidden_units, cell)
        self.divergence = ud.get(divergence)
        self.critic_filters = int(critic_filters)
        if isinstance(discriminator, dict):
            discriminator = keras.saving.deserialize_keras_object(discriminator)
        self._custom_critic = discriminator is not None
        if discriminator is None:
            discriminator = conv_critic(self.num_levels, self.event_shape[0],
                                        self.critic_filters)
        self.critic = Critic(discriminator, self.divergence)
        self.discriminator_steps = int(discriminator_steps)
        self.pretrain_steps = int(pretrain_steps)
        if self.discriminator_steps < 1 or self.pretrain_steps < 0:
            raise ValueError(f"`discriminator_steps` must be >= 1 and `pretrain_steps` >= 0, "
                             f"got {discriminator_steps} and {pretrain_steps}.")
        self.discriminator_learning_rate = discriminator_learning_rate
        names = ["loss", *self.critic.metric_names, *self._extra_metrics]
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @classmethod
    def from_mle(cls, model, **options):
        """A GAN whose generator starts from a trained `SequenceModel`'s weights."""
        gan = cls(event_shape=model.event_shape, num_levels=model.num_levels,
                  **{**model._network_config(), **options})
        gan._ensure_built()
        model._ensure_built()
        gan.network.set_weights(model.network.get_weights())
        return gan

    @property
    def metrics(self):
        return list(self._trackers.values())

    def build(self, input_shape=None):
        del input_shape
        if not self.network.built:
            self.network.build()
        self.critic.build((None, self.event_shape[0], self.num_levels))
        self.built = True

    # ------------------------------------------------------------ training
    def _one_hot(self, tokens):
        return tf.one_hot(tokens, self.num_levels)

    def _gumbel(self, batch):
        shape = (self.event_shape[0], self.num_levels)
        return gumbel_noise(global_batch_noise(
            lambda n: _random.uniform((n, *shape), seed=self.noise_generator), batch))

    def _pretraining(self):
        return self.optimizer.iterations < self.pretrain_steps

    def _generator_loss(self, real_tokens, adversarial):
        """MLE loss during the first ``pretrain_steps`` updates, then ``adversarial()``."""
        if not self.pretrain_steps:
            return adversarial()
        return tf.cond(self._pretraining(),
                       lambda: -tf.reduce_mean(self.network.log_prob(real_tokens,
                                                                     training=True)),
                       adversarial)

    def train_step(self, data):
        """``discriminator_steps`` critic updates, then one generator update."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        tokens = self._preprocess(x)
        logs = self._train_step(tokens, self._one_hot(tokens), tf.shape(tokens)[0])
        for name, tracker in self._trackers.items():
            tracker.update_state(logs[name])
        return self.get_metrics_result()

    def test_step(self, data):
        """Validation ``loss``: the NLL of the batch in nats per sequence."""
        x, _, _ = keras.utils.unpack_x_y_sample_weight(data)
        nll = -tf.reduce_mean(self.network.log_prob(self._preprocess(x)))
        self._trackers["loss"].update_state(nll)
        return {"loss": self._trackers["loss"].result()}

    # ------------------------------------------------------------ config
    def get_config(self):
        return {**super().get_config(), **self._network_config(),
                "divergence": ud.serialize(self.divergence),
                "critic_filters": self.critic_filters,
                "discriminator": (keras.saving.serialize_keras_object(self.critic.network)
                                  if self._custom_critic else None),
                "discriminator_steps": self.discriminator_steps,
                "pretrain_steps": self.pretrain_steps,
                "discriminator_learning_rate": self.discriminator_learning_rate}


@keras.saving.register_keras_serializable(package="unigen")
class GumbelGAN(_SequenceGAN):
    """A sequence GAN trained through the Gumbel-softmax relaxation of its samples.

    Each step draws Gumbel noise g [B, T, V] and generates relaxed one-hots
    y_t = softmax((logits_t + g_t) / tau) token by token, each fed back as the
    next input (`SequenceNetwork.generate`); the critic sees y against one-hot
    data, and the generator minimises ``divergence.generator_loss(v(y))``,
    differentiable in its weights. tau follows ``temperature_schedule`` from
    ``initial_temperature`` to ``final_temperature`` over ``anneal_steps``
    generator updates (`gumbel_temperature`): a high tau gives low-variance but
    biased gradients (the critic tells soft from one-hot vectors), tau -> 0 the
    exact discrete samples with high-variance gradients.

    Args:
        event_shape, num_levels: ``(T,)`` and the vocabulary size V.
        divergence: the critic's game (a `unigen.divergences` name or instance).
        initial_temperature, final_temperature, anneal_steps, temperature_schedule:
            the relaxation temperature schedule ("exponential", "linear" or
            "constant").
        straight_through: the critic sees hard one-hots in the forward pass and
            the relaxation's gradient in the backward pass.
        embedding_dim, hidden_units, cell: the generator (`SequenceModel`'s).
        critic_filters: width of the default `conv_critic`; ``discriminator``
            replaces it with any Keras model on ``[B, T, V]``.
        discriminator_steps: critic updates per generator update.
        pretrain_steps: generator updates by maximum likelihood before the game.
        discriminator_learning_rate: the critic's Adam rate (None: the model's).
        seed: seed of the weights and the training noise.

    References:
        Kusner and Hernandez-Lobato. "GANs for Sequences of Discrete Elements
        with the Gumbel-softmax Distribution." arXiv:1611.04051, 2016.
        Jang, Gu and Poole. "Categorical Reparameterization with Gumbel-Softmax."
        ICLR 2017.
    """

    _extra_metrics = ("temperature",)

    def __init__(self, event_shape, num_levels="auto", *, initial_temperature=1.0,
                 final_temperature=0.1, anneal_steps=2000, temperature_schedule="exponential",
                 straight_through=False, **kwargs):
        if temperature_schedule not in SCHEDULES:
            raise ValueError(f"`temperature_schedule` must be one of {list(SCHEDULES)}, got "
                             f"{temperature_schedule!r}.")
        if not 0 < final_temperature <= initial_temperature:
            raise ValueError(f"Need 0 < final_temperature <= initial_temperature, got "
                             f"{final_temperature} and {initial_temperature}.")
        super().__init__(event_shape, num_levels, **kwargs)
        self.initial_temperature = float(initial_temperature)
        self.final_temperature = float(final_temperature)
        self.anneal_steps = int(anneal_steps)
        self.temperature_schedule = temperature_schedule
        self.straight_through = bool(straight_through)

    def relaxation_temperature(self):
        """tau now, from the generator's update count (`gumbel_temperature`)."""
        step = self.optimizer.iterations if getattr(self, "optimizer", None) else 0
        return gumbel_temperature(step, self.initial_temperature, self.final_temperature,
                                  self.anneal_steps, self.temperature_schedule)

    def _relaxed(self, noise, tau):
        return self.network.generate(noise, 1.0, relaxation=tau,
                                     straight_through=self.straight_through, training=True)[1]

    def _train_step(self, tokens, real, batch):
        tau = self.relaxation_temperature()
        logs = {}
        for _ in range(self.discriminator_steps):
            fake = self._relaxed(self._gumbel(batch), tau)
            logs = self.critic.step(real, fake, seed=self.noise_generator)
        noise = self._gumbel(batch)

        def loss():
            return self._generator_loss(tokens, lambda: adversarial_loss(
                self.divergence, self.critic, real, self._relaxed(noise, tau)))

        logs["loss"] = minimize(self.optimizer, loss, self.network.trainable_variables)
        logs["temperature"] = tau
        return logs

    def get_config(self):
        return {**super().get_config(), "initial_temperature": self.initial_temperature,
                "final_temperature": self.final_temperature, "anneal_steps": self.anneal_steps,
                "temperature_schedule": self.temperature_schedule,
                "straight_through": self.straight_through}


@keras.saving.register_keras_serializable(package="unigen")
class SeqGAN(_SequenceGAN):
    """A sequence GAN trained by REINFORCE: the critic's verdict is the reward.

    Each step samples hard sequences x_i (no gradient), updates the critic on
    them against one-hot data, and rewards each with R_i = -l_G(v(x_i)), the
    divergence's generator loss on that one sequence (log D(x_i) for "js").
    The generator minimises `reinforce_surrogate`: -mean_i (R_i - b) log p(x_i),
    an unbiased estimate of -grad E[R]; b is a moving average of the mean reward
    over past global batches, b <- d b + (1 - d) mean_i R_i, updated after the
    step (so b never depends on the sequences it weighs).

    Args:
        baseline_decay: d.
        Others: as `GumbelGAN` (no temperature options).

    References:
        Yu, Zhang, Wang and Yu. "SeqGAN: Sequence Generative Adversarial Nets
        with Policy Gradient." AAAI 2017.
        Williams. "Simple statistical gradient-following algorithms for
        connectionist reinforcement learning." Machine Learning 8, 1992.
    """

    _extra_metrics = ("reward", "baseline")

    def __init__(self, event_shape, num_levels="auto", *, baseline_decay=0.9, **kwargs):
        super().__init__(event_shape, num_levels, **kwargs)
        self.baseline_decay = float(baseline_decay)
        if not 0.0 <= self.baseline_decay < 1.0:
            raise ValueError(f"`baseline_decay` must be in [0, 1), got {baseline_decay!r}.")
        self.baseline = self.add_weight(shape=(), initializer="zeros", trainable=False,
                                        name="baseline", aggregation="only_first_replica")

    def rewards(self, tokens):
        """R(x) = -l_G(v(x)) per sequence, float32 [B]: the divergence's generator loss on one."""
        values = self.critic(self._one_hot(tokens))
        return -tf.vectorized_map(lambda v: self.divergence.generator_loss(v[None]), values)

    def _train_step(self, tokens, real, batch):
        fake_tokens = self.network.generate(self._gumbel(batch))
        logs = {}
        for _ in range(self.discriminator_steps):
            logs = self.critic.step(real, self._one_hot(fake_tokens), seed=self.noise_generator)
        rewards = tf.stop_gradient(self.rewards(fake_tokens))
        baseline = tf.identity(self.baseline)

        def loss():
            return self._generator_loss(tokens, lambda: reinforce_surrogate(
                self.network.log_prob(fake_tokens, training=True), rewards, baseline))

        logs["loss"] = minimize(self.optimizer, loss, self.network.trainable_variables)
        mean_reward = tf.reduce_mean(gather_global_batch(rewards))
        self.baseline.assign(self.baseline_decay * baseline
                             + (1.0 - self.baseline_decay) * mean_reward)
        logs["reward"], logs["baseline"] = mean_reward, baseline
        return logs

    def get_config(self):
        return {**super().get_config(), "baseline_decay": self.baseline_decay}
