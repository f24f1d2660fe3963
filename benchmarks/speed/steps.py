"""Per-step A/B timing that holds on a shared machine, with its own noise floor.

The measurement (issue #18):

* **Tracing apart.** The first call of each contender (tracing, graph
  optimisation, XLA compilation) is timed on its own and reported as
  ``trace_seconds``; ``warmup_steps`` more calls are dropped.
* **Per step, interleaved.** Every training step is timed on its own (the
  call returns once its loss is on the host). The contenders take turns in
  short rounds of ``steps_per_round`` steps, in a fresh order each round (a
  permutation drawn from a fixed seed), for many rounds, so load from other
  processes falls on all of them alike and every pair, the A/A pair
  included, is on average as often adjacent as apart.
* **Medians with their spread.** A contender's time per step is the median of
  all its timed steps; a ratio between two contenders is computed per round
  (from the two per-round medians, measured seconds apart) and reported as
  the median of those ratios with their interquartile range and range.
* **An A/A control in every run.** One contender also runs under a second
  name (the very same step function, timed as if it were another contender).
  The spread of the A/A ratio around 1, as a factor (a ratio r and 1/r are
  equally far from 1), is the noise floor of the run: an A/B ratio within it
  is reported as "no difference".
* **The hardware's limit, interleaved.** ``peak`` (a callable returning the
  GFLOP/s of one matmul timing) runs after every round, so every FLOP/s
  figure is compared with the peak measured in its own round.
* **Load recorded.** The one-minute load average after each round.
* **CPU time beside wall-clock.** Each step's process CPU time
  (``time.process_time``, all threads) is recorded too: on a shared machine a
  step that waits for a core costs wall time but no CPU time, so the CPU
  figures (``cpu_*`` keys, ``compare(..., clock="cpu")``) measure the work a
  step does with less of the other processes' noise.
"""

import collections
import os
import random
import statistics
import time

__all__ = ["compare", "interleave", "noise_floor", "quartiles", "round_order",
           "train_step_graph", "train_step_runner"]


def train_step_runner(model, dataset):
    """One step of ``model``'s compiled Keras train function per call, on ``dataset`` repeated.

    The call returns once the step's loss is on the host, so `interleave` times
    the whole step.
    """
    iterator = iter(dataset.repeat())
    model.make_train_function()
    train = model.train_function
    return lambda: float(train(iterator)["loss"])


def train_step_graph(model, batch_shape):
    """The graph of ``model.train_step`` traced on float32 batches of ``batch_shape``,
    and a `collections.Counter` of its op types."""
    import tensorflow as tf

    spec = tf.TensorSpec(tuple(batch_shape), tf.float32)
    graph = tf.function(model.train_step).get_concrete_function(spec).graph
    return graph, collections.Counter(op.type for op in graph.get_operations())


def quartiles(values):
    """(first quartile, median, third quartile) of ``values`` (inclusive method)."""
    values = sorted(values)
    if len(values) == 1:
        return values[0], values[0], values[0]
    q1, q2, q3 = statistics.quantiles(values, n=4, method="inclusive")
    return q1, q2, q3


def interleave(contenders, rounds, steps_per_round, warmup_steps=2, control=None,
               peak=None):
    """Times ``contenders`` step by step in alternating rounds.

    Args:
        contenders: dict name -> zero-argument function running one training
            step and returning once its result is computed.
        rounds: timed rounds (each contender runs ``steps_per_round`` steps per round).
        steps_per_round: steps timed per contender and round.
        warmup_steps: calls dropped after the first (tracing) call.
        control: name of the contender also run as ``"<control> (A/A)"``.
        peak: optional zero-argument function returning GFLOP/s, run once per round.

    Returns:
        dict with "contenders" (per name: trace_seconds, step_seconds_median,
        step_seconds_quartiles, steps_per_second, round_medians, steps_timed),
        "control" (the A/A pair), "peak_gflops" (per round), "load_average"
        (per round), "rounds" and "steps_per_round".
    """
    fns = dict(contenders)
    aa = None
    if control is not None:
        if control not in fns:
            raise ValueError(f"`control` must name a contender, got {control!r}.")
        aa = f"{control} (A/A)"
        fns[aa] = fns[control]
    names = list(fns)
    trace = {}
    for name in contenders:
        start = time.perf_counter()
        fns[name]()
        trace[name] = time.perf_counter() - start
    for name in names:
        for _ in range(warmup_steps):
            fns[name]()
    per_round = {name: [] for name in names}
    cpu_round = {name: [] for name in names}
    peaks, loads = [], []
    for r in range(rounds):
        order = round_order(names, r)
        for name in order:
            seconds, cpu = [], []
            for _ in range(steps_per_round):
                start, cpu_start = time.perf_counter(), time.process_time()
                fns[name]()
                seconds.append(time.perf_counter() - start)
                cpu.append(time.process_time() - cpu_start)
            per_round[name].append(seconds)
            cpu_round[name].append(cpu)
        if peak is not None:
            peaks.append(float(peak()))
        loads.append(os.getloadavg()[0])
    out = {}
    for name in names:
        steps = [s for block in per_round[name] for s in block]
        q1, median, q3 = quartiles(steps)
        out[name] = {"trace_seconds": trace.get(name, trace.get(control)),
                     "step_seconds_median": median, "step_seconds_quartiles": [q1, q3],
                     "steps_per_second": 1.0 / median,
                     "round_medians": [statistics.median(b) for b in per_round[name]],
                     "cpu_step_seconds_median": statistics.median(
                         [s for block in cpu_round[name] for s in block]),
                     "cpu_round_medians": [statistics.median(b) for b in cpu_round[name]],
                     "steps_timed": len(steps)}
    result = {"contenders": out, "rounds": rounds, "steps_per_round": steps_per_round,
              "warmup_steps": warmup_steps, "peak_gflops": peaks, "load_average": loads}
    if aa is not None:
        result["control"] = {"name": control, "twin": aa,
                             "ratio": compare(result, control, aa, with_verdict=False),
                             "cpu_ratio": compare(result, control, aa, with_verdict=False,
                                                  clock="cpu")}
    return result


def round_order(names, r):
    """Round ``r``'s order: a permutation drawn from a fixed seed, so over many
    rounds every pair of contenders (the A/A pair included) is run adjacent
    and apart, first and last, equally often on average."""
    order = list(names)
    random.Random(1000 + r).shuffle(order)
    return order


def compare(result, faster, slower, with_verdict=True, clock="wall"):
    """How many times faster ``faster`` ran than ``slower``, round by round.

    Per round: median step seconds of ``slower`` / those of ``faster``, in
    wall-clock seconds or (``clock="cpu"``) process CPU seconds.
    Returns the median of the per-round ratios, their quartiles and range,
    and (``with_verdict``) the verdict against the run's A/A noise floor:
    "no difference" when |ratio - 1| <= the floor, else "faster"/"slower".
    """
    key = "cpu_round_medians" if clock == "cpu" else "round_medians"
    a = result["contenders"][faster][key]
    b = result["contenders"][slower][key]
    ratios = [sb / sa for sa, sb in zip(a, b, strict=True)]
    q1, median, q3 = quartiles(ratios)
    out = {"median": median, "quartiles": [q1, q3], "range": [min(ratios), max(ratios)],
           "per_round": ratios}
    if with_verdict:
        floor = noise_floor(result, clock)
        out["noise_floor"] = floor
        if floor is None:
            out["verdict"] = "no A/A control"
        elif _distance_from_one(median) <= floor:
            out["verdict"] = "no difference"
        else:
            out["verdict"] = "faster" if median > 1.0 else "slower"
    return out


def _distance_from_one(ratio):
    """max(r, 1/r) - 1: how far a speed ratio is from 1, the same for r and 1/r."""
    return max(ratio, 1.0 / ratio) - 1.0


def noise_floor(result, clock="wall"):
    """The A/A spread: the largest `_distance_from_one` of the A/A ratio's median and quartiles.

    Measured as a factor, so that at high load (A/A quartiles 0.9x to 3.7x) a 20x
    slowdown is "slower", not "no difference" as a linear |r - 1| would make it.
    """
    control = result.get("control")
    if not control:
        return None
    ratio = control["cpu_ratio" if clock == "cpu" else "ratio"]
    return max(_distance_from_one(v) for v in [ratio["median"], *ratio["quartiles"]])
