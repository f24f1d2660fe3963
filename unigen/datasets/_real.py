"""Real image datasets: digits (scikit-learn), Fashion-MNIST and MNIST (local files).

Nothing is ever downloaded. Images come back exactly as stored: uint8 arrays of shape
(N, height, width, 1) holding integer pixel levels (digits 0..16, MNIST and
Fashion-MNIST 0..255), labels int32 in 0..9. Models own their preprocessing.

Where files are looked for (first directory that holds the files wins):

- with `data_dir=D`: `D/` itself, then `D/<subdir>/`, and nowhere else;
- otherwise: `$UNIGEN_DATA_DIR/<subdir>/` (if the variable is set), then
  `/usr/share/datasets/<subdir>/` (where Debian's `dataset-fashion-mnist` puts its
  files), then Keras's download cache (`~/.keras/datasets/fashion-mnist/` for
  Fashion-MNIST, `~/.keras/datasets/` for `mnist.npz`);

with `<subdir>` = `fashion-mnist` or `mnist`. File names: `train-images-idx3-ubyte`,
`train-labels-idx1-ubyte`, `t10k-images-idx3-ubyte`, `t10k-labels-idx1-ubyte`, each
`.gz`-compressed or not (the `train-images.idx3-ubyte` spelling is accepted too). For
MNIST a Keras-style `mnist.npz` (x_train, y_train, x_test, y_test) also works.

Splits of MNIST and Fashion-MNIST: "train" = the first 55,000 images of the training
file, "validation" = its last 5,000 (in general the last n // 12 of n), "test" = the
10,000 test images. Digits: see `load_digits_split`.
"""

import functools
import os

import numpy as np

from unigen.datasets import _idx
from unigen.errors import DataError, DatasetNotFoundError

__all__ = [
    "DATA_DIR_ENV",
    "DIGITS_PERMUTATION_SEED",
    "DIGITS_SPLITS",
    "FASHION_MNIST_DEFAULT_DIR",
    "load_digits_split",
    "load_fashion_mnist_split",
    "load_mnist_split",
]

DATA_DIR_ENV = "UNIGEN_DATA_DIR"
SYSTEM_DATA_ROOT = "/usr/share/datasets"
FASHION_MNIST_DEFAULT_DIR = os.path.join(SYSTEM_DATA_ROOT, "fashion-mnist")
DIGITS_SPLITS = {"train": 1000, "validation": 350, "test": 447}
DIGITS_PERMUTATION_SEED = 0

_IDX_FILES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
_APT_HINT = "apt-get update && apt-get install dataset-fashion-mnist"


def _take(x, y, num_examples, what):
    if num_examples is not None:
        if num_examples > len(x):
            raise ValueError(
                f"`num_examples`={num_examples} exceeds the {len(x)} examples of "
                f"{what}; pass at most {len(x)} or None for all."
            )
        x, y = x[:num_examples], y[:num_examples]
    return np.array(x, dtype=np.uint8), np.array(y, dtype=np.int32)


@functools.lru_cache(maxsize=1)
def _digits():
    from sklearn.datasets import load_digits  # Lazy: keep imports light.

    bunch = load_digits()
    images = np.asarray(bunch.images)
    if not np.array_equal(images, np.round(images)) or images.min() < 0 or (
        images.max() > 16
    ):
        raise DataError("scikit-learn's digits are not integer levels in 0..16.")
    x = images.astype(np.uint8)[..., None]
    y = np.asarray(bunch.target, dtype=np.int32)
    order = np.random.RandomState(DIGITS_PERMUTATION_SEED).permutation(len(x))
    for array in (x, y, order):
        array.setflags(write=False)
    return x, y, order


def load_digits_split(split, *, data_dir=None, seed=0, num_examples=None):
    """Returns one split of scikit-learn's digits as (x, y) arrays.

    The 1,797 images (8x8, pixel levels 0..16) are permuted once with
    `numpy.random.RandomState(0).permutation(1797)`; "train" takes the first 1,000
    permuted indices, "validation" the next 350 and "test" the last 447. The split
    never depends on `seed`, which (like `data_dir`) is ignored here.

    Returns:
        x uint8 of shape (n, 8, 8, 1), y int32 of shape (n,).
    """
    del data_dir, seed
    x, y, order = _digits()
    start = {"train": 0, "validation": 1000, "test": 1350}[split]
    index = order[start:start + DIGITS_SPLITS[split]]
    return _take(x[index], y[index], num_examples, f'digits split "{split}"')


def _search_dirs(data_dir, subdir, keras_cache):
    if data_dir is not None:
        root = os.path.expanduser(os.fspath(data_dir))
        return [root, os.path.join(root, subdir)]
    dirs = []
    env_root = os.environ.get(DATA_DIR_ENV)
    if env_root:
        dirs.append(os.path.join(os.path.expanduser(env_root), subdir))
    dirs.append(os.path.join(SYSTEM_DATA_ROOT, subdir))
    keras_root = os.path.join(os.path.expanduser("~"), ".keras", "datasets")
    dirs.append(os.path.join(keras_root, *keras_cache))
    return dirs


def _find_file(directory, base):
    dotted = base.replace("-idx", ".idx")
    for name in (base + ".gz", base, dotted + ".gz", dotted):
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            return path
    return None


def _find_idx(directory, part):
    """Returns ((images, labels) paths, []) or (None, [missing .gz paths])."""
    paths = [_find_file(directory, base) for base in _IDX_FILES[part]]
    if all(paths):
        return tuple(paths), []
    missing = [
        os.path.join(directory, base + ".gz")
        for base, path in zip(_IDX_FILES[part], paths, strict=False)
        if path is None
    ]
    return None, missing


def _read_idx_pair(paths):
    images = _idx.read_idx_images(paths[0])
    labels = _idx.read_idx_labels(paths[1])
    if len(images) != len(labels):
        raise DataError(
            f"`{paths[0]}` holds {len(images)} images but `{paths[1]}` holds "
            f"{len(labels)} labels; the files do not belong together."
        )
    return images, labels


def _split(images, labels, split, source, num_examples, name):
    """Cuts "train" / "validation" out of the training arrays (last n // 12)."""
    if split != "test":
        num_validation = len(images) // 12
        if num_validation == 0:
            raise DataError(
                f"{source} holds only {len(images)} training examples; at least 12 "
                "are needed to cut a validation split (the last n // 12)."
            )
        cut = len(images) - num_validation
        part = slice(0, cut) if split == "train" else slice(cut, None)
        images, labels = images[part], labels[part]
    return _take(images[..., None], labels, num_examples, f'{name} split "{split}"')


def _listing(missing):
    return "; ".join(missing)


def load_fashion_mnist_split(split, *, data_dir=None, seed=0, num_examples=None):
    """Returns one split of Fashion-MNIST, read from local IDX files.

    Args:
        split: "train" (first 55,000 of the training file), "validation" (its
            last 5,000) or "test" (the 10,000 t10k images).
        data_dir: directory holding the IDX files (or a `fashion-mnist/`
            subdirectory holding them). None: `$UNIGEN_DATA_DIR/fashion-mnist/`,
            then `/usr/share/datasets/fashion-mnist/`, then
            `~/.keras/datasets/fashion-mnist/`.
        seed: ignored (the split is fixed).
        num_examples: keep only the first `num_examples` of the split.

    Returns:
        x uint8 of shape (n, 28, 28, 1) with pixel levels 0..255, y int32 (n,).

    Raises:
        DatasetNotFoundError: the files are not there (the message names the
            missing paths, the Debian package and the `data_dir=` override).
        DataError: a file is corrupt (bad magic number, size or shape).
    """
    del seed
    part = "test" if split == "test" else "train"
    dirs = _search_dirs(data_dir, "fashion-mnist", ("fashion-mnist",))
    missing = []
    for directory in dirs:
        paths, not_here = _find_idx(directory, part)
        if paths:
            images, labels = _read_idx_pair(paths)
            return _split(images, labels, split, f"`{paths[0]}`", num_examples,
                          "fashion_mnist")
        missing.extend(not_here)
    raise DatasetNotFoundError(
        f"Fashion-MNIST {part} files not found (unigen never downloads data). "
        f"Missing: {_listing(missing)} (uncompressed files without .gz work too). "
        f"Fix: install them with `{_APT_HINT}` (as root; Debian's package "
        f"dataset-fashion-mnist puts the four IDX .gz files in "
        f"{FASHION_MNIST_DEFAULT_DIR}/), or pass `data_dir=` a directory holding "
        "train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz and t10k-labels-idx1-ubyte.gz, or set "
        f"{DATA_DIR_ENV} to a directory with a fashion-mnist/ subdirectory."
    )


def load_mnist_split(split, *, data_dir=None, seed=0, num_examples=None):
    """Returns one split of MNIST from IDX files or a `mnist.npz` already here.

    unigen never downloads MNIST. In each searched directory the four IDX files
    (see the module docstring) are used if present, else `mnist.npz`.

    Args:
        split: "train" (first 55,000 training images), "validation" (last 5,000)
            or "test" (the 10,000 test images).
        data_dir: directory holding the files (or an `mnist/` subdirectory holding
            them). None: `$UNIGEN_DATA_DIR/mnist/`, `/usr/share/datasets/mnist/`,
            then `~/.keras/datasets/` (where `keras.datasets.mnist` caches
            `mnist.npz`).
        seed: ignored (the split is fixed).
        num_examples: keep only the first `num_examples` of the split.

    Returns:
        x uint8 of shape (n, 28, 28, 1) with pixel levels 0..255, y int32 (n,).

    Raises:
        DatasetNotFoundError: no IDX files nor mnist.npz in any searched directory.
        DataError: a file is corrupt (bad magic number, keys, size or shape).
    """
    del seed
    part = "test" if split == "test" else "train"
    dirs = _search_dirs(data_dir, "mnist", ())
    for directory in dirs:
        paths, _ = _find_idx(directory, part)
        if paths:
            images, labels = _read_idx_pair(paths)
            return _split(images, labels, split, f"`{paths[0]}`", num_examples,
                          "mnist")
        npz = os.path.join(directory, "mnist.npz")
        if os.path.isfile(npz):
            arrays = _idx.read_mnist_npz(npz)
            return _split(arrays[f"x_{part}"], arrays[f"y_{part}"], split,
                          f"`{npz}`", num_examples, "mnist")
    names = ", ".join(base + "[.gz]" for base in _IDX_FILES[part])
    raise DatasetNotFoundError(
        f"MNIST {part} data not found, and unigen never downloads data. Looked for "
        f"the IDX files {names} or mnist.npz in: {', '.join(dirs)}. Fix: pass "
        "`data_dir=` a directory holding the IDX files (train-*, t10k-*) or a "
        "Keras-style mnist.npz (x_train, y_train, x_test, y_test), or set "
        f"{DATA_DIR_ENV} to a directory with an mnist/ subdirectory."
    )
