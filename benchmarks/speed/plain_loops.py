"""Hand-written Keras training of unigen's DCGAN, conv VAE and Glow networks.

The baselines of `benchmarks.speed.fit_vs_plain`: what users copy from the
keras-io examples "DCGAN to generate face images", "Variational AutoEncoder"
and "Density estimation using Real NVP": a `keras.Model` subclass holding the
networks, its own ``train_step`` with `tf.GradientTape`, trained by
``Model.fit`` on a ``from_tensor_slices -> shuffle -> batch -> prefetch``
pipeline. The networks are the very Keras layers of a unigen model (taken from
a second instance built with the same arguments), the batch, optimizer and
objective are the same; only the training machinery differs.
"""

import math

import keras
import tensorflow as tf

__all__ = ["PlainFlow", "PlainGAN", "PlainVAE", "plain_dataset", "plain_twin"]

_LOG_2PI = math.log(2.0 * math.pi)


def plain_dataset(x, batch_size, seed=0):
    """The keras-io input pipeline: slices, shuffle, batch, prefetch."""
    ds = tf.data.Dataset.from_tensor_slices(x).shuffle(len(x), seed=seed)
    return ds.batch(batch_size, drop_remainder=True).prefetch(tf.data.AUTOTUNE)


class PlainGAN(keras.Model):
    """keras-io DCGAN: one critic step on real and fake, one generator step.

    Loss: binary cross-entropy on logits (the "js" divergence of unigen),
    critic on softplus(-v(x)) + softplus(v(G(z))), generator on softplus(-v(G(z))).
    """

    def __init__(self, generator, discriminator, latent_dim, num_levels, seed=0):
        super().__init__()
        self.generator, self.discriminator = generator, discriminator
        self.latent_dim, self.num_levels = latent_dim, num_levels
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.built = True

    def compile(self, d_optimizer, g_optimizer):
        super().compile()
        self.d_optimizer, self.g_optimizer = d_optimizer, g_optimizer
        self.d_optimizer.build(self.discriminator.trainable_variables)
        self.g_optimizer.build(self.generator.trainable_variables)

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def train_step(self, real):
        real = tf.cast(real, "float32") / float(self.num_levels - 1) * 2.0 - 1.0
        batch = tf.shape(real)[0]
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        fake = self.generator(z, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.discriminator(real, training=True)
            fake_logits = self.discriminator(fake, training=True)
            d_loss = (tf.reduce_mean(tf.nn.softplus(-real_logits))
                      + tf.reduce_mean(tf.nn.softplus(fake_logits)))
        critic = self.discriminator.trainable_variables
        grads = tape.gradient(d_loss, critic)
        self.d_optimizer.apply_gradients(zip(grads, critic, strict=True))
        z = keras.random.normal((batch, self.latent_dim), seed=self.seed_generator)
        with tf.GradientTape() as tape:
            logits = self.discriminator(self.generator(z, training=True))
            g_loss = tf.reduce_mean(tf.nn.softplus(-logits))
        generator = self.generator.trainable_variables
        grads = tape.gradient(g_loss, generator)
        self.g_optimizer.apply_gradients(zip(grads, generator, strict=True))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


class PlainVAE(keras.Model):
    """keras-io VAE: reparameterised Gaussian posterior, closed-form KL to N(0, I).

    loss = mean_x [ -log p(x | z) + KL(N(mu, sigma^2) || N(0, I)) ], z = mu + sigma eps,
    KL = sum_d (mu_d^2 + sigma_d^2 - 1) / 2 - log sigma_d; sigma = softplus(raw) + 1e-4
    and log p(x | z) from the same likelihood layer as unigen's VAE.
    """

    def __init__(self, encoder, decoder, likelihood, latent_dim, event_shape, num_levels,
                 seed=0):
        super().__init__()
        self.encoder, self.decoder, self.likelihood = encoder, decoder, likelihood
        self.latent_dim, self.num_levels = latent_dim, num_levels
        self.event_size = math.prod(event_shape)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    def train_step(self, x):
        x = tf.cast(x, "float32")
        with tf.GradientTape() as tape:
            out = self.encoder(x * (2.0 / (self.num_levels - 1)) - 1.0)
            loc = out[:, :self.latent_dim]
            scale = tf.nn.softplus(out[:, self.latent_dim:]) + 1e-4
            eps = keras.random.normal(tf.shape(loc), seed=self.seed_generator)
            params = self.decoder(loc + scale * eps)
            k = self.likelihood.params_per_value
            params = tf.reshape(params, [-1, self.event_size, k])
            flat = tf.reshape(x, [-1, self.event_size])
            reconstruction = -tf.reduce_sum(self.likelihood.log_prob(params, flat), -1)
            kl = tf.reduce_sum(0.5 * (tf.square(loc) + tf.square(scale) - 1.0)
                               - tf.math.log(scale), -1)
            loss = tf.reduce_mean(reconstruction + kl)
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


class PlainFlow(keras.Model):
    """keras-io RealNVP: maximum likelihood through the change of variables.

    log p(x) = log N(f(y); 0, I) + log|det df/dy| + log|det dy/dx|, with
    y = (x + u) / L - 1/2 for uniform dequantization noise u (Glow's map).
    """

    def __init__(self, logit, flow, event_shape, seed=0):
        super().__init__()
        self.logit, self.flow = logit, flow
        self.event_size = math.prod(event_shape)
        self.seed_generator = keras.random.SeedGenerator(seed)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.built = True

    @property
    def metrics(self):
        return [self.loss_tracker]

    def log_loss(self, x):
        noise = keras.random.uniform(tf.shape(x), seed=self.seed_generator)
        y, log_det_in = self.logit.forward_and_log_det(x + noise)
        z, log_det = self.flow.forward_and_log_det(y)
        z = tf.reshape(z, [tf.shape(z)[0], -1])
        log_prob = (-0.5 * tf.reduce_sum(tf.square(z), -1) - 0.5 * self.event_size * _LOG_2PI
                    + log_det + log_det_in)
        return -tf.reduce_mean(log_prob)

    def train_step(self, x):
        with tf.GradientTape() as tape:
            loss = self.log_loss(tf.cast(x, "float32"))
        grads = tape.gradient(loss, self.trainable_variables)
        self.optimizer.apply_gradients(zip(grads, self.trainable_variables, strict=True))
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}


def plain_twin(reference, first_batch, learning_rate):
    """The plain-Keras counterpart of a built unigen model, on that model's networks.

    ``reference`` must be a second instance (not the one unigen trains), built
    with the same arguments; its networks are moved into the plain model and
    compiled with the optimizer `unigen.fit` would give the unigen model.
    """
    from unigen.models import GAN, VAE, Glow

    reference._ensure_built()
    if isinstance(reference, GAN):
        model = PlainGAN(reference.generator, reference.discriminator, reference.latent_dim,
                         reference.num_levels)
        model.compile(keras.optimizers.Adam(learning_rate, beta_1=0.5),
                      keras.optimizers.Adam(learning_rate, beta_1=0.5))
        return model
    if isinstance(reference, VAE):
        model = PlainVAE(reference.encoder, reference.decoder, reference.likelihood,
                         reference.latent_dim, reference.event_shape, reference.num_levels)
    elif isinstance(reference, Glow):
        reference.data_dependent_init(tf.cast(first_batch, "float32"))  # ActNorm, as fit does
        model = PlainFlow(reference.logit, reference.flow, reference.event_shape)
    else:
        raise TypeError(f"No plain baseline for {type(reference).__name__}.")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    model.optimizer.build(model.trainable_variables)
    return model
