"""Where a Glow training step goes: TensorFlow's profiler, op time by op type.

    python benchmarks/glow_profile.py [--contender unigen|unigen_pre18|tfp] [--batch 64]

Builds the contenders of `benchmarks.speed.glow_vs_tfp` (28x28x1, 2 levels x 4
steps, 64 hidden channels), warms the chosen one up, profiles 10 steps with
``tf.profiler.experimental`` and sums the host op events of the trace by op
type (the kernel name after the colon, e.g. ``_MklNativeConv2DBackpropFilterWithBias``).
The profiler slows every op down and events of parallel ops overlap, so read
the shares, not the milliseconds. Prints the table and writes
benchmarks/results/glow_profile_<contender>.json.
"""

import argparse
import collections
import glob
import os
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import tensorflow as tf

from benchmarks import write_result
from benchmarks.speed import glow_vs_tfp

_NOT_OPS = ("Process", "Run", "__inference", "_EagerConst")


def _xspace(logdir):
    try:
        from tsl.profiler.protobuf import xplane_pb2
    except ImportError:  # older layouts
        from tensorflow.tsl.profiler.protobuf import xplane_pb2
    path = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True))[-1]
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    return space


def profile(contender="unigen", batch=64, steps=10):
    """Milliseconds per step and count per step of each op type, and their shares."""
    data = np.random.default_rng(0).integers(0, 256, size=(batch, 28, 28, 1)).astype("float32")
    step = glow_vs_tfp.pair((28, 28, 1), 2, 4, 64, 256, data, with_legacy=True)[contender][0]
    for i in range(5):
        float(step(data, tf.constant([0, i])))
    logdir = tempfile.mkdtemp()
    tf.profiler.experimental.start(logdir)
    for i in range(steps):
        float(step(data, tf.constant([1, i])))
    tf.profiler.experimental.stop()
    return {"contender": contender, "batch": batch, "steps_profiled": steps,
            "load_average": list(os.getloadavg()), "ops": op_table(logdir, steps)}


def op_table(logdir, steps):
    """``{op type: {ms_per_step, per_step, share}}`` from the profiler trace in ``logdir``."""
    total, count = collections.Counter(), collections.Counter()
    for plane in _xspace(logdir).planes:
        for line in plane.lines:
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                kind = name.split(":")[-1].strip()
                if ":" in name and not kind.startswith(_NOT_OPS):
                    total[kind] += event.duration_ps / 1e9 / steps
                    count[kind] += 1 / steps
    summed = sum(total.values())
    return {k: {"ms_per_step": v, "per_step": count[k], "share": v / summed}
            for k, v in total.most_common()}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contender", default="unigen",
                        choices=("unigen", "unigen_pre18", "tfp"))
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    result = profile(args.contender, args.batch)
    result["command"] = "python benchmarks/glow_profile.py " + " ".join(sys.argv[1:])
    for kind, entry in list(result["ops"].items())[:15]:
        print(f"{kind:45s} {entry['ms_per_step']:8.2f} ms/step {entry['per_step']:6.0f}/step "
              f"{entry['share']:6.1%}")
    write_result(f"glow_profile_{args.contender}", result)


if __name__ == "__main__":
    main()
