"""Image grids and PNG files, with no dependency beyond TensorFlow."""

import math
import os

import numpy as np
import tensorflow as tf

__all__ = ["make_grid", "save_grid", "save_png"]


def make_grid(images, *, num_levels=None, value_range=None, columns=None, padding=1):
    """Tiles a batch of images ``[n, h, w, c]`` into one uint8 image.

    Args:
        images: array-like of shape ``[n, h, w, c]``: grey (c = 1) or RGB (c = 3);
            with any other c each image is shown as its c channels side by side
            (a translation pair ``concat(a, b)`` as a | b).
        num_levels: pixel levels of the data (values 0..num_levels-1); mapped
            linearly to 0..255. Takes precedence over ``value_range``.
        value_range: (low, high) mapped to 0..255; default the batch min and max.
        columns: images per row; default ceil(sqrt(n)).
        padding: pixels of black between images.

    Returns:
        uint8 NumPy array ``[rows*(h+p)+p, columns*(w+p)+p, c]``.
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim != 4:
        raise ValueError(
            f"`images` must have shape [n, height, width, channels], got {list(x.shape)}."
        )
    if x.shape[-1] not in (1, 3):
        # Other channel counts (a translation pair a | b has 2): each channel is shown
        # as a grey image, side by side.
        x = np.concatenate([x[..., i:i + 1] for i in range(x.shape[-1])], axis=2)
    if num_levels is not None:
        low, high = 0.0, float(num_levels - 1)
    elif value_range is not None:
        low, high = map(float, value_range)
    else:
        low, high = float(np.min(x)), float(np.max(x))
    x = np.clip((x - low) / max(high - low, 1e-12), 0.0, 1.0)
    x = np.round(x * 255.0).astype(np.uint8)
    n, h, w, c = x.shape
    columns = columns or math.ceil(math.sqrt(n))
    rows = math.ceil(n / columns)
    height, width = rows * (h + padding) + padding, columns * (w + padding) + padding
    grid = np.zeros((height, width, c), np.uint8)
    for i in range(n):
        r, q = divmod(i, columns)
        top, left = padding + r * (h + padding), padding + q * (w + padding)
        grid[top:top + h, left:left + w] = x[i]
    return grid


def save_png(path, image, *, scale=1):
    """Writes a uint8 image ``[h, w, c]`` to ``path``, enlarged ``scale`` times."""
    image = np.asarray(image, dtype=np.uint8)
    if scale > 1:
        image = np.repeat(np.repeat(image, scale, axis=0), scale, axis=1)
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    tf.io.write_file(path, tf.io.encode_png(image))
    return path


def save_grid(path, images, *, num_levels=None, value_range=None, scale=None, columns=None):
    """`make_grid` then `save_png`; small images are enlarged to be visible.
    ``columns``: images per row (default ceil(sqrt(n)))."""
    grid = make_grid(images, num_levels=num_levels, value_range=value_range, columns=columns)
    if scale is None:
        scale = max(1, 256 // max(grid.shape[0], 1))
    return save_png(path, grid, scale=scale)
