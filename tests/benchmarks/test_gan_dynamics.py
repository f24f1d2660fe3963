"""``benchmarks/gan_dynamics.py``: its summaries on series with known answers, and
the script end to end with ``--smoke`` (the figures mean nothing at that size).
"""

import json
import math

import numpy as np
from conftest import run_python

from benchmarks import gan_dynamics


def test_loss_behaviour_tells_a_level_from_a_trend_and_a_slow_cycle():
    rng = np.random.default_rng(0)
    noise = 1.0 + 0.01 * rng.normal(size=400)
    level = gan_dynamics.loss_behaviour(noise)
    assert abs(level["trend_in_std"]) < 1.0
    assert abs(level["lag1_autocorrelation"]) < 0.2
    assert 0.55 < level["sign_changes"] < 0.8  # 2/3 for independent noise
    np.testing.assert_allclose(level["relative_std"], 0.01, rtol=0.15)
    # Only the second half counts: a drift in the first half is warm-up.
    warm_up = gan_dynamics.loss_behaviour(np.concatenate([np.linspace(5, 1, 200), noise[200:]]))
    np.testing.assert_allclose(warm_up["mean"], level["mean"], rtol=1e-12)
    trend = gan_dynamics.loss_behaviour(noise + np.linspace(0, 1, 400))
    assert trend["trend_in_std"] > 20
    cycle = gan_dynamics.loss_behaviour(1.0 + np.sin(np.arange(400) * 2 * math.pi / 50))
    assert cycle["lag1_autocorrelation"] > 0.9 and cycle["sign_changes"] < 0.1


def test_mode_hopping_counts_changes_of_the_mode_histogram():
    # Records of counts over 3 modes: collapse on mode 0, hop to 2, cover all, lose 1.
    counts = [[90, 0, 0], [0, 0, 80], [30, 30, 30], [50, 0, 50]]
    hop = gan_dynamics.mode_hopping(counts)
    assert hop["transitions"] == 3
    assert hop["dominant_changes"] == 2  # 0 -> 2 -> 0 (ties go to the first mode) -> 0
    assert hop["gained"] == 1 + 2 and hop["lost"] == 1 + 1
    np.testing.assert_allclose(hop["mean_tv"], (1.0 + 2 / 3 + 1 / 3) / 3)
    # A record without high-quality samples has no shares; it still counts for coverage.
    hop = gan_dynamics.mode_hopping([[5, 0], [0, 0], [0, 5]])
    assert hop["transitions"] == 1 and hop["dominant_changes"] == 1
    assert hop["gained"] == 1 and hop["lost"] == 1


def test_stopping_rule_and_quality_drops_read_the_second_half():
    records = {"step": list(range(8)),
               "critic_loss": [9.0, 9.0, 9.0, 9.0, 1.0, 3.0, 2.0, 1.5],
               "generator_loss": [0.0] * 8,
               "high_quality": [1.0, 1.0, 1.0, 1.0, 0.8, 0.2, 0.9, 0.7],
               "modes_covered": [8, 8, 8, 8, 8, 3, 8, 7]}
    stop = gan_dynamics.stopping_rule(records)
    assert stop["step"] == 5 and stop["high_quality"] == 0.2 and stop["modes_covered"] == 3
    assert stop["high_quality_best"] == 0.9 and stop["high_quality_worst"] == 0.2
    drops = gan_dynamics.quality_drops(records)
    assert drops["count"] == 1 and drops["records"] == 4
    assert drops["critic_loss_abs_z"] > 1.4  # the drop is where the critic loss is largest


def test_smoke_run_writes_a_record_a_table_and_a_figure(tmp_path):
    proc = run_python(["benchmarks/gan_dynamics.py", "--smoke", "--out", str(tmp_path)],
                      timeout=300)
    with open(tmp_path / "gan_dynamics.json") as f:
        record = json.load(f)
    assert record["smoke"] is True and "meta" in record
    (name, entry), = record["results"].items()
    assert name == "gan_non_saturating"  # the first default setting
    run = entry["runs"][0]
    records = run["records"]
    assert len(records["step"]) == 4 and records["step"][-1] == 40
    assert all(sum(c) <= gan_dynamics.NUM_SAMPLES for c in records["counts"])
    assert all(len(c) == 8 for c in records["counts"])
    assert all(math.isfinite(v) for v in records["generator_loss"] + records["critic_loss"])
    assert set(run["summary"]) >= {"generator_loss", "critic_loss", "spearman", "hopping",
                                   "stopping_rule", "quality_drops"}
    assert (tmp_path / "gan_dynamics.png").stat().st_size > 10_000
    assert "HQ % at stop" in proc.stdout and "rho(HQ) all" in proc.stdout
