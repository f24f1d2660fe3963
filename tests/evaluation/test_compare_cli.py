"""`unigen compare` on digits with tiny budgets writes a complete report."""

import json
import math
import os
import re

import pytest

import unigen
from unigen.cli import main


def test_unigen_compare_quick_writes_every_section(tmp_path, tmp_path_factory, monkeypatch,
                                                   capsys):
    # Share the feature-network cache with tests/test_evaluation_digits.py.
    monkeypatch.setenv("UNIGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp()))
    saved = tmp_path / "gauss"
    model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    unigen.fit(model, "digits", epochs=1, batch_size=100, seed=0, output_dir=str(saved),
               verbose=0, sample_every_epoch=0)
    out = tmp_path / "cmp"
    argv = ["compare", "--data", "digits", "--models", f"{saved}/model.keras,gan",
            "--out", str(out), "--quick"]
    assert main(argv) == 0, capsys.readouterr().err
    terminal = capsys.readouterr().out
    for part in ("Test likelihood", "Sample quality", "Verdict", "Best test likelihood",
                 "Training budgets: gauss budget not given; gan 1 epoch, 15 steps"):
        assert part in terminal, part
    # Scoring prints one line per step with its seconds, never a Keras progress bar.
    assert "━" not in terminal and "\r" not in terminal and "[====" not in terminal
    assert not re.search(r"\b\d+/\d+ \S*\s", terminal)
    # A trained model's budget follows its training line; a loaded one has none.
    assert re.search(r"^\[compare\] training gan \.\.\.\n(?:.*\n)*?"
                     r"\[compare\]   gan: 1 epoch, 15 steps, \d+\.\d s$", terminal, re.M), terminal
    assert "[compare]   gauss:" not in terminal
    for line in ("[compare] scoring gauss (1/4) ...",
                 "[compare]   nll (exact) on 447 examples: ",
                 "[compare]   nll (AIS, 10 steps × 2 chains) on 32 examples: ",
                 "[compare]   nll_parzen (Parzen) on 447 examples: ",
                 "[compare]   sample quality, 10 metrics: "):
        assert line in terminal, line
    markdown = (out / "report.md").read_text()
    for section in ("## Test likelihood", "## Sample quality", "### Estimators",
                    "## Likelihood against sample quality", "## Samples",
                    "## Training budget and time", "## Verdict", "Best test likelihood",
                    "Why one axis is not enough"):
        assert section in markdown, section
    for row in ("gauss", "gan", "noise mixture (ref.)", "memoriser (ref.)",
                "real data (validation)"):
        assert f"| {row} |" in markdown or f"| *{row}* |" in markdown, row
    assert "exact log probability" in markdown and "Parzen window" in markdown
    assert "AIS, 10 steps" in markdown  # the GAN's AIS estimate beside its Parzen one
    assert "| memoriser (ref.) | ∞ |" in markdown  # exact: unseen test images
    html = (out / "report.html").read_text()
    images = re.findall(r'<img alt="[^"]*" src="([^"]+)"', html)
    assert len(images) >= 6
    for name in images:
        assert (out / name).is_file() and (out / name).stat().st_size > 100, name
    scores = json.loads((out / "scores.json").read_text())
    gan = scores["rows"]["gan"]["scores"]
    assert gan["nll"]["extra"]["kind"] == "ais"
    assert gan["nll_parzen"]["extra"]["kind"] == "parzen"
    memoriser = scores["rows"]["memoriser (ref.)"]["scores"]
    assert memoriser["nll"]["value"] == float("inf")
    assert memoriser["nll_parzen"]["value"] < 64 * math.log(17)
    assert os.path.exists(out / "likelihood_vs_quality.png")


def test_unigen_compare_rejects_unknown_models(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:  # a bad argument: status 2, like argparse's
        main(["compare", "--data", "digits", "--models", "nope", "--out",
              str(tmp_path), "--quick"])
    assert info.value.code == 2
    assert "unknown model 'nope'" in capsys.readouterr().err


def _own_images(count=80):
    """Digits as the user's own unlabelled uint8 images (0..255)."""
    import numpy as np

    x = unigen.datasets.as_numpy("digits", "train")[:count]
    return (x.astype(np.uint8) * 15).astype(np.uint8)


def test_own_images_from_a_npz_file_and_a_png_folder_give_the_same_splits(tmp_path):
    import numpy as np
    import tensorflow as tf

    from unigen.evaluation._cli import compare_data

    x = _own_images()
    np.savez(tmp_path / "mine.npz", images=x)
    folder = tmp_path / "mine"
    folder.mkdir()
    for i, image in enumerate(x):
        tf.io.write_file(str(folder / f"{i:03d}.png"), tf.io.encode_png(image))
    a, b = compare_data(str(tmp_path / "mine.npz")), compare_data(str(folder))
    assert a.name == b.name == "mine" and a.num_levels == 256 and not a.builtin
    assert (len(a.train), len(a.validation), len(a.test)) == (56, 12, 12)
    for one, two in ((a.train, b.train), (a.validation, b.validation), (a.test, b.test)):
        np.testing.assert_array_equal(one, two)
    np.savez(tmp_path / "bad.npz", images=np.zeros((3, 8, 8)))
    with pytest.raises(ValueError, match="at least 10 images"):
        compare_data(str(tmp_path / "bad.npz"))


def test_unigen_compare_on_own_unlabelled_images(tmp_path, monkeypatch, capsys):
    import numpy as np

    monkeypatch.setenv("UNIGEN_CACHE_DIR", str(tmp_path / "cache"))
    data = tmp_path / "mine.npz"
    np.savez(data, images=_own_images())
    out = tmp_path / "cmp"
    argv = ["compare", "--data", str(data), "--models", "gaussian", "--out", str(out),
            "--quick", "--no-references"]
    assert main(argv) == 0, capsys.readouterr().err
    markdown = (out / "report.md").read_text()
    assert "on mine" in markdown and "without labels" in markdown
    scores = json.loads((out / "scores.json").read_text())["rows"]["gaussian"]["scores"]
    for key in ("nll", "fid", "kid", "precision", "recall", "density", "coverage",
                "mode_score", "am_score", "c2st", "mmd", "copy_share"):
        assert key in scores, key
    assert scores["nll"]["extra"]["num_examples"] == 12  # 15% of 80 images
    terminal = capsys.readouterr().out
    assert "Verdict" in terminal
    # The feature network trains without a Keras progress bar: a line before, one after.
    assert "━" not in terminal and "\r" not in terminal
    assert "training a self-supervised feature network on 56 unlabelled" in terminal
    assert "trained the feature network in " in terminal


def test_unigen_compare_rejects_a_missing_path(tmp_path, capsys):
    missing = str(tmp_path / "nope.npz")
    with pytest.raises(SystemExit):
        main(["compare", "--data", missing, "--models", "gaussian",
              "--out", str(tmp_path), "--quick"])
    err = capsys.readouterr().err
    assert f"no file or folder {missing!r}" in err and "folder of PNGs" in err


def test_unigen_data_errors_name_the_problem(tmp_path, capsys):
    not_npz = tmp_path / "images.txt"
    not_npz.write_text("x")
    cases = [(["compare", "--data", "digitz"], "unknown dataset 'digitz'"),
             (["compare", "--data", str(not_npz)], "is a file but not a .npz archive"),
             (["train", "--model", "vae", "--data", str(tmp_path / "mine.npz")],
              f"no file or folder {str(tmp_path / 'mine.npz')!r}")]
    for argv, message in cases:
        rest = ["--models", "gaussian"] if argv[0] == "compare" else []
        with pytest.raises(SystemExit) as exc:
            main([*argv, *rest, "--out", str(tmp_path / "out")])
        assert exc.value.code == 2
        err = capsys.readouterr().err
        assert message in err, err


def test_compare_trains_in_mixed_precision_and_says_so(tmp_path, tmp_path_factory,
                                                       monkeypatch, capsys):
    """``unigen compare --mixed-precision``: the named models train with 16-bit networks
    (the saved, reloaded model too) and the report's budget table names the precision."""
    from unigen.evaluation._cli import train_or_load

    monkeypatch.setenv("UNIGEN_CACHE_DIR", str(tmp_path_factory.getbasetemp()))
    name, model, budget = train_or_load("vae", "digits", str(tmp_path / "runs"), epochs=1,
                                        mixed_precision="mixed_bfloat16")
    assert name == "vae" and model.precision == "mixed_bfloat16"  # reloaded from model.keras
    assert model.encoder.compute_dtype == "bfloat16"
    assert budget["precision"] == "mixed_bfloat16"
    out = tmp_path / "cmp"
    argv = ["compare", "--data", "digits", "--models", "gaussian,vae", "--out", str(out),
            "--quick", "--no-references", "--mixed-precision", "mixed_bfloat16"]
    assert main(argv) == 0, capsys.readouterr().err
    markdown = (out / "report.md").read_text()
    assert "| model | epochs | steps | precision | training (s) |" in markdown
    assert re.search(r"\| vae \| 1 \| \d+ \| mixed_bfloat16 \|", markdown)


def test_unigen_train_on_own_images_splits_like_compare_and_resumes(tmp_path, capsys):
    # `unigen train` took registered datasets only; your images went to compare alone.
    import numpy as np

    from unigen.evaluation._cli import compare_data

    data, out = tmp_path / "mine.npz", str(tmp_path / "run")
    np.savez(data, images=_own_images())
    argv = ["train", "--model", "gaussian", "--data", str(data), "--out", out,
            "--batch-size", "8", "--verbose", "0"]
    main([*argv, "--epochs", "1"])
    main([*argv, "--epochs", "2"])  # the same command resumes up to 2 epochs
    assert "model saved to" in capsys.readouterr().out
    with open(os.path.join(out, "history.json")) as f:
        history = json.load(f)
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2
    model = unigen.load(os.path.join(out, "model.keras"))
    split = compare_data(str(data), seed=0)
    assert model.event_shape == split.event_shape and model.num_levels == 256
    # It trained on compare's training split: 56 of the 80 images, 7 batches of 8 an epoch.
    assert int(model.optimizer.iterations.numpy()) == 2 * len(split.train) // 8
