"""Training steps of `VAE`: KL / IWAE, MMD and adversarial regularisers.

Every mean loss goes through `scale_loss_for_replicas` and all noise comes from
the model's `SeedGenerator` through `global_batch_noise`, so a step on R
replicas matches a step on one device: the KL and IWAE objectives and the
critic's losses are means over examples, and MMD^2 is computed on the codes of
the whole global batch, gathered from all replicas. (A Wasserstein critic's
gradient penalty draws its interpolation weights per replica, so it is the
one exception.)
"""

import keras
import tensorflow as tf

from unigen.models.vae import _objectives as obj
from unigen.training._distribute import global_batch_noise, scale_loss_for_replicas

__all__ = ["VAETrainingMixin"]


def _split(data):
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


def _gather_replicas(*tensors):
    """The whole global batch of each tensor on every replica (differentiable).

    MMD^2 is a statistic of the whole batch, not a mean over examples; gathering
    makes every replica compute the one-device value. The gradient of
    `all_gather` sums over replicas and keeps each replica's slice, so after
    `scale_loss_for_replicas` the summed gradients equal the one-device ones.
    """
    context = tf.distribute.get_replica_context()
    if tf.distribute.get_strategy().num_replicas_in_sync == 1 or context is None:
        return tensors
    return tuple(context.all_gather(t, axis=0) for t in tensors)


class VAETrainingMixin:
    """`train_step`, `test_step`, optimizers and state of a `VAE`."""

    def call(self, inputs, training=False):
        """Per-example one-sample ELBO (beta = 1) of ``x`` or ``(x, labels)``."""
        x, labels = _split(inputs)
        x = self._preprocess(x)
        onehot = self._one_hot(labels, tf.shape(x)[0])
        eps = keras.random.normal((tf.shape(x)[0], 1, self.latent_dim),
                                  seed=self._eval_seed_generator)
        loc, scale, _, log_px_z, log_pz, log_qz = self._forward(x, onehot, eps)
        kl, _ = obj.kl_to_prior(self._kl, loc, scale, self.prior.distribution(),
                                log_qz, log_pz)
        return tf.reduce_mean(log_px_z, 1) - kl

    # --------------------------------------------------------------- noise
    def _noise(self, generator, batch, samples):
        def draw(n):
            return keras.random.normal((n, samples, self.latent_dim), seed=generator)
        return global_batch_noise(draw, batch)

    def _prior_samples(self, generator, batch):
        def draw(n):
            normal = keras.random.normal((n, self.latent_dim), seed=generator)
            uniform = keras.random.uniform((n, 1), seed=generator)
            return tf.concat([normal, uniform], 1)
        noise = global_batch_noise(draw, batch)
        return self.prior.sample_from_noise(noise[:, :self.latent_dim],
                                            noise[:, self.latent_dim:])

    # ------------------------------------------------------------ objective
    def _objective(self, x, onehot, generator, weight):
        """(per-replica scalar loss, dict of per-replica metric values)."""
        batch = tf.shape(x)[0]
        eps = self._noise(generator, batch, self.iwae_samples)
        loc, scale, z, log_px_z, log_pz, log_qz = self._forward(x, onehot, eps)
        kl, _ = obj.kl_to_prior(self._kl, loc, scale, self.prior.distribution(),
                                log_qz, log_pz)
        reconstruction = -tf.reduce_mean(log_px_z, 1)
        values = {"reconstruction": tf.reduce_mean(reconstruction),
                  "kl": tf.reduce_mean(kl)}
        if self.regularizer == "kl":
            if self.iwae_samples > 1:
                per_example = -obj.iwae_bound(log_px_z, log_pz, log_qz, weight)
            else:
                per_example = reconstruction + weight * kl
            loss = tf.reduce_mean(per_example)
        elif self.regularizer == "mmd":
            prior_z, codes = _gather_replicas(self._prior_samples(generator, batch), z[:, 0])
            mmd = self.divergence.generator_loss_from_samples(prior_z, codes)
            values["mmd"] = mmd
            loss = values["reconstruction"] + weight * mmd
        else:
            fake = self._critic(z[:, 0])
            loss = values["reconstruction"] + weight * self.divergence.generator_loss(fake)
        values["loss"] = loss
        return loss, values

    @property
    def _kl(self):
        from unigen import divergences as ud
        return self.divergence if self.regularizer == "kl" else ud.KLDivergence()

    def _autoencoder_variables(self):
        # An adversarial autoencoder matches a fixed prior: its prior gets no gradient.
        prior = [] if self.regularizer == "adversarial" else self.prior.trainable_variables
        return (self.encoder.trainable_variables + self.decoder.trainable_variables
                + self.likelihood.trainable_variables + prior)

    def _update_trackers(self, values, batch):
        for name, value in values.items():
            self._trackers[name].update_state(value, sample_weight=batch)

    def train_step(self, data):
        x, labels = _split(data)
        x = self._preprocess(x)
        batch = tf.shape(x)[0]
        onehot = self._one_hot(labels, batch)
        values = {}
        if self.regularizer == "adversarial":
            values["discriminator_loss"] = self._discriminator_step(x, onehot)
        weight = self.beta * obj.warmup_weight(self.optimizer.iterations,
                                               self.kl_warmup_steps)
        variables = self._autoencoder_variables()
        with tf.GradientTape() as tape:
            loss, terms = self._objective(x, onehot, self.seed_generator, weight)
            scaled = self.optimizer.scale_loss(scale_loss_for_replicas(loss))
        grads = tape.gradient(scaled, variables)
        self.optimizer.apply_gradients(zip(grads, variables, strict=True))
        self._update_trackers({**terms, **values}, batch)
        return {m.name: m.result() for m in self.metrics}

    def _discriminator_step(self, x, onehot):
        batch = tf.shape(x)[0]
        real = self._prior_samples(self.seed_generator, batch)
        eps = self._noise(self.seed_generator, batch, 1)
        loc, scale = self._posterior_params(x, onehot)
        fake = tf.stop_gradient(loc + scale * eps[:, 0])
        variables = self.discriminator.trainable_variables
        with tf.GradientTape() as tape:
            loss = self.divergence.discriminator_loss(self._critic(real), self._critic(fake))
            loss += self.divergence.critic_penalty(self._critic, real, fake,
                                                   seed=self.seed_generator)
            scaled = self.discriminator_optimizer.scale_loss(scale_loss_for_replicas(loss))
        grads = tape.gradient(scaled, variables)
        self.discriminator_optimizer.apply_gradients(zip(grads, variables, strict=True))
        self.divergence.apply_constraints(variables)
        return loss

    def _critic(self, z):
        """Latent discriminator outputs, float32 whatever its precision."""
        return tf.cast(self.discriminator(z), "float32")

    def test_step(self, data):
        x, labels = _split(data)
        x = self._preprocess(x)
        batch = tf.shape(x)[0]
        onehot = self._one_hot(labels, batch)
        _, terms = self._objective(x, onehot, self._eval_seed_generator, self.beta)
        if self.regularizer == "adversarial":
            terms["discriminator_loss"] = tf.constant(0.0)
        self._update_trackers(terms, batch)
        return {m.name: m.result() for m in self.metrics}

    # ---------------------------------------------------- optimizers, state
    def compile(self, *args, **kwargs):
        """`keras.Model.compile`, after building the networks (so that plain
        ``vae.compile(...); vae.fit(...)`` works as well as `unigen.fit`)."""
        self._ensure_built()
        super().compile(*args, **kwargs)

    def compile_for_fit(self, *, learning_rate=1e-3, optimizer=None, **compile_kwargs):
        """Adam (or ``optimizer``) for the autoencoder; for an adversarial
        divergence also Adam(learning_rate, beta_1=0.5) for the discriminator."""
        if optimizer is None:
            optimizer = keras.optimizers.Adam(learning_rate)
        self.compile(optimizer=optimizer, **compile_kwargs)
        if self.regularizer == "adversarial":
            self.discriminator_optimizer = self._loss_scaled(
                keras.optimizers.Adam(learning_rate, beta_1=0.5))
        self._build_optimizers()

    def _build_optimizers(self):
        self._ensure_built()
        if getattr(self, "optimizer", None) is not None and not self.optimizer.built:
            self.optimizer.build(self._autoencoder_variables())
        disc = self.discriminator_optimizer
        if disc is not None and not disc.built:
            disc.build(self.discriminator.trainable_variables)

    def training_state(self):
        """Model variables, then the autoencoder's and the discriminator's optimizer."""
        if getattr(self, "optimizer", None) is None:
            return list(self.variables)
        self._build_optimizers()
        state = list(self.variables) + list(self.optimizer.variables)
        if self.discriminator_optimizer is not None:
            state += list(self.discriminator_optimizer.variables)
        return state

    def get_compile_config(self):
        config = super().get_compile_config()
        if self.discriminator_optimizer is not None:
            config = {**config, "discriminator_optimizer":
                      keras.saving.serialize_keras_object(self.discriminator_optimizer)}
        return config

    def compile_from_config(self, config):
        config = dict(config)
        disc = config.pop("discriminator_optimizer", None)
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if disc is not None:
            self.discriminator_optimizer = keras.saving.deserialize_keras_object(disc)
        if self.built:
            self._build_optimizers()
