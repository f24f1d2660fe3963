"""The GAN's training step: alternating critic and generator updates.

A mixin of `unigen.GAN` (which owns the networks, heads and options); split
out to keep each file to one job. Every loss is a per-replica mean scaled by
`scale_loss_for_replicas`, and all noise comes from the model's
`keras.random.SeedGenerator` through `global_batch_noise`, so R replicas train
exactly as one device does.
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen.adversarial import adversarial_loss
from unigen.models.gan import _ops as ops
from unigen.training._distribute import global_batch_noise, minimize

__all__ = []


class GANTrainingMixin:
    """``train_step`` / ``test_step`` of `unigen.GAN`."""

    def _noise(self, per_replica_batch, shape):
        return global_batch_noise(
            lambda n: _random.normal((n, *shape), seed=self.noise_generator),
            per_replica_batch)

    def _with_instance_noise(self, x, batch):
        if not self.instance_noise:
            return x
        scale = ops.annealed_scale(self.instance_noise, self.optimizer.iterations,
                                   self.instance_noise_steps)
        return x + scale * self._noise(batch, self.event_shape)

    def _discriminator_step(self, real, labels, batch, context=None):
        fake = self._generate(self._noise(batch, (self.latent_dim,)), labels, training=True)
        return self.critic.step(self._with_instance_noise(real, batch),
                                self._with_instance_noise(fake, batch),
                                labels if context is None else context,
                                seed=self.noise_generator)

    def _generator_step(self, real, labels, batch, context=None):
        z = self._noise(batch, (self.latent_dim,))

        def loss():
            fake = self._generate(z, labels, training=True)
            if self.critic is not None:
                fake = self._with_instance_noise(fake, batch)
            loss = adversarial_loss(self.divergence, self.critic, real, fake,
                                    labels if context is None else context)
            if self.orthogonal_regularization:
                loss += self.orthogonal_regularization * self.orthogonal_penalty()
            return loss

        return minimize(self.optimizer, loss, self.generator.trainable_variables)

    def _update_average(self):
        """average <- d_t average + (1 - d_t) weight, d_t = min(ema_decay, (1 + t) / (10 + t)).

        t counts generator updates done (the optimizer's iterations, already
        incremented by this step). The warm-up d_t (the ``num_updates`` rule of
        `tf.train.ExponentialMovingAverage`) lets the average forget the random
        initial weights early on: with a constant 0.999 they would still weigh
        0.999^400 = 67% after 400 steps.
        """
        step = tf.cast(self.optimizer.iterations, "float32")
        decay = tf.minimum(tf.constant(self.ema_decay, "float32"), (1.0 + step) / (10.0 + step))
        for average, weight in zip(self.ema_generator.weights, self.generator.weights,
                                   strict=True):
            if weight.trainable:
                average.assign(decay * average + (1.0 - decay) * weight)
            else:
                average.assign(weight)

    def _critic_context(self, y):
        """The semi-supervised critic's labels (-1: unlabelled), else None."""
        if self.semi_supervised_classes is None:
            return None
        if y is None:
            raise ValueError("A semi-supervised GAN trains on (x, y) pairs, y in 0..K-1 for "
                             "labelled and -1 for unlabelled examples; got data without y.")
        return tf.reshape(tf.cast(y, "int32"), [-1])

    def _labels(self, y):
        if self.num_classes is None:
            return None
        if y is None:
            raise ValueError("A conditional GAN (num_classes set) trains on (x, y) "
                             "pairs with integer labels y; got data without labels.")
        return tf.reshape(tf.cast(y, "int32"), [-1])

    def train_step(self, data):
        """One round: ``discriminator_steps`` critic updates, one generator update."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        labels = self._labels(y)
        context = self._critic_context(y)
        real = self._preprocess(x)
        batch = tf.shape(real)[0]
        logs = {}
        if self.critic is not None:
            for _ in range(self.discriminator_steps):
                logs = self._discriminator_step(real, labels, batch, context)
        logs["loss"] = self._generator_step(real, labels, batch, context)
        if self.ema_generator is not None:
            self._update_average()
        for name, tracker in self._trackers.items():
            tracker.update_state(logs[name])
        return self.get_metrics_result()

    def test_step(self, data):
        """Reports the generator and critic losses on a batch without updates."""
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        labels = self._labels(y)
        context = self._critic_context(y)
        if context is not None:
            labels = context
        real = self._preprocess(x)
        # A fixed stateless seed: validation neither consumes nor depends on the
        # training noise stream, so it does not change the training trajectory.
        z = global_batch_noise(lambda n: _random.normal((n, self.latent_dim), seed=0),
                               tf.shape(real)[0])
        fake = self._generate(z, labels, training=False)
        logs = {"loss": adversarial_loss(self.divergence, self.critic, real, fake, labels)}
        if self.critic is not None:
            logs["critic_loss"] = self.critic.loss(real, fake, labels, seed=0,
                                                   training=False)[1]["critic_loss"]
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: value for name, value in self.get_metrics_result().items()
                if name in logs}

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Keras builds a model on a batch it averages across replicas; under
        # MultiWorkerMirroredStrategy that average fails for (x, int labels)
        # batches. A GAN is fully built by `build` and `compile`: skip it then.
        if self.built and all(layer.built for layer in self._flatten_layers()):
            return None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)
