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


def _run(rows, wall, cpu=None):
    """A `glow_onednn.run` result holding only what `shared_bound` reads."""
    return {"primitives": [{"kind": k, "pass": p, "problem": q, "ms_per_step": ms}
                           for (k, p, q), ms in rows.items()],
            "onednn_ms_per_step": sum(rows.values()), "step_wall_ms": wall,
            "step_cpu_ms": cpu or wall}


def test_the_hidden_layer_is_recognised_in_either_formulation():
    hidden = glow_onednn.hidden_layer
    assert hidden(("gemm_api", "undef", "12544x64:64x64"))
    assert hidden(("gemm_api", "undef", "64x12544:12544x64"))
    assert hidden(("inner_product", "forward_training", "mb3136ic64oc64"))
    assert hidden(("convolution", "backward_weights",
                   "mb64_ic64oc64_ih14oh14kh1sh1dh0ph0_iw14ow14kw1sw1dw0pw0"))
    assert hidden(("reorder", "undef", "64x64x1x1"))
    assert not hidden(("gemm_api", "undef", "12544x4:4x4"))  # the invertible 1x1 convolution
    assert not hidden(("gemm_api", "undef", "64x12544:12544x4"))
    assert not hidden(("convolution", "forward_training",
                       "mb64_ic64oc64_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1"))
    assert hidden(("gemm_api", "undef", "100x32:32x32"), hidden=32)


def test_the_bound_counts_shared_kernels_at_their_faster_time_and_the_hidden_layer():
    conv = ("convolution", "backward_weights", PROBLEM)
    reorder = ("reorder", "undef", "4x64x3x3")
    ours = [_run({conv: 10.0, reorder: 1.0, ("gemm_api", "undef", "12544x64:64x64"): 3.0,
                  ("gemm_api", "undef", "12544x4:4x4"): 2.0}, wall=16.0),
            _run({conv: 12.0, reorder: 1.0, ("gemm_api", "undef", "12544x64:64x64"): 3.0,
                  ("gemm_api", "undef", "12544x4:4x4"): 2.0}, wall=18.0)]
    pre = [_run({conv: 11.0, reorder: 2.0, ("matmul", "undef", "1x1x1x4x4:64x14x14x4x1"): 9.0,
                 ("convolution", "backward_weights",
                  "mb64_ic64oc64_ih14oh14kh1sh1dh0ph0_iw14ow14kw1sw1dw0pw0"): 5.0}, wall=27.0)] * 2
    b = glow_onednn.shared_bound(ours, pre)
    # medians: ours conv 11, reorder 1; before conv 11, reorder 2 -> shared 11 + 1
    assert b["shared_ms"] == pytest.approx(12.0)
    assert b["hidden_layer_ms"] == {"unigen": pytest.approx(3.0), "pre18": pytest.approx(5.0)}
    assert b["pre18_inside_ms"] == pytest.approx(27.0)
    assert b["bound_ratio"] == pytest.approx(27.0 / 12.0)
    assert b["bound_ratio_with_hidden"] == pytest.approx(27.0 / 15.0)
    assert b["unigen_not_shared_ms"] == pytest.approx(17.0 - 12.0)
    assert b["measured_ratio_wall"] == pytest.approx((27 / 16 + 27 / 18) / 2)
