"""Priors p(z) over the latent space of `VAE`, as Keras layers.

Each prior gives a TFP ``distribution()`` over ``[latent_dim]`` vectors and a
reparameterised ``sample_from_noise(normal, uniform)`` that turns model-owned
noise (standard normal ``[n, latent_dim]`` and uniform ``[n, 1]``) into draws,
so a training step's prior samples come from the model's `SeedGenerator`.
"""

import keras
import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

tfd = tfp.distributions

__all__ = ["PRIORS", "get_prior"]

PRIORS = ("normal", "mixture")


@keras.saving.register_keras_serializable(package="unigen")
class StandardNormalPrior(keras.layers.Layer):
    """p(z) = N(0, I): the usual VAE prior; KL to it has a closed form."""

    def __init__(self, latent_dim, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = int(latent_dim)

    def distribution(self):
        return tfd.MultivariateNormalDiag(loc=tf.zeros([self.latent_dim]),
                                          scale_diag=tf.ones([self.latent_dim]))

    def sample_from_noise(self, normal, uniform):
        del uniform
        return normal

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim}


@keras.saving.register_keras_serializable(package="unigen")
class MixturePrior(keras.layers.Layer):
    """A learned mixture of K diagonal Gaussians (Tomczak and Welling's idea).

        p(z) = sum_k pi_k N(z; m_k, diag(s_k^2))

    The KL from a Gaussian posterior to it has no closed form; `VAE` uses the
    single-sample Monte Carlo term log q(z|x) - log p(z) instead.

    Args:
        latent_dim: dimension of z.
        num_components: K.
        seed: int seeding the spread of the initial means.

    References:
        Tomczak and Welling. "VAE with a VampPrior." AISTATS 2018.
    """

    def __init__(self, latent_dim, num_components=10, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = int(latent_dim)
        self.num_components = int(num_components)
        self.seed = int(seed)

    def build(self, input_shape=None):
        k, d = self.num_components, self.latent_dim
        init = np.random.RandomState(self.seed).normal(size=(k, d)).astype("float32")
        self.logits = self.add_weight(shape=(k,), initializer="zeros", name="logits")
        self.locs = self.add_weight(shape=(k, d), name="locs",
                                    initializer=keras.initializers.Constant(init))
        self.raw_scales = self.add_weight(shape=(k, d), initializer="zeros",
                                          name="raw_scales")
        self.built = True

    def _scales(self):
        return tf.nn.softplus(self.raw_scales) / np.log(2.0) * 0.5 + 1e-3

    def distribution(self):
        return tfd.MixtureSameFamily(
            tfd.Categorical(logits=self.logits),
            tfd.MultivariateNormalDiag(loc=self.locs, scale_diag=self._scales()))

    def sample_from_noise(self, normal, uniform):
        cumulative = tf.cumsum(tf.nn.softmax(self.logits))
        above = tf.cast(uniform[:, 0:1] > cumulative[None, :], "int32")
        component = tf.minimum(tf.reduce_sum(above, -1), self.num_components - 1)
        return (tf.gather(self.locs, component)
                + tf.gather(self._scales(), component) * normal)

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "num_components": self.num_components, "seed": self.seed}


def get_prior(name, latent_dim, num_components=10):
    if name == "normal":
        return StandardNormalPrior(latent_dim, name="prior")
    if name == "mixture":
        return MixturePrior(latent_dim, num_components, name="prior")
    raise ValueError(f"`prior` must be one of {list(PRIORS)}, got {name!r}.")
