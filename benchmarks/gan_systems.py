"""GAN systems on digits and Fashion-MNIST: semi-supervised accuracy, coarse to fine, truncation.

    python benchmarks/gan_systems.py semi       [--seconds 150] [--seeds 0 1 2]
    python benchmarks/gan_systems.py pyramid    [--seconds 150] [--data fashion_mnist]
                                                [--every S] [--curve-samples 1000]
    python benchmarks/gan_systems.py truncation [--seconds 240] [--data fashion_mnist]
    python benchmarks/gan_systems.py table      (the docs tables from the JSON files)
    python benchmarks/gan_systems.py figure --data fashion_mnist   (redraw the curve)

Each part writes ``benchmarks/results/gan_systems_<part>[_fashion_mnist].json``:

- ``semi``: test accuracy (447 digits) of a semi-supervised DCGAN (K+1-class
  critic, feature matching) trained on the 1000 training digits of which 100
  (10 per class) keep their label, against the same critic network trained as
  a plain classifier on those 100 labelled digits alone, for each seed.
- ``pyramid``: DCGAN, LAPGAN and ProGAN trained for the same training time
  (digits 8x8; Fashion-MNIST 28x28, where ProGAN grows 7 -> 14 -> 28), then FID
  and precision/recall (`unigen.evaluate`, the self-trained labelled feature
  network of the dataset) on the test split. During training, every ``--every``
  seconds, the FID of ``--curve-samples`` samples against the first as many
  test images (evaluation time off the clock): the FID-vs-time curve, from
  which the time to reach an FID target is read (the smallest of `FID_TARGETS`
  that two models reach, else one), and a figure
  ``docs/_static/gan_systems/pyramid[_fashion_mnist]_fid_time.png``.
- ``truncation``: a class-conditional BigGAN trained for a fixed time, then
  FID, Inception Score and precision/recall of class-balanced samples at each
  truncation t (z in [-t, t]; "none" = untruncated); on Fashion-MNIST also the
  class-conditional FID (intra-FID, the mean over classes of per-class FIDs).

Timing is wall-clock on a shared 2-core machine (the load average is
recorded); "equal training time" is `unigen.training.callbacks.TrainingClock`,
which stops ``fit`` after the budget, so each model gets as many steps as it
runs in that time (pyramid and Fashion-MNIST truncation: the clock starts after
the first, traced, step).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from benchmarks import read_result, write_result


def _time_limit(seconds, every=None, evaluate=None, warmup_steps=0):
    """`unigen.training.callbacks.TrainingClock`: stops ``fit`` after ``seconds``
    of training time and evaluates every ``every`` seconds (off the clock)."""
    from unigen.training.callbacks import TrainingClock

    return TrainingClock(budget=seconds, every=every, evaluate=evaluate,
                         warmup_steps=warmup_steps)


def _write(part, record):
    write_result(f"gan_systems_{part}", {**record, "load_average_at_end": list(os.getloadavg())},
                 echo=True)


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


def _scores(model, data="digits", samples=None, cache=None):
    import unigen

    scores = unigen.evaluate(model, data, metrics=["fid", "precision_recall"],
                             samples=samples, cache_dir=cache, seed=0, verbose=0)
    return {name: float(scores[name].value) for name in ("fid", "precision", "recall")}


_PYRAMID = {
    # name: (model class, its arguments on digits, on fashion_mnist, learning rate)
    "dcgan": ("DCGAN", dict(latent_dim=16, base_filters=32, ema_decay=0.99),
              dict(latent_dim=64, base_filters=32, ema_decay=0.99), 2e-4),
    "lapgan": ("LAPGAN", dict(latent_dim=16, filters=32, coarse_units=64),
               dict(latent_dim=64, filters=32, coarse_units=128), 2e-4),
    "progan": ("ProGAN", dict(latent_dim=16, base_filters=16, phase_steps=300,
                              fade_steps=300, ema_decay=0.99),
               dict(latent_dim=64, base_filters=16, phase_steps=40, fade_steps=40,
                    ema_decay=0.99), 1e-3),
}
FID_TARGETS = (10, 15, 20, 30, 40, 50, 75, 100, 150, 200, 300)


def _curve_data(name, size, cache):
    """The fixed held-out subset of the periodic evaluation: the first ``size``
    test images (and as many validation images for the real-vs-real floor)."""
    import unigen

    x, y = unigen.datasets.as_numpy(name, "test", with_labels=True)
    validation = unigen.datasets.as_numpy(name, "validation")
    size = min(size, len(x))
    ctx = unigen.evaluation.EvaluationData((x[:size], y[:size]), dataset=name,
                                           validation=validation[:size], cache_dir=cache,
                                           seed=0, verbose=0)
    floor = unigen.evaluate(None, ctx, metrics=["fid"], samples=ctx.validation)["fid"].value
    return ctx, size, float(floor)


def time_to(curve, target, key="fid"):
    """Training seconds of the first curve point with ``key`` <= target, or None."""
    for point in curve:
        if point[key] <= target:
            return point["seconds"]
    return None


def _fid_target(curves):
    """The smallest of `FID_TARGETS` that two models reach (one, if only one does)."""
    for needed in (2, 1):
        for target in FID_TARGETS:
            if sum(time_to(c, target) is not None for c in curves) >= needed:
                return target
    return None


def pyramid(args):
    import unigen

    name = args.data
    info = unigen.datasets.info(name)
    x = unigen.datasets.as_numpy(name, "train")
    if args.train_images:
        x = x[:args.train_images]
    ctx, size, floor = _curve_data(name, args.curve_samples, args.cache)

    def curve_point(model):
        scores = unigen.evaluate(model, ctx, metrics=["fid"], num_samples=size, seed=0)
        return {"fid": float(scores["fid"].value)}

    rows = {}
    for key, (cls, digits_options, fashion_options, rate) in _PYRAMID.items():
        options = digits_options if name == "digits" else fashion_options
        def build(cls=cls, options=options):
            return getattr(unigen.models, cls)(image_shape=info.event_shape,
                                               num_levels=info.num_levels, **options)

        # The clock starts after the first step (tracing), the same for every model.
        clock = _time_limit(args.seconds, args.every, curve_point, warmup_steps=1)
        started = time.time()
        # Enough epochs for the budget (fit builds one input pipeline per epoch, so
        # not a huge number): 20,000 steps, far more than any model runs here.
        epochs = -(-20_000 // (len(x) // 64))
        model = unigen.fit(build, x, epochs=epochs, batch_size=64, learning_rate=rate,
                           seed=0, verbose=0, callbacks=[clock]).model
        rows[key] = {"steps": clock.steps, "training_seconds": clock.seconds,
                     "evaluation_seconds": clock.evaluation_seconds,
                     "wall_seconds": time.time() - started, "options": options,
                     "learning_rate": rate, "curve": clock.curve,
                     "load_average": list(os.getloadavg()),
                     **_scores(model, name, cache=args.cache)}
        if key == "progan":
            rows[key].update(stage=model.stage, alpha=model.alpha)
        print(key, {k: v for k, v in rows[key].items() if k != "curve"}, flush=True)
        _save_grid(model, f"{key}_{name}.png", num_levels=info.num_levels)
    curves = [r["curve"] for r in rows.values()]
    target = _fid_target(curves)
    for r in rows.values():
        r["seconds_to_fid_target"] = None if target is None else time_to(r["curve"], target)
        r["seconds_to_fid"] = {str(t): time_to(r["curve"], t) for t in FID_TARGETS}
    part = "pyramid" if name == "digits" else f"pyramid_{name}"
    _write(part, {"data": name, "train_images": len(x), "budget_seconds": args.seconds,
                  "batch_size": 64, "evaluate_every_seconds": args.every,
                  "curve_samples": size, "curve_floor_fid": floor, "fid_target": target,
                  "final_eval": "unigen.evaluate on the test split, validation-size sample",
                  "models": rows})
    _curve_figure(part)


def _curve_figure(part):
    """FID of the fixed subset against training seconds, one line per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    record = read_result(f"gan_systems_{part}")
    fig, ax = plt.subplots(figsize=(5.5, 3.6))
    for name, row in record["models"].items():
        curve = row["curve"]
        ax.plot([p["seconds"] for p in curve], [p["fid"] for p in curve], "o-", ms=3,
                label=f"{name} ({row['steps']} steps)")
    progan = record["models"].get("progan")
    if progan is not None:  # where ProGAN's growth finished: the last stage is fully
        # in at step 2 (phase + fade) (two doublings); seconds interpolated from the curve
        phase, fade = progan["options"]["phase_steps"], progan["options"]["fade_steps"]
        grown = 2 * (phase + fade)
        steps = [0] + [p["steps"] for p in progan["curve"]]
        seconds = [0.0] + [p["seconds"] for p in progan["curve"]]
        if grown <= steps[-1]:
            ax.axvline(float(np.interp(grown, steps, seconds)), color="C2", lw=0.8,
                       ls="--", label="progan fully grown")
    ax.axhline(record["curve_floor_fid"], color="k", lw=0.8, ls=":",
               label="real vs real")
    if record["fid_target"] is not None:
        ax.axhline(record["fid_target"], color="0.5", lw=0.8, ls="--",
                   label=f"target FID {record['fid_target']}")
    ax.set_yscale("log")
    ax.set_xlabel("training seconds (evaluation excluded)")
    ax.set_ylabel(f"FID ({record['curve_samples']} samples)")
    ax.set_title(f"{record['data']}: coarse to fine at equal time")
    ax.legend(fontsize=8)
    fig.tight_layout()
    folder = os.path.join("docs", "_static", "gan_systems")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{part}_fid_time.png")
    fig.savefig(path, dpi=110)
    plt.close(fig)
    print(f"wrote {path}")


def _save_grid(model, filename, num_levels=17, **options):
    from unigen import images

    folder = os.path.join("docs", "_static", "gan_systems")
    os.makedirs(folder, exist_ok=True)
    images.save_grid(os.path.join(folder, filename),
                     model.sample(64, seed=0, **options).numpy(), num_levels=num_levels)


def intra_fid(ctx, samples, labels):
    """Class-conditional FID (intra-FID, Miyato and Koyama 2018): the mean over
    classes k of the FID between the held-out images of class k and the samples
    generated for class k, on the features of ``ctx`` (an `EvaluationData`)."""
    import unigen

    real, fake = ctx.test_features(), ctx.features(samples)
    values = [unigen.evaluation.fid(real[ctx.y == k], fake[labels == k],
                                    num_bootstrap=1).value for k in np.unique(labels)]
    return float(np.mean(values))


def truncation(args):
    import unigen

    name = args.data
    info = unigen.datasets.info(name)
    x, y = unigen.datasets.as_numpy(name, "train", with_labels=True)
    options = dict(latent_dim=24 if name == "digits" else 32, base_filters=32,
                   embedding_dim=16, ema_decay=0.99)
    # Digits: as first measured (clock from the first step, 447 samples);
    # Fashion-MNIST: the clock starts after the traced first step, 2,000 samples.
    digits = name == "digits"
    limit = _time_limit(args.seconds, warmup_steps=0 if digits else 1)
    epochs = 1000 if digits else -(-20_000 // (len(x) // 64))
    model = unigen.fit(
        lambda: unigen.models.BigGAN(image_shape=info.event_shape, num_levels=info.num_levels,
                                     num_classes=10, **options),
        (x, y), epochs=epochs, batch_size=64, seed=0, verbose=0, callbacks=[limit]).model
    num_samples = 447 if digits else args.samples
    labels = np.arange(num_samples) % 10
    ctx = unigen.evaluation.EvaluationData(name, cache_dir=args.cache, seed=0, verbose=0)
    rows = []
    for t in (0.25, 0.5, 1.0, 1.5, 2.0, None):
        samples = model.sample(num_samples, seed=1, labels=labels, truncation=t).numpy()
        scores = unigen.evaluate(model, ctx,
                                 metrics=["fid", "inception_score", "precision_recall"],
                                 samples=samples)
        row = {"truncation": "none" if t is None else t,
               **{key: float(scores[key].value)
                  for key in ("fid", "inception_score", "precision", "recall")}}
        if not digits:
            row["intra_fid"] = intra_fid(ctx, samples, labels)
        rows.append(row)
        print(row, flush=True)
    prefix = "" if digits else f"{name}_"
    for t in (0.5, None):
        _save_grid(model, f"biggan_{prefix}truncation_{'none' if t is None else t}.png",
                   num_levels=info.num_levels, labels=np.arange(64) % 10, truncation=t)
    _write("truncation" if digits else f"truncation_{name}",
           {"data": name, "budget_seconds": args.seconds, "steps": limit.steps,
            "options": options, "samples": num_samples, "curve": rows})


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
    out = []
    record = read_result("gan_systems_semi")
    if record is not None:
        rows = [[r["seed"], f"{r['semi_supervised_gan']:.1%}",
                 f"{r['classifier_100_labels']:.1%}", r["gan_steps"]] for r in record["runs"]]
        rows.append(["mean", f"{record['mean_semi_supervised_gan']:.1%}",
                     f"{record['mean_classifier_100_labels']:.1%}", ""])
        out.append(_rst(["seed", "semi-supervised GAN", "classifier, 100 labels",
                         "GAN steps"], rows))
    record = read_result("gan_systems_pyramid")
    if record is not None:
        rows = [[name, r["steps"], f"{r['fid']:.1f}", f"{r['precision']:.2f}",
                 f"{r['recall']:.2f}"] for name, r in record["models"].items()]
        out.append(_rst(["model", "steps", "FID", "precision", "recall"], rows))
    record = read_result("gan_systems_pyramid_fashion_mnist")
    if record is not None:
        target = record["fid_target"]

        def reached(seconds):
            return "not reached" if seconds is None else f"{seconds:.0f} s"

        # The target two models reach, and the smallest any model reaches.
        strict = min((t for t in FID_TARGETS if any(
            time_to(r["curve"], t) is not None for r in record["models"].values())),
            default=target)
        targets = [target] + ([strict] if strict != target else [])
        rows = [[name, r["steps"], f"{r['steps'] / r['training_seconds']:.2f}",
                 f"{min(p['fid'] for p in r['curve']):.1f}",
                 *[reached(time_to(r["curve"], t)) for t in targets],
                 f"{r['fid']:.1f}", f"{r['precision']:.2f}", f"{r['recall']:.2f}"]
                for name, r in record["models"].items()]
        out.append(_rst(["model", "steps", "steps/s", "best curve FID",
                         *[f"time to FID <= {t}" for t in targets], "final FID",
                         "precision", "recall"], rows))
    for part in ("truncation", "truncation_fashion_mnist"):
        record = read_result(f"gan_systems_{part}")
        if record is None:
            continue
        intra = "intra_fid" in record["curve"][0]
        rows = [[r["truncation"], f"{r['fid']:.1f}",
                 *([f"{r['intra_fid']:.1f}"] if intra else []),
                 f"{r['inception_score']:.2f}", f"{r['precision']:.2f}",
                 f"{r['recall']:.2f}"] for r in record["curve"]]
        out.append(_rst(["truncation t", "FID", *(["intra-FID"] if intra else []), "IS",
                         "precision", "recall"], rows))
    print("\n\n".join(out))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("part", choices=["semi", "pyramid", "truncation", "table", "figure"])
    parser.add_argument("--seconds", type=float, default=None,
                        help="training budget per model (defaults: 150, 150, 240)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--cache", default=None,
                        help="cache folder of the evaluation feature network")
    parser.add_argument("--data", default="digits", choices=["digits", "fashion_mnist"],
                        help="pyramid, truncation: the dataset")
    parser.add_argument("--every", type=float, default=None,
                        help="pyramid: seconds of training between curve points "
                             "(default: budget / 8)")
    parser.add_argument("--curve-samples", type=int, default=1000,
                        help="pyramid: test images and samples of each curve point")
    parser.add_argument("--train-images", type=int, default=None,
                        help="pyramid: train on the first N training images only")
    parser.add_argument("--samples", type=int, default=2000,
                        help="truncation on fashion_mnist: class-balanced samples per t")
    args = parser.parse_args()
    if args.seconds is None:
        args.seconds = {"semi": 150, "pyramid": 150, "truncation": 240}.get(args.part, 0)
    if args.every is None:
        args.every = args.seconds / 8
    if args.part == "figure":  # redraw the FID-vs-time figure from the JSON
        _curve_figure("pyramid" if args.data == "digits" else f"pyramid_{args.data}")
        return
    {"semi": semi, "pyramid": pyramid, "truncation": truncation, "table": table}[
        args.part](args)


if __name__ == "__main__":
    main()
