"""Readers for the IDX format (MNIST, Fashion-MNIST) and Keras-style `mnist.npz`.

IDX layout (LeCun's MNIST page): two zero bytes, one type byte (0x08 unsigned byte,
0x09 signed byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), one byte
with the number of dimensions d, then d big-endian uint32 sizes, then the values in
C order, big-endian. So image files start with the magic number 0x00000803 (2051)
and label files with 0x00000801 (2049). Files may be gzip-compressed (`.gz`).

Parsed arrays are cached in memory per process, keyed by the file's absolute path,
modification time and size, and are read-only.
"""

import functools
import gzip
import os
import struct
import zlib

import numpy as np

from unigen.errors import DataError

__all__ = [
    "IMAGE_MAGIC",
    "LABEL_MAGIC",
    "read_idx",
    "read_idx_images",
    "read_idx_labels",
    "read_mnist_npz",
]

_IDX_TYPES = {
    0x08: np.dtype("u1"),
    0x09: np.dtype("i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
IMAGE_MAGIC = 0x00000803
LABEL_MAGIC = 0x00000801
_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


def _file_key(path):
    path = os.path.abspath(os.fspath(path))
    stat = os.stat(path)
    return path, stat.st_mtime_ns, stat.st_size


def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as handle:
                return handle.read()
        with open(path, "rb") as handle:
            return handle.read()
    except (OSError, EOFError, zlib.error) as error:
        if isinstance(error, FileNotFoundError):
            raise
        raise DataError(
            f"Cannot read `{path}`: {error}. The file is corrupt or truncated; "
            "reinstall or re-copy it."
        ) from error


@functools.lru_cache(maxsize=16)
def _parse_idx(path, mtime_ns, size):
    del mtime_ns, size  # Only part of the cache key.
    data = _read_bytes(path)
    if len(data) < 4:
        raise DataError(f"`{path}` is not an IDX file: it has only {len(data)} bytes.")
    magic = struct.unpack(">I", data[:4])[0]
    type_code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or type_code not in _IDX_TYPES or ndim == 0:
        raise DataError(
            f"`{path}` is not an IDX file: bad magic number 0x{magic:08X} (expected "
            f"0x{IMAGE_MAGIC:08X} for images or 0x{LABEL_MAGIC:08X} for labels). "
            "The file is corrupt or in another format."
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(f"`{path}`: truncated IDX header ({len(data)} bytes).")
    shape = struct.unpack(f">{ndim}I", data[4:header])
    dtype = _IDX_TYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(data) - header != expected:
        raise DataError(
            f"`{path}`: the IDX header says shape {shape} of {dtype.name} "
            f"({expected} bytes of data) but the file holds {len(data) - header} "
            "bytes after the header. The file is truncated or corrupt."
        )
    array = np.frombuffer(data, dtype=dtype, offset=header).reshape(shape)
    array = array.astype(dtype.newbyteorder("="), copy=False)
    array.setflags(write=False)
    return array, magic


def read_idx(path):
    """Reads an IDX file (optionally `.gz`) into a read-only NumPy array.

    Args:
        path: path of the file.

    Returns:
        (array, magic): the values with the shape from the header, in native byte
        order, and the 32-bit magic number.

    Raises:
        FileNotFoundError: the file does not exist.
        DataError: bad magic number, truncated header or wrong data size.
    """
    array, magic = _parse_idx(*_file_key(path))
    return array, magic


def read_idx_images(path, image_shape=(28, 28)):
    """Reads an IDX image file: unsigned bytes, shape (N, height, width).

    Raises:
        DataError: the file is not a uint8 3-D IDX file of `image_shape` images.
    """
    array, magic = read_idx(path)
    if magic != IMAGE_MAGIC:
        raise DataError(
            f"`{path}` should be an IDX image file with magic number "
            f"0x{IMAGE_MAGIC:08X} (uint8, 3-D), got 0x{magic:08X}. Are the image "
            "and label files swapped, or is the file corrupt?"
        )
    if tuple(array.shape[1:]) != tuple(image_shape):
        raise DataError(
            f"`{path}` holds images of shape {tuple(array.shape[1:])}, expected "
            f"{tuple(image_shape)}."
        )
    return array


def read_idx_labels(path, num_classes=10):
    """Reads an IDX label file: unsigned bytes, shape (N,), values < num_classes.

    Raises:
        DataError: wrong magic number or labels outside [0, num_classes).
    """
    array, magic = read_idx(path)
    if magic != LABEL_MAGIC:
        raise DataError(
            f"`{path}` should be an IDX label file with magic number "
            f"0x{LABEL_MAGIC:08X} (uint8, 1-D), got 0x{magic:08X}. Are the image "
            "and label files swapped, or is the file corrupt?"
        )
    if array.size and int(array.max()) >= num_classes:
        raise DataError(
            f"`{path}` holds label {int(array.max())}; expected labels in "
            f"0..{num_classes - 1}."
        )
    return array


@functools.lru_cache(maxsize=4)
def _parse_npz(path, mtime_ns, size):
    del mtime_ns, size
    try:
        # allow_pickle=False: a .npz must never run code when loaded.
        with np.load(path, allow_pickle=False) as archive:
            missing = [key for key in _NPZ_KEYS if key not in archive.files]
            if missing:
                raise DataError(
                    f"`{path}` lacks the arrays {missing}; a Keras-style mnist.npz "
                    f"holds {list(_NPZ_KEYS)} (found {sorted(archive.files)})."
                )
            arrays = {key: np.asarray(archive[key]) for key in _NPZ_KEYS}
    except (OSError, ValueError, zlib.error) as error:
        if isinstance(error, (DataError, FileNotFoundError)):
            raise
        raise DataError(f"Cannot read `{path}` as an .npz archive: {error}") from error
    for part in ("train", "test"):
        x, y = arrays[f"x_{part}"], arrays[f"y_{part}"]
        if x.ndim != 3 or x.shape[1:] != (28, 28) or x.dtype != np.uint8:
            raise DataError(
                f"`{path}`: x_{part} should be uint8 of shape (N, 28, 28), got "
                f"{x.dtype} of shape {x.shape}."
            )
        if y.ndim != 1 or len(y) != len(x) or not np.issubdtype(y.dtype, np.integer):
            raise DataError(
                f"`{path}`: y_{part} should be integer labels of shape ({len(x)},), "
                f"got {y.dtype} of shape {y.shape}."
            )
        if y.size and (int(y.min()) < 0 or int(y.max()) > 9):
            raise DataError(f"`{path}`: y_{part} holds labels outside 0..9.")
    for array in arrays.values():
        array.setflags(write=False)
    return arrays


def read_mnist_npz(path):
    """Reads a Keras-style `mnist.npz` (x_train, y_train, x_test, y_test).

    Returns:
        A dict of read-only arrays: x_* uint8 (N, 28, 28), y_* integer (N,).

    Raises:
        FileNotFoundError: the file does not exist.
        DataError: missing keys, wrong shapes or dtypes, or not an .npz file.
    """
    return _parse_npz(*_file_key(path))
