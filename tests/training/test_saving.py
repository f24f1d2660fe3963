"""Loading is safe: only .keras files, safe mode, no Lambda layers."""

import keras
import pytest

import unigen
from unigen.errors import UnsafeModelFileError


def test_load_refuses_a_file_with_a_lambda_layer(tmp_path):
    inputs = keras.Input((2,))
    model = keras.Model(inputs, keras.layers.Lambda(lambda t: t * 2.0)(inputs))
    path = str(tmp_path / "lambda.keras")
    model.save(path)
    with pytest.raises(UnsafeModelFileError, match="Lambda"):
        unigen.load(path)


@pytest.mark.parametrize("name", ["model.h5", "model.hdf5", "model.pkl", "saved_model"])
def test_load_refuses_formats_that_can_run_code(tmp_path, name):
    path = tmp_path / name
    path.write_bytes(b"not a model")
    with pytest.raises(UnsafeModelFileError, match=r"only \.keras"):
        unigen.load(str(path))


def test_load_refuses_a_keras_model_that_is_not_generative(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = str(tmp_path / "dense.keras")
    model.save(path)
    with pytest.raises(TypeError, match="not a unigen model"):
        unigen.load(path)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing"):
        unigen.load(str(tmp_path / "nothing.keras"))


def test_save_into_a_missing_folder_says_to_create_it(tmp_path):
    model = unigen.models.Gaussian(event_shape=(2,))
    with pytest.raises(FileNotFoundError, match=r"does not exist\. Create it first"):
        model.save(str(tmp_path / "missing" / "dir" / "m.keras"))
    model.save(str(tmp_path / "m.keras"))
    assert (tmp_path / "m.keras").exists()
