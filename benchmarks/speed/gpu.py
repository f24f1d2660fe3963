"""The GPU run: ``python -m benchmarks speed --device gpu`` (budget 480 s; untimed on a GPU).

What it measures on the first GPU (every figure in one process, contenders
interleaved epoch by epoch with `benchmarks.speed.timing.alternate_epochs`,
every step timed, tracing epochs dropped and reported apart):

* ``precision``: Glow (28x28x1, 2 levels x 4 steps, 64 hidden channels,
  batch 256) trained by ``unigen.fit`` in float32, in float32 from another
  seed (the A/A control), with ``mixed_precision="mixed_float16"`` and with
  ``"mixed_bfloat16"``
  (`benchmarks.speed.precision`, the code of the CPU suite's ``precision``
  section): images per second, the per-round ratio mixed / float32 with its
  verdict against the A/A spread, and the test bits/dim each model reaches
  after the same budget (the same number of steps on the same Fashion-MNIST
  batches), so the change in bits/dim that each 16-bit format causes is
  measured beside the change in speed and the change another seed causes.
* ``dcgan_xla``: seconds per Fashion-MNIST epoch (55,000 images, batch 128)
  of ``unigen.fit`` on the DCGAN without and with ``jit_compile=True``.
* ``replicas``: 1 against 2 replicas (``MirroredStrategy``) at the same global
  batch, only where TensorFlow sees two GPUs (`benchmarks.speed.replicas`).

The float32 matmul peak (4096 x 4096) is measured between the Glow rounds.
Fashion-MNIST comes from ``unigen.datasets`` (Debian's ``dataset-fashion-mnist``);
without it the speed figures use random 28x28 levels and the bits/dim figure
is reported as unavailable. A section that would overrun the time budget
(``budget_seconds``, 480 by default) is skipped and says so.

Without a GPU, ``python -m benchmarks speed --device gpu`` stops before any
measurement with exit status 1 and a message naming the cause
(`benchmarks.speed._select_device`); `plan` with ``device="cpu"`` runs the
same code on the CPU, at the smoke sizes, for the tests.
"""

import statistics
import time

__all__ = ["plan"]

_SIZES = {  # batch, steps per round, rounds, glow (levels, steps, hidden), dcgan batch
    "smoke": dict(batch=16, steps=3, rounds=2, glow=(1, 2, 8), dcgan_batch=16,
                  dcgan_examples=64, eval_examples=32, filters=4, latent=4),
    "full": dict(batch=256, steps=50, rounds=6, glow=(2, 4, 64), dcgan_batch=128,
                 dcgan_examples=55_000, eval_examples=2_000, filters=32, latent=64),
}


def _dcgan_xla(cfg, train):
    import unigen
    from benchmarks.speed.timing import alternate_epochs

    x = train[:cfg["dcgan_examples"]]
    steps = len(x) // cfg["dcgan_batch"]
    models = {name: unigen.models.DCGAN(image_shape=(28, 28, 1), num_levels=256,
                                        base_filters=cfg["filters"])
              for name in ("plain_tf", "xla")}

    def trainer(name):
        def train_fn(epochs, callbacks):
            unigen.fit(models[name], x, epochs=epochs, batch_size=cfg["dcgan_batch"],
                       seed=None, verbose=0, callbacks=callbacks,
                       jit_compile=name == "xla")
        return train_fn

    rates = alternate_epochs({n: trainer(n) for n in models}, 2, steps)
    out = {"examples": len(x), "batch_size": cfg["dcgan_batch"], "steps_per_epoch": steps,
           "rates_steps_per_second": rates}
    seconds = {n: statistics.median(r["epoch_seconds"]) for n, r in rates.items()
               if "epoch_seconds" in r}
    out["seconds_per_epoch"] = seconds
    if len(seconds) == 2:
        out["xla_speedup"] = seconds["plain_tf"] / seconds["xla"]
    return out


def plan(mode="full", device="gpu", budget_seconds=480.0):
    """Runs the GPU sections (see the module docstring); returns their results."""
    import tensorflow as tf

    from benchmarks.speed import configs, precision
    from benchmarks.speed.flops import peak_probe

    started = time.perf_counter()
    cfg = dict(_SIZES[mode], shape=(28, 28, 1), levels=256)
    train, test, source = configs.fashion_mnist(55_000 if mode == "full" else 256)
    if test is None and mode == "smoke":
        test = train[:64]  # the tests check that the bits/dim are computed
    n = 512 if mode == "smoke" else 4096
    probe = peak_probe(n=n, device=device)
    result = {"data": source, "sizes": cfg, "budget_seconds": budget_seconds, "skipped": {}}
    sections = (("precision", lambda: precision.run(("mixed_float16", "mixed_bfloat16"), ("glow",),
                                                   cfg, train, test, cfg["eval_examples"],
                                                   between=probe), 0.55),
                ("dcgan_xla", lambda: _dcgan_xla(cfg, train), 0.80))
    for name, section, share in sections:
        used = time.perf_counter() - started
        if used > share * budget_seconds:
            result["skipped"][name] = f"time budget: {used:.0f} s used of {budget_seconds:.0f}"
            continue
        result[name] = section()
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and len(gpus) >= 2:
        from benchmarks.speed import replicas

        result["replicas"] = replicas.run(configs.config("quick"), "gpu", processes=2)
    else:
        result["skipped"]["replicas"] = f"needs 2 GPUs, TensorFlow sees {len(gpus)}"
    result["peak_gflops_float32"] = [probe() for _ in range(3)]
    result["seconds"] = time.perf_counter() - started
    return result
