"""Training speed: unigen's Glow vs TFP's ``tfb.Glow`` at the same depth and width.

    python benchmarks/flows_speed.py [--quick]

The measurement lives in `benchmarks.speed.glow_vs_tfp`, which the speed
suite (``python -m benchmarks speed``) runs too; this script keeps the 28x28
figure on its own.

Both models train with the same hand-written loop (a ``tf.function`` step:
GradientTape on the mean NLL of uniformly dequantized images, Adam), on the
same batches of Fashion-MNIST-shaped data (28x28x1, 256 levels): ``levels`` x
``steps_per_level`` steps of ActNorm, invertible 1x1 convolution and affine
coupling (conv3x3-relu-conv1x1-relu-conv3x3, ``hidden`` channels). TFP's Glow is
built with ``coupling_bijector_fn=GlowDefaultNetwork(num_hidden=hidden)`` (its
networks are tf_keras objects, trained through ``glow.trainable_variables``).
Timed per step after tracing, in interleaved rounds with an A/A control and
the matmul peak once per round (`benchmarks.speed.steps`); unigen's Glow as it
was before issue #18 runs beside them.

Also holds `fashion_quality`, the Fashion-MNIST part of flows_quality.py: the
two models trained with the same budget, compared on test bits/dim.

Writes benchmarks/results/flows_speed.json.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import tensorflow as tf

import unigen
from benchmarks import write_result
from benchmarks.speed import glow_vs_tfp


def speed(quick, batch=64):
    """unigen Glow vs tfb.Glow per step at 28x28 (see benchmarks.speed.glow_vs_tfp)."""
    rounds, per_round = (6, 4) if quick else (20, 6)
    return glow_vs_tfp.run((28, 28, 1), 2, 4, 64, batch, num_levels=256, rounds=rounds,
                           steps_per_round=per_round)


def fashion_quality(quick, num_steps=None, repeats=None):
    """unigen Glow vs tfb.Glow on Fashion-MNIST, same loop, batches and budget.

    Repeat r seeds the initial weights of both models with r (unigen's through
    ``Glow(seed=r)``, TFP's tf_keras initialisers through
    ``keras.utils.set_random_seed(r)``) and trains both on the same batches and
    dequantization noise;
    test bits/dim use one noise draw. Returns the per-repeat figures with
    `summarise_fashion`'s mean, std and median per model and unigen's wins.
    """
    import keras

    train = unigen.datasets.as_numpy("fashion_mnist", "train")
    test = unigen.datasets.as_numpy("fashion_mnist", "test")
    train_size, batch = (1000, 32) if quick else (10_000, 64)
    num_steps = num_steps or (20 if quick else 1000)
    repeats = repeats or (1 if quick else 5)
    test = test[:500 if quick else 2000]
    train = train[:train_size].astype("float32")
    levels, steps, hidden = 2, 4, 64
    result = {"train_examples": train_size, "test_examples": len(test), "steps": num_steps,
              "batch_size": batch, "levels": levels, "steps_per_level": steps,
              "hidden": hidden, "learning_rate": 1e-3, "repeats": repeats,
              "note": "reduced budget for a shared 2-core CPU; one noise draw at test; "
                      "repeat r seeds both models' initial weights with r",
              "runs": []}
    for repeat in range(repeats):
        keras.utils.set_random_seed(repeat)
        fns = glow_vs_tfp.pair((28, 28, 1), levels, steps, hidden, 256, train[:batch],
                              seed=repeat)
        rng = np.random.default_rng(repeat)
        batches = [rng.integers(0, train_size, batch) for _ in range(num_steps)]
        run = {"seed": repeat}
        for name, (step, evaluate, _) in fns.items():
            start = time.time()
            for i, idx in enumerate(batches):
                step(train[idx], tf.constant([repeat, i]))
            bpd = np.concatenate([evaluate(test[i:i + 250]).numpy()
                                  for i in range(0, len(test), 250)])
            run[name] = {"test_bits_per_dim": float(np.mean(bpd)),
                         "train_seconds": time.time() - start}
        print(f"fashion repeat {repeat}: unigen {run['unigen']['test_bits_per_dim']:.3f}, "
              f"tfb.Glow {run['tfp']['test_bits_per_dim']:.3f} bits/dim", flush=True)
        result["runs"].append(run)
    return summarise_fashion(result)


def summarise_fashion(result):
    """Adds the mean, std and median over repeats of each model, and unigen's wins."""
    for name in ("unigen", "tfp"):
        values = [r[name]["test_bits_per_dim"] for r in result["runs"]]
        result[name] = {"test_bits_per_dim": float(np.mean(values)),
                        "test_bits_per_dim_std": float(np.std(values)),
                        "test_bits_per_dim_median": float(np.median(values)),
                        "train_seconds": float(np.mean(
                            [r[name]["train_seconds"] for r in result["runs"]]))}
    result["unigen_wins"] = int(sum(r["unigen"]["test_bits_per_dim"] < r["tfp"]["test_bits_per_dim"]
                                    for r in result["runs"]))
    return result


def main():
    from benchmarks.speed.report import _glow_table

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/flows_speed.json)")
    args = parser.parse_args()
    started = time.time()
    load_start = list(os.getloadavg())
    result = speed(args.quick, args.batch)
    result["quick"] = args.quick
    result["command"] = "python benchmarks/flows_speed.py " + " ".join(sys.argv[1:])
    result["machine"] = {"description": "shared 2-core CPU, no GPU",
                         "load_average_start": load_start,
                         "load_average_end": list(os.getloadavg())}
    result["seconds"] = time.time() - started
    print("\n".join(_glow_table(result)))
    write_result("flows_speed", result, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
