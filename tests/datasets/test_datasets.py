"""Tests for unigen.datasets: catalogue, splits, seeding, IDX/npz reading, errors."""

import dataclasses
import gzip
import struct
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from unigen import datasets
from unigen.errors import DataError, DatasetNotFoundError

TOY = ["ring8", "grid25", "moons", "swissroll"]
IDX_NAMES = {
    "train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}


def _idx_bytes(array, magic_override=None):
    array = np.asarray(array, dtype=np.uint8)
    magic = (0x0800 | array.ndim) if magic_override is None else magic_override
    header = struct.pack(">I", magic) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.tobytes()


def _write(path, payload, compress):
    if compress:
        with gzip.open(str(path) + ".gz", "wb") as handle:
            handle.write(payload)
    else:
        path.write_bytes(payload)


def _fake_mnist(num_train=24, num_test=7, seed=0):
    rng = np.random.default_rng(seed)
    return {
        "x_train": rng.integers(0, 256, (num_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, num_train).astype(np.uint8),
        "x_test": rng.integers(0, 256, (num_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, num_test).astype(np.uint8),
    }


def _write_idx_dir(directory, arrays, compress=True):
    directory.mkdir(parents=True, exist_ok=True)
    for part, (images, labels) in IDX_NAMES.items():
        _write(directory / images, _idx_bytes(arrays[f"x_{part}"]), compress)
        _write(directory / labels, _idx_bytes(arrays[f"y_{part}"]), compress)
    return directory


def _collect(dataset):
    xs, ys = [], []
    for x, y in dataset.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    return np.stack(xs), np.array(ys)


# Catalogue ---------------------------------------------------------------------


def test_available_and_info_fields():
    translation = [f"{base}_{kind}" for base in ("digits", "fashion_mnist") for kind in (
        "domains", "inverted", "inverted_paired", "rotated", "rotated_paired", "thickened",
        "thickened_paired")]
    assert datasets.available() == sorted(
        ["digits", "fashion_mnist", "mnist", "ring8", "grid25", "moons", "swissroll",
         *translation, "oracle", "words"]
    )
    digits = datasets.info("digits")
    assert digits.event_shape == (8, 8, 1) and digits.dtype == "uint8"
    assert digits.num_levels == 17 and digits.value_range == (0, 16)
    assert digits.splits == {"train": 1000, "validation": 350, "test": 447}
    assert digits.kind == "image" and digits.num_classes == 10
    for name in ("fashion_mnist", "mnist"):
        image = datasets.info(name)
        assert image.event_shape == (28, 28, 1) and image.num_levels == 256
        assert image.value_range == (0, 255)
        assert image.splits == {"train": 55_000, "validation": 5_000, "test": 10_000}
    for name in TOY:
        vector = datasets.info(name)
        assert vector.kind == "vector" and vector.event_shape == (2,)
        assert vector.dtype == "float32" and vector.num_levels is None
    assert datasets.info("swissroll").num_classes is None
    assert datasets.info("Fashion-MNIST").name == "fashion_mnist"
    with pytest.raises(dataclasses.FrozenInstanceError):
        datasets.info("digits").num_levels = 3  # Frozen.
    hash(datasets.info("ring8"))


def test_mode_arrays():
    ring = datasets.info("ring8")
    angles = 2 * np.pi * np.arange(8) / 8
    expected = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    np.testing.assert_allclose(ring.modes, expected)
    assert ring.mode_std == 0.01
    grid = datasets.info("grid25")
    assert grid.modes.shape == (25, 2) and grid.mode_std == 0.05
    values = [-4.0, -2.0, 0.0, 2.0, 4.0]
    np.testing.assert_array_equal(grid.modes[5 * 1 + 3], [values[1], values[3]])
    assert {tuple(m) for m in grid.modes} == {(a, b) for a in values for b in values}
    grid.modes[0] = 99.0  # A copy: the registry is unchanged.
    assert datasets.info("grid25").modes[0, 0] == -4.0
    assert datasets.info("moons").modes is None


def test_unknown_name_and_split():
    with pytest.raises(ValueError, match=r"Available: digits, .*, fashion_mnist, ") as err:
        datasets.load("cifar10")
    assert "file path" not in str(err.value)
    with pytest.raises(ValueError, match=r"looks like a file path.*unigen compare --data "
                                         r"my/images\.npz"):
        datasets.load("my/images.npz")
    with pytest.raises(ValueError, match="'train', 'validation', 'test'"):
        datasets.as_numpy("digits", "valid")
    with pytest.raises(ValueError, match="no labels"):
        datasets.load("swissroll", with_labels=True)
    with pytest.raises(ValueError, match="num_examples"):
        datasets.as_numpy("ring8", num_examples=0)
    with pytest.raises(ValueError, match="seed"):
        datasets.as_numpy("ring8", seed=-1)
    with pytest.raises(ValueError, match="exceeds the 447"):
        datasets.as_numpy("digits", "test", num_examples=448)


# Digits ------------------------------------------------------------------------


def test_digits_splits_disjoint_and_complete():
    from sklearn.datasets import load_digits

    bunch = load_digits()
    parts = {
        split: datasets.as_numpy("digits", split, with_labels=True)
        for split in ("train", "validation", "test")
    }
    assert {s: len(x) for s, (x, _) in parts.items()} == {
        "train": 1000, "validation": 350, "test": 447}
    order = np.random.RandomState(0).permutation(1797)
    start = 0
    for x, y in parts.values():
        assert x.dtype == np.uint8 and x.shape[1:] == (8, 8, 1)
        assert y.dtype == np.int32 and y.min() >= 0 and y.max() <= 9
        assert x.min() == 0 and x.max() == 16
        index = order[start:start + len(x)]
        np.testing.assert_array_equal(x[..., 0], bunch.images[index])
        np.testing.assert_array_equal(y, bunch.target[index])
        start += len(x)
    # Disjoint and complete: the split indices are a permutation of all 1797.
    assert sorted(order[:start]) == list(range(1797))
    # The split does not depend on `seed`.
    np.testing.assert_array_equal(
        datasets.as_numpy("digits", "test", seed=5), parts["test"][0])


def test_digits_tf_dataset_spec():
    import tensorflow as tf

    ds = datasets.load("digits", "validation", with_labels=True)
    x_spec, y_spec = ds.element_spec
    assert x_spec.shape == (8, 8, 1) and x_spec.dtype == tf.uint8
    assert y_spec.shape == () and y_spec.dtype == tf.int32
    x, y = _collect(ds)
    expected_x, expected_y = datasets.as_numpy("digits", "validation", True)
    np.testing.assert_array_equal(x, expected_x)
    np.testing.assert_array_equal(y, expected_y)
    assert datasets.load("digits", num_examples=10).cardinality().numpy() == 10


# Generated data ----------------------------------------------------------------


@pytest.mark.parametrize("name", TOY)
def test_toy_shapes_determinism_and_range(name):
    info = datasets.info(name)
    x = datasets.as_numpy(name, "train", seed=3)
    assert x.shape == (20_000, 2) and x.dtype == np.float32
    np.testing.assert_array_equal(x, datasets.as_numpy(name, "train", seed=3))
    assert not np.array_equal(x[:5000], datasets.as_numpy(name, "train", seed=4)[:5000])
    validation = datasets.as_numpy(name, "validation", seed=3)
    assert validation.shape == (5_000, 2)
    assert not np.array_equal(validation, x[:5000])
    assert not np.array_equal(validation, datasets.as_numpy(name, "test", seed=3))
    # A smaller num_examples is a prefix of a larger one.
    np.testing.assert_array_equal(datasets.as_numpy(name, seed=3, num_examples=1500),
                                  x[:1500])
    low, high = info.value_range
    assert x.min() >= low and x.max() <= high
    ds = datasets.load(name, "test", seed=3, num_examples=8)
    assert ds.element_spec.shape == (2,)
    expected = datasets.as_numpy(name, "test", seed=3)[:8]
    np.testing.assert_array_equal(np.stack(list(ds.as_numpy_iterator())), expected)


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples_near_their_modes(name):
    info = datasets.info(name)
    x, y = datasets.as_numpy(name, with_labels=True, seed=0)
    assert y.dtype == np.int32 and y.min() == 0 and y.max() == len(info.modes) - 1
    distance = np.abs(x - info.modes[y])
    assert distance.max() < 6 * info.mode_std
    np.testing.assert_allclose((x - info.modes[y]).std(0), info.mode_std, rtol=0.05)
    counts = np.bincount(y, minlength=len(info.modes))
    assert counts.min() > 0.7 * len(y) / len(info.modes)


def test_moons_standardised_and_labels():
    x, y = datasets.as_numpy("moons", with_labels=True, num_examples=200_000)
    np.testing.assert_allclose(x.mean(0), 0.0, atol=0.01)
    np.testing.assert_allclose(x.std(0), 1.0, atol=0.01)
    assert set(np.unique(y)) == {0, 1}
    assert x[y == 0, 1].mean() > x[y == 1, 1].mean()  # Label 0 is the upper moon.
    # The standardisation constants match a large sample of sklearn's make_moons.
    from sklearn.datasets import make_moons

    reference, _ = make_moons(200_000, noise=0.05, random_state=0)
    np.testing.assert_allclose(reference.mean(0), [0.5, 0.25], atol=0.005)
    np.testing.assert_allclose(reference.std(0), [0.86747, 0.49668], atol=0.005)
    raw = x * np.array([0.86747, 0.49668]) + [0.5, 0.25]
    quantiles = [0.05, 0.25, 0.5, 0.75, 0.95]  # Same distribution as make_moons.
    np.testing.assert_allclose(np.quantile(raw, quantiles, axis=0),
                               np.quantile(reference, quantiles, axis=0), atol=0.02)


def test_from_arrays_and_errors():
    x = np.arange(12, dtype=np.float64).reshape(6, 2)
    y = np.arange(6)
    pairs = list(datasets.from_arrays(x, y).as_numpy_iterator())
    assert len(pairs) == 6
    np.testing.assert_array_equal(pairs[2][0], x[2])
    assert pairs[2][1] == 2
    assert datasets.from_arrays([[1, 2], [3, 4]]).element_spec.shape == (2,)
    with pytest.raises(DataError, match="at least one example"):
        datasets.from_arrays(np.zeros((0, 2)))
    with pytest.raises(DataError, match="at least 1 dimension"):
        datasets.from_arrays(3.0)
    with pytest.raises(DataError, match="same number of examples, got 6 and 5"):
        datasets.from_arrays(x, y[:5])
    with pytest.raises(DataError, match="dtype <U1"):
        datasets.from_arrays(np.array(["a", "b"]))
    with pytest.raises(DataError, match="`y` must hold real numbers"):
        datasets.from_arrays(x, np.array([None] * 6))
    with pytest.raises(DataError, match="`x`"):
        datasets.from_arrays([[1.0, 2.0], [3.0]])  # Ragged.
    assert isinstance(DataError("m"), ValueError)


# IDX / npz files ---------------------------------------------------------------


@pytest.mark.parametrize("compress", [True, False])
@pytest.mark.parametrize("name", ["fashion_mnist", "mnist"])
def test_idx_files_read_exactly(tmp_path, name, compress):
    arrays = _fake_mnist()
    _write_idx_dir(tmp_path, arrays, compress)
    x, y = _collect(datasets.load(name, "train", with_labels=True, data_dir=tmp_path))
    np.testing.assert_array_equal(x[..., 0], arrays["x_train"][:22])  # 24 - 24 // 12.
    np.testing.assert_array_equal(y, arrays["y_train"][:22])
    x, y = datasets.as_numpy(name, "validation", True, data_dir=str(tmp_path))
    np.testing.assert_array_equal(x[..., 0], arrays["x_train"][22:])
    assert y.dtype == np.int32 and x.dtype == np.uint8 and x.shape == (2, 28, 28, 1)
    x = datasets.as_numpy(name, "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x[..., 0], arrays["x_test"])


def test_data_dir_subdirectory_and_env_var(tmp_path, monkeypatch):
    arrays = _fake_mnist(seed=1)
    _write_idx_dir(tmp_path / "fashion-mnist", arrays)
    x = datasets.as_numpy("fashion_mnist", "test", data_dir=tmp_path)
    np.testing.assert_array_equal(x[..., 0], arrays["x_test"])
    monkeypatch.setenv("UNIGEN_DATA_DIR", str(tmp_path))
    x = datasets.as_numpy("fashion_mnist", "test")
    np.testing.assert_array_equal(x[..., 0], arrays["x_test"])


def test_mnist_npz(tmp_path):
    arrays = _fake_mnist(num_train=36, seed=2)
    np.savez(tmp_path / "mnist.npz", **arrays)
    x, y = datasets.as_numpy("mnist", "train", True, data_dir=tmp_path)
    np.testing.assert_array_equal(x[..., 0], arrays["x_train"][:33])
    np.testing.assert_array_equal(y, arrays["y_train"][:33])
    x = datasets.as_numpy("mnist", "test", data_dir=tmp_path, num_examples=3)
    np.testing.assert_array_equal(x[..., 0], arrays["x_test"][:3])
    bad = dict(arrays)
    del bad["y_test"]
    (tmp_path / "bad").mkdir()
    np.savez(tmp_path / "bad" / "mnist.npz", **bad)
    with pytest.raises(DataError, match="y_test"):
        datasets.as_numpy("mnist", data_dir=tmp_path / "bad")


def test_missing_files_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(DatasetNotFoundError) as caught:
        datasets.load("fashion_mnist", data_dir=missing)
    message = str(caught.value)
    assert "dataset-fashion-mnist" in message and "data_dir" in message
    assert str(missing / "train-images-idx3-ubyte.gz") in message
    assert isinstance(caught.value, FileNotFoundError)
    with pytest.raises(DatasetNotFoundError, match="never downloads") as caught:
        datasets.load("mnist", "test", data_dir=missing)
    assert str(missing) in str(caught.value) and "data_dir" in str(caught.value)
    # Only the test files present: "test" loads, "train" names the missing files.
    _write_idx_dir(tmp_path / "partial", _fake_mnist())
    (tmp_path / "partial" / "train-labels-idx1-ubyte.gz").unlink()
    partial = tmp_path / "partial"
    assert len(datasets.as_numpy("fashion_mnist", "test", data_dir=partial)) == 7
    with pytest.raises(DatasetNotFoundError, match=r"train-labels-idx1-ubyte\.gz"):
        datasets.as_numpy("fashion_mnist", data_dir=partial)


def test_corrupt_idx_files(tmp_path):
    arrays = _fake_mnist()
    directory = _write_idx_dir(tmp_path / "magic", arrays, compress=False)
    (directory / "t10k-images-idx3-ubyte").write_bytes(
        _idx_bytes(arrays["x_test"], magic_override=0x12345678))
    with pytest.raises(DataError, match="bad magic number 0x12345678"):
        datasets.as_numpy("fashion_mnist", "test", data_dir=directory)
    directory = _write_idx_dir(tmp_path / "swapped", arrays, compress=False)
    (directory / "t10k-images-idx3-ubyte").write_bytes(_idx_bytes(arrays["y_test"]))
    with pytest.raises(DataError, match="swapped"):
        datasets.as_numpy("mnist", "test", data_dir=directory)
    directory = _write_idx_dir(tmp_path / "short", arrays, compress=False)
    payload = _idx_bytes(arrays["x_test"])[:-5]
    (directory / "t10k-images-idx3-ubyte").write_bytes(payload)
    with pytest.raises(DataError, match="truncated or corrupt"):
        datasets.as_numpy("fashion_mnist", "test", data_dir=directory)
    directory = _write_idx_dir(tmp_path / "count", arrays)
    _write(directory / "t10k-labels-idx1-ubyte", _idx_bytes(arrays["y_test"][:3]), True)
    with pytest.raises(DataError, match=r"7 images but .* 3 labels"):
        datasets.as_numpy("fashion_mnist", "test", data_dir=directory)
    directory = _write_idx_dir(tmp_path / "gzip", arrays)
    (directory / "t10k-images-idx3-ubyte.gz").write_bytes(b"not gzip at all")
    with pytest.raises(DataError, match="corrupt"):
        datasets.as_numpy("fashion_mnist", "test", data_dir=directory)


# Import hygiene ----------------------------------------------------------------


def test_import_runs_no_tensorflow_op():
    """Virtual CPUs can still be configured after using the catalogue."""
    script = textwrap.dedent("""
        import unigen.datasets as d
        d.available(); d.info("ring8"); d.as_numpy("ring8", num_examples=4)
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        assert len(tf.config.list_logical_devices("CPU")) == 2
        assert d.load("ring8", num_examples=4).cardinality().numpy() == 4
        print("ok")
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().endswith("ok")
