"""benchmarks/glow_convs.py compares three computations of the same convolution."""

import os
import sys

import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import glow_convs


def test_the_three_implementations_give_the_convolutions_gradients():
    for shape in [(2, 5, 5, 2, 3, 3), (2, 4, 4, 3, 2, 1)]:
        fns = glow_convs.implementations(shape)  # asserts agreement itself
        assert sorted(fns) == ["conv", "im2col", "shifted"]
        grads = {name: fn() for name, fn in fns.items()}
        for name in ("im2col", "shifted"):
            for got, want in zip(grads[name], grads["conv"], strict=True):
                assert got.shape == want.shape
                np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)
        assert float(tf.reduce_max(tf.abs(grads["conv"][1]))) > 0
