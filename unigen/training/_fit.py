"""`unigen.fit`: one call that trains any unigen model on any strategy."""

import importlib.util
import os

import keras
import numpy as np
import tensorflow as tf

# `unigen.base` imports this package (replica scaling), so its names are looked up at call time.
from unigen import base as _base
from unigen import errors
from unigen._version import __version__
from unigen.training import _data, _rundir
from unigen.training._distribute import get_strategy, is_chief
from unigen.training.callbacks import RunWriter, StopOnNonFinite

__all__ = ["fit"]

MIXED_PRECISIONS = ("mixed_float16", "mixed_bfloat16")


def fit(model, data, *, epochs=1, batch_size=128, strategy=None, seed=None,
        output_dir=None, callbacks=(), validation_data=None, learning_rate=1e-3,
        optimizer=None, jit_compile=False, steps_per_execution=1, shuffle=True,
        shuffle_buffer=60_000, resume=True, tensorboard=False, verbose="auto",
        sample_every_epoch=64, mixed_precision=None):
    """Trains a generative model and returns its Keras `History`.

    What it does, in order: resolves the strategy (before any TensorFlow op, as
    multi-worker training requires); seeds every random generator; builds the
    model inside the strategy's scope; checks the first batch of data against
    the model; compiles with Adam unless the model is compiled; resumes from
    ``output_dir`` when it holds a checkpoint of the same run; calls
    `keras.Model.fit` with per-epoch reshuffling and the remainder dropped so
    every replica gets the same share of each global batch.

    Args:
        model: a `unigen.GenerativeModel`, or a zero-argument factory returning
            one (called inside the strategy's scope; required when the model's
            variables do not exist yet in the strategy's scope).
        data: a dataset name of `unigen.datasets` (its "train" split), a NumPy
            array, a pair ``(x, y)`` of arrays, or a `tf.data.Dataset` of ``x`` or
            ``(x, y)``, batched or not.
        epochs: total number of epochs (a resumed run continues up to it).
        batch_size: global batch size, split evenly across replicas.
        strategy: None, "mirrored", "multiworker", "tpu" or a
            `tf.distribute.Strategy`; see `unigen.get_strategy`.
        seed: int for a run that repeats bit for bit on the CPU; None draws one
            (stored in ``config.json`` so a resumed run continues identically).
        output_dir: directory for checkpoints (every epoch), ``history.json``,
            ``config.json``, ``model.keras`` and sample grids; running the same
            call again resumes. Only the chief worker writes.
        callbacks: extra Keras callbacks.
        validation_data: like ``data`` (a name means its "validation" split);
            reported as ``val_loss``.
        learning_rate: Adam's learning rate when unigen compiles the model.
        optimizer: a Keras optimizer to use instead of Adam.
        jit_compile: compile the training step with XLA.
        steps_per_execution: training steps per call into the compiled function.
        shuffle: reshuffle the data every epoch.
        shuffle_buffer: shuffle buffer size (the whole data when smaller).
        resume: resume from ``output_dir`` when possible; False starts over.
        tensorboard: also log to ``output_dir/tensorboard`` (needs the
            ``tensorboard`` package: ``pip install "unigen[tensorboard]"``).
        verbose: Keras verbosity: "auto", 0, 1 or 2.
        sample_every_epoch: samples in the per-epoch PNG grid of image models
            (0 turns it off).
        mixed_precision: None (the model's own precision, float32 unless the
            global Keras policy was mixed when it was built), "mixed_float16"
            (GPUs) or "mixed_bfloat16" (TPUs, recent CPUs and GPUs). The networks
            then compute in 16 bits with float32 variables, while likelihoods,
            log-determinants and losses stay float32; under "mixed_float16" every
            optimizer is a `keras.optimizers.LossScaleOptimizer`, which skips a
            step whose gradients overflow. Needs ``model`` to be a factory (built
            under the policy, which is restored afterwards) or a model built
            while the global policy was already set (``keras.config.set_dtype_policy``).

    Returns:
        `keras.callbacks.History` with a ``loss`` key and one entry per epoch
        of the whole run (resumed epochs included).

    Raises:
        unigen.errors.DataError: the data do not fit the model (shape, dtype,
            range, NaN, empty, fewer examples than one batch).
        unigen.errors.TrainingDivergedError: the loss became NaN or infinite;
            the model holds the weights of the last good checkpoint.
    """
    epochs = _base._check_positive_int("epochs", epochs)
    batch_size = _base._check_positive_int("batch_size", batch_size)
    steps_per_execution = _base._check_positive_int("steps_per_execution", steps_per_execution)
    _check_mixed_precision(mixed_precision)
    if not float(learning_rate) > 0:
        raise ValueError(f"`learning_rate` must be positive, got {learning_rate!r}.")
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            'tensorboard=True needs the tensorboard package: pip install "unigen[tensorboard]".'
        )
    strategy = get_strategy(strategy)
    chief = is_chief(strategy)
    replicas = strategy.num_replicas_in_sync
    if batch_size < replicas or batch_size % replicas:
        raise ValueError(
            f"`batch_size` ({batch_size}) must be a multiple of the number of "
            f"replicas ({replicas}) so that each replica gets the same share; use "
            f"{max(replicas, batch_size - batch_size % replicas)}."
        )

    old = _rundir.previous_config(output_dir) if output_dir and resume else None
    if seed is None:
        seed = old["data_seed"] if old else int(np.random.randint(0, 2**31 - 1))
        user_seed = None
    else:
        user_seed = int(seed)
        # Before the model is built, so that initial weights repeat too.
        keras.utils.set_random_seed(user_seed)
    model = _build_in_scope(model, strategy, mixed_precision)

    train = _data.to_dataset(data, event_rank=len(model.event_shape))
    first = _data.first_batch(train, batch_size)
    _check_first_batch(model, first, "data")
    num_examples = _data.count(train)
    if num_examples < batch_size:
        raise errors.DataError(
            f"The data hold {num_examples} examples, fewer than one batch of "
            f"{batch_size}; lower `batch_size` to at most {num_examples}."
        )
    steps = num_examples // batch_size
    val = None
    if validation_data is not None:
        val = _data.to_dataset(validation_data, event_rank=len(model.event_shape),
                               split="validation", what="validation_data")
        _check_first_batch(model, _data.first_batch(val, batch_size, "validation_data"),
                           "validation_data")
        val = _data.evaluation_batches(val, batch_size=batch_size, num_replicas=replicas)

    config = {
        "unigen_version": __version__,
        "model": _model_identity(model),
        "batch_size": batch_size,
        "seed": user_seed,
        "data_seed": int(seed),
        "epochs": epochs,
        "num_replicas": replicas,
        "num_examples": num_examples,
        "learning_rate": float(learning_rate),
        "data": data if isinstance(data, str) else type(data).__name__,
        "precision": model.precision,
    }
    if old:
        _rundir.check_same_run(output_dir, old, config)

    with strategy.scope():
        if model.compiled is False or getattr(model, "optimizer", None) is None:
            model.compile_for_fit(learning_rate=learning_rate, optimizer=optimizer,
                                  jit_compile=jit_compile,
                                  steps_per_execution=steps_per_execution)
        state = _rundir.load_checkpoint(output_dir) if old else None
        if state is None:
            initial_epoch, history = 0, {}
            model.data_dependent_init(tf.convert_to_tensor(_data.split_features(first)))
        else:
            initial_epoch, arrays, names = state
            _rundir.restore_variables(model.training_state(), arrays, names, output_dir)
            history_path = os.path.join(output_dir, _rundir.HISTORY)
            history = _rundir.read_json(history_path) if os.path.exists(history_path) else {}
    if output_dir and chief:
        os.makedirs(output_dir, exist_ok=True)
        _rundir.write_json(os.path.join(output_dir, _rundir.CONFIG), config)

    guard = StopOnNonFinite()
    internal = [guard]
    writer = None
    if output_dir:
        image = len(model.event_shape) == 3 and model.event_shape[-1] in (1, 3)
        grid = None
        if image and sample_every_epoch:
            grid = {"num_samples": int(sample_every_epoch), "seed": 0,
                    "num_levels": model.num_levels}
        writer = RunWriter(output_dir, model.training_state, history, guard,
                           sample_grid=grid, enabled=chief)
        internal.append(writer)
        if tensorboard and chief:
            internal.append(keras.callbacks.TensorBoard(os.path.join(output_dir, "tensorboard")))

    if initial_epoch >= epochs:  # a finished run: restored, nothing left to train
        return _history(model, history, 0, len(next(iter(history.values()), [])))
    train_batches = _data.training_batches(
        train, batch_size=batch_size, steps=steps, first_epoch=initial_epoch, epochs=epochs,
        seed=seed, shuffle=shuffle, buffer_size=min(shuffle_buffer, num_examples),
        arrays=_data.in_memory(data))
    with strategy.scope():
        keras_history = model.fit(
            train_batches, epochs=epochs, initial_epoch=initial_epoch,
            steps_per_epoch=steps, validation_data=val,
            callbacks=internal + list(callbacks), verbose=verbose, shuffle=False)
    if writer is None:
        history = keras_history.history
    result = _history(model, history, 0, len(next(iter(history.values()), [])))
    if guard.stopped_at is not None:
        _handle_divergence(model, guard, writer, output_dir, result)
    return result


def _model_identity(model):
    """The model's class and config without its auto-generated name."""
    config = keras.saving.serialize_keras_object(model)
    inner = {k: v for k, v in config.get("config", {}).items() if k != "name"}
    return {"class_name": config.get("class_name"), "module": config.get("module"),
            "config": inner}


def _history(model, history, first, last):
    result = keras.callbacks.History()
    result.set_model(model)
    result.history = history
    result.epoch = list(range(first, last))
    return result


def _check_mixed_precision(mixed_precision):
    if mixed_precision is not None and mixed_precision not in MIXED_PRECISIONS:
        raise ValueError(
            f"`mixed_precision` must be None, {MIXED_PRECISIONS[0]!r} (GPUs) or "
            f"{MIXED_PRECISIONS[1]!r} (TPUs and CPUs), got {mixed_precision!r}."
        )


def _build_in_scope(model, strategy, mixed_precision=None):
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
            f"{type(model).__name__}(...), mixed_precision={mixed_precision!r}), or call "
            f"keras.config.set_dtype_policy({mixed_precision!r}) before constructing "
            f"the model."
        )
    default = strategy is tf.distribute.get_strategy()
    if model.built and not default:
        weights = model.weights
        if weights and not strategy.extended.variable_created_in_scope(weights[0].value):
            raise ValueError(
                "The model's variables were created outside the strategy's scope. Pass "
                "a factory instead, unigen.fit(lambda: Model(...), ...), or build the "
                "model inside strategy.scope()."
            )
    with strategy.scope():
        if not default:
            # Keras records the strategy only for models created in its scope.
            model._distribute_strategy = strategy
        model._ensure_built()
    return model


def _check_first_batch(model, batch, what):
    x = _data.split_features(batch)
    try:
        model.validate_data(x)
    except errors.DataError as err:
        raise errors.DataError(f"In `{what}`: {err}") from None


def _handle_divergence(model, guard, writer, output_dir, history):
    epoch, batch, value = guard.stopped_at
    good = writer.last_good_epoch if writer is not None else None
    message = (
        f"Training stopped at epoch {epoch + 1}, batch {batch + 1}: the loss became "
        f"{value}. Lower the learning rate, or check the data for extreme values."
    )
    checkpoint = None
    if output_dir and good:
        checkpoint = os.path.join(output_dir, _rundir.CHECKPOINT)
        _, arrays, names = _rundir.load_checkpoint(output_dir)
        _rundir.restore_variables(model.training_state(), arrays, names, output_dir)
        message += (
            f" The last good checkpoint (after epoch {good}) is kept in {output_dir} "
            f"and its weights were restored into the model."
        )
    elif output_dir:
        message += " No epoch had finished, so there is no good checkpoint."
    else:
        message += " Pass output_dir= to keep a checkpoint after every epoch."
    raise errors.TrainingDivergedError(message, history=history, checkpoint=checkpoint)
