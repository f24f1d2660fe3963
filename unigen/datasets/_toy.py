"""Generated 2D datasets: ring8, grid25, moons and swissroll (NumPy only).

Every sample is float32 with shape (2,). Sampling is deterministic given
(dataset, `seed`, split) and examples are i.i.d. draws from the stated density.

Seeding: the examples are made in blocks of `_BLOCK` (1,024); block b of a split
comes from `numpy.random.default_rng([seed, split_id, dataset_id, b])` with
split_id 0 / 1 / 2 for train / validation / test and dataset_id the CRC-32 of the
dataset name. So every (seed, split, dataset) is its own stream, and a smaller
`num_examples` gives a prefix of a larger one (the first 100 examples are the same
whether you ask for 100 or 20,000).

Densities:

- ring8: 8 equally weighted Gaussians, centres (cos(2 pi k / 8), sin(2 pi k / 8)),
  std 0.01 (PacGAN; VEEGAN). Label = k.
- grid25: 25 equally weighted Gaussians, centres (v[i], v[j]) with
  v = (-4, -2, 0, 2, 4), mode index k = 5 i + j, std 0.05 (PacGAN). Label = k.
- moons: moon m ~ Bernoulli(1/2), angle t ~ U(0, pi); m = 0 gives (cos t, sin t),
  m = 1 gives (1 - cos t, 1/2 - sin t); plus N(0, 0.05^2) noise per coordinate.
  This is the distribution of `sklearn.datasets.make_moons(noise=0.05)` with i.i.d.
  angles (sklearn spaces them evenly). Standardised with the exact population
  moments: mean (1/2, 1/4), variance (3/4 + 0.05^2, 9/16 - 1/pi + 0.05^2), i.e.
  std (0.86747, 0.49668); a 10^6-sample check gives the same to 3 decimals.
  Label = m. Differential entropy of the standardised density: about 1.131 nats.
- swissroll: t = 1.5 pi (1 + 2 u), u ~ U(0, 1); (t cos t, t sin t) plus N(0, 1)
  noise per coordinate, all divided by 5. These are the (x, z) coordinates of
  `sklearn.datasets.make_swiss_roll(noise=1.0)` scaled as in FFJORD's toy data.
  No labels.

References:
    Srivastava et al., "VEEGAN: Reducing Mode Collapse in GANs using Implicit
    Variational Learning", NeurIPS 2017.
    Lin et al., "PacGAN: The power of two samples in generative adversarial
    networks", NeurIPS 2018.
    Grathwohl et al., "FFJORD: Free-form Continuous Dynamics for Scalable
    Reversible Generative Models", ICLR 2019.
"""

import zlib

import numpy as np

__all__ = [
    "DEFAULT_SIZES",
    "GRID25_MODES",
    "GRID25_STD",
    "MOONS_MEAN",
    "MOONS_NOISE",
    "MOONS_STD",
    "RING8_MODES",
    "RING8_STD",
    "SWISSROLL_NOISE",
    "SWISSROLL_SCALE",
    "generate",
    "make_loader",
]

DEFAULT_SIZES = {"train": 20_000, "validation": 5_000, "test": 5_000}
_SPLIT_IDS = {"train": 0, "validation": 1, "test": 2}
_BLOCK = 1024

RING8_STD = 0.01
RING8_MODES = np.stack(
    [np.cos(2 * np.pi * np.arange(8) / 8), np.sin(2 * np.pi * np.arange(8) / 8)],
    axis=1,
)

GRID25_STD = 0.05
_GRID_VALUES = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
GRID25_MODES = np.array([(a, b) for a in _GRID_VALUES for b in _GRID_VALUES])

MOONS_NOISE = 0.05
MOONS_MEAN = np.array([0.5, 0.25])
MOONS_STD = np.sqrt(
    np.array([0.75 + MOONS_NOISE**2, 0.5625 - 1.0 / np.pi + MOONS_NOISE**2])
)

SWISSROLL_NOISE = 1.0
SWISSROLL_SCALE = 5.0

for _array in (RING8_MODES, GRID25_MODES, MOONS_MEAN, MOONS_STD):
    _array.setflags(write=False)


def _mixture(rng, size, modes, std):
    labels = rng.integers(0, len(modes), size=size)
    x = modes[labels] + std * rng.standard_normal((size, 2))
    return x, labels


def _moons(rng, size):
    labels = rng.integers(0, 2, size=size)
    t = rng.uniform(0.0, np.pi, size=size)
    upper = np.stack([np.cos(t), np.sin(t)], axis=1)
    lower = np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1)
    x = np.where(labels[:, None] == 0, upper, lower)
    x = x + MOONS_NOISE * rng.standard_normal((size, 2))
    return (x - MOONS_MEAN) / MOONS_STD, labels


def _swissroll(rng, size):
    t = 1.5 * np.pi * (1.0 + 2.0 * rng.uniform(size=size))
    x = np.stack([t * np.cos(t), t * np.sin(t)], axis=1)
    x = x + SWISSROLL_NOISE * rng.standard_normal((size, 2))
    return x / SWISSROLL_SCALE, None


_SAMPLERS = {
    "ring8": lambda rng, n: _mixture(rng, n, RING8_MODES, RING8_STD),
    "grid25": lambda rng, n: _mixture(rng, n, GRID25_MODES, GRID25_STD),
    "moons": _moons,
    "swissroll": _swissroll,
}


def generate(name, split, num_examples, seed):
    """Draws `num_examples` samples of a generated dataset.

    Args:
        name: "ring8", "grid25", "moons" or "swissroll".
        split: "train", "validation" or "test" (selects the random stream).
        num_examples: positive int.
        seed: non-negative int.

    Returns:
        (x, y): x float32 of shape (num_examples, 2); y int32 of shape
        (num_examples,), or None for swissroll.
    """
    sampler = _SAMPLERS[name]
    dataset_id = zlib.crc32(name.encode("ascii"))
    xs, ys = [], []
    for block in range(-(-num_examples // _BLOCK)):
        rng = np.random.default_rng([seed, _SPLIT_IDS[split], dataset_id, block])
        x, y = sampler(rng, _BLOCK)
        xs.append(x)
        ys.append(y)
    x = np.concatenate(xs)[:num_examples].astype(np.float32)
    if ys[0] is None:
        return x, None
    return x, np.concatenate(ys)[:num_examples].astype(np.int32)


def make_loader(name):
    """Returns the loader `(split, *, data_dir, seed, num_examples) -> (x, y)`."""

    def loader(split, *, data_dir=None, seed=0, num_examples=None):
        del data_dir  # Generated data reads no files.
        if num_examples is None:
            num_examples = DEFAULT_SIZES[split]
        return generate(name, split, num_examples, seed)

    loader.__name__ = f"load_{name}_split"
    return loader
