"""Sequence data: the vocabulary, the padding rule, the oracle's exact scores, words."""

import itertools

import numpy as np
import pytest

from unigen import datasets
from unigen.errors import DataError, DatasetNotFoundError

VOCAB = datasets.Vocabulary("ab")  # ids: 0 pad, 1 EOS, 2 a, 3 b
# A first-order chain: row = previous token (pad at the start), column = next token.
TABLE = np.array([
    [0.0, 0.0, 0.25, 0.75],  # start: a or b, never EOS
    [0.0, 1.0, 0.0, 0.0],    # after EOS (never used)
    [0.0, 0.5, 0.3, 0.2],    # after a
    [0.0, 0.1, 0.6, 0.3],    # after b
])


def _tiny():
    return datasets.Oracle(TABLE, VOCAB, length=3)


def _all_sequences(length, vocab_size):
    """Every canonical sequence: symbols, then EOS and padding (or no EOS)."""
    out = []
    for n in range(1, length + 1):
        for symbols in itertools.product(range(2, vocab_size), repeat=n):
            out.append(list(symbols) + ([1] + [0] * (length - n - 1) if n < length else []))
    return np.array(out)


def test_vocabulary_encodes_decodes_and_pads_once():
    tokens = VOCAB.encode(["ab", "bab", "a"], length=3)
    np.testing.assert_array_equal(tokens, [[2, 3, 1], [3, 2, 3], [2, 1, 0]])
    assert VOCAB.decode(tokens) == ["ab", "bab", "a"]
    np.testing.assert_array_equal(VOCAB.lengths(tokens), [2, 3, 1])
    np.testing.assert_array_equal(datasets.counted_mask(tokens),
                                  [[1, 1, 1], [1, 1, 1], [1, 1, 0]])
    import tensorflow as tf

    np.testing.assert_array_equal(datasets.counted_mask(tf.constant(tokens)).numpy(),
                                  datasets.counted_mask(tokens).astype(np.float32))
    with pytest.raises(DataError, match="not in the vocabulary"):
        VOCAB.encode(["abc"], length=4)
    with pytest.raises(DataError, match="padding"):
        datasets.check_canonical([[2, 0, 3]], 4)
    with pytest.raises(DataError, match="padding"):
        datasets.check_canonical([[2, 1, 3]], 4)


def test_oracle_log_prob_equals_a_hand_computation():
    oracle = _tiny()
    tokens = VOCAB.encode(["ab", "bbb", "a"], length=3)
    expected = np.log([0.25 * 0.2 * 0.1, 0.75 * 0.3 * 0.3, 0.25 * 0.5])
    np.testing.assert_allclose(oracle.log_prob(tokens), expected, rtol=1e-12)
    everything = _all_sequences(3, 4)
    assert np.exp(oracle.log_prob(everything)).sum() == pytest.approx(1.0)


def test_oracle_samples_follow_its_probabilities():
    oracle = _tiny()
    samples = oracle.sample(20_000, seed=1)
    datasets.check_canonical(samples, 4)
    everything = _all_sequences(3, 4)
    probs = np.exp(oracle.log_prob(everything))
    counts = np.array([(samples == row).all(1).sum() for row in everything])
    assert counts.sum() == len(samples)
    stderr = np.sqrt(probs * (1 - probs) / len(samples))
    assert np.all(np.abs(counts / len(samples) - probs) < 4 * stderr + 1e-9)
    np.testing.assert_array_equal(oracle.sample(5, seed=1), samples[:5])  # prefixes


def test_oracle_dataset_splits_are_seeded_streams_of_the_oracle():
    info = datasets.info("oracle")
    assert info.kind == "sequence" and info.event_shape == (16,) and info.dtype == "int32"
    assert info.num_levels == info.vocabulary.size == 10
    train = datasets.as_numpy("oracle", "train", num_examples=50)
    np.testing.assert_array_equal(train, datasets.as_numpy("oracle", "train")[:50])
    assert not np.array_equal(train, datasets.as_numpy("oracle", "test", num_examples=50))
    assert np.isfinite(datasets.oracle().log_prob(train)).all()
    assert datasets.oracle() is datasets.oracle()


def test_words_keep_lowercase_words_in_fixed_disjoint_splits(tmp_path):
    # A word list like Debian's: capitals, possessives, hyphens, too long words and
    # duplicates are dropped; what is left is split the same way on every call.
    words = ["".join(p) for p in itertools.product("abcdefghi", repeat=4)]  # 6,561
    extra = ["Paris", "dog's", "x-ray", "a" * 12, "abcdefghijk", "z", "abcd"]
    (tmp_path / "words").write_text("\n".join(words + extra))
    info = datasets.info("words")
    assert info.event_shape == (12,) and info.vocabulary.size == 28
    test = datasets.as_numpy("words", "test", data_dir=tmp_path)
    train = datasets.as_numpy("words", "train", data_dir=tmp_path)
    validation = datasets.as_numpy("words", "validation", data_dir=tmp_path)
    assert len(test) == len(validation) == 2_000 and len(train) == 6_561 + 2 - 4_000
    decoded = [set(info.vocabulary.decode(x)) for x in (train, validation, test)]
    assert set().union(*decoded) == set(words) | {"abcdefghijk", "z"}
    assert not (decoded[0] & decoded[2] or decoded[0] & decoded[1] or decoded[1] & decoded[2])
    assert all(w.isalpha() and w.islower() and 1 <= len(w) <= 11 for w in decoded[2])
    np.testing.assert_array_equal(test, datasets.as_numpy("words", "test", data_dir=tmp_path))


def test_words_from_data_dir_and_the_missing_list_names_the_fix(tmp_path):
    with pytest.raises(DatasetNotFoundError, match=r"apt-get install wamerican.*data_dir="):
        datasets.as_numpy("words", "test", data_dir=tmp_path)
    lines = ["".join(p) for p in itertools.product("abcdefghi", repeat=4)] + ["Capital", "x-y"]
    (tmp_path / "words").write_text("\n".join(lines))
    test = datasets.as_numpy("words", "test", data_dir=tmp_path)
    assert len(test) == 2_000 and set(datasets.info("words").vocabulary.lengths(test)) == {4}
    assert len(datasets.as_numpy("words", "train", data_dir=tmp_path)) == 9 ** 4 - 4_000
