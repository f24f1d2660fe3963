"""Progressive growing on Fashion-MNIST (7x7 -> 14x14 -> 28x28), or on digits without it.

    python examples/progan_fashion_mnist.py [--phase-steps 1500] [--fade-steps 1500]
                                            [--out DIR] [--smoke]

Trains `unigen.models.ProGAN`: the generator and critic start at the smallest
grid and grow a resolution at a time, each new layer faded in over
``--fade-steps`` generator steps (alpha 0 -> 1) after ``--phase-steps`` stable
steps. Fashion-MNIST comes from the Debian package ``dataset-fashion-mnist``;
when it is not installed the script says so and grows 2x2 -> 4x4 -> 8x8 on the
bundled digits instead. It saves a grid of samples at the end of every stage
(blocky at the early stages: a stage's images are upsampled to full size) and
prints the stage and alpha as training goes.

Time on 2 shared CPU cores: --smoke about 9 s (45 s at load average 8); the default
schedule (7,500 steps) on digits about 20 minutes (estimated from the
benchmark's 6.6 steps per second at load 10), on Fashion-MNIST far longer.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--phase-steps", type=int, default=1500)
    parser.add_argument("--fade-steps", type=int, default=1500)
    parser.add_argument("--out", default=os.path.join("runs", "progan_fashion_mnist"))
    parser.add_argument("--smoke", action="store_true", help="a few steps, small networks")
    args = parser.parse_args()

    import keras
    import numpy as np

    import unigen
    from unigen import errors, images

    name = "fashion_mnist"
    try:
        x = unigen.datasets.as_numpy(name, "train")
    except errors.DatasetNotFoundError as error:
        print(f"Fashion-MNIST is not installed ({str(error).splitlines()[0]}); "
              f"growing on the 8x8 digits instead.")
        name = "digits"
        x = unigen.datasets.as_numpy(name, "train")
    x = np.asarray(x)
    info = unigen.datasets.info(name)
    phase, fade = (2, 2) if args.smoke else (args.phase_steps, args.fade_steps)
    if args.smoke:
        x = x[:64]
    # The paper's game is WGAN-GP; the smoke run plays the cheaper "js" game.
    game = {"divergence": "js"} if args.smoke else {}
    gan = unigen.models.ProGAN(image_shape=info.event_shape, num_levels=info.num_levels,
                               latent_dim=32, base_filters=4 if args.smoke else 16,
                               phase_steps=phase, fade_steps=fade, ema_decay=0.99, **game)
    total_steps = phase + (gan.num_stages - 1) * (phase + fade)
    batch = 16 if args.smoke else 64
    steps_per_epoch = len(x) // batch
    epochs = max(1, -(-total_steps // steps_per_epoch))
    os.makedirs(args.out, exist_ok=True)

    class Growth(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            print(f"epoch {epoch + 1}: stage {gan.stage} ({gan.num_stages} stages), "
                  f"alpha {gan.alpha:.2f}, loss {logs['loss']:.3f}")
            path = os.path.join(args.out, f"samples_stage{gan.stage}.png")
            if gan.alpha == 1.0:
                images.save_grid(path, gan.sample(64, seed=0).numpy(),
                                 num_levels=info.num_levels)

    unigen.fit(gan, x, epochs=epochs, batch_size=batch, learning_rate=1e-3, seed=0,
               verbose=0, callbacks=[Growth()])
    print(f"wrote samples to {args.out}")


if __name__ == "__main__":
    main()
