"""Loading is safe: only .keras files, safe mode, no Lambda layers; a run's directory
loads its model.keras, and one without says why and what to do."""

import os
import shutil

import keras
import numpy as np
import pytest

import unigen
from unigen.errors import RunDirectoryError, TrainingDivergedError, UnsafeModelFileError


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


# ---------------------------------------------------------- a training run's directory
X2 = np.random.default_rng(0).normal(size=(64, 2)).astype("float32")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    """A finished one-epoch run of a tiny Gaussian: config, checkpoint, history, model."""
    out = tmp_path_factory.mktemp("load") / "run"
    unigen.fit(unigen.models.Gaussian(event_shape=(2,)), X2, epochs=1, batch_size=32, seed=0,
               output_dir=str(out), verbose=0)
    return out


def test_load_takes_a_run_directory_as_its_model_file(run_dir):
    from_file = unigen.load(str(run_dir / "model.keras"))
    for given in (str(run_dir), run_dir, f"{run_dir}{os.sep}"):  # str, PathLike, trailing /
        model = unigen.load(given)
        assert isinstance(model, unigen.models.Gaussian) and model.optimizer is not None
        np.testing.assert_array_equal(np.asarray(model.log_prob(X2)),
                                      np.asarray(from_file.log_prob(X2)))
    assert unigen.load(run_dir, compile=False).compiled is False


def _copy_run(run_dir, tmp_path, drop=()):
    copy = tmp_path / "copy"
    shutil.copytree(run_dir, copy)
    for name in drop:
        os.remove(copy / name)
    return copy


def test_a_run_that_stopped_before_writing_its_model_says_how_to_resume(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path, drop=["model.keras"])
    with pytest.raises(RunDirectoryError) as info:
        unigen.load(copy)
    message = str(info.value)
    assert "has a checkpoint but no model.keras" in message and "checkpoint.npz" in message
    assert f"unigen.fit(model, data, output_dir={str(copy)!r})" in message
    # The fix works: the same call resumes the finished run and writes model.keras.
    unigen.fit(unigen.models.Gaussian(event_shape=(2,)), X2, epochs=1, batch_size=32, seed=0,
               output_dir=str(copy), verbose=0)
    np.testing.assert_array_equal(np.asarray(unigen.load(copy).log_prob(X2)),
                                  np.asarray(unigen.load(run_dir).log_prob(X2)))


def test_the_inner_model_file_gets_the_same_checks(run_dir, tmp_path):
    copy = _copy_run(run_dir, tmp_path)
    (copy / "model.keras").write_bytes(b"")  # as a kill could leave it
    with pytest.raises(UnsafeModelFileError, match=r"model\.keras' is not a valid \.keras"):
        unigen.load(copy)


@keras.saving.register_keras_serializable(package="test_saving")
class NaNGaussian(unigen.models.Gaussian):
    """Its loss is NaN from the first step: the run stops in its first epoch."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        return super().compute_loss(x, y, y_pred, sample_weight, training) * np.nan


def test_a_run_that_diverged_in_its_first_epoch_has_no_model_and_says_so(tmp_path):
    out = tmp_path / "diverged"
    with pytest.raises(TrainingDivergedError):
        unigen.fit(NaNGaussian(event_shape=(2,)), X2, epochs=2, batch_size=32, seed=0,
                   output_dir=str(out), verbose=0)
    with pytest.raises(RunDirectoryError, match="stopped in its first epoch") as info:
        unigen.load(out)
    assert "it holds .lock, config.json" in str(info.value)
    assert f"unigen.fit(model, data, output_dir={str(out)!r}) starts afresh" in str(info.value)


def test_other_directories_and_missing_paths_are_named(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"No model\.keras in .*it is empty.*output_dir"):
        unigen.load(tmp_path / "empty")
    saved_model = tmp_path / "saved"
    (saved_model / "variables").mkdir(parents=True)
    (saved_model / "saved_model.pb").write_bytes(b"")
    with pytest.raises(UnsafeModelFileError, match=r"SavedModel directory \(it holds "
                                                   r"saved_model\.pb, variables\)"):
        unigen.load(saved_model)
    with pytest.raises(FileNotFoundError, match=r"No file or directory at .*runs.*training "
                                                r"run's directory"):
        unigen.load(tmp_path / "runs" / "x")
