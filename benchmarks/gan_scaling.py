"""BigGAN's scaling claim at the scale of a CPU: do a wider network and a larger
batch give better digits for the same number of training steps?

    python benchmarks/gan_scaling.py [--steps 1000] [--seeds 0 1 2 3 4]
                                     [--settings base wide big_batch batch_8x] [--merge]

Brock et al. (2019) report that an 8x larger batch and 1.5x wider networks
each improve BigGAN's Inception Score and FID on ImageNet. This script trains
the class-conditional `unigen.models.BigGAN` of ``benchmarks/gan_systems.py
truncation`` (latent 24, embedding 16, weight average 0.99, hinge loss with
spectral normalisation) on the 1,000 training digits (8x8) with `unigen.fit`
for the same number of steps in each setting:

* ``base``: base_filters 16, batch 32;
* ``wide``: base_filters 32 (2x the channels of every layer), batch 32;
* ``big_batch``: base_filters 16, batch 128 (4x);
* ``batch_8x``: base_filters 16, batch 256 (8x, the paper's factor; a quarter
  of the training digits in every batch).

then scores 447 class-balanced samples against the 447 test digits with
`unigen.evaluate` (FID and precision/recall on the features of unigen's
self-trained digits classifier; ``extra["floor"]`` is the validation split
scored like a model). Writes benchmarks/results/gan_scaling.json; ``--table``
prints the docs' table of it. Default run
(4 settings x 5 seeds x 1,000 steps): about 12 minutes (docs/theory/gan_systems.rst).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import read_result, write_result

SETTINGS = {
    "base": {"base_filters": 16, "batch_size": 32},
    "wide": {"base_filters": 32, "batch_size": 32},
    "big_batch": {"base_filters": 16, "batch_size": 128},
    "batch_8x": {"base_filters": 16, "batch_size": 256},
}
OPTIONS = {"latent_dim": 24, "embedding_dim": 16, "ema_decay": 0.99}
NUM_SAMPLES = 447


def run_one(name, seed, steps, ctx):
    import unigen

    info = unigen.datasets.info("digits")
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    setting = SETTINGS[name]
    batch_size = setting["batch_size"]
    steps_per_epoch = len(x) // batch_size
    epochs = max(1, round(steps / steps_per_epoch))
    started = time.time()
    model = unigen.fit(
        lambda: unigen.models.BigGAN(image_shape=info.event_shape, num_levels=info.num_levels,
                                     num_classes=10, base_filters=setting["base_filters"],
                                     seed=seed, **OPTIONS),
        (x, y), epochs=epochs, batch_size=batch_size, seed=seed, verbose=0).model
    seconds = time.time() - started
    labels = np.arange(NUM_SAMPLES) % 10
    samples = model.sample(NUM_SAMPLES, seed=1, labels=labels).numpy()
    scores = unigen.evaluate(model, ctx, metrics=["fid", "precision_recall"], samples=samples)
    return {"seed": seed, "steps": epochs * steps_per_epoch, "seconds": seconds,
            "parameters": int(model.count_params()),
            "fid_floor": float(scores["fid"].extra["floor"]),
            **{key: float(scores[key].value) for key in ("fid", "precision", "recall")}}


def kept_runs(results, settings, seeds):
    """What ``--merge`` keeps of an earlier record's results: every run except the
    (setting, seed) pairs that this run measures again."""
    kept = {}
    for name, entry in results.items():
        runs = [r for r in entry["runs"] if not (name in settings and r["seed"] in seeds)]
        kept[name] = {**entry, "runs": runs}
    return kept


def rst_table(record):
    """The docs' table (reStructuredText): mean and seed standard deviation of FID,
    precision, recall and seconds per setting, and the seeds that beat ``base``."""
    base = {r["seed"]: r["fid"] for r in record["results"]["base"]["runs"]}
    header = ("setting", "filters", "batch", "parameters", "FID", "better than base",
              "precision", "recall", "seconds")
    rows = []
    for name, entry in record["results"].items():
        runs = entry["runs"]
        fid = [r["fid"] for r in runs]
        paired = [r for r in runs if r["seed"] in base]
        wins = sum(r["fid"] < base[r["seed"]] for r in paired)
        rows.append((name, str(entry["setting"]["base_filters"]),
                     str(entry["setting"]["batch_size"]), f"{runs[0]['parameters']:,}",
                     f"{np.mean(fid):.1f} +- {np.std(fid, ddof=1) if len(fid) > 1 else 0:.1f}",
                     "" if name == "base" else f"{wins} of {len(paired)}",
                     f"{np.mean([r['precision'] for r in runs]):.2f}",
                     f"{np.mean([r['recall'] for r in runs]):.2f}",
                     f"{np.mean([r['seconds'] for r in runs]):.0f}"))
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    parser.add_argument("--cache", default=None, help="cache_dir of the feature network")
    parser.add_argument("--out", default=None,
                        help="JSON file or directory (default benchmarks/results/)")
    parser.add_argument("--table", action="store_true",
                        help="only print the docs' table of --out, and exit")
    parser.add_argument("--merge", action="store_true",
                        help="add these seeds' runs to those already in --out (same --steps)")
    args = parser.parse_args()
    if args.table:
        print(rst_table(read_result("gan_scaling", args.out)))
        return
    import unigen

    ctx = unigen.evaluation.EvaluationData("digits", cache_dir=args.cache, seed=0, verbose=0)
    results = {}
    old = read_result("gan_scaling", args.out) if args.merge else None
    if old is not None:
        if old["steps"] != args.steps:
            raise SystemExit(f"--merge: {args.out or 'the record'} has {old['steps']} steps, "
                             f"this run {args.steps}.")
        results = kept_runs(old["results"], args.settings, args.seeds)
    for seed in args.seeds:  # seeds outermost: a cut-short run has every setting
        for name in args.settings:
            row = run_one(name, seed, args.steps, ctx)
            results.setdefault(name, {"setting": SETTINGS[name], "runs": []})["runs"].append(row)
            print(f"{name:10s} seed {seed}: {row['steps']} steps ({row['seconds']:.0f} s), "
                  f"FID {row['fid']:.1f} (floor {row['fid_floor']:.1f}), precision "
                  f"{row['precision']:.2f}, recall {row['recall']:.2f}", flush=True)
            for entry in results.values():
                runs = entry["runs"]
                entry["mean"] = {k: float(np.mean([r[k] for r in runs]))
                                 for k in ("fid", "precision", "recall", "seconds")}
            write_result("gan_scaling", {"steps": args.steps, "options": OPTIONS,
                                         "num_samples": NUM_SAMPLES, "results": results},
                         out=args.out)


if __name__ == "__main__":
    main()
