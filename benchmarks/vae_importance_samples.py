"""How many importance samples ``VAE.log_prob`` needs: estimate, error and time against K.

    python benchmarks/vae_importance_samples.py [--epochs 30]

Trains the VAE that ``unigen compare`` trains on digits (``unigen.models.create("vae")``
with the dataset's 17 levels, 30 epochs, batch 64, Adam 1e-3, seed 0), then on the
447 test digits computes, for K = 1, 10, 100, 1000, the importance-weighted
estimate log (1/K) sum_k w_k (`VAE.log_importance_weights`, seed 0), its Monte
Carlo standard error (`unigen.evaluation._likelihood.importance_estimate`: per
example std(w) / (sqrt(K) mean(w)), and of the mean over the test set), the mean
effective sample size and the seconds it took. Writes
``benchmarks/results/vae_importance_samples.json``. About a minute on 2 CPU cores.
"""

import argparse
import json
import os
import sys
import time

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30)
    args = parser.parse_args(argv)

    import unigen
    from benchmarks import write_result
    from unigen.evaluation._likelihood import importance_estimate

    info = unigen.datasets.info("digits")
    vae = unigen.models.create("vae", event_shape=info.event_shape,
                               num_levels=info.num_levels)
    start = time.perf_counter()
    unigen.fit(vae, "digits", epochs=args.epochs, batch_size=64, seed=0, verbose=0)
    train_seconds = time.perf_counter() - start
    test = unigen.datasets.as_numpy("digits", "test")
    rows = []
    for k in (1, 10, 100, 1000):
        vae.log_importance_weights(test[:2], num_samples=k, seed=0)  # trace first
        start = time.perf_counter()
        log_w = vae.log_importance_weights(test, num_samples=k, seed=0).numpy()
        seconds = time.perf_counter() - start
        log_p, stderr, ess = importance_estimate(log_w)
        rows.append({"K": k, "nll": float(-log_p.mean()),
                     "stderr_of_mean": float(np.sqrt(np.sum(stderr ** 2)) / len(stderr))
                     if k > 1 else None,
                     "stderr_per_example_rms": float(np.sqrt(np.mean(stderr ** 2)))
                     if k > 1 else None,
                     "effective_sample_size": float(ess.mean()), "seconds": seconds})
        print(json.dumps(rows[-1]), flush=True)
    result = {"model": "unigen.models.create('vae') on digits (17 levels)",
              "epochs": args.epochs, "train_seconds": train_seconds,
              "test_examples": len(test), "rows": rows}
    write_result("vae_importance_samples", result)


if __name__ == "__main__":
    main()
