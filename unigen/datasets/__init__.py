r"""Datasets for unigen: real images read from local files, and generated 2D data.

Nothing is ever downloaded. Every dataset has fixed splits "train", "validation"
and "test", and `load` returns an unbatched `tf.data.Dataset` whose elements are
`x`, or `(x, y)` with `with_labels=True` (y an int32 class label).

=============  =========================  ======  =======  ======================
name           x as yielded               levels  classes  train / val / test
=============  =========================  ======  =======  ======================
digits         uint8 (8, 8, 1), 0..16     17      10       1,000 / 350 / 447
fashion_mnist  uint8 (28, 28, 1), 0..255  256     10       55,000 / 5,000 / 10,000
mnist          uint8 (28, 28, 1), 0..255  256     10       55,000 / 5,000 / 10,000
ring8          float32 (2,)               \-      8        20,000 / 5,000 / 5,000
grid25         float32 (2,)               \-      25       20,000 / 5,000 / 5,000
moons          float32 (2,)               \-      2        20,000 / 5,000 / 5,000
swissroll      float32 (2,)               \-      none     20,000 / 5,000 / 5,000
oracle         int32 (16,), token ids     10      none     10,000 / 2,000 / 2,000
words          int32 (12,), token ids     28      none     53,479 / 2,000 / 2,000
=============  =========================  ======  =======  ======================

Sequences (oracle, words) are token ids of a `Vocabulary` (0 padding, 1
end-of-sequence), padded after EOS; ``info(name).vocabulary`` maps them to text,
and `oracle()` is the Markov chain that generates and exactly scores the
``oracle`` data. Images are yielded exactly as stored, integer pixel levels in
uint8: models own their preprocessing (scaling, dequantization). Sources:

- digits: scikit-learn's bundled `load_digits` (UCI optical recognition of
  handwritten digits). Fixed split: `numpy.random.RandomState(0).permutation(1797)`,
  first 1,000 indices train, next 350 validation, last 447 test.
- fashion_mnist: the IDX files of Debian's package `dataset-fashion-mnist`
  (`apt-get update && apt-get install dataset-fashion-mnist`), in
  `/usr/share/datasets/fashion-mnist/`; or `data_dir=`, or
  `$UNIGEN_DATA_DIR/fashion-mnist/`. train = first 55,000 of the training file,
  validation = its last 5,000, test = the 10,000 t10k images.
- mnist: IDX files or a Keras-style `mnist.npz` already on this machine, found in
  `data_dir=`, `$UNIGEN_DATA_DIR/mnist/`, `/usr/share/datasets/mnist/` or
  `~/.keras/datasets/`. Same split rule as Fashion-MNIST.
- oracle: `oracle()` (a Markov chain of order 2 over 8 symbols, seed 0); each
  split is its own seeded stream of sequences.
- words: Debian's word list `/usr/share/dict/words` (`apt-get install wamerican`),
  or `data_dir=`; lowercase words of 1 to 11 letters, fixed permutation.
- ring8, grid25, moons, swissroll: generated with NumPy from `seed`; each split
  is its own deterministic stream; `num_examples=` sets the size. `info(name)`
  gives the mixtures' `modes` and `mode_std` (PacGAN / VEEGAN settings).

Translation sets (image-to-image translation with a known answer; see
`unigen.datasets._domains` and `true_targets`): ``digits_inverted``,
``digits_rotated``, ``digits_thickened`` (unpaired: x is (8, 8, 2), a domain-a
and a domain-b image of different sources on the channel axis; half the
examples of the base split), the same with ``_paired`` (the same source:
pix2pix), ``digits_domains`` (x one image, y its domain among original,
inverted, rotated, thickened: StarGAN), and the same from ``fashion_mnist``.

Importing this package runs no TensorFlow op; `load` and `from_arrays` do.

Example:
    >>> from unigen import datasets
    >>> datasets.info("digits").num_levels
    17
    >>> ds = datasets.load("ring8", "train", seed=1).batch(256)
    >>> x, y = datasets.as_numpy("digits", "test", with_labels=True)
"""

from unigen.datasets._domains import DOMAINS, inverse_transform, transform
from unigen.datasets._loading import as_numpy, from_arrays, load, true_targets
from unigen.datasets._registry import DatasetInfo, available, info
from unigen.datasets._sequences import (
    EOS_ID,
    PAD_ID,
    Oracle,
    Vocabulary,
    check_canonical,
    counted_mask,
    oracle,
)

__all__ = ["DOMAINS", "EOS_ID", "PAD_ID", "DatasetInfo", "Oracle", "Vocabulary", "as_numpy",
           "available", "check_canonical", "counted_mask", "from_arrays", "info",
           "inverse_transform", "load", "oracle", "transform", "true_targets"]
