"""benchmarks/xla_cpu.py: the decomposition of the speed suite's steps, plain against XLA."""

import os
import sys

import keras
import numpy as np
import tensorflow as tf

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import xla_cpu


def test_xla_lowers_a_strided_transposed_convolution_over_a_zero_dilated_input():
    # The cause the docs give for the DCGAN's loss under XLA on CPUs.
    layer = keras.layers.Conv2DTranspose(3, 4, strides=2, padding="same")
    windows = xla_cpu.xla_lowering(layer, tf.zeros([2, 5, 5, 4]))
    assert len(windows) == 1 and "lhs_dilate=2x2" in windows[0]
    plain = keras.layers.Conv2D(3, 3, padding="same")
    assert "lhs_dilate" not in xla_cpu.xla_lowering(plain, tf.zeros([2, 5, 5, 4]))[0]


def test_model_cases_cover_each_models_step_and_layers_and_agree_with_xla():
    cases, lowering = xla_cpu.model_cases("smoke")
    for name in ("dcgan", "vae", "glow"):
        assert f"{name} train step" in cases
    assert any(k.startswith("dcgan generator") and "Conv2DTranspose" in k for k in cases)
    assert any(k.startswith("glow bijector affine coupling") for k in cases)
    # (a 2x2 input may be lowered another way; the larger ones are zero-dilated)
    assert any("lhs_dilate=2x2" in w for k, ws in lowering.items() if "dcgan" in k for w in ws)
    # Plain and XLA compute the same gradients (the timing compares like with like).
    for key in [k for k in cases if "coupling" in k or "generator" in k][:4]:
        plain, xla = cases[key]
        for a, b in zip(plain(), xla(), strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5, err_msg=key)
