"""`unigen.fit`: one call that trains any unigen model on any strategy."""

import contextlib
import importlib.util
import os

import keras
import numpy as np
import tensorflow as tf

from unigen import _checks, errors

# `unigen.base` imports this package (replica scaling), so its names are looked up at call time.
from unigen import base as _base
from unigen.training import _data, _quiet, _runconfig, _rundir, _setup
from unigen.training._distribute import get_strategy, is_chief, resolve_jit_compile
from unigen.training.callbacks import RunWriter, StopOnNonFinite

__all__ = ["fit"]


def fit(model, data, *, epochs=1, batch_size=128, strategy=None, seed=None,
        output_dir=None, callbacks=(), validation_data=None, learning_rate=1e-3,
        optimizer=None, jit_compile="auto", steps_per_execution=1, shuffle=True,
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
        seed: int in [0, 2**32 - 1] for a run that repeats bit for bit on the
            CPU; None draws one (stored in ``config.json``; a resumed run with
            None continues with the stored seed).
        output_dir: directory for checkpoints (every epoch), ``history.json``,
            ``config.json``, ``model.keras`` and sample grids; running the same
            call again resumes when every setting that changes the training is
            the same (see the docs page "Reliability"). Only the chief worker
            writes, and it locks the directory for the whole run.
        callbacks: extra Keras callbacks.
        validation_data: like ``data`` (a name means its "validation" split);
            reported as ``val_loss``.
        learning_rate: Adam's learning rate when unigen compiles the model.
        optimizer: a Keras optimizer to use instead of Adam (an object or a name).
            One made outside ``strategy``'s scope and not yet used is re-made
            inside it from its config (``model.optimizer`` is then that copy).
        jit_compile: compile the training step with XLA: True, False, or "auto"
            (the default): XLA on GPUs and TPUs, not on CPUs, where TensorFlow's
            own convolution kernels are faster (see the docs page "Benchmarks").
        steps_per_execution: training steps per call into the compiled function.
        shuffle: reshuffle the data every epoch.
        shuffle_buffer: the examples are shuffled within consecutive blocks of
            this many (one block, a uniform permutation, when it holds the whole
            data); a `tf.data.Dataset` holds one block in memory at a time.
        resume: resume from ``output_dir`` when it holds the same run; False
            deletes the run's files there (config, checkpoint, history, model,
            samples) and starts over.
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
            range, NaN, empty, ragged, fewer examples than one batch, labels
            missing or out of range). Arrays are checked whole before training;
            a `tf.data.Dataset` in full on its first batch, and each later
            batch on the way (finite values, levels, labels): a bad one stops
            the run before it is trained on, and the error names it.
        unigen.errors.RunMismatchError: ``output_dir`` holds a run with other
            settings; the message names each one, old and new.
        unigen.errors.RunDirectoryLockedError: another process writes to
            ``output_dir``.
        unigen.errors.RunDirectoryError: ``output_dir`` is a file, or a file of
            the run in it is missing or damaged (named in the message).
        unigen.errors.TrainingDivergedError: the loss became NaN or infinite;
            the model holds the weights of the last good checkpoint on disk
            (of this run or of the run it resumed).
    """
    epochs = _base._check_positive_int("epochs", epochs)
    batch_size = _base._check_positive_int("batch_size", batch_size)
    steps_per_execution = _base._check_positive_int("steps_per_execution", steps_per_execution)
    shuffle_buffer = _base._check_positive_int("shuffle_buffer", shuffle_buffer)
    sample_every_epoch = _setup.check_sample_every_epoch(sample_every_epoch)
    resume = _checks.check_bool("resume", resume)
    shuffle = _checks.check_bool("shuffle", shuffle)
    tensorboard = _checks.check_bool("tensorboard", tensorboard)
    verbose = _setup.check_verbose(verbose)
    callbacks = _setup.check_callbacks(callbacks)
    _setup.check_mixed_precision(mixed_precision)
    learning_rate = _setup.check_learning_rate(learning_rate)
    seed = _setup.check_seed(seed)
    if tensorboard and importlib.util.find_spec("tensorboard") is None:
        raise ImportError(
            'tensorboard=True needs the tensorboard package: pip install "unigen[tensorboard]".'
        )
    _quiet.probe_devices()
    strategy = get_strategy(strategy)
    jit_compile = resolve_jit_compile(jit_compile, strategy)
    chief = is_chief(strategy)
    replicas = strategy.num_replicas_in_sync
    if batch_size < replicas or batch_size % replicas:
        raise ValueError(
            f"`batch_size` ({batch_size}) must be a multiple of the number of "
            f"replicas ({replicas}) so that each replica gets the same share; use "
            f"{max(replicas, batch_size - batch_size % replicas)}."
        )
    lock = contextlib.nullcontext()
    if output_dir is not None:
        output_dir = os.fspath(output_dir)
        if chief:
            _rundir.prepare(output_dir)
            lock = _rundir.RunLock(output_dir)
    options = dict(
        epochs=epochs, batch_size=batch_size, seed=seed, output_dir=output_dir,
        callbacks=callbacks, validation_data=validation_data,
        learning_rate=learning_rate, optimizer=optimizer, jit_compile=jit_compile,
        steps_per_execution=steps_per_execution, shuffle=shuffle,
        shuffle_buffer=shuffle_buffer, resume=resume, tensorboard=tensorboard,
        verbose=verbose, sample_every_epoch=sample_every_epoch,
        mixed_precision=mixed_precision, chief=chief)
    with lock:  # held until the run has written its last file
        return _train(model, data, strategy, **options)


def _train(model, data, strategy, *, epochs, batch_size, seed, output_dir, resume, chief,
           **options):
    """The body of `fit`, run while the output directory is locked."""
    if output_dir and chief:
        _rundir.remove_temporaries(output_dir)
    old = _rundir.previous_config(output_dir) if output_dir and resume else None
    if old and not _rundir.has_trained(output_dir):
        # Stopped in its first epoch (bad data, divergence, Ctrl-C): nothing to resume,
        # so a corrected call starts afresh instead of being refused as another run.
        old = None
    user_seed = seed if seed is not None else (old or {}).get("seed")
    if user_seed is not None:
        # Before the model is built, so that initial weights repeat too.
        keras.utils.set_random_seed(user_seed)
        data_seed = user_seed if seed is not None or not old else old["data_seed"]
    else:
        data_seed = old["data_seed"] if old else int(np.random.randint(0, 2**31 - 1))
    model = _setup.build_in_scope(model, strategy, options["mixed_precision"])
    train, arrays, first, num_examples, val, val_stream = _prepare_data(
        model, data, options["validation_data"], batch_size, strategy.num_replicas_in_sync)
    with strategy.scope():
        if model.compiled is False or getattr(model, "optimizer", None) is None:
            model.compile_for_fit(learning_rate=options["learning_rate"],
                                  optimizer=options["optimizer"],
                                  jit_compile=options["jit_compile"],
                                  steps_per_execution=options["steps_per_execution"])
    _setup.check_rate_callbacks(model, options["callbacks"])
    config = _runconfig.run_config(
        model, data=data, first=first, num_examples=num_examples, arrays=arrays,
        batch_size=batch_size, user_seed=user_seed, data_seed=data_seed, epochs=epochs,
        replicas=strategy.num_replicas_in_sync, learning_rate=options["learning_rate"],
        shuffle=options["shuffle"], shuffle_buffer=options["shuffle_buffer"],
        jit_compile=options["jit_compile"])
    if old:
        _runconfig.check_same_run(output_dir, old, config)
    with strategy.scope():
        initial_epoch, history = _restore_or_init(model, output_dir, old, first, chief)
    if output_dir and chief:
        if not resume:
            _rundir.clear_run(output_dir)
        _rundir.write_json(os.path.join(output_dir, _rundir.CONFIG), config, stage="config")
    guard = StopOnNonFinite(keep_last_good=True, initial_epoch=initial_epoch)
    writer = _run_writer(model, output_dir, history, guard, chief, initial_epoch,
                         options["sample_every_epoch"])
    internal = [guard] + ([writer] if writer else [])
    if writer and options["tensorboard"] and chief:
        internal.append(keras.callbacks.TensorBoard(os.path.join(output_dir, "tensorboard")))
    if initial_epoch >= epochs:  # a finished run: restored, nothing left to train
        if output_dir and chief and not _rundir.model_file_matches(
                os.path.join(output_dir, _rundir.MODEL), model):
            _rundir.save_model(output_dir, model, initial_epoch)
        return _history(model, history)
    batching = dict(batch_size=batch_size, steps=num_examples // batch_size,
                    seed=data_seed, shuffle=options["shuffle"],
                    buffer_size=min(options["shuffle_buffer"], num_examples))
    # Data held in memory were checked whole before training; a stream only on
    # its first batch, so its later batches are checked on the way (stream_check).
    train_batches = _data.training_batches(
        train, first_epoch=initial_epoch, epochs=epochs, arrays=arrays,
        check=None if arrays is not None else _setup.stream_check(model), **batching)
    with strategy.scope():
        try:
            keras_history = model.fit(
                train_batches, epochs=epochs, initial_epoch=initial_epoch,
                steps_per_epoch=num_examples // batch_size, validation_data=val,
                callbacks=internal + options["callbacks"], verbose=options["verbose"],
                shuffle=False)
        except tf.errors.InvalidArgumentError as err:
            cause = None if arrays is not None else _bad_batch(
                model, train, guard.epoch, None, batching)
            if cause is None and val_stream is not None:
                cause = _bad_validation_batch(model, val_stream, batch_size)
            if cause is None:
                raise
            _handle_bad_stream(writer, output_dir, cause, err)
    result = _history(model, history if writer else keras_history.history)
    if guard.stopped_at is not None:
        # A stream's bad batch that the pipeline's check misses may still show as a
        # diverged loss: look for it before blaming the step.
        streamed = arrays is None and not (guard.metric or "").startswith("val_")
        epoch, batch, _ = guard.stopped_at
        cause = _bad_batch(model, train, epoch, batch, batching) if streamed else None
        _handle_divergence(model, guard, writer, output_dir, result, cause)
    return result


def _handle_bad_stream(writer, output_dir, cause, error):
    """Raises the `DataError` of a stream stopped by its in-pipeline check."""
    good = writer.last_good_epoch if writer is not None else None
    kept = (f" The last good checkpoint (after epoch {good}) is kept in {output_dir}."
            if output_dir and good else "")
    raise errors.DataError(
        f"Training stopped before a bad batch: {cause} A tf.data.Dataset is checked in "
        f"full on its first batch only; fix the stream itself (for non-finite values, "
        f"for example ds.filter(lambda x: tf.reduce_all(tf.math.is_finite(x))))."
        f"{kept}") from error


def _bad_batch(model, train, epoch, batch, batching):
    """The first batch of a stream's epoch that fails the input checks, or None.

    Rebuilds the batches of epoch ``epoch`` (the same ones: the order depends
    on (seed, epoch) only) up to batch ``batch`` (None: the whole epoch), and
    returns the input checks' message for the first one that fails them (NaN,
    infinite or out-of-range values or labels). Runs only after training
    stopped; reads at most one epoch of the stream.
    """
    if batch is None:
        batch = batching["steps"] - 1
    batches = _data.training_batches(
        train, first_epoch=epoch, epochs=epoch + 1,
        **{**batching, "steps": min(batch + 1, batching["steps"])})
    return _first_bad(model, batches, "data", f"epoch {epoch + 1} of the dataset")


def _first_bad(model, batches, what, where):
    """The input checks' message for the first of ``batches`` failing them, or None."""
    for index, element in enumerate(batches):
        try:
            _setup.check_first_batch(model, tf.nest.map_structure(np.asarray, element), what)
        except errors.DataError as err:
            return f"Batch {index + 1} of {where} is bad. {err}"
    return None


def _prepare_data(model, data, validation_data, batch_size, replicas):
    """The training dataset, its arrays in memory (or None), its first batch and
    size, validation batches, and the validation dataset when it is a stream."""
    train = _data.to_dataset(data, event_rank=len(model.event_shape))
    arrays = _data.in_memory(data)
    first = _data.first_batch(train, batch_size)
    _setup.check_data(model, arrays, first, "data")
    num_examples = _data.count(train)
    if num_examples < batch_size:
        raise errors.DataError(
            f"The data hold {_checks.plural(num_examples, 'example')}, fewer than one batch of "
            f"{batch_size}; lower `batch_size` to at most {num_examples}."
        )
    val = stream = None
    if validation_data is not None:
        val = _data.to_dataset(validation_data, event_rank=len(model.event_shape),
                               split="validation", what="validation_data")
        held = _data.in_memory(validation_data, split="validation")
        _setup.check_data(model, held, _data.first_batch(val, batch_size, "validation_data"),
                          "validation_data")
        stream = val if held is None else None
        val = _data.evaluation_batches(
            val, batch_size=batch_size, num_replicas=replicas,
            check=None if stream is None else _setup.stream_check(model))
    return train, arrays, first, num_examples, val, stream


def _bad_validation_batch(model, stream, batch_size):
    """The first batch of the validation stream that fails the input checks, or None."""
    return _first_bad(model, stream.batch(batch_size), "validation_data", "validation_data")


def _restore_or_init(model, output_dir, old, first, chief):
    """(initial epoch, history): restored from the checkpoint, or a fresh start."""
    state = _rundir.load_checkpoint(output_dir) if old else None
    if state is None:
        model.data_dependent_init(tf.convert_to_tensor(_data.split_features(first)))
        return 0, {}
    epoch, arrays, names, checkpoint_history = state
    _rundir.restore_variables(model.training_state(), arrays, names, output_dir)
    if chief:
        history = _rundir.read_history(output_dir, checkpoint_history, epoch)
    else:
        history = checkpoint_history or {}
    return epoch, history


def _run_writer(model, output_dir, history, guard, chief, initial_epoch, sample_every_epoch):
    if not output_dir:
        return None
    grid = None
    image = len(model.event_shape) == 3 and model.event_shape[-1] in (1, 3)
    if image and sample_every_epoch:
        grid = {"num_samples": int(sample_every_epoch), "seed": 0,
                "num_levels": model.num_levels}
    return RunWriter(output_dir, model.training_state, history, guard, sample_grid=grid,
                     enabled=chief, resumed_epoch=initial_epoch or None)


def _history(model, history):
    result = keras.callbacks.History()
    result.set_model(model)
    result.history = history
    result.epoch = list(range(len(next(iter(history.values()), []))))
    return result


def _handle_divergence(model, guard, writer, output_dir, history, cause=None):
    epoch, batch, value = guard.stopped_at
    good = writer.last_good_epoch if writer is not None else None
    metric = guard.metric or "loss"
    what = "the loss" if metric == "loss" else f"`{metric}`"
    where = (f"at the end of epoch {epoch + 1}" if batch is None
             else f"at epoch {epoch + 1}, batch {batch + 1}")
    message = f"Training stopped {where}: {what} became {value}."
    if metric.startswith("val_"):
        message += (" The training metrics were finite: check `validation_data` for values "
                    "the model cannot score, or lower the learning rate.")
    elif cause:
        message += (f" {cause} A tf.data.Dataset is checked on its first batch only, so "
                    f"fix the stream itself (for non-finite values, for example "
                    f"ds.filter(lambda x: tf.reduce_all(tf.math.is_finite(x)))).")
    else:
        message += " Lower the learning rate, or check the data for extreme values."
    checkpoint = None
    if output_dir and good:
        checkpoint = os.path.join(output_dir, _rundir.CHECKPOINT)
        _, arrays, names, _ = _rundir.load_checkpoint(output_dir)
        _rundir.restore_variables(model.training_state(), arrays, names, output_dir)
        message += (
            f" The last good checkpoint (after epoch {good}) is kept in {output_dir} "
            f"and its weights were restored into the model. Running the same call again "
            f"resumes from it with the same settings; to go on with other settings (a "
            f"lower learning rate), start a new run from its weights: unigen.fit("
            f"unigen.load({os.path.join(output_dir, _rundir.MODEL)!r}, compile=False), "
            f"data, learning_rate=..., output_dir=NEW_DIR)."
        )
    else:
        if guard.restore_last_good():
            message += (" The model's weights and optimizer state were restored to those "
                        + ("it started with" if not guard.last_good_epoch else
                           f"after epoch {guard.last_good_epoch}") + ".")
        if output_dir:
            message += (" No epoch had finished, so there is no good checkpoint; a call with "
                        "other settings into the same output_dir starts afresh.")
        else:
            message += " Pass output_dir= to keep a checkpoint after every epoch."
    raise errors.TrainingDivergedError(message, history=history, checkpoint=checkpoint)
