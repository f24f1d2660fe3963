"""`GenerativeModel`: the Keras 3 base class of every unigen model.

A generative model describes a distribution p(x) over a data space with a fixed
``event_shape``. Every family (Gaussian baseline, GANs, flows, VAEs) offers the
same public surface:

* ``sample(num_samples, seed=None)``: draws in the data space the user trains on.
* ``log_prob(x)``: log p(x) in nats per example. Exact where the family allows it;
  a bound or an estimate says so in its docstring; an implicit model (a GAN) raises
  `unigen.errors.ImplicitModelError`.
* ``bits_per_dim(x)``: -log p(x) / (D log 2), with D the number of dimensions.

Data domain. With ``num_levels=None`` the model is a density over real vectors
and ``log_prob`` is a log density. With ``num_levels=L`` the data are discrete
pixel levels {0, ..., L-1} (as `unigen.datasets` yields them: digits have 17
levels, Fashion-MNIST 256) and ``log_prob`` is a log probability mass (or a
documented bound on it), so numbers from different families are comparable.

Subclasses write the hooks ``_log_prob``, ``_sample`` and ``build``; they may
override ``data_dependent_init`` (called once by `unigen.fit` on the first batch,
before training) and ``compute_loss`` / ``train_step``. The public methods check
and convert their arguments, then call the hook.

Precision. A model records the Keras dtype policy in force when it is constructed
(``precision``: "float32", "mixed_float16" or "mixed_bfloat16"). Its networks
(layers created while it is constructed and built) compute in that policy; the
model itself always computes in float32, so densities, log-determinants and
losses stay float32 (see `unigen.fit`'s ``mixed_precision``).
"""

import contextlib
import math

import keras
import numpy as np
import tensorflow as tf

from unigen import errors
from unigen.training._distribute import scale_loss_for_replicas

__all__ = ["GenerativeModel"]


def _as_event_shape(event_shape):
    try:
        if isinstance(event_shape, str):
            raise TypeError
        shape = tuple(int(d) for d in event_shape)
    except (TypeError, ValueError):
        raise ValueError(
            f"`event_shape` must be a tuple of positive ints such as (8, 8, 1) or "
            f"(2,), got {event_shape!r}."
        ) from None
    if not shape or any(d <= 0 for d in shape):
        raise ValueError(
            f"`event_shape` must be a non-empty tuple of positive ints, got "
            f"{event_shape!r}."
        )
    return shape


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
    return int(value)


@contextlib.contextmanager
def _policy_scope(policy):
    """Sets Keras's global dtype policy for the block and restores it after, even on error."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _in_multi_worker_replica():
    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return False
    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


@keras.saving.register_keras_serializable(package="unigen")
class GenerativeModel(keras.Model):
    """Base class of every unigen model: a `keras.Model` that is a distribution.

    Args:
        event_shape: shape of one example, for example ``(8, 8, 1)`` or ``(2,)``.
        num_levels: number of discrete levels of each data value, or None for
            continuous data. With L levels the data are integers 0..L-1 and
            ``log_prob`` is a log probability mass.
        **kwargs: passed to `keras.Model` (for example ``name``). ``dtype``
            names the precision of the networks (default: the global Keras
            dtype policy, ``keras.config.dtype_policy()``); the model itself
            always computes in float32.

    Calling the model on a batch returns the per-example training objective
    (log p(x) for explicit models); the default ``compute_loss`` minimises its
    negative mean, scaled for the number of replicas.
    """

    #: True when ``log_prob`` is available (False for implicit models).
    has_log_prob = True

    def __init__(self, event_shape, num_levels=None, **kwargs):
        dtype = kwargs.pop("dtype", None)
        self._precision_policy = (keras.config.dtype_policy() if dtype is None
                                  else keras.dtype_policies.get(dtype))
        # Densities and losses are computed by the model itself: always float32.
        super().__init__(dtype="float32", **kwargs)
        self.event_shape = _as_event_shape(event_shape)
        if num_levels is not None:
            num_levels = _check_positive_int("num_levels", num_levels)
            if num_levels < 2:
                raise ValueError(f"`num_levels` must be at least 2, got {num_levels}.")
        self.num_levels = num_levels

    # ----------------------------------------------------------------- public
    @property
    def precision(self):
        """Name of the dtype policy of the model's networks, e.g. "mixed_bfloat16".

        Set by the global Keras policy in force when the model was constructed
        (``unigen.fit(..., mixed_precision=...)`` sets it around a factory). The
        model's own arithmetic (``log_prob``, losses) is float32 whatever it is.
        """
        return self._precision_policy.name

    @property
    def event_size(self):
        """Number of dimensions D of one example."""
        return int(math.prod(self.event_shape))

    def log_prob(self, x):
        """Log p(x) in nats, one value per example, shape ``[batch]``.

        Args:
            x: a batch of shape ``[batch, *event_shape]`` in the data space the
                model was trained on (as `unigen.datasets` yields it).

        Raises:
            unigen.errors.DataError: the batch has the wrong shape or values.
            unigen.errors.ImplicitModelError: the model has no tractable density.
        """
        if not self.has_log_prob:
            raise errors.ImplicitModelError(self._implicit_message())
        x = self._convert_input(x)
        self._ensure_built()
        return self._log_prob(x)

    def bits_per_dim(self, x):
        """-log2 p(x) / D per example: the usual unit for images."""
        return -self.log_prob(x) / (self.event_size * math.log(2.0))

    def sample(self, num_samples, seed=None):
        """Draws ``num_samples`` examples in the data space.

        Args:
            num_samples: positive int.
            seed: int for reproducible draws, or None for fresh ones.

        Returns:
            float32 tensor ``[num_samples, *event_shape]``. With ``num_levels=L``
            the values are integers in 0..L-1 (stored as float32).
        """
        num_samples = _check_positive_int("num_samples", num_samples)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an int or None, got {seed!r}.")
        self._ensure_built()
        return self._sample(num_samples, None if seed is None else int(seed))

    def validate_data(self, x):
        """Checks a batch against what the model expects; raises `DataError`.

        Checks, in order: numeric dtype, shape ``[batch, *event_shape]``, finite
        values, and for discrete models integer levels in ``[0, num_levels-1]``.
        Works on NumPy values; `unigen.fit` calls it on the first batch.
        """
        x = np.asarray(x)
        if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_):
            raise errors.DataError(
                f"Data must be numeric, got dtype {x.dtype}. Convert it with "
                f"np.asarray(x, dtype='float32')."
            )
        self._validate_shape(tuple(x.shape))
        if x.shape[0] == 0:
            raise errors.DataError("The batch is empty (0 examples).")
        if np.issubdtype(x.dtype, np.floating) and not np.all(np.isfinite(x)):
            bad = int(np.size(x) - np.count_nonzero(np.isfinite(x)))
            raise errors.DataError(
                f"The data contain {bad} NaN or infinite value(s). Remove or impute "
                f"them before training (for example x[np.isfinite(x).all(axis=...)])."
            )
        if self.num_levels is not None:
            self._validate_levels(x)

    def data_dependent_init(self, x):
        """Initialises parameters from the first batch (no-op by default).

        `unigen.fit` calls it once, eagerly, before the first training step of a
        fresh run (not on resume). ``x`` is a float32 tensor batch.
        """
        del x

    # ----------------------------------------------------------- Keras hooks
    def call(self, x, training=False):
        """Per-example training objective; log p(x) for explicit models."""
        return self._log_prob(self._preprocess(x))

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Negative mean of ``call``'s output, scaled for replicas."""
        del x, y, sample_weight, training
        return scale_loss_for_replicas(-tf.reduce_mean(y_pred))

    def get_metrics_result(self):
        """Metric values; shape [1] inside a multi-worker replica.

        Keras reduces a training step's logs across workers with
        ``strategy.reduce("MEAN", value, axis=0)``, which fails on scalars
        (tensorflow#72388); custom ``train_step``s return this method's result.
        """
        logs = super().get_metrics_result()
        if _in_multi_worker_replica():
            logs = {k: tf.reshape(v, [1]) for k, v in logs.items()}
        return logs

    def get_config(self):
        return {
            **super().get_config(),
            # The networks' policy, so that a reloaded model is rebuilt in it.
            "dtype": keras.dtype_policies.serialize(self._precision_policy),
            "event_shape": list(self.event_shape),
            "num_levels": self.num_levels,
        }

    @classmethod
    def from_config(cls, config):
        """Rebuilds the model with its networks in the saved precision."""
        config = dict(config)
        dtype = config.get("dtype")
        policy = keras.config.dtype_policy() if dtype is None else keras.dtype_policies.get(dtype)
        with _policy_scope(policy):
            return cls(**config)

    def build_from_config(self, config):
        with _policy_scope(self._precision_policy):
            super().build_from_config(config)

    def compile_from_config(self, config):
        """Recompiles a reloaded model (Keras's own version skips models that
        override ``compile``, as this class does)."""
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if getattr(self, "optimizer", None) is not None and self.built:
            self.optimizer.build(self.trainable_variables)

    def compile(self, optimizer="rmsprop", *args, **kwargs):
        """`keras.Model.compile`; under "mixed_float16" the optimizer is wrapped
        in a `keras.optimizers.LossScaleOptimizer` (unless ``auto_scale_loss=False``)."""
        if kwargs.get("auto_scale_loss", True):
            optimizer = self._loss_scaled(optimizer)
        super().compile(optimizer, *args, **kwargs)

    # ----------------------------------------------------- subclass hooks
    def _log_prob(self, x):
        raise NotImplementedError(f"{type(self).__name__} must implement `_log_prob`.")

    def _sample(self, num_samples, seed):
        raise NotImplementedError(f"{type(self).__name__} must implement `_sample`.")

    def _preprocess(self, x):
        """Maps data as passed to the float32 tensor the hooks work on."""
        return tf.cast(x, "float32")

    def compile_for_fit(self, *, learning_rate=1e-3, optimizer=None, **compile_kwargs):
        """Compiles with unigen's defaults; `unigen.fit` calls it when needed.

        Args:
            learning_rate: learning rate of the default Adam optimizer.
            optimizer: a Keras optimizer, name or None for Adam.
            **compile_kwargs: for example ``jit_compile``, ``steps_per_execution``.
        """
        if optimizer is None:
            optimizer = keras.optimizers.Adam(learning_rate)
        self.compile(optimizer=optimizer, **compile_kwargs)

    def training_state(self):
        """Variables a checkpoint must hold to resume training exactly.

        The model's variables (weights and random-generator states) followed by
        the optimizer's (moments, step counter); builds the optimizer if needed.
        Models with several optimizers (GANs) override it.
        """
        optimizer = getattr(self, "optimizer", None)
        if optimizer is None:
            return list(self.variables)
        if not optimizer.built:
            optimizer.build(self.trainable_variables)
        return list(self.variables) + list(optimizer.variables)

    # ------------------------------------------------------------- helpers
    def _implicit_message(self):
        return (
            f"{type(self).__name__} is an implicit model: it can sample but defines "
            f"no tractable log_prob. Estimate its likelihood with the evaluation "
            f"estimators (for example a Parzen-window estimate) instead."
        )

    def _ensure_built(self):
        if not self.built:
            # Networks created while building (flow conditioners, default VAE
            # networks) take the model's precision.
            with _policy_scope(self._precision_policy):
                self.build((None, *self.event_shape))

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

    def _convert_input(self, x):
        if tf.executing_eagerly() and not isinstance(x, tf.Tensor | tf.Variable):
            self.validate_data(x)
        elif tf.executing_eagerly():
            self.validate_data(x.numpy())
        else:
            self._validate_shape(tuple(x.shape))
        return self._preprocess(tf.convert_to_tensor(x))

    def _validate_shape(self, shape):
        expected = (None, *self.event_shape)
        if tuple(shape[1:]) == self.event_shape and len(shape) == len(expected):
            return
        hint = ""
        if tuple(shape) == self.event_shape:
            hint = " It looks like a single example: add a batch axis with x[None]."
        elif (*tuple(shape[1:]), 1) == self.event_shape:
            hint = " Add the channel axis with x[..., None]."
        raise errors.DataError(
            f"{type(self).__name__} expects batches of shape [batch, "
            f"{', '.join(str(d) for d in self.event_shape)}] (event_shape="
            f"{self.event_shape}), got shape {list(shape)}.{hint}"
        )

    def _validate_levels(self, x):
        top = self.num_levels - 1
        lo, hi = float(np.min(x)), float(np.max(x))
        integral = np.issubdtype(x.dtype, np.integer) or bool(np.all(np.floor(x) == x))
        if integral and lo >= 0 and hi <= top:
            return
        if not integral and lo >= 0.0 and hi <= 1.0:
            raise errors.DataError(
                f"The data look scaled to [0, 1] (non-integer values in "
                f"[{lo:g}, {hi:g}]), but {type(self).__name__} expects integer "
                f"levels 0..{top} as unigen.datasets loads them. Pass the data "
                f"unscaled (for example np.round(x * {top})), or build the model "
                f"with num_levels=None for continuous data."
            )
        raise errors.DataError(
            f"{type(self).__name__} has num_levels={self.num_levels} and expects "
            f"integer values in 0..{top}, got values in [{lo:g}, {hi:g}]"
            f"{'' if integral else ' that are not integers'}. Build the model "
            f"with the num_levels of your data (256 for uint8 images) or "
            f"num_levels=None for continuous data."
        )
