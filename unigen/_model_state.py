"""Optimizers of a `unigen.GenerativeModel`: compiling, saving and checkpointing them.

Keras knows one optimizer per model (``model.optimizer``). A unigen model may
also hold `unigen.adversarial.Critic` layers, each with an optimizer of its own.
This mixin is the one place that makes all of them: ``compile`` (plain
``model.compile(...)`` as well as `unigen.fit`'s ``compile_for_fit``), wraps each
in its own `keras.optimizers.LossScaleOptimizer` under "mixed_float16" (Keras
wraps only ``model.optimizer``), builds each on its own variables, saves and
restores them with a ``.keras`` file (`get_compile_config` /
`compile_from_config`) and lists their state for `unigen.fit`'s checkpoints
(`training_state`).
"""

import keras

__all__ = ["LatentDecoder", "ModelStateMixin"]


class LatentDecoder:
    """What annealed importance sampling needs of a latent-variable model.

    Attributes:
        latent_dim: size of z.
        sample_prior: ``(normal [n, d], uniform [n, 1]) -> z [n, d]``, a draw
            of p(z) from standard noise.
        log_prior: ``z -> log p(z)`` per row.
        log_likelihood: ``(x_flat [n, D], z [n, d], sigma) -> log p(x | z)``
            per row; ``sigma`` is the observation scale, used only when
            ``needs_observation_scale``.
        needs_observation_scale: True for a model without its own p(x | z) (a
            GAN): evaluation then smooths it with N(G(z), sigma^2).
    """

    def __init__(self, latent_dim, sample_prior, log_prior, log_likelihood,
                 needs_observation_scale=False):
        self.latent_dim = int(latent_dim)
        self.sample_prior = sample_prior
        self.log_prior = log_prior
        self.log_likelihood = log_likelihood
        self.needs_observation_scale = bool(needs_observation_scale)


def _adam(learning_rate, beta_1=0.9, **options):
    """unigen's one default optimizer: Adam, as `unigen.training.FusedAdam`.

    Keras's Adam maths and optimizer variables, each variable updated by one
    fused kernel (issue #18), for every family's model and critic optimizer.
    ``learning_rate``: a number or a schedule; ``options``: any further
    `keras.optimizers.Adam` argument (``global_clipnorm``, ``use_ema``, ...).
    """
    from unigen.training._optimizers import FusedAdam

    if isinstance(learning_rate, int | float):
        learning_rate = float(learning_rate)
    return FusedAdam(learning_rate, beta_1=beta_1, **options)


class ModelStateMixin:
    """``compile``, ``compile_for_fit``, their ``.keras`` config and ``training_state``."""

    #: Learning rate of a critic's default Adam(beta_1=0.5) under plain ``compile``.
    default_critic_learning_rate = 1e-3

    @property
    def critics(self):
        """The `unigen.adversarial.Critic` layers the model holds, in a fixed order."""
        from unigen.adversarial import Critic

        return [layer for layer in self._flatten_layers(include_self=False, recursive=False)
                if isinstance(layer, Critic)]

    def compile(self, optimizer="rmsprop", *args, critic_optimizer=None, **kwargs):
        """`keras.Model.compile`, plus an optimizer for each critic.

        Args:
            optimizer: the model's own optimizer (Keras's ``optimizer``).
            critic_optimizer: an optimizer for the critic(s): one instance, name
                or config (each further critic gets a copy), or a dict from
                critic name to optimizer. Default: Adam(``critic_learning_rate``,
                beta_1=0.5), with ``critic_learning_rate`` the model's
                ``discriminator_learning_rate`` when set, else
                ``default_critic_learning_rate``.
            **kwargs: passed to `keras.Model.compile` (``jit_compile``,
                ``steps_per_execution``, ``auto_scale_loss``, ...).

        Under "mixed_float16" (``precision``) every optimizer is wrapped in its
        own `keras.optimizers.LossScaleOptimizer` unless ``auto_scale_loss=False``.
        """
        scale = kwargs.get("auto_scale_loss", True) and self.precision == "mixed_float16"
        if scale:
            optimizer = self._loss_scaled(optimizer)
        self._ensure_built()
        super().compile(optimizer, *args, **kwargs)
        critics = self.critics
        chosen = _per_critic(critic_optimizer, critics, self._default_critic_optimizer)
        for critic in critics:
            mine = chosen[critic.name]
            if mine is optimizer or mine is getattr(optimizer, "inner_optimizer", None):
                raise ValueError("A critic's optimizer must be another object than the "
                                 "model's optimizer: each keeps its own moments.")
            critic.compile(mine, loss_scale=scale)
        self._build_optimizer()

    def compile_for_fit(self, *, learning_rate=1e-3, optimizer=None, **compile_kwargs):
        """Compiles with unigen's defaults; `unigen.fit` calls it when needed.

        The model's optimizer: ``optimizer`` or `_default_optimizer`
        (Adam(learning_rate) unless a family says otherwise). Each critic:
        Adam(beta_1=0.5) at the model's ``discriminator_learning_rate`` or
        ``learning_rate``. Every default Adam is `unigen.training.FusedAdam`.

        Args:
            learning_rate: learning rate of the default optimizers.
            optimizer: a Keras optimizer, name or None for the default.
            **compile_kwargs: for example ``jit_compile``, ``steps_per_execution``.
        """
        if optimizer is None:
            optimizer = self._default_optimizer(learning_rate)
        elif not isinstance(optimizer, keras.optimizers.Optimizer):
            try:
                optimizer = keras.optimizers.get(optimizer)
            except ValueError:
                raise ValueError(
                    f"`optimizer` must be a keras.optimizers.Optimizer (for example "
                    f"keras.optimizers.SGD(1e-2)), a Keras optimizer name such as 'sgd' or "
                    f"'rmsprop', or None for Adam(learning_rate); got {optimizer!r}.") from None
        else:
            optimizer = _in_current_strategy(optimizer)
        rate = getattr(self, "discriminator_learning_rate", None) or learning_rate
        self.compile(optimizer, critic_optimizer=lambda: _adam(rate, beta_1=0.5),
                     **compile_kwargs)

    def _default_optimizer(self, learning_rate):
        return _adam(learning_rate)

    def _default_critic_optimizer(self):
        rate = (getattr(self, "discriminator_learning_rate", None)
                or self.default_critic_learning_rate)
        return _adam(rate, beta_1=0.5)

    def _optimizer_variables(self):
        """The variables ``model.optimizer`` updates: all trainable ones but the critics'."""
        critic_ids = {id(v) for critic in self.critics for v in critic.trainable_variables}
        return [v for v in self.trainable_variables if id(v) not in critic_ids]

    def _build_optimizer(self):
        optimizer = getattr(self, "optimizer", None)
        if optimizer is not None and not optimizer.built and self.built:
            optimizer.build(self._optimizer_variables())

    def get_compile_config(self):
        """Keras's compile config plus each critic's optimizer (with its state in the file)."""
        config = super().get_compile_config()
        optimizers = {c.name: keras.saving.serialize_keras_object(c.optimizer)
                      for c in self.critics if c.optimizer is not None}
        if config and optimizers:
            config = {**config, "critic_optimizers": optimizers}
        return config

    def compile_from_config(self, config):
        """Recompiles a reloaded model with every optimizer (Keras's own version
        skips models that override ``compile``, as this class does)."""
        config = dict(config)
        critic_optimizers = config.pop("critic_optimizers", None)
        config = keras.saving.deserialize_keras_object(config)
        if critic_optimizers is not None:
            critic_optimizers = {name: keras.saving.deserialize_keras_object(value)
                                 for name, value in critic_optimizers.items()}
        self.compile(**config, critic_optimizer=critic_optimizers)

    def training_state(self):
        """Variables a checkpoint must hold to resume training exactly.

        The model's variables (weights, random-generator states, the critics'
        networks), then ``model.optimizer``'s, then each critic optimizer's
        (moments, step counters); builds the optimizers if needed.
        """
        state = list(self.variables)
        if getattr(self, "optimizer", None) is None:
            return state
        self._build_optimizer()
        state += list(self.optimizer.variables)
        for critic in self.critics:
            critic.build_optimizer()
            if critic.optimizer is not None:
                state += list(critic.optimizer.variables)
        return state

    def _loss_scaled(self, optimizer):
        """``optimizer`` wrapped in a LossScaleOptimizer under "mixed_float16".

        Under float16 small gradients underflow; the wrapper multiplies the loss
        by a dynamic scale before differentiation (``optimizer.scale_loss``),
        divides the gradients by it, and skips a step whose gradients are not
        finite (halving the scale). bfloat16 has float32's range and needs none.
        """
        if optimizer is None:
            return optimizer
        optimizer = keras.optimizers.get(optimizer)
        if (self.precision == "mixed_float16"
                and not isinstance(optimizer, keras.optimizers.LossScaleOptimizer)):
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        return optimizer


def _in_current_strategy(optimizer):
    """``optimizer``, or an unbuilt copy of it made under the strategy now in scope.

    A Keras optimizer on TensorFlow binds itself to the `tf.distribute`
    strategy in scope when it is created, and creating its variables under
    another one fails ("Mixing different tf.distribute.Strategy objects").
    A user naturally creates the optimizer before calling `unigen.fit(...,
    strategy=...)`, outside that strategy's scope; an optimizer that has not
    been built yet is then re-created from its config (the same class,
    learning rate or schedule and settings) under the current strategy, and
    ``model.optimizer`` is that copy. A built one holds state (moments, step
    count) that cannot move: refused with the fix.
    """
    import tensorflow as tf

    bound = getattr(optimizer, "_distribution_strategy", None)
    current = tf.distribute.get_strategy()
    if bound is None or bound is current:
        return optimizer
    if optimizer.built:
        raise ValueError(
            f"The optimizer {type(optimizer).__name__} was created and used under another "
            f"tf.distribute strategy than the one training now, and its state (moments, "
            f"step count) cannot move between strategies. Pass a new optimizer (or its name, "
            f"or None for the default), or create it inside `strategy.scope()`.")
    return type(optimizer).from_config(optimizer.get_config())


def _per_critic(choice, critics, default):
    """{critic name: a fresh optimizer} from the user's ``critic_optimizer``."""
    if isinstance(choice, dict):
        unknown = sorted(set(choice) - {c.name for c in critics})
        if unknown:
            raise ValueError(f"`critic_optimizer` names unknown critics {unknown}; the "
                             f"model's critics are {[c.name for c in critics]}.")
        return {c.name: choice.get(c.name) or default() for c in critics}
    result, first = {}, None
    for critic in critics:
        if choice is None:
            result[critic.name] = default()
        elif callable(choice) and not isinstance(choice, keras.optimizers.Optimizer):
            result[critic.name] = choice()
        elif first is None:
            first = result[critic.name] = keras.optimizers.get(choice)
        else:  # a copy for each further critic: every network keeps its own moments
            result[critic.name] = first.__class__.from_config(first.get_config())
    return result
