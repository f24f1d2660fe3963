"""Variational autoencoders: `VAE`, with KL, MMD or adversarial regularisers."""

import math

import keras
import tensorflow as tf

from unigen import _random
from unigen import divergences as ud
from unigen.adversarial import Critic
from unigen.base import GenerativeModel, LatentDecoder, _check_positive_int
from unigen.models.vae import _networks as nets
from unigen.models.vae import _objectives as obj
from unigen.models.vae._bounds import IMPORTANCE_SAMPLES, VAEBoundsMixin
from unigen.models.vae._likelihoods import get_likelihood
from unigen.models.vae._priors import get_prior
from unigen.models.vae._training import VAETrainingMixin

__all__ = ["VAE"]

_DEFAULT_BETA = {"kl": 1.0, "samples": 100.0, "adversarial": 1.0}


def _default_likelihood(num_levels):
    if num_levels is None:
        return "gaussian"
    if num_levels == 2:
        return "bernoulli"
    return "categorical" if num_levels <= 64 else "logistic"


@keras.saving.register_keras_serializable(package="unigen")
class VAE(VAEBoundsMixin, VAETrainingMixin, GenerativeModel):
    """Variational autoencoder p(x) = integral p(x | z) p(z) dz, trained on a bound.

    A Gaussian encoder q(z | x) = N(mu(x), diag sigma(x)^2) and a decoder that
    gives the parameters of a likelihood p(x | z) on the data as passed. The
    default objective is the evidence lower bound (ELBO)::

        log p(x) >= E_q[log p(x | z)] - beta KL(q(z | x) || p(z))   (beta = 1)

    with the KL in closed form where TFP has one (standard normal prior) and a
    Monte Carlo term log q(z | x) - log p(z) otherwise (mixture and flow
    priors). ``iwae_samples=K`` trains the importance-weighted bound instead.
    ``divergence`` swaps the regulariser: "mmd" penalises MMD^2 between the
    aggregate posterior (a batch of codes) and prior samples (WAE-MMD /
    InfoVAE); an adversarial divergence such as "js"
    trains a latent discriminator with a second optimizer (adversarial
    autoencoder). All use the `unigen.divergences` objects.

    Likelihoods, on the data as `unigen.datasets` yields them:

    * "categorical": L logits per value, an exact mass (default for L <= 64).
    * "logistic": discretised logistic over L levels (default for L > 64).
    * "gaussian": a Gaussian density for continuous data (default), or the
      discretised Gaussian mass over L levels; ``gaussian_scale`` is "learned"
      (one per dimension), "decoder" (predicted) or a fixed float.
    * "bernoulli": cross-entropy on x / (L - 1); a proper likelihood only for
      binary data (L = 2). For L > 2 it treats grey levels as probabilities:
      its "nats" are not a log probability mass and are not comparable with
      other models. For binarised pixels, binarise the data yourself (for
      example ``x > L // 2``) and pass ``num_levels=2``.

    With discrete likelihoods, ``elbo`` and ``log_prob`` are in nats per example
    of a probability mass, comparable with flows and `unigen.models.Gaussian`.

    Args:
        input_shape: shape of one example, e.g. ``(28, 28, 1)`` or ``(2,)``
            (``event_shape`` is accepted as a synonym).
        latent_dim: dimension of z.
        likelihood: "bernoulli", "gaussian", "logistic", "categorical" or None
            (chosen from ``num_levels`` as above).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        encoder, decoder: Keras models to use instead of the defaults
            (convolutional for images, MLPs for vectors); contracts in
            ``unigen.models.vae._networks``. They are saved with the model.
        prior: "normal" (N(0, I)), "mixture" (learned mixture of
            ``prior_components`` Gaussians) or "flow" (a learned RealNVP density
            p(z) = N(f(z); 0, I) ``|det df/dz|`` of ``prior_flow_layers`` affine
            couplings with ``prior_flow_hidden`` hidden units; latent_dim >= 2).
        prior_components: mixture components of ``prior="mixture"``.
        prior_flow_layers: couplings of ``prior="flow"``.
        prior_flow_hidden: conditioner width of ``prior="flow"``.
        divergence: "kl" (default), "mmd", an adversarial divergence name such as
            "js", or a `unigen.divergences.Divergence`.
        beta: weight of the regulariser; None means 1 for "kl" (the ELBO), 100
            for "mmd", 1 for adversarial.
        kl_warmup_steps: multiplies the regulariser by min(1, t / N) at optimizer
            step t (t counted by the optimizer, so resuming continues the ramp).
        iwae_samples: K > 1 trains the importance-weighted bound (KL only).
        num_classes: makes a conditional VAE: one-hot labels go to the encoder
            and the decoder; data are ``(x, y)`` pairs.
        gaussian_scale: scale option of the Gaussian likelihood.
        discriminator: latent critic for an adversarial divergence (default MLP).
        seed: seeds the model's noise generator.
        **kwargs: passed to `unigen.GenerativeModel`.

    References:
        Kingma and Welling. "Auto-Encoding Variational Bayes." ICLR 2014.
        Rezende, Mohamed and Wierstra. "Stochastic Backpropagation." ICML 2014.
        Burda, Grosse and Salakhutdinov. "Importance Weighted Autoencoders." ICLR 2016.
        Higgins et al. "beta-VAE." ICLR 2017.
        Makhzani et al. "Adversarial Autoencoders." 2015.
        Tolstikhin et al. "Wasserstein Auto-Encoders." ICLR 2018.
        Zhao, Song and Ermon. "InfoVAE." AAAI 2019.
    """

    def __init__(self, input_shape=None, latent_dim=16, likelihood=None, num_levels="auto", *,
                 event_shape=None, encoder=None, decoder=None, prior="normal",
                 prior_components=10, prior_flow_layers=4, prior_flow_hidden=64,
                 divergence="kl", beta=None, kl_warmup_steps=0,
                 iwae_samples=1, num_classes=None, gaussian_scale="learned",
                 discriminator=None, seed=0, **kwargs):
        shape = event_shape if event_shape is not None else input_shape
        if shape is None:
            raise ValueError("`input_shape` is required, for example (28, 28, 1) or (2,).")
        super().__init__(shape, num_levels=num_levels, seed=seed, **kwargs)
        self.latent_dim = _check_positive_int("latent_dim", latent_dim)
        self.iwae_samples = _check_positive_int("iwae_samples", iwae_samples)
        self.kl_warmup_steps = int(kl_warmup_steps)
        if self.kl_warmup_steps < 0:
            raise ValueError(f"`kl_warmup_steps` must be >= 0, got {kl_warmup_steps!r}.")
        self.num_classes = None if num_classes is None else _check_positive_int(
            "num_classes", num_classes)
        self.likelihood_name = likelihood or _default_likelihood(self.num_levels)
        self.gaussian_scale = gaussian_scale
        self.likelihood = get_likelihood(self.likelihood_name, self.num_levels,
                                         self.event_size, gaussian_scale)
        self.prior_name, self.prior_components = prior, int(prior_components)
        self.prior_flow_layers = _check_positive_int("prior_flow_layers", prior_flow_layers)
        self.prior_flow_hidden = _check_positive_int("prior_flow_hidden", prior_flow_hidden)
        self.prior = get_prior(prior, self.latent_dim, self.prior_components,
                               self.prior_flow_layers, self.prior_flow_hidden)
        self.divergence = self._resolve_divergence(divergence)
        self.beta = float(_DEFAULT_BETA[self.regularizer] if beta is None else beta)
        if self.iwae_samples > 1 and self.regularizer != "kl":
            raise ValueError(
                f"`iwae_samples` > 1 trains the importance-weighted bound, which uses "
                f'the KL divergence; got divergence="{self.regularizer}". Use '
                f"iwae_samples=1 or divergence='kl'.")
        self.encoder, self.decoder = encoder, decoder
        self._critic_network, self.critic = discriminator, None
        self._user_networks = {"encoder": encoder is not None,
                               "decoder": decoder is not None,
                               "discriminator": discriminator is not None}
        self._eval_noise_generator = keras.random.SeedGenerator(
            None if self.seed is None else self.seed + 1)
        names = ["loss", "reconstruction", "kl"]
        if self.regularizer == "samples":
            names.append(self.divergence.short_name or "regularizer")
        elif self.regularizer == "adversarial":
            names += ["critic_loss"] + (["critic_penalty"] if type(
                self.divergence).critic_penalty is not ud.Divergence.critic_penalty else [])
        self._trackers = {n: keras.metrics.Mean(name=n) for n in names}
        self._log_weights_fn = None

    def _resolve_divergence(self, divergence):
        """Chooses the regulariser from what the divergence can do, never its class.

        ``bounds_likelihood`` (KL): per-example KL(q(z|x) || p(z)), the ELBO;
        ``uses_critic=False``: matched on the aggregate posterior from samples
        (`generator_loss_from_samples`, e.g. MMD); otherwise adversarially, with a
        latent `unigen.adversarial.Critic` (adversarial autoencoder).
        """
        resolved = ud.get(divergence)
        if resolved.bounds_likelihood:
            self.regularizer = "kl"
        elif not resolved.uses_critic:
            self.regularizer = "samples"
            if isinstance(divergence, str) and hasattr(resolved, "bandwidths"):
                # Kernel widths matched to |z - z'| ~ sqrt(2 latent_dim) under N(0, I).
                root = math.sqrt(self.latent_dim)
                resolved = type(resolved)(bandwidths=[h * root for h in resolved.bandwidths])
        else:
            resolved.check_trainable()
            self.regularizer = "adversarial"
        return resolved

    @property
    def discriminator(self):
        """The latent critic's network (None unless the regulariser is adversarial)."""
        return self._critic_network if self.critic is None else self.critic.network

    @property
    def discriminator_optimizer(self):
        """The latent critic's optimizer (``critic.optimizer``)."""
        return None if self.critic is None else self.critic.optimizer

    # ------------------------------------------------------------- building
    def build(self, input_shape=None):
        k = self.likelihood.params_per_value
        image = len(self.event_shape) == 3
        if self.encoder is None:
            self.encoder = (nets.conv_encoder if image else nets.mlp_encoder)(
                self.event_shape, self.latent_dim, self.num_classes)
        if self.decoder is None:
            self.decoder = (nets.conv_decoder(self.event_shape, self.latent_dim, k,
                                              self.num_classes) if image else
                            nets.mlp_decoder(self.event_size, self.latent_dim, k,
                                             self.num_classes))
        if self.regularizer == "adversarial" and self.critic is None:
            network = self._critic_network or nets.latent_discriminator(self.latent_dim)
            self.critic = Critic(network, self.divergence)
            self.critic.build((None, self.latent_dim))
        for layer in (self.likelihood, self.prior):
            if not layer.built:
                layer.build(None)
        x = tf.zeros((1, *self.event_shape))
        onehot = None if self.num_classes is None else tf.zeros((1, self.num_classes))
        out = self.encoder(x if onehot is None else [x, onehot])
        if out.shape[-1] != 2 * self.latent_dim:
            raise ValueError(f"The encoder must output 2 * latent_dim = {2 * self.latent_dim} "
                             f"numbers per example, got shape {tuple(out.shape)}.")
        params = self._decoder_params(tf.zeros((1, self.latent_dim)), onehot)
        del params
        self.built = True

    # -------------------------------------------------------------- networks
    def _scale_input(self, x):
        if self.num_levels is None:
            return x
        return x * (2.0 / (self.num_levels - 1)) - 1.0

    def _posterior_params(self, x, onehot):
        h = self._scale_input(x)
        out = self.encoder(h if onehot is None else [h, onehot])
        # The networks may compute in low precision; every density is float32.
        return obj.posterior_params(tf.cast(out, "float32"), self.latent_dim)

    def _decoder_params(self, z, onehot):
        inputs = z if onehot is None else tf.concat([z, tf.cast(onehot, z.dtype)], -1)
        out = tf.cast(self.decoder(inputs), "float32")
        k = self.likelihood.params_per_value
        if out.shape[1:].num_elements() != self.event_size * k:
            raise ValueError(
                f"The decoder must output event_size * params_per_value = "
                f"{self.event_size} * {k} numbers per example for likelihood="
                f"{self.likelihood_name!r}, got shape {tuple(out.shape)}.")
        if len(self.event_shape) == 3 and k > 1:
            # [N, H, W, C * k] with the k parameters of a value side by side.
            out = tf.reshape(out, [-1, *self.event_shape, k])
        return tf.reshape(out, [-1, self.event_size, k])

    def _one_hot(self, labels, batch):
        if self.num_classes is None:
            return None
        if labels is None:
            raise ValueError(f"This VAE is conditional (num_classes={self.num_classes}): "
                             f"pass `labels` (ints in 0..{self.num_classes - 1}); it trains "
                             f"on (x, y) pairs, unigen.fit(model, (x, y)), for example "
                             f"unigen.datasets.as_numpy('digits', 'train', with_labels=True).")
        labels = tf.reshape(tf.cast(labels, "int32"), [-1])
        return tf.one_hot(labels, self.num_classes) + tf.zeros((batch, 1))

    def _forward(self, x, onehot, eps):
        """Terms of every bound for noise eps [B, K, d]; see `_vae_objectives`."""
        batch, k = tf.shape(eps)[0], tf.shape(eps)[1]
        loc, scale = self._posterior_params(x, onehot)
        z = loc[:, None, :] + scale[:, None, :] * eps
        z_flat = tf.reshape(z, [-1, self.latent_dim])
        rep = None if onehot is None else tf.repeat(onehot, k, axis=0)
        params = self._decoder_params(z_flat, rep)
        x_rep = tf.repeat(tf.reshape(x, [-1, self.event_size]), k, axis=0)
        log_px_z = tf.reshape(tf.reduce_sum(self.likelihood.log_prob(params, x_rep), -1),
                              [batch, k])
        log_pz = tf.reshape(self.prior.distribution().log_prob(z_flat), [batch, k])
        log_qz = obj.log_q_from_noise(eps, scale)
        return loc, scale, z, log_px_z, log_pz, log_qz

    # ---------------------------------------------------------------- public
    def posterior(self, x, labels=None):
        """q(z | x), a TFP `MultivariateNormalDiag` with batch shape [batch]."""
        x = self._convert_input(x)
        self._ensure_built()
        return obj.posterior_distribution(*self._posterior_params(
            x, self._one_hot(labels, tf.shape(x)[0])))

    def prior_distribution(self):
        """p(z), a TFP distribution over ``[latent_dim]``."""
        self._ensure_built()
        return self.prior.distribution()

    def encode(self, x, labels=None):
        """The posterior mean mu(x), shape ``[batch, latent_dim]``."""
        return self.posterior(x, labels).mean()

    def decode(self, z, labels=None):
        """The mean of p(x | z) in the data space, shape ``[batch, *event_shape]``.

        For discrete data it is the expected level (a float, not rounded); the
        average over pixel noise is why decoded means look smooth ("blurry").
        """
        self._ensure_built()
        z = tf.convert_to_tensor(z, "float32")
        params = self._decoder_params(z, self._one_hot(labels, tf.shape(z)[0]))
        return tf.reshape(self.likelihood.mean(params), [-1, *self.event_shape])

    def reconstruct(self, x, labels=None):
        """decode(encode(x)): the mean of p(x | z = mu(x))."""
        return self.decode(self.encode(x, labels), labels)

    def _log_prob(self, x, num_samples=IMPORTANCE_SAMPLES, seed=None, labels=None):
        """Importance-weighted estimate of log p(x) per example, in nats.

        log (1/K) sum_k p(x | z_k) p(z_k) / q(z_k | x), z_k ~ q(z | x), with
        K = ``num_samples`` (default 100, computed in chunks to bound memory).
        Its expectation is a lower bound on log p(x) that tightens as K grows
        (Burda et al.); with K = 1 it is a one-sample ELBO. ``labels`` for a
        conditional VAE.

        Its Monte Carlo standard error comes from the same draws:
        ``unigen.evaluation.importance_estimate(vae.log_importance_weights(x,
        num_samples=K, seed=s))`` returns the estimate and, per example,
        std(w) / (sqrt(K) mean(w)). On the digits VAE of ``unigen compare``, K =
        100 gives 87.06 nats per test image, standard error 0.48 per example and
        0.02 for the mean of 447 images, in 7 s on 2 CPU cores; K = 1000 gives
        86.64 (the bound 0.43 nats tighter; the standard error does not measure
        that gap) in 64 s. Pass ``num_samples=1000`` or more for the tightest
        bound, or use AIS (`unigen.evaluation.ais_log_prob`).
        """
        return self._importance_log_prob(x, labels, num_samples, seed)

    def likelihood_estimators(self):
        """The importance-weighted bound, then AIS (unconditional VAEs)."""
        return ["importance"] if self.num_classes is not None else ["importance", "ais"]

    def latent_decoder(self):
        """The prior and the VAE's own p(x | z), for AIS (None when conditional)."""
        if self.num_classes is not None:
            return None

        def log_likelihood(x_flat, z, sigma):
            del sigma  # the VAE's own p(x | z)
            params = self._decoder_params(z, None)
            return tf.reduce_sum(self.likelihood.log_prob(params, x_flat), -1)

        return LatentDecoder(self.latent_dim, self.prior.sample_from_noise,
                             lambda z: self.prior.distribution().log_prob(z), log_likelihood)

    def _sample(self, num_samples, seed, labels=None):
        """Draws x ~ p(x | z), z ~ p(z); with ``labels`` for a conditional VAE."""
        onehot = self._one_hot(labels, num_samples)
        seeds = [None] * 3 if seed is None else [seed, seed + 1, seed + 2]
        normal = _random.normal((num_samples, self.latent_dim), seed=seeds[0])
        uniform = _random.uniform((num_samples, 1), seed=seeds[1])
        z = self.prior.sample_from_noise(normal, uniform)
        params = self._decoder_params(z, onehot)
        x = self.likelihood.sample(params, seeds[2])
        return tf.reshape(x, [num_samples, *self.event_shape])

    @property
    def metrics(self):
        return list(self._trackers.values())

    def get_config(self):
        def network(name):
            if not self._user_networks[name]:
                return None
            return keras.saving.serialize_keras_object(getattr(self, name))

        return {**super().get_config(), "latent_dim": self.latent_dim,
                "likelihood": self.likelihood_name, "prior": self.prior_name,
                "prior_components": self.prior_components,
                "prior_flow_layers": self.prior_flow_layers,
                "prior_flow_hidden": self.prior_flow_hidden,
                "divergence": ud.serialize(self.divergence), "beta": self.beta,
                "kl_warmup_steps": self.kl_warmup_steps, "iwae_samples": self.iwae_samples,
                "num_classes": self.num_classes, "gaussian_scale": self.gaussian_scale,
                "encoder": network("encoder"), "decoder": network("decoder"),
                "discriminator": network("discriminator"), "seed": self.seed}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for name in ("encoder", "decoder", "discriminator"):
            if config.get(name) is not None:
                config[name] = keras.saving.deserialize_keras_object(config[name])
        return super().from_config(config)

