"""Training of `DDPM`: the per-example objectives behind ``compute_loss``.

All noise comes from the model's `SeedGenerator` through `global_batch_noise`
(one draw of t, of the noise and of the label-dropout uniform per example, for
the whole global batch), so a step on R replicas is a step on one device; the
loss is a mean over examples, scaled for replicas by the base ``compute_loss``.
"""

import numpy as np
import tensorflow as tf

from unigen import _random
from unigen._model_state import _adam
from unigen.models.diffusion import _schedule as sch
from unigen.training._distribute import global_batch_noise

__all__ = ["DDPMTrainingMixin"]


class DDPMTrainingMixin:
    """``call``, ``compute_loss`` and the default optimizer of `DDPM`."""
    def _training_noise(self, batch, training):
        """(noise [batch, *event], timesteps [batch], dropout uniforms [batch])."""
        def draw(n):
            normal = _random.normal((n, self.event_size), seed=self.noise_generator)
            uniform = _random.uniform((n, 2), seed=self.noise_generator)
            return tf.concat([normal, uniform], 1)

        if training:
            draws = global_batch_noise(draw, batch)
        else:  # evaluation: the same fixed draws on every call
            draws = tf.concat([tf.random.stateless_normal([batch, self.event_size], [0, 0]),
                               tf.random.stateless_uniform([batch, 2], [0, 1])], 1)
        noise = tf.reshape(draws[:, :self.event_size], [batch, *self.event_shape])
        uniform = draws[:, self.event_size]
        if self.loss_name == "vlb":  # t ~ p(t) by inverse CDF
            cdf = tf.constant(np.cumsum(self._timestep_probabilities()), tf.float32)
            t = 1 + tf.cast(tf.searchsorted(cdf, uniform, side="right"), tf.int32)
        else:
            t = 1 + tf.cast(tf.floor(uniform * self.num_timesteps), tf.int32)
        t = tf.minimum(t, self.num_timesteps)
        return noise, t, draws[:, self.event_size + 1]

    def _timestep_probabilities(self):
        """p(t) of the "vlb" loss, shaped like the terms L_{t-1} of the bound.

        With sigma_t^2 = beta_tilde_t, L_{t-1} is w_t ||eps - eps_theta||^2 with
        w_t = beta_t / (2 alpha_t (1 - alpha_bar_{t-1})), and also
        u_t ||x_0 - x0_theta||^2 with u_t = c_t^2 / (2 beta_tilde_t), c_t the
        weight of x_0 in mu_tilde_t. The noise error is O(1) where the noise is
        small, the (clipped) x_0 error where it is large, so p(t) is
        proportional to min(w_t, u_t) (t = 1 takes t = 2's). Drawing t from
        p(t) and weighting L_{t-1} by 1 / p(t) keeps the estimate of the bound
        unbiased while its terms no longer span orders of magnitude, so the
        gradient's variance drops (Nichol & Dhariwal's importance sampling,
        with a fixed proposal instead of a learned one).
        """
        s = self.schedule
        noise_weight = s["beta"][2:] / (2.0 * s["alpha"][2:] * (1.0 - s["alpha_bar_prev"][2:]))
        x0_weight = s["posterior_coef_x0"][2:] ** 2 / (2.0 * s["posterior_variance"][2:])
        weights = np.minimum(noise_weight, x0_weight)
        weights = np.concatenate([weights[:1], weights])
        return weights / weights.sum()

    def _objective(self, x, labels, training):
        """Per-example training objective (higher is better); see the class docstring."""
        batch = tf.shape(x)[0]
        noise, t, dropout = self._training_noise(batch, training)
        if self.num_classes is not None:
            null = self._null_labels(batch)
            if labels is None:
                labels = null
            else:
                labels = tf.reshape(tf.cast(labels, tf.int32), [-1])
                if training and self.label_dropout > 0:
                    labels = tf.where(dropout < self.label_dropout, null, labels)
        learned = self.variance == "learned"
        if self.loss_name == "simple" and not learned:
            eps, _ = self._network(sch.q_sample(self.schedule, self._scale(x), t, noise), t,
                                   labels)
            return -tf.reduce_mean(tf.square(eps - noise), list(range(1, len(x.shape))))
        terms, eps = self.bound_terms(x, t, noise, labels, stop_mean=self.loss_name == "simple")
        if self.loss_name == "vlb":
            inverse = tf.gather(tf.constant(1.0 / self._timestep_probabilities(), tf.float32),
                                t - 1)
            return -(self.prior_kl(x) + inverse * terms)
        mse = tf.reduce_mean(tf.square(eps - noise), list(range(1, len(x.shape))))
        return -(mse + self.vlb_weight * self.num_timesteps * terms / self.event_size)

    def _default_optimizer(self, learning_rate):
        """Adam, averaging the weights (``ema_momentum``) when set."""
        if self.ema_momentum is None:
            return super()._default_optimizer(learning_rate)
        return _adam(learning_rate, use_ema=True, ema_momentum=self.ema_momentum)

    def call(self, x, training=False):
        """Per-example training objective (labels: the null class for a conditional model)."""
        return self._objective(self._preprocess(x), None, training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """-mean objective; a conditional model recomputes it with the labels ``y``."""
        if self.num_classes is not None and y is not None:
            y_pred = self._objective(self._preprocess(x), y, training)
        return super().compute_loss(x, y, y_pred, sample_weight, training)
