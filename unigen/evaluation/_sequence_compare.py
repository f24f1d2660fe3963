"""`compare_sequences`: what `unigen.compare` does on sequence data, and its report."""

import json
import os

import numpy as np

from unigen.evaluation import _sequence as seq

__all__ = ["SequenceReport", "compare_sequences", "evaluate_sequences"]


class SequenceReport:
    """Scores at temperature 1, the temperature sweep, and where they were written.

    Attributes:
        rows: list of ``{"name", "role", "scores": {metric: Score}}``.
        sweep: the rows of `temperature_sweep`.
        dataset: the dataset name.
    """

    def __init__(self, rows, sweep, dataset, title=None):
        self.rows, self.sweep, self.dataset = rows, sweep, dataset
        self.title = title or f"Sequence models on {dataset}"

    def _metrics(self):
        return list(dict.fromkeys(k for row in self.rows for k in row["scores"]))

    def quality_table(self):
        """A Markdown table: one row per model, one column per metric (value ± s.e.)."""
        metrics = self._metrics()
        lines = ["| model | " + " | ".join(metrics) + " |",
                 "|---" * (len(metrics) + 1) + "|"]
        for row in self.rows:
            cells = [f"{row['scores'][m]:.4g}" if m in row["scores"] else "-" for m in metrics]
            lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def sweep_table(self):
        """A Markdown table of the temperature sweep."""
        lines = ["| model | temperature | quality | diversity |", "|---|---|---|---|"]
        for r in self.sweep:
            diversity = "-" if r["diversity"] is None else f"{r['diversity']:.4g}"
            lines.append(f"| {r['model']} | {r['temperature']:g} | {r['quality']:.4g} | "
                         f"{diversity} |")
        return "\n".join(lines)

    def to_markdown(self):
        quality = ("oracle NLL of samples (lower is better)" if self.dataset == "oracle"
                   else "BLEU-4 against test (higher is better)")
        diversity = ("test NLL at that temperature (lower is better)"
                     if self.dataset == "oracle" else "self-BLEU-4 (lower = more diverse)")
        return (f"# {self.title}\n\nScores at temperature 1 (nats per sequence; ± standard "
                f"error):\n\n{self.quality_table()}\n\n## Temperature sweep\n\nquality: "
                f"{quality}; diversity: {diversity}.\n\n![sweep](temperature_sweep.png)\n\n"
                f"{self.sweep_table()}\n")

    def to_text(self):
        """What the terminal shows (``unigen compare``): both tables as plain text."""
        from unigen.evaluation._report import _plain_table

        return (f"Scores at temperature 1 (nats per sequence; ± standard error)\n"
                f"{_plain_table(self.quality_table())}\n\nTemperature sweep\n"
                f"{_plain_table(self.sweep_table())}")

    def as_dict(self):
        return {"dataset": self.dataset, "title": self.title,
                "rows": [{"name": r["name"], "role": r["role"],
                          "scores": {k: s.as_dict() for k, s in r["scores"].items()}}
                         for r in self.rows],
                "sweep": self.sweep}

    def save(self, output_dir):
        """Writes report.md, report.html, scores.json and temperature_sweep.png."""
        os.makedirs(output_dir, exist_ok=True)
        references = {}
        for row in self.rows:
            if row["role"] == "reference" and "sweep_point" in row:
                references[row["name"]] = row["sweep_point"]
        seq.plot_temperature_sweep(self.sweep, os.path.join(output_dir, "temperature_sweep.png"),
                                   oracle=self.dataset == "oracle", references=references,
                                   title=self.title)
        markdown = self.to_markdown()
        with open(os.path.join(output_dir, "report.md"), "w") as handle:
            handle.write(markdown)
        with open(os.path.join(output_dir, "report.html"), "w") as handle:
            body = markdown.replace("&", "&amp;").replace("<", "&lt;")
            handle.write(f"<html><body><img src='temperature_sweep.png'><pre>{body}</pre>"
                         f"</body></html>\n")
        with open(os.path.join(output_dir, "scores.json"), "w") as handle:
            json.dump(self.as_dict(), handle, indent=1, default=float)
        return output_dir


def compare_sequences(models, ctx, *, output_dir=None, seed=0, temperatures=seq.TEMPERATURES,
                      num_samples=1000, references=True, title=None):
    """Scores sequence models on held-out sequences and sweeps their temperature.

    At temperature 1: the test NLL ("nll", exact) of models with ``log_prob``;
    on the ``oracle`` data the oracle NLL of samples ("oracle_nll"), elsewhere
    BLEU-4 against the test split ("bleu4") and self-BLEU-4 ("self_bleu4"). With
    ``references``, the oracle itself (oracle data) or the validation split
    (real data) is scored the same way, as the best reachable row. Then
    `temperature_sweep` over ``temperatures``, plotted on one figure.

    Args:
        models: dict name -> model.
        ctx: an `unigen.evaluation.EvaluationData` of sequence data.
        output_dir: where to write the report (None: nowhere).

    Returns:
        A `SequenceReport`.
    """
    from unigen import datasets

    test = np.asarray(ctx.x).astype(np.int32)
    oracle = datasets.oracle() if ctx.dataset == "oracle" else None
    rows = []
    for name, model in models.items():
        samples = np.asarray(model.sample(num_samples, seed=seed))
        scores = {}
        if getattr(model, "has_log_prob", True):
            scores["nll"] = seq.heldout_nll(model, test)
        scores.update(_sample_scores(samples, test, oracle))
        rows.append({"name": name, "role": "model", "scores": scores})
    if references and oracle is not None:
        samples = oracle.sample(num_samples, seed=seed + 12_345)
        scores = {"nll": seq._mean_score("nll", -oracle.log_prob(test), "exact", False),
                  **_sample_scores(samples, test, oracle)}
        rows.append({"name": "oracle (ref.)", "role": "reference", "scores": scores,
                     "sweep_point": (scores["nll"].value, scores["oracle_nll"].value)})
    elif references and ctx.validation is not None:
        scores = _sample_scores(np.asarray(ctx.validation)[:num_samples], test, None)
        rows.append({"name": "real data (validation)", "role": "reference", "scores": scores,
                     "sweep_point": (scores["self_bleu4"].value, scores["bleu4"].value)})
    sweep = seq.temperature_sweep(models, test, temperatures=temperatures, oracle=oracle,
                                  num_samples=num_samples, seed=seed)
    report = SequenceReport(rows, sweep, ctx.dataset, title)
    if output_dir is not None:
        report.save(os.fspath(output_dir))
    return report


def evaluate_sequences(model, ctx, *, seed=0, num_samples=1000):
    """`unigen.evaluate` on sequence data: "nll" and the sample scores at temperature 1."""
    from unigen import datasets

    test = np.asarray(ctx.x).astype(np.int32)
    scores = {"nll": seq.heldout_nll(model, test)} if getattr(model, "has_log_prob", True) else {}
    samples = np.asarray(model.sample(num_samples, seed=seed))
    oracle = datasets.oracle() if ctx.dataset == "oracle" else None
    return {**scores, **_sample_scores(samples, test, oracle)}


def _sample_scores(samples, test, oracle):
    if oracle is not None:
        return {"oracle_nll": seq.oracle_nll(oracle, samples)}
    return {"bleu4": seq.bleu(samples, test), "self_bleu4": seq.self_bleu(samples[:500])}
