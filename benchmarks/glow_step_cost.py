"""Glow's training step in unigen.fit's path: graph ops, executed GFLOP/s, CPU and wall time.

    python benchmarks/glow_step_cost.py [--rounds 12] [--steps 5] [--batch 64] [--size 28|8]

The issue #18 measurement of the fixed per-step cost. Glow at 28x28x1, 2 levels
x 4 steps, 64 hidden channels, 256 levels (the speed suite's full size),
compiled as `unigen.fit` compiles it and stepped through Keras's own training
function (``model.make_train_function()``, no XLA), three ways on the same
initial weights:

* ``unigen``: the model as it is now (its default optimizer, `unigen.training.FusedAdam`,
  and the coupling networks' hidden 1x1 convolution as one GEMM);
* ``keras_adam``: the same with Keras's ``keras.optimizers.Adam`` (the fused
  update's share);
* ``conv_hidden``: the same with the coupling networks called as Keras
  ``Sequential`` models (the hidden 1x1 ``Conv2D`` as oneDNN's convolution: the
  GEMM's share);
* ``pre18``: the bijector and log-det ops from before issue #18
  (`benchmarks.speed.legacy_glow`) with Keras's Adam: the step as it was.

Per contender: the ops of the traced step's graph (all of them and by type),
its executed FLOPs (`benchmarks.speed.flops.graph_flops`), and its steps per
second, measured with `benchmarks.speed.steps.interleave` (per step, rounds in
a shuffled order, an A/A control on ``unigen``, the matmul peak once a round)
in wall-clock and in process CPU seconds. Writes
benchmarks/results/glow_step_cost.json.
"""

import argparse
import os
import statistics
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import numpy as np
import tensorflow as tf

LEVELS, STEPS, HIDDEN = 2, 4, 64
SIZES = {28: ((28, 28, 1), 256), 8: ((8, 8, 1), 17)}  # image shape, pixel levels
SHAPE, NUM_LEVELS = SIZES[28]


def _keras_network_call(model):
    """The model's couplings call their network as Keras does (no GEMM for 1x1)."""
    import types

    from unigen.flows import AffineCoupling

    def params(self, x_a):
        h = tf.cast(self.network(x_a), x_a.dtype)
        if self.additive:
            return h, None
        shift, raw = tf.split(h, 2, axis=-1)
        return shift, _stable_scale(raw)

    from unigen.flows._layers import _stable_scale

    for layer in model._flatten_layers(include_self=False, recursive=True):
        if isinstance(layer, AffineCoupling):
            object.__setattr__(layer, "_params", types.MethodType(params, layer))
    return model


def _model(data, batch, legacy=False, optimizer=None, conv_hidden=False):
    import unigen
    from benchmarks.speed.legacy_glow import use_legacy_ops

    model = unigen.models.Glow(image_shape=SHAPE, levels=LEVELS, steps_per_level=STEPS,
                               hidden_channels=HIDDEN, num_levels=NUM_LEVELS, warmup_steps=0,
                               seed=0)
    model.data_dependent_init(data[:batch])
    if legacy:
        use_legacy_ops(model)
    if conv_hidden:
        _keras_network_call(model)
    model.compile_for_fit(learning_rate=1e-3, optimizer=optimizer)
    return model


def _graph(model, batch):
    """The traced ``train_step``'s graph: op counts and executed FLOPs."""
    from benchmarks.speed.flops import graph_flops
    from benchmarks.speed.steps import train_step_graph

    graph, ops = train_step_graph(model, (batch, *SHAPE))
    return {"ops": sum(ops.values()), "ops_by_type": dict(ops.most_common()),
            "flops": graph_flops(graph)}


def run(rounds=12, steps_per_round=5, batch=64):
    from benchmarks.speed import steps as timing
    from benchmarks.speed.flops import peak_probe

    rng = np.random.default_rng(0)
    data = rng.integers(0, NUM_LEVELS, size=(batch * 4, *SHAPE)).astype("float32")
    models = {"unigen": _model(data, batch),
              "keras_adam": _model(data, batch, optimizer=keras.optimizers.Adam(1e-3)),
              "conv_hidden": _model(data, batch, conv_hidden=True),
              "pre18": _model(data, batch, legacy=True,
                              optimizer=keras.optimizers.Adam(1e-3))}
    graphs = {name: _graph(m, batch) for name, m in models.items()}
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)

    result = timing.interleave({n: timing.train_step_runner(m, dataset)
                                for n, m in models.items()}, rounds,
                               steps_per_round, control="unigen", peak=peak_probe(2048))
    figures = {}
    for name, entry in result["contenders"].items():
        base = name.split(" ")[0]
        flops = graphs[base]["flops"]
        figures[name] = {
            "graph_ops": graphs[base]["ops"],
            "steps_per_second": entry["steps_per_second"],
            "cpu_seconds_per_step": entry["cpu_step_seconds_median"],
            "executed_gflops_per_step": flops / 1e9,
            "executed_gflops_per_second": flops * entry["steps_per_second"] / 1e9,
            "executed_gflops_per_cpu_second": flops / entry["cpu_step_seconds_median"] / 1e9}
    ratios = {}
    for a, b in (("unigen", "pre18"), ("unigen", "keras_adam"), ("unigen", "conv_hidden"),
                 ("unigen", "unigen (A/A)")):
        ratios[f"{a}/{b}"] = {"wall": timing.compare(result, a, b),
                              "cpu": timing.compare(result, a, b, clock="cpu")}
    return {"shape": list(SHAPE), "levels": LEVELS, "steps_per_level": STEPS,
            "hidden": HIDDEN, "batch_size": batch, "graphs": graphs, "figures": figures,
            "speedups": ratios, "timing": result,
            "peak_gflops_median": statistics.median(result["peak_gflops"]),
            "load_average_per_round": result["load_average"]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=12)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--size", type=int, default=28, choices=sorted(SIZES),
                        help="28: 28x28x1, 256 levels (default); 8: 8x8x1, 17 levels")
    args = parser.parse_args()
    global SHAPE, NUM_LEVELS
    SHAPE, NUM_LEVELS = SIZES[args.size]
    load_start = list(os.getloadavg())
    result = run(args.rounds, args.steps, args.batch)
    result["command"] = "python benchmarks/glow_step_cost.py " + " ".join(sys.argv[1:])
    result["load_average_start"], result["load_average_end"] = load_start, list(
        os.getloadavg())
    print(f"load average {load_start[0]:.2f} -> {result['load_average_end'][0]:.2f}; "
          f"matmul peak median {result['peak_gflops_median']:.0f} GFLOP/s")
    print(f"{'contender':20s} {'ops':>6s} {'steps/s':>8s} {'cpu ms':>8s} {'GFLOP/s':>8s} "
          f"{'GFLOP/cpu-s':>11s}")
    for name, f in result["figures"].items():
        print(f"{name:20s} {f['graph_ops']:6d} {f['steps_per_second']:8.2f} "
              f"{1e3 * f['cpu_seconds_per_step']:8.1f} {f['executed_gflops_per_second']:8.1f} "
              f"{f['executed_gflops_per_cpu_second']:11.1f}")
    for pair, r in result["speedups"].items():
        print(f"{pair:20s} wall {r['wall']['median']:.2f}x [{r['wall']['quartiles'][0]:.2f}-"
              f"{r['wall']['quartiles'][1]:.2f}] {r['wall']['verdict']}; cpu "
              f"{r['cpu']['median']:.2f}x [{r['cpu']['quartiles'][0]:.2f}-"
              f"{r['cpu']['quartiles'][1]:.2f}] {r['cpu']['verdict']}")
    from benchmarks import write_result

    suffix = "" if args.size == 28 else f"_{args.size}x{args.size}"
    write_result(f"glow_step_cost{suffix}", result, load_average_start=load_start)


if __name__ == "__main__":
    main()
