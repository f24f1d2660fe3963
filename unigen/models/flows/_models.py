"""Flow models: `Glow` (images), `RealNVP` (images and vectors), `MAF` (vectors)."""

import keras

from unigen import _checks
from unigen.flows import (
    ActNorm,
    AffineCoupling,
    Chain,
    MaskedAutoregressive,
    MultiScale,
    Reverse,
)
from unigen.models.flows._base import FlowModel

__all__ = ["MAF", "Glow", "RealNVP"]


@keras.saving.register_keras_serializable(package="unigen")
class Glow(FlowModel):
    """Glow: a multi-scale flow of ActNorm, invertible 1x1 convolutions and
    affine couplings, on images of integer pixel levels.

    ``log_prob(x)`` is in nats per image for the data as passed (levels
    0..L-1): a one-sample, fixed-seed estimate of the dequantization lower
    bound E_u log p(x + u) <= log P(x), or with ``dequantization="variational"``
    of E_q[log p(x + u) - log q(u | x)]; ``log_prob(x, num_samples=K)`` is the
    tighter importance-weighted bound (see `FlowModel.log_prob`).

    Example::

        glow = unigen.models.Glow(image_shape=(28, 28, 1), levels=3,
                                  steps_per_level=8, hidden_channels=256)
        unigen.fit(glow, "fashion_mnist", epochs=10)
        glow.bits_per_dim(x); glow.sample(64, temperature=0.7, seed=0)

    Args:
        image_shape: (height, width, channels) (``event_shape`` is accepted too).
        levels: levels of the multi-scale architecture (a level whose sides
            are odd is not squeezed: 28x28 images get 14, 7, 7).
        steps_per_level: steps of flow per level.
        hidden_channels: width of the coupling networks.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        coupling: "affine" or "additive".
        logit_alpha: see `FlowModel` (default None: Glow's x / L - 1/2).
        **kwargs: passed to `FlowModel` (``warmup_steps``, ``divergence``,
            ``dequantization``, ``seed``, ...).

    References:
        Kingma and Dhariwal. "Glow: Generative Flow with Invertible 1x1
        Convolutions." NeurIPS 2018.
    """

    _permutation = "conv1x1"

    def __init__(self, image_shape=None, levels=2, steps_per_level=4, hidden_channels=64,
                 num_levels="auto", coupling="affine", logit_alpha=None, event_shape=None,
                 **kwargs):
        shape = _checks.image_shape(image_shape, event_shape, owner=type(self).__name__)
        super().__init__(shape, num_levels=num_levels, logit_alpha=logit_alpha,
                         **kwargs)
        self.levels = int(levels)
        self.steps_per_level = int(steps_per_level)
        self.hidden_channels = int(hidden_channels)
        self.coupling = coupling
        self.flow = MultiScale(levels, steps_per_level, hidden_channels, coupling=coupling,
                               permutation=self._permutation, seed=self.seed, name="flow")
        self.flow._plan((None, *self.event_shape))  # fails early on impossible shapes

    def get_config(self):
        return {**super().get_config(), "levels": self.levels,
                "steps_per_level": self.steps_per_level,
                "hidden_channels": self.hidden_channels, "coupling": self.coupling}


@keras.saving.register_keras_serializable(package="unigen")
class RealNVP(FlowModel):
    """RealNVP: affine couplings with fixed permutations, on vectors or images.

    Vectors (``event_shape=(D,)``): ``num_couplings`` steps of
    ActNorm -> affine coupling (MLP conditioner), the conditioning half
    alternating between the first and the second half of the dimensions.
    Images: Glow's multi-scale architecture with the 1x1 convolutions replaced
    by RealNVP's fixed channel reversal (``levels`` x ``steps_per_level``).

    Args:
        event_shape: (D,) or (height, width, channels).
        num_couplings: couplings of the vector flow (vectors only; default 8).
        hidden: width of the coupling networks.
        levels, steps_per_level: the image architecture (images only; default
            2 levels x 4 steps). Giving an option of the other kind of data
            (``num_couplings`` for images, ``levels`` or ``steps_per_level``
            for vectors) is a ``ValueError``, not silently ignored.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        **kwargs: passed to `FlowModel`.

    References:
        Dinh, Sohl-Dickstein and Bengio. "Density estimation using Real NVP."
        ICLR 2017.
    """

    def __init__(self, event_shape, num_couplings=None, hidden=64, levels=None,
                 steps_per_level=None, num_levels="auto", **kwargs):
        super().__init__(event_shape, num_levels=num_levels, **kwargs)
        image = len(self.event_shape) == 3
        if image and num_couplings is not None:
            raise ValueError(
                f"`num_couplings` is the depth of RealNVP on vectors; on images "
                f"(event_shape {self.event_shape}) it is `levels` x `steps_per_level` "
                f"couplings: pass levels=... and steps_per_level=... (default 2 x 4).")
        if not image and (levels is not None or steps_per_level is not None):
            raise ValueError(
                f"`levels` and `steps_per_level` are RealNVP's image architecture; on "
                f"vectors (event_shape {self.event_shape}) pass num_couplings=... (default 8).")
        self.num_couplings = None if image else _checks.check_positive_int(
            "num_couplings", 8 if num_couplings is None else num_couplings)
        self.hidden = int(hidden)
        self.levels = _checks.check_positive_int("levels", 2 if levels is None else levels) \
            if image else None
        self.steps_per_level = _checks.check_positive_int(
            "steps_per_level", 4 if steps_per_level is None else steps_per_level) \
            if image else None
        if image:
            self.flow = MultiScale(self.levels, self.steps_per_level, hidden,
                                   permutation="reverse",
                                   seed=self.seed, name="flow")
            self.flow._plan((None, *self.event_shape))
        elif len(self.event_shape) == 1:
            d = self.event_shape[0]
            if d < 2:
                raise ValueError(f"RealNVP needs at least 2 dimensions, got event_shape "
                                 f"{self.event_shape}.")
            first = [1] * (d // 2) + [0] * (d - d // 2)
            layers = []
            for i in range(self.num_couplings):
                mask = first if i % 2 == 0 else [1 - m for m in first]
                layers += [ActNorm(name=f"actnorm_{i}"),
                           AffineCoupling(hidden, mask=mask, seed=self.seed + i,
                                          name=f"coupling_{i}")]
            self.flow = Chain(layers, name="flow")
        else:
            raise ValueError(f"RealNVP takes vectors (D,) or images (H, W, C), got "
                             f"event_shape {self.event_shape}.")

    def get_config(self):
        return {**super().get_config(), "num_couplings": self.num_couplings,
                "hidden": self.hidden, "levels": self.levels,
                "steps_per_level": self.steps_per_level}

    @classmethod
    def from_config(cls, config):
        # Files written before 0.3 hold every option, the unused kind's at its default.
        config = dict(config)
        unused = ("num_couplings",) if len(config.get("event_shape", ())) == 3 else (
            "levels", "steps_per_level")
        for key in unused:
            config.pop(key, None)
        return super().from_config(config)


@keras.saving.register_keras_serializable(package="unigen")
class MAF(FlowModel):
    """Masked autoregressive flow on vectors: ``num_layers`` x
    (ActNorm -> MADE-based autoregressive layer -> reverse the order).

    Density evaluation is one pass per layer; sampling needs D passes per layer.

    Args:
        event_shape: (D,).
        num_layers: autoregressive layers.
        hidden_units: MADE hidden widths.
        **kwargs: passed to `FlowModel`.

    References:
        Papamakarios, Pavlakou and Murray. "Masked Autoregressive Flow for
        Density Estimation." NeurIPS 2017.
    """

    def __init__(self, event_shape, num_layers=5, hidden_units=(64, 64), num_levels="auto",
                 **kwargs):
        super().__init__(event_shape, num_levels=num_levels, **kwargs)
        if len(self.event_shape) != 1:
            raise ValueError(f"MAF takes vectors, event_shape (D,), got {self.event_shape}. "
                             f"For images use Glow or RealNVP (unigen train --model glow); "
                             f"train MAF on vectors such as ring8 or moons.")
        self.num_layers = _checks.check_positive_int("num_layers", num_layers)
        self.hidden_units = _checks.check_widths("hidden_units", hidden_units)
        layers = []
        for i in range(self.num_layers):
            layers += [ActNorm(name=f"actnorm_{i}"),
                       MaskedAutoregressive(self.hidden_units, seed=self.seed + i,
                                            name=f"maf_{i}"),
                       Reverse(name=f"reverse_{i}")]
        self.flow = Chain(layers, name="flow")

    def get_config(self):
        return {**super().get_config(), "num_layers": self.num_layers,
                "hidden_units": self.hidden_units}


def create_flow_gan(event_shape, num_levels="auto", divergence="js", likelihood_weight=1.0,
                    discriminator_units=128, gradient_clip_norm=100.0, seed=0, **kwargs):
    """Registry builder of `FlowGAN` around a `Glow` (images) or a `RealNVP` (vectors);
    ``kwargs`` go to the flow."""
    from unigen.models.flows._flow_gan import FlowGAN

    event_shape = tuple(int(d) for d in event_shape)
    if len(event_shape) == 3:
        flow = Glow(image_shape=event_shape, num_levels=num_levels, seed=seed, **kwargs)
    else:
        flow = RealNVP(event_shape, num_levels=num_levels, seed=seed, **kwargs)
    return FlowGAN(flow, divergence=divergence, likelihood_weight=likelihood_weight,
                   discriminator_units=discriminator_units,
                   gradient_clip_norm=gradient_clip_norm, seed=seed)
