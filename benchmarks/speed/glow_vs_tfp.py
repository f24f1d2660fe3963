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
import time

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

from benchmarks.speed.timing import alternate, ratio

__all__ = ["pair", "run"]

tfb, tfd = tfp.bijectors, tfp.distributions


def _tfp_glow(shape, levels, steps, hidden):
    glow = tfb.Glow(
        output_shape=shape, num_glow_blocks=levels, num_steps_per_block=steps,
        coupling_bijector_fn=lambda s: tfb.GlowDefaultNetwork(s, num_hidden=hidden),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork)
    z_shape = glow.inverse_event_shape(shape)
    return glow, tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), z_shape), glow)


def pair(shape, levels, steps, hidden, num_levels, first_batch, lr=1e-3, seed=0):
    """dict "unigen"/"tfp" -> (step_fn(x, seed), eval_fn(x) in bits/dim, #variables).

    ``seed`` seeds unigen's Glow; TFP's initial weights follow TensorFlow's
    global seed (``keras.utils.set_random_seed``).
    """
    import tf_keras

    import unigen

    dims = int(np.prod(shape))
    ours = unigen.models.Glow(image_shape=shape, levels=levels, steps_per_level=steps,
                              hidden_channels=hidden, num_levels=num_levels,
                              logit_alpha=None, seed=seed)
    ours.data_dependent_init(tf.cast(first_batch, "float32"))
    glow, px = _tfp_glow(shape, levels, steps, hidden)

    def tfp_log_prob(x, noise):
        y = (x + noise) / num_levels - 0.5  # the same affine pre-processing as ours
        return px.log_prob(y) - dims * math.log(num_levels)

    tfp_log_prob(tf.cast(first_batch, "float32"), tf.zeros(first_batch.shape))  # build
    fns = {}
    for name, log_prob, variables in (
            ("unigen", lambda x, u: ours._log_prob_with_noise(x, u),
             [v.value for v in ours.trainable_variables]),
            ("tfp", tfp_log_prob, glow.trainable_variables)):
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
        rounds=5, steps_per_round=20):
    """Steps per second of both at one size, alternated; the speed-up of unigen's."""
    rng = np.random.default_rng(0)
    data = rng.integers(0, num_levels, size=(batch * 4, *shape)).astype("float32")
    fns = pair(shape, levels, steps, hidden, num_levels, data[:batch])
    counter = [0]

    def runner(step):
        def block():
            counter[0] += 1
            start = time.perf_counter()
            for i in range(steps_per_round):
                j = (i % 4) * batch
                loss = step(data[j:j + batch], tf.constant([counter[0], i]))
            float(loss)
            return steps_per_round / (time.perf_counter() - start)
        return block

    rates = alternate({name: runner(f[0]) for name, f in fns.items()}, rounds)
    return {"shape": list(shape), "levels": levels, "steps_per_level": steps,
            "hidden": hidden, "batch_size": batch, "num_levels": num_levels,
            "rounds": rounds, "steps_per_round": steps_per_round,
            "trainable_variables": {n: f[2] for n, f in fns.items()},
            "rates_steps_per_second": rates,
            "speedup_unigen_over_tfp": ratio(rates, "unigen", "tfp"), "target": 1.5}
