"""The training pipeline of `unigen.fit` (`unigen.training._data.training_batches`).

Both paths, the in-memory one (``arrays=``: one index permutation per epoch, one
gather per batch) and the streaming one (a `tf.data.Dataset` permuted in blocks):
each epoch is a permutation of the data (within blocks of ``buffer_size``), its
order is a function of (seed, epoch) only, a resumed range is the tail of the full
one, and the pipeline does not grow with the number of epochs.
"""

import json

import numpy as np
import pytest
import tensorflow as tf
from conftest import run_python

from unigen.training import _data

NUM_EXAMPLES, BATCH = 64, 8
STEPS = NUM_EXAMPLES // BATCH
PATHS = ["arrays", "stream"]


def _data_arrays():
    """64 two-dimensional examples labelled by their index."""
    x = np.random.default_rng(0).normal(size=(NUM_EXAMPLES, 2)).astype(np.float32)
    return x, np.arange(NUM_EXAMPLES, dtype=np.int64)


def _batches(path, *, first_epoch=0, epochs=3, seed=7, shuffle=True, buffer_size=NUM_EXAMPLES,
             batch_size=BATCH, data=None):
    x, y = data if data is not None else _data_arrays()
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    return _data.training_batches(
        ds, arrays=(x, y) if path == "arrays" else None, batch_size=batch_size,
        steps=len(x) // batch_size, first_epoch=first_epoch, epochs=epochs, seed=seed,
        shuffle=shuffle, buffer_size=buffer_size)


def _epoch_orders(path, **kwargs):
    """The label (= example index) order of each epoch, as a list of arrays."""
    labels = np.concatenate([y.numpy() for _, y in _batches(path, **kwargs)])
    return list(labels.reshape(-1, STEPS * BATCH))


@pytest.mark.parametrize("path", PATHS)
def test_each_epoch_is_a_permutation_and_the_epochs_differ(path):
    x, y = _data_arrays()
    batches = list(_batches(path, epochs=4))
    assert len(batches) == 4 * STEPS
    for xb, yb in batches:
        assert xb.dtype == tf.float32 and yb.dtype == tf.int64 and xb.shape == (BATCH, 2)
        np.testing.assert_array_equal(xb.numpy(), x[yb.numpy()])  # features follow labels
    orders = _epoch_orders(path, epochs=4)
    for order in orders:
        np.testing.assert_array_equal(np.sort(order), y)
    assert len({tuple(order) for order in orders}) == 4


@pytest.mark.parametrize("path", PATHS)
def test_a_buffer_smaller_than_the_data_permutes_consecutive_blocks(path):
    """Blocks of 24, 24 and 16 examples, each permuted within itself, differently per block."""
    order = _epoch_orders(path, epochs=1, buffer_size=24)[0]
    for start, stop in [(0, 24), (24, 48), (48, 64)]:
        np.testing.assert_array_equal(np.sort(order[start:stop]), np.arange(start, stop))
    assert (order[:24] != order[24:48] - 24).any()
    assert not (order == np.arange(NUM_EXAMPLES)).all()


@pytest.mark.parametrize("buffer_size", [10, 24, 64, 1000])
def test_both_paths_give_the_same_batches(buffer_size):
    for (xa, ya), (xs, ys) in zip(_batches("arrays", buffer_size=buffer_size),
                                  _batches("stream", buffer_size=buffer_size), strict=True):
        np.testing.assert_array_equal(xa.numpy(), xs.numpy())
        np.testing.assert_array_equal(ya.numpy(), ys.numpy())


@pytest.mark.parametrize("path", PATHS)
def test_a_resumed_range_is_the_tail_of_the_full_range(path):
    full = _epoch_orders(path, first_epoch=0, epochs=5)
    resumed = _epoch_orders(path, first_epoch=2, epochs=5)
    np.testing.assert_array_equal(np.stack(resumed), np.stack(full[2:]))
    other_seed = _epoch_orders(path, first_epoch=2, epochs=5, seed=8)
    assert not np.array_equal(np.stack(other_seed), np.stack(resumed))


@pytest.mark.parametrize("path", PATHS)
def test_no_shuffle_keeps_the_order_and_drops_the_remainder(path):
    x, y = _data_arrays()
    batches = list(_batches(path, shuffle=False, batch_size=10, data=(x[:63], y[:63])))
    assert len(batches) == 3 * 6
    labels = np.concatenate([b[1].numpy() for b in batches])
    np.testing.assert_array_equal(labels, np.tile(np.arange(60), 3))


@pytest.mark.parametrize("path", PATHS)
def test_the_pipeline_does_not_grow_with_the_number_of_epochs(path):
    """Ten and a million epochs: the same dataset graph (node count), not one dataset per epoch."""
    def size(epochs):
        # The dataset's own graph, as tf.data serialises it (e.g. for tf.distribute).
        graph = tf.compat.v1.GraphDef.FromString(
            _batches(path, epochs=epochs)._as_serialized_graph().numpy())
        return len(graph.node) + sum(len(f.node_def) for f in graph.library.function)

    assert size(10) == size(1_000_000)
    assert size(10) < 200


def test_the_order_ignores_the_global_seed_and_repeats_in_a_fresh_process_on_two_replicas(
        tmp_path):
    """The child splits the CPU into 2 devices and reads the batches through a
    MirroredStrategy's `experimental_distribute_dataset`, as Keras's fit does."""
    expected = {}
    for global_seed in (None, 0, 123):
        tf.random.set_seed(global_seed)
        orders = {path: np.stack(_epoch_orders(path, epochs=3, buffer_size=24)).tolist()
                  for path in PATHS}
        assert not expected or orders == expected, global_seed
        expected = orders
    tf.random.set_seed(None)
    np.savez(tmp_path / "data.npz", *_data_arrays())
    child = f"""
import json
import unigen
devices = unigen.split_cpu(2)
import numpy as np, tensorflow as tf
from unigen.training import _data
strategy = tf.distribute.MirroredStrategy(devices)
with np.load({str(tmp_path / "data.npz")!r}) as f:
    x, y = f["arr_0"], f["arr_1"]
ds = tf.data.Dataset.from_tensor_slices((x, y))
out = {{}}
for path in {PATHS!r}:
    batches = _data.training_batches(
        ds, arrays=(x, y) if path == "arrays" else None, batch_size={BATCH}, steps={STEPS},
        first_epoch=0, epochs=3, seed=7, shuffle=True, buffer_size=24)
    labels = []
    for _, yb in strategy.experimental_distribute_dataset(batches):
        parts = strategy.experimental_local_results(yb)
        assert len(parts) == 2 and all(p.shape[0] == {BATCH // 2} for p in parts)
        labels.append(np.concatenate([p.numpy() for p in parts]))
    out[path] = np.concatenate(labels).reshape(3, -1).tolist()
print("ORDERS", json.dumps(out))
"""
    proc = run_python(["-c", child], timeout=300)
    line = next(s for s in proc.stdout.splitlines() if s.startswith("ORDERS "))
    assert json.loads(line[len("ORDERS "):]) == expected
