"""The report's verdict on hand-made scores where the answer is known."""

import math

import numpy as np

from unigen.evaluation import Score
from unigen.evaluation._report import Report
from unigen.evaluation._verdict import pareto_front, verdict


def _nll(value, kind, stderr=0.5, dims=64):
    return Score("nll", value, stderr, kind, False,
                 extra={"kind": kind, "bits_per_dim": value / (dims * math.log(2)),
                        "bits_per_dim_stderr": stderr / (dims * math.log(2)),
                        "bias": "-", "short": kind, "num_examples": 100,
                        "num_zero_probability": 0})


def _q(name, value, higher=False, stderr=0.1):
    return Score(name, value, stderr, name, higher)


def _rows():
    """flow: best likelihood (exact); gan: best FID, precision; vae: between
    (on the front); bad: dominated by the vae on both axes."""
    def row(name, role, nll=None, fid=None, precision=None, recall=None, copies=None,
            training=None):
        scores = {}
        if nll is not None:
            scores["nll"] = nll
        for key, value, higher in (("fid", fid, False), ("precision", precision, True),
                                   ("recall", recall, True), ("copy_share", copies, False)):
            if value is not None:
                scores[key] = _q(key, value, higher)
        return {"name": name, "role": role, "scores": scores, "samples": np.zeros((1, 2)),
                "seconds": 1.0, "training": training or {}, "train_seconds": None}

    return [
        row("real data (validation)", "floor", fid=5.0, precision=0.9, recall=0.9,
            copies=0.05),
        row("flow", "model", _nll(90.0, "exact"), fid=60.0, precision=0.5, recall=0.8,
            copies=0.04, training={"epochs": 10, "steps": 150, "seconds": 12.0}),
        row("vae", "model", _nll(100.0, "importance"), fid=30.0, precision=0.6, recall=0.9,
            copies=0.03, training={"epochs": 30, "steps": 450, "seconds": 40.0}),
        row("gan", "model", _nll(120.0, "ais"), fid=10.0, precision=0.95, recall=0.5,
            copies=0.06, training={"epochs": 40, "steps": 600, "seconds": 90.0}),
        row("bad", "model", _nll(110.0, "dequantization"), fid=50.0, precision=0.4,
            recall=0.3, copies=0.1, training={"epochs": 1, "steps": 15, "seconds": 1.0}),
        row("noise mixture (ref.)", "reference", _nll(94.0, "mixture"), fid=400.0,
            precision=0.01, recall=0.0, copies=0.0),
        row("memoriser (ref.)", "reference", _nll(math.inf, "exact"), fid=5.5,
            precision=0.92, recall=0.9, copies=1.0),
    ]


def test_pareto_front_by_brute_force():
    points = {"a": (1, 5), "b": (2, 2), "c": (3, 1), "d": (3, 3), "e": (1, 6)}
    assert pareto_front(points) == ["a", "b", "c"]  # d and e are dominated
    assert pareto_front({"x": (1, 1), "y": (2, 2)}) == ["x"]


def test_verdict_names_the_known_answers():
    lines = verdict(_rows())
    text = "\n".join(lines)
    assert lines[0].startswith("Best test likelihood: flow, 90 nats/example")
    assert "exact" in lines[0] and "runner-up, vae" in lines[0]  # vae's value is a bound
    best = next(line for line in lines if line.startswith("Best samples"))
    assert "gan (FID 10, precision 0.95" in best
    assert "vae (recall 0.9, copy share 0.03)" in best
    assert "the best model, gan, is at 10, 2 times the floor" in text
    assert "the Pareto front is flow, vae and gan" in text and "bad is dominated" in text
    assert "noise mixture (ref.): likelihood 94 nats, rank 2 of 5" in text
    assert "FID 400.0, rank 5 of 5" in text
    assert "memoriser (ref.): likelihood ∞ nats, rank 5 of 5" in text
    assert "FID 5.5, rank 1 of 5" in text and "100% of its samples are copies" in text
    assert ("Training budgets: flow 10 epochs, 150 steps, 12 s; vae 30 epochs, 450 steps, "
            "40 s; gan 40 epochs, 600 steps, 90 s; bad 1 epoch, 15 steps, 1 s") in text


def test_verdict_flags_a_lead_within_the_noise_and_a_single_winner():
    rows = _rows()[:3]
    rows[2]["scores"]["nll"] = _nll(90.5, "exact", stderr=0.5)
    rows[2]["scores"]["fid"] = _q("fid", 20.0)
    text = "\n".join(verdict(rows))
    assert "not clearly ahead of vae" in text
    rows[2]["scores"]["nll"] = _nll(80.0, "importance")
    text = "\n".join(verdict(rows))
    assert text.startswith("Best test likelihood: vae")
    assert "the true value is if anything better" in text
    assert "vae is best on both, so it alone is on the Pareto front" in text


def test_report_shows_the_verdict_and_budget_in_markdown_and_terminal():
    class Ctx:
        dataset, is_image, num_levels, x = "toy", False, None, np.zeros((100, 2))
        validation, train_x, _features = np.zeros((50, 2)), np.zeros((200, 2)), None

    report = Report(_rows(), Ctx(), ["nll", "fid", "precision_recall", "memorisation"])
    markdown = report.to_markdown()
    assert "## Verdict" in markdown and "- Best test likelihood: flow" in markdown
    assert "| flow | 10 | 150 | – | 1.0 |" in markdown  # epochs, steps in the budget table
    text = report.to_text()
    assert text.index("Test likelihood") < text.index("Sample quality") < text.index(
        "Verdict")
    assert "flow" in text and "|" not in text


def test_plot_labels_do_not_overlap(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from unigen.evaluation._plot import _overlap, place_labels, save_plot

    fig, ax = plt.subplots(figsize=(4, 3))
    xy = [(0.5, 0.5), (0.51, 0.505), (0.5, 0.49), (0.52, 0.5), (0.9, 0.9)]
    ax.plot(*zip(*xy, strict=True), "o")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    artists = place_labels(ax, [(f"model number {i}", x, y, {"fontsize": 8})
                                for i, (x, y) in enumerate(xy)])
    renderer = fig.canvas.get_renderer()
    boxes = [a.get_window_extent(renderer) for a in artists]
    for i in range(len(boxes)):
        for j in range(i):
            assert _overlap(boxes[i], boxes[j]) == 0, (i, j)
    plt.close(fig)
    assert save_plot(_rows(), str(tmp_path / "plot.png"))
