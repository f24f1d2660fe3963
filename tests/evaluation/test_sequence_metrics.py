"""Sequence metrics on fixed strings (hand computed) and the sequence report."""

import math

import numpy as np
import pytest

import unigen
from unigen import datasets
from unigen.evaluation import _sequence as seq


def test_bleu_on_fixed_strings():
    # Every n-gram of "abc" occurs in one of the references: precision 1.
    assert seq.bleu(["abc"], ["abd", "xbc"], max_n=2).value == pytest.approx(1.0)
    # "aab" against "ab": unigrams clipped 2/3, bigrams aa, ab -> 1/2; no brevity penalty.
    assert seq.bleu(["aab"], ["ab"], max_n=2).value == pytest.approx(math.sqrt(2 / 3 * 1 / 2))
    # "a" against "abcd": p1 = 1, no bigram (order left out); BP = exp(1 - 4/1).
    assert seq.bleu(["a"], ["abcd"], max_n=2).value == pytest.approx(math.exp(-3.0))
    # No match at all: smoothed numerators 0.1 / 2 and 0.1 / 1.
    assert seq.bleu(["cd"], ["ab"], max_n=2).value == pytest.approx(math.sqrt(0.05 * 0.1))
    score = seq.bleu(["abc", "cd"], ["abd", "xbc"], max_n=2)
    assert score.higher_is_better and np.isfinite(score.stderr)


def test_self_bleu_on_fixed_strings():
    # "ab" twice: each matches the other fully (1); "cd" matches nothing: sqrt(0.05 * 0.1).
    expected = (1.0 + 1.0 + math.sqrt(0.05 * 0.1)) / 3
    assert seq.self_bleu(["ab", "ab", "cd"], max_n=2).value == pytest.approx(expected)
    # Leave-one-out: a sample's own n-grams never count.
    assert seq.self_bleu(["ab", "cd"], max_n=1).value == pytest.approx(0.05)


def test_token_arrays_score_like_their_strings():
    vocab = datasets.Vocabulary("abcdx")
    tokens = vocab.encode(["abc", "xbc", "abd"], length=5)
    assert seq.bleu(tokens[:1], tokens[1:], 2).value == pytest.approx(
        seq.bleu(["abc"], ["xbc", "abd"], 2).value)


def test_oracle_nll_is_exact_and_the_sweep_report_is_written(tmp_path):
    oracle = datasets.oracle()
    test = datasets.as_numpy("oracle", "test", num_examples=100)
    score = seq.oracle_nll(oracle, test)
    assert score.value == pytest.approx(-oracle.log_prob(test).mean())
    model = unigen.models.create("sequence_lm", event_shape=(16,), num_levels=10,
                                 embedding_dim=4, hidden_units=8)
    ctx = unigen.evaluation.EvaluationData(test, dataset="oracle")
    report = unigen.evaluation.compare_sequences({"lm": model}, ctx, output_dir=tmp_path,
                                                 temperatures=(0.5, 1.0), num_samples=30)
    names = [row["name"] for row in report.rows]
    assert names == ["lm", "oracle (ref.)"]
    lm = report.rows[0]["scores"]
    assert lm["nll"].value == pytest.approx(-np.mean(model.log_prob(test)), rel=1e-5)
    assert [r["temperature"] for r in report.sweep] == [0.5, 1.0]
    assert report.sweep[1]["diversity"] == pytest.approx(lm["nll"].value)
    for name in ("report.md", "report.html", "scores.json", "temperature_sweep.png"):
        assert (tmp_path / name).stat().st_size > 100
    assert "oracle_nll" in report.quality_table()
