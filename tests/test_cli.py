"""The `unigen` command line: help, argument errors, train and sample."""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_python

from unigen.cli import main


@pytest.mark.parametrize("argv", [["--help"], ["train", "--help"], ["sample", "--help"],
                                  ["datasets", "--help"], ["models", "--help"]])
def test_every_command_has_help(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    assert "usage: unigen" in capsys.readouterr().out


@pytest.mark.parametrize("argv", [
    [],
    ["fly"],
    ["train", "--data", "digits", "--out", "x"],
    ["train", "--model", "gaussian", "--data", "digits", "--out", "x", "--epochs", "0"],
    ["train", "--model", "gaussian", "--data", "digits", "--out", "x", "--epochs", "two"],
    ["train", "--model", "gaussian", "--data", "digits", "--out", "x", "--strategy", "gpu9"],
    ["sample", "--model", "m.keras", "-n", "-3", "--out", "g.png"],
])
def test_bad_arguments_exit_2_with_a_message(argv, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert "error:" in capsys.readouterr().err


def test_datasets_and_models_are_listed(capsys):
    assert main(["datasets"]) == 0
    out = capsys.readouterr().out
    assert "digits" in out and "fashion_mnist" in out and "8x8x1" in out
    assert main(["models"]) == 0
    assert "gaussian" in capsys.readouterr().out.split()


def test_failed_runs_exit_nonzero(tmp_path, capsys):
    assert main(["sample", "--model", str(tmp_path / "none.keras"), "--out", "g.png"]) == 1
    assert main(["sample", "--model", str(tmp_path / "m.h5"), "--out", "g.png"]) == 1
    assert "only .keras" in capsys.readouterr().err


def test_train_then_sample_from_the_console_script(tmp_path):
    out = str(tmp_path / "gauss")
    proc = run_python(["-m", "unigen", "train", "--model", "gaussian", "--data", "digits",
                       "--epochs", "2", "--out", out, "--seed", "0", "--verbose", "0"])
    assert "model saved" in proc.stdout
    assert main(["sample", "--model", os.path.join(out, "model.keras"), "-n", "16",
                 "--out", str(tmp_path / "grid.png")]) == 0
    png = tf.io.decode_png(tf.io.read_file(str(tmp_path / "grid.png")))
    assert png.shape[0] >= 4 * 8 and png.dtype == tf.uint8
    assert main(["sample", "--model", os.path.join(out, "model.keras"), "-n", "5",
                 "--out", str(tmp_path / "x.npy")]) == 0
    x = np.load(tmp_path / "x.npy")
    assert x.shape == (5, 8, 8, 1) and x.min() >= 0 and x.max() <= 16


def test_sample_refuses_a_bad_out_before_loading_anything(tmp_path, capsys):
    # The extension is checked while parsing: the model file is not even opened.
    with pytest.raises(SystemExit) as exc:
        main(["sample", "--model", str(tmp_path / "absent.keras"), "--out",
              str(tmp_path / "x.txt")])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "must end in .png" in err and ".npy" in err and "absent.keras" not in err


def test_sample_png_of_a_non_image_model_is_refused_before_sampling(tmp_path, capsys, monkeypatch):
    import unigen

    model = unigen.models.Gaussian(event_shape=(2,))
    unigen.fit(model, np.random.default_rng(0).normal(size=(64, 2)).astype("float32"),
               epochs=1, batch_size=32, verbose=0)
    path = str(tmp_path / "g.keras")
    model.save(path)

    def no_sampling(*args, **kwargs):
        raise AssertionError("sampled before refusing --out .png")
    monkeypatch.setattr(unigen.models.Gaussian, "sample", no_sampling)
    assert main(["sample", "--model", path, "--out", str(tmp_path / "g.png")]) == 1
    err = capsys.readouterr().err
    assert "needs an image model" in err and "[2]" in err and "samples.npy" in err
