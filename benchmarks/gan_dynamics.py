"""GAN training dynamics on the 8-Gaussian ring: do the losses settle, do they
track sample quality, does the generator hop between modes?

    python benchmarks/gan_dynamics.py [--seeds 3] [--steps 6000]
                                      [--configs gan_non_saturating gan_minimax wgan_gp]
    python benchmarks/gan_dynamics.py --smoke --out DIR    # a few seconds, for tests

Trains the MLPGAN settings of ``benchmarks/mode_collapse.py`` (same networks,
batch, learning rate; XLA, 50 steps per execution) with `unigen.fit` on
``ring8`` and, after every epoch (78 steps of batch 256), records the epoch's
mean generator and critic losses and the mode histogram of 2,500 samples drawn
from the same latent codes every time (a sample is of high quality within 3 std
of its nearest mode; a mode is covered when it is the nearest mode of a
high-quality sample: `unigen.models.gan._metrics`, as in mode_collapse.py).

Summaries per run, over the second half of training (after the warm-up):

* settle or oscillate: the relative spread (std / |mean|) of each loss, its
  linear trend over that half in units of its std, and the lag-1
  autocorrelation of the detrended series (near 0: noise around a level; near
  1: slow drift or slow cycles);
* loss vs quality: Spearman correlations (over all records and over the
  second half) of each loss with the modes covered, the high-quality share
  and KL(mode histogram || uniform); how far each loss is from its mean at the
  records where the high-quality share drops below half its median
  (`quality_drops`); the quality at the record a critic-loss stopping rule
  picks (`stopping_rule`);
* mode hopping: how often the dominant mode (most samples) changes between
  consecutive records, how often a mode is gained or lost, and the mean total
  variation between consecutive mode-share vectors (`mode_hopping`).

Writes benchmarks/results/gan_dynamics.json (`benchmarks.write_result`) and the
figure docs/_static/gan/gan_dynamics.png (seed 0 of each setting; with
``--smoke``, beside the JSON instead).
``--table`` prints the docs' tables of --out, ``--figure`` redraws the figure
from it. Default run (3 settings x 3 seeds x 6,006 steps): about 6 minutes on
2 shared CPU cores (docs/theory/gan.rst, "Training dynamics").
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import mode_collapse  # the settings and networks

NUM_SAMPLES = 2500
SAMPLE_SEED = 12_345
DATASET = "ring8"


def _mode_shares(gan, info):
    from unigen.models.gan import _metrics

    samples = np.asarray(gan.sample(NUM_SAMPLES, seed=SAMPLE_SEED))
    counts, high_quality = _metrics.mode_histogram(samples, info.modes, info.mode_std)
    return counts, float(np.mean(high_quality))


def run_one(name, seed, steps, batch_size=None):
    """Trains one setting and returns its per-epoch records (lists of floats/ints)."""
    import keras

    import unigen
    from unigen.models.gan import _metrics

    info = unigen.datasets.info(DATASET)
    data = unigen.datasets.as_numpy(DATASET, "train")
    batch_size = batch_size or mode_collapse._batch_size(name)
    steps_per_epoch = len(data) // batch_size
    epochs = max(2, round(steps / steps_per_epoch))
    keras.utils.set_random_seed(seed)
    gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=2,
                               hidden_units=mode_collapse._hidden_units(name),
                               seed=seed, **mode_collapse.CONFIGS[name])
    records = {"step": [], "generator_loss": [], "critic_loss": [], "critic_penalty": [],
               "counts": [], "high_quality": [], "modes_covered": [], "reverse_kl": []}

    class Recorder(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            counts, hq = _mode_shares(gan, info)
            records["step"].append((epoch + 1) * steps_per_epoch)
            records["generator_loss"].append(float(logs["loss"]))
            records["critic_loss"].append(float(logs["critic_loss"]))
            records["critic_penalty"].append(float(logs.get("critic_penalty", 0.0)))
            records["counts"].append(counts.tolist())
            records["high_quality"].append(hq)
            records["modes_covered"].append(int(np.count_nonzero(counts)))
            kl = _metrics.reverse_kl_to_uniform(counts)
            records["reverse_kl"].append(kl if np.isfinite(kl) else None)

    started = time.time()
    unigen.fit(gan, data, epochs=epochs, batch_size=batch_size, seed=seed,
               learning_rate=mode_collapse._learning_rate(name), verbose=0,
               jit_compile=True, steps_per_execution=mode_collapse.STEPS_PER_EXECUTION,
               callbacks=[Recorder()])
    records["seconds"] = time.time() - started
    records["steps_per_epoch"] = steps_per_epoch
    return records


def _spearman(a, b):
    """Spearman's rank correlation (average ranks for ties); None when a series is constant."""
    from scipy import stats

    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    keep = np.isfinite(a) & np.isfinite(b)
    a, b = a[keep], b[keep]
    if len(a) < 3 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    return float(stats.spearmanr(a, b).statistic)


def loss_behaviour(values):
    """Settle-or-oscillate figures of one loss series (its second half).

    ``relative_std``: std / |mean|; ``trend_in_std``: the fitted linear change
    over the half divided by the std of the residuals; ``lag1_autocorrelation``
    of the residuals; ``sign_changes``: share of consecutive differences that
    change sign (about 2/3 for independent noise, near 0 for a smooth curve).
    """
    y = np.asarray(values, dtype=np.float64)
    y = y[len(y) // 2:]
    t = np.arange(len(y), dtype=np.float64)
    slope, intercept = np.polyfit(t, y, 1)
    residual = y - (slope * t + intercept)
    scale = residual.std() if len(y) >= 4 else 0.0  # too short for a trend
    if scale <= 1e-12 * max(1.0, abs(float(y.mean()))):
        scale = 0.0
    diffs = np.diff(y)
    lag1 = (float(np.corrcoef(residual[:-1], residual[1:])[0, 1])
            if len(y) > 3 and scale > 0 else None)
    return {
        "mean": float(y.mean()),
        "std": float(y.std()),
        "relative_std": float(y.std() / abs(y.mean())) if y.mean() != 0 else None,
        "trend_in_std": float(slope * (len(y) - 1) / scale) if scale > 0 else None,
        "lag1_autocorrelation": lag1,
        "sign_changes": (float(np.mean(np.sign(diffs[1:]) != np.sign(diffs[:-1])))
                         if len(diffs) > 1 else None),
        "min": float(y.min()),
        "max": float(y.max()),
    }


def mode_hopping(counts):
    """Changes of the mode histogram between consecutive records.

    ``dominant_changes``: how often the mode with most samples changes (records
    without high-quality samples are skipped); ``concentrated_changes``: the
    same among records where that mode holds at least a quarter of the
    high-quality samples (twice its share under the data), so that ties
    between evenly covered modes do not count; ``gained`` / ``lost``: modes newly
    covered / no longer covered, summed over consecutive pairs; ``mean_tv``: the
    mean total variation between consecutive mode-share vectors.
    """
    counts = np.asarray(counts, dtype=np.float64)
    totals = counts.sum(axis=1)
    valid = totals > 0
    shares = counts[valid] / totals[valid, None]
    dominant = shares.argmax(axis=1)
    covered = counts > 0
    tv = 0.5 * np.abs(np.diff(shares, axis=0)).sum(axis=1)
    concentrated = dominant[shares.max(axis=1) >= 0.25]
    return {
        "dominant_changes": int(np.count_nonzero(np.diff(dominant))),
        "concentrated_records": len(concentrated),
        "concentrated_changes": int(np.count_nonzero(np.diff(concentrated))),
        "transitions": int(max(len(dominant) - 1, 0)),
        "gained": int(np.count_nonzero(~covered[:-1] & covered[1:])),
        "lost": int(np.count_nonzero(covered[:-1] & ~covered[1:])),
        "mean_tv": float(tv.mean()) if len(tv) else None,
        "max_share_last": float(shares[-1].max()) if len(shares) else None,
    }


def stopping_rule(records):
    """Sample quality where the critic says the two distributions are closest.

    Over the second half, the record with the highest critic loss (for the JS
    GAN the closest to its equilibrium value log 4; for WGAN-GP the smallest
    Wasserstein estimate) against the median and the best record: a loss that
    served as a stopping criterion would pick a record near the best.
    """
    half = len(records["step"]) // 2
    critic = np.asarray(records["critic_loss"][half:])
    hq = np.asarray(records["high_quality"][half:])
    modes = np.asarray(records["modes_covered"][half:])
    pick = int(critic.argmax())
    return {"step": records["step"][half + pick], "high_quality": float(hq[pick]),
            "modes_covered": int(modes[pick]), "high_quality_median": float(np.median(hq)),
            "high_quality_best": float(hq.max()), "high_quality_worst": float(hq.min())}


def quality_drops(records):
    """Records of the second half whose high-quality share falls below half its median,
    and how far each loss moved there (|z| against the second half's mean and std)."""
    half = len(records["step"]) // 2
    hq = np.asarray(records["high_quality"][half:])
    drops = np.flatnonzero(hq < 0.5 * np.median(hq))
    out = {"count": len(drops), "records": len(hq)}
    for loss in ("generator_loss", "critic_loss"):
        y = np.asarray(records[loss][half:])
        z = np.abs(y - y.mean()) / y.std() if y.std() > 0 else np.zeros_like(y)
        out[f"{loss}_abs_z"] = float(z[drops].mean()) if len(drops) else None
    return out


def summarise_run(records):
    half = len(records["step"]) // 2
    quality = {"modes_covered": records["modes_covered"],
               "high_quality": records["high_quality"],
               "reverse_kl": [np.nan if v is None else v for v in records["reverse_kl"]]}

    def correlations(start):
        return {f"{loss}__{q}": _spearman(records[loss][start:], values[start:])
                for loss in ("generator_loss", "critic_loss")
                for q, values in quality.items()}

    second = slice(half, None)
    return {
        "generator_loss": loss_behaviour(records["generator_loss"]),
        "critic_loss": loss_behaviour(records["critic_loss"]),
        "spearman": correlations(0),
        "spearman_second_half": correlations(half),
        "hopping": mode_hopping(records["counts"]),
        "hopping_second_half": mode_hopping(records["counts"][second]),
        "stopping_rule": stopping_rule(records),
        "quality_drops": quality_drops(records),
        "modes_covered_last": records["modes_covered"][-1],
        "modes_covered_second_half_mean": float(np.mean(records["modes_covered"][second])),
        "modes_covered_second_half_min": int(np.min(records["modes_covered"][second])),
        "high_quality_last": records["high_quality"][-1],
    }


def write_figure(results, path):
    """Seed 0 of each setting: losses, coverage and the share of each mode over training."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results)
    fig, axes = plt.subplots(3, len(names), figsize=(5.2 * len(names), 7.5), squeeze=False,
                             sharex="col")
    for col, name in enumerate(names):
        rec = results[name]["runs"][0]["records"]
        step = np.asarray(rec["step"])
        ax = axes[0, col]
        ax.plot(step, rec["generator_loss"], color="C0", lw=0.9)
        ax.set_title(f"{mode_collapse.LABELS.get(name, name)} (seed 0)", fontsize=9)
        ax.set_ylabel("generator loss (blue)", fontsize=8)
        twin = ax.twinx()
        twin.plot(step, rec["critic_loss"], color="C1", lw=0.9)
        twin.set_ylabel("critic loss (orange)", fontsize=8)
        twin.tick_params(labelsize=7)
        ax = axes[1, col]
        ax.plot(step, rec["modes_covered"], color="C2", lw=0.9, label="modes covered (of 8)")
        ax.set_ylim(0, 8.5)
        ax.set_ylabel("modes covered (green)", fontsize=8)
        twin = ax.twinx()
        twin.plot(step, 100 * np.asarray(rec["high_quality"]), color="C3", lw=0.9)
        twin.set_ylim(0, 105)
        twin.set_ylabel("high quality % (red)", fontsize=8)
        twin.tick_params(labelsize=7)
        ax = axes[2, col]
        counts = np.asarray(rec["counts"], dtype=np.float64)
        shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        ax.stackplot(step, shares.T, labels=[f"mode {k}" for k in range(shares.shape[1])],
                     colors=plt.cm.tab10(np.arange(shares.shape[1])))
        ax.set_ylim(0, 1)
        ax.set_ylabel("share of HQ samples per mode", fontsize=8)
        ax.set_xlabel("training step", fontsize=8)
        for a in axes[:, col]:
            a.tick_params(labelsize=7)
    fig.tight_layout()
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fig.savefig(path, dpi=72)
    plt.close(fig)


def _fmt(value, digits=2):
    return "n/a" if value is None else f"{value:.{digits}f}"


def _rst(header, rows):
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def _mean(values):
    values = [v for v in values if v is not None]
    return float(np.mean(values)) if values else None


def rst_table(record):
    """The docs' two tables (reStructuredText), each figure the mean over seeds.

    The first: each loss over the second half of training and its rank
    correlation with the high-quality share. The second: coverage, quality at
    the critic-loss stopping rule and mode hopping over the second half.
    """
    loss_rows, mode_rows = [], []
    for name, entry in record["results"].items():
        summaries = [run["summary"] for run in entry["runs"]]
        label = mode_collapse.LABELS.get(name, name)
        for loss in ("generator_loss", "critic_loss"):
            beh = [s[loss] for s in summaries]
            loss_rows.append((
                label, loss.split("_")[0],
                _fmt(_mean([b["mean"] for b in beh]), 3),
                _fmt(_mean([b["relative_std"] for b in beh]), 3),
                _fmt(_mean([b["trend_in_std"] for b in beh]), 1),
                _fmt(_mean([b["lag1_autocorrelation"] for b in beh])),
                _fmt(_mean([s["spearman"][f"{loss}__high_quality"] for s in summaries])),
                _fmt(_mean([s["spearman_second_half"][f"{loss}__high_quality"]
                            for s in summaries])),
                _fmt(_mean([s["quality_drops"][f"{loss}_abs_z"] for s in summaries]), 1),
            ))
        hop = [s["hopping_second_half"] for s in summaries]
        stop = [s["stopping_rule"] for s in summaries]
        drops = [s["quality_drops"] for s in summaries]
        mode_rows.append((
            label,
            f"{_mean([s['modes_covered_second_half_mean'] for s in summaries]):.1f} "
            f"({min(s['modes_covered_second_half_min'] for s in summaries)})",
            f"{100 * _mean([t['high_quality_median'] for t in stop]):.0f}",
            f"{100 * _mean([t['high_quality'] for t in stop]):.0f}",
            f"{100 * _mean([t['high_quality_worst'] for t in stop]):.0f}"
            f"-{100 * _mean([t['high_quality_best'] for t in stop]):.0f}",
            f"{_mean([d['count'] for d in drops]):.1f} of {drops[0]['records']}",
            f"{_mean([h['gained'] for h in hop]):.1f} / {_mean([h['lost'] for h in hop]):.1f}",
            _fmt(_mean([h["mean_tv"] for h in hop])),
            f"{_mean([h['concentrated_changes'] for h in hop]):.1f} of "
            f"{_mean([h['concentrated_records'] for h in hop]):.1f}",
        ))
    first = _rst(("setting", "loss", "mean", "rel. std", "trend / std", "lag-1 ac",
                  "rho(HQ) all", "rho(HQ) 2nd", "abs z at drops"), loss_rows)
    second = _rst(("setting", "modes (min)", "HQ % median", "HQ % at stop", "HQ % range",
                   "quality drops", "modes gained / lost", "TV step",
                   "dominant changes"), mode_rows)
    return first + "\n\n" + second


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--steps", type=int, default=6000)
    parser.add_argument("--configs", nargs="+", choices=sorted(mode_collapse.CONFIGS),
                        default=["gan_non_saturating", "gan_minimax", "wgan_gp"])
    parser.add_argument("--smoke", action="store_true",
                        help="1 seed, 4 epochs of batch 2,000 of one setting: checks the "
                             "script runs (its figures mean nothing)")
    parser.add_argument("--out", default=None,
                        help="JSON file or directory (default benchmarks/results/); with "
                             "--smoke the figure goes there too")
    parser.add_argument("--table", action="store_true",
                        help="only print the docs' table of --out, and exit")
    parser.add_argument("--figure", action="store_true",
                        help="only redraw docs/_static/gan/gan_dynamics.png from --out, and exit")
    args = parser.parse_args()
    from benchmarks import read_result, write_result

    if args.table:
        print(rst_table(read_result("gan_dynamics", args.out)))
        return
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    figure = os.path.join(root, "docs", "_static", "gan", "gan_dynamics.png")
    if args.figure:
        write_figure(read_result("gan_dynamics", args.out)["results"], figure)
        return
    batch_size = None
    if args.smoke:
        args.seeds, args.configs, batch_size = 1, args.configs[:1], 2000
        args.steps = 4 * (20_000 // batch_size)
    results = {}
    for name in args.configs:
        runs = []
        for seed in range(args.seeds):
            records = run_one(name, seed, args.steps, batch_size=batch_size)
            summary = summarise_run(records)
            runs.append({"seed": seed, "summary": summary, "records": records})
            g, c = summary["generator_loss"], summary["critic_loss"]
            print(f"{name:20s} seed {seed}: {records['step'][-1]} steps "
                  f"({records['seconds']:.0f} s); G loss rel.std {_fmt(g['relative_std'])} "
                  f"trend {_fmt(g['trend_in_std'], 1)} std; D loss rel.std "
                  f"{_fmt(c['relative_std'])}; modes last {summary['modes_covered_last']}; "
                  f"dominant changes {summary['hopping']['dominant_changes']}"
                  f"/{summary['hopping']['transitions']}", flush=True)
        results[name] = {"runs": runs, "settings": {
            **mode_collapse._setting(name, args.seeds, args.steps, quick=args.smoke),
            "batch_size": batch_size or mode_collapse._batch_size(name),
            "record_every": "epoch", "dataset": DATASET, "sample_seed": SAMPLE_SEED}}
    record = {"results": results, "smoke": bool(args.smoke)}
    path = write_result("gan_dynamics", mode_collapse._finite(record), out=args.out)
    if args.smoke:  # not over the docs' figure
        figure = os.path.join(os.path.dirname(os.path.abspath(path)), "gan_dynamics.png")
    write_figure(results, figure)
    print(rst_table(read_result("gan_dynamics", args.out)))
    print(f"wrote {path} and {figure}")


if __name__ == "__main__":
    main()
