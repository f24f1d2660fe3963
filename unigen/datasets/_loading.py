"""`load`, `as_numpy` and `from_arrays`: datasets as arrays or `tf.data.Dataset`s.

TensorFlow is imported inside `load` and `from_arrays` only, so importing
`unigen.datasets` runs no TensorFlow op (a `tf.distribute.MultiWorkerMirroredStrategy`
must be created before the first one).
"""

import numbers
import os
import weakref

import numpy as np

from unigen.datasets._registry import _check_split, _entry
from unigen.errors import DataError

__all__ = ["as_numpy", "from_arrays", "load", "true_targets"]

# The `tf.data.Dataset`s that `load` returned, and what each was loaded from.
_SOURCES = weakref.WeakKeyDictionary()


def source(data):
    """What ``data`` was loaded from, as ``{"name", "split", options}``, or None.

    A dataset name (as `unigen.fit` takes it) is its training split; a
    `tf.data.Dataset` returned by `load` (not one derived from it) gives its
    name, split and the options not left at their defaults (``with_labels``,
    ``data_dir``, ``seed``, ``num_examples``). `unigen.fit` records it in a
    run's ``config.json`` as ``"dataset"``, to name the data in its messages.
    """
    if isinstance(data, str):
        return {"name": data, "split": "train"}
    try:
        found = _SOURCES.get(data)
    except TypeError:  # not hashable or not weakly referable: arrays, tuples
        return None
    return dict(found) if found is not None else None


def _check_int(value, argument, minimum):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"`{argument}` must be an int >= {minimum}, got {value!r} "
            f"({type(value).__name__})."
        )
    if value < minimum:
        raise ValueError(f"`{argument}` must be an int >= {minimum}, got {value}.")
    return int(value)


def as_numpy(name, split="train", with_labels=False, *, data_dir=None, seed=0,
             num_examples=None):
    """Returns a split of a dataset as NumPy arrays (fresh copies you own).

    Args:
        name: a name from `available()`, e.g. "digits", "fashion_mnist", "ring8".
        split: "train", "validation" or "test" (`info(name).splits`).
        with_labels: also return the int32 labels.
        data_dir: where the files of "fashion_mnist" / "mnist" are (see `load`);
            ignored by the other datasets.
        seed: non-negative int choosing the random stream of generated datasets
            (each split has its own stream); real datasets ignore it, their splits
            are fixed.
        num_examples: positive int. For generated datasets, how many examples to
            draw (default `info(name).splits[split]`); a smaller number gives a
            prefix of a larger one. For real datasets, keep the first
            `num_examples` of the split.

    Returns:
        `x`, or `(x, y)` when `with_labels`. Images: uint8 of shape
        (n, height, width, 1) with the stored pixel levels (digits 0..16,
        MNIST / Fashion-MNIST 0..255). Vectors: float32 of shape (n, 2).
        Labels: int32 of shape (n,).

    Raises:
        ValueError: unknown `name` or `split` (the message lists the valid ones),
            or `with_labels=True` for a dataset without labels.
        DatasetNotFoundError: the files of a real dataset are not on this machine.
        DataError: a data file is corrupt.
    """
    entry = _entry(name)
    dataset_info = entry.info
    if not isinstance(split, str):
        raise TypeError(f"`split` must be a str, got {type(split).__name__}.")
    _check_split(entry, split)
    seed = _check_int(seed, "seed", 0)
    if num_examples is not None:
        num_examples = _check_int(num_examples, "num_examples", 1)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(
            f"`data_dir` must be a path (str or os.PathLike) or None, got "
            f"{type(data_dir).__name__}."
        )
    if with_labels and dataset_info.num_classes is None:
        raise ValueError(
            f"Dataset {dataset_info.name!r} has no labels; call it with "
            "`with_labels=False`."
        )
    x, y = entry.loader(split, data_dir=data_dir, seed=seed, num_examples=num_examples)
    return (x, y) if with_labels else x


def load(name, split="train", *, with_labels=False, data_dir=None, seed=0,
         num_examples=None):
    """Returns a split of a dataset as an unbatched `tf.data.Dataset`.

    Elements are `x`, or `(x, y)` with `with_labels=True`. Images are yielded
    exactly as stored: uint8, shape (height, width, 1), integer pixel levels
    (digits 0..16, i.e. 17 levels; MNIST and Fashion-MNIST 0..255). Vectors (the
    generated 2D datasets) are float32 of shape (2,). Labels are int32 scalars.
    Batching, shuffling and preprocessing (scaling, dequantization) are the
    caller's job.

    Where files are read from (Fashion-MNIST, MNIST; nothing is ever downloaded):
    with `data_dir=D`, `D/` and then `D/fashion-mnist/` (or `D/mnist/`); without
    it, `$UNIGEN_DATA_DIR/fashion-mnist/` (or `/mnist/`), then
    `/usr/share/datasets/fashion-mnist/` (Debian package `dataset-fashion-mnist`:
    `apt-get update && apt-get install dataset-fashion-mnist`), then Keras's cache
    `~/.keras/datasets/`. Parsed files are cached in memory per process.

    Args:
        name: a name from `available()`.
        split: "train", "validation" or "test".
        with_labels: yield `(x, y)` pairs instead of `x`.
        data_dir: directory of the data files of "fashion_mnist" / "mnist".
        seed: non-negative int; the random stream of generated datasets.
        num_examples: positive int; the size of a generated split, or the first
            `num_examples` of a real one.

    Returns:
        An unbatched `tf.data.Dataset`.

    Raises:
        ValueError, DatasetNotFoundError, DataError: see `as_numpy`.

    Example:
        >>> ds = load("digits", "train", with_labels=True)
        >>> ds = ds.shuffle(1000, seed=0).batch(64)
    """
    arrays = as_numpy(name, split, with_labels, data_dir=data_dir, seed=seed,
                      num_examples=num_examples)
    import tensorflow as tf  # Lazy: no TF op may run at import time.

    dataset = tf.data.Dataset.from_tensor_slices(arrays)
    options = {"with_labels": bool(with_labels), "seed": seed, "num_examples": num_examples,
               "data_dir": None if data_dir is None else os.fspath(data_dir)}
    defaults = {"with_labels": False, "seed": 0, "num_examples": None, "data_dir": None}
    _SOURCES[dataset] = {"name": str(name), "split": str(split),
                         **{k: v for k, v in options.items() if v != defaults[k]}}
    return dataset


def _as_numeric(array, argument):
    try:
        array = np.asarray(array)
    except (TypeError, ValueError) as error:
        raise DataError(
            f"`{argument}` must be a numeric array, but it cannot be converted to one "
            f"({error})."
        ) from error
    if array.dtype == np.bool_:
        return array
    if not (np.issubdtype(array.dtype, np.integer)
            or np.issubdtype(array.dtype, np.floating)):
        raise DataError(
            f"`{argument}` must hold real numbers (int, float or bool), got dtype "
            f"{array.dtype}. Convert it first, e.g. `np.asarray({argument}, "
            "dtype=np.float32)`; a ragged list gives dtype object."
        )
    if array.ndim == 0:
        raise DataError(
            f"`{argument}` must have at least 1 dimension (the examples), got a "
            "scalar."
        )
    if array.shape[0] == 0:
        raise DataError(
            f"`{argument}` must hold at least one example, got shape {array.shape}."
        )
    return array


def from_arrays(x, y=None):
    """Wraps in-memory arrays as an unbatched `tf.data.Dataset`.

    The first axis indexes examples. Dtypes are kept as given (models own their
    preprocessing). NaN and infinity are not checked here; the training code does.

    Args:
        x: array-like of real numbers (int, float or bool) with at least one
            dimension and at least one example.
        y: optional array-like of real numbers (e.g. int labels) with the same
            number of examples as `x`.

    Returns:
        An unbatched `tf.data.Dataset` of `x[i]`, or of `(x[i], y[i])` pairs.

    Raises:
        DataError: an array is empty, a scalar, not numeric (e.g. strings or a
            ragged list), or `x` and `y` differ in length.
    """
    x = _as_numeric(x, "x")
    if y is not None:
        y = _as_numeric(y, "y")
        if len(y) != len(x):
            raise DataError(
                f"`x` and `y` must hold the same number of examples, got "
                f"{len(x)} and {len(y)}."
            )
    import tensorflow as tf  # Lazy: no TF op may run at import time.

    return tf.data.Dataset.from_tensor_slices(x if y is None else (x, y))


def true_targets(name, split="test", *, data_dir=None, num_examples=None):
    """The held-back true translations of a translation set's split.

    The training data of a translation set (``info(name).layout`` not None)
    do not show which image of one domain belongs to which of another; this
    gives the answer, for scoring a translation model on the test split.

    Args:
        name: a translation set, e.g. "digits_inverted" or "digits_domains".
        split: "train", "validation" or "test".
        data_dir: as in `load` (Fashion-MNIST sets).
        num_examples: keep the first `num_examples` (as `as_numpy` does).

    Returns:
        uint8 array. For layouts "unpaired" and "paired", the shape of x
        ``[n, h, w, 2c]``: channels ``:c`` hold T_b(s) for the domain-a image
        T_a(s) in x's channels ``:c`` (its true a-to-b translation) and channels
        ``c:`` hold T_a(s') for the domain-b image T_b(s') in x's channels
        ``c:`` (its true b-to-a translation). For layout "domains",
        ``[n, K, h, w, c]`` with T_j(s_i) at ``[i, j]``: example i as it looks
        in every domain j (at j = its label, x[i] itself).

    Raises:
        ValueError: ``name`` is not a translation set (the message lists them),
            or an unknown split.
    """
    from unigen.datasets import _domains

    entry = _entry(name)
    _check_split(entry, split)
    if entry.info.layout is None:
        from unigen.datasets._registry import available

        sets = [n for n in available() if _entry(n).info.layout is not None]
        raise ValueError(f"Dataset {entry.info.name!r} is not a translation set and has "
                         f"no true targets; translation sets: {', '.join(sets)}.")
    if num_examples is not None:
        num_examples = _check_int(num_examples, "num_examples", 1)
    loader = entry.loader
    _, truth, _ = _domains.build_split(loader.base_loader, loader.layout, loader.domains,
                                       loader.num_levels, split, data_dir, num_examples,
                                       targets=True)
    return truth
