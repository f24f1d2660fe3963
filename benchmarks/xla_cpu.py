"""Why XLA loses on the CPU: the same layers' forward + backward with and without XLA.

    python benchmarks/xla_cpu.py [--rounds 8]

Each case is one ``tf.function`` computing the gradient of mean(square(layer(x)))
with respect to the layer's weights, once plain (TensorFlow's kernels: oneDNN
convolutions on x86) and once with ``jit_compile=True`` (XLA:CPU's own
kernels). Timed with `benchmarks.speed.steps.interleave`: every call on its own
after tracing, all cases interleaved in rounds of 3 calls in a fresh order,
the plain discriminator also run as an A/A control (verdicts against its spread).
Cases: unigen's DCGAN generator and discriminator (28x28x1, batch 64, the
speed suite's widths), one strided convolution, one transposed convolution
and one dense layer of similar cost. Writes benchmarks/results/xla_cpu_layers.json.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import tensorflow as tf

import unigen
from benchmarks import write_result
from benchmarks.speed import steps as timing


def _grad_fns(layer, x_shape):
    x = tf.random.stateless_normal(x_shape, seed=[1, 2])
    layer(x)

    def grads():
        with tf.GradientTape() as tape:
            loss = tf.reduce_mean(tf.square(layer(x)))
        return tape.gradient(loss, layer.trainable_variables)

    return tf.function(grads), tf.function(grads, jit_compile=True)


def cases():
    gan = unigen.models.DCGAN(image_shape=(28, 28, 1), num_levels=256, latent_dim=64,
                              base_filters=32)
    return {
        "dcgan_generator": _grad_fns(gan.generator, (64, 64)),
        "dcgan_discriminator": _grad_fns(gan.discriminator, (64, 28, 28, 1)),
        "conv2d_4x4_stride2_64to128_14x14": _grad_fns(
            keras.layers.Conv2D(128, 4, strides=2, padding="same"), (64, 14, 14, 64)),
        "conv2dtranspose_4x4_stride2_128to64_7x7": _grad_fns(
            keras.layers.Conv2DTranspose(64, 4, strides=2, padding="same"), (64, 7, 7, 128)),
        "dense_1024x1024": _grad_fns(keras.layers.Dense(1024), (64, 1024)),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/xla_cpu_layers.json)")
    args = parser.parse_args()
    load_start = list(os.getloadavg())
    fns = cases()
    contenders = {}
    for name, (plain, xla) in fns.items():
        contenders[name + " tf"] = lambda f=plain: [t.numpy() for t in f()]
        contenders[name + " xla"] = lambda f=xla: [t.numpy() for t in f()]
    result = timing.interleave(contenders, rounds=args.rounds, steps_per_round=3,
                               control="dcgan_discriminator tf")
    out = {"command": "python benchmarks/xla_cpu.py " + " ".join(sys.argv[1:]),
           "load_average_start": load_start, "load_average_rounds": result["load_average"],
           "batch": 64, "aa_control": result["control"], "cases": {}}
    for name in fns:
        ratio = timing.compare(result, name + " xla", name + " tf")
        entry = {"tf_ms": 1000 * result["contenders"][name + " tf"]["step_seconds_median"],
                 "xla_ms": 1000 * result["contenders"][name + " xla"]["step_seconds_median"],
                 "xla_over_tf_speed": ratio}
        out["cases"][name] = entry
        print(f"{name:42s} tf {entry['tf_ms']:7.2f} ms  xla {entry['xla_ms']:7.2f} ms  "
              f"XLA speed {ratio['median']:.2f}x [{ratio['quartiles'][0]:.2f}-"
              f"{ratio['quartiles'][1]:.2f}], {ratio['verdict']}")
    print(f"load average {min(result['load_average']):.2f} to {max(result['load_average']):.2f}")
    write_result("xla_cpu_layers", out, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
