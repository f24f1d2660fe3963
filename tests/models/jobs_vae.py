"""A VAE training job that tests run in fresh processes.

    python tests/models/jobs_vae.py --dump FILE [--replicas R]

Trains two small VAEs on digits (divergence "kl" and "mmd") for 2 epochs each
with seed 0, on one device or on R CPU replicas of a MirroredStrategy, and
writes their weights and losses to FILE.
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
    args = parser.parse_args()

    import unigen

    strategy = strategy_from_args(args)
    import keras
    import numpy as np

    # unigen.fit seeds after building the model: seed the initial weights here.
    keras.utils.set_random_seed(0)
    x = unigen.datasets.as_numpy("digits", "train")[:256]
    arrays = {}
    for divergence in ("kl", "mmd"):
        history = unigen.fit(
            lambda d=divergence: unigen.models.VAE(
                input_shape=(8, 8, 1), latent_dim=4, num_levels=17, kl_warmup_steps=3,
                divergence=d),
            x, epochs=2, batch_size=64, seed=0, strategy=strategy, verbose=0)
        arrays[f"{divergence}_loss"] = np.asarray(history.history["loss"])
        arrays[f"{divergence}_kl"] = np.asarray(history.history["kl"])
        for i, w in enumerate(history.model.get_weights()):
            arrays[f"{divergence}_w{i}"] = np.asarray(w)
    np.savez(args.dump, **arrays)


if __name__ == "__main__":
    main()
