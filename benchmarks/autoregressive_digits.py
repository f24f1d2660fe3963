"""Autoregressive models on digits: exact test NLL (nats per image) and sampling time.

    python benchmarks/autoregressive_digits.py [--quick] [--models pixelcnn made]
        [--epochs N] [--patience P]

Trains a gated `unigen.models.PixelCNN` and a `unigen.models.CategoricalMADE`
on the digits training split (1,000 images, 8x8, 17 levels; the split
``unigen compare`` uses), early-stopped on the validation split (350 images,
best weights restored), and reports on the test split (447 images) the exact
negative log-likelihood in nats per image, the time to draw one image (64
network passes, one compiled loop, batch of 64 after a warm-up call) and the
training time, beside the sampling time per image of the other families
(Gaussian, Glow, VAE, GAN with the registry's defaults; sampling cost does not
depend on training). References on the same split: uniform 181.3, independent pixels
106.3, autoregressive logistic regression about 91, VAE (IWAE k=1000) 87.3;
PixelCNN target <= 80.

Writes benchmarks/results/autoregressive_digits.json and a PixelCNN sample grid
to docs/_static/autoregressive/pixelcnn_digits_samples.png (with a
temperature-0.8 grid beside it). Time: 4 to 7 minutes on 2 shared CPU cores,
depending on their load (--quick: about 1 minute).
"""

import argparse
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
STATIC = os.path.join(ROOT, "docs", "_static", "autoregressive")

SETTINGS = {
    "pixelcnn": {"options": {"filters": 64, "num_blocks": 5, "head_units": 128, "dropout": 0.5},
                 "learning_rate": 2e-3},
    "made": {"options": {"hidden_units": (512, 512)}, "learning_rate": 1e-3},
}
REFERENCES = {"uniform": 181.3, "independent_pixels": 106.3,
              "autoregressive_logistic_regression": 91.0, "vae_iwae_k1000": 87.3,
              "pixelcnn_target": 80.0}


def _sampling_seconds_per_image(model, batch=64, repeats=2):
    model.sample(batch, seed=0)  # traces and compiles the loop
    best = float("inf")
    for r in range(repeats):
        start = time.perf_counter()
        np.asarray(model.sample(batch, seed=r + 1))
        best = min(best, time.perf_counter() - start)
    return best / batch


def other_families():
    """Sampling time per image of the other registered families on digits, side by side.

    Sampling cost does not depend on the weights, so the models are built with the
    registry's defaults and ``unigen compare``'s image options, untrained.
    """
    import unigen

    seconds = {}
    for name in ("gaussian", "glow", "vae", "gan"):
        options = unigen.models.recipe(name).image_options
        model = unigen.models.create(name, event_shape=(8, 8, 1), num_levels=17, seed=0,
                                     **options)
        seconds[name] = round(_sampling_seconds_per_image(model), 6)
    return seconds


def run(name, args):
    import keras

    import unigen
    from unigen.images import save_grid

    settings = SETTINGS[name]
    model = unigen.models.create(name, event_shape=(8, 8, 1), num_levels=17, seed=0,
                                 **settings["options"])
    stop = keras.callbacks.EarlyStopping("val_loss", patience=args.patience,
                                         restore_best_weights=True)
    start = time.perf_counter()
    history = unigen.fit(model, "digits", epochs=args.epochs, batch_size=64, seed=0,
                         learning_rate=settings["learning_rate"], validation_data="digits",
                         callbacks=[stop], verbose=0)
    train_seconds = time.perf_counter() - start
    test = unigen.datasets.as_numpy("digits", "test")
    validation = unigen.datasets.as_numpy("digits", "validation")
    nll = -np.asarray(model.log_prob(test))
    val_nll = float(-np.mean(np.asarray(model.log_prob(validation))))
    per_image = _sampling_seconds_per_image(model)
    os.makedirs(STATIC, exist_ok=True)
    if name == "pixelcnn" and not args.quick:
        save_grid(os.path.join(STATIC, "pixelcnn_digits_samples.png"),
                  np.asarray(model.sample(64, seed=0)), num_levels=17)
        save_grid(os.path.join(STATIC, "pixelcnn_digits_samples_t08.png"),
                  np.asarray(model.sample(64, seed=0, temperature=0.8)), num_levels=17)
    epochs_run = len(history.history["loss"])
    return {"model": type(model).__name__, "options": {k: list(v) if isinstance(v, tuple)
                                                       else v for k, v in
                                                       settings["options"].items()},
            "parameters": int(sum(np.prod(w.shape) for w in model.trainable_weights)),
            "learning_rate": settings["learning_rate"], "batch_size": 64,
            "epochs_run": epochs_run, "early_stopping_patience": args.patience,
            "train_seconds": round(train_seconds, 1),
            "seconds_per_epoch": round(train_seconds / epochs_run, 2),
            "test_nll_nats": round(float(nll.mean()), 2),
            "test_nll_stderr": round(float(nll.std() / np.sqrt(len(nll))), 2),
            "test_bits_per_dim": round(float(nll.mean() / (64 * np.log(2.0))), 3),
            "validation_nll_nats": round(val_nll, 2),
            "sampling_seconds_per_image": round(per_image, 5),
            "estimator": "exact"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", default=["pixelcnn", "made"],
                        choices=sorted(SETTINGS))
    parser.add_argument("--epochs", type=int, default=150)
    parser.add_argument("--patience", type=int, default=10)
    args = parser.parse_args()
    if args.quick:
        args.epochs, args.patience = 3, 2
    results = {"command": " ".join(["python", "benchmarks/autoregressive_digits.py",
                                    *sys.argv[1:]]),
               "machine": "2 shared CPU cores, no GPU", "quick": args.quick,
               "split": "digits train 1000 / validation 350 / test 447",
               "references_nats": REFERENCES}
    for name in args.models:
        results[name] = run(name, args)
        r = results[name]
        print(f"{name}: test NLL {r['test_nll_nats']:.2f} +- {r['test_nll_stderr']:.2f} nats "
              f"({r['test_bits_per_dim']} bits/dim), {r['epochs_run']} epochs in "
              f"{r['train_seconds']:.0f} s, sampling {1000 * r['sampling_seconds_per_image']:.1f}"
              f" ms/image", flush=True)
    results["sampling_seconds_per_image_other_families"] = other_families()
    print("sampling, seconds per image (batch of 64):",
          results["sampling_seconds_per_image_other_families"], flush=True)
    if not args.quick:
        from benchmarks import write_result

        write_result("autoregressive_digits", results)


if __name__ == "__main__":
    main()
