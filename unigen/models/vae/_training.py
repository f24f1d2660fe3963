"""Training steps of `VAE`: KL / IWAE, MMD and adversarial regularisers.

Every mean loss goes through `scale_loss_for_replicas` and all noise comes from
the model's `SeedGenerator` through `global_batch_noise`, so a step on R
replicas matches a step on one device: the KL and IWAE objectives and the
critic's losses are means over examples, and a divergence estimated from samples (MMD^2)
is computed on the codes of the whole global batch, gathered from all
replicas; the latent critic is a `unigen.adversarial.Critic`, whose update and
penalty are the same on any layout.
"""

import tensorflow as tf

from unigen import _random
from unigen.adversarial import adversarial_loss
from unigen.models.vae import _objectives as obj
from unigen.training._distribute import global_batch_noise, minimize

__all__ = ["VAETrainingMixin"]


def _split(data):
    if isinstance(data, (tuple, list)):
        return data[0], (data[1] if len(data) > 1 else None)
    return data, None


class VAETrainingMixin:
    """`train_step`, `test_step`, optimizers and state of a `VAE`."""

    def call(self, inputs, training=False):
        """Per-example one-sample ELBO (beta = 1) of ``x`` or ``(x, labels)``."""
        x, labels = _split(inputs)
        x = self._preprocess(x)
        onehot = self._one_hot(labels, tf.shape(x)[0])
        eps = _random.normal((tf.shape(x)[0], 1, self.latent_dim),
                                  seed=self._eval_noise_generator)
        loc, scale, _, log_px_z, log_pz, log_qz = self._forward(x, onehot, eps)
        kl, _ = obj.kl_to_prior(self._kl, loc, scale, self.prior.distribution(),
                                log_qz, log_pz)
        return tf.reduce_mean(log_px_z, 1) - kl

    # --------------------------------------------------------------- noise
    def _noise(self, generator, batch, samples):
        def draw(n):
            return _random.normal((n, samples, self.latent_dim), seed=generator)
        return global_batch_noise(draw, batch)

    def _prior_samples(self, generator, batch):
        def draw(n):
            normal = _random.normal((n, self.latent_dim), seed=generator)
            uniform = _random.uniform((n, 1), seed=generator)
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
        else:
            # The aggregate posterior against the prior: from samples (gathered
            # over replicas), or through the latent critic.
            prior_z = (self._prior_samples(generator, batch) if self.critic is None
                       else None)
            term = adversarial_loss(self.divergence, self.critic, prior_z, z[:, 0])
            if self.critic is None:
                values[self.divergence.short_name or "regularizer"] = term
            loss = values["reconstruction"] + weight * term
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
        if self.critic is not None:
            values.update(self._critic_step(x, onehot, self.noise_generator, train=True))
        weight = self.beta * obj.warmup_weight(self.optimizer.iterations,
                                               self.kl_warmup_steps)
        _, terms = minimize(
            self.optimizer, lambda: self._objective(x, onehot, self.noise_generator, weight),
            self._autoencoder_variables())
        self._update_trackers({**terms, **values}, batch)
        return {m.name: m.result() for m in self.metrics}

    def _critic_step(self, x, onehot, generator, train):
        """Prior samples (real) against posterior codes (fake) for the latent critic."""
        batch = tf.shape(x)[0]
        real = self._prior_samples(generator, batch)
        eps = self._noise(generator, batch, 1)
        loc, scale = self._posterior_params(x, onehot)
        fake = tf.stop_gradient(loc + scale * eps[:, 0])
        if train:
            logs = self.critic.step(real, fake, seed=generator)
        else:
            logs = self.critic.loss(real, fake, seed=generator, training=False)[1]
        return {name: logs[name] for name in self.critic.metric_names}

    def test_step(self, data):
        x, labels = _split(data)
        x = self._preprocess(x)
        batch = tf.shape(x)[0]
        onehot = self._one_hot(labels, batch)
        _, terms = self._objective(x, onehot, self._eval_noise_generator, self.beta)
        if self.critic is not None:
            terms.update(self._critic_step(x, onehot, self._eval_noise_generator, train=False))
        self._update_trackers(terms, batch)
        return {m.name: m.result() for m in self.metrics}

    def _optimizer_variables(self):
        return self._autoencoder_variables()
