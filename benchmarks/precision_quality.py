"""What 16-bit networks cost in likelihood: float32 against a mixed policy, several seeds.

    python benchmarks/precision_quality.py [--policy mixed_bfloat16] [--seeds 3] [--epochs 1]
                                           [--data fashion_mnist] [--eval 2000] [--models glow,vae]

The speed suite's ``precision`` section (`benchmarks.speed.precision`) measures
the speed of ``mixed_bfloat16`` and one seed's bits/dim after a few hundred
steps. This script answers the quality question with enough seeds to see the
noise: Glow (28x28x1, 2 levels x 4 steps, 64 hidden channels) and the VAE
(latent 16), each trained by ``unigen.fit`` on Fashion-MNIST for ``--epochs``
at batch 64, in float32 and in the policy, from the same seeds (the same
initial weights, noise and data order: a paired design), then scored on the
first ``--eval`` test images (mean bits/dim; the VAE with its default
importance-sampled estimate).

Reports per model: the mean bits/dim of each precision, the mean paired
difference (policy - float32) with its standard error over the seeds, and the
seed-to-seed standard deviation of float32, so a difference can be read
against both. Writes benchmarks/results/precision_quality.json.
"""

import argparse
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np

MODELS = ("glow", "vae")


def _factory(name, seed, info):
    import unigen

    shape, levels = info.event_shape, info.num_levels
    if name == "glow":
        return lambda: unigen.models.Glow(image_shape=shape, num_levels=levels, levels=2,
                                          steps_per_level=4, hidden_channels=64, seed=seed)
    return lambda: unigen.models.VAE(input_shape=shape, num_levels=levels, latent_dim=16,
                                     seed=seed)


def _score(model, test):
    return float(np.mean(np.concatenate([model.bits_per_dim(test[i:i + 250]).numpy()
                                         for i in range(0, len(test), 250)])))


def run(policy="mixed_bfloat16", seeds=3, epochs=1, eval_examples=2000, models=MODELS,
        data="fashion_mnist"):
    import unigen

    info = unigen.datasets.info(data)
    train = unigen.datasets.as_numpy(data, "train")
    test = unigen.datasets.as_numpy(data, "test")[:eval_examples]
    out = {"policy": policy, "data": data, "seeds": list(range(seeds)), "epochs": epochs,
           "batch_size": 64, "train_examples": len(train), "eval_examples": len(test),
           "models": {}}
    for name in models:
        runs = {"float32": [], policy: []}
        seconds = {"float32": [], policy: []}
        for seed in range(seeds):
            for precision in ("float32", policy):
                started = time.perf_counter()
                history = unigen.fit(_factory(name, seed, info), train, epochs=epochs,
                                     batch_size=64, seed=seed, verbose=0, sample_every_epoch=0,
                                     mixed_precision=None if precision == "float32"
                                     else precision)
                seconds[precision].append(time.perf_counter() - started)
                runs[precision].append(_score(history.model, test))
                print(f"{name} seed {seed} {precision}: {runs[precision][-1]:.4f} bits/dim, "
                      f"{seconds[precision][-1]:.0f} s", flush=True)
        diffs = [b - a for a, b in zip(runs["float32"], runs[policy], strict=True)]
        entry = {"test_bits_per_dim": runs, "train_seconds": seconds,
                 "mean": {k: statistics.mean(v) for k, v in runs.items()},
                 "paired_difference": diffs,
                 "mean_difference": statistics.mean(diffs)}
        if seeds > 1:
            entry["difference_standard_error"] = statistics.stdev(diffs) / math.sqrt(seeds)
            entry["float32_seed_std"] = statistics.stdev(runs["float32"])
        entry["train_time_ratio"] = statistics.mean(seconds["float32"]) / statistics.mean(
            seconds[policy])
        out["models"][name] = entry
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--policy", default="mixed_bfloat16",
                        choices=["mixed_bfloat16", "mixed_float16"])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--eval", type=int, default=2000, help="test images scored")
    parser.add_argument("--models", default=",".join(MODELS))
    parser.add_argument("--data", default="fashion_mnist",
                        help="a unigen image dataset (digits for a fast check)")
    parser.add_argument("--out", default=None, help="JSON file or folder")
    args = parser.parse_args()
    if args.seeds < 1 or args.epochs < 1 or args.eval < 1:
        parser.error("--seeds, --epochs and --eval must be positive")
    load_start = list(os.getloadavg())
    started = time.perf_counter()
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not models or set(models) - set(MODELS):
        parser.error(f"--models: choose from {','.join(MODELS)}, got {args.models!r}")
    result = run(args.policy, args.seeds, args.epochs, args.eval, models, args.data)
    result["seconds"] = time.perf_counter() - started
    for name, e in result["models"].items():
        se = e.get("difference_standard_error")
        print(f"{name}: float32 {e['mean']['float32']:.4f}, {args.policy} "
              f"{e['mean'][args.policy]:.4f} bits/dim; paired difference "
              f"{e['mean_difference']:+.4f}" + (f" +- {se:.4f} (SE over {args.seeds} seeds; "
                                                f"float32 seed std "
                                                f"{e['float32_seed_std']:.4f})" if se else "")
              + f"; training time float32 / {args.policy}: {e['train_time_ratio']:.2f}x")
    from benchmarks import write_result

    write_result("precision_quality", result, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
