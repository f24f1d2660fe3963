"""benchmarks/glow_convs.py compares five computations of the same convolution."""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import glow_convs


def test_the_five_implementations_give_the_convolutions_gradients():
    for shape in [(2, 5, 5, 2, 3, 3), (2, 4, 4, 3, 2, 1), (2, 6, 5, 2, 3, 5)]:
        fns = glow_convs.implementations(shape)  # asserts agreement itself
        assert sorted(fns) == ["conv", "gemm_in", "gemm_out", "im2col", "shifted"]
        grads = {name: fn() for name, fn in fns.items()}
        for name in ("im2col", "shifted", "gemm_in", "gemm_out"):
            for got, want in zip(grads[name], grads["conv"], strict=True):
                assert got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        assert float(tf.reduce_max(tf.abs(grads["conv"][1]))) > 0


def test_hand_written_gradients_match_autodiff_on_a_non_square_image():
    # A direct check of gemm_in/gemm_out against tf.nn.conv2d's own gradients,
    # with an upstream gradient that is not the output itself.
    x = tf.random.stateless_normal([3, 6, 4, 3], seed=[5, 6])
    kernel = tf.random.stateless_normal([3, 3, 3, 5], seed=[7, 8])
    upstream = tf.random.stateless_normal([3, 6, 4, 5], seed=[9, 10])
    for fn in (glow_convs.gemm_in, glow_convs.gemm_out):
        results = []
        for conv in (lambda a, b: tf.nn.conv2d(a, b, 1, "SAME"), fn):
            with tf.GradientTape() as tape:
                tape.watch([x, kernel])
                y = conv(x, kernel)
                loss = tf.reduce_sum(y * upstream)
            results.append([y, *tape.gradient(loss, [x, kernel])])
        for got, want in zip(results[1], results[0], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
