"""benchmarks/glow_onednn.py sums oneDNN's verbose lines per primitive, pass and shape."""

import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from benchmarks import glow_onednn

CONV = ("onednn_verbose,v1,primitive,exec,cpu,convolution,jit:avx512_core,backward_weights,"
        "src:f32::blocked:acdb::f0 wei:f32:ap:blocked:ABcd16b16a::f0,,alg:convolution_direct,"
        "mb64_ic64oc4_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1,{ms}")
PROBLEM = "mb64_ic64oc4_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1"
GEMM = ("onednn_verbose,primitive,exec,cpu,gemm_api,,undef,src_f32::blocked:ab:f0,,,"
        "12544x64:64x64,{ms}")


def test_convolution_flops_from_the_problem_string():
    assert glow_onednn.conv_flops("mb64_ic2oc64_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1") == (
        2 * 64 * 14 * 14 * 3 * 3 * 2 * 64)
    assert glow_onednn.conv_flops("12544x64:64x64") is None


def test_lines_are_summed_per_primitive_pass_and_shape_per_step():
    lines = [CONV.format(ms=1.5), "onednn_verbose,info,cpu,isa:avx512", "not a verbose line",
             CONV.format(ms=2.5), GEMM.format(ms=0.25), GEMM.format(ms="garbled")]
    rows = glow_onednn.parse(lines, steps=2)
    assert set(rows) == {
        ("convolution", "backward_weights", PROBLEM),
        ("gemm_api", "undef", "12544x64:64x64")}
    conv = rows["convolution", "backward_weights", PROBLEM]
    assert conv["ms_per_step"] == pytest.approx(2.0) and conv["per_step"] == pytest.approx(1.0)
    assert conv["impl"] == "jit:avx512_core"
    flops = 2 * 64 * 14 * 14 * 9 * 64 * 4
    assert conv["gflops_per_second"] == pytest.approx(flops / 2e-3 / 1e9)
    gemm = rows["gemm_api", "undef", "12544x64:64x64"]
    assert gemm["ms_per_step"] == pytest.approx(0.125) and gemm["gflops_per_second"] is None
