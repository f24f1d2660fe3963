"""Glow's training step as oneDNN executes it: time per primitive, pass and shape.

    python benchmarks/glow_onednn.py [--steps 4] [--batch 64] [--size 28|8] [--pre18]
    python benchmarks/glow_onednn.py --compare 3 --steps 8

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


def _child(steps, batch, size, pre18=False):
    """Runs in the child process: warm up, then ``steps`` recorded steps between markers."""
    import time

    import keras
    import numpy as np
    import tensorflow as tf

    from benchmarks import glow_step_cost as g

    if os.environ.get("UNIGEN_BENCH_INTER_OP"):  # benchmarks/glow_knobs.py's inter_op_1
        tf.config.threading.set_inter_op_parallelism_threads(
            int(os.environ["UNIGEN_BENCH_INTER_OP"]))
    shape, levels = g.SIZES[size]
    g.SHAPE, g.NUM_LEVELS = shape, levels
    data = np.random.default_rng(0).integers(0, levels, size=(batch * 4, *shape)).astype("float32")
    if pre18:
        model = g._model(data, batch, legacy=True, optimizer=keras.optimizers.Adam(1e-3))
    else:
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


def run(steps=4, batch=64, size=28, pre18=False):
    env = dict(os.environ, ONEDNN_VERBOSE="1", DNNL_VERBOSE="1", TF_CPP_MIN_LOG_LEVEL="2")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child",
                          "--steps", str(steps), "--batch", str(batch), "--size", str(size)]
                         + (["--pre18"] if pre18 else []),
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
    return {"step": "pre18" if pre18 else "unigen", "size": size, "batch_size": batch,
            "steps_recorded": steps,
            "load_average": list(os.getloadavg()),
            "step_cpu_ms": 1e3 * cpu, "step_wall_ms": 1e3 * wall,
            "onednn_ms_per_step": inside,
            "by_kind_ms_per_step": dict(by_kind.most_common()),
            "primitives": [{"kind": k[0], "pass": k[1], "problem": k[2], **r}
                           for k, r in rows.items()]}


def _median_rows(runs):
    """``{(kind, pass, problem): median ms per step over runs}`` (absent in a run counts 0)."""
    import statistics

    keys = {(r["kind"], r["pass"], r["problem"]) for run in runs for r in run["primitives"]}
    per_run = [{(r["kind"], r["pass"], r["problem"]): r["ms_per_step"] for r in run["primitives"]}
               for run in runs]
    return {k: statistics.median(rows.get(k, 0.0) for rows in per_run) for k in keys}


def hidden_layer(key, hidden=64):
    """Whether a primitive computes the coupling networks' hidden 1x1 layer (hidden -> hidden).

    Before #18 it ran as a 1x1 convolution (``ic64oc64`` with ``kh1``) and its
    filter's reorder (``64x64x1x1``); in unigen's step it is one GEMM per pass
    (``Mx64:64x64``, ``64xM:Mx64``) or oneDNN's inner product (``mbMic64oc64``).
    """
    import re

    kind, _, problem = key
    h = str(hidden)
    if kind == "convolution":
        return f"ic{h}oc{h}_" in problem and "kh1s" in problem
    if kind == "reorder":
        return problem == f"{h}x{h}x1x1"
    if kind == "inner_product":
        return problem.endswith(f"ic{h}oc{h}")
    if kind in ("gemm_api", "matmul"):
        return bool(re.fullmatch(rf"\d+x{h}:{h}x{h}|{h}x(\d+):\1x{h}", problem))
    return False


def shared_bound(ours, pre18, hidden=64):
    """How far a step that keeps the kernels it shares with the step before #18 can go.

    ``ours`` and ``pre18`` are lists of `run` results. A primitive with the same
    kind, pass and problem in both steps (the coupling networks' 3x3
    convolutions and their filters' reorders: the architecture, which #18 does
    not change) counts with the smaller of its two median times: ``shared_ms``.
    If the step did nothing but those kernels, its rate over the step before #18
    could be at most ``pre18_inside_ms / shared_ms`` (times inside oneDNN on both
    sides, so the two cores' overlap cancels out): Amdahl's law on the kernels.
    The coupling networks' hidden 1x1 layer is the architecture too, computed a
    different way before #18 (`hidden_layer`): with the faster of its two
    times added, ``bound_ratio_with_hidden`` is the rate any step computing
    this model with these kernels could reach at most.
    """
    import statistics

    a, b = _median_rows(ours), _median_rows(pre18)
    shared = {k: min(a[k], b[k]) for k in a.keys() & b.keys()}
    by_kind = collections.Counter()
    for (kind, stage, _), ms in shared.items():
        by_kind[f"{kind} {stage}" if kind == "convolution" else kind] += ms
    inside_a = statistics.median(r["onednn_ms_per_step"] for r in ours)
    inside_b = statistics.median(r["onednn_ms_per_step"] for r in pre18)
    shared_ms = sum(shared.values())
    hidden_a = sum(ms for k, ms in a.items() if hidden_layer(k, hidden) and k not in shared)
    hidden_b = sum(ms for k, ms in b.items() if hidden_layer(k, hidden) and k not in shared)
    walls = [p["step_wall_ms"] / o["step_wall_ms"] for o, p in zip(ours, pre18, strict=True)]
    cpus = [p["step_cpu_ms"] / o["step_cpu_ms"] for o, p in zip(ours, pre18, strict=True)]
    return {"rounds": len(walls),
            "unigen_inside_ms": inside_a, "pre18_inside_ms": inside_b,
            "unigen_wall_ms": statistics.median(r["step_wall_ms"] for r in ours),
            "pre18_wall_ms": statistics.median(r["step_wall_ms"] for r in pre18),
            "shared_ms": shared_ms, "shared_by_kind_ms": dict(by_kind.most_common()),
            "unigen_not_shared_ms": inside_a - shared_ms,
            "measured_ratio_wall": statistics.median(walls),
            "measured_ratio_cpu": statistics.median(cpus),
            "measured_ratio_inside": inside_b / inside_a,
            "bound_ratio": inside_b / shared_ms,
            "hidden_layer_ms": {"unigen": hidden_a, "pre18": hidden_b},
            "bound_ratio_with_hidden": inside_b / (shared_ms + min(hidden_a, hidden_b))}


def compare(rounds=3, steps=8, batch=64, size=28):
    """`run` for unigen's step and the step before #18 alternately, then `shared_bound`."""
    ours, pre18 = [], []
    for i in range(rounds):
        order = (False, True) if i % 2 == 0 else (True, False)
        for legacy in order:
            (pre18 if legacy else ours).append(run(steps, batch, size, pre18=legacy))
    return {"size": size, "batch_size": batch, "steps_recorded": steps,
            "bound": shared_bound(ours, pre18), "unigen": ours, "pre18": pre18}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=4)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=28, choices=(8, 28))
    parser.add_argument("--pre18", action="store_true",
                        help="record the step before issue #18 instead of unigen's")
    parser.add_argument("--compare", type=int, default=0, metavar="ROUNDS",
                        help="record both steps alternately for ROUNDS rounds and give the "
                             "ratio the shared kernels allow (writes glow_onednn_bound.json)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args.steps, args.batch, args.size, args.pre18)
    from benchmarks import write_result

    if args.compare:
        result = compare(args.compare, args.steps, args.batch, args.size)
        result["command"] = "python benchmarks/glow_onednn.py " + " ".join(sys.argv[1:])
        b = result["bound"]
        print(f"{b['rounds']} rounds; step before #18 / unigen's step: "
              f"{b['measured_ratio_wall']:.2f}x wall, {b['measured_ratio_cpu']:.2f}x CPU, "
              f"{b['measured_ratio_inside']:.2f}x inside oneDNN "
              f"({b['pre18_inside_ms']:.1f} / {b['unigen_inside_ms']:.1f} ms)")
        print(f"kernels both steps run (same kind, pass and shape): {b['shared_ms']:.1f} ms")
        for kind, ms in b["shared_by_kind_ms"].items():
            print(f"  {kind:36s} {ms:7.2f} ms/step")
        print(f"unigen's step outside them: {b['unigen_not_shared_ms']:.1f} ms; a step made "
              f"of the shared kernels alone would be at most {b['bound_ratio']:.2f}x the "
              f"step before #18")
        h = b["hidden_layer_ms"]
        print(f"the coupling networks' hidden 1x1 layer: {h['unigen']:.1f} ms in unigen's step, "
              f"{h['pre18']:.1f} ms before #18; with the faster added, any step computing "
              f"this model with these kernels is at most {b['bound_ratio_with_hidden']:.2f}x "
              f"the step before #18")
        write_result(f"glow_onednn_bound{'' if args.size == 28 else '_8x8'}", result)
        return None

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
    name = "glow_onednn" + ("_pre18" if args.pre18 else "")
    write_result(f"{name}{'' if args.size == 28 else '_8x8'}", result)


if __name__ == "__main__":
    main()
