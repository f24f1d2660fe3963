r"""Discrete sequences: the vocabulary, the padding rule, a Markov oracle and English words.

The one padding rule. A sequence is an integer array of fixed length T over a
`Vocabulary` whose id 0 is the padding token and id 1 the end-of-sequence token
(EOS); ids 2.. are symbols. A sequence is its symbols, then one EOS, then
padding up to T; a sequence that fills all T positions has no EOS. Every
probability in unigen (the oracle's, a model's) is over these arrays and counts
the positions up to and including the first EOS:

    log p(x) = sum_{t=1..T} m_t log p(x_t | x_<t),   m_t = 1 if no EOS in x_1..x_{t-1}.

`counted_mask` computes m (NumPy or TensorFlow) and is the only place that
knows the rule; `check_canonical` checks that padding follows EOS.

Datasets (see `unigen.datasets.info`):

- ``oracle``: sequences of length 16 drawn from `oracle()`, a seeded Markov chain
  of order 2 over 8 symbols plus EOS. The same chain scores any sequence exactly
  (`Oracle.log_prob`): the oracle NLL of a model's samples is an exact
  sample-quality score.
- ``words``: lowercase English words of 1 to 11 letters from Debian's word list
  ``/usr/share/dict/words`` (package ``wamerican``), one character a token,
  length 12 (11 letters and EOS).
"""

import functools
import os
import re
import string

import numpy as np

from unigen.errors import DataError, DatasetNotFoundError

__all__ = [
    "EOS_ID",
    "PAD_ID",
    "Oracle",
    "Vocabulary",
    "check_canonical",
    "counted_mask",
    "load_oracle_split",
    "load_words_split",
    "oracle",
]

PAD_ID = 0
EOS_ID = 1

ORACLE_SPLITS = {"train": 10_000, "validation": 2_000, "test": 2_000}
WORDS_LENGTH = 12
WORDS_VALIDATION = 2_000
WORDS_TEST = 2_000
WORDS_FILE = "/usr/share/dict/words"
_WORDS_HINT = "apt-get update && apt-get install wamerican"


class Vocabulary:
    """Tokens <-> strings: id 0 is padding, id 1 end-of-sequence, 2.. the symbols.

    Args:
        symbols: the symbols in id order (a string of characters or a list of
            strings), without padding or EOS.

    Example:
        >>> vocab = Vocabulary("abc")
        >>> vocab.encode(["ab", "c"], length=4)
        array([[2, 3, 1, 0],
               [4, 1, 0, 0]], dtype=int32)
    """

    pad_id = PAD_ID
    eos_id = EOS_ID

    def __init__(self, symbols):
        self.symbols = tuple(symbols)
        if len(set(self.symbols)) != len(self.symbols) or not self.symbols:
            raise ValueError(f"`symbols` must be distinct and non-empty, got {symbols!r}.")
        self._ids = {s: i + 2 for i, s in enumerate(self.symbols)}

    @property
    def size(self):
        """Number of token ids, padding and EOS included."""
        return len(self.symbols) + 2

    def __len__(self):
        return self.size

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and other.symbols == self.symbols

    def __hash__(self):
        return hash(self.symbols)

    def __repr__(self):
        return f"Vocabulary({''.join(map(str, self.symbols))!r})"

    def encode(self, texts, length):
        """int32 ``[len(texts), length]``: each text's symbols, EOS, then padding.

        A text of exactly ``length`` symbols gets no EOS; a longer one or an
        unknown symbol raises `DataError`.
        """
        out = np.full((len(texts), length), PAD_ID, np.int32)
        for row, text in enumerate(texts):
            if len(text) > length:
                raise DataError(f"{text!r} has {len(text)} symbols; at most {length} fit.")
            try:
                out[row, :len(text)] = [self._ids[s] for s in text]
            except KeyError as err:
                raise DataError(f"{text!r} holds {err.args[0]!r}, which is not in the "
                                f"vocabulary {self!r}.") from None
            if len(text) < length:
                out[row, len(text)] = EOS_ID
        return out

    def decode(self, tokens, join=""):
        """The strings of int sequences ``[N, T]`` (symbols before the first EOS)."""
        tokens = np.asarray(tokens).astype(np.int64)
        mask = counted_mask(tokens) & (tokens >= 2)
        return [join.join(str(self.symbols[t - 2]) for t in row[keep])
                for row, keep in zip(tokens, mask, strict=True)]

    def lengths(self, tokens):
        """Number of symbols of each sequence (EOS and padding not counted)."""
        tokens = np.asarray(tokens)
        return (counted_mask(tokens) & (tokens >= 2)).sum(axis=1)


def counted_mask(tokens, eos_id=EOS_ID):
    """m_t = 1 where no EOS comes before position t: the positions a probability counts.

    Works on NumPy arrays (returns bool) and TensorFlow tensors (returns float32).
    """
    if isinstance(tokens, np.ndarray):
        is_eos = (tokens == eos_id).astype(np.int64)
        return (np.cumsum(is_eos, axis=-1) - is_eos) == 0
    import tensorflow as tf

    is_eos = tf.cast(tf.equal(tokens, eos_id), "float32")
    return tf.cast(tf.equal(tf.cumsum(is_eos, axis=-1, exclusive=True), 0.0), "float32")


def check_canonical(tokens, vocab_size):
    """Raises `DataError` unless ``tokens`` are ids in 0..V-1, padded only after EOS."""
    tokens = np.asarray(tokens)
    if tokens.ndim != 2:
        raise DataError(f"Sequences must be a [batch, length] array, got shape {tokens.shape}.")
    if tokens.size and (tokens.min() < 0 or tokens.max() >= vocab_size):
        raise DataError(f"Token ids must be in 0..{vocab_size - 1}, got values in "
                        f"[{tokens.min()}, {tokens.max()}].")
    counted = counted_mask(tokens)
    bad = (counted & (tokens == PAD_ID)) | (~counted & (tokens != PAD_ID))
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        raise DataError(
            f"Sequence {row} ({tokens[row].tolist()}) breaks the padding rule: padding "
            f"(id {PAD_ID}) must come exactly after the end-of-sequence token (id "
            f"{EOS_ID}). Build sequences with unigen.datasets.Vocabulary.encode.")


# --------------------------------------------------------------------- oracle
class Oracle:
    r"""A Markov chain of fixed order over a `Vocabulary`: samples and exact log-probabilities.

    p(x) = prod_t m_t p(x_t | x_{t-k}..x_{t-1}), with the context padded on the
    left by the padding id at the start, m the `counted_mask`, and the chain
    stopped at T tokens. The first token is never EOS (no empty sequences), and
    padding is never drawn.

    Args:
        transitions: float array of shape ``(V,) * order + (V,)``: the next-token
            distribution of each context (rows sum to 1, column 0 zero).
        vocabulary: the `Vocabulary` (V = ``vocabulary.size``).
        length: T.
    """

    def __init__(self, transitions, vocabulary, length):
        self.transitions = np.asarray(transitions, np.float64)
        self.vocabulary = vocabulary
        self.length = int(length)
        self.order = self.transitions.ndim - 1
        size = vocabulary.size
        if self.transitions.shape != (size,) * (self.order + 1):
            raise ValueError(f"`transitions` must have shape {(size,) * (self.order + 1)}, "
                             f"got {self.transitions.shape}.")
        if not np.allclose(self.transitions.sum(-1), 1.0) or (self.transitions < 0).any():
            raise ValueError("Each row of `transitions` must be a probability vector.")
        self._log = np.log(np.maximum(self.transitions, 1e-300))
        self._log[self.transitions == 0] = -np.inf

    def _contexts(self, tokens, t):
        padded = np.concatenate([np.full((len(tokens), self.order), PAD_ID), tokens], 1)
        return tuple(padded[:, t + j] for j in range(self.order))

    def sample(self, num_samples, seed=0):
        """int32 ``[num_samples, T]`` drawn from the chain (NumPy, seeded).

        The uniforms are drawn row by row, so the first n rows of a larger draw
        equal a draw of n.
        """
        uniforms = np.random.default_rng(seed).random((int(num_samples), self.length))
        tokens = np.full((int(num_samples), self.length), PAD_ID, np.int64)
        alive = np.ones(int(num_samples), bool)
        for t in range(self.length):
            probs = self.transitions[self._contexts(tokens, t)]
            drawn = (uniforms[:, t:t + 1] > np.cumsum(probs, -1)).sum(-1)
            drawn = np.minimum(drawn, self.vocabulary.size - 1)
            tokens[:, t] = np.where(alive, drawn, PAD_ID)
            alive &= drawn != EOS_ID
        return tokens.astype(np.int32)

    def log_prob(self, tokens):
        """log p(x) in nats per sequence, float64 ``[N]`` (exact)."""
        tokens = np.asarray(tokens).astype(np.int64)
        check_canonical(tokens, self.vocabulary.size)
        mask = counted_mask(tokens)
        total = np.zeros(len(tokens))
        for t in range(tokens.shape[1]):
            step = self._log[(*self._contexts(tokens, t), tokens[:, t])]
            total += np.where(mask[:, t], step, 0.0)
        return total


@functools.lru_cache(maxsize=8)
def oracle(seed=0, num_symbols=8, order=2, length=16, concentration=0.3,
           eos_probability=0.1):
    """The oracle chain of the ``oracle`` dataset (defaults) or another one.

    Each context's next-symbol distribution is Dirichlet(``concentration``) over
    the ``num_symbols`` symbols (small concentration: few likely successors),
    scaled by 1 - ``eos_probability``; EOS gets ``eos_probability``, except at
    the first position (no empty sequences). Drawn with NumPy from ``seed``.

    Returns:
        An `Oracle` (cached: the same object for the same arguments).
    """
    rng = np.random.default_rng(seed)
    vocab = Vocabulary(string.ascii_lowercase[:num_symbols])
    size = vocab.size
    rows = rng.dirichlet(np.full(num_symbols, concentration), size=size ** order)
    table = np.zeros((size ** order, size))
    table[:, 2:] = rows * (1.0 - eos_probability)
    table[:, EOS_ID] = eos_probability
    table = table.reshape((size,) * order + (size,))
    start = (PAD_ID,) * order
    table[start] = 0.0
    table[(*start, slice(2, None))] = rows[0]
    return Oracle(table, vocab, length)


def load_oracle_split(split, *, data_dir=None, seed=0, num_examples=None):
    """``(x, None)``: sequences of the ``oracle`` dataset; each split its own stream."""
    del data_dir
    index = {"train": 0, "validation": 1, "test": 2}[split]
    n = ORACLE_SPLITS[split] if num_examples is None else num_examples
    return oracle().sample(n, seed=1_000 * int(seed) + index + 1), None


# ---------------------------------------------------------------------- words
WORDS_VOCABULARY = Vocabulary(string.ascii_lowercase)


def _words_path(data_dir):
    if data_dir is not None:
        root = os.path.expanduser(os.fspath(data_dir))
        candidates = [root, os.path.join(root, "words")]
    else:
        candidates = [WORDS_FILE, "/usr/share/dict/american-english"]
        env = os.environ.get("UNIGEN_DATA_DIR")
        if env:
            candidates.insert(0, os.path.join(os.path.expanduser(env), "words"))
    for path in candidates:
        if os.path.isfile(path):
            return path
    raise DatasetNotFoundError(
        f"The English word list was not found (unigen never downloads data). Looked "
        f"for: {', '.join(candidates)}. Fix: install it with `{_WORDS_HINT}` (as root; "
        f"Debian's package wamerican puts it in {WORDS_FILE}), or pass `data_dir=` a "
        f"word-list file or a directory holding a file named `words` (one word a line).")


@functools.lru_cache(maxsize=4)
def _words(path):
    with open(path, encoding="utf-8", errors="replace") as handle:
        lines = handle.read().split()
    pattern = re.compile(f"[a-z]{{1,{WORDS_LENGTH - 1}}}")
    words = sorted({w for w in lines if pattern.fullmatch(w)})
    if len(words) < WORDS_VALIDATION + WORDS_TEST + 100:
        raise DataError(f"`{path}` holds only {len(words)} lowercase words of 1 to "
                        f"{WORDS_LENGTH - 1} letters; a word list such as wamerican's "
                        f"has about 57,000.")
    order = np.random.RandomState(0).permutation(len(words))
    tokens = WORDS_VOCABULARY.encode([words[i] for i in order], WORDS_LENGTH)
    tokens.setflags(write=False)
    return tokens


def load_words_split(split, *, data_dir=None, seed=0, num_examples=None):
    """``(x, None)``: a split of the ``words`` dataset.

    The distinct words matching ``[a-z]{1,11}`` are sorted and permuted with
    ``numpy.random.RandomState(0)``: the first 2,000 are "test", the next 2,000
    "validation", the rest "train". ``seed`` is ignored (fixed splits).
    """
    del seed
    tokens = _words(_words_path(data_dir))
    bounds = {"test": (0, WORDS_TEST),
              "validation": (WORDS_TEST, WORDS_TEST + WORDS_VALIDATION),
              "train": (WORDS_TEST + WORDS_VALIDATION, len(tokens))}[split]
    x = tokens[bounds[0]:bounds[1]]
    if num_examples is not None:
        if num_examples > len(x):
            raise ValueError(f"`num_examples`={num_examples} exceeds the {len(x)} "
                             f'examples of words split "{split}".')
        x = x[:num_examples]
    return np.array(x), None
