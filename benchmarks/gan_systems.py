"""GAN systems on digits: semi-supervised accuracy, coarse-to-fine vs DCGAN, BigGAN's truncation.

    python benchmarks/gan_systems.py semi       [--seconds 150] [--seeds 0 1 2]
    python benchmarks/gan_systems.py pyramid    [--seconds 150]
    python benchmarks/gan_systems.py truncation [--seconds 240]
    python benchmarks/gan_systems.py table      (the docs table from the JSON files)

Each part writes ``benchmarks/results/gan_systems_<part>.json``:

- ``semi``: test accuracy (447 digits) of a semi-supervised DCGAN (K+1-class
  critic, feature matching) trained on the 1000 training digits of which 100
  (10 per class) keep their label, against the same critic network trained as
  a plain classifier on those 100 labelled digits alone, for each seed.
- ``pyramid``: DCGAN, LAPGAN and ProGAN trained for the same wall-clock time,
  then FID and precision/recall (`unigen.evaluate`, the self-trained digits
  feature network) on the test split.
- ``truncation``: a class-conditional BigGAN trained for a fixed time, then
  FID, Inception Score and precision/recall of class-balanced samples at each
  truncation t (z in [-t, t]; "none" = untruncated).

Timing is wall-clock on a shared 2-core machine (the load average is
recorded); "equal training time" is a callback that stops ``fit`` after the
budget, so each model gets as many steps as it runs in that time.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

RESULTS = os.path.join("benchmarks", "results")


def _time_limit(seconds):
    import keras

    class TimeLimit(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.steps = 0

        def on_train_begin(self, logs=None):
            self.started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            self.steps += 1
            if time.perf_counter() - self.started > seconds:
                self.model.stop_training = True

    return TimeLimit()


def _write(part, record):
    os.makedirs(RESULTS, exist_ok=True)
    record = {**record, "load_average_at_end": list(os.getloadavg())}
    path = os.path.join(RESULTS, f"gan_systems_{part}.json")
    with open(path, "w") as f:
        json.dump(record, f, indent=1)
    print(json.dumps(record, indent=1))
    print(f"wrote {path}")


def _digits():
    import unigen

    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    xt, yt = unigen.datasets.as_numpy("digits", "test", with_labels=True)
    return (np.asarray(x), np.asarray(y).astype("int32"), np.asarray(xt),
            np.asarray(yt).astype("int32"))


def semi(args):
    import keras

    import unigen
    from unigen.models.gan import networks as nets

    x, y, xt, yt = _digits()
    rows = []
    for seed in args.seeds:
        rng = np.random.default_rng(seed)
        labelled = np.concatenate([rng.choice(np.flatnonzero(y == k), 10, replace=False)
                                   for k in range(10)])
        partial = np.full_like(y, -1)
        partial[labelled] = y[labelled]
        share = len(labelled) / len(y)
        gan = unigen.models.DCGAN(image_shape=(8, 8, 1), num_levels=17, latent_dim=16,
                                  base_filters=32, semi_supervised_classes=10,
                                  feature_matching=1.0, supervised_weight=1.0 / share,
                                  seed=seed)
        started = time.time()
        limit = _time_limit(args.seconds)
        unigen.fit(gan, (x, partial), epochs=1000, batch_size=50, learning_rate=2e-4,
                   seed=seed, verbose=0, callbacks=[limit])
        gan_seconds = time.time() - started
        gan_accuracy = float(np.mean(np.argmax(gan.classify(xt), -1) == yt))

        # The same critic network as a plain classifier on the 100 labelled digits.
        keras.utils.set_random_seed(seed)
        classifier = keras.Sequential([
            nets.dcgan_discriminator((8, 8, 1), 32, outputs=None),
            keras.layers.Dense(10)])
        classifier.compile(keras.optimizers.Adam(1e-3),
                           keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                           metrics=["accuracy"])
        scaled = np.asarray(x[labelled], "float32") / 16.0 * 2.0 - 1.0
        classifier.fit(scaled, y[labelled], epochs=200, batch_size=20, verbose=0)
        test_scaled = np.asarray(xt, "float32") / 16.0 * 2.0 - 1.0
        baseline = float(np.mean(np.argmax(classifier.predict(test_scaled, verbose=0), -1)
                                 == yt))
        rows.append({"seed": seed, "semi_supervised_gan": gan_accuracy,
                     "classifier_100_labels": baseline, "gan_steps": limit.steps,
                     "gan_seconds": gan_seconds})
        print(rows[-1], flush=True)
    _write("semi", {"labels": 100, "train_images": len(y), "test_images": len(yt),
                    "gan_budget_seconds": args.seconds, "classifier_epochs": 200,
                    "runs": rows,
                    "mean_semi_supervised_gan": float(np.mean([r["semi_supervised_gan"]
                                                               for r in rows])),
                    "mean_classifier_100_labels": float(np.mean(
                        [r["classifier_100_labels"] for r in rows]))})


def _scores(model, samples=None, cache=None):
    import unigen

    scores = unigen.evaluate(model, "digits", metrics=["fid", "precision_recall"],
                             samples=samples, cache_dir=cache, seed=0)
    return {name: float(scores[name].value) for name in ("fid", "precision", "recall")}


def pyramid(args):
    import unigen

    x, _, _, _ = _digits()
    builders = {
        "dcgan": lambda: unigen.models.DCGAN(image_shape=(8, 8, 1), num_levels=17,
                                             latent_dim=16, base_filters=32, ema_decay=0.99),
        "lapgan": lambda: unigen.models.LAPGAN(image_shape=(8, 8, 1), num_levels=17,
                                               latent_dim=16, filters=32, coarse_units=64),
        "progan": lambda: unigen.models.ProGAN(image_shape=(8, 8, 1), num_levels=17,
                                               latent_dim=16, base_filters=16,
                                               phase_steps=300, fade_steps=300,
                                               ema_decay=0.99),
    }
    rates = {"dcgan": 2e-4, "lapgan": 2e-4, "progan": 1e-3}
    rows = {}
    for name, build in builders.items():
        limit = _time_limit(args.seconds)
        started = time.time()
        model = unigen.fit(build, x, epochs=1000, batch_size=64, learning_rate=rates[name],
                           seed=0, verbose=0, callbacks=[limit]).model
        rows[name] = {"steps": limit.steps, "seconds": time.time() - started,
                      **_scores(model, cache=args.cache)}
        if name == "progan":
            rows[name].update(stage=model.stage, alpha=model.alpha)
        print(name, rows[name], flush=True)
        _save_grid(model, f"{name}_digits.png")
    _write("pyramid", {"budget_seconds": args.seconds, "batch_size": 64,
                       "learning_rates": rates, "models": rows})


def _save_grid(model, filename, **options):
    from unigen import images

    folder = os.path.join("docs", "_static", "gan_systems")
    os.makedirs(folder, exist_ok=True)
    images.save_grid(os.path.join(folder, filename),
                     model.sample(64, seed=0, **options).numpy(), num_levels=17)


def truncation(args):
    import unigen

    x, y, _, _ = _digits()
    limit = _time_limit(args.seconds)
    model = unigen.fit(
        lambda: unigen.models.BigGAN(image_shape=(8, 8, 1), num_levels=17, num_classes=10,
                                     latent_dim=24, base_filters=32, embedding_dim=16,
                                     ema_decay=0.99),
        (x, y), epochs=1000, batch_size=64, seed=0, verbose=0, callbacks=[limit]).model
    labels = np.arange(447) % 10
    rows = []
    for t in (0.25, 0.5, 1.0, 1.5, 2.0, None):
        samples = model.sample(447, seed=1, labels=labels, truncation=t).numpy()
        scores = unigen.evaluate(model, "digits",
                                 metrics=["fid", "inception_score", "precision_recall"],
                                 samples=samples, cache_dir=args.cache, seed=0)
        row = {"truncation": "none" if t is None else t,
               **{name: float(scores[name].value)
                  for name in ("fid", "inception_score", "precision", "recall")}}
        rows.append(row)
        print(row, flush=True)
    for t in (0.5, None):
        _save_grid(model, f"biggan_truncation_{'none' if t is None else t}.png",
                   labels=np.arange(64) % 10, truncation=t)
    _write("truncation", {"budget_seconds": args.seconds, "steps": limit.steps,
                          "samples": 447, "curve": rows})


def _rst(header, rows):
    cells = [header] + [[str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    lines = [rule, "  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)), rule]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
              for row in cells[1:]]
    return "\n".join([*lines, rule])


def table(args):
    """Prints the docs tables (reStructuredText) from the JSON files."""
    del args
    path = os.path.join(RESULTS, "gan_systems_{}.json")
    out = []
    if os.path.exists(path.format("semi")):
        with open(path.format("semi")) as f:
            record = json.load(f)
        rows = [[r["seed"], f"{r['semi_supervised_gan']:.1%}",
                 f"{r['classifier_100_labels']:.1%}", r["gan_steps"]] for r in record["runs"]]
        rows.append(["mean", f"{record['mean_semi_supervised_gan']:.1%}",
                     f"{record['mean_classifier_100_labels']:.1%}", ""])
        out.append(_rst(["seed", "semi-supervised GAN", "classifier, 100 labels",
                         "GAN steps"], rows))
    if os.path.exists(path.format("pyramid")):
        with open(path.format("pyramid")) as f:
            record = json.load(f)
        rows = [[name, r["steps"], f"{r['fid']:.1f}", f"{r['precision']:.2f}",
                 f"{r['recall']:.2f}"] for name, r in record["models"].items()]
        out.append(_rst(["model", "steps", "FID", "precision", "recall"], rows))
    if os.path.exists(path.format("truncation")):
        with open(path.format("truncation")) as f:
            record = json.load(f)
        rows = [[r["truncation"], f"{r['fid']:.1f}", f"{r['inception_score']:.2f}",
                 f"{r['precision']:.2f}", f"{r['recall']:.2f}"] for r in record["curve"]]
        out.append(_rst(["truncation t", "FID", "IS", "precision", "recall"], rows))
    print("\n\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["semi", "pyramid", "truncation", "table"])
    parser.add_argument("--seconds", type=float, default=None,
                        help="training budget per model (defaults: 150, 150, 240)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cache", default=None,
                        help="cache folder of the evaluation feature network")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = {"semi": 150, "pyramid": 150, "truncation": 240}.get(args.part, 0)
    {"semi": semi, "pyramid": pyramid, "truncation": truncation, "table": table}[
        args.part](args)


if __name__ == "__main__":
    main()
