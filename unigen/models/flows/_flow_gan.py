"""`FlowGAN`: a normalizing flow trained as a GAN and by maximum likelihood at once.

A flow f is both an explicit density, log p(x) = log N(f(x); 0, I) + log|det J_f(x)|,
and a generator, x = f^-1(z). Flow-GAN (Grover, Dhar and Ermon 2018) trains it on

    likelihood_weight * NLL(x) + divergence.generator_loss(v(f^-1(z)))

against a `unigen.adversarial.Critic` v that plays the divergence's game with
data (dequantized and scaled to [0, 1] for discrete levels). With
``likelihood_weight=0`` it is a pure GAN whose test likelihood can still be
computed exactly, which is what makes it the notes' example of likelihood and
sample quality measured on the same model.
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen import divergences as ud
from unigen._model_state import _adam
from unigen.adversarial import Critic, adversarial_loss, mlp_critic
from unigen.base import GenerativeModel, _policy_scope
from unigen.models.flows._base import FlowModel, WarmupSchedule
from unigen.training._distribute import global_batch_noise, minimize

__all__ = ["FlowGAN"]


@keras.saving.register_keras_serializable(package="unigen")
class FlowGAN(GenerativeModel):
    """A `FlowModel` (``Glow``, ``RealNVP``, ``MAF``) trained on NLL plus an adversarial loss.

    Each training step makes one critic update (`Critic.step`) on real
    (dequantized) against generated data, then one flow update on
    ``likelihood_weight * NLL + adversarial loss``. ``log_prob``, ``sample``
    and the likelihood estimators are the flow's. All noise comes from the
    flow's seeded generator through ``global_batch_noise`` and both losses are
    scaled for replicas, so R replicas train as one device.

    Example::

        flow = unigen.models.Glow(image_shape=(8, 8, 1), num_levels=17)
        model = unigen.models.FlowGAN(flow, divergence="js", likelihood_weight=0.1)
        unigen.fit(model, "digits", epochs=20)

    Args:
        flow: the flow model to train (its config, when reloaded).
        divergence: the adversarial game: a `unigen.divergences` name, config or
            instance (default "js").
        likelihood_weight: weight of the NLL in the objective (>= 0).
        discriminator_units: width of the critic, an MLP on flattened data.
        gradient_clip_norm: global norm at which the default Adam clips the
            flow's gradient (None: no clipping). The default 100 keeps the
            adversarial gradient through the inverse flow from blowing training
            up: without it, digits training ended at test NLL 231.6 after 60
            epochs against 117.8 with it (docs/theory/flows.rst).
        seed: seed of the critic's initial weights.
        **kwargs: passed to `unigen.GenerativeModel` (for example ``name``).

    References:
        Grover, Dhar and Ermon. "Flow-GAN: Combining Maximum Likelihood and
        Adversarial Learning in Generative Models." AAAI 2018.
    """

    def __init__(self, flow, divergence="js", likelihood_weight=1.0, discriminator_units=128,
                 gradient_clip_norm=100.0, seed=0, **kwargs):
        if isinstance(flow, dict):
            flow = keras.saving.deserialize_keras_object(flow)
        if not isinstance(flow, FlowModel):
            raise TypeError(f"`flow` must be a unigen flow model (Glow, RealNVP, MAF), got "
                            f"{type(flow).__name__}.")
        kwargs.setdefault("dtype", flow.precision)
        super().__init__(flow.event_shape, num_levels=flow.num_levels, seed=seed, **kwargs)
        self.flow_model = flow
        self.divergence = ud.get(divergence)
        self.likelihood_weight = float(likelihood_weight)
        if not self.likelihood_weight >= 0:
            raise ValueError(f"`likelihood_weight` must be >= 0, got {likelihood_weight!r}.")
        if gradient_clip_norm is not None and not (
                isinstance(gradient_clip_norm, int | float) and gradient_clip_norm > 0):
            raise ValueError(f"`gradient_clip_norm` must be a positive number or None, got "
                             f"{gradient_clip_norm!r}.")
        self.gradient_clip_norm = None if gradient_clip_norm is None else float(
            gradient_clip_norm)
        self.discriminator_units = int(discriminator_units)
        units = self.discriminator_units
        with _policy_scope(self._precision_policy):  # the flow's precision by default
            self.critic = Critic(mlp_critic(self.event_size, (units, units)), self.divergence)
        self._trackers = {k: keras.metrics.Mean(name=k)
                          for k in ("loss", "nll", *self.critic.metric_names)}

    # ------------------------------------------------------------ the flow's
    def _log_prob(self, x, num_samples=1, seed=None):
        """The flow's log-likelihood (see `FlowModel`)."""
        return self.flow_model._log_prob(x, num_samples=num_samples, seed=seed)

    def _sample(self, num_samples, seed, temperature=1.0):
        return self.flow_model._sample(num_samples, seed, temperature=temperature)

    def _preprocess(self, x):
        return self.flow_model._preprocess(x)

    def likelihood_estimators(self):
        return self.flow_model.likelihood_estimators()

    def data_dependent_init(self, x):
        """The flow's ActNorm initialisation from the first batch."""
        self.flow_model.data_dependent_init(x)

    def call(self, x, training=False):
        return self.flow_model(x, training=training)

    def build(self, input_shape=None):
        self.flow_model._ensure_built()
        self.critic.build((None, self.event_size))
        self.built = True

    @property
    def discriminator(self):
        """The critic's network."""
        return self.critic.network

    @property
    def discriminator_optimizer(self):
        """The critic's optimizer (``critic.optimizer``)."""
        return self.critic.optimizer

    @property
    def metrics(self):
        return list(self._trackers.values())

    # -------------------------------------------------------------- training
    def _default_optimizer(self, learning_rate):
        """The flow's Adam with its warm-up, clipped at ``gradient_clip_norm``."""
        rate = learning_rate
        if self.flow_model.warmup_steps:
            rate = WarmupSchedule(learning_rate, self.flow_model.warmup_steps)
        return _adam(rate, global_clipnorm=self.gradient_clip_norm)

    def _optimizer_variables(self):
        return self.flow_model._likelihood_variables()

    def train_step(self, data):
        """One critic update, then one flow update on the hybrid objective."""
        flow = self.flow_model
        x = flow._preprocess(data[0] if isinstance(data, tuple | list) else data)
        batch = tf.shape(x)[0]
        z = global_batch_noise(
            lambda n: _random.normal((n, self.event_size), seed=flow.noise_generator), batch)
        noise = flow._train_noise(x) if self.num_levels is not None else None
        real = flow._critic_view(x if noise is None else x + tf.stop_gradient(
            flow._dequantize(x, noise)[0]))
        logs = self.critic.step(real, flow._critic_view(flow._generate(z)),
                                seed=flow.noise_generator)

        def hybrid():
            fake = flow._critic_view(flow._generate(z))
            adversarial = adversarial_loss(self.divergence, self.critic, real, fake)
            nll = -tf.reduce_mean(flow._log_prob_with_noise(x, noise))
            return self.likelihood_weight * nll + adversarial, nll

        loss, nll = minimize(self.optimizer, hybrid, self._optimizer_variables())
        for name, value in {"loss": loss, "nll": nll, **logs}.items():
            if name in self._trackers:
                self._trackers[name].update_state(value)
        return self.get_metrics_result()

    def test_step(self, data):
        """The flow's NLL on a batch, reported as ``loss``."""
        x = data[0] if isinstance(data, tuple | list) else data
        self._trackers["loss"].update_state(-tf.reduce_mean(self(x, training=False)))
        return {"loss": self._trackers["loss"].result()}

    def get_config(self):
        config = super().get_config()
        for key in ("event_shape", "num_levels"):
            config.pop(key)
        return {**config, "flow": keras.saving.serialize_keras_object(self.flow_model),
                "divergence": ud.serialize(self.divergence),
                "likelihood_weight": self.likelihood_weight,
                "discriminator_units": self.discriminator_units,
                "gradient_clip_norm": self.gradient_clip_norm}
