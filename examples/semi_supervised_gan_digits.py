"""A semi-supervised GAN on the 8x8 digits with 100 labels.

    python examples/semi_supervised_gan_digits.py [--epochs 60] [--out DIR] [--smoke]

Keeps the labels of 100 of the 1000 training digits (10 per class; the others
get y = -1) and trains `unigen.models.DCGAN` with a K+1-class critic
(``semi_supervised_classes=10``, Salimans et al. 2016) and feature matching.
The critic's class head is then a digit classifier, ``gan.classify(x)``; the
script prints its accuracy on the 447 test digits next to the same network
trained as a plain classifier on the 100 labelled digits alone, and saves a
grid of samples.

Time on 2 shared CPU cores: --smoke about 7 s (35 s at load average 8); 60 epochs
(1,200 steps) about 3 minutes (estimated from the benchmark's steps per second).
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--out", default=os.path.join("runs", "semi_supervised_gan_digits"))
    parser.add_argument("--smoke", action="store_true", help="one epoch, small networks")
    args = parser.parse_args()

    import keras
    import numpy as np

    import unigen
    from unigen import images
    from unigen.models.gan import networks

    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    xt, yt = unigen.datasets.as_numpy("digits", "test", with_labels=True)
    x, y, xt, yt = np.asarray(x), np.asarray(y), np.asarray(xt), np.asarray(yt)
    rng = np.random.default_rng(0)
    labelled = np.concatenate([rng.choice(np.flatnonzero(y == k), 10, replace=False)
                               for k in range(10)])
    partial = np.full(len(y), -1, "int32")
    partial[labelled] = y[labelled]
    train = np.arange(len(y))
    if args.smoke:  # the labelled digits and 100 others
        train = np.union1d(labelled, np.setdiff1d(train, labelled)[:100])
    filters = 8 if args.smoke else 32
    gan = unigen.models.DCGAN(image_shape=(8, 8, 1), latent_dim=16, num_levels=17,
                              base_filters=filters, semi_supervised_classes=10,
                              feature_matching=1.0,
                              supervised_weight=len(train) / len(labelled))
    unigen.fit(gan, (x[train], partial[train]), epochs=1 if args.smoke else args.epochs,
               batch_size=50, learning_rate=2e-4, seed=0, verbose=0 if args.smoke else 2)
    accuracy = np.mean(np.argmax(gan.classify(xt), -1) == yt)

    keras.utils.set_random_seed(0)
    classifier = keras.Sequential([networks.dcgan_discriminator((8, 8, 1), filters,
                                                                outputs=None),
                                   keras.layers.Dense(10)])
    classifier.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    scale = 2.0 / 16.0
    classifier.fit(x[labelled] * scale - 1.0, y[labelled], epochs=5 if args.smoke else 200,
                   batch_size=20, verbose=0)
    baseline = np.mean(np.argmax(classifier.predict(xt * scale - 1.0, verbose=0), -1) == yt)
    print(f"test accuracy with 100 labels: semi-supervised GAN {accuracy:.1%}, "
          f"classifier on the labelled digits alone {baseline:.1%}")
    os.makedirs(args.out, exist_ok=True)
    path = os.path.join(args.out, "samples.png")
    images.save_grid(path, gan.sample(64, seed=0).numpy(), num_levels=17)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
