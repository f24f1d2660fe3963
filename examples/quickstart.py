"""Quick start: the Gaussian baseline on digits, end to end.

Trains the discretised Gaussian (``unigen.models.Gaussian``) on the bundled 8x8
digits with ``unigen.fit``, reports the test negative log-likelihood in nats per
image and bits per dimension, writes a grid of samples, saves the model and loads
it back. Takes about 15 seconds on a CPU (``--smoke``: a few seconds).
"""

import argparse
import os

import numpy as np

import unigen
from unigen.images import save_grid


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="runs/quickstart")
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--smoke", action="store_true", help="one epoch, for tests")
    args = parser.parse_args()
    epochs = 1 if args.smoke else args.epochs

    train = unigen.datasets.load("digits", split="train")
    model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    unigen.fit(model, train, epochs=epochs, batch_size=100, seed=0, learning_rate=0.02,
               validation_data="digits", output_dir=os.path.join(args.out, "run"), verbose=0)

    test = unigen.datasets.as_numpy("digits", "test")
    nll = -float(np.mean(model.log_prob(test)))
    bpd = float(np.mean(model.bits_per_dim(test)))
    print(f"test NLL: {nll:.2f} nats/image ({bpd:.3f} bits/dim); "
          f"uniform over 17 levels: {64 * np.log(17):.1f} nats/image")

    save_grid(os.path.join(args.out, "samples.png"), model.sample(64, seed=1).numpy(),
              num_levels=17)
    path = os.path.join(args.out, "model.keras")
    model.save(path)
    again = unigen.load(path)
    assert np.allclose(again.log_prob(test[:8]), model.log_prob(test[:8]))
    print(f"wrote {args.out}/samples.png and {path}")


if __name__ == "__main__":
    main()
