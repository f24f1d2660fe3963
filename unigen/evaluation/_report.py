"""`Report`: the tables, sample grids and plot written by `unigen.compare`."""

import html
import json
import math
import os

import numpy as np

__all__ = ["Report", "markdown_tables_to_rst"]

_COLUMNS = [  # (score key, header, format)
    ("fid", "FID ↓", ".2f"), ("kid", "KID ↓", ".1f"), ("precision", "precision ↑", ".2f"),
    ("recall", "recall ↑", ".2f"), ("density", "density", ".2f"),
    ("coverage", "coverage ↑", ".2f"), ("inception_score", "IS ↑", ".2f"),
    ("mode_score", "MODE ↑", ".2f"), ("am_score", "AM ↓", ".3f"),
    ("c2st", "C2ST acc. (→0.5)", ".2f"), ("mmd", "MMD² ↓", ".3f"),
    ("copy_share", "copies ↓", ".2f"), ("modes", "modes ↑", ".0f"),
    ("high_quality", "high quality ↑", ".2f"),
]


def _fmt(score, spec):
    if score is None:
        return "–"
    text = f"{score.value:{spec}}"
    if math.isfinite(score.stderr):
        text += f" ± {score.stderr:{spec}}"
    if score.p_value is not None:
        text += f" (p={score.p_value:.2g})"
    return text


def _with_error(value, stderr, spec):
    if value == math.inf:
        return "∞"
    text = f"{value:{spec}}"
    return text + f" ± {stderr:{spec}}" if math.isfinite(stderr) else text


def _raw_cell(raw, key):
    """``raw[key]`` ± ``raw[key + "_stderr"]`` of a `translation_scores` dict, or "–"."""
    if key not in raw:
        return "–"
    return _with_error(raw[key], raw.get(key + "_stderr", math.nan), ".3f")


def _slug(name):
    return "".join(c if c.isalnum() else "_" for c in name).strip("_").lower()


class Report:
    """The result of `unigen.compare`: scores of every model, and how to show them.

    Attributes:
        rows: one dict per row (``name``, ``role`` in {"floor", "model",
            "reference"}, ``scores`` dict of `Score`, ``samples``, ``seconds``).
        metrics: the metric names evaluated.
        seconds: wall time of the comparison.
        files: paths written by `save` (relative to its directory).
    """

    def __init__(self, rows, ctx, metrics, *, title=None, seconds=None):
        self.rows, self.metrics, self.seconds = rows, metrics, seconds
        self.dataset = ctx.dataset or "user data"
        self.is_image = ctx.is_image
        self.num_levels = ctx.num_levels
        self.num_test = len(ctx.x)
        self.num_validation = None if ctx.validation is None else len(ctx.validation)
        self.num_train = None if ctx.train_x is None else len(ctx.train_x)
        self.feature_accuracy = self.feature_description = None
        if ctx.is_image:
            self.feature_accuracy = getattr(ctx._features, "test_accuracy", None)
            self.feature_description = getattr(ctx._features, "description", None)
        self.title = title or f"Likelihood and sample quality on {self.dataset}"
        self.files = {}
        self.extra_notes = []

    # -------------------------------------------------------------- tables
    def scores(self):
        """{row name: {metric: Score}}."""
        return {row["name"]: row["scores"] for row in self.rows}

    def _columns(self):
        present = {k for row in self.rows for k in row["scores"]}
        return [c for c in _COLUMNS if c[0] in present]

    def _likelihoods(self):
        """(row, Score) for every likelihood estimate, the reported one ("nll") first."""
        for row in self.rows:
            keys = sorted((k for k in row["scores"] if k.startswith("nll")),
                          key=lambda k: (k != "nll", k))
            for key in keys:
                yield row, row["scores"][key]

    def likelihood_table(self):
        """Markdown table: nats/image and bits/dim, with estimator and bias.

        A model with several estimators (VAE: IWAE and AIS; GAN: AIS and
        Parzen; memoriser: exact and Parzen) has one line per estimator.
        An infinite NLL (an example with probability 0) is shown as ∞.
        """
        lines = ["| model | −log p (nats/example) | bits/dim | estimator | known bias |",
                 "|---|---|---|---|---|"]
        for row, nll in self._likelihoods():
            est = nll.estimator.split("; ±")[0]
            nats = _with_error(nll.value, nll.stderr, ".2f")
            bits = _with_error(nll.extra["bits_per_dim"], nll.extra["bits_per_dim_stderr"],
                               ".3f")
            lines.append(f"| {row['name']} | {nats} | {bits} | {est} | {nll.extra['bias']} |")
        return "\n".join(lines)

    def quality_table(self):
        """Markdown table of every sample metric (value ± standard error)."""
        cols = self._columns()
        lines = ["| model | " + " | ".join(h for _, h, _ in cols) + " |",
                 "|---" * (len(cols) + 1) + "|"]
        for row in self.rows:
            cells = [_fmt(row["scores"].get(k), f) for k, _, f in cols]
            name = f"*{row['name']}*" if row["role"] == "floor" else row["name"]
            lines.append(f"| {name} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def translation_table(self):
        """Markdown table of the translation scores ± standard errors (translation sets
        only), or ""."""
        rows = [r for r in self.rows if "translation_error" in r["scores"]]
        if not rows:
            return ""
        lines = ["| model | translation error ↓ | b → a error ↓ | cycle error ↓ | "
                 "domain acc. ↑ | not translating |", "|---|---|---|---|---|---|"]
        for row in rows:
            s = row["scores"]
            raw = s["translation_error"].extra
            cells = [_fmt(s["translation_error"], ".3f"), _raw_cell(raw, "b_to_a_error"),
                     _fmt(s.get("cycle_error"), ".3f"), _fmt(s.get("domain_accuracy"), ".3f"),
                     _raw_cell(raw, "identity_error")]
            lines.append(f"| {row['name']} | " + " | ".join(cells) + " |")
        return "\n".join(lines)

    def estimator_table(self):
        """Markdown table: each metric's estimator and uncertainty."""
        seen = {}
        for row in self.rows:
            for key, score in row["scores"].items():
                if not key.startswith("nll") and key not in seen:
                    seen[key] = score.estimator
        lines = ["| metric | estimator; uncertainty |", "|---|---|"]
        lines += [f"| {k} | {v.replace('|', '/')} |" for k, v in seen.items()]
        return "\n".join(lines)

    def timing_table(self):
        """Markdown table: each model's training budget and evaluation time."""
        # The networks' precision, when some model was trained in a mixed one.
        mixed = any((row.get("training") or {}).get("precision") for row in self.rows)
        lines = ["| model | epochs | steps |" + (" precision |" if mixed else "")
                 + " training (s) | evaluation (s) |",
                 "|---|---|---|" + ("---|" if mixed else "") + "---|---|"]
        for row in self.rows:
            if row["role"] == "floor":
                continue
            budget = row.get("training") or {}
            train = row.get("train_seconds")
            cells = [budget.get("epochs"), budget.get("steps")]
            if mixed:
                cells.append(budget.get("precision"))
            cells = ["–" if c is None else str(c) for c in cells]
            lines.append(f"| {row['name']} | {' | '.join(cells)} | "
                         f"{'–' if train is None else f'{train:.1f}'} | "
                         f"{row['seconds']:.1f} |")
        return "\n".join(lines)

    def verdict(self):
        """Plain sentences generated from the numbers (`unigen.evaluation._verdict`)."""
        from unigen.evaluation._verdict import verdict

        return verdict(self.rows)

    def to_text(self):
        """What the terminal shows: likelihood table, quality table, verdict."""
        parts = []
        likelihoods = ["| model | −log p (nats) | bits/dim | estimator |", "|---|---|---|---|"]
        for row, nll in self._likelihoods():
            likelihoods.append(
                f"| {row['name']} | {_with_error(nll.value, nll.stderr, '.2f')} | "
                f"{_with_error(nll.extra['bits_per_dim'], nll.extra['bits_per_dim_stderr'], '.3f')}"
                f" | {nll.estimator.split(';')[0]} |")
        if self.translation_table():
            parts += ["Translation (test split, against the true targets)",
                      _plain_table(self.translation_table()), ""]
        if len(likelihoods) > 2:
            parts += ["Test likelihood", _plain_table("\n".join(likelihoods)), ""]
        if self._columns():
            parts += ["Sample quality (floor: real held-out data)",
                      _plain_table(self.quality_table()), ""]
        lines = self.verdict()
        if lines:
            parts += ["Verdict"] + [f"- {line}" for line in lines]
        return "\n".join(parts)

    def _lesson(self):
        by = self.scores()
        noise, mem = by.get("noise mixture (ref.)"), by.get("memoriser (ref.)")
        if not noise or not mem or "nll" not in noise or "nll" not in mem:
            return ""
        text = ("**Why one axis is not enough.** The noise mixture "
                f"(0.01 × a trained model + 0.99 × uniform noise) scores "
                f"{noise['nll'].value:.1f} nats/example, within log 100 = 4.6 nats of "
                f"its base model, yet 99% of its samples are noise")
        if "precision" in noise:
            text += f" (precision {noise['precision'].value:.2f})"
        text += ". The memoriser replays training images: its samples look perfect"
        if "precision" in mem:
            text += f" (precision {mem['precision'].value:.2f})"
        if "copy_share" in mem:
            text += (f", and only the nearest-neighbour check flags them: "
                     f"{mem['copy_share'].value:.0%} are copies")
        exact, parzen = mem["nll"], mem.get("nll_parzen")
        zero = exact.extra.get("num_zero_probability", 0)
        text += (". Its distribution, uniform over the training images, gives every test "
                 f"image that is not in the training set probability 0 ({zero} of "
                 f"{exact.extra['num_examples']} test images here), so its exact test NLL "
                 + ("is infinite" if exact.value == math.inf else f"is {exact.value:.1f}"))
        if parzen is not None:
            text += (f"; smoothed into a Parzen density (bandwidth chosen on validation "
                     f"data) it scores {parzen.value:.1f} nats/example")
            models = [r["scores"]["nll"].value for r in self.rows
                      if r["role"] == "model" and "nll" in r["scores"]]
            beaten = sum(parzen.value < m for m in models)
            if models and beaten == len(models):
                text += (", better than every trained model here: in low dimension a "
                         "kernel density on the training set is a competitive model "
                         "(Theis et al. 2016), so a Parzen estimate flatters a "
                         "memoriser and does not expose memorisation")
            elif beaten:
                text += (f", better than {beaten} of the {len(models)} trained models: a "
                         "Parzen estimate turns probability 0 into a competitive number "
                         "and flatters a memoriser (Theis et al. 2016)")
            else:
                text += ": a Parzen estimate turns probability 0 into a finite number"
        text += (". Likelihood measures how well the model covers held-out data, "
                 "precision-type metrics the fidelity of samples and the copy check "
                 "novelty: no single axis ranks models.")
        return text

    def _likelihood_note(self):
        kinds = {nll.extra.get("kind") for _, nll in self._likelihoods()}
        text = []
        if len(list(self._likelihoods())) > sum("nll" in r["scores"] for r in self.rows):
            text.append("Models with more than one estimator have one line each, the "
                        "first being the one plotted.")
        if "ais" in kinds:
            text.append("AIS (annealed importance sampling from the prior to the "
                        "posterior with HMC) and the importance-weighted bound (IWAE) are "
                        "both stochastic lower bounds on log p, so both −log p values lie "
                        "above the truth in expectation and the smaller is the tighter. "
                        "A GAN has no p(x | z): its AIS number is for the generator "
                        "blurred by Gaussian noise of a scale chosen on validation data, "
                        "and depends on that scale.")
        if "parzen" in kinds:
            text.append("Parzen-window numbers are not bounds: they can be far too high "
                        "or too low and rank models wrongly.")
        if any(nll.value == math.inf for _, nll in self._likelihoods()):
            text.append("∞: some test examples have probability 0 under the model.")
        return " ".join(text)

    def to_markdown(self):
        """The report as Markdown (image links relative to the report)."""
        parts = [f"# {self.title}", "",
                 f"Data: {self.dataset}, {self.num_test} test examples"
                 + (f", {self.num_validation} validation (floor and bandwidths)"
                    if self.num_validation else "")
                 + (f", {self.num_train} train" if self.num_train else "") + "."]
        if self.feature_description is not None:
            parts.append(f"Feature network: {self.feature_description}.")
        elif self.feature_accuracy is not None:
            parts.append(f"Feature network: unigen's own small conv classifier, test "
                         f"accuracy {self.feature_accuracy:.3f}.")
        if self.seconds is not None:
            parts.append(f"Evaluation time: {self.seconds:.1f} s.")
        lines = self.verdict()
        if lines:
            parts += ["", "## Verdict", ""] + [f"- {line}" for line in lines]
        if self.translation_table():
            parts += ["", "## Translation", "",
                      "Errors per pixel in units of the pixel range (0 exact) against the "
                      "held-back true targets of the test split (unigen.datasets."
                      "true_targets); translation error: a → b for two-domain sets, every "
                      "other target domain for multi-domain sets; not translating: the "
                      "error of returning the input. ± standard errors over the test images "
                      "(each image's translations averaged first).", "",
                      self.translation_table()]
        parts += ["", "## Test likelihood", "", self.likelihood_table(), ""]
        note = self._likelihood_note()
        if note:
            parts += [note, ""]
        parts += [
                  "## Sample quality", "",
                  f"Values ± standard errors; *{self.rows[0]['name']}* is the floor: "
                  "held-out real data scored as if they were samples. "
                  "p-values of the two-sample tests in brackets.", "",
                  self.quality_table(), "", "### Estimators", "", self.estimator_table(), ""]
        lesson = self._lesson()
        if lesson:
            parts += [lesson, ""]
        parts += self.extra_notes
        if "plot" in self.files:
            parts += ["## Likelihood against sample quality", "",
                      f"![likelihood against sample quality]({self.files['plot']})", ""]
        grids = [(r["name"], self.files.get("samples:" + r["name"])) for r in self.rows]
        grids = [(n, p) for n, p in grids if p]
        if grids:
            parts += ["## Samples", "", "| " + " | ".join(n for n, _ in grids) + " |",
                      "|---" * len(grids) + "|",
                      "| " + " | ".join(f"![{n}]({p})" for n, p in grids) + " |", ""]
        parts += ["## Training budget and time", "", self.timing_table(), ""]
        return "\n".join(parts)

    def to_html(self):
        """The report as a standalone HTML page (same content as Markdown)."""
        return _markdown_to_html(self.to_markdown(), self.title)

    def as_dict(self):
        """JSON-ready scores: {row: {metric: Score as dict}} plus metadata."""
        return {"dataset": self.dataset, "seconds": self.seconds,
                "feature_accuracy": self.feature_accuracy,
                "feature_network": self.feature_description,
                "verdict": self.verdict(),
                "rows": {r["name"]: {"role": r["role"], "seconds": r["seconds"],
                                     "train_seconds": r.get("train_seconds"),
                                     "training": r.get("training"),
                                     "scores": {k: s.as_dict() for k, s in r["scores"].items()}}
                         for r in self.rows}}

    # --------------------------------------------------------------- files
    def save(self, output_dir):
        """Writes report.md, report.html, scores.json, sample grids and the plot."""
        os.makedirs(output_dir, exist_ok=True)
        for row in self.rows:
            name = f"samples_{_slug(row['name'])}.png"
            self._save_samples(os.path.join(output_dir, name), row["samples"])
            self.files["samples:" + row["name"]] = name
        if self._save_plot(os.path.join(output_dir, "likelihood_vs_quality.png")):
            self.files["plot"] = "likelihood_vs_quality.png"
        with open(os.path.join(output_dir, "report.md"), "w") as f:
            f.write(self.to_markdown())
        with open(os.path.join(output_dir, "report.html"), "w") as f:
            f.write(self.to_html())
        with open(os.path.join(output_dir, "scores.json"), "w") as f:
            json.dump(self.as_dict(), f, indent=1, default=float)
        return output_dir

    def _save_samples(self, path, samples):
        samples = np.asarray(samples)
        if self.is_image:
            from unigen.images import save_grid

            save_grid(path, samples[:64], num_levels=self.num_levels,
                      value_range=None if self.num_levels else (0.0, 1.0))
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(3, 3))
        ax.scatter(samples[:, 0], samples[:, 1], s=2, alpha=0.5)
        ax.set_aspect("equal")
        fig.tight_layout()
        fig.savefig(path, dpi=80)
        plt.close(fig)

    def _save_plot(self, path):
        from unigen.evaluation._plot import save_plot

        return save_plot(self.rows, path)


def _plain_table(markdown):
    """A Markdown pipe table as aligned plain text."""
    rows = [[c.strip().strip("*") for c in line.strip("|").split("|")]
            for line in markdown.split("\n") if not set(line) <= set("|-")]
    widths = [max(len(r[j]) for r in rows) for j in range(len(rows[0]))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                     for r in rows)


def markdown_tables_to_rst(markdown):
    """The Markdown headings and pipe tables of a report as reStructuredText.

    Headings become rubrics and tables ``list-table`` directives, so that a
    Sphinx page can ``.. include::`` a report's tables.
    """
    out, lines, i = [], markdown.split("\n"), 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("#") and not line.startswith("# "):
            out += [f".. rubric:: {line.lstrip('#').strip()}", ""]
        elif line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i]) <= set("|-"):
                    rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            if rows and not any("![" in c for c in rows[-1]):
                out += [".. list-table::", "   :header-rows: 1", ""]
                for cells in rows:
                    for j, cell in enumerate(cells):
                        cell = cell.replace("`", "")
                        cell = "\\" + cell if cell[:1] in "-+*" and not cell.startswith(
                            "*real") else cell
                        out.append(f"   {'* -' if j == 0 else '  -'} {cell or '..'}")
                out.append("")
            continue
        i += 1
    return "\n".join(out)


def _inline(text):
    import re

    text = html.escape(text, quote=False)
    text = re.sub(r"!\[([^\]]*)\]\(([^)]+)\)",
                  r'<img alt="\1" src="\2" style="max-width:100%">', text)
    text = re.sub(r"\*\*([^*]+)\*\*", r"<b>\1</b>", text)
    return re.sub(r"\*([^*]+)\*", r"<i>\1</i>", text)


def _markdown_to_html(markdown, title):
    """A tiny converter for the subset of Markdown the report uses."""
    out = ["<!DOCTYPE html>", '<html><head><meta charset="utf-8">',
           f"<title>{html.escape(title)}</title>",
           "<style>body{font-family:sans-serif;max-width:1200px;margin:auto}"
           "table{border-collapse:collapse;font-size:13px}td,th{border:1px solid #ccc;"
           "padding:3px 6px}img{image-rendering:pixelated}</style></head><body>"]
    lines = markdown.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith("|"):
            rows = []
            while i < len(lines) and lines[i].startswith("|"):
                if not set(lines[i]) <= set("|-"):
                    rows.append([c.strip() for c in lines[i].strip("|").split("|")])
                i += 1
            out.append("<table>")
            for j, cells in enumerate(rows):
                tag = "th" if j == 0 else "td"
                out.append("<tr>" + "".join(f"<{tag}>{_inline(c)}</{tag}>" for c in cells)
                           + "</tr>")
            out.append("</table>")
            continue
        if line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            out.append(f"<h{level}>{_inline(line[level:].strip())}</h{level}>")
        elif line.strip():
            out.append(f"<p>{_inline(line)}</p>")
        i += 1
    out.append("</body></html>")
    return "\n".join(out)
