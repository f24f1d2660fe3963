"""Denoising diffusion probabilistic models: `DDPM`."""

import math

import keras
import numpy as np
import tensorflow as tf

from unigen.base import GenerativeModel, _check_positive_int
from unigen.models.diffusion import _networks as nets
from unigen.models.diffusion import _schedule as sch
from unigen.models.diffusion._sampling import DDPMSamplingMixin
from unigen.models.diffusion._training import DDPMTrainingMixin
from unigen.models.vae._likelihoods import discretized_log_prob

__all__ = ["DDPM"]

_LOSSES = ("simple", "vlb")
_VARIANCES = ("small", "large", "learned")
_ARCHITECTURES = ("unet", "mlp")


def _cosine_offset_for(num_levels, num_timesteps):
    """Cosine offset s whose first step has noise std 1 / (3 (L - 1)), a third of a bin.

    With L levels scaled to [-1, 1] a bin is 2 / (L - 1) wide; noise well inside
    it is removed by the discretised decoder at t = 1, so the chain need not
    spend steps below it. Never below Nichol & Dhariwal's 0.008.
    """
    target = (1.0 / (3.0 * (num_levels - 1))) ** 2
    low, high = 0.0, 1.0
    for _ in range(80):  # 1 - alpha_bar_1 grows with s: bisection
        middle = 0.5 * (low + high)
        if 1.0 - sch._alpha_bar_cosine(num_timesteps, middle)[1] < target:
            low = middle
        else:
            high = middle
    return max(0.008, float(high))


@keras.saving.register_keras_serializable(package="unigen")
class DDPM(DDPMTrainingMixin, DDPMSamplingMixin, GenerativeModel):
    """Denoising diffusion probabilistic model (Ho et al. 2020) on levels or vectors.

    The forward process q adds Gaussian noise over T steps (``unigen.models.
    diffusion._schedule``: q(x_t | x_0) = N(sqrt(alpha_bar_t) x_0, (1 -
    alpha_bar_t) I)); the model learns the reverse chain

        p(x_T) = N(0, I),   p(x_{t-1} | x_t) = N(mu_theta(x_t, t), sigma_t^2 I),
        mu_theta = mu_tilde_t(x0_theta, x_t),
        x0_theta = (x_t - sqrt(1 - alpha_bar_t) eps_theta(x_t, t)) / sqrt(alpha_bar_t),

    with a network eps_theta predicting the noise (x0_theta clipped to [-1, 1]
    for discrete data). sigma_t^2 is beta_tilde_t ("small"), beta_t ("large")
    or learned (Nichol & Dhariwal: log sigma_t^2 = f log beta_t + (1 - f) log
    beta_tilde_t, f = (v + 1) / 2 from the network's second output).

    Data: integer levels 0..L-1 (``num_levels=L``) are mapped to x_0 = 2 x /
    (L - 1) - 1 in [-1, 1]; continuous vectors (``num_levels=None``) are used as
    passed (standardise them first). The last step is a discretised Gaussian
    over the L bins (Ho et al. eq. 13, end bins to +-inf),

        p(x_0 | x_1) = prod_d [Phi((x_0 + 1/(L-1) - mu) / sigma_1)
                               - Phi((x_0 - 1/(L-1) - mu) / sigma_1)],

    so `log_prob` is a bound in nats of a probability mass, comparable with
    the other families (a Gaussian density for continuous data).

    The bound (``log_prob``), as for a hierarchical VAE with latents x_1..x_T:

        log P(x_0) >= E_q[log p(x_0 | x_1)]
                      - sum_{t=2..T} E_q KL(q(x_{t-1} | x_t, x_0) || p(x_{t-1} | x_t))
                      - KL(q(x_T | x_0) || N(0, I)),

    each KL between Gaussians in closed form.

    Training (``compute_loss``; one t and one noise draw per example, t
    uniform in 1..T unless said otherwise): ``loss="simple"`` minimises Ho et
    al.'s mean over dimensions of ||eps - eps_theta(x_t, t)||^2 (plus
    ``vlb_weight`` T L_{t-1} with the mean held fixed, Nichol & Dhariwal's
    hybrid loss, when the variance is learned);
    ``loss="vlb"`` minimises the unbiased one-draw estimate of the negative
    bound, KL(q(x_T | x_0) || p(x_T)) + L_{t-1} / p(t), in nats, with t drawn
    from p(t) proportional to the weight of the noise error in L_{t-1}
    (importance sampling; uniform p(t) = 1 / T would give T L_{t-1}).

    Args:
        event_shape: shape of one example, ``(H, W, C)`` or ``(D,)``.
        num_levels: levels L of integer data 0..L-1, None for continuous data, or
            "auto" (default): 256 (8-bit) for images, None for vectors.
        num_timesteps: T.
        schedule: "cosine" (default) or "linear" (`make_schedule`).
        cosine_offset: s of the cosine schedule; None: 0.008, or for discrete
            data the offset whose first step has noise std a third of a bin
            half-width, 1 / (3 (L - 1)) (never below 0.008).
        loss: "simple" or "vlb".
        variance: "small", "large" or "learned".
        vlb_weight: weight lambda of the bound in the hybrid loss.
        architecture: "unet" (default for images) or "mlp" (default for vectors).
        channels, channel_multipliers: width and resolutions of the U-Net.
        hidden_units: widths of the MLP's hidden layers.
        fourier_features: feed the default network sin and cos of x_t at the
            frequencies pi (L - 1) {1/2, 1, 2} of the level grid besides x_t
            (Kingma et al.'s Fourier features), so it can tell where x_t lies
            inside its bin, which the noise prediction needs at small noise.
            Default: True for discrete data (not available for continuous).
        network: a Keras model to use instead (contract in
            ``unigen.models.diffusion._networks``); saved with the model.
        num_classes: K makes the model conditional on labels 0..K-1 (data are
            ``(x, y)`` pairs) with classifier-free guidance (Ho & Salimans):
            during training a label is replaced by the null class K with
            probability ``label_dropout``, so one network is both p(x | y)
            and p(x); ``sample(..., guidance=w)`` mixes them.
        label_dropout: p_uncond of classifier-free guidance.
        ema_momentum: the default optimizer (`unigen.fit`) keeps an exponential
            moving average of the weights with this momentum and the model
            takes the averaged weights when training ends, as diffusion models
            usually do (Ho et al.: 0.9999 over 800k steps); None: no average.
        seed: seeds the initial weights and the training noise.
        **kwargs: passed to `unigen.GenerativeModel`.

    References:
        Sohl-Dickstein et al. "Deep Unsupervised Learning using Nonequilibrium
        Thermodynamics." ICML 2015.
        Ho, Jain and Abbeel. "Denoising Diffusion Probabilistic Models." NeurIPS 2020.
        Nichol and Dhariwal. "Improved Denoising Diffusion Probabilistic Models." ICML 2021.
        Song, Meng and Ermon. "Denoising Diffusion Implicit Models." ICLR 2021.
        Ho and Salimans. "Classifier-Free Diffusion Guidance." 2021.
        Kingma, Salimans, Poole and Ho. "Variational Diffusion Models." NeurIPS 2021.
    """

    def __init__(self, event_shape, num_levels="auto", *, num_timesteps=1000, schedule="cosine",
                 cosine_offset=None, loss="simple", variance="small", vlb_weight=0.001,
                 architecture=None, channels=32, channel_multipliers=(1, 2),
                 hidden_units=(256, 256, 256), fourier_features=None, network=None,
                 num_classes=None, label_dropout=0.1, ema_momentum=0.999, seed=0, **kwargs):
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self.num_timesteps = _check_positive_int("num_timesteps", num_timesteps)
        for name, value, allowed in (("loss", loss, _LOSSES), ("variance", variance, _VARIANCES),
                                     ("schedule", schedule, sch.SCHEDULES)):
            if value not in allowed:
                raise ValueError(f"`{name}` must be one of {list(allowed)}, got {value!r}.")
        if len(self.event_shape) not in (1, 3):
            raise ValueError(
                f"DDPM models vectors (D,) or images (H, W, C), got event_shape="
                f"{self.event_shape}: for grey images add the channel axis, "
                f"{(*self.event_shape, 1)}; flatten other data to (D,).")
        image = len(self.event_shape) == 3
        architecture = architecture or ("unet" if image else "mlp")
        if architecture not in _ARCHITECTURES:
            raise ValueError(f"`architecture` must be one of {list(_ARCHITECTURES)}, got "
                             f"{architecture!r}.")
        if architecture == "unet" and not image:
            raise ValueError(f"architecture='unet' needs images (H, W, C), got event_shape="
                             f"{self.event_shape}; use architecture='mlp'.")
        if cosine_offset is None and schedule == "cosine":
            cosine_offset = (0.008 if self.num_levels is None
                             else _cosine_offset_for(self.num_levels, self.num_timesteps))
        self.schedule_name, self.cosine_offset = schedule, cosine_offset
        self.schedule = sch.make_schedule(schedule, self.num_timesteps,
                                          0.008 if cosine_offset is None else cosine_offset)
        self.loss_name, self.variance = loss, variance
        self.vlb_weight = float(vlb_weight)
        self.architecture = architecture
        self.channels = _check_positive_int("channels", channels)
        self.channel_multipliers = tuple(int(m) for m in channel_multipliers)
        self.hidden_units = tuple(int(u) for u in hidden_units)
        if fourier_features is None:
            fourier_features = self.num_levels is not None
        if fourier_features and self.num_levels is None:
            raise ValueError("`fourier_features` are tied to the grid of discrete levels; "
                             "for continuous data (num_levels=None) pass False.")
        self.fourier_features = bool(fourier_features)
        self.network = network
        self._user_network = network is not None
        self.num_classes = None if num_classes is None else _check_positive_int(
            "num_classes", num_classes)
        self.label_dropout = float(label_dropout)
        if not 0.0 <= self.label_dropout < 1.0:
            raise ValueError(f"`label_dropout` must be in [0, 1), got {label_dropout!r}.")
        self.ema_momentum = None if ema_momentum is None else float(ema_momentum)
        if self.ema_momentum is not None and not 0.0 < self.ema_momentum < 1.0:
            raise ValueError(f"`ema_momentum` must be in (0, 1) or None, got {ema_momentum!r}.")
        self._clip = self.num_levels is not None
        self._compiled = {}

    # ------------------------------------------------------------- building
    def build(self, input_shape=None):
        factor = 2 if self.variance == "learned" else 1
        # Frequencies pi (L - 1) {1/2, 1, 2}: the level grid's (fourier_features).
        frequencies = (None if not self.fourier_features else
                       [math.pi * (self.num_levels - 1) * k for k in (0.5, 1.0, 2.0)])
        if self.network is None:
            if self.architecture == "unet":
                self.network = nets.unet(self.event_shape, self.channels,
                                         self.channel_multipliers,
                                         factor * self.event_shape[-1], self.num_classes,
                                         frequencies)
            else:
                self.network = nets.mlp(self.event_shape, self.hidden_units,
                                        factor * self.event_size, self.num_classes,
                                        frequencies)
        out = self._network(tf.zeros((1, *self.event_shape)), tf.ones([1], tf.int32),
                            self._null_labels(1))
        del out
        self.built = True

    # --------------------------------------------------------------- maths
    def _scale(self, x):
        """Data as passed -> x_0 (levels to [-1, 1]; continuous unchanged)."""
        if self.num_levels is None:
            return x
        return x * (2.0 / (self.num_levels - 1)) - 1.0

    def _unscale(self, x0):
        """x_0 -> data: integer levels (rounded, clipped) or continuous values."""
        if self.num_levels is None:
            return x0
        top = float(self.num_levels - 1)
        return tf.clip_by_value(tf.round((x0 + 1.0) * (top / 2.0)), 0.0, top)

    def _null_labels(self, batch):
        if self.num_classes is None:
            return None
        return tf.fill([batch], self.num_classes)

    def _network(self, xt, t, labels):
        """(eps_theta, v or None) for x_t at integer timesteps t [batch]."""
        inputs = [xt, tf.cast(t, "float32")]
        if self.num_classes is not None:
            inputs.append(tf.cast(labels, "int32"))
        out = tf.cast(self.network(inputs), "float32")
        expected = (2 if self.variance == "learned" else 1) * self.event_size
        if out.shape[1:].num_elements() != expected:
            raise ValueError(f"The network must output {expected} numbers per example "
                             f"(variance={self.variance!r}), got shape {tuple(out.shape)}.")
        if self.variance != "learned":
            return tf.reshape(out, tf.shape(xt)), None
        eps, v = tf.split(out, 2, axis=-1)
        return eps, v

    def _log_variance(self, schedule, t, v, ndim):
        """log sigma_t^2 of p(x_{t-1} | x_t); t = 1 borrows t = 2's beta_tilde (Ho et al.)."""
        small = sch.gather(schedule["posterior_log_variance"], t, ndim)
        large_values = np.log(np.maximum(schedule["beta"], 1e-30))
        large_values[:2] = schedule["posterior_log_variance"][:2]
        large = sch.gather(large_values, t, ndim)
        if self.variance == "small":
            return small
        if self.variance == "large":
            return large
        fraction = (v + 1.0) / 2.0
        return fraction * large + (1.0 - fraction) * small

    def _p_mean_log_variance(self, schedule, xt, t, eps, v):
        """Mean and log variance of p(x_{t-1} | x_t) from the network's outputs."""
        x0 = sch.predict_x0(schedule, xt, t, eps)
        if self._clip:
            x0 = tf.clip_by_value(x0, -1.0, 1.0)
        mean, _, _ = sch.posterior_mean_variance(schedule, x0, xt, t)
        return mean, self._log_variance(schedule, t, v, len(xt.shape)), x0

    def _decoder_log_prob(self, x, mean, log_variance):
        """log p(x_0 | x_1) per example: discretised over the L bins, or a density."""
        axes = list(range(1, len(x.shape)))
        if self.num_levels is None:
            return tf.reduce_sum(sch.gaussian_log_density(x, mean, log_variance), axes)
        half = (self.num_levels - 1) / 2.0  # [-1, 1] -> level units
        loc = (mean + 1.0) * half
        scale = tf.exp(0.5 * log_variance) * half
        return tf.reduce_sum(discretized_log_prob(x, loc, scale, self.num_levels, "gaussian"),
                             axes)

    def prior_kl(self, x):
        """KL(q(x_T | x_0) || N(0, I)) per example, in nats (closed form)."""
        x0 = self._scale(tf.cast(x, "float32"))
        alpha_bar = float(self.schedule["alpha_bar"][-1])
        kl = sch.normal_kl(math.sqrt(alpha_bar) * x0, math.log(1.0 - alpha_bar), 0.0, 0.0)
        return tf.reduce_sum(kl, list(range(1, len(x.shape))))

    def bound_terms(self, x, t, noise, labels=None, stop_mean=False):
        """L_{t-1} per example for timesteps ``t`` and noise ``noise`` (one per example).

        With x_t = sqrt(alpha_bar_t) x_0 + sqrt(1 - alpha_bar_t) noise:
        -log p(x_0 | x_1) where t = 1, else KL(q(x_{t-1} | x_t, x_0) ||
        p(x_{t-1} | x_t)) in closed form, summed over dimensions (nats).

        Returns:
            (terms ``[batch]``, eps_theta ``[batch, *event_shape]``).
        """
        x, noise = tf.cast(x, "float32"), tf.cast(noise, "float32")
        x0 = self._scale(x)
        xt = sch.q_sample(self.schedule, x0, t, noise)
        labels = self._null_labels(tf.shape(x)[0]) if labels is None else labels
        eps, v = self._network(xt, t, labels)
        mean, log_variance, _ = self._p_mean_log_variance(self.schedule, xt, t, eps, v)
        if stop_mean:
            mean = tf.stop_gradient(mean)
        q_mean, _, q_log_variance = sch.posterior_mean_variance(self.schedule, x0, xt, t)
        axes = list(range(1, len(x.shape)))
        kl = tf.reduce_sum(sch.normal_kl(q_mean, q_log_variance, mean, log_variance), axes)
        decoder = -self._decoder_log_prob(x, mean, log_variance)
        return tf.where(t == 1, decoder, kl), eps

    # ------------------------------------------------------------ log_prob
    def _log_prob(self, x, seed=None, timestep_samples=None, labels=None):
        """The evidence lower bound on log P(x) in nats per example (a lower bound).

        ELBO = -sum_{t=1..T} L_{t-1} - KL(q(x_T | x_0) || N(0, I)) (class
        docstring), with L_0 = -log p(x_0 | x_1) and each L_{t-1} an expectation
        over x_t ~ q(x_t | x_0) of a closed-form term, estimated with one draw
        of x_t per example and timestep.

        Args:
            x: a batch in the data space.
            seed: seeds the draws of x_t; None uses seed 0, so the same batch
                gives the same value on every call.
            timestep_samples: None (default) sums all T terms: exact in t, one
                x_t draw per term, an unbiased estimate of the ELBO. K draws,
                for each example, K timesteps uniformly from 1..T (with
                replacement) and returns -KL_T - (T / K) sum_k L_{t_k - 1},
                also unbiased, at K / T of the cost.
            labels: class labels of a conditional model (default: the null
                class, the unconditional model p(x)).
        """
        seed = 0 if seed is None else seed
        if timestep_samples is None:
            timesteps = np.arange(1, self.num_timesteps + 1)[:, None]
            weight = 1.0
        else:
            count = _check_positive_int("timestep_samples", timestep_samples)
            rng = np.random.default_rng(seed)
            timesteps = rng.integers(1, self.num_timesteps + 1, size=(count, int(x.shape[0])))
            weight = self.num_timesteps / count
        if labels is None:
            labels = self._null_labels(tf.shape(x)[0])
        fn = self._compiled.get("elbo")
        if fn is None:
            fn = self._compiled["elbo"] = tf.function(self._elbo_sum, reduce_retracing=True)
        terms = fn(x, tf.constant(timesteps, tf.int32), tf.constant(seed, tf.int64), labels)
        return -self.prior_kl(x) - weight * terms

    def _elbo_sum(self, x, timesteps, seed, labels):
        """sum_k L_{t_k - 1}(x), one noise draw per k, in a tf.while_loop.

        ``timesteps``: [K, batch] (per example) or [K, 1] (the same for all).
        """
        batch = tf.shape(x)[0]

        def body(k, total):
            t = tf.broadcast_to(timesteps[k], [batch])
            noise = tf.random.stateless_normal(
                tf.shape(x), tf.stack([seed, tf.cast(k, tf.int64) + 1]))
            term, _ = self.bound_terms(x, t, noise, labels)
            return k + 1, total + term

        _, total = tf.while_loop(lambda k, _: k < tf.shape(timesteps)[0], body,
                                 (tf.constant(0), tf.zeros([batch])))
        return total

    def likelihood_estimators(self):
        """The ELBO: a lower bound on log P(x) (label "elbo")."""
        return ["elbo"]

    @property
    def likelihood_estimator(self):
        """How `log_prob` is computed, for reports."""
        return (f"diffusion ELBO, all T={self.num_timesteps} terms, one x_t draw each "
                f"(discretised Gaussian decoder)" if self.num_levels is not None else
                f"diffusion ELBO, all T={self.num_timesteps} terms, one x_t draw each")

    # -------------------------------------------------------------- config
    def get_config(self):
        network = (keras.saving.serialize_keras_object(self.network)
                   if self._user_network else None)
        return {**super().get_config(), "num_timesteps": self.num_timesteps,
                "schedule": self.schedule_name, "cosine_offset": self.cosine_offset,
                "loss": self.loss_name, "variance": self.variance,
                "vlb_weight": self.vlb_weight, "architecture": self.architecture,
                "channels": self.channels, "channel_multipliers": list(self.channel_multipliers),
                "hidden_units": list(self.hidden_units),
                "fourier_features": self.fourier_features, "network": network,
                "num_classes": self.num_classes, "label_dropout": self.label_dropout,
                "ema_momentum": self.ema_momentum}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("network") is not None:
            config["network"] = keras.saving.deserialize_keras_object(config["network"])
        return super().from_config(config)
