r"""Evaluation of sequence models: likelihood, exact quality on the oracle, BLEU, temperature.

Pure NumPy metrics of token arrays ``[N, T]`` (padded after EOS, as
`unigen.datasets` yields them; a sequence's tokens are its symbols before the
first EOS):

- `heldout_nll`: -log p(x) of held-out sequences, nats per sequence (models with
  ``log_prob``);
- `oracle_nll`: -log p_oracle(x) of a model's samples, the exact sample-quality
  score on the synthetic ``oracle`` data (Yu et al. 2017);
- `bleu`: BLEU-style n-gram precision of samples against a reference set (the
  test split), and `self_bleu`: each sample against the other samples (high
  self-BLEU = little diversity; Zhu et al. 2018).

A single temperature misleads: lowering a model's sampling temperature trades
diversity for quality, so `temperature_sweep` traces quality against
diversity over temperatures for every model and `plot_temperature_sweep` draws
all the curves on one figure (Caccia et al. 2020). `compare_sequences` is what
`unigen.compare` runs on sequence data.

References:
    Papineni et al. "BLEU: a Method for Automatic Evaluation of Machine
    Translation." ACL 2002.
    Zhu et al. "Texygen: A Benchmarking Platform for Text Generation Models." SIGIR 2018.
    Caccia et al. "Language GANs Falling Short." ICLR 2020.
"""

import collections
import math

import numpy as np

from unigen.datasets._sequences import counted_mask
from unigen.evaluation._metrics import Score

__all__ = ["bleu", "heldout_nll", "oracle_nll", "plot_temperature_sweep", "self_bleu",
           "temperature_sweep"]

TEMPERATURES = (0.5, 0.7, 0.85, 1.0, 1.2, 1.5)
_SMOOTHING = 0.1


def token_lists(tokens):
    """The symbols of each sequence (ids >= 2 before the first EOS) as tuples."""
    if isinstance(tokens, (list, tuple)) and tokens and isinstance(tokens[0], str):
        return [tuple(t) for t in tokens]
    tokens = np.asarray(tokens).astype(np.int64)
    keep = counted_mask(tokens) & (tokens >= 2)
    return [tuple(row[k].tolist()) for row, k in zip(tokens, keep, strict=True)]


def _ngrams(sequence, n):
    return collections.Counter(tuple(sequence[i:i + n]) for i in range(len(sequence) - n + 1))


def _mean_score(name, values, estimator, higher_is_better):
    values = np.asarray(values, np.float64)
    stderr = float(values.std(ddof=1) / math.sqrt(len(values))) if len(values) > 1 else math.nan
    return Score(name, float(values.mean()), stderr, estimator, higher_is_better)


def _sentence_bleu(candidate, max_counts, ref_lengths, max_n):
    """BP * exp(mean_n log p_n) over the orders n <= max_n that the candidate has."""
    logs = []
    for n in range(1, max_n + 1):
        counts = _ngrams(candidate, n)
        total = sum(counts.values())
        if not total:
            break
        clipped = sum(min(c, max_counts(n, g)) for g, c in counts.items())
        logs.append(math.log((clipped or _SMOOTHING) / total))
    if not logs:
        return 0.0
    length = len(candidate)
    closest = min(ref_lengths, key=lambda r: (abs(r - length), r))
    brevity = 1.0 if length > closest else math.exp(1.0 - closest / length)
    return brevity * math.exp(sum(logs) / len(logs))


def bleu(samples, references, max_n=4):
    r"""Mean BLEU-n of each sample against the whole reference set, a `Score`.

    For a sample c: p_n = sum_g min(count_c(g), max_r count_r(g)) / sum_g count_c(g)
    over its n-grams g (the modified precision of Papineni et al., with every
    reference sequence r a reference), a zero numerator replaced by 0.1
    (smoothing), orders n longer than c left out; BLEU(c) = BP exp(mean_n log
    p_n) with brevity penalty BP = min(1, exp(1 - r / len(c))) for the
    reference length r closest to len(c). Higher is better (quality).

    Args:
        samples, references: token arrays ``[N, T]`` or lists of strings.
        max_n: the largest n-gram order.
    """
    samples, references = token_lists(samples), token_lists(references)
    table = collections.defaultdict(int)
    for ref in references:
        for n in range(1, max_n + 1):
            for g, c in _ngrams(ref, n).items():
                table[g] = max(table[g], c)
    lengths = sorted({len(r) for r in references if r})
    values = [_sentence_bleu(c, lambda n, g: table.get(g, 0), lengths, max_n) if c else 0.0
              for c in samples]
    return _mean_score(f"bleu{max_n}", values,
                       f"BLEU-{max_n} of each sample against {len(references)} references; "
                       f"± std. error over samples", True)


def self_bleu(samples, max_n=4):
    """Mean BLEU-n of each sample against all the other samples (`bleu`): lower = more diverse."""
    samples = token_lists(samples)
    top = {}  # n-gram -> (largest count, its sample, second largest count)
    for index, seq in enumerate(samples):
        for n in range(1, max_n + 1):
            for g, c in _ngrams(seq, n).items():
                best, owner, second = top.get(g, (0, -1, 0))
                if c > best:
                    top[g] = (c, index, best)
                else:
                    top[g] = (best, owner, max(second, c))
    lengths = collections.Counter(len(s) for s in samples if s)
    values = []
    for index, seq in enumerate(samples):
        if not seq:
            values.append(0.0)
            continue
        others = lengths.copy()
        others[len(seq)] -= 1
        ref_lengths = [length for length, k in others.items() if k > 0]

        def max_counts(n, g, index=index):
            best, owner, second = top.get(g, (0, -1, 0))
            return second if owner == index else best

        values.append(_sentence_bleu(seq, max_counts, ref_lengths or [len(seq)], max_n))
    return _mean_score(f"self_bleu{max_n}", values,
                       f"BLEU-{max_n} of each of {len(samples)} samples against the others; "
                       f"± std. error over samples", False)


def oracle_nll(oracle, samples):
    """Mean -log p_oracle(x) of samples, nats per sequence (exact quality; lower is better)."""
    values = -np.asarray(oracle.log_prob(np.asarray(samples)), np.float64)
    return _mean_score("oracle_nll", values, f"exact oracle NLL of {len(values)} samples, "
                       f"nats per sequence; ± std. error", False)


def heldout_nll(model, tokens, temperature=1.0, batch_size=500):
    """Mean -log p(x) of held-out sequences under ``model`` at ``temperature`` (nats)."""
    tokens = np.asarray(tokens)
    options = {} if temperature == 1.0 else {"temperature": temperature}
    values = np.concatenate([-np.asarray(model.log_prob(tokens[i:i + batch_size], **options))
                             for i in range(0, len(tokens), batch_size)])
    return _mean_score("nll", values, f"exact NLL of {len(values)} test sequences at "
                       f"temperature {temperature:g}, nats per sequence; ± std. error", False)


def temperature_sweep(models, test, *, temperatures=TEMPERATURES, oracle=None,
                      num_samples=1000, seed=0, max_n=4):
    """Quality and diversity of every model at every sampling temperature.

    With an ``oracle``: quality = `oracle_nll` of the samples, diversity =
    `heldout_nll` at that temperature (how well the tempered model still covers
    real data); both lower is better. Without: quality = `bleu` against
    ``test``, diversity = `self_bleu` (lower = more diverse), and the test NLL
    beside them.

    Returns:
        A list of dicts ``{"model", "temperature", "quality", "diversity",
        "test_nll"}`` (floats; ``test_nll`` None for a model without log_prob).
    """
    rows = []
    for name, model in models.items():
        for temperature in temperatures:
            samples = np.asarray(model.sample(num_samples, seed=seed, temperature=temperature))
            nll = (heldout_nll(model, test, temperature).value
                   if getattr(model, "has_log_prob", True) else None)
            if oracle is not None:
                quality, diversity = oracle_nll(oracle, samples).value, nll
            else:
                quality = bleu(samples, test, max_n).value
                diversity = self_bleu(samples[:min(num_samples, 500)], max_n).value
            rows.append({"model": name, "temperature": float(temperature),
                         "quality": quality, "diversity": diversity, "test_nll": nll})
    return rows


def plot_temperature_sweep(rows, path, *, oracle=True, references=None, title=None):
    """All models' quality-diversity curves on one figure (PNG at ``path``).

    ``references``: optional dict label -> (diversity, quality) points (for
    example the oracle itself, or held-out data).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5))
    for name in dict.fromkeys(r["model"] for r in rows):
        mine = [r for r in rows if r["model"] == name and r["diversity"] is not None]
        xs, ys = [r["diversity"] for r in mine], [r["quality"] for r in mine]
        ax.plot(xs, ys, "o-", label=name)
        for r in mine:
            ax.annotate(f"{r['temperature']:g}", (r["diversity"], r["quality"]),
                        textcoords="offset points", xytext=(3, 3), fontsize=7)
    for label, (x, y) in (references or {}).items():
        ax.plot([x], [y], "k*", markersize=10, label=label)
    if oracle:
        ax.set_xlabel("test NLL at temperature (nats/sequence; lower = better coverage)")
        ax.set_ylabel("oracle NLL of samples (nats/sequence; lower = better quality)")
    else:
        ax.set_xlabel("self-BLEU-4 of samples (lower = more diverse)")
        ax.set_ylabel("BLEU-4 against test (higher = better quality)")
    ax.set_title(title or "Quality against diversity over sampling temperatures")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
