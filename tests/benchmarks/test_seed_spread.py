"""benchmarks/seed_spread.py: Keras's Adam on demand, and the summary over seeds."""

import os
import statistics
import sys

import keras
import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import unigen
from benchmarks import seed_spread
from unigen.training import FusedAdam


def _gan():
    model = unigen.models.create("gan", "digits", latent_dim=2, base_filters=2)
    model.compile_for_fit(learning_rate=1e-3)
    return model


def test_keras_adam_replaces_every_default_fused_adam_only_inside_the_block():
    with seed_spread._KerasAdam():
        model = _gan()
    for optimizer in (model.optimizer, *(c.optimizer for c in model.critics)):
        assert type(optimizer) is keras.optimizers.Adam
    assert model.critics[0].optimizer.beta_1 == pytest.approx(0.5)
    after = _gan()  # restored
    assert all(type(o) is FusedAdam for o in (after.optimizer, after.critics[0].optimizer))


def test_summary_gives_mean_spread_range_and_the_median_stderr_of_a_run():
    runs = [{"scores": {m: {"value": v + i, "stderr": 0.1 * (i + 1)} for m, v in
                        zip(seed_spread.METRICS, (40.0, 0.5, 0.3), strict=True)}}
            for i in range(3)]
    summary = seed_spread.summarise(runs)
    fid = summary["fid"]
    assert fid["mean"] == pytest.approx(41.0)
    assert fid["sd_over_seeds"] == pytest.approx(statistics.stdev([40.0, 41.0, 42.0]))
    assert (fid["min"], fid["max"]) == (40.0, 42.0)
    assert fid["median_stderr_of_a_run"] == pytest.approx(0.2)
