"""Two optimizers for a GAN: compiling, saving and checkpointing both.

Keras knows one optimizer per model (``model.optimizer``). A GAN keeps the
generator's there and the discriminator's in ``discriminator_optimizer``; this
mixin makes both survive a ``.keras`` round trip (`get_compile_config` /
`compile_from_config`) and a `unigen.fit` checkpoint (`training_state`), each
optimizer built on its own network's variables. Under the "mixed_float16"
policy each of the two is wrapped in its own `keras.optimizers.LossScaleOptimizer`
(Keras wraps only ``model.optimizer``), and the training step scales each loss
with its own optimizer's ``scale_loss``.
"""

import keras

__all__ = []


def _adam(learning_rate):
    return keras.optimizers.Adam(float(learning_rate), beta_1=0.5)


class GANCompileMixin:
    """Compile / save / checkpoint logic for a model with generator and critic optimizers."""

    discriminator_optimizer = None

    @property
    def generator_optimizer(self):
        """The generator's optimizer (the same object as ``optimizer``)."""
        return getattr(self, "optimizer", None)

    def compile(self, generator_optimizer=None, discriminator_optimizer=None, **kwargs):
        """Sets the two optimizers (default: Adam(2e-4, beta_1=0.5) each).

        Args:
            generator_optimizer: Keras optimizer (or name/config) of the generator.
            discriminator_optimizer: the critic's optimizer; must be a different
                object from the generator's.
            **kwargs: passed to `keras.Model.compile` (``jit_compile``,
                ``steps_per_execution``, ``run_eagerly``, ``auto_scale_loss``).

        Under "mixed_float16" (``precision``) each optimizer is wrapped in its
        own `keras.optimizers.LossScaleOptimizer` unless ``auto_scale_loss=False``.
        """
        if kwargs.pop("optimizer", None) is not None:
            raise ValueError("A GAN has two optimizers: pass generator_optimizer= and "
                             "discriminator_optimizer= instead of optimizer=.")
        generator_optimizer = keras.optimizers.get(generator_optimizer or _adam(2e-4))
        discriminator_optimizer = keras.optimizers.get(discriminator_optimizer or _adam(2e-4))
        if generator_optimizer is discriminator_optimizer:
            raise ValueError("`generator_optimizer` and `discriminator_optimizer` must be "
                             "two optimizer objects (each keeps its own moments).")
        super().compile(optimizer=generator_optimizer, **kwargs)
        if kwargs.get("auto_scale_loss", True):
            discriminator_optimizer = self._loss_scaled(discriminator_optimizer)
        self.discriminator_optimizer = discriminator_optimizer
        self._gan_compile_kwargs = {k: v for k, v in kwargs.items()
                                    if k in ("jit_compile", "steps_per_execution",
                                             "run_eagerly", "auto_scale_loss")}
        self._ensure_built()
        self._build_optimizers()

    def _build_optimizers(self):
        if not self.generator_optimizer.built:
            self.generator_optimizer.build(self.generator.trainable_variables)
        if self.discriminator_optimizer is not None and not self.discriminator_optimizer.built:
            self.discriminator_optimizer.build(self._discriminator_variables()
                                               if self.discriminator is not None else [])

    def compile_for_fit(self, *, learning_rate=1e-3, optimizer=None, **compile_kwargs):
        """Compiles for `unigen.fit`: Adam(beta_1=0.5) for each network.

        The generator's learning rate is ``generator_learning_rate`` (or
        ``learning_rate``), the critic's ``discriminator_learning_rate`` (or
        ``learning_rate``). An ``optimizer`` given is used for the generator and
        a fresh copy of it (same config) for the critic.
        """
        if optimizer is not None:
            generator_optimizer = keras.optimizers.get(optimizer)
            discriminator_optimizer = generator_optimizer.__class__.from_config(
                generator_optimizer.get_config())
        else:
            generator_optimizer = _adam(self.generator_learning_rate or learning_rate)
            discriminator_optimizer = _adam(self.discriminator_learning_rate or learning_rate)
        self.compile(generator_optimizer, discriminator_optimizer, **compile_kwargs)

    def get_compile_config(self):
        if self.generator_optimizer is None:
            return None
        return {
            "generator_optimizer": keras.saving.serialize_keras_object(self.generator_optimizer),
            "discriminator_optimizer": keras.saving.serialize_keras_object(
                self.discriminator_optimizer),
            **getattr(self, "_gan_compile_kwargs", {}),
        }

    def compile_from_config(self, config):
        config = dict(config)
        generator_optimizer = keras.saving.deserialize_keras_object(
            config.pop("generator_optimizer"))
        discriminator_optimizer = keras.saving.deserialize_keras_object(
            config.pop("discriminator_optimizer"))
        self.compile(generator_optimizer, discriminator_optimizer, **config)

    def training_state(self):
        """Model variables, then the generator's and the critic's optimizer variables."""
        state = list(self.variables)
        if self.generator_optimizer is None:
            return state
        self._build_optimizers()
        return (state + list(self.generator_optimizer.variables)
                + list(self.discriminator_optimizer.variables))
