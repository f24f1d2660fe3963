"""VAE likelihood on digits and Fashion-MNIST, in nats per image (IWAE k=1000).

    python benchmarks/vae_quality.py [--quick] [--skip-fashion]
        [--fashion-train N] [--fashion-epochs E] [--fashion-test N] [--fashion-k K]

Digits (8x8, 17 levels; train 1,000 / validation 350 / test 447): a VAE with
the default convolutional networks and a categorical likelihood over the 17
levels (an exact probability mass, so the numbers are comparable with other
families), trained with `unigen.fit`, early-stopped on the validation ELBO;
reports the test ELBO and the importance-weighted estimate of -log p(x) with
k = 1,000 samples (a stochastic lower bound on log p(x) in expectation, so an
upper bound on the NLL). References on the same split: independent pixels
106.3, mixture of 40 categoricals 100.0, autoregressive logistic regression
about 91 to 93 nats; target <= 95.

Fashion-MNIST (28x28, 256 levels): discretised-logistic likelihood, latent 32.
The full budget (all 55,000 images, tens of epochs, k = 1,000 on 10,000 test
images) is far beyond a shared 2-core CPU; the defaults train on a subset for
a few epochs and evaluate a subset with smaller k, and the JSON records exactly
what ran. Also writes a sample grid to docs/_static/vae/fashion_samples.png and
digits grids to docs/_static/vae/.

Writes benchmarks/results/vae_quality.json. Time: about 10 minutes with the
defaults on 2 shared CPU cores (--quick: about 2 minutes).
"""

import argparse
import math
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
STATIC = os.path.join(ROOT, "docs", "_static", "vae")


def _iw_nll(model, x, k, seed=0):
    lp = model.log_prob(x, num_samples=k, seed=seed).numpy()
    return float(-lp.mean()), float(lp.std() / math.sqrt(len(lp)))


def _bound_sweep(vae, test, k_max):
    """-IWAE_k on the test set for k = 1, 10, ..., k_max, and a figure of it."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ks = [k for k in (1, 3, 10, 30, 100, 300, 1000) if k <= k_max]
    values = [_iw_nll(vae, test, k, seed=10 + i)[0] for i, k in enumerate(ks)]
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    ax.semilogx(ks, values, "o-", label="-IWAE_k (test)")
    for name, ref in (("independent pixels", 106.3), ("mixture of 40 categoricals", 100.0)):
        ax.axhline(ref, ls="--", lw=0.8, c="0.5")
        ax.text(ks[0], ref + 0.3, name, fontsize=7, color="0.4")
    ax.set_xlabel("importance samples k")
    ax.set_ylabel("nats per image")
    ax.set_title("Digits: the bound tightens with k (k=1: ELBO)", fontsize=9)
    fig.tight_layout()
    fig.savefig(os.path.join(STATIC, "iwae_gap.png"), dpi=120)
    plt.close(fig)
    return {str(k): round(v, 2) for k, v in zip(ks, values, strict=True)}


def digits(args):
    import keras

    import unigen
    from unigen.images import save_grid

    keras.utils.set_random_seed(0)
    vae = unigen.models.VAE(input_shape=(8, 8, 1), latent_dim=args.digits_latent,
                            num_levels=17, likelihood="categorical", seed=0)
    stop = keras.callbacks.EarlyStopping("val_loss", patience=args.patience,
                                         restore_best_weights=True)
    start = time.time()
    history = unigen.fit(vae, "digits", epochs=args.digits_epochs, batch_size=100, seed=0,
                         learning_rate=2e-3, validation_data="digits", callbacks=[stop],
                         verbose=0)
    train_time = time.time() - start
    epochs_run = len(history.history["loss"])
    test = unigen.datasets.as_numpy("digits", "test")
    start = time.time()
    nll, se = _iw_nll(vae, test, args.k)
    eval_time = time.time() - start
    elbo = float(-vae.elbo(test, num_samples=10, seed=1).numpy().mean())
    sweep = _bound_sweep(vae, test, args.k)
    save_grid(os.path.join(STATIC, "digits_samples.png"), vae.sample(64, seed=0).numpy(),
              num_levels=17)
    save_grid(os.path.join(STATIC, "digits_means.png"),
              vae.decode(np.random.RandomState(0).normal(size=(64, args.digits_latent))
                         .astype("float32")).numpy(), num_levels=17)
    return {"dataset": "digits", "split": "test (447 images)", "latent_dim": args.digits_latent,
            "likelihood": "categorical over 17 levels", "epochs_run": epochs_run,
            "early_stopping_patience": args.patience, "train_seconds": round(train_time, 1),
            "seconds_per_epoch": round(train_time / epochs_run, 2),
            "iw_samples": args.k, "test_nll_nats_iw": round(nll, 2),
            "test_nll_stderr": round(se, 2), "test_negative_elbo_nats": round(elbo, 2),
            "eval_seconds": round(eval_time, 1), "negative_iwae_by_k": sweep,
            "references_nats": {"independent_pixels": 106.3, "mixture_40_categoricals": 100.0,
                                "autoregressive_logistic_regression": "91-93",
                                "target": 95.0}}


def fashion(args):
    import keras
    import tensorflow as tf

    import unigen
    from unigen.images import save_grid

    keras.utils.set_random_seed(0)
    train = unigen.datasets.as_numpy("fashion_mnist", "train")[:args.fashion_train]
    test = unigen.datasets.as_numpy("fashion_mnist", "test")[:args.fashion_test]
    vae = unigen.models.VAE(input_shape=(28, 28, 1), latent_dim=32, num_levels=256,
                            likelihood="logistic", seed=0)
    start = time.time()
    history = unigen.fit(vae, train, epochs=args.fashion_epochs, batch_size=128, seed=0,
                         learning_rate=1e-3, verbose=0)
    train_time = time.time() - start
    start = time.time()
    nll, se = _iw_nll(vae, test, args.fashion_k)
    eval_time = time.time() - start
    elbo = float(-vae.elbo(test, seed=1).numpy().mean())
    save_grid(os.path.join(STATIC, "fashion_samples.png"), vae.sample(64, seed=0).numpy(),
              num_levels=256)
    z = tf.random.stateless_normal((64, 32), seed=(0, 0))
    save_grid(os.path.join(STATIC, "fashion_means.png"), vae.decode(z).numpy(),
              num_levels=256)
    bits = nll / (784 * math.log(2.0))
    return {"dataset": "fashion_mnist", "reduced_budget": True,
            "train_images": len(train), "epochs": args.fashion_epochs,
            "test_images": len(test), "iw_samples": args.fashion_k,
            "likelihood": "discretised logistic over 256 levels", "latent_dim": 32,
            "train_seconds": round(train_time, 1),
            "seconds_per_epoch_on_subset": round(train_time / args.fashion_epochs, 1),
            "estimated_seconds_per_full_epoch_55000": round(
                train_time / args.fashion_epochs * 55000 / len(train), 0),
            "final_train_loss": round(float(history.history["loss"][-1]), 2),
            "test_nll_nats_iw": round(nll, 1), "test_nll_stderr": round(se, 1),
            "test_bits_per_dim_iw": round(bits, 3),
            "test_negative_elbo_nats": round(elbo, 1), "eval_seconds": round(eval_time, 1)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--skip-fashion", action="store_true")
    parser.add_argument("--k", type=int, default=1000)
    parser.add_argument("--digits-latent", type=int, default=8)
    parser.add_argument("--digits-epochs", type=int, default=200)
    parser.add_argument("--patience", type=int, default=15)
    parser.add_argument("--fashion-train", type=int, default=10000)
    parser.add_argument("--fashion-epochs", type=int, default=3)
    parser.add_argument("--fashion-test", type=int, default=500)
    parser.add_argument("--fashion-k", type=int, default=100)
    args = parser.parse_args()
    if args.quick:
        args.k, args.digits_epochs, args.patience = 100, 30, 5
        args.fashion_train, args.fashion_epochs, args.fashion_test = 2000, 1, 100
        args.fashion_k = 10

    results = {"command": " ".join(["python", "benchmarks/vae_quality.py", *sys.argv[1:]]),
               "machine": "2 shared CPU cores, no GPU", "quick": args.quick}
    results["digits"] = digits(args)
    print(f"digits: test NLL (IWAE k={args.k}) {results['digits']['test_nll_nats_iw']:.2f} "
          f"+- {results['digits']['test_nll_stderr']:.2f} nats, -ELBO "
          f"{results['digits']['test_negative_elbo_nats']:.2f}, "
          f"{results['digits']['epochs_run']} epochs", flush=True)
    if not args.skip_fashion:
        try:
            results["fashion_mnist"] = fashion(args)
        except FileNotFoundError as err:
            results["fashion_mnist"] = {"skipped": str(err)}
    from benchmarks import write_result

    # --skip-fashion keeps the Fashion-MNIST entry already in the file.
    write_result("vae_quality", results, merge=args.skip_fashion)
    print(f"{'dataset':<15}{'NLL (nats)':>12}{'-ELBO':>10}{'k':>7}{'s/epoch':>10}")
    for key in ("digits", "fashion_mnist"):
        r = results.get(key)
        if r and "test_nll_nats_iw" in r:
            per_epoch = r.get("seconds_per_epoch", r.get("seconds_per_epoch_on_subset"))
            print(f"{key:<15}{r['test_nll_nats_iw']:>12}{r['test_negative_elbo_nats']:>10}"
                  f"{r['iw_samples']:>7}{per_epoch:>10}")


if __name__ == "__main__":
    main()
