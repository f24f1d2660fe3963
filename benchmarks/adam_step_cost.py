"""The DCGAN and VAE training steps with the fused Adam and with Keras's Adam.

    python benchmarks/adam_step_cost.py [--mode full|quick] [--rounds 10] [--steps 5]

Issue #18: every family's default optimizer (model and critics) is
`unigen.training.FusedAdam`, Keras's Adam with each variable's update as one
``ResourceApplyAdam`` kernel. This measures what that buys the DCGAN and the
VAE at the speed suite's sizes (`benchmarks.speed.configs`, ``full``: 28x28x1,
256 levels, batch 64; ``quick``: 8x8 digits), two contenders per model on the
same initial weights, compiled as `unigen.fit` compiles them and stepped through
Keras's own training function (``model.make_train_function()``, no XLA):

* ``fused``: the model's default optimizers (``compile_for_fit``);
* ``keras_adam``: the same optimizers (same config: learning rate, ``beta_1``,
  clipping) as ``keras.optimizers.Adam`` objects, for the model and every critic.

Per contender: the ops of the traced ``train_step`` graph, and the time per
step from `benchmarks.speed.steps.interleave` (per step, rounds in a shuffled
order, an A/A control on ``fused``) in process CPU seconds (the machine is
shared: CPU time carries less of the other processes' load) and wall-clock.
Writes benchmarks/results/adam_step_cost[_quick].json.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import keras
import tensorflow as tf

LEARNING_RATE = 1e-3


def _models(name, cfg):
    """{"fused": default optimizers, "keras_adam": Keras's Adam with the same configs}."""
    from benchmarks.speed.configs import factory

    build = factory(name, cfg)
    fused = build()
    fused.compile_for_fit(learning_rate=LEARNING_RATE)
    plain = build()

    def keras_adam(optimizer):
        return keras.optimizers.Adam.from_config(optimizer.get_config())

    plain.compile(optimizer=keras_adam(fused.optimizer),
                  critic_optimizer={c.name: keras_adam(c.optimizer) for c in fused.critics})
    plain.set_weights(fused.get_weights())  # compile built both: the same initial weights
    for model in (fused, plain):
        kinds = {type(model.optimizer).__name__,
                 *(type(c.optimizer).__name__ for c in model.critics)}
        assert len(kinds) == 1, kinds
    return {"fused": fused, "keras_adam": plain}


def _graph_ops(model, batch, shape):
    from benchmarks.speed.steps import train_step_graph

    _, ops = train_step_graph(model, (batch, *shape))
    return {"ops": sum(ops.values()), "ResourceApplyAdam": ops.get("ResourceApplyAdam", 0),
            "optimizers": [type(model.optimizer).__name__,
                           *(type(c.optimizer).__name__ for c in model.critics)]}


def run_model(name, cfg, rounds, steps_per_round):
    from benchmarks.speed import steps as timing
    from benchmarks.speed.configs import training_data

    data = training_data(cfg).astype("float32")
    batch = cfg["batch"]
    models = _models(name, cfg)
    graphs = {k: _graph_ops(m, batch, cfg["shape"]) for k, m in models.items()}
    dataset = tf.data.Dataset.from_tensor_slices(data).batch(batch, drop_remainder=True)

    result = timing.interleave({k: timing.train_step_runner(m, dataset)
                                for k, m in models.items()}, rounds,
                               steps_per_round, control="fused")
    figures = {}
    for key, entry in result["contenders"].items():
        figures[key] = {"graph_ops": graphs[key.split(" ")[0]]["ops"],
                        "cpu_ms_per_step": 1e3 * entry["cpu_step_seconds_median"],
                        "wall_ms_per_step": 1e3 * entry["step_seconds_median"]}
    ratios = {pair: {"cpu": timing.compare(result, "fused", other, clock="cpu"),
                     "wall": timing.compare(result, "fused", other)}
              for pair, other in (("fused/keras_adam", "keras_adam"),
                                  ("fused/fused (A/A)", "fused (A/A)"))}
    return {"graphs": graphs, "figures": figures, "speedups": ratios, "timing": result}


def main():
    from benchmarks.speed.configs import config

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--mode", default="full", choices=("full", "quick"))
    parser.add_argument("--rounds", type=int, default=10)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--models", default="dcgan,vae")
    args = parser.parse_args()
    cfg = config(args.mode)
    out = {"command": "python benchmarks/adam_step_cost.py " + " ".join(sys.argv[1:]),
           "mode": args.mode, "batch_size": cfg["batch"], "shape": list(cfg["shape"]),
           "levels": cfg["levels"], "load_average_start": list(os.getloadavg()), "models": {}}
    for name in args.models.split(","):
        out["models"][name] = r = run_model(name, cfg, args.rounds, args.steps)
        print(f"{name}: load {r['timing']['load_average'][-1]:.1f}")
        for key, f in r["figures"].items():
            print(f"  {key:18s} ops {f['graph_ops']:6d}  cpu {f['cpu_ms_per_step']:7.1f} ms  "
                  f"wall {f['wall_ms_per_step']:7.1f} ms")
        for pair, s in r["speedups"].items():
            c, w = s["cpu"], s["wall"]
            print(f"  {pair:18s} cpu {c['median']:.3f}x [{c['quartiles'][0]:.3f}-"
                  f"{c['quartiles'][1]:.3f}] {c['verdict']}; wall {w['median']:.3f}x "
                  f"[{w['quartiles'][0]:.3f}-{w['quartiles'][1]:.3f}] {w['verdict']}")
    out["load_average_end"] = list(os.getloadavg())
    from benchmarks import write_result

    suffix = "" if args.mode == "full" else f"_{args.mode}"
    write_result(f"adam_step_cost{suffix}", out, load_average_start=out["load_average_start"])


if __name__ == "__main__":
    main()
