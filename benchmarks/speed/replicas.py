"""Scaling: 2 replicas against 1 on the same machine, same global batch.

Each configuration runs in a fresh process (``python -m
benchmarks.speed.replicas --replicas R ...``), because splitting the CPU into
two logical devices for `tf.distribute.MirroredStrategy` must happen before
any TensorFlow op. The processes run one after the other, in the order 1, 2,
2, 1, ... The child trains the model with ``unigen.fit(..., strategy=...)`` for
1 + rounds epochs and prints the steps per second of every epoch but the
first (tracing) as JSON on its last line.

Efficiency = rate(2 replicas) / rate(1 replica) at the same global batch: 1.0
means the second device bought nothing and cost nothing; on a CPU a single
replica already uses every core through TensorFlow's intra-op threads, so
values near or below 1 are expected there. On 2 GPUs the ideal is 2.0.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys

__all__ = ["run"]

_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def run(cfg, device="cpu", model="glow", processes=2):
    """Medians of the per-epoch rates of 1 and 2 replicas, and their ratio."""
    order = [1, 2, 2, 1, 1, 2][:max(2, processes)]
    rates, errors = {1: [], 2: []}, {}
    for replicas in order:
        cmd = [sys.executable, "-m", "benchmarks.speed.replicas", "--replicas", str(replicas),
               "--mode", cfg["mode"], "--rounds", str(cfg["rounds"]), "--model", model,
               "--device", device]
        env = {**os.environ, "PYTHONPATH": _ROOT, "TF_CPP_MIN_LOG_LEVEL": "3"}
        proc = subprocess.run(cmd, cwd=_ROOT, env=env, capture_output=True, text=True,
                              timeout=900)
        if proc.returncode != 0:
            errors[replicas] = proc.stderr[-1500:]
            continue
        rates[replicas] += json.loads(proc.stdout.strip().splitlines()[-1])["rates"]
    out = {"model": model, "global_batch": cfg["batch"], "process_order": order,
           "rates_steps_per_second": {str(r): v for r, v in rates.items()}}
    if errors:
        out["errors"] = {str(r): e for r, e in errors.items()}
    if rates[1] and rates[2]:
        out["median_steps_per_second"] = {str(r): statistics.median(v)
                                          for r, v in rates.items()}
        out["efficiency"] = statistics.median(rates[2]) / statistics.median(rates[1])
    else:
        out["efficiency"] = None
    return out


def _child(args):
    import unigen  # no TensorFlow op runs at import

    if args.device == "gpu":
        import tensorflow as tf

        gpus = tf.config.list_logical_devices("GPU")
        if len(gpus) < args.replicas:
            raise SystemExit(f"{args.replicas} replicas need {args.replicas} GPUs, "
                             f"TensorFlow sees {len(gpus)}.")
        devices = [g.name for g in gpus[:args.replicas]]
    else:
        devices = unigen.split_cpu(args.replicas) if args.replicas > 1 else ["/cpu:0"]

    import tensorflow as tf

    from benchmarks.speed import configs
    from benchmarks.speed.timing import EpochTimer

    cfg = configs.config(args.mode, args.rounds)
    strategy = tf.distribute.MirroredStrategy(devices) if args.replicas > 1 else None
    timer = EpochTimer()
    unigen.fit(configs.factory(args.model, cfg), configs.training_data(cfg),
               epochs=1 + cfg["rounds"], batch_size=cfg["batch"], seed=0,
               strategy=strategy, callbacks=[timer], verbose=0)
    print(json.dumps({"rates": [cfg["steps"] / s for s in timer.seconds[1:]]}))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="One replica-scaling measurement.")
    parser.add_argument("--replicas", type=int, required=True)
    parser.add_argument("--mode", required=True)
    parser.add_argument("--rounds", type=int, required=True)
    parser.add_argument("--model", default="glow")
    parser.add_argument("--device", default="cpu")
    _child(parser.parse_args())
