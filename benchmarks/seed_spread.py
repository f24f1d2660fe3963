"""How much a model's scores move with the training seed alone (what a report's ± leaves out).

    python benchmarks/seed_spread.py [--data digits] [--models gan,vae] [--seeds 6]
                                     [--adam fused|keras|both] [--quick]

The ± of a `unigen.compare` / `unigen.evaluate` report is the estimator's
uncertainty for *one trained model* (bootstrap or binomial over samples and
test images); it says nothing about how a second training run with another
seed would score. This script trains each model of ``--models`` exactly as
``unigen compare`` does (the registry's recipe: epochs, learning rate, image
options; batch 64; `unigen.fit` with ``seed=s``) for seeds 0..N-1 and scores each
with `unigen.evaluate` (FID, precision and recall against the test split, the
dataset's feature network, evaluation seed 0), then reports per model the mean,
the standard deviation over seeds, the range, and the median of the per-run
±: a seed-to-seed spread far above the per-run ± means that a single run ranks
models by luck.

``--adam keras`` trains with Keras's own Adam instead of unigen's default
`unigen.training.FusedAdam` (the same maths to float rounding, issue #18);
``both`` runs the two in turn, so the spread of each can be compared (a
different trajectory from rounding alone is expected for a GAN; a different
distribution of scores would not be). Writes
benchmarks/results/seed_spread_<data>.json.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

METRICS = ("fid", "precision", "recall")


def _keras_adam(learning_rate, beta_1=0.9, **options):
    import keras

    if isinstance(learning_rate, int | float):
        learning_rate = float(learning_rate)
    return keras.optimizers.Adam(learning_rate, beta_1=beta_1, **options)


class _KerasAdam:
    """Within the block, every unigen default Adam is Keras's own (not `FusedAdam`)."""

    def __enter__(self):
        import unigen._model_state as state

        self._modules = [m for m in list(sys.modules.values())
                         if getattr(m, "__name__", "").startswith("unigen")
                         and getattr(m, "_adam", None) is state._adam]
        self._saved = state._adam
        for module in self._modules:
            module._adam = _keras_adam
        return self

    def __exit__(self, *exc):
        for module in self._modules:
            module._adam = self._saved


def train_and_score(name, data, seed, *, adam="fused", epochs=None):
    """Trains registry model ``name`` on ``data`` as ``unigen compare`` does; returns scores."""
    import contextlib

    import unigen

    recipe = unigen.models.recipe(name)
    info = unigen.datasets.info(data)
    train = unigen.datasets.load(data, split="train")
    test = unigen.datasets.as_numpy(data, "test")
    options = recipe.image_options if info.kind == "image" else {}
    start = time.perf_counter()
    with _KerasAdam() if adam == "keras" else contextlib.nullcontext():
        model = unigen.models.create(name, data, **options)
        unigen.fit(model, train, epochs=epochs or recipe.epochs, batch_size=64, seed=seed,
                   learning_rate=recipe.learning_rate, verbose=0, sample_every_epoch=0)
    optimizers = sorted({type(model.optimizer).__name__,
                         *(type(c.optimizer).__name__ for c in model.critics)})
    seconds = time.perf_counter() - start
    report = unigen.evaluate(model, test, metrics=["fid", "precision_recall"], dataset=data,
                             seed=0, verbose=0)
    scores = {k: {"value": float(report[k].value), "stderr": float(report[k].stderr)}
              for k in METRICS}
    return {"seed": seed, "adam": adam, "optimizers": optimizers,
            "train_seconds": seconds, "scores": scores}


def summarise(runs):
    """Per metric: mean, sd over seeds, min, max and the median per-run ±."""
    out = {}
    for metric in METRICS:
        values = [r["scores"][metric]["value"] for r in runs]
        errors = [r["scores"][metric]["stderr"] for r in runs]
        out[metric] = {"mean": statistics.fmean(values),
                       "sd_over_seeds": statistics.stdev(values) if len(values) > 1 else 0.0,
                       "min": min(values), "max": max(values),
                       "median_stderr_of_a_run": statistics.median(errors)}
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default="digits")
    parser.add_argument("--models", default="gan,vae")
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--adam", default="both", choices=("fused", "keras", "both"))
    parser.add_argument("--quick", action="store_true",
                        help="1 epoch, 2 seeds: a check that it runs")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    if args.seeds < 1:
        parser.error("--seeds must be at least 1")
    from benchmarks import write_result

    seeds = range(2 if args.quick else args.seeds)
    adams = ("fused", "keras") if args.adam == "both" else (args.adam,)
    load_start = list(os.getloadavg())
    record = {"data": args.data, "seeds": list(seeds), "metrics": list(METRICS),
              "evaluation": "unigen.evaluate(model, test, metrics=['fid', "
                            "'precision_recall'], dataset=data, seed=0)",
              "models": {}}
    for name in args.models.split(","):
        entry = record["models"][name] = {}
        for adam in adams:
            runs = []
            for seed in seeds:
                run = train_and_score(name, args.data, seed, adam=adam,
                                      epochs=1 if args.quick else None)
                runs.append(run)
                print(f"{name:8s} adam={adam:5s} seed {seed}: " + "  ".join(
                    f"{m} {run['scores'][m]['value']:.3f} ± {run['scores'][m]['stderr']:.3f}"
                    for m in METRICS) + f"  ({run['train_seconds']:.0f} s)", flush=True)
            entry[adam] = {"runs": runs, "summary": summarise(runs)}
            for metric, s in entry[adam]["summary"].items():
                print(f"{name:8s} adam={adam:5s} {metric:9s} mean {s['mean']:.3f}  sd over seeds "
                      f"{s['sd_over_seeds']:.3f}  range {s['min']:.3f} to {s['max']:.3f}  "
                      f"median ± of one run {s['median_stderr_of_a_run']:.3f}")
    suffix = "_quick" if args.quick else ""
    write_result(f"seed_spread_{args.data}{suffix}", record,
                 out=args.out or (os.path.join("runs", "benchmarks") if args.quick else None),
                 load_average_start=load_start)


if __name__ == "__main__":
    main()
