"""Glow's coupling convolutions three ways: oneDNN convolution, im2col GEMM, shifted GEMM.

    python benchmarks/glow_convs.py [--rounds 8]

The profile of a Glow step (``python benchmarks/glow_profile.py``) puts about 90 %
of its op time in the convolutions of the coupling networks, thin ones among them
(2 or 4 channels in, 64 out; 64 in, 4 or 8 out). This asks whether those layers
run faster as one matrix product: each case is one ``tf.function`` computing the
gradient of sum(square(conv(x))) with respect to x and the filter, for the
shapes of the speed suite's Glow (28x28x1, batch 64, two levels, 64 hidden
channels: 14x14 and 7x7 after squeezing), computed as

* ``conv``: ``tf.nn.conv2d`` (oneDNN's kernels on x86),
* ``im2col``: ``tf.image.extract_patches`` then one GEMM with the reshaped filter,
* ``shifted``: the k*k shifted slices of the padded input concatenated, then one GEMM.

All three give the same gradients (checked to 1e-3 relative before timing).
Timed with `benchmarks.speed.steps.interleave` (rounds in a fresh order, the
plain first convolution repeated as an A/A control). Writes
benchmarks/results/glow_convs.json.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import tensorflow as tf

from benchmarks import write_result
from benchmarks.speed import steps as timing

# (batch, height, width, channels in, channels out, kernel): Glow's coupling layers.
SHAPES = {
    "14x14 3x3 2->64": (64, 14, 14, 2, 64, 3),
    "14x14 1x1 64->64": (64, 14, 14, 64, 64, 1),
    "14x14 3x3 64->4": (64, 14, 14, 64, 4, 3),
    "7x7 3x3 4->64": (64, 7, 7, 4, 64, 3),
    "7x7 3x3 64->8": (64, 7, 7, 64, 8, 3),
}


def _as_gemm(patches, kernel, shape):
    batch, height, width, _, channels_out, _ = shape
    flat = tf.reshape(patches, [batch * height * width, -1])
    return tf.reshape(tf.matmul(flat, tf.reshape(kernel, [flat.shape[-1], channels_out])),
                      [batch, height, width, channels_out])


def implementations(shape):
    """``{name: gradient function}`` for one layer shape, all computing the same thing."""
    batch, height, width, channels_in, channels_out, k = shape
    x = tf.random.stateless_normal([batch, height, width, channels_in], seed=[1, 2])
    kernel = tf.Variable(0.1 * tf.random.stateless_normal([k, k, channels_in, channels_out],
                                                          seed=[3, 4]))

    def conv(x):
        return tf.nn.conv2d(x, kernel, 1, "SAME")

    def im2col(x):
        patches = tf.image.extract_patches(x, [1, k, k, 1], [1, 1, 1, 1], [1, 1, 1, 1], "SAME")
        return _as_gemm(patches, kernel, shape)

    def shifted(x):
        padded = tf.pad(x, [[0, 0], [k // 2, k // 2], [k // 2, k // 2], [0, 0]])
        patches = tf.concat([padded[:, i:i + height, j:j + width, :]
                             for i in range(k) for j in range(k)], axis=-1)
        return _as_gemm(patches, kernel, shape)

    def gradient_of(layer):
        @tf.function
        def grads():
            with tf.GradientTape() as tape:
                tape.watch(x)
                loss = tf.reduce_sum(tf.square(layer(x)))
            return tape.gradient(loss, [x, kernel])
        return grads

    fns = {name: gradient_of(f) for name, f in
           (("conv", conv), ("im2col", im2col), ("shifted", shifted))}
    reference = fns["conv"]()
    for name, fn in fns.items():
        for got, want in zip(fn(), reference, strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-2 * float(
                tf.reduce_max(tf.abs(want))), err_msg=name)
    return fns


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/glow_convs.json)")
    args = parser.parse_args()
    load_start = list(os.getloadavg())
    contenders = {}
    for label, shape in SHAPES.items():
        for impl, fn in implementations(shape).items():
            contenders[f"{label} {impl}"] = lambda f=fn: [t.numpy() for t in f()]
    control = f"{next(iter(SHAPES))} conv"
    result = timing.interleave(contenders, rounds=args.rounds, steps_per_round=3,
                               control=control)
    out = {"command": "python benchmarks/glow_convs.py " + " ".join(sys.argv[1:]),
           "load_average_start": load_start, "load_average_rounds": result["load_average"],
           "aa_control": result["control"], "cases": {}}
    for label in SHAPES:
        entry = {impl: 1000 * result["contenders"][f"{label} {impl}"]["step_seconds_median"]
                 for impl in ("conv", "im2col", "shifted")}
        for impl in ("im2col", "shifted"):
            entry[f"{impl}_speed_vs_conv"] = timing.compare(
                result, f"{label} {impl}", f"{label} conv")
        out["cases"][label] = entry
        print(f"{label:18s} conv {entry['conv']:7.2f} ms  im2col {entry['im2col']:7.2f} ms "
              f"({entry['im2col_speed_vs_conv']['median']:.2f}x, "
              f"{entry['im2col_speed_vs_conv']['verdict']})  shifted {entry['shifted']:7.2f} ms "
              f"({entry['shifted_speed_vs_conv']['median']:.2f}x, "
              f"{entry['shifted_speed_vs_conv']['verdict']})")
    print(f"load average {min(result['load_average']):.2f} to {max(result['load_average']):.2f}")
    write_result("glow_convs", out, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
