"""``benchmarks/mode_collapse.py``: the bilinear game of the docs, and the
script end to end on a tiny budget (the figures mean nothing at this size).
"""

import json

import numpy as np
from conftest import run_python

from benchmarks import mode_collapse


def test_simultaneous_steps_spiral_out_by_the_closed_form_factor():
    eta, steps = 0.1, 100
    path = mode_collapse.bilinear_game(learning_rate=eta, steps=steps)
    radius = np.linalg.norm(path, axis=1)
    # (x, y) -> (x - eta y, y + eta x) scales the radius by sqrt(1 + eta^2) per step.
    np.testing.assert_allclose(radius[1:] / radius[:-1], np.sqrt(1 + eta**2), rtol=1e-12)
    np.testing.assert_allclose(radius[-1] / radius[0], (1 + eta**2) ** (steps / 2), rtol=1e-12)
    assert radius[-1] / radius[0] > 1.6


def test_alternating_steps_stay_on_a_bounded_orbit():
    path = mode_collapse.bilinear_game(learning_rate=0.1, steps=2000, alternating=True)
    radius = np.linalg.norm(path, axis=1)
    # Alternating updates are a symplectic map (determinant 1): no drift outwards.
    assert radius.max() < 1.5 * radius[0]
    assert radius[-1] < 1.5 * radius[0]


def test_best_setting_uses_its_own_generator_width():
    assert mode_collapse._hidden_units(mode_collapse.BEST) != mode_collapse.HIDDEN
    assert mode_collapse._hidden_units("gan_minimax") == mode_collapse.HIDDEN
    setting = mode_collapse._setting(mode_collapse.BEST, seeds=10, steps=6000, quick=False)
    assert setting["hidden_units"] == list(mode_collapse._hidden_units(mode_collapse.BEST))
    assert setting["batch_size"] == 512


def test_script_writes_a_record_and_merge_keeps_other_entries(tmp_path):
    out = tmp_path / "mc.json"
    common = ["benchmarks/mode_collapse.py", "--seeds", "1", "--steps", "60",
              "--datasets", "ring8", "--out", str(out)]
    run_python([*common, "--configs", "gan_minimax"], timeout=600)
    run_python([*common, "--configs", "unigen_best", "--merge"], timeout=600)
    with open(out) as f:
        record = json.load(f)
    assert record["complete"] is True
    assert record["meta"]["argv"][-1] == "--merge"  # benchmarks.write_result's provenance
    entries = record["results"]["ring8"]
    assert set(entries) == {"gan_minimax", "unigen_best"}
    for name, entry in entries.items():
        run = entry["runs"][0]
        assert run["num_modes"] == 8 and 0 <= run["modes_captured"] <= 8
        assert 0.0 <= run["high_quality"] <= 1.0
        assert entry["settings"]["hidden_units"] == list(mode_collapse._hidden_units(name))
        assert entry["summary"]["num_runs"] == 1
    table = mode_collapse.rst_table(record).splitlines()
    assert len(table) == 3 + len(entries) + 1  # rule, header, rule, rows, rule
    assert table[3].startswith("ring8") and "minimax GAN" in table[3]
    assert "MMD (GMMN)" in table[4] and "of 1" in table[4]
