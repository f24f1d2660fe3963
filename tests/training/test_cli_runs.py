"""The command line: exit codes for unknown names, defaults in --help, --overwrite."""

import json
import os
import re

import pytest
from conftest import run_python

import unigen
from unigen.cli import _parser, main


@pytest.mark.parametrize("argv", [
    ["train", "--model", "nope", "--data", "digits", "--out", "x"],
    ["train", "--model", "gaussian", "--data", "nope", "--out", "x"],
    ["compare", "--data", "nope", "--models", "gaussian", "--out", "x"],
    ["compare", "--data", "digits", "--models", "gaussian,nope", "--out", "x"],
    ["train", "--model", "gaussian", "--data", "digits", "--out", "x", "--seed", "1.7"],
])
def test_unknown_names_and_bad_seeds_exit_2(argv, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "error:" in err
    if any("nope" in arg for arg in argv):
        assert "available:" in err
    assert not (tmp_path / "x").exists()


def test_every_option_shows_its_default_in_help_where_it_tells_something():
    parser = _parser()
    subparsers = next(a for a in parser._actions if a.dest == "command").choices
    for name, sub in subparsers.items():
        formatter = sub._get_formatter()
        for action in sub._actions:
            if action.dest == "help" or action.required:
                continue
            assert action.help, f"{name} {action.option_strings} has no help"
            shown = formatter._get_help_string(action)
            meaningful = action.nargs != 0 and action.default is not None
            if meaningful and "default" not in action.help:
                assert "(default: %(default)s)" in shown, (
                    f"{name} {action.option_strings} shows no default")
            else:
                assert "%(default)s" not in shown, (
                    f"{name} {action.option_strings} shows a default of {action.default!r}")
            assert shown.count("(default:") <= 1, f"{name} {action.option_strings}: {shown!r}"
        text = sub.format_help()
        assert "(default: None)" not in text and "(default: False)" not in text, text
    assert "(default: 5)" in subparsers["train"].format_help()
    assert "(default: a small CPU budget per family)" in " ".join(
        subparsers["compare"].format_help().split())


def test_readme_quick_start_then_cli_train_resumes(tmp_path, capsys):
    """The README's Quick start, then its `unigen train ... --out` into the same directory."""
    out = str(tmp_path / "gauss")
    train = unigen.datasets.load("digits", split="train")
    model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    unigen.fit(model, train, epochs=1, batch_size=128, seed=0, output_dir=out, verbose=0)
    argv = ["train", "--model", "gaussian", "--data", "digits", "--epochs", "1",
            "--out", out, "--verbose", "0", "--no-validation"]
    assert main(argv) == 0
    out_text = capsys.readouterr().out
    assert "model saved" in out_text
    # --epochs is the run's total: a finished run says so instead of silently doing nothing.
    assert "nothing to train" in out_text and "--epochs 2" in out_text
    assert main([*argv[:6], "2", *argv[7:]]) == 0
    assert "nothing to train" not in capsys.readouterr().out
    # `unigen sample --model` takes the run directory: its model.keras.
    assert main(["sample", "--model", out, "--out", str(tmp_path / "g.png")]) == 0
    assert (tmp_path / "g.png").stat().st_size > 100


def test_compare_given_a_run_directory_loads_its_model_file(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "model.keras").write_bytes(b"")  # as a kill could leave it
    run = str(tmp_path / "run")
    argv = ["compare", "--data", "digits", "--models", f"{run},vae", "--out",
            str(tmp_path / "cmp")]
    assert main(argv) == 1  # loaded (saved models first, before any training), and refused
    err = capsys.readouterr().err
    assert os.path.join(run, "model.keras") in err and "not a valid .keras archive" in err
    assert not (tmp_path / "cmp" / "models").exists()  # vae was not trained


@pytest.mark.parametrize("argv, hint", [
    (["train", "--model", "gausian", "--data", "digits", "--out", "x"], "'gaussian'?"),
    (["train", "--model", "gaussian", "--data", "digit", "--out", "x"], "'digits'?"),
    (["compare", "--data", "digits", "--models", "gaussian,dcgna", "--out", "x"], "'dcgan'?"),
])
def test_a_mistyped_name_gets_the_closest_one(argv, hint, capsys):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    assert f"Did you mean {hint}" in capsys.readouterr().err


def test_overwrite_starts_a_clashing_run_over(tmp_path, capsys):
    out = str(tmp_path / "run")
    base = ["train", "--model", "gaussian", "--data", "digits", "--epochs", "1",
            "--out", out, "--verbose", "0", "--no-validation"]
    assert main([*base, "--seed", "0"]) == 0
    capsys.readouterr()
    assert main([*base, "--seed", "1"]) == 1
    err = capsys.readouterr().err
    assert "RunMismatchError" in err and "seed: was 0, now 1" in err and "--overwrite" in err
    assert main([*base, "--seed", "1", "--overwrite"]) == 0
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["seed"] == 1
    with open(os.path.join(out, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 1


def test_a_run_records_its_dataset_and_a_data_mismatch_names_both(tmp_path, capsys):
    out = str(tmp_path / "run")
    config = os.path.join(out, "config.json")

    def train(data, epochs):
        return main(["train", "--model", "gaussian", "--data", data, "--epochs", str(epochs),
                     "--out", out, "--verbose", "0", "--no-validation", "--seed", "0"])

    assert train("digits", 1) == 0
    with open(config) as f:
        assert json.load(f)["dataset"] == {"name": "digits", "split": "train"}
    capsys.readouterr()
    assert train("digits_domains", 2) == 1  # same shape and levels, other images
    err = capsys.readouterr().err
    assert ("The run was trained on dataset 'digits'; this call gives dataset "
            "'digits_domains'. To resume the run, train on its data (--data digits on the "
            "command line)." in err and "Use a new output_dir (--out" in err), err
    # A run directory written before the name was recorded still resumes, and a
    # mismatch there names the new data.
    with open(config) as f:
        old = json.load(f)
    del old["dataset"]
    with open(config, "w") as f:
        json.dump(old, f)
    assert train("digits_domains", 2) == 1
    assert "does not record the name of the data" in capsys.readouterr().err
    assert train("digits", 2) == 0
    with open(config) as f:
        assert json.load(f)["dataset"]["name"] == "digits"


@pytest.mark.parametrize("model", ["gaussian", "dcgan"])
def test_a_healthy_run_logs_no_error_line(tmp_path, model):
    proc = run_python(["-m", "unigen", "train", "--model", model, "--data", "digits",
                       "--epochs", "1", "--out", str(tmp_path / "run"), "--verbose", "0"])
    assert "cuInit" not in proc.stderr
    errors = [line for line in proc.stderr.splitlines() if re.match(r"E\d{4} ", line)]
    assert errors == []


def test_models_built_before_fit_log_no_error_line(tmp_path):
    """No cuInit line from the first layer built, no grappler remapper line from a critic."""
    script = tmp_path / "job.py"
    script.write_text(
        "import unigen\n"
        "x = unigen.datasets.as_numpy('ring8', 'train')[:128]\n"
        "for m in (unigen.models.MLPGAN((2,), hidden_units=(8,)),\n"
        "          unigen.models.VAE((2,), latent_dim=2, divergence='js'),\n"
        "          unigen.models.create('flow_gan', event_shape=(2,), num_couplings=2)):\n"
        "    unigen.fit(m, x, epochs=1, batch_size=64, seed=0, verbose=0)\n"
        "d = unigen.models.DCGAN(image_shape=(8, 8, 1), num_levels=17, base_filters=4)\n"
        "unigen.fit(d, 'digits', epochs=1, batch_size=250, seed=0, verbose=0)\n")
    proc = run_python([str(script)], cwd=str(tmp_path))
    errors = [line for line in proc.stderr.splitlines() if re.match(r"E\d{4} ", line)]
    assert errors == [], errors


def test_the_device_probe_drops_only_the_no_driver_line(monkeypatch, capfd):
    import tensorflow as tf

    from unigen.training import _quiet

    def fake_list(kind, gpus):
        os.write(2, b"E0000 cuda_platform.cc:52] failed call to cuInit: UNKNOWN ERROR (303)\n"
                    b"E0000 something.cc:1] a real error\n")
        return gpus

    for gpus, kept in (([], False), (["gpu0"], True)):
        monkeypatch.setattr(_quiet, "_probed", False)
        monkeypatch.setattr(tf.config, "list_physical_devices",
                            lambda kind, gpus=gpus: fake_list(kind, gpus))
        _quiet.probe_devices()
        err = capfd.readouterr().err
        assert "a real error" in err
        assert ("cuInit" in err) == kept


def test_train_mixed_precision_and_jit_compile_reach_the_run(tmp_path, capsys):
    """``--mixed-precision`` builds the networks in bfloat16, recorded in config.json and
    the saved model; resuming under another precision is refused; ``--jit-compile``."""
    out = str(tmp_path / "run")
    base = ["train", "--model", "vae", "--data", "digits", "--epochs", "1",
            "--out", out, "--verbose", "0", "--no-validation", "--seed", "0"]
    assert main([*base, "--mixed-precision", "mixed_bfloat16", "--jit-compile", "off"]) == 0
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["precision"] == "mixed_bfloat16"
    model = unigen.load(os.path.join(out, "model.keras"))
    assert model.precision == "mixed_bfloat16"
    assert model.encoder.compute_dtype == "bfloat16"
    capsys.readouterr()
    assert main(base) == 1  # the same run in float32: a clash, not a silent resume
    assert "precision" in capsys.readouterr().err
    assert main([*base, "--mixed-precision", "mixed_bfloat16", "--jit-compile", "off",
                 "--epochs", "2"]) == 0
    with open(os.path.join(out, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 2
    xla = str(tmp_path / "xla")
    assert main(["train", "--model", "gaussian", "--data", "digits", "--epochs", "1",
                 "--out", xla, "--verbose", "0", "--no-validation", "--jit-compile", "on"]) == 0
    with open(os.path.join(xla, "config.json")) as f:
        assert json.load(f)["jit_compile"] is True


def test_train_refuses_an_unknown_precision(capsys):
    with pytest.raises(SystemExit) as info:
        main(["train", "--model", "vae", "--data", "digits", "--out", "x",
              "--mixed-precision", "float16"])
    assert info.value.code == 2
    assert "mixed_bfloat16" in capsys.readouterr().err


def test_compare_on_sequences_prints_its_tables(tmp_path, capsys):
    """`unigen compare` on a sequence dataset printed nothing and exited 1 (no to_text)."""
    out = str(tmp_path / "cmp")
    assert main(["compare", "--data", "oracle", "--models", "sequence_lm", "--out", out,
                 "--quick", "--no-references"]) == 0
    printed = capsys.readouterr().out
    assert "sequence_lm" in printed and "Temperature sweep" in printed
    assert os.path.exists(os.path.join(out, "report.md"))


def test_unigen_models_lists_each_name_with_its_family_data_and_likelihood(capsys):
    from unigen.cli import main

    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "family", "data", "likelihood"]
    assert [line.split()[0] for line in lines[1:]] == unigen.models.available()
    for line in lines[1:]:
        family, data, likelihood = unigen.models.describe(line.split()[0])
        assert family in line and data in line and line.endswith(likelihood)
    glow = next(line for line in lines if line.startswith("glow "))
    assert "flow" in glow and "images" in glow and "exact" in glow


def test_a_name_registered_without_a_description_shows_question_marks():
    from unigen import models

    models.register("_undescribed_test_model", models.Gaussian)
    try:
        assert models.describe("_undescribed_test_model") == models.Description("?", "?", "?")
    finally:
        for table in (models._BUILDERS, models._RECIPES, models._DESCRIPTIONS):
            table.pop("_undescribed_test_model")
