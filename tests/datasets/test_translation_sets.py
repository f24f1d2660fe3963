"""The translation sets of unigen.datasets: exact transformations, disjoint unpaired
halves, and the held-back true pairing."""

import gzip
import struct

import numpy as np
import pytest
import scipy.ndimage

from unigen import datasets

LEVELS = 17


def _rows(images):
    return {image.tobytes() for image in np.asarray(images)}


def test_transformations_are_exact_and_invertible_where_they_should_be():
    x = datasets.as_numpy("digits", "test")[:50]
    inverted = datasets.transform(x, "inverted", LEVELS)
    np.testing.assert_array_equal(inverted.astype(int), 16 - x.astype(int))
    assert inverted.dtype == np.uint8
    rotated = datasets.transform(x, "rotated", LEVELS)
    # Counter-clockwise: the top row becomes the left column, read bottom to top.
    np.testing.assert_array_equal(rotated[:, ::-1, 0, :], x[:, 0, :, :])
    for domain in ("original", "inverted", "rotated"):
        back = datasets.inverse_transform(datasets.transform(x, domain, LEVELS), domain, LEVELS)
        np.testing.assert_array_equal(back, x)
    turned = x
    for _ in range(4):
        turned = datasets.transform(turned, "rotated", LEVELS)
    np.testing.assert_array_equal(turned, x)
    cross = np.array([[0, 1, 0], [1, 1, 1], [0, 1, 0]], bool)
    expected = scipy.ndimage.grey_dilation(x, footprint=cross[None, :, :, None],
                                           mode="constant", cval=0)
    np.testing.assert_array_equal(datasets.transform(x, "thickened", LEVELS), expected)
    assert (expected >= x).all() and (expected > x).any()
    with pytest.raises(ValueError, match="not invertible"):
        datasets.inverse_transform(x, "thickened", LEVELS)
    with pytest.raises(ValueError, match="Unknown `domain`='blurred'"):
        datasets.transform(x, "blurred", LEVELS)


def test_unpaired_halves_share_no_source_image_and_the_true_pairs_are_right():
    info = datasets.info("digits_inverted")
    assert info.event_shape == (8, 8, 2) and info.layout == "unpaired"
    assert info.domains == ("original", "inverted") and info.splits["train"] == 500
    for split in ("train", "test"):
        x = datasets.as_numpy("digits_inverted", split)
        a, b = x[..., :1], x[..., 1:]
        source_a, source_b = a, datasets.inverse_transform(b, "inverted", LEVELS)
        base = _rows(datasets.as_numpy("digits", split))
        assert _rows(source_a) <= base and _rows(source_b) <= base
        assert not _rows(source_a) & _rows(source_b)  # disjoint halves: no pair in the data
        truth = datasets.true_targets("digits_inverted", split)
        assert truth.shape == x.shape and truth.dtype == np.uint8
        np.testing.assert_array_equal(truth[..., :1], datasets.transform(a, "inverted", LEVELS))
        np.testing.assert_array_equal(truth[..., 1:], source_b)
    train = datasets.as_numpy("digits_inverted", "train")
    test = datasets.as_numpy("digits_inverted", "test")
    assert not _rows(train[..., :1]) & _rows(test[..., :1])


def test_paired_sets_hold_true_pairs_and_domain_sets_hold_every_target():
    x = datasets.as_numpy("digits_rotated_paired", "validation")
    assert x.shape == (350, 8, 8, 2)
    np.testing.assert_array_equal(x[..., 1:], datasets.transform(x[..., :1], "rotated", LEVELS))
    truth = datasets.true_targets("digits_rotated_paired", "validation")
    np.testing.assert_array_equal(truth[..., :1], x[..., 1:])
    np.testing.assert_array_equal(truth[..., 1:], x[..., :1])

    info = datasets.info("digits_domains")
    assert info.num_classes == 4 and info.class_names == datasets.DOMAINS
    x, y = datasets.as_numpy("digits_domains", "test", with_labels=True)
    truth = datasets.true_targets("digits_domains", "test")
    assert truth.shape == (447, 4, 8, 8, 1)
    assert np.bincount(y).tolist() == [112, 112, 112, 111]
    np.testing.assert_array_equal(truth[np.arange(len(x)), y], x)
    for j, domain in enumerate(datasets.DOMAINS):
        np.testing.assert_array_equal(truth[:, j], datasets.transform(truth[:, 0], domain,
                                                                      LEVELS))
    # Every source image is in exactly one domain.
    assert len(_rows(truth[:, 0])) == len(_rows(datasets.as_numpy("digits", "test")))
    x5 = datasets.as_numpy("digits_domains", "test", num_examples=5)
    np.testing.assert_array_equal(x5, x[:5])
    np.testing.assert_array_equal(datasets.true_targets("digits_domains", "test",
                                                        num_examples=5), truth[:5])


def test_true_targets_refuse_other_datasets_with_the_list():
    with pytest.raises(ValueError, match=r"not a translation set.*digits_inverted"):
        datasets.true_targets("digits")
    with pytest.raises(ValueError, match=r"Unknown `split`"):
        datasets.true_targets("digits_inverted", "nope")


def _fake_fashion_dir(directory, num_train=480, num_test=48):
    """Fashion-MNIST-format IDX files of random images (what Debian's package holds)."""
    rng = np.random.default_rng(0)
    directory.mkdir(parents=True, exist_ok=True)
    parts = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", num_train),
             "t10k": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", num_test)}
    for images, labels, n in parts.values():
        for name, array in ((images, rng.integers(0, 256, (n, 28, 28))),
                            (labels, rng.integers(0, 10, n))):
            array = array.astype(np.uint8)
            header = struct.pack(">I", 0x0800 | array.ndim)
            header += struct.pack(f">{array.ndim}I", *array.shape)
            with gzip.open(directory / f"{name}.gz", "wb") as handle:
                handle.write(header + array.tobytes())
    return str(directory)


def test_fashion_mnist_translation_sets_load_with_their_true_targets(tmp_path):
    """On IDX files of the Debian package's format (random images, so no package needed)."""
    data_dir = _fake_fashion_dir(tmp_path / "fashion")
    base = datasets.as_numpy("fashion_mnist", "validation", data_dir=data_dir)
    assert base.shape == (40, 28, 28, 1)
    x = datasets.as_numpy("fashion_mnist_inverted", "validation", data_dir=data_dir)
    assert x.shape == (20, 28, 28, 2) and x.dtype == np.uint8
    a, b = x[..., :1], x[..., 1:]
    source_b = datasets.inverse_transform(b, "inverted", 256)
    assert _rows(a) <= _rows(base) and _rows(source_b) <= _rows(base)
    assert not _rows(a) & _rows(source_b)
    truth = datasets.true_targets("fashion_mnist_inverted", "validation", data_dir=data_dir)
    np.testing.assert_array_equal(truth[..., :1].astype(int), 255 - a.astype(int))
    np.testing.assert_array_equal(truth[..., 1:], source_b)
    for kind in ("rotated", "thickened"):
        paired = datasets.as_numpy(f"fashion_mnist_{kind}_paired", "validation",
                                   data_dir=data_dir, num_examples=16)
        assert paired.shape == (16, 28, 28, 2)
        np.testing.assert_array_equal(paired[..., 1:],
                                      datasets.transform(paired[..., :1], kind, 256))
    x, y = datasets.as_numpy("fashion_mnist_domains", "validation", with_labels=True,
                             data_dir=data_dir, num_examples=8)
    truth = datasets.true_targets("fashion_mnist_domains", "validation", data_dir=data_dir,
                                  num_examples=8)
    assert truth.shape == (8, 4, 28, 28, 1) and np.bincount(y).tolist() == [2] * 4
    np.testing.assert_array_equal(truth[np.arange(len(x)), y], x)
