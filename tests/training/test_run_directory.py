"""A damaged or foreign run directory is named and refused, never trained over."""

import json
import os
import re
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import RunDirectoryError, RunMismatchError, TrainingDivergedError


def _gauss():
    return unigen.models.Gaussian((8, 8, 1), num_levels=17)


def _fit(out, data="digits", model=None, **kwargs):
    kwargs = {"epochs": 1, "batch_size": 100, "seed": 0, "verbose": 0, **kwargs}
    return unigen.fit(model or _gauss(), data, output_dir=out, **kwargs)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished one-epoch run; tests work on copies of it."""
    out = str(tmp_path_factory.mktemp("finished") / "run")
    _fit(out)
    return out


@pytest.fixture
def run_dir(finished, tmp_path):
    out = str(tmp_path / "run")
    shutil.copytree(finished, out)
    return out


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def _damage(path, how):
    data = _read(path)
    with open(path, "wb") as f:
        f.write({"truncate": data[: len(data) // 2], "garbage": b"not a file " * 50,
                 "empty": b""}[how])


@pytest.mark.parametrize("name", ["checkpoint.npz", "config.json", "history.json"])
@pytest.mark.parametrize("how", ["truncate", "garbage", "empty"])
def test_a_damaged_run_file_is_named_and_nothing_is_overwritten(run_dir, name, how):
    path = os.path.join(run_dir, name)
    _damage(path, how)
    before = {n: _read(os.path.join(run_dir, n)) for n in ("checkpoint.npz", "config.json")}
    with pytest.raises(RunDirectoryError, match=re.escape(name)) as info:
        _fit(run_dir, epochs=2)
    message = str(info.value)
    assert "resume=False" in message and "--overwrite" in message
    assert "pickle" not in message.lower()
    assert info.value.path == path
    after = {n: _read(os.path.join(run_dir, n)) for n in before}
    assert after == before


def test_a_checkpoint_holding_pickled_objects_is_refused_without_pickle_advice(run_dir):
    path = os.path.join(run_dir, "checkpoint.npz")
    np.savez(path, epoch=np.int64(1), names=np.array(["a"]),
             v00000=np.array([{"code": "os.system"}], dtype=object))
    with pytest.raises(RunDirectoryError, match=r"checkpoint\.npz") as info:
        _fit(run_dir, epochs=2)
    assert "pickle" not in str(info.value).lower()


def test_a_missing_config_never_restarts_over_the_checkpoint(run_dir):
    os.remove(os.path.join(run_dir, "config.json"))
    checkpoint = _read(os.path.join(run_dir, "checkpoint.npz"))
    with pytest.raises(RunDirectoryError, match=r"no config\.json"):
        _fit(run_dir, epochs=2)
    assert _read(os.path.join(run_dir, "checkpoint.npz")) == checkpoint
    assert not os.path.exists(os.path.join(run_dir, "config.json"))


def test_resume_false_starts_over_and_deletes_the_old_run(run_dir):
    os.remove(os.path.join(run_dir, "config.json"))
    history = _fit(run_dir, epochs=1, seed=5, resume=False)
    assert len(history.history["loss"]) == 1
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["seed"] == 5


def test_leftover_temporary_files_of_a_killed_run_are_deleted(run_dir):
    for name in ("checkpoint.tmp-99999.npz", "model.tmp-99999.keras", "history.tmp-1.json",
                 "samples/epoch_001.tmp-7.png"):
        with open(os.path.join(run_dir, name), "wb") as f:
            f.write(b"partial")
    with open(os.path.join(run_dir, "notes.tmp-draft.txt"), "w") as f:
        f.write("a user's file, not one of unigen's temporary names")
    _fit(run_dir, epochs=1)
    left = [n for _, _, files in os.walk(run_dir) for n in files if ".tmp-" in n]
    assert left == ["notes.tmp-draft.txt"]


def test_output_dir_that_is_a_file_is_a_clear_error(tmp_path):
    path = tmp_path / "a_file"
    path.write_text("x")
    with pytest.raises(RunDirectoryError, match="is a file, not a directory"):
        _fit(str(path))


@pytest.mark.parametrize(("change", "setting"), [
    ({"learning_rate": 0.5}, "learning_rate"),
    ({"batch_size": 50}, "batch_size"),
    ({"seed": 1}, "seed"),
    ({"shuffle": False}, "shuffle"),
    ({"optimizer": "sgd"}, "optimizer"),
    ({"data": "digits_other"}, "data"),
    ({"data": "array"}, "data"),
])
def test_resume_names_every_setting_that_would_change_the_training(run_dir, change, setting):
    kwargs = dict(change)
    if kwargs.get("data") == "digits_other":
        x = unigen.datasets.as_numpy("digits", "train").copy()
        x[0] = 16 - x[0]
        kwargs["data"] = x
    elif kwargs.get("data") == "array":
        kwargs["data"] = unigen.datasets.as_numpy("digits", "validation")
    if "optimizer" in kwargs:
        kwargs["model"] = _gauss()
        kwargs["model"].compile(optimizer=keras.optimizers.SGD(0.01))
        del kwargs["optimizer"]
    config = _read(os.path.join(run_dir, "config.json"))
    with pytest.raises(RunMismatchError, match=setting) as info:
        _fit(run_dir, epochs=2, **kwargs)
    message = str(info.value)
    assert "resume=False" in message and "--overwrite" in message and "new output_dir" in message
    assert any(name.split(".")[0] == setting for name in info.value.differences)
    assert _read(os.path.join(run_dir, "config.json")) == config  # config.json tells the truth


def test_a_mismatch_shows_old_and_new_values(run_dir):
    with pytest.raises(RunMismatchError, match=r"learning_rate: was 0\.001, now 0\.5"):
        _fit(run_dir, epochs=2, learning_rate=0.5)


def test_data_fingerprint_tells_two_arrays_apart_and_accepts_the_same_one(tmp_path):
    """The fingerprint: size, shape, dtype, a hash of the first batch and of 256
    evenly spaced examples (a tf.data.Dataset: of its first batch)."""
    x = unigen.datasets.as_numpy("digits", "train")
    out = str(tmp_path / "run")
    _fit(out, data=x)
    _fit(out, data=x.copy(), epochs=1)  # the same examples: resumes (finished)
    y = x.copy()
    y[-1] = 16 - y[-1]  # the last example: outside the first batch, in the sample
    with pytest.raises(RunMismatchError, match=r"data\.sample_sha256"):
        _fit(out, data=y, epochs=2)
    shifted = tf.data.Dataset.from_tensor_slices(np.roll(x, 1, axis=0))
    with pytest.raises(RunMismatchError, match="data"):
        _fit(out, data=shifted, epochs=2)


def test_seed_none_resumes_with_the_stored_seed(run_dir):
    history = _fit(run_dir, epochs=2, seed=None)
    assert len(history.history["loss"]) == 2
    with open(os.path.join(run_dir, "config.json")) as f:
        assert json.load(f)["seed"] == 0


@keras.saving.register_keras_serializable(package="unigen_tests")
class NaNAfterStep(unigen.models.Gaussian):
    """Its loss turns NaN once the optimizer has taken ``bad_step`` steps."""

    def __init__(self, *args, bad_step=25, **kwargs):
        super().__init__(*args, **kwargs)
        self.bad_step = bad_step

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        return tf.where(self.optimizer.iterations >= self.bad_step,
                        tf.constant(np.nan, loss.dtype), loss)

    def get_config(self):
        return {**super().get_config(), "bad_step": self.bad_step}


def test_divergence_in_a_resumed_run_restores_the_checkpoint_on_disk(tmp_path):
    out = str(tmp_path / "run")
    first = NaNAfterStep((8, 8, 1), num_levels=17)
    _fit(out, model=first, epochs=2)  # 20 steps; NaN from step 25, in epoch 3
    good = first.get_weights()
    resumed = NaNAfterStep((8, 8, 1), num_levels=17)
    with pytest.raises(TrainingDivergedError, match="after epoch 2") as info:
        _fit(out, model=resumed, epochs=4)
    assert info.value.checkpoint == os.path.join(out, "checkpoint.npz")
    for a, b in zip(good, resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.optimizer.iterations.numpy()) == 20
    assert len(info.value.history.history["loss"]) == 2


def test_a_run_written_by_an_older_unigen_still_resumes(run_dir):
    """Configs without the new settings, checkpoints without the history (format 1)."""
    path = os.path.join(run_dir, "config.json")
    with open(path) as f:
        config = json.load(f)
    for key in ("optimizer", "shuffle", "shuffle_buffer", "jit_compile"):
        del config[key]
    config["data"] = "digits"
    with open(path, "w") as f:
        json.dump(config, f)
    ckpt = os.path.join(run_dir, "checkpoint.npz")
    with np.load(ckpt) as data:
        arrays = {k: data[k] for k in data.files if k not in ("history", "format")}
    np.savez(ckpt, **arrays)
    with pytest.raises(RunMismatchError, match="data: was 'digits', now None"):
        _fit(run_dir, data=unigen.datasets.as_numpy("digits", "validation"), epochs=2)
    history = _fit(run_dir, epochs=2)
    assert len(history.history["loss"]) == 2
    with open(os.path.join(run_dir, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 2
