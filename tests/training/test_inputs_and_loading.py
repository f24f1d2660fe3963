"""Bad arguments to `unigen.fit` and crafted files for `unigen.load` get documented errors."""

import os
import zipfile

import keras
import numpy as np
import pytest

import unigen
from unigen.errors import DataError, UnsafeModelFileError
from unigen.training import saving


def _gauss():
    return unigen.models.Gaussian((8, 8, 1), num_levels=17)


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"data": [np.zeros((8, 8, 1)), np.zeros((8, 8))]}, DataError, "numeric array"),
    ({"data": [[1, 2], [3]]}, DataError, "numeric array"),
    ({"seed": "abc"}, ValueError, r"`seed` must be None or an int.*'abc'"),
    ({"seed": 1.7}, ValueError, r"`seed` must be None or an int.*1\.7"),
    ({"seed": True}, ValueError, "`seed`"),
    ({"seed": -1}, ValueError, "`seed`"),
    ({"learning_rate": float("inf")}, ValueError, "positive finite"),
    ({"learning_rate": float("nan")}, ValueError, "positive finite"),
    ({"learning_rate": "fast"}, ValueError, "positive finite"),
    ({"shuffle_buffer": 0}, ValueError, r"`shuffle_buffer` must be a positive int, got 0"),
])
def test_bad_arguments_get_a_clear_error(kwargs, error, match):
    kwargs = {"data": np.zeros((64, 8, 8, 1), np.uint8), "batch_size": 16, "verbose": 0,
              **kwargs}
    with pytest.raises(error, match=match):
        unigen.fit(_gauss(), kwargs.pop("data"), **kwargs)


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    path = str(tmp_path_factory.mktemp("saved") / "m.keras")
    model = _gauss()
    model._ensure_built()
    model.save(path)
    return path


def _rezip(source, target, replace):
    """Copies the archive ``source`` to ``target`` with members replaced."""
    with zipfile.ZipFile(source) as src, zipfile.ZipFile(
            target, "w", compression=zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            if info.filename not in replace:
                dst.writestr(info, src.read(info.filename))
        for name, data in replace.items():
            dst.writestr(name, data)


def _no_keras_load(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("keras read the file although the caps refuse it")
    monkeypatch.setattr(keras.saving, "load_model", refuse)


def test_load_refuses_an_oversized_config_from_the_zip_directory(saved, tmp_path, monkeypatch):
    path = str(tmp_path / "bomb.keras")
    _rezip(saved, path, {"config.json": b" " * (saving.MAX_CONFIG_BYTES + 1)})
    assert os.path.getsize(path) < 2**20  # small on disk, large when inflated
    _no_keras_load(monkeypatch)
    with pytest.raises(UnsafeModelFileError, match=r"config\.json of 16,777,217 bytes"):
        unigen.load(path)


def test_load_refuses_an_archive_above_the_total_cap(saved, tmp_path, monkeypatch):
    path = str(tmp_path / "big.keras")
    _rezip(saved, path, {"padding.bin": b"\0" * 4096})
    _no_keras_load(monkeypatch)
    with pytest.raises(UnsafeModelFileError, match="max_archive_bytes"):
        unigen.load(path, max_archive_bytes=4096)


def test_the_caps_pass_a_real_model(saved):
    assert isinstance(unigen.load(saved), unigen.models.Gaussian)
    assert saving.MAX_ARCHIVE_BYTES == 8 * 2**30


@pytest.mark.parametrize("how", ["truncate", "garbage", "empty"])
def test_load_refuses_a_damaged_archive_clearly(saved, tmp_path, how):
    with open(saved, "rb") as f:
        data = f.read()
    path = tmp_path / "bad.keras"
    path.write_bytes({"truncate": data[: len(data) // 2], "garbage": b"x" * 1000,
                      "empty": b""}[how])
    with pytest.raises(UnsafeModelFileError, match=r"not a valid \.keras archive"):
        unigen.load(str(path))
