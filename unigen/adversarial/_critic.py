"""`Critic`: the adversarial half of every unigen model, written once.

A critic is a network v(x) trained against a `unigen.divergences.Divergence`:
it maximises the divergence's variational lower bound, that is it minimises
``divergence.discriminator_loss(v(real), v(fake))``, while the model it serves
minimises ``divergence.generator_loss(v(fake))``. The GAN (critic on data), the
adversarial autoencoder (critic on latent codes) and Flow-GAN (critic on data
drawn from the flow) each hold one `Critic`; a model with several critics holds
several. Each owns:

* its network (any Keras layer or model returning one raw value per example);
* its divergence (the game), checked once for a Lipschitz control;
* its optimizer (made by the owning model's ``compile``, wrapped in a
  `keras.optimizers.LossScaleOptimizer` under "mixed_float16", saved with the
  model's ``.keras`` file and in `unigen.fit`'s checkpoint);
* its update, `step`, the only place in unigen where a critic learns.
"""

import keras
import tensorflow as tf

from unigen import divergences as ud
from unigen.training._distribute import gather_global_batch, minimize

__all__ = ["Critic", "adversarial_loss", "has_spectral_norm"]


def has_spectral_norm(network):
    """True when ``network`` contains a `keras.layers.SpectralNormalization` layer."""
    if isinstance(network, keras.layers.SpectralNormalization):
        return True
    return any(isinstance(layer, keras.layers.SpectralNormalization)
               for layer in network._flatten_layers(include_self=False))


def _values(outputs):
    """Raw critic outputs [batch] or [batch, 1] -> float32 [batch]."""
    return tf.reshape(tf.cast(outputs, "float32"), [-1])


@keras.saving.register_keras_serializable(package="unigen")
class Critic(keras.layers.Layer):
    """A critic network, its divergence, its optimizer and its update step.

    One update (`step`) minimises, over the critic's trainable variables,

        L = divergence.discriminator_loss(v(real), v(fake))
            + divergence.critic_penalty(v, real, fake, seed)
            + sum_k weight_k * term_k          (terms of a subclass: `_extra_terms`)

    then calls ``divergence.apply_constraints`` on the updated variables. The
    Lipschitz control of a Wasserstein critic follows from this one convention:
    "gradient_penalty" is the divergence's ``critic_penalty``, "clip" its
    ``apply_constraints``, and "spectral_norm" is checked here, when the critic
    is made (the network must contain a SpectralNormalization layer). A user's
    own `Divergence` subclass with a ``critic_penalty`` is applied the same way
    in every family.

    Replicas: the loss is a per-replica mean divided by the number of replicas
    (`scale_loss_for_replicas`), and every noise a penalty draws comes from the
    owner's `keras.random.SeedGenerator` through ``global_batch_noise`` (see
    `unigen.divergences.gradient_penalty`), so one device and R replicas make
    the same update.

    Reported values (keys of the dict `step` returns, one name in every family):
    ``critic_loss`` (the total L) and, when the divergence defines a penalty,
    ``critic_penalty``.

    Args:
        network: a Keras layer or model mapping a batch to raw values
            ``[batch]`` or ``[batch, 1]`` (subclasses may map to features).
        divergence: a `unigen.divergences` name, config or instance that uses a
            critic (``uses_critic``).
        name: the layer's name.
    """

    def __init__(self, network, divergence, name="critic", **kwargs):
        super().__init__(name=name, **kwargs)
        if isinstance(network, dict):
            network = keras.saving.deserialize_keras_object(network)
        if not isinstance(network, keras.layers.Layer):
            raise TypeError(f"A critic's `network` must be a Keras layer or model, got "
                            f"{type(network).__name__}.")
        self.divergence = ud.get(divergence)
        if not self.divergence.uses_critic:
            raise ValueError(
                f"{type(self.divergence).__name__} is estimated from samples "
                f"(uses_critic=False) and trains no critic; use `adversarial_loss` "
                f"with critic=None.")
        self.divergence.check_trainable()
        if self.divergence.lipschitz == "spectral_norm" and not has_spectral_norm(network):
            raise ValueError(
                "The divergence asks for lipschitz='spectral_norm' but the critic network "
                "has no keras.layers.SpectralNormalization layer. Wrap its Dense/Conv "
                "layers with keras.layers.SpectralNormalization (the default networks "
                "take spectral_norm=True).")
        self.network = network
        self.optimizer = None

    # ------------------------------------------------------------ values
    @property
    def reports_penalty(self):
        """True when the divergence defines a ``critic_penalty`` (then reported)."""
        return type(self.divergence).critic_penalty is not ud.Divergence.critic_penalty

    @property
    def metric_names(self):
        """Names of the values `step` reports, in order."""
        return ["critic_loss"] + (["critic_penalty"] if self.reports_penalty else [])

    def outputs(self, x, context=None, training=False):
        """``(values [batch], auxiliary outputs or None)`` on a batch.

        ``context`` carries what a subclass needs besides ``x`` (for example a
        conditional GAN's labels); this class ignores it.
        """
        del context
        return _values(self.network(x, training=training)), None

    def call(self, x, context=None, training=False):
        """Raw critic values v(x), float32 ``[batch]`` whatever the network's precision."""
        return self.outputs(x, context, training)[0]

    def build(self, input_shape):
        if not self.network.built:
            self.network.build(input_shape)
        self.built = True

    # ------------------------------------------------------------ losses
    def loss(self, real, fake, context=None, seed=None, training=True):
        """``(L, logs)``: the critic's total loss and its named terms (see the class)."""
        real_out = self.outputs(real, context, training)
        fake_out = self.outputs(fake, context, training)
        total = self.divergence.discriminator_loss(real_out[0], fake_out[0])
        logs = {}
        extra = self._extra_terms(real_out, fake_out, context, seed=seed, training=training)
        for name, (value, weight) in extra.items():
            logs[name] = value
            total += weight * value
        if self.reports_penalty:
            logs["critic_penalty"] = self.divergence.critic_penalty(
                lambda t: self.outputs(t, context, training)[0], real, fake, seed=seed)
            total += logs["critic_penalty"]
        logs["critic_loss"] = total
        return total, logs

    def generator_loss(self, fake, real=None, context=None, training=False):
        """The loss the model minimises against this critic, a scalar.

        ``divergence.generator_loss(v(fake), v(real))`` (v(real) only when
        the divergence's ``generator_loss_needs_real`` is set) plus the
        weighted terms of `_generator_terms`.
        """
        fake_out = self.outputs(fake, context, training)
        real_out = None
        if real is not None and (self.divergence.generator_loss_needs_real
                                 or self.generator_terms_need_real):
            real_out = self.outputs(real, context, training)
        real_values = None
        if real_out is not None and self.divergence.generator_loss_needs_real:
            real_values = real_out[0]
        loss = self.divergence.generator_loss(fake_out[0], real_values)
        for value, weight in self._generator_terms(fake_out, context, real_out).values():
            loss += weight * value
        return loss

    #: True when `_generator_terms` needs the critic's outputs on real data
    #: (feature matching); `generator_loss` then computes them.
    generator_terms_need_real = False

    def _extra_terms(self, real_outputs, fake_outputs, context, seed=None, training=True):
        """Subclass hook: ``{name: (value, weight)}`` added to the critic's loss.

        ``seed`` is the owner's noise generator (for terms that draw noise, such
        as flipped labels); ``training`` tells whether this is an update.
        """
        del real_outputs, fake_outputs, context, seed, training
        return {}

    def _generator_terms(self, fake_outputs, context, real_outputs=None):
        """Subclass hook: ``{name: (value, weight)}`` added to the generator's loss.

        ``real_outputs`` is the critic's outputs on the real batch when
        `generator_terms_need_real` is set (and a real batch was given), else None.
        """
        del fake_outputs, context, real_outputs
        return {}

    # ------------------------------------------------------------ update
    def step(self, real, fake, context=None, seed=None):
        """One critic update on a real and a generated batch; returns the logs.

        ``fake`` should not carry gradients to the model (the owner passes
        generated data; gradients flow only to the critic's variables here).
        ``seed`` is the owner's `keras.random.SeedGenerator`, for the penalty.
        """
        if self.optimizer is None:
            raise RuntimeError(f"The critic {self.name!r} has no optimizer: compile the "
                               f"model that holds it (model.compile(...) or unigen.fit).")
        variables = self.trainable_variables
        _, logs = minimize(self.optimizer,
                           lambda: self.loss(real, tf.stop_gradient(fake), context, seed),
                           variables)
        self.divergence.apply_constraints(variables)
        return logs

    # --------------------------------------------------------- optimizer
    def compile(self, optimizer, loss_scale=False):
        """Sets the critic's optimizer (an instance, name or config), built on its variables.

        Args:
            optimizer: a Keras optimizer, name or config; it must not be shared
                with another network (each keeps its own moments).
            loss_scale: wrap it in a `keras.optimizers.LossScaleOptimizer`
                (the owner passes True under "mixed_float16").
        """
        optimizer = keras.optimizers.get(optimizer)
        if loss_scale and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        self.optimizer = optimizer
        self.build_optimizer()

    def build_optimizer(self):
        """Builds the optimizer's variables now: an optimizer that makes them inside
        a traced training step fails under `tf.function`."""
        if self.optimizer is not None and not self.optimizer.built:
            self.optimizer.build(self.trainable_variables)

    def get_config(self):
        return {**super().get_config(),
                "network": keras.saving.serialize_keras_object(self.network),
                "divergence": ud.serialize(self.divergence)}


def adversarial_loss(divergence, critic, real, fake, context=None):
    """The model's adversarial loss against ``critic``, or from samples without one.

    With a critic: ``critic.generator_loss(fake, real, context)``. A divergence
    with ``uses_critic=False`` answers from samples instead:
    ``divergence.generator_loss_from_samples(real, fake)`` on the whole global
    batch (gathered from every replica, so R replicas equal one device).
    """
    if critic is not None:
        return critic.generator_loss(fake, real, context, training=False)
    return divergence.generator_loss_from_samples(*gather_global_batch(real, fake))
