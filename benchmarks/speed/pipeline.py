"""The input pipeline of `unigen.fit`: batches per second, vectorised vs element-wise.

Iterates one epoch of `unigen.training._data.training_batches` (shuffle, batch, cast
to float32, prefetch) over in-memory uint8 images two ways, alternated: with
``arrays=`` (one permutation of the indices per epoch, one `tf.gather` per
batch: what `unigen.fit` does for arrays and dataset names) and without (the
examples batched into blocks, each block permuted and cut into batches: what it does
for a `tf.data.Dataset`). Both give the same batches; the check is part of the
figure.
"""

import time

import numpy as np
import tensorflow as tf

from benchmarks.speed.timing import alternate, ratio

__all__ = ["run"]


def run(num_examples=60_000, shape=(28, 28, 1), batch=64, rounds=3):
    x = np.random.default_rng(0).integers(0, 256, (num_examples, *shape), dtype=np.uint8)
    from unigen.training import _data

    steps = num_examples // batch
    common = dict(batch_size=batch, steps=steps, first_epoch=0, epochs=1, seed=0,
                  shuffle=True, buffer_size=num_examples)
    ds = tf.data.Dataset.from_tensor_slices(x)
    make = {"vectorised": lambda: _data.training_batches(ds, arrays=(x,), **common),
            "element_wise": lambda: _data.training_batches(ds, **common)}
    same = all(np.array_equal(a.numpy(), b.numpy()) for a, b in
               zip(make["vectorised"]().take(5), make["element_wise"]().take(5), strict=True))

    def runner(name):
        def block():
            start = time.perf_counter()
            count = sum(1 for _ in make[name]())
            return count / (time.perf_counter() - start)
        return block

    rates = alternate({name: runner(name) for name in make}, rounds)
    return {"num_examples": num_examples, "shape": list(shape), "batch_size": batch,
            "rates_batches_per_second": rates, "same_batches": bool(same),
            "speedup_vectorised": ratio(rates, "vectorised", "element_wise")}
