"""`FlowModel`: the shared base of unigen's normalizing flows (Glow, RealNVP, MAF).

A flow model is an invertible map f from (pre-processed) data to a latent
vector z of the same dimension D with a standard normal base, so

    log p(x) = log N(f(x); 0, I) + log|det J_f(x)|,

exact. Discrete pixels (``num_levels=L``) are first dequantized and
transformed (`unigen.flows.uniform_dequantize`, `unigen.flows.LogitTransform`),
with the Jacobian of the transform counted, so ``log_prob`` refers to the data
exactly as passed (integer levels 0..L-1). With
``dequantization="variational"`` the noise comes from a learned conditional
flow q(u | x) (`unigen.flows.VariationalDequantizer`, Flow++), trained jointly
on the bound E_q[log p(x + u) - log q(u | x)] <= log P(x).

Training: maximum likelihood (``compute_loss`` = -mean log p, from the base
class). Flow-GAN training, ``likelihood_weight * NLL + adversarial loss``
against a critic, is its own model, `unigen.models.FlowGAN`, which holds a flow.
"""

import math

import keras
import tensorflow as tf

from unigen import _random
from unigen._model_state import _adam
from unigen.base import GenerativeModel
from unigen.flows import LogitTransform
from unigen.models.flows._dequantization import DequantizationMixin
from unigen.training._distribute import global_batch_noise

__all__ = ["FlowModel", "WarmupSchedule"]

_LOG_2PI = math.log(2.0 * math.pi)


@keras.saving.register_keras_serializable(package="unigen")
class WarmupSchedule(keras.optimizers.schedules.LearningRateSchedule):
    """Linear learning-rate warm-up from 0 to ``learning_rate`` over ``warmup_steps``.

    Glow trains unstably at full learning rate from the first step (its
    ActNorm scales are set from one batch); the paper warms up linearly.
    """

    def __init__(self, learning_rate, warmup_steps):
        self.learning_rate = float(learning_rate)
        self.warmup_steps = int(warmup_steps)

    def __call__(self, step):
        step = tf.cast(step, "float32") + 1.0
        frac = tf.minimum(1.0, step / max(1, self.warmup_steps))
        return self.learning_rate * frac

    def get_config(self):
        return {"learning_rate": self.learning_rate, "warmup_steps": self.warmup_steps}




@keras.saving.register_keras_serializable(package="unigen")
class FlowModel(DequantizationMixin, GenerativeModel):
    """Base of the flow models: preprocessing, log_prob, sampling, encode/decode.

    Subclasses set ``self.flow``, a `unigen.flows.Bijector` from the
    (pre-processed) event shape to the latent, in ``__init__``.

    Args:
        event_shape: shape of one example.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        logit_alpha: margin of the logit pre-processing of discrete data, or
            None for Glow's affine map to [-1/2, 1/2).
        warmup_steps: linear learning-rate warm-up of ``compile_for_fit``.
        gradient_clip_norm: global norm at which ``compile_for_fit``'s Adam
            clips the gradient, or None (default) for no clipping.
        seed: seed of the initial weights and of the model's training-noise generator.
        dequantization: for discrete data, "uniform" (u ~ U[0, 1)^D) or
            "variational" (u ~ q(u | x), a learned `unigen.flows.VariationalDequantizer`
            trained jointly with the flow; its variables are part of the model).
        dequantizer_couplings: affine couplings of the variational dequantizer.
        dequantizer_hidden: width of the variational dequantizer's networks.
        **kwargs: passed to `unigen.GenerativeModel`.
    """

    def __init__(self, event_shape, num_levels="auto", logit_alpha=0.05, warmup_steps=100,
                 gradient_clip_norm=None, seed=0, dequantization="uniform",
                 dequantizer_couplings=4, dequantizer_hidden=32, **kwargs):
        if "divergence" in kwargs:
            raise TypeError("Flow-GAN training is its own model: wrap the flow, "
                            "unigen.models.FlowGAN(Glow(...), divergence=...), or use "
                            "unigen.models.create('flow_gan', ...).")
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self.logit_alpha = None if logit_alpha is None else float(logit_alpha)
        self.warmup_steps = int(warmup_steps)
        if self.warmup_steps < 0:
            raise ValueError(f"`warmup_steps` must be >= 0, got {warmup_steps!r}.")
        if gradient_clip_norm is not None and not (
                isinstance(gradient_clip_norm, int | float) and gradient_clip_norm > 0):
            raise ValueError("`gradient_clip_norm` must be a positive number or None, got "
                             f"{gradient_clip_norm!r}.")
        self.gradient_clip_norm = (None if gradient_clip_norm is None
                                   else float(gradient_clip_norm))
        self.logit = None
        if self.num_levels is not None:
            self.logit = LogitTransform(self.num_levels, alpha=self.logit_alpha, name="logit")
        self._init_dequantizer(dequantization, dequantizer_couplings, dequantizer_hidden)
    # ---------------------------------------------------------- public API
    def _log_prob(self, x, num_samples=1, seed=None):
        """Log-likelihood of ``x`` in nats per example, shape ``[batch]``.

        Continuous data (``num_levels=None``): the exact log density
        (``num_samples`` and ``seed`` are ignored).

        Discrete data (``num_levels=L``, integer levels as passed): the flow is
        a density p_Y over y = x + u in [0, L)^D and the returned value is a
        lower bound on the log probability mass log P(x) of the bins,

            log (1/K) sum_k p_Y(x + u_k) / q(u_k | x),   u_k ~ q(u | x),

        with K = ``num_samples``. Uniform dequantization has q = 1 on [0, 1)^D:
        K = 1 gives log p_Y(x + u), a one-sample estimate of
        E_u log p_Y(x + u) <= log P(x) (as reported in the RealNVP and Glow
        papers). Variational dequantization draws u from the learned
        q(u | x); K = 1 is a one-sample estimate of the variational bound
        E_q[log p_Y(x + u) - log q(u | x)]. For either, the expectation of the
        K-sample estimate increases with K towards log P(x) (importance
        weighting, Burda et al. 2016).

        Args:
            x: a batch in the data space.
            num_samples: K, noise draws per example (discrete data).
            seed: int seeding the draws; None uses fixed seeds, so the same
                batch gives the same value on every call.
        """
        if self.num_levels is None or (num_samples == 1 and seed is None):
            return self._log_prob_with_noise(x, self._fixed_noise(x))
        return self._importance_log_prob(x, num_samples, seed)

    def _sample(self, num_samples, seed, temperature=1.0):
        """Draws ``num_samples`` examples; z ~ N(0, temperature^2 I).

        Discrete models return integer levels 0..L-1 (float32): the flow's
        continuous draw y in [0, L) is floored into its bin.
        """
        z = _random.normal((num_samples, self.event_size), seed=seed) * temperature
        y = self._from_flow_space(self._flow_inverse(z))
        if self.num_levels is not None:
            y = tf.clip_by_value(tf.floor(y), 0.0, float(self.num_levels - 1))
        return y

    def likelihood_estimators(self):
        """Exact for continuous data; else the (variational) dequantization bound."""
        if self.num_levels is None:
            return ["exact"]
        return ["variational" if self.dequantizer is not None else "dequantization"]

    def encode(self, x):
        """Latent vectors z = f(x), shape ``[batch, D]``.

        Discrete data are dequantized at the bin centres (u = 1/2), so
        ``decode(encode(x))`` returns ``x`` up to float error.
        """
        x = self._convert_input(x)
        z, _ = self._flow_forward(self._to_flow_space(self._centre(x)))
        return z

    def decode(self, z, quantize=False):
        """Data for latent vectors ``z`` [batch, D]: the inverse of `encode`.

        Args:
            z: latent vectors.
            quantize: for discrete data, round to integer levels 0..L-1;
                otherwise the continuous value (bin centre coordinates: x = y - 1/2).
        """
        self._ensure_built()
        z = tf.convert_to_tensor(z, self.compute_dtype)
        y = self._from_flow_space(self._flow_inverse(z))
        if self.num_levels is None:
            return y
        x = y - 0.5
        if quantize:
            x = tf.clip_by_value(tf.round(x), 0.0, float(self.num_levels - 1))
        return x

    def interpolate(self, x1, x2, num_steps=8):
        """Decodes straight lines between the latents of ``x1`` and ``x2``.

        Returns ``[batch, num_steps, *event_shape]`` (quantized for discrete data).
        """
        z1, z2 = self.encode(x1), self.encode(x2)
        w = tf.linspace(0.0, 1.0, int(num_steps))[None, :, None]
        z = tf.reshape(z1[:, None] * (1.0 - w) + z2[:, None] * w, [-1, self.event_size])
        x = self.decode(z, quantize=True)
        return tf.reshape(x, [-1, int(num_steps), *self.event_shape])

    def data_dependent_init(self, x):
        """Initialises every ActNorm from the first batch (one eager forward pass)."""
        self._ensure_built()
        x = self._preprocess(tf.convert_to_tensor(x))
        self._log_prob_with_noise(x, self._fixed_noise(x))

    # ---------------------------------------------------------- Keras hooks
    def call(self, x, training=False):
        x = self._preprocess(x)
        if training and self.num_levels is not None:
            return self._log_prob_with_noise(x, self._train_noise(x))
        return self._log_prob_with_noise(x, self._fixed_noise(x))

    def _default_optimizer(self, learning_rate):
        """Adam with a linear warm-up over ``warmup_steps`` (Glow's schedule),
        clipping the gradient's global norm at ``gradient_clip_norm``."""
        rate = learning_rate
        if self.warmup_steps:
            rate = WarmupSchedule(learning_rate, self.warmup_steps)
        return _adam(rate, global_clipnorm=self.gradient_clip_norm)

    def get_config(self):
        return {
            **super().get_config(),
            "logit_alpha": self.logit_alpha,
            "warmup_steps": self.warmup_steps,
            "gradient_clip_norm": self.gradient_clip_norm,
            **self._dequantizer_config(),
        }

    def build(self, input_shape=None):
        self._build_flow((None, *self.event_shape))
        if self.dequantizer is not None:
            self.dequantizer.build((None, *self.event_shape))
        self.built = True

    # ---------------------------------------------------------- internals
    def _log_prob_with_noise(self, x, noise):
        """log p(x) (continuous) or the one-draw bound log p_Y(x + u) - log q(u | x)."""
        if self.num_levels is None:
            return self._continuous_log_prob(x)
        u, log_q = self._dequantize(x, noise)
        return self._continuous_log_prob(x + u) - log_q

    def _continuous_log_prob(self, y):
        """log p_Y(y): the flow's density on y (in [0, L)^D for discrete data)."""
        if self.num_levels is None:
            t, ld0 = y, 0.0
        else:
            t, ld0 = self.logit.forward_and_log_det(y)
        z, ld1 = self._flow_forward(t)
        base = -0.5 * tf.reduce_sum(tf.square(z), axis=-1) - 0.5 * self.event_size * _LOG_2PI
        return base + ld1 + ld0

    def _fixed_noise(self, x):
        if self.num_levels is None:
            return None
        return self._noise_fn()(tf.shape(x), seed=0, dtype=x.dtype)

    def _train_noise(self, x):
        shape = tuple(x.shape[1:])
        noise_fn = self._noise_fn()
        draw = lambda n: noise_fn((n, *shape), seed=self.noise_generator)  # noqa: E731
        return global_batch_noise(draw, tf.shape(x)[0])

    def _generate(self, z):
        """Continuous samples y (data units) for latents z, differentiable."""
        return self._from_flow_space(self._flow_inverse(z))

    def _critic_view(self, y):
        """What the discriminator sees: flattened, scaled to [0, 1] if discrete."""
        y = tf.reshape(y, [-1, self.event_size])
        return y if self.num_levels is None else y / float(self.num_levels)

    def _centre(self, x):
        return x if self.num_levels is None else x + 0.5

    def _to_flow_space(self, y):
        return y if self.logit is None else self.logit.forward(y)

    def _from_flow_space(self, t):
        return t if self.logit is None else self.logit.inverse(t)

    def _build_flow(self, input_shape):
        self.flow.build(input_shape)
        self._latent_shape = tuple(self.flow.forward_shape(input_shape)[1:])

    def _flow_forward(self, t):
        z, log_det = self.flow.forward_and_log_det(t)
        return _flatten(z), log_det

    def _flow_inverse(self, z):
        return self.flow.inverse(tf.reshape(z, [-1, *self._latent_shape]))


def _flatten(t):
    return tf.reshape(t, [tf.shape(t)[0], -1])

