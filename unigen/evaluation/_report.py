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
        self.feature_accuracy = None
        if ctx.is_image:
            self.feature_accuracy = getattr(ctx._features, "test_accuracy", None)
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

    def likelihood_table(self):
        """Markdown table: nats/image and bits/dim, with estimator and bias."""
        lines = ["| model | −log p (nats/example) | bits/dim | estimator | known bias |",
                 "|---|---|---|---|---|"]
        for row in self.rows:
            nll = row["scores"].get("nll")
            if nll is None:
                continue
            est = nll.estimator.split("; ±")[0]
            lines.append(
                f"| {row['name']} | {nll.value:.2f} ± {nll.stderr:.2f} | "
                f"{nll.extra['bits_per_dim']:.3f} ± {nll.extra['bits_per_dim_stderr']:.3f} | "
                f"{est} | {nll.extra['bias']} |")
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

    def estimator_table(self):
        """Markdown table: each metric's estimator and uncertainty."""
        seen = {}
        for row in self.rows:
            for key, score in row["scores"].items():
                if key != "nll" and key not in seen:
                    seen[key] = score.estimator
        lines = ["| metric | estimator; uncertainty |", "|---|---|"]
        lines += [f"| {k} | {v.replace('|', '/')} |" for k, v in seen.items()]
        return "\n".join(lines)

    def timing_table(self):
        lines = ["| model | training (s) | evaluation (s) |", "|---|---|---|"]
        for row in self.rows:
            if row["role"] == "floor":
                continue
            train = row.get("train_seconds")
            lines.append(f"| {row['name']} | {'–' if train is None else f'{train:.1f}'} | "
                         f"{row['seconds']:.1f} |")
        return "\n".join(lines)

    def _lesson(self):
        by = self.scores()
        noise, mem = by.get("noise mixture (ref.)"), by.get("memoriser (ref.)")
        if not noise or not mem or "nll" not in noise:
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
        text += (". The distribution it samples from gives every test image that is not "
                 "in the training set probability 0; smoothed into a Parzen density "
                 f"(bandwidth chosen on validation data) it scores {mem['nll'].value:.1f} "
                 f"nats/example")
        models = [r["scores"]["nll"].value for r in self.rows
                  if r["role"] == "model" and "nll" in r["scores"]]
        if models and mem["nll"].value <= min(models):
            text += (", better than every trained model here: in low dimension (64 pixels) "
                     "a kernel density on the training set is a competitive model "
                     "(Theis et al. 2016), so likelihood does not expose memorisation either")
        text += (". Likelihood measures how well the model covers held-out data, "
                 "precision-type metrics the fidelity of samples and the copy check "
                 "novelty: no single axis ranks models.")
        return text

    def to_markdown(self):
        """The report as Markdown (image links relative to the report)."""
        parts = [f"# {self.title}", "",
                 f"Data: {self.dataset}, {self.num_test} test examples"
                 + (f", {self.num_validation} validation (floor and bandwidths)"
                    if self.num_validation else "")
                 + (f", {self.num_train} train" if self.num_train else "") + "."]
        if self.feature_accuracy is not None:
            parts.append(f"Feature network: unigen's own small conv classifier, test "
                         f"accuracy {self.feature_accuracy:.3f}.")
        if self.seconds is not None:
            parts.append(f"Evaluation time: {self.seconds:.1f} s.")
        parts += ["", "## Test likelihood", "", self.likelihood_table(), "",
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
        parts += ["## Time", "", self.timing_table(), ""]
        return "\n".join(parts)

    def to_html(self):
        """The report as a standalone HTML page (same content as Markdown)."""
        return _markdown_to_html(self.to_markdown(), self.title)

    def as_dict(self):
        """JSON-ready scores: {row: {metric: Score as dict}} plus metadata."""
        return {"dataset": self.dataset, "seconds": self.seconds,
                "feature_accuracy": self.feature_accuracy,
                "rows": {r["name"]: {"role": r["role"], "seconds": r["seconds"],
                                     "train_seconds": r.get("train_seconds"),
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
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        quality = "fid" if any("fid" in r["scores"] for r in self.rows) else "mmd"
        points = [(r["name"], r["role"], r["scores"]) for r in self.rows
                  if "nll" in r["scores"] and quality in r["scores"]]
        pr = [(r["name"], r["role"], r["scores"]) for r in self.rows
              if "precision" in r["scores"]]
        if not points and not pr:
            return False
        fig, axes = plt.subplots(1, 2, figsize=(10, 4.2))
        colors = {"model": "C0", "reference": "C3", "floor": "k"}
        ax = axes[0]
        for name, role, s in points:
            x, y = s["nll"].extra["bits_per_dim"], s[quality].value
            ax.errorbar(x, y, xerr=s["nll"].extra["bits_per_dim_stderr"],
                        yerr=s[quality].stderr, fmt="o", color=colors[role])
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        floor = next((r["scores"].get(quality) for r in self.rows if r["role"] == "floor"), None)
        if floor is not None:
            ax.axhline(max(floor.value, 1e-6), color="k", ls="--", lw=0.8,
                       label="real-vs-real floor")
            ax.legend(fontsize=8)
        ax.set_xlabel("test −log p (bits/dim), lower is better")
        ax.set_ylabel(f"{quality.upper()} (lower is better)")
        if quality == "fid":
            ax.set_yscale("log")
        ax.set_title("likelihood vs sample quality")
        ax = axes[1]
        for name, role, s in pr:
            ax.errorbar(s["recall"].value, s["precision"].value, xerr=s["recall"].stderr,
                        yerr=s["precision"].stderr, fmt="o", color=colors[role])
            ax.annotate(name, (s["recall"].value, s["precision"].value),
                        textcoords="offset points", xytext=(4, 4), fontsize=8)
        ax.set_xlim(-0.05, 1.05)
        ax.set_ylim(-0.05, 1.05)
        ax.set_xlabel("recall (diversity)")
        ax.set_ylabel("precision (fidelity)")
        ax.set_title("precision vs recall (k=3)")
        fig.tight_layout()
        fig.savefig(path, dpi=100)
        plt.close(fig)
        return True


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
