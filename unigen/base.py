"""`GenerativeModel`: the Keras 3 base class of every unigen model.

A generative model describes a distribution p(x) over a data space with a fixed
``event_shape``. Every family (Gaussian baseline, GANs, flows, VAEs) offers the
same public surface:

* ``sample(num_samples, seed=None, **options)``: draws in the data space the user
  trains on.
* ``log_prob(x, **options)``: log p(x) in nats per example. Exact where the family allows it;
  a bound or an estimate says so in its docstring; an implicit model (a GAN) raises
  `unigen.errors.ImplicitModelError`.
* ``bits_per_dim(x)``: -log p(x) / (D log 2), with D the number of dimensions.

Data domain. With ``num_levels=None`` the model is a density over real vectors
and ``log_prob`` is a log density. With ``num_levels=L`` the data are discrete
pixel levels {0, ..., L-1} (as `unigen.datasets` yields them: digits have 17
levels, Fashion-MNIST 256) and ``log_prob`` is a log probability mass (or a
documented bound on it), so numbers from different families are comparable.
Every model's default is ``num_levels="auto"``: 256 levels (8-bit images) for an
image event (height, width, channels), continuous data for other shapes.

The contract. Subclasses write the hooks ``_log_prob(x, **options)``,
``_sample(num_samples, seed, **options)`` and ``build``; no family overrides the
public ``sample`` or ``log_prob``, which check and convert their arguments (the
shared options ``seed``, ``num_samples``, ``temperature`` and ``labels`` are
checked here, once) and then call the hook. A family may override
``data_dependent_init`` (called once by `unigen.fit` on the first batch, before
training), ``compute_loss`` / ``train_step``, ``likelihood_estimators`` (what
`unigen.evaluate` may use to score it) and ``latent_decoder`` (for annealed
importance sampling). Models that train against a critic hold
`unigen.adversarial.Critic` layers (``critics``); compiling, saving and
checkpointing their optimizers is done here for every family.

Seeds. Every model takes ``seed`` (default 0): its construction and build run
with Python's `random` module seeded from it, so the initial weights and noise
streams are a function of the seed alone, the same in every process however the
model is built (`unigen._seeding`); ``seed=None`` draws from the global state.

Precision. A model records the Keras dtype policy in force when it is constructed
(``precision``: "float32", "mixed_float16" or "mixed_bfloat16"). Its networks
(layers created while it is constructed and built) compute in that policy; the
model itself always computes in float32, so densities, log-determinants and
losses stay float32 (see `unigen.fit`'s ``mixed_precision``).
"""

import contextlib
import functools
import math
import os

import keras
import numpy as np
import tensorflow as tf

from unigen import _seeding, errors
from unigen._checks import (
    AUTO_LEVELS,
    InputChecksMixin,
    check_positive_int,
    hook_options,
    resolve_num_levels,
    unknown_options_message,
)
from unigen._model_state import LatentDecoder, ModelStateMixin
from unigen.training._distribute import scale_loss_for_replicas

__all__ = ["GenerativeModel", "LatentDecoder"]


def _as_event_shape(event_shape):
    try:
        if isinstance(event_shape, str):
            raise TypeError
        shape = tuple(int(d) for d in event_shape)
        if shape != tuple(event_shape):  # (2.5,) is not (2,)
            raise ValueError
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


_check_positive_int = check_positive_int
_hook_options = hook_options


@contextlib.contextmanager
def _policy_scope(policy):
    """Sets Keras's global dtype policy for the block and restores it after, even on error."""
    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        yield
    finally:
        keras.config.set_dtype_policy(previous)


def _in_precision(init):
    """Wraps a model class's ``__init__`` so that the networks it creates take its ``dtype``.

    ``Model(..., dtype="mixed_bfloat16")`` then means what constructing the model
    under ``keras.config.set_dtype_policy("mixed_bfloat16")`` means (the factory
    path of ``unigen.fit(..., mixed_precision=...)``): every network the
    constructor creates computes in that policy, not only those created later
    when the model is built.
    """

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        dtype = kwargs.get("dtype")
        try:
            policy = None if dtype is None else keras.dtype_policies.get(dtype)
        except (ValueError, TypeError):
            policy = None  # GenerativeModel.__init__ reports the bad value
        if policy is None:
            init(self, *args, **kwargs)
            return
        with _policy_scope(policy):
            init(self, *args, **kwargs)

    return wrapper


def _in_multi_worker_replica():
    if not tf.distribute.has_strategy() or tf.distribute.in_cross_replica_context():
        return False
    strategy = tf.distribute.get_strategy()
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy)


@keras.saving.register_keras_serializable(package="unigen")
class GenerativeModel(InputChecksMixin, ModelStateMixin, keras.Model):
    """Base class of every unigen model: a `keras.Model` that is a distribution.

    Args:
        event_shape: shape of one example, for example ``(8, 8, 1)`` or ``(2,)``.
        num_levels: the data domain, by one rule for every model
            (`unigen._checks.resolve_num_levels`): ``"auto"`` (the default)
            means 256 levels (8-bit images) for an image event (height, width,
            channels) and None for vectors; an int L means integer data 0..L-1
            and ``log_prob`` is a log probability mass; None means continuous
            data and ``log_prob`` is a log density. Families that need discrete
            data (autoregressive, sequence models) refuse None.
        seed: int seeding the model's initial weights and noise streams (see
            "Seeds" above), or None for Keras's global random state.
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
    #: Classes of a conditional model (labels 0..K-1), None when unconditional.
    num_classes = None
    #: The family models continuous data (``num_levels=None``).
    supports_continuous = True
    #: The family models discrete levels (``num_levels=L``).
    supports_discrete = True
    #: What the ``num_levels`` errors of the family add (see `resolve_num_levels`).
    levels_hint = ""

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is not None and not getattr(init, "_unigen_seeded", False):
            cls.__init__ = _seeding.seeded_init(_in_precision(init), default_seed=0)

    def __init__(self, event_shape, num_levels=AUTO_LEVELS, seed=0, **kwargs):
        dtype = kwargs.pop("dtype", None)
        self._precision_policy = (keras.config.dtype_policy() if dtype is None
                                  else keras.dtype_policies.get(dtype))
        # Densities and losses are computed by the model itself: always float32.
        try:
            super().__init__(dtype="float32", **kwargs)
        except ValueError as err:  # Keras names the keys but not the options there are
            if "Unrecognized keyword arguments" not in str(err):
                raise
            raise TypeError(unknown_options_message(type(self), kwargs)) from None
        self.event_shape = _as_event_shape(event_shape)
        self.num_levels = resolve_num_levels(num_levels, self.event_shape, type(self))
        self.seed = _seeding.check_seed(seed)
        # The training noise of every family (latent codes, dequantization and
        # reparameterisation noise, penalty weights): one seeded stream, checkpointed.
        self.noise_generator = keras.random.SeedGenerator(self.seed, name="noise_generator")

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

    def log_prob(self, x, **options):
        """Log p(x) in nats, one value per example, shape ``[batch]``.

        Args:
            x: a batch of shape ``[batch, *event_shape]`` in the data space the
                model was trained on (as `unigen.datasets` yields it).
            **options: what the family's estimator takes, for example
                ``num_samples`` and ``seed`` (importance-weighted bounds) or
                ``labels`` (conditional models); see the family's ``_log_prob``.

        Raises:
            unigen.errors.DataError: the batch has the wrong shape or values.
            unigen.errors.ImplicitModelError: the model has no tractable density.
            TypeError: an option the model does not take.
        """
        if not self.has_log_prob:
            raise errors.ImplicitModelError(self._implicit_message())
        x = self._convert_input(x)
        options = self._check_call_options(self._log_prob, "log_prob", options, int(x.shape[0]))
        self._ensure_built()
        return self._log_prob(x, **options)

    def bits_per_dim(self, x):
        """-log2 p(x) / D per example: the usual unit for images."""
        return -self.log_prob(x) / (self.event_size * math.log(2.0))

    def sample(self, num_samples, seed=None, **options):
        """Draws ``num_samples`` examples in the data space.

        Args:
            num_samples: positive int.
            seed: int for reproducible draws, or None for fresh ones.
            **options: what the family takes, for example ``temperature``
                (flows) or ``labels`` (conditional models: ints in 0..K-1, one
                per sample; default 0, 1, ..., K-1, 0, 1, ...).

        Returns:
            float32 tensor ``[num_samples, *event_shape]``. With ``num_levels=L``
            the values are integers in 0..L-1 (stored as float32).
        """
        num_samples = _check_positive_int("num_samples", num_samples)
        seed = _seeding.check_seed(seed)
        options = self._check_call_options(self._sample, "sample", options, num_samples)
        if self.num_classes is not None and "labels" in _hook_options(self._sample):
            options.setdefault("labels", tf.constant(
                np.arange(num_samples) % self.num_classes, "int32"))
        self._ensure_built()
        return self._sample(num_samples, seed, **options)

    def save(self, filepath, *args, **kwargs):
        """`keras.Model.save` to a ``.keras`` file; the folder must exist (says so if not)."""
        folder = os.path.dirname(os.path.abspath(os.fspath(filepath)))
        if not os.path.isdir(folder):
            raise FileNotFoundError(
                f"Cannot save {type(self).__name__} to {os.fspath(filepath)!r}: the folder "
                f"{folder!r} does not exist. Create it first (os.makedirs(folder, "
                f"exist_ok=True)) or choose an existing folder.")
        return super().save(filepath, *args, **kwargs)

    def likelihood_estimators(self):
        """The likelihood estimators `unigen.evaluate` may use, the reported one first.

        Keys of `unigen.evaluation._likelihood.BIASES`: "exact", "dequantization",
        "variational", "importance", "elbo", "ais", "parzen", ... Default: "exact"
        for a model with ``log_prob``, "parzen" for an implicit one.
        """
        return ["exact"] if self.has_log_prob else ["parzen"]

    def latent_decoder(self):
        """What annealed importance sampling needs of a latent-variable model, or None.

        A model with a decoder returns a `LatentDecoder`; evaluation then
        offers "ais" (`unigen.evaluation.ais_log_prob`).
        """
        return None

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
            "seed": self.seed,
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

    # ----------------------------------------------------- subclass hooks
    def _log_prob(self, x, **options):
        raise NotImplementedError(f"{type(self).__name__} must implement `_log_prob`.")

    def _sample(self, num_samples, seed, **options):
        raise NotImplementedError(f"{type(self).__name__} must implement `_sample`.")

    def _preprocess(self, x):
        """Maps data as passed to the float32 tensor the hooks work on."""
        return tf.cast(x, "float32")

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
            with _policy_scope(self._precision_policy), _seeding.seeded(self.seed, "build"):
                self.build((None, *self.event_shape))

