"""Model sizes, data and round counts of each mode of the speed suite.

* smoke: tiny networks, 2 steps per block; only checks that everything runs.
* quick: 8x8 digits (17 levels), the default network widths; a few minutes on 2 cores.
* full: 28x28 images with 256 levels (Fashion-MNIST's shape; uniform random
  levels, as speed does not depend on the pixel values), the same widths.
"""

import numpy as np

__all__ = ["MODELS", "config", "factory", "fashion_mnist", "training_data"]

MODELS = ("dcgan", "vae", "glow")

_SIZES = {
    # batch, steps per timed block, rounds, image shape, levels, widths
    "smoke": dict(batch=16, steps=2, rounds=1, shape=(8, 8, 1), levels=17,
                  filters=4, latent=4, glow=(1, 2, 8)),
    "quick": dict(batch=64, steps=10, rounds=8, shape=(8, 8, 1), levels=17,
                  filters=32, latent=32, glow=(2, 4, 64)),
    "full": dict(batch=64, steps=10, rounds=12, shape=(28, 28, 1), levels=256,
                 filters=32, latent=64, glow=(2, 4, 64)),
}


def config(mode, repeats=None):
    """The sizes of ``mode`` ("smoke", "quick" or "full"); ``repeats`` overrides rounds."""
    out = dict(_SIZES[mode], mode=mode)
    if repeats is not None:
        if repeats < 1:
            raise ValueError(f"`--repeats` must be a positive int, got {repeats}.")
        out["rounds"] = int(repeats)
    out["steps_per_execution"] = 5 if out["steps"] % 5 == 0 else out["steps"]
    return out


def training_data(cfg, seed=0):
    """uint8 images, exactly ``batch * steps`` of them (one epoch = one timed block)."""
    n = cfg["batch"] * cfg["steps"]
    if cfg["shape"] == (8, 8, 1):
        import unigen

        digits = unigen.datasets.as_numpy("digits", "train")
        reps = -(-n // len(digits))
        return np.concatenate([digits] * reps)[:n]
    rng = np.random.default_rng(seed)
    return rng.integers(0, cfg["levels"], size=(n, *cfg["shape"]), dtype=np.uint8)


def factory(name, cfg, **options):
    """A zero-argument function building the unigen model ``name`` at ``cfg``'s size.

    ``options`` go to the model's constructor too (for example ``seed``).
    """
    import unigen

    shape, levels = cfg["shape"], cfg["levels"]
    if name == "dcgan":
        return lambda: unigen.models.DCGAN(image_shape=shape, num_levels=levels,
                                           latent_dim=cfg["latent"],
                                           base_filters=cfg["filters"], **options)
    if name == "vae":
        return lambda: unigen.models.VAE(input_shape=shape, num_levels=levels,
                                         latent_dim=min(16, cfg["latent"]), **options)
    if name == "glow":
        depth, steps, hidden = cfg["glow"]
        return lambda: unigen.models.Glow(image_shape=shape, num_levels=levels, levels=depth,
                                          steps_per_level=steps, hidden_channels=hidden,
                                          warmup_steps=0, **options)
    raise ValueError(f"Unknown model {name!r}; expected one of {MODELS}.")


def fashion_mnist(random_examples=55_000):
    """(train, test, source): Fashion-MNIST's uint8 images, or random levels without it.

    Fashion-MNIST comes from ``unigen.datasets`` (Debian's ``dataset-fashion-mnist``).
    Without it the speed figures use ``random_examples`` uniform random 28x28
    levels and ``test`` is None, since bits/dim of random levels mean nothing.
    """
    import unigen

    try:
        train = unigen.datasets.as_numpy("fashion_mnist", "train")
        test = unigen.datasets.as_numpy("fashion_mnist", "test")
        return train, test, "fashion_mnist"
    except Exception as err:  # no Debian package: speed only, on random levels
        rng = np.random.default_rng(0)
        train = rng.integers(0, 256, size=(random_examples, 28, 28, 1), dtype=np.uint8)
        return train, None, f"random levels ({type(err).__name__}: {str(err)[:120]})"
