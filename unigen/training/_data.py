"""Turning what a user passes as data into batches `unigen.fit` can train on.

Accepted data: a built-in dataset name, a NumPy array (or a pair ``(x, y)``), or
a `tf.data.Dataset`, batched or not. Everything is unbatched, checked on its
first batch, and re-batched by the global batch size with the remainder dropped,
so every replica gets an equal share of every step.

Shuffling is per epoch and stateless: the examples are cut into consecutive
blocks of ``buffer_size`` (the last one shorter; one block when the buffer holds
the whole data) and each block is permuted by
`tf.random.experimental.stateless_shuffle` with a seed folded from (run seed,
epoch, block). Epoch e therefore sees the same order whether the run is fresh
or resumed from a checkpoint, in any process, whatever TensorFlow's global seed.
All epochs come from one pipeline, ``Dataset.range(first_epoch, epochs)`` mapped
to each epoch's batches, whose size does not depend on the number of epochs.

Data held in memory (arrays, built-in dataset names) take a vectorised path:
each epoch's permutation of the indices 0..n-1 is one tensor, cut into batches
of indices, and each batch is one `tf.gather` from the arrays followed by one
cast, instead of n element-wise slices. A `tf.data.Dataset` is batched into
blocks, each block is permuted by the same permutation and cut into batches
(`tf.data.Dataset.rebatch`), so both paths give the same batches bit for bit.
A user's `tf.data.Dataset` is not cached: its map could be random augmentation
or its own shuffle, which a cache would freeze after the first epoch.
"""

import numpy as np
import tensorflow as tf

from unigen import errors

__all__ = []

_RNG = "philox"  # stateless RNG named, so the order does not depend on the device kind


def to_dataset(data, *, event_rank, split="train", what="data"):
    """Returns an unbatched `tf.data.Dataset` of ``x`` or ``(x, y)`` elements."""
    from unigen import datasets

    if isinstance(data, str):
        return datasets.load(data, split=split)
    if isinstance(data, tf.data.Dataset):
        return _unbatch_if_needed(data, event_rank, what)
    # from_arrays converts and checks (a ragged list is a DataError, not NumPy's).
    if isinstance(data, tuple) and len(data) == 2:
        return datasets.from_arrays(data[0], data[1])
    if isinstance(data, (np.ndarray, list)) or hasattr(data, "__array__"):
        return datasets.from_arrays(data)
    raise TypeError(
        f"`{what}` must be a dataset name, a NumPy array, a pair (x, y) of arrays or "
        f"a tf.data.Dataset, got {type(data).__name__}."
    )


def in_memory(data, split="train"):
    """The arrays behind ``data`` (a tuple: ``(x,)`` or ``(x, y)``), or None.

    Arrays, pairs of arrays and built-in dataset names are held in memory; a
    `tf.data.Dataset` is not (None).
    """
    from unigen import datasets

    if isinstance(data, str):
        return (datasets.as_numpy(data, split),)
    if isinstance(data, tf.data.Dataset):
        return None
    if isinstance(data, tuple) and len(data) == 2:
        return (np.asarray(data[0]), np.asarray(data[1]))
    return (np.asarray(data),)


def _features_spec(spec):
    if isinstance(spec, tuple):
        return spec[0]
    if isinstance(spec, dict):
        raise errors.DataError(
            "Dataset elements are dicts; unigen expects elements x or (x, y). Map "
            "them first, for example ds.map(lambda d: (d['image'], d['label']))."
        )
    return spec


def _unbatch_if_needed(ds, event_rank, what):
    rank = _features_spec(ds.element_spec).shape.rank
    if rank == event_rank + 1:
        return ds.unbatch()
    if rank == event_rank:
        return ds
    raise errors.DataError(
        f"`{what}` yields examples of rank {rank}, but the model's events have rank "
        f"{event_rank} (rank {event_rank + 1} when batched). Check the shape of "
        f"your data against the model's event_shape."
    )


def split_features(element):
    """``x`` from an element ``x`` or ``(x, y)``."""
    return element[0] if isinstance(element, tuple) else element


def first_batch(ds, size, what="data"):
    """The first ``size`` examples as NumPy arrays (x, or a tuple (x, y))."""
    try:
        batch = next(iter(ds.take(size).batch(size)))
    except StopIteration:
        raise errors.DataError(
            f"`{what}` is empty: it yielded no examples. Check the file, split or "
            f"filter that produced it."
        ) from None
    return tf.nest.map_structure(lambda t: t.numpy(), batch)


def count(ds):
    """Number of examples; iterates once when the cardinality is unknown."""
    n = int(ds.cardinality())
    if n == tf.data.INFINITE_CARDINALITY:
        raise errors.DataError(
            "The dataset is infinite (it repeats); pass a finite dataset and set "
            "`epochs` instead of calling .repeat()."
        )
    if n >= 0:
        return n
    return int(ds.reduce(np.int64(0), lambda c, _: c + 1))


def training_batches(ds, *, batch_size, steps, first_epoch, epochs, seed, shuffle,
                     buffer_size, arrays=None, check=None):
    """Batches for epochs ``first_epoch..epochs-1``, reshuffled per epoch.

    One pipeline whatever the number of epochs: ``Dataset.range(first_epoch,
    epochs)`` mapped to each epoch's ``steps`` batches (remainder dropped).
    Epoch e is permuted within blocks of ``buffer_size`` examples by stateless
    random ops seeded from (seed, e) only, so its order is the same whether the
    run is fresh or resumed, in any process and whatever the global seed; with
    ``shuffle=False`` the order is the data's. With ``arrays`` (the in-memory
    arrays ``ds`` slices, from `in_memory`) each epoch's permutation is one
    tensor of indices and each batch one gather from the arrays: the same
    batches as from ``ds``, vectorised. ``check`` (a map of batches that
    raises on a bad one) is applied to the batches of ``ds``.
    """
    epoch_numbers = tf.data.Dataset.range(first_epoch, epochs)
    if arrays is not None:
        batches = _gathered_batches(epoch_numbers, arrays, batch_size=batch_size, steps=steps,
                                    seed=seed, shuffle=shuffle, buffer_size=buffer_size)
    else:
        def one_epoch(epoch):
            if shuffle:  # rebatch: one copy from the permuted blocks into the batches
                blocks = _permuted_blocks(ds, buffer_size, _epoch_key(seed, epoch))
                return blocks.rebatch(batch_size, drop_remainder=True).take(steps)
            return ds.batch(batch_size, drop_remainder=True).take(steps)

        batches = epoch_numbers.flat_map(one_epoch).map(_as_float)
        if check is not None:
            batches = batches.map(check)
    return batches.prefetch(tf.data.AUTOTUNE)


def _gathered_batches(epoch_numbers, arrays, *, batch_size, steps, seed, shuffle,
                      buffer_size):
    """Batches of in-memory ``arrays``: one index permutation per epoch, one gather per batch."""
    num_examples = len(arrays[0])
    tensors = tuple(tf.convert_to_tensor(a) for a in arrays)

    def epoch_indices(epoch):  # [steps, batch_size]: the example indices of each batch
        if shuffle:
            order = _block_permutation(num_examples, buffer_size, _epoch_key(seed, epoch))
        else:
            order = tf.range(num_examples, dtype=tf.int64)
        return tf.reshape(order[:steps * batch_size], [steps, batch_size])

    def gather(index):
        return _as_float(*(tf.gather(t, index) for t in tensors))

    return epoch_numbers.map(epoch_indices).unbatch().map(gather)


def _epoch_key(seed, epoch):
    """The stateless seed of one epoch: the pair (run seed, epoch)."""
    return tf.stack([tf.constant(int(seed), tf.int64), tf.cast(epoch, tf.int64)])


def _block_order(length, key, block):
    """A uniform permutation of 0..length-1 (int64), drawn from (key, block) only."""
    block_seed = tf.random.experimental.stateless_fold_in(key, tf.cast(block, tf.int64),
                                                          alg=_RNG)
    return tf.random.experimental.stateless_shuffle(
        tf.range(length, dtype=tf.int64), block_seed, alg=_RNG)


def _block_permutation(num_examples, block_size, key):
    """0..num_examples-1 permuted within consecutive blocks of ``block_size``."""
    full, rest = divmod(num_examples, block_size)
    parts = []
    if full == 1:
        parts.append(_block_order(block_size, key, 0))
    elif full > 1:
        blocks = tf.map_fn(lambda b: b * block_size + _block_order(block_size, key, b),
                           tf.range(full, dtype=tf.int64), fn_output_signature=tf.int64)
        parts.append(tf.reshape(blocks, [full * block_size]))
    if rest:
        parts.append(full * block_size + _block_order(rest, key, full))
    return tf.concat(parts, 0) if len(parts) > 1 else parts[0]


def _permuted_blocks(ds, block_size, key):
    """``ds`` batched into blocks of ``block_size``, each permuted as `_block_permutation` does."""
    def permute(block_index, block):
        length = tf.shape(tf.nest.flatten(block)[0], out_type=tf.int64)[0]
        order = _block_order(length, key, block_index)
        return tf.nest.map_structure(lambda t: tf.gather(t, order), block)

    # Not `ds.enumerate()`: it adds a graph rewrite that runs again at every epoch's
    # start (about 0.7 ms per epoch on 2 CPU cores, more than the permutation itself).
    block_numbers = tf.data.Dataset.range(np.iinfo(np.int64).max)
    return tf.data.Dataset.zip((block_numbers, ds.batch(block_size))).map(permute)


def evaluation_batches(ds, *, batch_size, num_replicas, check=None):
    """Batches for validation; the remainder is dropped only with replicas.

    ``check``: a map of batches that raises on a bad one, as in `training_batches`.
    """
    batches = ds.batch(batch_size, drop_remainder=num_replicas > 1).map(_as_float)
    if check is not None:
        batches = batches.map(check)
    return batches.prefetch(tf.data.AUTOTUNE)


def _as_float(*element):
    """Features as float32 (strategies cannot all-reduce uint8); labels kept."""
    x = tf.cast(element[0], tf.float32)
    return (x, *element[1:]) if len(element) > 1 else x
