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

from unigen.flows import AffineCoupling, Chain, Reverse

tfd = tfp.distributions
tfb = tfp.bijectors

__all__ = ["PRIORS", "get_prior"]

PRIORS = ("normal", "mixture", "flow")


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


class _FlowBijector(tfb.Bijector):
    """A `FlowPrior`'s map as a TFP bijector: forward = base -> z (sampling).

    TFP's ``forward`` is the sampling direction, the opposite of unigen's
    (`unigen.flows` maps data towards the base), so ``_forward`` calls the
    prior's ``_to_latent`` and ``_inverse`` its ``_to_base``. The inverse and its
    log-det come from one pass; the last pass is remembered for the tensor it
    was computed from, so ``log_prob`` runs the flow once.
    """

    def __init__(self, prior):
        self._prior = prior
        self._last = None
        super().__init__(forward_min_event_ndims=1, validate_args=False,
                         parameters={}, name="flow_prior")

    def _base_and_log_det(self, z):
        if self._last is None or self._last[0] is not z:
            self._last = (z, *self._prior._to_base(z))
        return self._last[1], self._last[2]

    def _forward(self, u):
        return self._prior._to_latent(u)[0]

    def _inverse(self, z):
        return self._base_and_log_det(z)[0]

    def _inverse_log_det_jacobian(self, z):
        return self._base_and_log_det(z)[1]

    def _forward_log_det_jacobian(self, u):
        return self._prior._to_latent(u)[1]


@keras.saving.register_keras_serializable(package="unigen")
class FlowPrior(keras.layers.Layer):
    """A learned normalizing-flow density over the latent space.

        p(z) = N(f(z); 0, I) ``|det df/dz|``

    with f = a learned elementwise affine map followed by ``num_layers``
    RealNVP affine couplings (`unigen.flows.AffineCoupling`, MLP conditioners
    of width ``hidden``), each followed by `unigen.flows.Reverse` so that every
    coordinate is transformed. f starts close to the identity. Samples are
    f^-1(u), u ~ N(0, I) (reparameterised); the KL from a Gaussian posterior
    has no closed form, so `VAE` uses the Monte Carlo term
    log q(z|x) - log p(z), and the flow is trained jointly with the VAE.

    Args:
        latent_dim: dimension of z (at least 2: a coupling splits z in two).
        num_layers: number of affine couplings.
        hidden: units of each coupling's two hidden layers.
        seed: int seeding the conditioners' initial weights.

    References:
        Dinh, Sohl-Dickstein and Bengio. "Density estimation using Real NVP."
        ICLR 2017.
        Chen et al. "Variational Lossy Autoencoder." ICLR 2017 (flow priors).
    """

    def __init__(self, latent_dim, num_layers=4, hidden=64, seed=0, **kwargs):
        super().__init__(**kwargs)
        self.latent_dim = int(latent_dim)
        self.num_layers = int(num_layers)
        self.hidden = int(hidden)
        self.seed = int(seed)
        if self.latent_dim < 2:
            raise ValueError(f'prior="flow" needs latent_dim >= 2 (a coupling splits z '
                             f"in two), got latent_dim={self.latent_dim}.")
        if self.num_layers < 1 or self.hidden < 1:
            raise ValueError(f"`prior_flow_layers` and `prior_flow_hidden` must be positive, "
                             f"got {self.num_layers} and {self.hidden}.")
        layers = []
        for i in range(self.num_layers):
            layers += [AffineCoupling(self.hidden, seed=self.seed + i, name=f"coupling_{i}"),
                       Reverse(name=f"reverse_{i}")]
        self.flow = Chain(layers, name="flow")

    def build(self, input_shape=None):
        d = self.latent_dim
        self.shift = self.add_weight(shape=(d,), initializer="zeros", name="shift")
        self.log_scale = self.add_weight(shape=(d,), initializer="zeros", name="log_scale")
        self.flow.build((None, d))
        self.built = True

    def _to_base(self, z):
        """(f(z), log|det df/dz|): the normalizing direction."""
        h = (z - self.shift) * tf.exp(self.log_scale)
        u, log_det = self.flow.forward_and_log_det(h)
        return u, log_det + tf.reduce_sum(self.log_scale)

    def _to_latent(self, u):
        """(f^-1(u), log|det df^-1/du|): the sampling direction."""
        h, log_det = self.flow.inverse_and_log_det(u)
        z = h * tf.exp(-self.log_scale) + self.shift
        return z, log_det - tf.reduce_sum(self.log_scale)

    def log_prob(self, z):
        """log p(z) per row of ``z`` ``[n, latent_dim]``, shape ``[n]``."""
        u, log_det = self._to_base(tf.convert_to_tensor(z, "float32"))
        return tf.reduce_sum(-0.5 * tf.square(u) - 0.5 * np.log(2.0 * np.pi), -1) + log_det

    def distribution(self):
        base = tfd.MultivariateNormalDiag(loc=tf.zeros([self.latent_dim]),
                                          scale_diag=tf.ones([self.latent_dim]))
        return tfd.TransformedDistribution(base, _FlowBijector(self))

    def sample_from_noise(self, normal, uniform):
        del uniform
        return self._to_latent(normal)[0]

    def get_config(self):
        return {**super().get_config(), "latent_dim": self.latent_dim,
                "num_layers": self.num_layers, "hidden": self.hidden, "seed": self.seed}


def get_prior(name, latent_dim, num_components=10, flow_layers=4, flow_hidden=64):
    if name == "normal":
        return StandardNormalPrior(latent_dim, name="prior")
    if name == "mixture":
        return MixturePrior(latent_dim, num_components, name="prior")
    if name == "flow":
        return FlowPrior(latent_dim, flow_layers, flow_hidden, name="prior")
    raise ValueError(f"`prior` must be one of {list(PRIORS)}, got {name!r}.")
