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
                 "Training budgets: gauss budget not given; gan 1 epochs, 15 steps"):
        assert part in terminal, part
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
