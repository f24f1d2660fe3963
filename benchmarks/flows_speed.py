"""Training speed: unigen's Glow vs TFP's ``tfb.Glow`` at the same depth and width.

    python benchmarks/flows_speed.py [--quick]

Both models train with the same hand-written loop (a ``tf.function`` step:
GradientTape on the mean NLL of uniformly dequantized images, Adam), on the
same batches of Fashion-MNIST-shaped data (28x28x1, 256 levels): ``levels`` x
``steps_per_level`` steps of ActNorm, invertible 1x1 convolution and affine
coupling (conv3x3-relu-conv1x1-relu-conv3x3, ``hidden`` channels). TFP's Glow is
built with ``coupling_bijector_fn=GlowDefaultNetwork(num_hidden=hidden)`` (its
networks are tf_keras objects, trained through ``glow.trainable_variables``).
Timings alternate A/B in rounds and the medians are reported, so load from
other processes on a shared machine hits both alike.

Also holds `fashion_quality`, the Fashion-MNIST part of flows_quality.py: the
two models trained with the same budget, compared on test bits/dim.

Writes benchmarks/results/flows_speed.json.
"""

import argparse
import json
import math
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import numpy as np
import tensorflow as tf
import tensorflow_probability as tfp

import unigen

tfb, tfd = tfp.bijectors, tfp.distributions
RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results",
                       "flows_speed.json")


def _tfp_glow(shape, levels, steps, hidden):
    glow = tfb.Glow(
        output_shape=shape, num_glow_blocks=levels, num_steps_per_block=steps,
        coupling_bijector_fn=lambda s: tfb.GlowDefaultNetwork(s, num_hidden=hidden),
        exit_bijector_fn=tfb.GlowDefaultExitNetwork)
    z_shape = glow.inverse_event_shape(shape)
    return glow, tfd.TransformedDistribution(tfd.Sample(tfd.Normal(0.0, 1.0), z_shape), glow)


def _pair(shape, levels, steps, hidden, num_levels, first_batch, lr=1e-3):
    """Two (step_fn, eval_fn) pairs with the same loop, for unigen and TFP."""
    dims = int(np.prod(shape))
    ours = unigen.models.Glow(image_shape=shape, levels=levels, steps_per_level=steps,
                              hidden_channels=hidden, num_levels=num_levels,
                              logit_alpha=None)
    ours.data_dependent_init(tf.cast(first_batch, "float32"))
    glow, px = _tfp_glow(shape, levels, steps, hidden)

    def tfp_log_prob(x, noise):
        y = (x + noise) / num_levels - 0.5  # the same affine pre-processing as ours
        return px.log_prob(y) - dims * math.log(num_levels)

    tfp_log_prob(tf.cast(first_batch, "float32"), tf.zeros(first_batch.shape))  # build
    import tf_keras

    steps_fns = {}
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

        steps_fns[name] = (tf.function(step), tf.function(evaluate), len(variables))
    return steps_fns


def speed(quick):
    shape, levels, steps, hidden, batch = (28, 28, 1), 2, 4, 64, 64
    rounds, per_round = (3, 5) if quick else (7, 20)
    rng = np.random.default_rng(0)
    data = rng.integers(0, 256, size=(batch * 4, *shape)).astype("float32")
    fns = _pair(shape, levels, steps, hidden, 256, data[:batch])
    times = {name: [] for name in fns}
    for step, _, _ in fns.values():  # trace and warm up
        for i in range(2):
            step(data[:batch], tf.constant([i, 0]))
    for r in range(rounds):
        order = list(fns) if r % 2 == 0 else list(reversed(fns))
        for name in order:
            step = fns[name][0]
            start = time.perf_counter()
            for i in range(per_round):
                j = (i % 4) * batch
                loss = step(data[j:j + batch], tf.constant([r, i]))
            float(loss)
            times[name].append(per_round / (time.perf_counter() - start))
    med = {name: statistics.median(v) for name, v in times.items()}
    return {"shape": list(shape), "levels": levels, "steps_per_level": steps,
            "hidden": hidden, "batch_size": batch, "rounds": rounds,
            "steps_per_round": per_round,
            "trainable_variables": {n: f[2] for n, f in fns.items()},
            "steps_per_second": times, "median_steps_per_second": med,
            "speedup_unigen_over_tfp": med["unigen"] / med["tfp"], "target": 1.5}


def fashion_quality(quick):
    """unigen Glow vs tfb.Glow on Fashion-MNIST, same loop and budget."""
    train = unigen.datasets.as_numpy("fashion_mnist", "train")
    test = unigen.datasets.as_numpy("fashion_mnist", "test")
    train_size, num_steps, batch = (1000, 20, 32) if quick else (10_000, 400, 64)
    test = test[:500 if quick else 2000]
    train = train[:train_size].astype("float32")
    levels, steps, hidden = 2, 4, 64
    fns = _pair((28, 28, 1), levels, steps, hidden, 256, train[:batch])
    rng = np.random.default_rng(0)
    result = {"train_examples": train_size, "test_examples": len(test), "steps": num_steps,
              "batch_size": batch, "levels": levels, "steps_per_level": steps,
              "hidden": hidden, "learning_rate": 1e-3,
              "note": "reduced budget for a shared 2-core CPU; one noise draw at test"}
    for name, (step, evaluate, _) in fns.items():
        start = time.time()
        for i in range(num_steps):
            idx = rng.integers(0, train_size, batch)
            step(train[idx], tf.constant([i, 7]))
        bpd = np.concatenate([evaluate(test[i:i + 250]).numpy()
                              for i in range(0, len(test), 250)])
        result[name] = {"test_bits_per_dim": float(np.mean(bpd)),
                        "train_seconds": time.time() - start}
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    result = speed(args.quick)
    result["quick"] = args.quick
    result["machine"] = "shared 2-core CPU (4 engineers), no GPU"
    med = result["median_steps_per_second"]
    print(f"{'model':8s} {'steps/s (median)':>18s}")
    for name, v in med.items():
        print(f"{name:8s} {v:18.2f}")
    print(f"speed-up unigen / tfp: {result['speedup_unigen_over_tfp']:.2f}x (target 1.5x)")
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump(result, f, indent=1)
    print("wrote", RESULTS)


if __name__ == "__main__":
    main()
