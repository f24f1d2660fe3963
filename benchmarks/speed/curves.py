"""Cost curves: steps/s and images/s against batch size and image size, per family.

For each of the DCGAN, the conv VAE and Glow (the suite's widths, see
`benchmarks.speed.configs`), the model is compiled as `unigen.fit` compiles
it (``compile_for_fit``, Adam 1e-3, no XLA) and Keras's own training function
(``model.make_train_function()``) runs on a repeating in-memory dataset of
uint8 levels:

* against batch size 32, 64, 128, 256, 512 at 28x28x1;
* against image size 8x8x1, 28x28x1, 32x32x3 at batch 64.

Per point: the first call (tracing) timed apart, one warm-up step, then
``steps`` steps each timed on its own; the rate is 1 / the median step. The
float32 matmul peak is probed after every point and the load average
recorded; the plot draws the achieved GFLOP/s of each point (FLOPs of its
step from the graph profiler) under the median peak. Points are measured one
after the other (not interleaved): read the curves' shapes, not 5 % gaps.
"""

import os
import statistics
import time

import numpy as np
import tensorflow as tf

__all__ = ["BATCHES", "SHAPES", "plot", "run"]

BATCHES = (32, 64, 128, 256, 512)
SHAPES = ((8, 8, 1), (28, 28, 1), (32, 32, 3))


def _point(family, shape, batch, steps, widths):
    import keras

    from benchmarks.speed import configs
    from benchmarks.speed.flops import train_step_flops

    cfg = dict(widths, shape=tuple(shape), levels=17 if shape[0] == 8 else 256)
    keras.utils.set_random_seed(0)
    model = configs.factory(family, cfg)()
    rng = np.random.default_rng(0)
    x = rng.integers(0, cfg["levels"], size=(batch * 4, *shape), dtype=np.uint8)
    if family == "glow":
        model.data_dependent_init(tf.cast(x[:batch], "float32"))
    model.compile_for_fit(learning_rate=1e-3)
    data = tf.data.Dataset.from_tensor_slices(tf.cast(x, "float32")).batch(
        batch, drop_remainder=True).repeat()
    iterator = iter(data)
    model.make_train_function()
    train = model.train_function
    start = time.perf_counter()
    logs = train(iterator)
    float(logs["loss"])
    trace = time.perf_counter() - start
    float(train(iterator)["loss"])
    seconds = []
    for _ in range(steps):
        start = time.perf_counter()
        float(train(iterator)["loss"])
        seconds.append(time.perf_counter() - start)
    step = statistics.median(seconds)
    flops = train_step_flops(model, np.zeros((batch, *shape), "float32"))
    return {"family": family, "shape": list(shape), "batch": batch, "trace_seconds": trace,
            "step_seconds": seconds, "steps_per_second": 1.0 / step,
            "images_per_second": batch / step, "gflops_per_step": flops / 1e9,
            "gflops_per_second": flops / step / 1e9, "load_average": os.getloadavg()[0]}


def run(cfg, families=("dcgan", "vae", "glow"), batches=BATCHES, shapes=SHAPES, steps=5,
        device="cpu"):
    """Every point of both curves for each family, and the peak probed between points."""
    from benchmarks.speed.flops import peak_probe

    widths = {k: cfg[k] for k in ("filters", "latent", "glow")}
    probe = peak_probe(n=512 if cfg["mode"] == "smoke" else 2048, device=device)
    points, peaks = [], []
    grid = [((28, 28, 1), b) for b in batches] + [(s, 64) for s in shapes if s != (28, 28, 1)]
    for family in families:
        for shape, batch in grid:
            try:
                points.append(_point(family, shape, batch, steps, widths))
            except Exception as err:  # recorded, not hidden (e.g. out of memory)
                points.append({"family": family, "shape": list(shape), "batch": batch,
                               "error": f"{type(err).__name__}: {str(err)[:200]}"})
            peaks.append(probe())
    return {"points": points, "peak_gflops": peaks,
            "peak_gflops_median": statistics.median(peaks), "steps": steps}


def plot(curves, path):
    """Writes the two panels (images/s vs batch, GFLOP/s vs batch with the peak) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = [p for p in curves["points"] if "error" not in p]
    fig, axes = plt.subplots(1, 3, figsize=(13, 3.8))
    for family in sorted({p["family"] for p in ok}):
        line = sorted((p for p in ok if p["family"] == family and p["shape"] == [28, 28, 1]),
                      key=lambda p: p["batch"])
        b = [p["batch"] for p in line]
        axes[0].plot(b, [p["images_per_second"] for p in line], "o-", label=family)
        axes[1].plot(b, [p["gflops_per_second"] for p in line], "o-", label=family)
        sizes = sorted((p for p in ok if p["family"] == family and p["batch"] == 64),
                       key=lambda p: int(np.prod(p["shape"])))
        axes[2].plot(["x".join(map(str, p["shape"])) for p in sizes],
                     [p["images_per_second"] for p in sizes], "o-", label=family)
    axes[1].axhline(curves["peak_gflops_median"], color="k", ls="--",
                    label=f"matmul peak {curves['peak_gflops_median']:.0f}")
    for i, (ax, (xlabel, ylabel)) in enumerate(zip(
            axes, (("batch (28x28x1)", "images/s"), ("batch (28x28x1)", "GFLOP/s achieved"),
                   ("image size (batch 64)", "images/s")), strict=True)):
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=8)
        if i < 2:
            ax.set_xscale("log", base=2)
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)
