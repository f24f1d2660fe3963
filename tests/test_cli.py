"""The `unigen` command line: help, argument errors, train and sample, a quiet start."""

import os
import re

import numpy as np
import pytest
import tensorflow as tf
from conftest import ROOT, run_python

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


# TensorFlow's start-up notices (printed while its libraries load, before logging is set up).
_STARTUP_NOISE = ("absl::InitializeLog", "oneDNN custom operations", "Could not find cuda drivers",
                  "This TensorFlow binary is optimized", "Unable to register cu")


def _console_script(tmp_path):
    """The script pip writes for setup.py's console_scripts entry, named ``unigen``."""
    import sys

    with open(os.path.join(ROOT, "setup.py")) as f:
        entry = re.search(r'"console_scripts": \["unigen=([\w.]+):(\w+)"\]', f.read())
    assert entry, "setup.py must declare the console script unigen=MODULE:FUNCTION"
    script = tmp_path / "bin" / "unigen"
    script.parent.mkdir()
    script.write_text(f"#!{sys.executable}\nimport sys\nfrom {entry.group(1)} import "
                      f"{entry.group(2)}\nsys.exit({entry.group(2)}())\n")
    return str(script)


def test_the_command_starts_quiet_unless_the_user_asks_for_tensorflow_logs(tmp_path):
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = ROOT
    runs = {"module": ([sys.executable, "-m", "unigen", "datasets"], {}),
            "script": ([sys.executable, _console_script(tmp_path), "models"], {}),
            "user_level_0": ([sys.executable, "-m", "unigen", "models"],
                             {"TF_CPP_MIN_LOG_LEVEL": "0"})}
    procs = {name: subprocess.Popen(argv, env={**env, **extra}, cwd=str(tmp_path), text=True,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for name, (argv, extra) in runs.items()}
    out = {name: proc.communicate(timeout=300) for name, proc in procs.items()}
    for name, proc in procs.items():
        assert proc.returncode == 0, (name, out[name][1][-3000:])
    assert "digits" in out["module"][0] and "gaussian" in out["script"][0]
    for name in ("module", "script"):
        assert not [n for n in _STARTUP_NOISE if n in out[name][1]], out[name][1]
    # TF_CPP_MIN_LOG_LEVEL=0 set by the user is respected: TensorFlow's INFO lines show.
    assert re.search(r"^I\d{4} ", out["user_level_0"][1], re.M), out["user_level_0"][1]


def test_only_the_command_sets_a_default_log_level(monkeypatch):
    import sys

    from unigen import _startup

    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    monkeypatch.setattr(sys, "argv", ["my_script.py"])
    _startup.import_tensorflow()  # `import unigen` in the user's program
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    monkeypatch.setattr(sys, "argv", ["/venv/bin/unigen", "train"])
    _startup.import_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == _startup.COMMAND_LOG_LEVEL
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    _startup.import_tensorflow()
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_startup_lines_hidden_by_level():
    from unigen import _startup

    text = ("WARNING: All log messages before absl::InitializeLog() is called are written to "
            "STDERR\n"
            "I0000 00:00:1796035226.717573   22258 port.cc:153] oneDNN custom operations are on.\n"
            "W0000 00:00:1796035226.717902   22258 x.cc:31] a warning\n"
            "E0000 00:00:1796035226.717902   22258 cuda_fft.cc:467] Unable to register cuFFT "
            "factory: Attempting to register factory for plugin cuFFT when one has already been "
            "registered\n"
            "E0000 00:00:1796035226.717902   22258 y.cc:1] a real error\n"
            "/x.py:3: DeprecationWarning: a Python warning\n")
    errors_only = "".join(_startup.kept_lines(text, 2))
    assert "a real error" in errors_only and "a Python warning" in errors_only
    for hidden in ("oneDNN", "a warning", "cuFFT", "InitializeLog"):
        assert hidden not in errors_only
    warnings = "".join(_startup.kept_lines(text, 1))
    assert "a warning" in warnings and "InitializeLog" not in warnings and "oneDNN" not in warnings
    assert _startup.kept_lines(text, 3) == ["/x.py:3: DeprecationWarning: a Python warning\n"]


@pytest.mark.parametrize(("argv", "orig_argv", "command"), [
    (["/venv/bin/unigen", "train"], ["/venv/bin/python", "/venv/bin/unigen", "train"], True),
    (["C:\\venv\\Scripts\\unigen-script.py"], ["python", "unigen-script.py"], True),
    (["-m", "datasets"], ["python", "-m", "unigen", "datasets"], True),
    (["-m"], ["python", "-X", "dev", "-munigen.cli"], True),
    (["-m", "x"], ["python", "-m", "pytest", "x"], False),
    (["-c"], ["python", "-c", "import unigen"], False),
    (["train.py"], ["python", "train.py"], False),
])
def test_started_as_command(monkeypatch, argv, orig_argv, command):
    import sys

    from unigen import _startup

    monkeypatch.setattr(sys, "argv", argv)
    monkeypatch.setattr(sys, "orig_argv", orig_argv)
    assert _startup.started_as_command() == command
