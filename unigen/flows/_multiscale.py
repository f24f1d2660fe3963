"""`MultiScale`: Glow's multi-scale architecture as one bijector (image -> vector)."""

import keras
import numpy as np
import tensorflow as tf

from unigen.flows._bijector import Bijector, Chain, Reverse
from unigen.flows._layers import (
    ActNorm,
    AdditiveCoupling,
    AffineCoupling,
    InvertibleConv1x1,
    SplitPrior,
    Squeeze,
)

__all__ = ["MultiScale"]

_COUPLINGS = {"affine": AffineCoupling, "additive": AdditiveCoupling}
_PERMUTATIONS = ("conv1x1", "reverse")


@keras.saving.register_keras_serializable(package="unigen")
class MultiScale(Bijector):
    """Glow's multi-scale flow: images [B, H, W, C] -> latent vectors [B, H*W*C].

    Each of the ``levels`` levels squeezes (2x2 patches to channels, skipped
    when H or W is odd), applies ``steps_per_level`` steps of flow
    (ActNorm -> channel mixing -> coupling), then, except at the last level,
    factors out half the channels through a `SplitPrior`. The latent vector is
    the concatenation of the factored-out parts (first level first) and the
    last level's output, flattened; the base is N(0, I) on all of it.

    Args:
        levels: number of levels L.
        steps_per_level: steps of flow per level K.
        hidden: width of the coupling networks.
        coupling: "affine" (Glow, RealNVP) or "additive" (NICE).
        permutation: "conv1x1" (Glow's invertible 1x1 convolution) or "reverse"
            (RealNVP's fixed reversal of the channels).
        seed: seeds the initial 1x1 convolutions and coupling networks.

    References:
        Kingma and Dhariwal. "Glow." NeurIPS 2018. Dinh et al. "Density
        estimation using Real NVP." ICLR 2017.
    """

    def __init__(self, levels=2, steps_per_level=4, hidden=64, coupling="affine",
                 permutation="conv1x1", seed=0, **kwargs):
        super().__init__(**kwargs)
        if coupling not in _COUPLINGS:
            raise ValueError(f"`coupling` must be one of {list(_COUPLINGS)}, got {coupling!r}.")
        if permutation not in _PERMUTATIONS:
            raise ValueError(
                f"`permutation` must be one of {list(_PERMUTATIONS)}, got {permutation!r}.")
        for name, value in (("levels", levels), ("steps_per_level", steps_per_level),
                            ("hidden", hidden)):
            if int(value) < 1:
                raise ValueError(f"`{name}` must be a positive int, got {value!r}.")
        self.levels = int(levels)
        self.steps_per_level = int(steps_per_level)
        self.hidden = int(hidden)
        self.coupling = coupling
        self.permutation = permutation
        self.seed = int(seed)

    def _plan(self, input_shape):
        """Per level: (squeeze?, shape the steps act on, channels kept)."""
        _, h, w, c = (int(d) if d is not None else None for d in input_shape)
        plan = []
        for level in range(self.levels):
            squeeze = h % 2 == 0 and w % 2 == 0
            if squeeze:
                h, w, c = h // 2, w // 2, c * 4
            if c < 2:
                raise ValueError(
                    f"Level {level + 1} of MultiScale has {c} channel(s) at {h}x{w} and "
                    f"cannot couple: use fewer `levels` or images with even sides."
                )
            keep = c // 2 if level < self.levels - 1 else c
            plan.append((squeeze, (h, w, c), keep))
            c = keep
        return plan

    def forward_shape(self, input_shape):
        _, h, w, c = input_shape
        return (input_shape[0], int(h) * int(w) * int(c))

    def inverse_shape(self, output_shape):
        raise ValueError("MultiScale cannot infer the image shape from a vector; "
                         "build it (or call forward) first.")

    def build(self, input_shape):
        self._image_shape = tuple(int(d) for d in input_shape[1:])
        self._levels_plan = self._plan(input_shape)
        self.squeezes, self.steps, self.splits = [], [], []
        for level, (squeeze, shape, _keep) in enumerate(self._levels_plan):
            self.squeezes.append(Squeeze(name=f"squeeze_{level}") if squeeze else None)
            layers = []
            for k in range(self.steps_per_level):
                layers.append(ActNorm(name=f"actnorm_{level}_{k}"))
                if self.permutation == "conv1x1":
                    layers.append(InvertibleConv1x1(seed=self.seed + 1000 * level + k,
                                                    name=f"conv1x1_{level}_{k}"))
                else:
                    layers.append(Reverse(name=f"reverse_{level}_{k}"))
                layers.append(_COUPLINGS[self.coupling](
                    self.hidden, seed=self.seed + 1000 * level + k, name=f"coupling_{level}_{k}"))
            chain = Chain(layers, name=f"level_{level}")
            chain.build((None, *shape))
            self.steps.append(chain)
            if level < self.levels - 1:
                split = SplitPrior(name=f"split_{level}")
                split.build((None, *shape))
                self.splits.append(split)
        self.built = True

    def _forward_and_log_det(self, x):
        total = tf.zeros(tf.shape(x)[:1], x.dtype)
        pieces = []
        h = x
        for level, (_, _, keep) in enumerate(self._levels_plan):
            if self.squeezes[level] is not None:
                h = self.squeezes[level].forward(h)
            h, log_det = self.steps[level].forward_and_log_det(h)
            total = total + log_det
            if level < self.levels - 1:
                h, log_det = self.splits[level].forward_and_log_det(h)
                total = total + log_det
                h, factored = tf.split(h, [keep, h.shape[-1] - keep], axis=-1)
                pieces.append(_flatten(factored))
        pieces.append(_flatten(h))
        return tf.concat(pieces, axis=-1), total

    def _inverse_and_log_det(self, z):
        total = tf.zeros(tf.shape(z)[:1], z.dtype)
        sizes = []
        for level, (_, (h, w, c), keep) in enumerate(self._levels_plan):
            sizes.append(h * w * (c - keep) if level < self.levels - 1 else h * w * c)
        offsets = [sum(sizes[:i]) for i in range(len(sizes))]
        x = None
        for level in reversed(range(self.levels)):
            _, (h, w, c), keep = self._levels_plan[level]
            piece = z[:, offsets[level]:offsets[level] + sizes[level]]
            if level == self.levels - 1:
                x = tf.reshape(piece, [-1, h, w, c])
            else:
                eps = tf.reshape(piece, [-1, h, w, c - keep])
                x, log_det = self.splits[level].inverse_and_log_det(tf.concat([x, eps], -1))
                total = total + log_det
            x, log_det = self.steps[level].inverse_and_log_det(x)
            total = total + log_det
            if self.squeezes[level] is not None:
                x = self.squeezes[level].inverse(x)
        return x, total

    def get_config(self):
        return {**super().get_config(), "levels": self.levels,
                "steps_per_level": self.steps_per_level, "hidden": self.hidden,
                "coupling": self.coupling, "permutation": self.permutation, "seed": self.seed}


def _flatten(t):
    if all(d is not None for d in t.shape[1:]):
        return tf.reshape(t, [-1, int(np.prod(t.shape[1:]))])
    return tf.reshape(t, [tf.shape(t)[0], -1])
