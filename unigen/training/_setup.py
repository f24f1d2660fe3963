"""Checking `unigen.fit`'s arguments and building the model in the strategy's scope."""

import math

import keras
import numpy as np
import tensorflow as tf

# `unigen.base` imports this package (replica scaling), so its names are looked up at call time.
from unigen import _seeding, errors
from unigen import base as _base
from unigen.training import _data

__all__ = []

MIXED_PRECISIONS = ("mixed_float16", "mixed_bfloat16")


def check_seed(seed):
    """``seed`` as an int in [0, 2**32 - 1] (None stays None); else a `ValueError`."""
    return _seeding.check_seed(
        seed, hint="Pass for example seed=0; None draws one and stores it in config.json.")


def check_learning_rate(learning_rate):
    """``learning_rate`` as a positive finite float."""
    if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.number)) \
            or not math.isfinite(float(learning_rate)) or not float(learning_rate) > 0:
        raise ValueError(
            f"`learning_rate` must be a positive finite number, got {learning_rate!r}. "
            f"Pass for example learning_rate=1e-3, or a compiled optimizer= for a schedule."
        )
    return float(learning_rate)


def check_mixed_precision(mixed_precision):
    if mixed_precision is not None and mixed_precision not in MIXED_PRECISIONS:
        raise ValueError(
            f"`mixed_precision` must be None, {MIXED_PRECISIONS[0]!r} (GPUs) or "
            f"{MIXED_PRECISIONS[1]!r} (TPUs and CPUs), got {mixed_precision!r}."
        )


def check_verbose(verbose):
    if isinstance(verbose, bool) or verbose not in ("auto", 0, 1, 2):
        raise ValueError(f'`verbose` must be "auto", 0 (silent), 1 (progress bar) or 2 '
                         f"(one line per epoch), got {verbose!r}.")
    return verbose


def check_sample_every_epoch(value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ValueError(f"`sample_every_epoch` must be an int >= 0 (samples in each epoch's "
                         f"PNG grid; 0 turns the grid off), got {value!r}.")
    return int(value)


def check_callbacks(callbacks):
    """``callbacks`` as a list of `keras.callbacks.Callback`."""
    if isinstance(callbacks, keras.callbacks.Callback):
        raise TypeError(f"`callbacks` must be a list of Keras callbacks, got one "
                        f"{type(callbacks).__name__}; wrap it in a list: callbacks=[callback].")
    try:
        callbacks = list(callbacks)
    except TypeError:
        raise TypeError(f"`callbacks` must be a list of keras.callbacks.Callback, got "
                        f"{callbacks!r}.") from None
    bad = [c for c in callbacks if not isinstance(c, keras.callbacks.Callback)]
    if bad:
        raise TypeError(f"`callbacks` must hold keras.callbacks.Callback objects, got "
                        f"{bad[0]!r} ({type(bad[0]).__name__}); for a function, wrap it in "
                        f"keras.callbacks.LambdaCallback(on_epoch_end=...).")
    return callbacks


#: Keras callbacks that set ``model.optimizer.learning_rate`` while training.
_RATE_SETTERS = (keras.callbacks.LearningRateScheduler, keras.callbacks.ReduceLROnPlateau)


def check_rate_callbacks(model, callbacks):
    """Refuses a learning-rate callback when the model's optimizer follows a schedule.

    Keras cannot set the rate of an optimizer built with a
    `keras.optimizers.schedules.LearningRateSchedule` (several families' default
    optimizers warm up or decay with one); it fails at the end of the first
    epoch. Checked before training instead, with the fix.
    """
    setters = [type(c).__name__ for c in callbacks if isinstance(c, _RATE_SETTERS)]
    optimizer = getattr(getattr(model, "optimizer", None), "inner_optimizer",
                        getattr(model, "optimizer", None))
    rate = getattr(optimizer, "_learning_rate", None)
    if setters and isinstance(rate, keras.optimizers.schedules.LearningRateSchedule):
        raise ValueError(
            f"`callbacks` hold {', '.join(setters)}, which sets the optimizer's learning "
            f"rate, but {type(model).__name__}'s optimizer follows a schedule "
            f"({type(rate).__name__}) whose rate Keras cannot set. Pass an optimizer with a "
            f"float learning rate, e.g. optimizer=unigen.training.FusedAdam(1e-3), or drop "
            f"the callback and put the rate you want in a schedule of your own.")


def build_in_scope(model, strategy, mixed_precision=None):
    if isinstance(model, type) and issubclass(model, _base.GenerativeModel):
        name = model.__name__
        raise TypeError(
            f"`model` is the class {name}, not a model: pass an instance, "
            f"{name}(event_shape=...), or a zero-argument factory, lambda: {name}(...)."
        )
    if not isinstance(model, keras.Model) and callable(model):
        policy = mixed_precision or keras.config.dtype_policy()
        # The networks take the policy in force when they are created and
        # built; the user's global policy is restored afterwards, even on error.
        with _base._policy_scope(policy), strategy.scope():
            model = model()
            if isinstance(model, _base.GenerativeModel):
                model._ensure_built()
    if not isinstance(model, _base.GenerativeModel):
        raise TypeError(
            f"`model` must be a unigen.GenerativeModel or a zero-argument factory "
            f"returning one, got {type(model).__name__}."
        )
    if mixed_precision is not None and model.precision != mixed_precision:
        raise ValueError(
            f"`mixed_precision={mixed_precision!r}` needs a model whose networks were "
            f"created under that policy, but this {type(model).__name__} was built "
            f"with precision {model.precision!r}. Pass a factory, unigen.fit(lambda: "
            f"{type(model).__name__}(...), mixed_precision={mixed_precision!r}), or "
            f"construct it in that precision, {type(model).__name__}(..., "
            f"dtype={mixed_precision!r})."
        )
    default = strategy is tf.distribute.get_strategy()
    if model.built and not default:
        weights = model.weights
        if weights and not strategy.extended.variable_created_in_scope(weights[0].value):
            raise ValueError(
                "The model's variables were created outside the strategy's scope. Pass "
                "a factory instead, unigen.fit(lambda: Model(...), ...), or build the "
                "model inside strategy.scope(). To go on training a model trained "
                "without the strategy, save it and load it in the factory: "
                "model.save('m.keras'); unigen.fit(lambda: unigen.load('m.keras'), ...) "
                "(its optimizer state comes along)."
            )
    with strategy.scope():
        if not default:
            # Keras records the strategy only for models created in its scope.
            model._distribute_strategy = strategy
        model._ensure_built()
    return model


def check_data(model, arrays, first, what):
    """Checks the data against ``model`` before any training; raises `DataError`.

    ``arrays`` are the data held in memory (`unigen.training._data.in_memory`:
    an array, a pair ``(x, y)``, a built-in dataset), checked whole: a NaN or
    an out-of-range level past the first batch would otherwise show up only as
    a diverged loss after training time was spent; so are the labels of a model
    that trains on ``(x, y)`` (`GenerativeModel.validate_labels`). For a `tf.data.Dataset`
    (``arrays`` None, possibly larger than memory) the first batch ``first`` is
    checked.
    """
    check_first_batch(model, first if arrays is None else arrays, what)


def check_first_batch(model, batch, what):
    """Checks a batch ``x``, ``(x,)`` or ``(x, y)``: the features and the labels."""
    x = _data.split_features(batch)
    y = batch[1] if isinstance(batch, tuple) and len(batch) > 1 else None
    try:
        model.validate_data(x)
        model.validate_labels(y)
    except errors.DataError as err:
        raise errors.DataError(f"In `{what}`: {err}") from None


def stream_check(model):
    """A `tf.data` map that stops a stream at its first batch failing the checks.

    A `tf.data.Dataset` is checked in full (`check_first_batch`) on its first
    batch only. Every later batch goes through this map, which checks in the
    pipeline what can be checked cheaply there (finite values; integer levels
    0..L-1; labels in the model's range) and raises an `InvalidArgumentError`
    before the step trains on a bad batch. `unigen.fit` then finds the batch
    with the full checks and reports it as a `DataError`. Without it a bad
    label fails deep inside the step on a CPU (or reads a zero vector on a
    GPU), and a bad level trains on silently.
    """
    levels = model.num_levels
    bounds = model._label_range()

    def check(*element):
        x = element[0]
        ok = [tf.reduce_all(tf.math.is_finite(x))]
        if levels is not None:
            ok += [tf.reduce_all(x >= 0.0), tf.reduce_all(x <= levels - 1.0),
                   tf.reduce_all(tf.math.floor(x) == x)]
        if bounds is not None and len(element) > 1:
            y = tf.cast(element[1], tf.float64)
            ok += [tf.reduce_all(y >= bounds[0]), tf.reduce_all(y <= bounds[1]),
                   tf.reduce_all(tf.math.floor(y) == y)]
        assertion = tf.debugging.Assert(tf.reduce_all(tf.stack(ok)), [_BAD_BATCH])
        with tf.control_dependencies([assertion]):
            return tuple(tf.identity(t) for t in element) if len(element) > 1 \
                else tf.identity(x)

    return check


#: What the in-pipeline check of a stream says when it stops it (`stream_check`).
_BAD_BATCH = "unigen: a batch of the dataset fails the input checks"
