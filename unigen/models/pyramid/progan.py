"""Progressive growing of GANs (Karras et al. 2018): `ProGAN`.

The generator and the critic hold the networks of every resolution, from the
smallest grid (7x7 for 28x28 images, 2x2 for 8x8) doubling to the data's size.
Two model variables, the stage s (0 = smallest) and the fade-in weight alpha,
choose what runs; both follow a fixed schedule of the generator's step count:

    stage 0 for ``phase_steps`` steps; then for each s = 1, 2, ...:
    fade-in over ``fade_steps`` steps (alpha = 0 -> 1), then ``phase_steps`` stable.

During the fade-in of stage s the generator's output is

    (1 - alpha) u(rgb_{s-1}(h_{s-1})) + alpha rgb_s(h_s),    h_s = block_s(u(h_{s-1})),

so at alpha = 0 it is the stage-(s-1) network upsampled and at alpha = 1 the
stage-s network; the critic mirrors it (its stage-s input passed through
``from_rgb_s`` and ``block_s``, or average-pooled into ``from_rgb_{s-1}``).
Every output is upsampled (nearest) to the data's size, and real images are
seen through the same view: pooled to the stage's size and, during a
fade-in, blended with their own coarser version. So the data pipeline, the
`.keras` file and evaluation see full-size images at every stage. Because the
schedule is a function of the step count, which a checkpoint restores, growth
and fade-in resume exactly.

Other parts of the paper: pixel-wise feature normalisation after every
generator convolution (`PixelNorm`, and on z), a minibatch standard deviation
channel before the critic's last block (`MinibatchStdDev`), the equalised
learning rate (`EqualizedConv2D`, `EqualizedDense`), WGAN-GP as the game, and
the drift term that keeps the critic's values near 0 (``drift``, epsilon_drift
= 1e-3 as in the paper): the critic minimises

    L_D = E_z[D(G(z))] - E_x[D(x)] + lambda E_x^[(||grad D(x^)||_2 - 1)^2]
          + epsilon_drift E_x[D(x)^2],

x^ a random interpolation of a real and a generated image (Karras et al. 2018,
Section A.1).
"""

import keras
import tensorflow as tf

from unigen import _checks, errors
from unigen import divergences as ud
from unigen.base import _check_positive_int
from unigen.models._builders import image_builder
from unigen.models.gan._presets import _Preset, _resolve_divergence
from unigen.models.gan.networks import upsampling_plan
from unigen.models.pyramid import layers as pl

__all__ = ["ProGAN", "ProgressiveCritic", "ProgressiveGenerator", "growth_schedule"]


def growth_schedule(step, num_stages, phase_steps, fade_steps):
    """(stage int32, alpha float32) after ``step`` generator steps (see the module)."""
    step = tf.cast(step, "int64")
    first = tf.cast(phase_steps, "int64")
    period = tf.cast(phase_steps + fade_steps, "int64")
    later = tf.maximum(step - first, 0)
    grown = tf.where(step < first, tf.constant(0, "int64"), later // period + 1)
    stage = tf.minimum(grown, num_stages - 1)
    position = later - (stage - 1) * period  # steps into the current stage's fade
    alpha = tf.where(stage >= 1, tf.minimum(tf.cast(position, "float32") / float(fade_steps),
                                            1.0), 1.0)
    finished = grown > num_stages - 1
    alpha = tf.where(finished, 1.0, alpha)
    return tf.cast(stage, "int32"), tf.cast(alpha, "float32")


def _select(stage, branch, num_stages):
    """sum_k [k = stage] branch(k), k = 0..num_stages-1, in the branches' dtype."""
    if num_stages == 1:
        return branch(0)
    weights = tf.one_hot(tf.clip_by_value(stage, 0, num_stages - 1), num_stages)

    def weighted(k):
        out = branch(k)  # 16-bit inside a mixed-precision network
        return tf.cast(weights[k], out.dtype) * out

    return tf.add_n([weighted(k) for k in range(num_stages)])


def _lrelu(x):
    return tf.maximum(x, 0.2 * x)


class _Growing(keras.layers.Layer):
    """Shared parts: the image plan, filters per stage and the stage/alpha variables."""

    def __init__(self, image_shape, base_filters=16, **kwargs):
        super().__init__(**kwargs)
        self.image_shape = tuple(int(d) for d in image_shape)
        self.base_filters = _check_positive_int("base_filters", base_filters)
        self.start_height, self.start_width, self.doublings = upsampling_plan(self.image_shape)
        self.num_stages = self.doublings + 1

    def filters(self, stage):
        """Feature maps at stage s: ``base_filters * 2^(num_stages - 1 - s)``."""
        return self.base_filters * 2 ** (self.num_stages - 1 - stage)

    def _make_state(self):
        # One value on every replica: written by the first, read by all.
        self.stage = self.add_weight(shape=(), dtype="int32", initializer="zeros",
                                     trainable=False, name="stage",
                                     aggregation="only_first_replica")
        self.alpha = self.add_weight(shape=(), initializer="ones", trainable=False,
                                     name="alpha", aggregation="only_first_replica")

    def _by_stage(self, branch):
        """The output of the current stage s: sum_k [k = s] branch(k).

        Every stage's branch is computed and all but one weighted by 0 (an
        exact selection for finite values): one graph for the whole growth,
        with no control flow for the gradient penalty to differentiate twice.
        """
        return _select(tf.convert_to_tensor(self.stage), branch, self.num_stages)

    def get_config(self):
        return {**super().get_config(), "image_shape": list(self.image_shape),
                "base_filters": self.base_filters}


@keras.saving.register_keras_serializable(package="unigen")
class ProgressiveGenerator(_Growing):
    """ProGAN's generator from z to full-size images (see the module docstring)."""

    def build(self, input_shape):
        self.stem_dense = pl.EqualizedDense(
            self.start_height * self.start_width * self.filters(0), gain=2**0.5 / 4,
            name="stem_dense")
        self.stem_dense.build((None, int(input_shape[-1])))
        self.stem_conv = pl.EqualizedConv2D(self.filters(0), 3, name="stem_conv")
        self.stem_conv.build((None, self.start_height, self.start_width, self.filters(0)))
        self.blocks, self.to_rgb = [], []
        channels = self.image_shape[-1]
        for s in range(self.num_stages):
            height, width = self.start_height * 2**s, self.start_width * 2**s
            if s > 0:
                conv_a = pl.EqualizedConv2D(self.filters(s), 3, name=f"block{s}_a")
                conv_a.build((None, height, width, self.filters(s - 1)))
                conv_b = pl.EqualizedConv2D(self.filters(s), 3, name=f"block{s}_b")
                conv_b.build((None, height, width, self.filters(s)))
                self.blocks.append((conv_a, conv_b))
            rgb = pl.EqualizedConv2D(channels, 1, gain=1.0, name=f"to_rgb{s}")
            rgb.build((None, height, width, self.filters(s)))
            self.to_rgb.append(rgb)
        self._make_state()
        self.built = True

    def _features(self, z, stage):
        """[h_0, ..., h_stage]: the feature maps of every stage up to ``stage``."""
        h = pl.pixel_norm(self.stem_dense(pl.pixel_norm(z)))
        h = tf.reshape(_lrelu(h), [-1, self.start_height, self.start_width, self.filters(0)])
        features = [pl.pixel_norm(_lrelu(self.stem_conv(h)))]
        for s in range(1, stage + 1):
            conv_a, conv_b = self.blocks[s - 1]
            h = pl.pixel_norm(_lrelu(conv_a(pl.upsample(features[-1]))))
            features.append(pl.pixel_norm(_lrelu(conv_b(h))))
        return features

    def call(self, z, training=False):
        del training
        last = self.num_stages - 1

        features = self._features(z, last)

        def branch(s):
            image = self.to_rgb[s](features[s])
            if s > 0:
                alpha = tf.cast(self.alpha, image.dtype)
                coarse = pl.upsample(self.to_rgb[s - 1](features[s - 1]))
                image = (1.0 - alpha) * coarse + alpha * image
            return pl.upsample(image, last - s)

        return self._by_stage(branch)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.image_shape)


@keras.saving.register_keras_serializable(package="unigen")
class ProgressiveCritic(_Growing):
    """ProGAN's critic on full-size images (see the module docstring).

    Args:
        image_shape: (height, width, channels) of its input.
        base_filters: feature maps at the largest stage (doubling towards the smallest).
        group_size: minibatch standard deviation group size.
        outputs: 1 for a critic value, or None to end in features.
    """

    def __init__(self, image_shape, base_filters=16, group_size=4, outputs=1, **kwargs):
        super().__init__(image_shape, base_filters, **kwargs)
        self.group_size = _check_positive_int("group_size", group_size)
        self.outputs = None if outputs is None else int(outputs)

    def build(self, input_shape):
        del input_shape
        channels = self.image_shape[-1]
        self.from_rgb, self.blocks = [], []
        for s in range(self.num_stages):
            height, width = self.start_height * 2**s, self.start_width * 2**s
            rgb = pl.EqualizedConv2D(self.filters(s), 1, name=f"from_rgb{s}")
            rgb.build((None, height, width, channels))
            self.from_rgb.append(rgb)
            if s > 0:
                conv_a = pl.EqualizedConv2D(self.filters(s), 3, name=f"block{s}_a")
                conv_a.build((None, height, width, self.filters(s)))
                conv_b = pl.EqualizedConv2D(self.filters(s - 1), 3, name=f"block{s}_b")
                conv_b.build((None, height, width, self.filters(s)))
                self.blocks.append((conv_a, conv_b))
        top = self.filters(0)
        self.final_conv = pl.EqualizedConv2D(top, 3, name="final_conv")
        self.final_conv.build((None, self.start_height, self.start_width, top + 1))
        self.final_dense = pl.EqualizedDense(top, name="final_dense")
        self.final_dense.build((None, self.start_height * self.start_width * top))
        self.head = None
        if self.outputs is not None:
            self.head = pl.EqualizedDense(self.outputs, gain=1.0, name="head")
            self.head.build((None, top))
        self._make_state()
        self.built = True

    def _block(self, s, h):
        conv_a, conv_b = self.blocks[s - 1]
        return pl.downsample(_lrelu(conv_b(_lrelu(conv_a(h)))))

    def call(self, x, training=False):
        del training
        last = self.num_stages - 1

        def branch(s):
            image = pl.downsample(x, last - s)
            h = _lrelu(self.from_rgb[s](image))
            if s > 0:
                h = self._block(s, h)
                alpha = tf.cast(self.alpha, h.dtype)
                coarse = _lrelu(self.from_rgb[s - 1](pl.downsample(image)))
                h = (1.0 - alpha) * coarse + alpha * h
                for k in range(s - 1, 0, -1):
                    h = self._block(k, h)
            h = pl.minibatch_stddev(h, self.group_size)
            h = _lrelu(self.final_conv(h))
            h = _lrelu(self.final_dense(tf.reshape(h, [tf.shape(h)[0], -1])))
            return h if self.head is None else self.head(h)

        return self._by_stage(branch)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.filters(0) if self.outputs is None else self.outputs)

    def get_config(self):
        return {**super().get_config(), "group_size": self.group_size,
                "outputs": self.outputs}


def progressive_view(x, stage, alpha, num_stages):
    """Full-size images as a critic at (stage, alpha) sees them: pooled to the
    stage's size and, during a fade-in, blended with their coarser version,
    (1 - alpha) u(d(x_s)) + alpha x_s, then upsampled back to full size."""
    last = num_stages - 1

    def branch(s):
        image = pl.downsample(x, last - s)
        if s > 0:
            image = (1.0 - alpha) * pl.upsample(pl.downsample(image)) + alpha * image
        return pl.upsample(image, last - s)

    return _select(stage, branch, num_stages)


@keras.saving.register_keras_serializable(package="unigen")
class ProGAN(_Preset):
    """Progressive growing of GANs (see the module docstring).

    Example::

        gan = unigen.models.ProGAN(image_shape=(28, 28, 1), phase_steps=2000,
                                   fade_steps=2000)
        unigen.fit(gan, "fashion_mnist", epochs=20)
        gan.stage, gan.alpha       # where the growth is

    Args:
        image_shape: (height, width, channels); the smallest grid is found by
            halving (28 -> 14 -> 7, 8 -> 4 -> 2), one stage per size.
        latent_dim: size of z.
        divergence: default "wasserstein" with ``gradient_penalty=10``.
        gradient_penalty: the WGAN-GP weight (None for other games).
        base_filters: feature maps at full size, doubling at each smaller stage.
        phase_steps: generator steps of each stable phase.
        fade_steps: generator steps of each fade-in.
        group_size: the minibatch standard deviation's group; the per-replica
            batch must be a multiple of it.
        drift: epsilon_drift, the weight of E_x[D(x)^2] over real images in
            the critic's loss (1e-3 in the paper; 0: off).
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        **kwargs: the other `unigen.GAN` arguments (``ema_decay``, ...).
    """

    _preset_keys = ("image_shape", "gradient_penalty", "base_filters", "phase_steps",
                    "fade_steps", "group_size")

    def __init__(self, image_shape=(28, 28, 1), latent_dim=64, divergence="wasserstein", *,
                 gradient_penalty=10.0, base_filters=16, phase_steps=1000, fade_steps=1000,
                 group_size=4, num_levels="auto", event_shape=None, num_classes=None,
                 drift=1e-3, **kwargs):
        image_shape = _checks.image_shape(image_shape, event_shape)
        if num_classes is not None:
            raise ValueError("ProGAN is unconditional here: pass num_classes=None.")
        if gradient_penalty is not None and not isinstance(ud.get(divergence),
                                                            ud.Wasserstein):
            gradient_penalty = None  # the default weight belongs to the default game
        divergence = _resolve_divergence(divergence, gradient_penalty, False)
        self.phase_steps = _check_positive_int("phase_steps", phase_steps)
        self.fade_steps = _check_positive_int("fade_steps", fade_steps)
        self.group_size = _check_positive_int("group_size", group_size)
        self.image_shape = image_shape
        self.gradient_penalty = gradient_penalty
        self.base_filters = _check_positive_int("base_filters", base_filters)
        if kwargs.get("pack", 1) != 1:
            raise ValueError("ProGAN's critic uses the minibatch standard deviation; "
                             "pass pack=1.")
        generator = ProgressiveGenerator(image_shape, base_filters, name="generator")
        discriminator = ProgressiveCritic(image_shape, base_filters, group_size,
                                          outputs=1, name="discriminator")
        super().__init__(generator, discriminator, latent_dim, divergence,
                         event_shape=image_shape, num_levels=num_levels, drift=drift,
                         **kwargs)

    @property
    def num_stages(self):
        """Number of resolutions (stages)."""
        return self.generator.num_stages

    @property
    def stage(self):
        """The current stage, an int (0 = smallest resolution)."""
        return int(self.generator.stage.numpy())

    @property
    def alpha(self):
        """The current fade-in weight in [0, 1]."""
        return float(self.generator.alpha.numpy())

    def set_growth(self, stage, alpha):
        """Puts every network at (stage, alpha) (training then follows the schedule)."""
        for network in self._growing():
            network.stage.assign(tf.cast(stage, "int32"))
            network.alpha.assign(tf.cast(alpha, "float32"))

    def _growing(self):
        networks = [self.generator, self.discriminator]
        return networks + ([self.ema_generator] if self.ema_generator is not None else [])

    def validate_data(self, x):
        """`GAN.validate_data`, plus: the batch is a multiple of ``group_size``."""
        super().validate_data(x)
        if len(x) % self.group_size:
            raise errors.DataError(
                f"ProGAN's minibatch standard deviation takes groups of group_size="
                f"{self.group_size}: the batch size (per replica) must be a multiple of "
                f"it, got a batch of {len(x)}.")

    def _preprocess(self, x):
        x = super()._preprocess(x)
        return progressive_view(x, tf.convert_to_tensor(self.generator.stage),
                                tf.convert_to_tensor(self.generator.alpha), self.num_stages)

    def train_step(self, data):
        """Sets (stage, alpha) from the generator's step count, then one GAN step."""
        stage, alpha = growth_schedule(self.optimizer.iterations, self.num_stages,
                                       self.phase_steps, self.fade_steps)
        self.set_growth(stage, alpha)
        return super().train_step(data)

    def get_config(self):
        config = super().get_config()
        config["image_shape"] = list(self.image_shape)
        return config


create_progan = image_builder(ProGAN)
