"""unigen's Glow against TFP's ``tfb.Glow`` at the same depth and width.

Both train with the same hand-written loop (a ``tf.function`` step:
GradientTape on the mean NLL of uniformly dequantized images, Adam), on the
same batches: ``levels`` x ``steps_per_level`` steps of ActNorm, invertible
1x1 convolution and affine coupling (conv3x3-relu-conv1x1-relu-conv3x3,
``hidden`` channels). TFP's Glow is built with
``coupling_bijector_fn=GlowDefaultNetwork(num_hidden=hidden)``; its networks
are tf_keras objects, trained through ``glow.trainable_variables``. The same
loop for both isolates the speed of the bijectors from any training machinery.
"""

import math
import statistics

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

__all__ = ["pair", "run"]

tfb, tfd = tfp.bijectors, tfp.distributions


def _tfp_glow(shape, levels, steps, hidden):
    glow = tfb.Glow(
        output_shape=shape, num_glow_blocks=levels, num_steps_per_block=steps,
        coupling_bijector_fn=lambda s: tfb.GlowDefaultNetwork(s, num_hidden=hidden),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork)
    z_shape = glow.inverse_event_shape(shape)
    return glow, tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), z_shape), glow)


def pair(shape, levels, steps, hidden, num_levels, first_batch, lr=1e-3, seed=0,
         with_legacy=False):
    """dict "unigen"/"tfp" -> (step_fn(x, seed), eval_fn(x) in bits/dim, #variables).

    ``seed`` seeds unigen's Glow; TFP's initial weights follow TensorFlow's
    global seed (``keras.utils.set_random_seed``). ``with_legacy`` adds
    "unigen_pre18": the same Glow (same seed and initialisation, so the same
    weights) computed with the bijector ops from before issue #18
    (`benchmarks.speed.legacy_glow`).
    """
    import tf_keras

    import unigen
    from benchmarks.speed.legacy_glow import use_legacy_ops

    dims = int(np.prod(shape))

    def build():
        model = unigen.models.Glow(image_shape=shape, levels=levels, steps_per_level=steps,
                                   hidden_channels=hidden, num_levels=num_levels,
                                   logit_alpha=None, seed=seed)
        model.data_dependent_init(tf.cast(first_batch, "float32"))
        return model

    ours = build()
    glow, px = _tfp_glow(shape, levels, steps, hidden)

    def tfp_log_prob(x, noise):
        y = (x + noise) / num_levels - 0.5  # the same affine pre-processing as ours
        return px.log_prob(y) - dims * math.log(num_levels)

    tfp_log_prob(tf.cast(first_batch, "float32"), tf.zeros(first_batch.shape))  # build
    contenders = [("unigen", ours._log_prob_with_noise,
                   [v.value for v in ours.trainable_variables]),
                  ("tfp", tfp_log_prob, glow.trainable_variables)]
    if with_legacy:
        old = use_legacy_ops(build())
        contenders.append(("unigen_pre18", old._log_prob_with_noise,
                           [v.value for v in old.trainable_variables]))
    fns = {}
    for name, log_prob, variables in contenders:
        optimizer = tf_keras.optimizers.Adam(lr)

        def step(x, seed, log_prob=log_prob, variables=variables, optimizer=optimizer):
            x = tf.cast(x, "float32")
            noise = tf.random.stateless_uniform(tf.shape(x), seed=seed)
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(log_prob(x, noise))
            grads = tape.gradient(loss, variables)
            optimizer.apply_gradients(zip(grads, variables, strict=True))
            return loss

        def evaluate(x, log_prob=log_prob):
            x = tf.cast(x, "float32")
            noise = tf.random.stateless_uniform(tf.shape(x), seed=[0, 1])
            return -log_prob(x, noise) / (dims * math.log(2.0))

        fns[name] = (tf.function(step), tf.function(evaluate), len(variables))
    return fns


def run(shape=(28, 28, 1), levels=2, steps=4, hidden=64, batch=64, num_levels=256,
        rounds=12, steps_per_round=5, device="cpu", peak_n=2048):
    """unigen's Glow (now and before #18) against tfb.Glow, step by step.

    Measured with `benchmarks.speed.steps.interleave`: per-step times after
    tracing and warm-up, alternating rounds, an A/A control (unigen against
    itself) and the matmul peak once per round. Executed FLOPs per step are
    each contender's own graph's (tfb.Glow runs every coupling network twice).
    """
    from benchmarks.speed import steps as timing
    from benchmarks.speed.flops import graph_flops, peak_probe

    rng = np.random.default_rng(0)
    data = rng.integers(0, num_levels, size=(batch * 4, *shape)).astype("float32")
    fns = pair(shape, levels, steps, hidden, num_levels, data[:batch], with_legacy=True)
    specs = (tf.TensorSpec((batch, *shape), tf.float32), tf.TensorSpec((2,), tf.int32))
    flops = {name: graph_flops(f[0].get_concrete_function(*specs).graph)
             for name, f in fns.items()}
    counter = [0]

    def runner(step):
        def one_step():
            counter[0] += 1
            j = (counter[0] % 4) * batch
            float(step(data[j:j + batch], tf.constant([counter[0], 0])))
        return one_step

    result = timing.interleave({name: runner(f[0]) for name, f in fns.items()}, rounds,
                               steps_per_round, control="unigen",
                               peak=peak_probe(peak_n, device=device))
    peaks = result["peak_gflops"]
    figures = {}
    for name, entry in result["contenders"].items():
        base = name.split(" ")[0]
        per_round = [flops[base] / s / 1e9 for s in entry["round_medians"]]
        figures[name] = {
            "steps_per_second": entry["steps_per_second"],
            "images_per_second": batch * entry["steps_per_second"],
            "executed_gflops_per_step": flops[base] / 1e9,
            "executed_gflops_per_second": flops[base] * entry["steps_per_second"] / 1e9,
            "cpu_seconds_per_step": entry["cpu_step_seconds_median"],
            "executed_gflops_per_cpu_second": flops[base] / entry["cpu_step_seconds_median"] / 1e9,
            "fraction_of_peak": statistics.median(
                [g / p for g, p in zip(per_round, peaks, strict=True)]) if peaks else None}
    return {"shape": list(shape), "levels": levels, "steps_per_level": steps,
            "hidden": hidden, "batch_size": batch, "num_levels": num_levels,
            "trainable_variables": {n: f[2] for n, f in fns.items()},
            "timing": result, "figures": figures,
            "peak_gflops_median": statistics.median(peaks) if peaks else None,
            "speedup_unigen_over_tfp": timing.compare(result, "unigen", "tfp"),
            "speedup_unigen_over_pre18": timing.compare(result, "unigen", "unigen_pre18"),
            "speedup_pre18_over_tfp": timing.compare(result, "unigen_pre18", "tfp"),
            "cpu_speedup_unigen_over_tfp": timing.compare(result, "unigen", "tfp", clock="cpu"),
            "cpu_speedup_unigen_over_pre18": timing.compare(result, "unigen", "unigen_pre18",
                                                            clock="cpu"),
            "target": 1.5}
