"""Glow's coupling convolutions five ways: oneDNN convolution and four GEMM formulations.

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
* ``shifted``: the k*k shifted slices of the padded input concatenated, then one GEMM,
* ``gemm_in``: ``shifted`` with its gradients written by hand (`gemm_in`): the
  filter gradient one GEMM with the shifted input, the input gradient one GEMM
  then the k*k shifted slices summed (for thin inputs: 2 or 4 channels in),
* ``gemm_out``: one 1x1 GEMM to k*k*C_out channels, then k*k shifted slices
  summed, gradients by hand (`gemm_out`): both are one GEMM with the k*k
  shifted copies of the output gradient (for thin outputs: 4 or 8 channels out).

All five give the same gradients (checked to 1e-3 relative before timing).
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
_IMPLS = ("conv", "im2col", "shifted", "gemm_in", "gemm_out")
SHAPES = {
    "14x14 3x3 2->64": (64, 14, 14, 2, 64, 3),
    "14x14 1x1 64->64": (64, 14, 14, 64, 64, 1),
    "14x14 3x3 64->4": (64, 14, 14, 64, 4, 3),
    "7x7 3x3 4->64": (64, 7, 7, 4, 64, 3),
    "7x7 3x3 64->8": (64, 7, 7, 64, 8, 3),
    "14x14 3x3 2->4": (64, 14, 14, 2, 4, 3),  # the split prior's convolution
}


def _offsets(k):
    return [(i, j) for i in range(k) for j in range(k)]


def _shifted_copies(x, k, sign):
    """[B, H, W, k*k*C]: copy (i, j) holds x at (h + sign*(i - k//2), w + sign*(j - k//2)),
    zero outside the image ("SAME" padding)."""
    height, width, r = x.shape[1], x.shape[2], k // 2
    padded = tf.pad(x, [[0, 0], [r, r], [r, r], [0, 0]])
    starts = [(i, j) if sign > 0 else (2 * r - i, 2 * r - j) for i, j in _offsets(k)]
    copies = [padded[:, a:a + height, b:b + width, :] for a, b in starts]
    return tf.concat(copies, axis=-1)


def _sum_shifted(z, k, sign, channels):
    """The adjoint of `_shifted_copies` with the opposite sign:
    out[p] = sum over copies c of z[p + sign*offset_c, channels of c]."""
    height, width, r = z.shape[1], z.shape[2], k // 2
    padded = tf.pad(z, [[0, 0], [r, r], [r, r], [0, 0]])
    terms = []
    for c, (i, j) in enumerate(_offsets(k)):
        a, b = (i, j) if sign > 0 else (2 * r - i, 2 * r - j)
        terms.append(padded[:, a:a + height, b:b + width, c * channels:(c + 1) * channels])
    return tf.add_n(terms)


def gemm_in(x, kernel):
    """conv2d(x, kernel, SAME) as [B*H*W, k*k*C_in] x [k*k*C_in, C_out], gradients by hand.

    y = S(x) W with S the k*k shifted copies of x; dW = S(x)^T dy and
    dx = S^T(dy W^T), S^T summing the shifted slices back.
    """
    k, c_in, c_out = kernel.shape[0], kernel.shape[2], kernel.shape[3]

    @tf.custom_gradient
    def conv(x, kernel):
        copies = tf.reshape(_shifted_copies(x, k, +1), [-1, k * k * c_in])
        matrix = tf.reshape(kernel, [k * k * c_in, c_out])
        y = tf.reshape(tf.matmul(copies, matrix), [-1, x.shape[1], x.shape[2], c_out])

        def grad(dy):
            dy2 = tf.reshape(dy, [-1, c_out])
            d_kernel = tf.reshape(tf.matmul(copies, dy2, transpose_a=True), kernel.shape)
            d_copies = tf.reshape(tf.matmul(dy2, matrix, transpose_b=True),
                                  [-1, x.shape[1], x.shape[2], k * k * c_in])
            return _sum_shifted(d_copies, k, -1, c_in), d_kernel
        return y, grad
    return conv(x, kernel)


def gemm_out(x, kernel):
    """conv2d(x, kernel, SAME) as z = x V ([B*H*W, C_in] x [C_in, k*k*C_out]), then
    y[p] = sum over taps c of z[p + offset_c, c]; gradients by hand.

    With D = the k*k oppositely shifted copies of dy: dx = D V^T and dV = x^T D,
    so both gradients are one GEMM with k*k*C_out columns instead of C_out.
    """
    k, c_in, c_out = kernel.shape[0], kernel.shape[2], kernel.shape[3]

    @tf.custom_gradient
    def conv(x, kernel):
        matrix = tf.reshape(tf.transpose(kernel, [2, 0, 1, 3]), [c_in, k * k * c_out])
        flat = tf.reshape(x, [-1, c_in])
        z = tf.reshape(tf.matmul(flat, matrix), [-1, x.shape[1], x.shape[2], k * k * c_out])
        y = _sum_shifted(z, k, +1, c_out)

        def grad(dy):
            d_z = tf.reshape(_shifted_copies(dy, k, -1), [-1, k * k * c_out])
            dx = tf.reshape(tf.matmul(d_z, matrix, transpose_b=True), tf.shape(x))
            d_matrix = tf.matmul(flat, d_z, transpose_a=True)
            return dx, tf.transpose(tf.reshape(d_matrix, [c_in, k, k, c_out]), [1, 2, 0, 3])
        return y, grad
    return conv(x, kernel)


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
           (("conv", conv), ("im2col", im2col), ("shifted", shifted),
            ("gemm_in", lambda x: gemm_in(x, kernel)),
            ("gemm_out", lambda x: gemm_out(x, kernel)))}
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
        times = {impl: result["contenders"][f"{label} {impl}"] for impl in _IMPLS}
        entry = {impl: 1000 * t["step_seconds_median"] for impl, t in times.items()}
        entry["cpu_ms"] = {impl: 1000 * t["cpu_step_seconds_median"] for impl, t in times.items()}
        line = f"{label:18s} conv {entry['cpu_ms']['conv']:6.2f} CPU ms"
        for impl in _IMPLS[1:]:
            entry[f"{impl}_speed_vs_conv"] = timing.compare(
                result, f"{label} {impl}", f"{label} conv")
            entry[f"{impl}_cpu_speed_vs_conv"] = cpu = timing.compare(
                result, f"{label} {impl}", f"{label} conv", clock="cpu")
            line += f"  {impl} {entry['cpu_ms'][impl]:6.2f} ({cpu['median']:.2f}x)"
        out["cases"][label] = entry
        print(line)
    print(f"load average {min(result['load_average']):.2f} to {max(result['load_average']):.2f}; "
          "ratios are conv time / other time per round, in process CPU time")
    write_result("glow_convs", out, out=args.out, load_average_start=load_start)


if __name__ == "__main__":
    main()
