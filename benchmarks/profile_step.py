"""Where a unigen.fit training step goes, for the DCGAN, the VAE or Glow: op time by type.

    python benchmarks/profile_step.py --model dcgan|vae|glow [--size full|quick] [--xla]

Builds the speed suite's model (`benchmarks.speed.configs`, "full": 28x28x1, 256
levels, batch 64), trains one epoch with `unigen.fit` (tracing and warm-up),
then profiles a second epoch of the same ``fit`` call with
``tf.profiler.experimental`` (started and stopped by a callback, so tracing is
not in it) and sums the host op events by op type, as
``benchmarks/glow_profile.py`` does. The profiler slows every op and parallel
ops overlap: read the shares, not the milliseconds. With ``--xla`` the step is
compiled with XLA (its ops then show as XLA clusters). Prints the table and
writes benchmarks/results/profile_<model>[_xla].json.
"""

import argparse
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import tensorflow as tf

from benchmarks import write_result
from benchmarks.glow_profile import op_table
from benchmarks.speed import configs


class _ProfileEpoch(keras.callbacks.Callback):
    """Profiles epoch ``epoch`` (0-based) of a fit call into ``logdir``."""

    def __init__(self, epoch, logdir):
        super().__init__()
        self.epoch, self.logdir = epoch, logdir

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            tf.profiler.experimental.start(self.logdir)

    def on_epoch_end(self, epoch, logs=None):
        if epoch == self.epoch:
            tf.profiler.experimental.stop()


def profile(name, size="full", xla=False):
    """Op table of one epoch (``steps`` steps) of ``unigen.fit`` on model ``name``."""
    import unigen

    cfg = configs.config(size)
    x = configs.training_data(cfg)
    logdir = tempfile.mkdtemp()
    unigen.fit(configs.factory(name, cfg), x, epochs=2, batch_size=cfg["batch"], seed=0,
               verbose=0, jit_compile=xla, shuffle=False,
               callbacks=[_ProfileEpoch(1, logdir)])
    return {"model": name, "size": size, "xla": xla, "batch": cfg["batch"],
            "steps_profiled": cfg["steps"], "load_average": list(os.getloadavg()),
            "ops": op_table(logdir, cfg["steps"])}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--model", required=True, choices=configs.MODELS)
    parser.add_argument("--size", default="full", choices=("full", "quick", "smoke"))
    parser.add_argument("--xla", action="store_true")
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    result = profile(args.model, args.size, args.xla)
    result["command"] = "python benchmarks/profile_step.py " + " ".join(sys.argv[1:])
    for kind, entry in list(result["ops"].items())[:args.top]:
        print(f"{kind:45s} {entry['ms_per_step']:8.2f} ms/step {entry['per_step']:6.0f}/step "
              f"{entry['share']:6.1%}")
    suffix = "_xla" if args.xla else ""
    write_result(f"profile_{args.model}{suffix}", result)


if __name__ == "__main__":
    main()
