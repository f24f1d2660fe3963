"""The training pipeline of `unigen.fit` against the number of epochs, before and after #18.

    python benchmarks/pipeline_epochs.py [--epochs 10,100,1000,10000] [--max-batches 20000]
                                         [--fit-epochs 1000] [--out FILE]

Before issue #18 (round 4) `unigen.training._data.training_batches` built one
shuffled dataset per epoch and chained them with ``choose_from_datasets``
(``legacy_training_batches`` below, kept verbatim as the baseline); now it is
one pipeline, ``Dataset.range(first_epoch, epochs)`` mapped to each epoch's
batches by stateless random ops. On 1,000 two-moons points (2-D, float32),
batch 100 (10 steps per epoch), for each number of epochs and both paths
(``arrays``: in memory, what `unigen.fit` does for arrays and dataset names;
``stream``: a `tf.data.Dataset`), both implementations alternated:

* build: seconds to construct the pipeline (wall and process CPU);
* first batch: seconds to the first batch (instantiating the pipeline);
* iterate: milliseconds per batch over the next ``--max-batches`` - 1 batches
  (wall and process CPU; CPU time counts every thread, including tf.data's);
* the size of the dataset graph (nodes, functions included).

Then ``unigen.fit`` of a small RealNVP (2 couplings, 8 hidden units) on the
same data for ``--fit-epochs`` epochs, once with the legacy pipeline patched in
and once with the current one (same seed, so the same model and optimiser;
the data order differs): whole-call wall time and the final loss.
Writes benchmarks/results/pipeline_epochs.json.
"""

import argparse
import itertools
import os
import sys
import time
from unittest import mock

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import tensorflow as tf

BATCH = 100
NUM_EXAMPLES = 1000


def legacy_training_batches(ds, *, batch_size, steps, first_epoch, epochs, seed, shuffle,
                            buffer_size, arrays=None):
    """`training_batches` before #18 round 4: one dataset per epoch (the baseline)."""
    from unigen.training._data import _as_float

    if arrays is not None:
        tensors = tuple(tf.convert_to_tensor(a) for a in arrays)
        source = tf.data.Dataset.range(len(arrays[0]))
    else:
        source = ds

    def one_epoch(epoch):
        d = source
        if shuffle:
            d = d.shuffle(buffer_size, seed=(int(seed) * 1_000_003 + int(epoch) * 7_919 + 1)
                          % (2**31 - 1), reshuffle_each_iteration=False)
        d = d.batch(batch_size, drop_remainder=True)
        if arrays is None:
            return d.map(_as_float)
        return d.map(lambda index: _as_float(*(tf.gather(t, index) for t in tensors)))

    epoch_datasets = [one_epoch(e) for e in range(first_epoch, epochs)]
    if len(epoch_datasets) == 1:
        return epoch_datasets[0].prefetch(tf.data.AUTOTUNE)
    choice = tf.data.Dataset.range(len(epoch_datasets)).flat_map(
        lambda i: tf.data.Dataset.from_tensors(i).repeat(steps))
    chained = tf.data.Dataset.choose_from_datasets(epoch_datasets, choice)
    return chained.prefetch(tf.data.AUTOTUNE)


def _implementations():
    from unigen.training import _data

    return {"legacy": legacy_training_batches, "current": _data.training_batches}


def _moons():
    import unigen

    return unigen.datasets.as_numpy("moons", "train")[:NUM_EXAMPLES]


def _graph_nodes(ds):
    graph = tf.compat.v1.GraphDef.FromString(ds._as_serialized_graph().numpy())
    return len(graph.node) + sum(len(f.node_def) for f in graph.library.function)


def _clocks():
    return time.perf_counter(), time.process_time()


def _since(start):
    wall, cpu = _clocks()
    return wall - start[0], cpu - start[1]


def measure(impl, x, path, epochs, max_batches):
    """Build and iteration cost of one pipeline."""
    ds = tf.data.Dataset.from_tensor_slices(x)
    start = _clocks()
    batches = impl(ds, arrays=(x,) if path == "arrays" else None, batch_size=BATCH,
                   steps=len(x) // BATCH, first_epoch=0, epochs=epochs, seed=0,
                   shuffle=True, buffer_size=len(x))
    build_wall, build_cpu = _since(start)
    wanted = min(max_batches, epochs * (len(x) // BATCH))
    start = _clocks()
    iterator = iter(batches)
    next(iterator)  # the first batch: instantiating the pipeline, filling the first buffer
    first_wall, first_cpu = _since(start)
    start = _clocks()
    count = 1 + sum(1 for _ in itertools.islice(iterator, wanted - 1))
    iterate_wall, iterate_cpu = _since(start)
    assert count == wanted, (count, wanted)
    nodes = _graph_nodes(batches) if epochs <= 1000 or impl is not legacy_training_batches \
        else None  # serialising 10,000 legacy datasets takes minutes; skipped
    return {"build_seconds": build_wall, "build_cpu_seconds": build_cpu, "batches": count,
            "first_batch_seconds": first_wall, "first_batch_cpu_seconds": first_cpu,
            "ms_per_batch": 1e3 * iterate_wall / (count - 1),
            "cpu_ms_per_batch": 1e3 * iterate_cpu / (count - 1), "graph_nodes": nodes}


def fit_time(impl, x, epochs):
    """Whole `unigen.fit` call of a small RealNVP with ``impl`` as the pipeline."""
    import unigen
    from unigen.training import _data

    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    with mock.patch.object(_data, "training_batches", impl):
        start = _clocks()
        history = unigen.fit(model, x, epochs=epochs, batch_size=BATCH, seed=0, verbose=0)
        wall, cpu = _since(start)
    return {"fit_seconds": wall, "fit_cpu_seconds": cpu,
            "seconds_per_epoch": wall / epochs, "final_loss": history.history["loss"][-1]}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", default="10,100,1000,10000")
    parser.add_argument("--max-batches", type=int, default=20_000)
    parser.add_argument("--fit-epochs", type=int, default=1000, help="0 skips the fit figure")
    parser.add_argument("--out", default=None,
                        help="JSON file (default benchmarks/results/pipeline_epochs.json)")
    args = parser.parse_args()
    from benchmarks import describe_machine, write_result

    load_start = list(os.getloadavg())
    info = describe_machine("cpu")
    x = _moons()
    impls = _implementations()
    result = {"command": " ".join(["python benchmarks/pipeline_epochs.py", *sys.argv[1:]]),
              "machine": info, "num_examples": len(x), "batch_size": BATCH,
              "max_batches": args.max_batches, "pipeline": {}, "fit": {}}
    for epochs in (int(e) for e in args.epochs.split(",")):
        for path in ("arrays", "stream"):
            row = {}
            for name, impl in impls.items():  # alternated: legacy, then current
                row[name] = measure(impl, x, path, epochs, args.max_batches)
                r = row[name]
                print(f"epochs {epochs:>6} {path:<6} {name:<7}: build {r['build_seconds']:7.3f} s"
                      f" ({r['build_cpu_seconds']:.3f} CPU), first batch"
                      f" {r['first_batch_seconds']:.3f} s, {r['ms_per_batch']:.3f} ms/batch"
                      f" ({r['cpu_ms_per_batch']:.3f} CPU) over {r['batches']} batches,"
                      f" graph {r['graph_nodes']} nodes", flush=True)
            result["pipeline"][f"{path}/{epochs}"] = row
    if args.fit_epochs:
        for name, impl in impls.items():
            r = {"epochs": args.fit_epochs, **fit_time(impl, x, args.fit_epochs)}
            result["fit"][name] = r
            print(f"fit RealNVP {args.fit_epochs} epochs {name:<7}: {r['fit_seconds']:.1f} s"
                  f" ({r['fit_cpu_seconds']:.1f} CPU), {1e3 * r['seconds_per_epoch']:.2f} ms/epoch,"
                  f" final loss {r['final_loss']:.3f}", flush=True)
    result["load_average_end"] = list(os.getloadavg())
    write_result("pipeline_epochs", result, out=args.out, load_average_start=load_start,
                 machine_key="machine")


if __name__ == "__main__":
    main()
