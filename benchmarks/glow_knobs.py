"""Glow's step under process-wide oneDNN and TensorFlow threading switches.

    python benchmarks/glow_knobs.py [--rounds 4] [--steps 30] [--knobs NAME,NAME]

Switches a user could set without touching the model, each a fresh process
running Glow's step as `benchmarks/glow_onednn.py` does (``unigen.fit``'s
compiled train function, 28x28x1, 2 levels x 4 steps, 64 hidden channels,
batch 64; 5 warm-up steps, then ``--steps`` timed): the rounds go through the
knobs in turn, so a change of load hits all of them alike, and each knob's
figure is the median over rounds of its mean step time, in wall-clock and in
process CPU time (all threads; steadier when the machine is shared), with its
ratios to ``default`` (above 1: faster than the default):

* ``default``: nothing set;
* ``avx2`` / ``avx512_core``: ``ONEDNN_MAX_CPU_ISA`` caps oneDNN's kernels at
  that instruction set (AVX2's kernels work on blocks of 8 channels instead of
  16: less padding for Glow's 2- and 4-channel convolutions);
* ``caller_thread``: ``TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD=1`` (the thread
  that runs an op takes part in its oneDNN work);
* ``system_allocator``: ``TF_ONEDNN_USE_SYSTEM_ALLOCATOR=1``;
* ``inter_op_1``: ``tf.config.threading.set_inter_op_parallelism_threads(1)``
  (ops one after another, each on every core).

Writes benchmarks/results/glow_knobs.json.
"""

import argparse
import os
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

KNOBS = {
    "default": {},
    "avx2": {"ONEDNN_MAX_CPU_ISA": "AVX2"},
    "avx512_core": {"ONEDNN_MAX_CPU_ISA": "AVX512_CORE"},
    "caller_thread": {"TF_ONEDNN_THREADPOOL_USE_CALLER_THREAD": "1"},
    "system_allocator": {"TF_ONEDNN_USE_SYSTEM_ALLOCATOR": "1"},
    "inter_op_1": {"UNIGEN_BENCH_INTER_OP": "1"},
}


def step_ms(knob, steps):
    """Mean wall and CPU ms of one Glow step in a fresh process with ``knob`` set."""
    from benchmarks import glow_onednn

    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", **KNOBS[knob])
    out = subprocess.run([sys.executable, glow_onednn.__file__, "--child", "--steps", str(steps)],
                         env=env, capture_output=True, text=True, check=False, cwd=ROOT)
    end = [line for line in out.stdout.splitlines() if line.startswith(glow_onednn._END)]
    if out.returncode or not end:
        raise RuntimeError(f"{knob}: the child run failed (exit {out.returncode}):\n"
                           f"{out.stderr[-3000:]}")
    cpu, wall = (1e3 * float(v) for v in end[0].split()[-2:])
    return wall, cpu


def run(knobs, rounds=4, steps=30):
    walls = {k: [] for k in knobs}
    cpus = {k: [] for k in knobs}
    loads = []
    for r in range(rounds):
        loads.append(os.getloadavg()[0])
        for knob in knobs:
            wall, cpu = step_ms(knob, steps)
            walls[knob].append(wall)
            cpus[knob].append(cpu)
            print(f"round {r + 1}: {knob:17s} {wall:6.1f} ms wall {cpu:6.1f} ms CPU", flush=True)
    base = statistics.median(walls["default"]) if "default" in walls else None
    base_cpu = statistics.median(cpus["default"]) if "default" in cpus else None
    figures = {}
    for knob in knobs:
        median = statistics.median(walls[knob])
        figures[knob] = {"env": KNOBS[knob], "wall_ms_per_round": walls[knob],
                         "cpu_ms_per_round": cpus[knob], "wall_ms_median": median,
                         "cpu_ms_median": statistics.median(cpus[knob]),
                         "speedup_over_default": base / median if base else None,
                         "cpu_speedup_over_default": (base_cpu / statistics.median(cpus[knob])
                                                      if base_cpu else None)}
    return {"rounds": rounds, "steps_per_round": steps, "load_average_per_round": loads,
            "knobs": figures}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--knobs", default=",".join(KNOBS),
                        help=f"comma-separated, from {', '.join(KNOBS)}")
    args = parser.parse_args()
    knobs = [k for k in args.knobs.split(",") if k]
    unknown = [k for k in knobs if k not in KNOBS]
    if unknown:
        parser.error(f"unknown knob(s) {', '.join(unknown)}; choose from {', '.join(KNOBS)}")
    from benchmarks import write_result

    result = run(knobs, args.rounds, args.steps)
    result["command"] = "python benchmarks/glow_knobs.py " + " ".join(sys.argv[1:])
    for knob, f in result["knobs"].items():
        ratio, cpu = f["speedup_over_default"], f["cpu_speedup_over_default"]
        print(f"{knob:17s} median {f['wall_ms_median']:6.1f} ms wall, {f['cpu_ms_median']:6.1f} "
              f"ms CPU" + ("" if ratio is None else
                           f"; {ratio:5.2f}x the default's rate in wall time, {cpu:5.2f}x in CPU"))
    write_result("glow_knobs", result)


if __name__ == "__main__":
    main()
