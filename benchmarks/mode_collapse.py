"""Mode collapse of GANs on the 8-Gaussian ring and the 25-Gaussian grid.

    python benchmarks/mode_collapse.py [--quick] [--seeds N] [--steps S]
                                       [--datasets ring8 grid25] [--configs ...]

For each dataset (``unigen.datasets.info(name).modes`` and ``mode_std``) and
each setting below, trains an MLPGAN with `unigen.fit`, draws 2,500 samples and
reports, averaged over seeds: modes captured, the share of high-quality samples
(within 3 std of the nearest mode) and the reverse KL between the high-quality
samples' mode histogram and uniform (VEEGAN / PacGAN definitions,
`unigen.models.gan._metrics`). Writes benchmarks/results/mode_collapse.json.

Settings: minimax GAN, non-saturating GAN, WGAN-GP (5 critic steps), hinge with
spectral normalisation, PacGAN (pack=4, non-saturating) and unigen's best
setting (see BEST below: a generative moment-matching network, MMD with
Gaussian kernels from 0.01 to 4, batch 512, weight average 0.99, a 4 x 256
generator; the other settings use 3 x 128 MLPs). Every run
trains with XLA (jit_compile=True) and 50 steps per execution.

Published references (PacGAN, Table 1/2, 10 seeds): GAN 6.3/8 ring and
17.3/25 grid modes; PacGAN4 7.8/8 and 24.8/25.

Full run (10 seeds, 6,000 steps, every setting): about 90 minutes on 2 shared
CPU cores; --quick (2 seeds, 1,500 steps): 4.5 minutes. ``--table`` prints
the docs' table of --out. ``--configs unigen_best --merge``
re-measures one setting and keeps the others already in --out (each entry
keeps the settings it was measured with).
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

NUM_SAMPLES = 2500
BATCH_SIZE = 256
HIDDEN = (128, 128, 128)

# name -> MLPGAN keyword arguments
CONFIGS = {
    "gan_minimax": {"divergence": {"class_name": "JensenShannon",
                                   "config": {"generator_loss": "minimax"}}},
    "gan_non_saturating": {"divergence": "js"},
    "wgan_gp": {"divergence": "wasserstein", "gradient_penalty": 0.1,
                "discriminator_steps": 5},
    "hinge_sn": {"divergence": "hinge", "spectral_norm": True},
    "pacgan4": {"divergence": "js", "pack": 4},
}
BEST = "unigen_best"
# A generative moment-matching network: the generator alone minimises the
# unbiased MMD^2 between a data batch and a generated batch, with Gaussian
# kernels from below the mode width (0.01) to the data's extent (4).
BANDWIDTHS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 4.0]
CONFIGS[BEST] = {"divergence": {"class_name": "MMD", "config": {"bandwidths": BANDWIDTHS}},
                 "ema_decay": 0.99}
LEARNING_RATE = {"default": 1e-3}
BATCH = {BEST: 512}
# The GMMN needs a wider, deeper generator than the adversarial settings:
# at 3 x 128 it keeps every mode but puts only ~88% of samples within 3 std of
# one (ring8, seed 0: 3 x 256 gives 90%, 4 x 256 gives 94%).
HIDDEN_UNITS = {BEST: (256, 256, 256, 256)}
# Training steps per call into the XLA-compiled step: the MLPs are tiny, so
# Python overhead per step would otherwise dominate.
STEPS_PER_EXECUTION = 50


def _batch_size(name):
    return BATCH.get(name, BATCH_SIZE)


def _hidden_units(name):
    return HIDDEN_UNITS.get(name, HIDDEN)


def _learning_rate(name):
    return LEARNING_RATE.get(name, LEARNING_RATE["default"])


def run_one(dataset, name, seed, steps):
    import keras

    import unigen
    from unigen.models.gan import _metrics

    info = unigen.datasets.info(dataset)
    data = unigen.datasets.as_numpy(dataset, "train")
    batch_size = _batch_size(name)
    steps_per_epoch = len(data) // batch_size
    epochs = max(1, round(steps / steps_per_epoch))
    keras.utils.set_random_seed(seed)
    gan = unigen.models.MLPGAN(event_shape=(2,), latent_dim=2, hidden_units=_hidden_units(name),
                               seed=seed, **CONFIGS[name])
    started = time.time()
    unigen.fit(gan, data, epochs=epochs, batch_size=batch_size, seed=seed,
               learning_rate=_learning_rate(name), verbose=0, jit_compile=True,
               steps_per_execution=STEPS_PER_EXECUTION)
    samples = np.asarray(gan.sample(NUM_SAMPLES, seed=10_000 + seed))
    stats = _metrics.mode_statistics(samples, info.modes, info.mode_std)
    stats.update(seconds=time.time() - started, steps=epochs * steps_per_epoch)
    return stats, samples


def summarise(runs):
    keys = ("modes_captured", "high_quality", "reverse_kl")
    out = {k: float(np.mean([r[k] for r in runs])) for k in keys}
    out["modes_captured_std"] = float(np.std([r["modes_captured"] for r in runs]))
    out["all_modes_runs"] = int(sum(r["modes_captured"] == r["num_modes"] for r in runs))
    out["num_runs"] = len(runs)
    return out


def bilinear_game(learning_rate=0.1, steps=100, start=(1.0, 1.0), alternating=False):
    """Gradient play on V(x, y) = x y: x descends, y ascends; returns the path.

    Simultaneous steps multiply the distance to the equilibrium (0, 0) by
    sqrt(1 + learning_rate^2) each time: the iterates spiral outwards.
    Alternating steps (y sees the new x) stay on a bounded orbit.
    """
    x, y = start
    path = [(x, y)]
    for _ in range(steps):
        if alternating:
            x = x - learning_rate * y
            y = y + learning_rate * x
        else:
            x, y = x - learning_rate * y, y + learning_rate * x
        path.append((x, y))
    return np.asarray(path)


def write_figures(samples_npz, directory):
    """The docs' figures: the bilinear game and ring samples per setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import unigen

    os.makedirs(directory, exist_ok=True)
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for alternating, label in ((False, "simultaneous"), (True, "alternating")):
        path = bilinear_game(alternating=alternating)
        ax.plot(path[:, 0], path[:, 1], ".-", ms=2, lw=0.7, label=label)
    ax.plot([0], [0], "r*", ms=10, label="equilibrium (0, 0)")
    ax.set_xlabel("x (minimises x y)")
    ax.set_ylabel("y (maximises x y)")
    ax.set_title("100 gradient steps, learning rate 0.1")
    ax.set_aspect("equal")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(os.path.join(directory, "bilinear_game.png"), dpi=90)
    plt.close(fig)
    if samples_npz is None:
        return
    with np.load(samples_npz) as data:
        samples = {k: data[k] for k in data.files}
    names = [k for k in samples if k.startswith("ring8__")]
    info = unigen.datasets.info("ring8")
    modes = np.asarray(info.modes)
    fig, axes = plt.subplots(1, len(names), figsize=(2.6 * len(names), 2.8))
    for ax, key in zip(np.atleast_1d(axes), names, strict=True):
        draws = samples[key]
        stats = _metrics().mode_statistics(draws, modes, info.mode_std)
        ax.scatter(draws[:, 0], draws[:, 1], s=1, alpha=0.3)
        ax.scatter(modes[:, 0], modes[:, 1], c="red", marker="x", s=15)
        ax.set_xlim(-1.5, 1.5)
        ax.set_ylim(-1.5, 1.5)
        ax.set_aspect("equal")
        ax.set_title(f"{key.split('__')[1]}\n{stats['modes_captured']}/8 modes, "
                     f"{100 * stats['high_quality']:.0f}% HQ", fontsize=8)
        ax.tick_params(labelsize=6)
    fig.tight_layout()
    fig.savefig(os.path.join(directory, "ring_modes.png"), dpi=90)
    plt.close(fig)


LABELS = {
    "gan_minimax": "minimax GAN",
    "gan_non_saturating": "non-saturating GAN",
    "wgan_gp": "WGAN-GP, weight 0.1",
    "hinge_sn": "hinge + spectral norm",
    "pacgan4": "PacGAN, pack=4",
    BEST: "**MMD (GMMN), 4 x 256**",
}


def rst_table(record):
    """The docs' table (reStructuredText) of a mode_collapse.json record."""
    header = ("data", "setting", "modes", "all modes", "HQ %", "HQ % min", "rev. KL")
    rows = []
    for dataset, per in record["results"].items():
        for name in [n for n in LABELS if n in per]:
            entry = per[name]
            s, runs = entry["summary"], entry["runs"]
            rkl = s["reverse_kl"]
            modes = f"{s['modes_captured']:.1f} / {runs[0]['num_modes']}"
            rows.append((dataset, LABELS[name], modes,
                         f"{s['all_modes_runs']} of {s['num_runs']}",
                         f"{100 * s['high_quality']:.1f}",
                         f"{100 * min(r['high_quality'] for r in runs):.1f}",
                         "inf" if rkl is None else f"{rkl:.3f}"))
    widths = [max(len(r[i]) for r in [*rows, header]) for i in range(len(header))]
    rule = "  ".join("=" * w for w in widths)
    line = lambda r: "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()  # noqa: E731
    return "\n".join([rule, line(header), rule, *map(line, rows), rule])


def _metrics():
    from unigen.models.gan import _metrics

    return _metrics


def _finite(value):
    """The record with infinities (no high-quality sample) as None: strict JSON."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value


def _setting(name, seeds, steps, quick):
    """How one (dataset, setting) entry was measured; kept with its results."""
    return {"seeds": seeds, "steps": steps, "batch_size": _batch_size(name),
            "learning_rate": _learning_rate(name), "config": CONFIGS[name],
            "jit_compile": True, "steps_per_execution": STEPS_PER_EXECUTION,
            "num_samples": NUM_SAMPLES, "hidden_units": list(_hidden_units(name)),
            "quick": bool(quick)}


def _write(args, results, complete):
    """Writes the JSON record (after every setting, so a cut-short run keeps its part).

    With ``--merge``, entries of ``--out`` for (dataset, setting) pairs that this
    run did not measure are kept, each with the settings it was measured with.
    """
    from benchmarks import read_result, write_result

    merged = {}
    old = read_result("mode_collapse", args.out) if args.merge else None
    if old is not None:
        for dataset, per in old.get("results", {}).items():
            for name, entry in per.items():
                if "settings" not in entry:  # a record from before per-entry settings
                    entry["settings"] = old.get("settings_" + dataset, old.get("settings"))
                merged.setdefault(dataset, {})[name] = entry
    for dataset, per in results.items():
        merged.setdefault(dataset, {}).update(per)
    record = {
        "best": BEST,
        "complete": complete,
        "reference_pacgan_paper": {"ring8": {"gan": 6.3, "pacgan4": 7.8},
                                   "grid25": {"gan": 17.3, "pacgan4": 24.8}},
        "results": merged,
    }
    write_result("mode_collapse", _finite(record), out=args.out)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 1,500 steps")
    parser.add_argument("--seeds", type=int, default=None)
    parser.add_argument("--steps", type=int, default=None)
    parser.add_argument("--datasets", nargs="+", default=["ring8", "grid25"])
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS))
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/mode_collapse.json)")
    parser.add_argument("--learning-rate", type=float, default=None,
                        help="Adam learning rate of every setting (default 1e-3)")
    parser.add_argument("--merge", action="store_true",
                        help="keep the results already in --out for (dataset, setting) "
                             "pairs this run does not measure")
    parser.add_argument("--samples-out", default=None,
                        help="also save the samples of seed 0 (.npz) for plots")
    parser.add_argument("--table", action="store_true",
                        help="only print the docs' table of --out (reStructuredText), and exit")
    parser.add_argument("--figures", default=None, metavar="SAMPLES_NPZ",
                        help="only write the docs' figures (docs/_static/gan) from "
                             "samples saved with --samples-out, and exit")
    args = parser.parse_args()
    if args.table:
        from benchmarks import read_result

        print(rst_table(read_result("mode_collapse", args.out)))
        return
    if args.figures:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        write_figures(args.figures, os.path.join(root, "docs", "_static", "gan"))
        return
    if args.learning_rate:
        LEARNING_RATE["default"] = args.learning_rate
    seeds = args.seeds or (2 if args.quick else 10)
    steps = args.steps or (1500 if args.quick else 6000)

    results, samples = {}, {}
    for dataset in args.datasets:
        for name in args.configs:
            runs = []
            for seed in range(seeds):
                stats, draws = run_one(dataset, name, seed, steps)
                runs.append(stats)
                if seed == 0:
                    samples[f"{dataset}/{name}"] = draws
                print(f"{dataset:7s} {name:20s} seed {seed}: {stats['modes_captured']:2d}/"
                      f"{stats['num_modes']} modes, {100 * stats['high_quality']:5.1f}% HQ, "
                      f"rKL {stats['reverse_kl']:.3f} ({stats['seconds']:.0f} s)", flush=True)
            results.setdefault(dataset, {})[name] = {
                "summary": summarise(runs), "runs": runs,
                "settings": _setting(name, seeds, steps, args.quick)}
            _write(args, results, complete=False)

    print(f"\n{'dataset':8s} {'setting':20s} {'modes':>12s} {'all modes':>10s} "
          f"{'HQ %':>6s} {'rKL':>6s}")
    for dataset, per in results.items():
        for name, res in per.items():
            s = res["summary"]
            captured = f"{s['modes_captured']:6.2f}+-{s['modes_captured_std']:.2f}"
            print(f"{dataset:8s} {name:20s} {captured}"
                  f" {s['all_modes_runs']:>5d}/{s['num_runs']:<4d} {100 * s['high_quality']:6.1f}"
                  f" {s['reverse_kl']:6.3f}")
    _write(args, results, complete=True)
    if args.samples_out:
        np.savez(args.samples_out, **{k.replace("/", "__"): v for k, v in samples.items()})


if __name__ == "__main__":
    main()
