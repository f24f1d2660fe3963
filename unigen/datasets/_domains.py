"""Image domains with a known answer: transformations of the offline image sets.

Image-to-image translation (CycleGAN, StarGAN, pix2pix) needs images in two or
more *domains*. Built here from the offline sets (digits, Fashion-MNIST) by
transformations T_k whose result is known exactly, so a translation can be
scored against the true target T_j(s) of every test image T_k(s):

=========  ===================================================  ===========
domain     T(x) for pixel levels 0..L-1, images [n, h, w, c]    inverse
=========  ===================================================  ===========
original   x                                                    itself
inverted   (L - 1) - x                                          itself
rotated    x turned 90 degrees counter-clockwise                rot. -90
thickened  grey dilation: max of x over the pixel and its 4     none
           neighbours (a 3x3 cross; strokes one pixel thicker)
=========  ===================================================  ===========

Three layouts of a split whose source images are s_1..s_n (a fixed permutation
``numpy.random.RandomState(0)`` of the base dataset's split; never `seed`):

* "unpaired" (two domains a, b; CycleGAN): x = concat(T_a(s_i), T_b(s'_i)) on
  the channel axis, (h, w, 2c), where s_i runs over the first half of the
  permuted sources and s'_i over the second half: the two halves are disjoint,
  so no pairing is in the data. n // 2 examples.
* "paired" (pix2pix): x = concat(T_a(s_i), T_b(s_i)): the same source. n examples.
* "domains" (K domains; StarGAN): x = T_{k_i}(s_i) with the int32 label
  k_i = i mod K the domain; every source appears in exactly one domain. n examples.

The true pairing is held back from the training data and given by
`true_targets`: for "unpaired" and "paired", concat(T_b(s_i), T_a(s'_i)) (the
true translation of each half of x: a to b for the first, b to a for the
second); for "domains", [n, K, h, w, c] with T_j(s_i) at [i, j].

This module uses NumPy only (no TensorFlow op at import or load time).
"""

import numpy as np

__all__ = ["DOMAINS", "inverse_transform", "transform"]

#: Names of the transformations, in the order of the multi-domain sets.
DOMAINS = ("original", "inverted", "rotated", "thickened")
_INVERTIBLE = ("original", "inverted", "rotated")
LAYOUTS = ("unpaired", "paired", "domains")


def _check_images(images):
    x = np.asarray(images)
    if x.ndim != 4:
        raise ValueError(f"`images` must have shape [n, height, width, channels], got "
                         f"{list(x.shape)}.")
    return x


def _check_domain(domain):
    if domain not in DOMAINS:
        raise ValueError(f"Unknown `domain`={domain!r}; the domains are {list(DOMAINS)}.")
    return domain


def _dilate(x):
    """Grey dilation with a 3x3 cross footprint, edges padded with the minimum level 0."""
    padded = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)), constant_values=0)
    h, w = x.shape[1:3]
    shifts = [padded[:, 1 + dy:1 + dy + h, 1 + dx:1 + dx + w]
              for dy, dx in ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))]
    return np.max(np.stack(shifts), axis=0)


def transform(images, domain, num_levels):
    """T_domain(images): the images as they look in ``domain`` (see the module table).

    Args:
        images: integer pixel levels ``[n, h, w, c]`` in 0..num_levels-1 (square
            images for "rotated").
        domain: one of `DOMAINS`.
        num_levels: L, the number of pixel levels (17 for digits, 256 for
            Fashion-MNIST).

    Returns:
        An array of the same shape and dtype.
    """
    x = _check_images(images)
    domain = _check_domain(domain)
    if domain == "original":
        return x.copy()
    if domain == "inverted":
        return (num_levels - 1 - x.astype(np.int64)).astype(x.dtype)
    if domain == "rotated":
        return np.ascontiguousarray(np.rot90(x, k=1, axes=(1, 2)))
    return _dilate(x)


def inverse_transform(images, domain, num_levels):
    """T_domain^-1(images) for an invertible domain ("original", "inverted", "rotated").

    Raises:
        ValueError: "thickened" (a dilation loses information; it has no inverse).
    """
    x = _check_images(images)
    domain = _check_domain(domain)
    if domain not in _INVERTIBLE:
        raise ValueError(f"The {domain!r} transformation is not invertible (a grey "
                         f"dilation merges pixels); invertible: {list(_INVERTIBLE)}.")
    if domain == "rotated":
        return np.ascontiguousarray(np.rot90(x, k=-1, axes=(1, 2)))
    return transform(x, domain, num_levels)


def _sources(base_loader, split, data_dir):
    x, _ = base_loader(split, data_dir=data_dir, seed=0, num_examples=None)
    order = np.random.RandomState(0).permutation(len(x))
    return x[order]


def _take(arrays, num_examples, what):
    if num_examples is None:
        return arrays
    size = len(arrays[0])
    if num_examples > size:
        raise ValueError(f"`num_examples`={num_examples} exceeds the {size} examples of "
                         f"{what}; pass at most {size} or None for all.")
    return tuple(a[:num_examples] for a in arrays)


def build_split(base_loader, layout, domains, num_levels, split, data_dir=None,
                num_examples=None, targets=False):
    """``(x, y)`` of a split in ``layout`` (y the domain labels, or None), or with
    ``targets=True`` ``(x, true targets, y)``. See the module docstring."""
    s = _sources(base_loader, split, data_dir)
    if layout == "domains":
        k = len(domains)
        labels = (np.arange(len(s)) % k).astype(np.int32)
        x = np.empty_like(s)
        for j, domain in enumerate(domains):
            x[labels == j] = transform(s[labels == j], domain, num_levels)
        arrays = (x, labels)
        if targets:
            truth = np.stack([transform(s, d, num_levels) for d in domains], axis=1)
            arrays = (x, truth, labels)
    else:
        a, b = domains
        if layout == "paired":
            first = second = s
        else:
            half = len(s) // 2
            first, second = s[:half], s[half:2 * half]
        x = np.concatenate([transform(first, a, num_levels),
                            transform(second, b, num_levels)], axis=-1)
        arrays = (x, None)
        if targets:
            truth = np.concatenate([transform(first, b, num_levels),
                                    transform(second, a, num_levels)], axis=-1)
            arrays = (x, truth, None)
    what = f"split {split!r}"
    kept = _take(tuple(a for a in arrays if a is not None), num_examples, what)
    if arrays[-1] is None:
        kept = (*kept, None)
    return kept


def make_loader(base_loader, layout, domains, num_levels):
    """The registry's ``loader(split, *, data_dir, seed, num_examples) -> (x, y)``."""

    def loader(split, *, data_dir=None, seed=0, num_examples=None):
        del seed  # The split and the pairing are fixed.
        x, y = build_split(base_loader, layout, domains, num_levels, split, data_dir,
                           num_examples)
        return x, (np.zeros(len(x), np.int32) if y is None else y)

    loader.layout, loader.domains, loader.base_loader = layout, tuple(domains), base_loader
    loader.num_levels = num_levels
    return loader
