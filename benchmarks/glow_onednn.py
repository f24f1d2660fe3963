"""Glow's training step as oneDNN executes it: time per primitive, pass and shape.

    python benchmarks/glow_onednn.py [--steps 4] [--batch 64] [--size 28|8]

TensorFlow on x86 CPUs runs convolutions and matrix products as oneDNN
primitives. With ``ONEDNN_VERBOSE=1`` oneDNN prints one line per primitive it
executes, with the primitive's kind, the kernel chosen, the pass (forward,
backward to the data, backward to the weights), the problem's shape and the
time it took (ms). This runs Glow's step as `benchmarks/glow_step_cost.py`
builds it (``unigen.fit``'s compiled train function, the speed suite's full
size: 28x28x1, 2 levels x 4 steps, 64 hidden channels, batch 64) in a child
process with that switch on, warms up 5 steps, records ``--steps`` steps and
sums the lines per primitive kind, pass and shape. For each convolution shape it
also gives the arithmetic rate, 2 x batch x H_out x W_out x k x k x C_in x
C_out FLOPs per pass divided by the time.

It answers where the time of the step goes more exactly than the TensorFlow
profiler (``benchmarks/glow_profile.py``), whose op events include TensorFlow's
own overhead and overlap; the total here is only the time inside oneDNN's
kernels, so the rest of the step (TensorFlow's other ops and its executor) is
the step's CPU time minus this. Wall-clock times per primitive: read them at
low load. Writes benchmarks/results/glow_onednn.json.
"""

import argparse
import collections
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

_START, _END = "=== glow_onednn: recording ===", "=== glow_onednn: done ==="


def _child(steps, batch, size):
    """Runs in the child process: warm up, then ``steps`` recorded steps between markers."""
    import time

    import numpy as np
    import tensorflow as tf

    from benchmarks import glow_step_cost as g

    shape, levels = g.SIZES[size]
    g.SHAPE, g.NUM_LEVELS = shape, levels
    data = np.random.default_rng(0).integers(0, levels, size=(batch * 4, *shape)).astype("float32")
    model = g._model(data, batch)
    model.make_train_function()
    batches = iter(tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)
                   .repeat())
    for _ in range(5):
        model.train_function(batches)
    print(_START, flush=True)
    cpu, wall = time.process_time(), time.perf_counter()
    for _ in range(steps):
        model.train_function(batches)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(_END, f"{cpu / steps:.6f} {wall / steps:.6f}", flush=True)


def conv_flops(problem):
    """FLOPs of one pass of the convolution in a oneDNN problem string, or None.

    ``mb64_ic2oc64_ih14oh14kh3sh1dh0ph1_iw14ow14kw3sw1dw0pw1`` ->
    2 * 64 * 14 * 14 * 3 * 3 * 2 * 64 (every pass of a convolution costs the same).
    """
    import re

    fields = dict(re.findall(r"(mb|ic|oc|oh|ow|kh|kw)(\d+)", problem))
    if len(fields) < 7:
        return None
    f = {k: int(v) for k, v in fields.items()}
    return 2 * f["mb"] * f["oh"] * f["ow"] * f["kh"] * f["kw"] * f["ic"] * f["oc"]


def parse(lines, steps):
    """Sums oneDNN's ``exec`` lines: ``{(kind, pass, problem): {ms_per_step, per_step, ...}}``.

    A line is ``onednn_verbose,[v1,]primitive,exec,cpu,KIND,IMPL,PASS,FORMATS,ATTRS,ALG,PROBLEM,MS``
    (older versions have no ``v1`` field); other lines are ignored.
    """
    total, count, impls = collections.Counter(), collections.Counter(), {}
    for line in lines:
        fields = line.strip().split(",")
        if len(fields) < 8 or fields[0] != "onednn_verbose" or "exec" not in fields[1:4]:
            continue
        fields = fields[fields.index("exec") + 1:]  # cpu, kind, impl, pass, ..., problem, ms
        try:
            ms = float(fields[-1])
        except ValueError:
            continue
        kind, impl, stage, problem = fields[1], fields[2], fields[3], fields[-2]
        key = (kind, stage, problem)
        total[key] += ms / steps
        count[key] += 1 / steps
        impls[key] = impl
    rows = {}
    for key, ms in total.most_common():
        flops = conv_flops(key[2]) if key[0] == "convolution" else None
        rows[key] = {"ms_per_step": ms, "per_step": count[key], "impl": impls[key],
                     "gflops_per_second": (flops * count[key] / ms / 1e6) if flops else None}
    return rows


def run(steps=4, batch=64, size=28):
    env = dict(os.environ, ONEDNN_VERBOSE="1", DNNL_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                          "--steps", str(steps), "--batch", str(batch), "--size", str(size)],
                         env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    lines = out.stdout.splitlines()
    if out.returncode or _START not in lines:
        raise RuntimeError(f"the child run failed (exit {out.returncode}):\n{out.stderr[-3000:]}")
    start = lines.index(_START)
    end = next(i for i, line in enumerate(lines) if line.startswith(_END))
    cpu, wall = (float(v) for v in lines[end].split()[-2:])
    rows = parse(lines[start + 1:end], steps)
    if not rows:
        raise RuntimeError("oneDNN printed no exec lines: is TensorFlow built with oneDNN "
                           "(x86 CPU, TF_ENABLE_ONEDNN_OPTS not 0)?")
    inside = sum(r["ms_per_step"] for r in rows.values())
    by_kind = collections.Counter()
    for (kind, stage, _), r in rows.items():
        by_kind[f"{kind} {stage}" if kind == "convolution" else kind] += r["ms_per_step"]
    return {"size": size, "batch_size": batch, "steps_recorded": steps,
            "load_average": list(os.getloadavg()),
            "step_cpu_ms": 1e3 * cpu, "step_wall_ms": 1e3 * wall,
            "onednn_ms_per_step": inside,
            "by_kind_ms_per_step": dict(by_kind.most_common()),
            "primitives": [{"kind": k[0], "pass": k[1], "problem": k[2], **r}
                           for k, r in rows.items()]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=28, choices=(8, 28))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.steps, args.batch, args.size)
    from benchmarks import write_result

    result = run(args.steps, args.batch, args.size)
    result["command"] = "python benchmarks/glow_onednn.py " + " ".join(sys.argv[1:])
    print(f"step: {result['step_cpu_ms']:.1f} CPU ms, {result['step_wall_ms']:.1f} wall ms; "
          f"inside oneDNN {result['onednn_ms_per_step']:.1f} ms (load "
          f"{result['load_average'][0]:.1f})")
    for kind, ms in result["by_kind_ms_per_step"].items():
        print(f"  {kind:36s} {ms:7.2f} ms/step {ms / result['onednn_ms_per_step']:6.1%}")
    print("convolutions by shape and pass:")
    for row in result["primitives"]:
        if row["kind"] == "convolution":
            print(f"  {row['pass']:17s} {row['problem']:52s} {row['per_step']:3.0f}/step "
                  f"{row['ms_per_step']:6.2f} ms {row['gflops_per_second']:6.1f} GFLOP/s")
    write_result(f"glow_onednn{'' if args.size == 28 else '_8x8'}", result)


if __name__ == "__main__":
    main()
