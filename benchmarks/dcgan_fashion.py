"""Fashion-MNIST DCGAN: seconds per training step and a grid of samples.

    python benchmarks/dcgan_fashion.py [--epochs 1] [--batch-size 64] [--jit]
                                       [--out benchmarks/results]

Trains `unigen.models.DCGAN` (latent 64, base_filters 32, non-saturating JS
loss, weight average 0.999, Adam 2e-4) with `unigen.fit` on the 55,000
images of unigen's Fashion-MNIST training split and writes:

- ``dcgan_fashion[_jit].json``: the device, the median / mean seconds per
  training step (one step = one critic update and one generator update; the
  first 20 steps, which include tracing, are left out), images per second, the
  loss curve per epoch and the total time;
- ``dcgan_fashion[_jit]_samples.png``: 64 samples of the averaged generator.

Time on 2 shared CPU cores: about 15 minutes per epoch.
"""

import argparse
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

WARMUP_STEPS = 20


def _device():
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    if gpus:
        return "GPU: " + tf.config.experimental.get_device_details(gpus[0]).get(
            "device_name", gpus[0].name)
    from benchmarks import cpu_model

    return f"CPU: {cpu_model()}, {os.cpu_count()} cores"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--jit", action="store_true", help="jit_compile=True (XLA)")
    parser.add_argument("--max-steps", type=int, default=None,
                        help="use only this many steps per epoch (a quicker timing)")
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "results"))
    args = parser.parse_args()

    import keras

    import unigen
    from unigen import images

    x = unigen.datasets.as_numpy("fashion_mnist", "train")
    if args.max_steps:
        x = x[:args.max_steps * args.batch_size]
    info = unigen.datasets.info("fashion_mnist")
    step_times = []

    class StepTimer(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            self._started = time.perf_counter()

        def on_train_batch_end(self, batch, logs=None):
            step_times.append(time.perf_counter() - self._started)

    gan = unigen.models.DCGAN(image_shape=info.event_shape, latent_dim=64,
                              num_levels=info.num_levels, base_filters=32,
                              ema_decay=0.999, divergence="js", seed=0)
    started = time.time()
    history = unigen.fit(gan, x, epochs=args.epochs, batch_size=args.batch_size,
                         learning_rate=2e-4, seed=0, jit_compile=args.jit,
                         callbacks=[StepTimer()], verbose=2)
    total = time.time() - started
    timed = np.asarray(step_times[WARMUP_STEPS:])
    tag = "dcgan_fashion" + ("_jit" if args.jit else "")
    os.makedirs(args.out, exist_ok=True)
    grid = os.path.join(args.out, f"{tag}_samples.png")
    images.save_grid(grid, gan.sample(64, seed=0).numpy(), num_levels=info.num_levels)
    record = {
        "device": _device(),
        "load_average_at_end": list(os.getloadavg()),
        "settings": {"epochs": args.epochs, "batch_size": args.batch_size,
                     "jit_compile": args.jit, "latent_dim": 64, "base_filters": 32,
                     "learning_rate": 2e-4, "num_train_images": len(x)},
        "steps_timed": int(timed.size),
        "seconds_per_step_median": float(np.median(timed)),
        "seconds_per_step_mean": float(np.mean(timed)),
        "images_per_second": float(args.batch_size / np.median(timed)),
        "seconds_total": total,
        "loss_per_epoch": [float(v) for v in history.history["loss"]],
        "critic_loss_per_epoch": [float(v) for v in history.history["critic_loss"]],
        "samples": os.path.basename(grid),
    }
    from benchmarks import write_result

    write_result(tag, record, out=args.out, echo=True)
    print(f"wrote {grid}")


if __name__ == "__main__":
    main()
