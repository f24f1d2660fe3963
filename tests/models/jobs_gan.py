"""GAN training jobs that tests run in fresh processes.

    python tests/models/jobs_gan.py --dump FILE [--replicas R]

Trains three small GANs for a few steps with seed 0 and writes the weights of all
their networks to FILE (.npz):

- "vec": an MLPGAN on ring8, Wasserstein with gradient penalty, 2 critic steps
  per generator step, instance noise, PacGAN pack=2 and a weight average;
- "mmd": an MLP generative moment-matching network (MMD over the global batch);
- "img": a conditional DCGAN on 8x8 digits (one-hot labels concatenated, batch
  norm in the generator, one-sided label smoothing).

With --replicas 2 the CPU is split into two devices and both run under
MirroredStrategy; with --multiworker, strategy="multiworker" (TF_CONFIG set by
the caller). The weights must equal the one-device run.
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
    parser.add_argument("--multiworker", action="store_true")
    args = parser.parse_args()

    import unigen  # no TensorFlow op runs at import

    strategy = strategy_from_args(args)

    import keras
    import numpy as np

    def seeded(factory):
        def make():
            keras.utils.set_random_seed(0)
            return factory()
        return make

    ring = unigen.datasets.as_numpy("ring8", "train")[:256]
    vec = unigen.fit(seeded(lambda: unigen.models.MLPGAN(
        event_shape=(2,), latent_dim=4, hidden_units=(16, 16), divergence="wasserstein",
        gradient_penalty=10.0, discriminator_steps=2, instance_noise=0.1, pack=2,
        ema_decay=0.9, seed=1)), ring, epochs=2, batch_size=64, seed=0,
        strategy=strategy, learning_rate=1e-3, verbose=0)
    mmd = unigen.fit(seeded(lambda: unigen.models.MLPGAN(
        event_shape=(2,), latent_dim=4, hidden_units=(16, 16), divergence="mmd",
        ema_decay=0.9, seed=3)), ring, epochs=2, batch_size=64, seed=0,
        strategy=strategy, learning_rate=1e-3, verbose=0)
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    img = unigen.fit(seeded(lambda: unigen.models.DCGAN(
        image_shape=(8, 8, 1), latent_dim=8, num_levels=17, base_filters=8,
        num_classes=10, label_smoothing=0.1, seed=2)), (x[:128], y[:128]), epochs=2,
        batch_size=32, seed=0, strategy=strategy, learning_rate=1e-3, verbose=0)
    arrays = {}
    for tag, history in (("vec", vec), ("mmd", mmd), ("img", img)):
        model = history.model
        arrays[f"{tag}_loss"] = np.asarray(history.history["loss"])
        if tag != "mmd":  # an MMD GAN has no critic
            arrays[f"{tag}_critic_loss"] = np.asarray(history.history["critic_loss"])
        for net in ("generator", "discriminator", "ema_generator"):
            network = getattr(model, net)
            if network is None:
                continue
            for i, w in enumerate(network.weights):
                arrays[f"{tag}_{net}_{i}"] = np.asarray(w)
    np.savez(args.dump, **arrays)


if __name__ == "__main__":
    main()
