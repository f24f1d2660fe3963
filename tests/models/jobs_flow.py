"""Flow training job that tests run in fresh processes.

    python tests/models/jobs_flow.py --dump FILE [--replicas R] [--hybrid]

Trains a tiny Glow on digits (maximum likelihood, dequantization noise from the
model's generator) with seed 0, and with --hybrid also a tiny Flow-GAN RealNVP
on moons, and writes their weights, per-epoch losses and the initial NLL to
FILE (.npz). (--hybrid matched 1 device == 2 replicas to 1e-4 when last run by
hand; the test leaves it out to save time.)
--replicas 2 splits the CPU into two devices and uses MirroredStrategy.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


from _job_strategy import strategy_from_args


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dump", required=True)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--hybrid", action="store_true")
    args = parser.parse_args()

    import unigen  # no TensorFlow op runs at import

    strategy = strategy_from_args(args)

    import numpy as np

    digits = unigen.datasets.as_numpy("digits", "train")

    def factory():
        return unigen.models.Glow(image_shape=(8, 8, 1), levels=2, steps_per_level=1,
                                  hidden_channels=8, num_levels=17, warmup_steps=5)

    glow = unigen.fit(
        factory, digits, epochs=1, batch_size=200, seed=0, strategy=strategy, learning_rate=3e-3,
        verbose=0).model
    out = {"glow_nll": -np.asarray(glow.log_prob(digits[:200])),
           "glow_nll_untrained": -np.asarray(factory().log_prob(digits[:200]))}
    models = [("g", glow)]
    if args.hybrid:
        moons = unigen.datasets.as_numpy("moons", "train")[:512]
        hybrid = unigen.fit(
            lambda: unigen.models.FlowGAN(
                unigen.models.RealNVP((2,), num_couplings=2, hidden=8), divergence="js",
                likelihood_weight=0.1, discriminator_units=8),
            moons, epochs=1, batch_size=128, seed=0, strategy=strategy, verbose=0)
        out["hybrid_loss"] = np.asarray(hybrid.history["loss"])
        out["hybrid_critic_loss"] = np.asarray(hybrid.history["critic_loss"])
        models.append(("h", hybrid.model))
    for prefix, model in models:
        for i, w in enumerate(model.get_weights()):
            out[f"{prefix}{i}"] = np.asarray(w)
    np.savez(args.dump, **out)


if __name__ == "__main__":
    main()
