"""benchmarks/pipeline_epochs.py measures the legacy and the current pipeline on the same data."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import pipeline_epochs


def test_both_pipelines_are_measured_and_only_the_legacy_one_grows():
    x = np.random.default_rng(0).normal(size=(pipeline_epochs.NUM_EXAMPLES, 2)).astype(np.float32)
    impls = pipeline_epochs._implementations()
    assert sorted(impls) == ["current", "legacy"]
    rows = {(name, epochs): pipeline_epochs.measure(impl, x, "arrays", epochs, max_batches=12)
            for name, impl in impls.items() for epochs in (2, 4)}
    for row in rows.values():
        assert row["batches"] == 12 and row["ms_per_batch"] > 0 and row["build_seconds"] > 0
    assert rows["current", 2]["graph_nodes"] == rows["current", 4]["graph_nodes"]
    assert rows["legacy", 2]["graph_nodes"] < rows["legacy", 4]["graph_nodes"]
