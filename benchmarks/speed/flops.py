"""FLOPs of a training step, and the machine's measured matmul peak.

Peak: the best rate of float32 ``n x n`` matmuls (``tf.matmul`` in a
``tf.function``, 2 n^3 FLOPs each, best of several timed batches), measured
in the same run as the training steps it is compared with.

FLOPs of a step: TensorFlow's graph profiler
(``tf.compat.v1.profiler.profile`` with ``ProfileOptionBuilder.float_operation()``)
on the graph of ``tf.function(model.train_step)`` traced for one batch of
fixed shape. It sums the FLOP statistics that TensorFlow registers per op:
matmuls and convolutions (forward and both backward convolutions, 2 FLOPs per
multiply-add) and a few elementwise ops. Caveats: ops without a registered
statistic count 0 (most elementwise maths, reductions, random numbers, the
optimizer's update, the log-determinant of Glow's 1x1 convolutions), and ops
whose shapes are unknown at trace time count 0, so the count is a lower bound
dominated by the matmuls and convolutions, which is what a peak matmul rate is
comparable with. The count is of the graph as written, before Grappler or
XLA rewrites. (XLA's own cost analysis is not exposed by TensorFlow's Python API.)
"""

import time

import tensorflow as tf

__all__ = ["graph_flops", "matmul_peak", "peak_probe", "train_step_flops"]


def matmul_peak(n=2048, repeats=5, per_batch=4, device="cpu"):
    """Best observed float32 matmul rate in GFLOP/s on ``device``."""
    probe = peak_probe(n, per_batch, device)
    best = max(probe() for _ in range(repeats))
    return {"gflops": best, "n": n, "matmuls_per_timing": per_batch,
            "repeats": repeats, "dtype": "float32"}


def peak_probe(n=2048, per_batch=4, device="cpu"):
    """A zero-argument function timing one chain of ``per_batch`` n x n matmuls.

    Each call returns the GFLOP/s of that one timing; `benchmarks.speed.steps`
    calls it once per round, between the training contenders, so the peak is
    measured interleaved with the figures it is compared with. The chain is
    traced and run once here, so no call pays for tracing.
    """
    with tf.device("/GPU:0" if device == "gpu" else "/CPU:0"):
        a = tf.random.stateless_normal((n, n), seed=[1, 2])
        b = tf.random.stateless_normal((n, n), seed=[3, 4])

    @tf.function
    def chain(a, b):
        c = a
        for _ in range(per_batch):
            c = tf.matmul(c, b) * (1.0 / n)
        return tf.reduce_sum(c)

    float(chain(a, b))  # trace and warm up

    def probe():
        start = time.perf_counter()
        float(chain(a, b))
        return 2.0 * n**3 * per_batch / (time.perf_counter() - start) / 1e9

    return probe


def graph_flops(graph):
    """FLOPs TensorFlow's graph profiler counts in ``graph`` (see the module docstring)."""
    from tensorflow.python.profiler import model_analyzer, option_builder

    options = option_builder.ProfileOptionBuilder.float_operation()
    options["output"] = "none"
    return int(model_analyzer.profile(graph, options=options).total_float_ops)


def train_step_flops(model, batch):
    """FLOPs of one ``model.train_step`` on ``batch`` (its shape and dtype)."""
    spec = tf.TensorSpec(batch.shape, tf.float32)
    return graph_flops(tf.function(model.train_step).get_concrete_function(spec).graph)
