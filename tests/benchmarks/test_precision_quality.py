"""`benchmarks/precision_quality.py`: the paired float32 / mixed-precision quality design."""

import math

import pytest

from benchmarks import precision_quality


def test_paired_runs_per_seed_and_their_summary():
    result = precision_quality.run("mixed_bfloat16", seeds=2, epochs=1, eval_examples=40,
                                   models=("vae",), data="digits")
    entry = result["models"]["vae"]
    runs = entry["test_bits_per_dim"]
    assert len(runs["float32"]) == len(runs["mixed_bfloat16"]) == 2
    assert all(math.isfinite(v) and 0 < v < 8 for v in runs["float32"] + runs["mixed_bfloat16"])
    # Paired: the difference of each seed's two runs, then their mean and standard error.
    diffs = [b - a for a, b in zip(runs["float32"], runs["mixed_bfloat16"], strict=True)]
    assert entry["paired_difference"] == pytest.approx(diffs)
    assert entry["mean_difference"] == pytest.approx(sum(diffs) / 2)
    assert entry["difference_standard_error"] == pytest.approx(abs(diffs[0] - diffs[1]) / 2)
    assert entry["float32_seed_std"] > 0  # seeds 0 and 1 start from other weights
    assert result["eval_examples"] == 40 and result["data"] == "digits"
