"""The catalogue of datasets: `DatasetInfo`, `available`, `info` and name checks.

This module imports neither TensorFlow nor scikit-learn, so `unigen.datasets` can be
imported (and its catalogue read) before a `tf.distribute` strategy is created.
"""

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np

from unigen.datasets import _domains, _real, _sequences, _toy

__all__ = ["DatasetInfo", "available", "info"]


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
    """What a dataset holds and how it is yielded by `unigen.datasets.load`.

    Attributes:
        name: the name `load` accepts, e.g. "digits".
        description: one paragraph: the source, the split rule and the pixel values.
        kind: "image" (x has shape (height, width, channels)), "vector" or
            "sequence" (x int32 token ids of shape (length,), padded after
            end-of-sequence; see `unigen.datasets.Vocabulary`).
        event_shape: shape of one example x as yielded, e.g. (8, 8, 1) or (2,).
        dtype: dtype name of x as yielded: "uint8" for images (raw integer pixel
            levels, no scaling) and "float32" for vectors.
        num_levels: number of discrete pixel levels, e.g. 17 for digits (values
            0..16) and 256 for MNIST / Fashion-MNIST (0..255); None for continuous
            data.
        value_range: (low, high). For images the smallest and largest pixel level.
            For generated vectors a box [low, high]^2 that holds every sample
            except with probability below about 1e-12 per sample (useful for plot
            limits and evaluation grids).
        num_classes: number of classes of the int32 label y, or None when the
            dataset has no labels (then `load(..., with_labels=True)` raises).
        splits: split name -> number of examples. For generated data these are the
            default sizes (`num_examples=` overrides them); for MNIST and
            Fashion-MNIST they are the sizes with the standard files.
        source: where the data comes from (package, file or generator).
        class_names: one name per class, or None.
        modes: for the Gaussian mixtures (ring8, grid25), the array of mode centres
            with shape (num_modes, 2), in label order; None otherwise.
        mode_std: for the Gaussian mixtures, the standard deviation of every
            coordinate around its mode; None otherwise.
        domains: for the translation sets (`unigen.datasets.true_targets`), the
            names of the image domains, e.g. ("original", "inverted"); else None.
        layout: for the translation sets, "unpaired" (x holds a domain-a and a
            domain-b image of different sources on the channel axis), "paired"
            (the same source) or "domains" (x one image, y its domain); else None.
        vocabulary: for sequence data, the `Vocabulary` of the token ids; None
            otherwise.
    """

    name: str
    description: str
    kind: str
    event_shape: tuple
    dtype: str
    num_levels: int | None
    value_range: tuple
    num_classes: int | None
    splits: dict = dataclasses.field(hash=False)
    source: str = ""
    class_names: tuple | None = None
    modes: np.ndarray | None = dataclasses.field(
        default=None, hash=False, compare=False, repr=False
    )
    mode_std: float | None = None
    domains: tuple | None = None
    layout: str | None = None
    vocabulary: Any = dataclasses.field(default=None, compare=False, repr=False)


@dataclasses.dataclass(frozen=True)
class _Entry:
    info: DatasetInfo
    loader: Callable[..., Any]  # (split, *, data_dir, seed, num_examples) -> (x, y)


_DIGIT_NAMES = tuple(str(i) for i in range(10))
_FASHION_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)
_IMAGE_SPLITS = {"train": 55_000, "validation": 5_000, "test": 10_000}
_TOY_SPLITS = dict(_toy.DEFAULT_SIZES)


def _image(name, description, source, shape, levels, class_names, splits):
    return DatasetInfo(
        name=name, description=description, kind="image", event_shape=shape,
        dtype="uint8", num_levels=levels, value_range=(0, levels - 1),
        num_classes=len(class_names), splits=dict(splits), source=source,
        class_names=class_names,
    )


def _vector(name, description, source, value_range, num_classes, modes=None,
            mode_std=None):
    if modes is not None:
        modes = np.array(modes, dtype=np.float64)
        modes.setflags(write=False)
    return DatasetInfo(
        name=name, description=description, kind="vector", event_shape=(2,),
        dtype="float32", num_levels=None, value_range=value_range,
        num_classes=num_classes, splits=dict(_TOY_SPLITS), source=source,
        modes=modes, mode_std=mode_std,
    )


_REGISTRY = {
    "digits": _Entry(_image(
        "digits",
        "Handwritten digits from scikit-learn's bundled copy of the UCI optical "
        "recognition data: 1,797 grey 8x8 images, pixel levels 0..16 (17 levels), "
        "10 classes. Fixed split from numpy RandomState(0).permutation(1797): "
        "train = the first 1,000 indices, validation the next 350, test the last "
        "447. The split never depends on `seed`.",
        "sklearn.datasets.load_digits (ships with scikit-learn)",
        (8, 8, 1), 17, _DIGIT_NAMES, _real.DIGITS_SPLITS,
    ), _real.load_digits_split),
    "fashion_mnist": _Entry(_image(
        "fashion_mnist",
        "Fashion-MNIST (Xiao et al., 2017): 70,000 grey 28x28 images of clothing, "
        "pixel levels 0..255, 10 classes, read from IDX files (Debian package "
        "dataset-fashion-mnist). train = the first 55,000 images of the training "
        "file, validation = its last 5,000, test = the 10,000 t10k images.",
        "Debian package dataset-fashion-mnist: /usr/share/datasets/fashion-mnist/",
        (28, 28, 1), 256, _FASHION_NAMES, _IMAGE_SPLITS,
    ), _real.load_fashion_mnist_split),
    "mnist": _Entry(_image(
        "mnist",
        "MNIST (LeCun et al., 1998): 70,000 grey 28x28 handwritten digits, pixel "
        "levels 0..255, 10 classes, read from IDX files or a Keras-style mnist.npz "
        "that is already on this machine (unigen never downloads). train = the "
        "first 55,000 training images, validation = the last 5,000, test = the "
        "10,000 test images.",
        "user-provided IDX files or mnist.npz (data_dir= or UNIGEN_DATA_DIR)",
        (28, 28, 1), 256, _DIGIT_NAMES, _IMAGE_SPLITS,
    ), _real.load_mnist_split),
    "ring8": _Entry(_vector(
        "ring8",
        "Mixture of 8 equally weighted Gaussians with centres (cos(2 pi k / 8), "
        "sin(2 pi k / 8)), k = 0..7, on the unit circle and std 0.01 per "
        "coordinate (the PacGAN / VEEGAN setting). Label = mode index k.",
        "generated (numpy, seeded)", (-1.1, 1.1), 8, _toy.RING8_MODES,
        _toy.RING8_STD,
    ), _toy.make_loader("ring8")),
    "grid25": _Entry(_vector(
        "grid25",
        "Mixture of 25 equally weighted Gaussians with centres {-4,-2,0,2,4}^2 and "
        "std 0.05 per coordinate (the PacGAN setting). Mode k = 5 i + j has centre "
        "(v[i], v[j]) with v = (-4, -2, 0, 2, 4). Label = mode index k.",
        "generated (numpy, seeded)", (-4.5, 4.5), 25, _toy.GRID25_MODES,
        _toy.GRID25_STD,
    ), _toy.make_loader("grid25")),
    "moons": _Entry(_vector(
        "moons",
        "Two interleaving half circles (the distribution of sklearn's make_moons "
        "with noise 0.05, angles drawn i.i.d. uniform), standardised to zero mean "
        "and unit std per coordinate with the exact population constants "
        "mean (0.5, 0.25), std (sqrt(0.7525), sqrt(0.5650 - 1/pi)). "
        "Label = moon (0 upper, 1 lower). Entropy about 1.131 nats.",
        "generated (numpy, seeded)", (-2.5, 2.5), 2,
    ), _toy.make_loader("moons")),
    "swissroll": _Entry(_vector(
        "swissroll",
        "2D swiss roll: t = 1.5 pi (1 + 2u), u ~ U(0, 1), x = (t cos t, t sin t) "
        "+ N(0, 1) noise, divided by 5 (the (x, z) coordinates of sklearn's "
        "make_swiss_roll with noise 1.0, scaled as in FFJORD). No labels.",
        "generated (numpy, seeded)", (-4.5, 4.5), None,
    ), _toy.make_loader("swissroll")),
}


def _translation_entry(name, base, layout, domains):
    """A registry entry of a translation set built from ``base`` (see `_domains`)."""
    spec = _REGISTRY[base].info
    domains = tuple(domains)
    h, w, c = spec.event_shape
    if layout == "domains":
        shape, classes, splits = spec.event_shape, domains, dict(spec.splits)
        what = (f"{len(domains)} domains {', '.join(domains)}; x one image, y its domain "
                f"index; every source image is in exactly one domain")
    else:
        shape, classes = (h, w, 2 * c), None
        paired = layout == "paired"
        splits = {k: v if paired else v // 2 for k, v in spec.splits.items()}
        what = (f"x = domain {domains[0]!r} (channels :{c}) beside domain {domains[1]!r} "
                f"(channels {c}:) of " + ("the same source image" if paired else
                                         "a different source image (disjoint halves)"))
    info = DatasetInfo(
        name=name, kind="image", event_shape=shape, dtype="uint8",
        num_levels=spec.num_levels, value_range=spec.value_range,
        num_classes=None if classes is None else len(classes), splits=splits,
        source=f"{base} transformed (unigen.datasets._domains)", class_names=classes,
        domains=domains, layout=layout,
        description=(f"{layout.capitalize()} translation set from {base!r}: {what}. The "
                     f"true targets of every image are held back in "
                     f"unigen.datasets.true_targets({name!r}, split)."))
    return _Entry(info, _domains.make_loader(_REGISTRY[base].loader, layout, domains,
                                             spec.num_levels))


for _base in ("digits", "fashion_mnist"):
    for _other in ("inverted", "rotated", "thickened"):
        _REGISTRY[f"{_base}_{_other}"] = _translation_entry(
            f"{_base}_{_other}", _base, "unpaired", ("original", _other))
        _REGISTRY[f"{_base}_{_other}_paired"] = _translation_entry(
            f"{_base}_{_other}_paired", _base, "paired", ("original", _other))
    _REGISTRY[f"{_base}_domains"] = _translation_entry(
        f"{_base}_domains", _base, "domains", _domains.DOMAINS)
def _sequence(name, description, source, length, vocabulary, splits):
    return DatasetInfo(
        name=name, description=description, kind="sequence", event_shape=(length,),
        dtype="int32", num_levels=vocabulary.size, value_range=(0, vocabulary.size - 1),
        num_classes=None, splits=dict(splits), source=source, vocabulary=vocabulary,
    )


_REGISTRY["oracle"] = _Entry(_sequence(
    "oracle",
    "Sequences of 16 tokens from a seeded Markov chain of order 2 over 8 symbols "
    "(a..h) and end-of-sequence (`unigen.datasets.oracle()`), padded after EOS; the "
    "chain scores any sequence exactly, so the oracle NLL of a model's samples is an "
    "exact sample-quality score. Each split is its own seeded stream.",
    "generated (numpy, seeded Markov chain)", _sequences.oracle().length,
    _sequences.oracle().vocabulary, _sequences.ORACLE_SPLITS,
), _sequences.load_oracle_split)
_REGISTRY["words"] = _Entry(_sequence(
    "words",
    "Lowercase English words of 1 to 11 letters (about 57,500 distinct) from Debian's "
    "word list /usr/share/dict/words (package wamerican), one token a character, "
    "then end-of-sequence and padding to 12. Fixed split: sorted, permuted with "
    "RandomState(0); test = first 2,000, validation = next 2,000, train = the rest.",
    "Debian package wamerican: /usr/share/dict/words", _sequences.WORDS_LENGTH,
    _sequences.WORDS_VOCABULARY,
    {"train": 53_479, "validation": _sequences.WORDS_VALIDATION,
     "test": _sequences.WORDS_TEST},
), _sequences.load_words_split)


def available():
    """Returns the names of all datasets, sorted.

    Returns:
        A list of str, e.g. ["digits", "fashion_mnist", "grid25", ...].
    """
    return sorted(_REGISTRY)


def _entry(name):
    if not isinstance(name, str):
        raise TypeError(
            f"`name` must be a dataset name (str), got {type(name).__name__}. "
            f"Available: {', '.join(available())}."
        )
    key = name.strip().lower().replace("-", "_")
    if key not in _REGISTRY:
        hint = ""
        if name.endswith(".npz") or "/" in name or "\\" in name:
            hint = (" It looks like a file path: `unigen.datasets` reads registered datasets "
                    "only; pass your own images as a NumPy array (or a tf.data.Dataset), "
                    "or compare models on a .npz or PNG folder with "
                    f"`unigen compare --data {name}`.")
        from unigen._checks import did_you_mean

        raise ValueError(
            f"Unknown dataset `name`={name!r}.{did_you_mean(key, available())} Available: "
            f"{', '.join(available())}.{hint}"
        )
    return _REGISTRY[key]


def _check_split(entry, split):
    splits = entry.info.splits
    if split not in splits:
        raise ValueError(
            f"Unknown `split`={split!r} for dataset {entry.info.name!r}. "
            f"Its splits are: {', '.join(repr(s) for s in splits)}."
        )


def info(name):
    """Returns the `DatasetInfo` of a dataset.

    Args:
        name: a name from `available()` ("-" is accepted for "_", any case).

    Returns:
        A frozen `DatasetInfo`; its `splits` dict and `modes` array are copies.

    Raises:
        ValueError: `name` is not a known dataset (the message lists them).
    """
    spec = _entry(name).info
    modes = None if spec.modes is None else spec.modes.copy()
    return dataclasses.replace(spec, splits=dict(spec.splits), modes=modes)
