"""Sampling of `DDPM`: ancestral and DDIM reverse chains, with classifier-free guidance.

Both run the reverse chain over S timesteps t_S > ... > t_1 (all T, or an evenly
strided subset always holding 1 and T) inside one compiled `tf.while_loop`. On
a subset the chain is respaced (Nichol & Dhariwal): the kept alpha_bar's give
betas beta'_i = 1 - alpha_bar_{t_i} / alpha_bar_{t_{i-1}} with the same
marginals q(x_{t_i} | x_0), and every posterior constant is recomputed from them.

* ancestral (Ho et al.): x_{t_{i-1}} = mu_theta(x_{t_i}) + sigma_i z, z ~ N(0, I)
  (no noise on the last step, which returns x0_theta);
* DDIM (Song et al.): with x0_theta and eps recomputed from it,
  x_{t_{i-1}} = sqrt(alpha_bar') x0_theta + sqrt(1 - alpha_bar' - s_i^2) eps + s_i z,
  s_i = eta sqrt((1 - alpha_bar') / (1 - alpha_bar)) sqrt(1 - alpha_bar / alpha_bar')
  (alpha_bar = alpha_bar_{t_i}, alpha_bar' = alpha_bar_{t_{i-1}}); eta = 0 is
  deterministic given x_T, eta = 1 is ancestral sampling with sigma^2 = beta_tilde.

Classifier-free guidance (Ho & Salimans): eps = (1 + w) eps_theta(x, t, y) -
w eps_theta(x, t, null), w = ``guidance``.
"""

import numpy as np
import tensorflow as tf

from unigen._checks import check_number
from unigen.models.diffusion import _schedule as sch

__all__ = ["DDPMSamplingMixin"]

_METHODS = ("ancestral", "ddim")


class DDPMSamplingMixin:
    """`_sample` and `denoise` of `DDPM`."""

    def _sample(self, num_samples, seed, num_steps=None, method="ancestral", eta=0.0,
                temperature=1.0, labels=None, guidance=0.0):
        """Draws x_T ~ N(0, temperature^2 I) and runs the reverse chain (`denoise`).

        Args:
            num_samples: how many.
            seed: int, or None for fresh draws.
            num_steps: S reverse steps (default T): all T timesteps, or an evenly
                strided subset of them.
            method: "ancestral" or "ddim".
            eta: DDIM's noise scale (0: deterministic given x_T).
            temperature: scales x_T and every step's noise.
            labels: classes of a conditional model (default 0, 1, ..., K-1, 0, ...).
            guidance: classifier-free guidance weight w (conditional models).

        Returns:
            integer levels 0..L-1 (float32) for discrete data, else values.
        """
        if seed is None:
            seed = int(np.random.default_rng().integers(2**31 - 1))
        noise = tf.random.stateless_normal([num_samples, *self.event_shape], [seed, 0])
        x0 = self.denoise(noise * temperature, num_steps=num_steps, method=method, eta=eta,
                          seed=seed, temperature=temperature, labels=labels, guidance=guidance)
        return self._unscale(x0)

    def denoise(self, x_t, num_steps=None, method="ancestral", eta=0.0, seed=0,
                temperature=1.0, labels=None, guidance=0.0):
        """Runs the reverse chain from x_T (the model's scaled space) to x_0.

        Args:
            x_t: ``[batch, *event_shape]`` draws of x_T.
            num_steps, method, eta, temperature, labels, guidance: as in ``sample``.
            seed: int seeding each step's noise.

        Returns:
            x0_theta of the last step, in the scaled space ([-1, 1] for levels).
        """
        if method not in _METHODS:
            raise ValueError(f"`method` must be one of {list(_METHODS)}, got {method!r}.")
        num_steps = self.num_timesteps if num_steps is None else num_steps
        if isinstance(num_steps, bool) or not isinstance(num_steps, (int, np.integer)):
            raise ValueError(f"`num_steps` must be an int in 1..{self.num_timesteps}, got "
                             f"{num_steps!r}.")
        timesteps = sch.strided_timesteps(self.num_timesteps, int(num_steps))
        eta = check_number("eta", eta, minimum=0)
        guidance = check_number("guidance", guidance)
        if guidance and self.num_classes is None:
            raise ValueError("`guidance` needs a conditional DDPM (num_classes set); an "
                             "unconditional model has nothing to guide with.")
        self._ensure_built()
        x_t = tf.convert_to_tensor(x_t, tf.float32)
        batch = int(x_t.shape[0])
        if labels is None:
            labels = (self._null_labels(batch) if self.num_classes is None else
                      tf.constant(np.arange(batch) % self.num_classes, tf.int32))
        key = ("reverse", method, tuple(int(t) for t in timesteps),
               eta if method == "ddim" else None, bool(guidance))
        fn = self._compiled.get(key)
        if fn is None:
            fn = self._compiled[key] = tf.function(
                self._reverse_chain(method, timesteps, eta, bool(guidance)),
                reduce_retracing=True)
        return fn(x_t, tf.constant(seed, tf.int64), tf.constant(float(temperature)),
                  labels, tf.constant(guidance))

    def _epsilon(self, x, t, labels, guidance, guided):
        """eps_theta (guided: (1 + w) conditional - w unconditional) and v."""
        if not guided:
            return self._network(x, t, labels)
        batch = tf.shape(x)[0]
        both_labels = tf.concat([labels, self._null_labels(batch)], 0)
        eps, v = self._network(tf.concat([x, x], 0), tf.concat([t, t], 0), both_labels)
        conditional, unconditional = eps[:batch], eps[batch:]
        eps = (1.0 + guidance) * conditional - guidance * unconditional
        return eps, None if v is None else v[:batch]

    def _reverse_chain(self, method, timesteps, eta, guided):
        """The reverse chain over ``timesteps`` as a function for `tf.function`."""
        sub = sch.schedule_from_betas(sch.respace(self.schedule["alpha_bar"], timesteps))
        model_steps = tf.constant(timesteps, tf.int32)
        count = len(timesteps)

        def run(x, seed, temperature, labels, guidance):
            batch = tf.shape(x)[0]
            ndim = len(x.shape)

            def body(i, x):
                index = tf.fill([batch], i)
                eps, v = self._epsilon(x, tf.fill([batch], model_steps[i - 1]), labels,
                                       guidance, guided)
                mean, log_variance, x0 = self._p_mean_log_variance(sub, x, index, eps, v)
                z = temperature * tf.random.stateless_normal(
                    tf.shape(x), tf.stack([seed, tf.cast(i, tf.int64)]))
                if method == "ddim":
                    alpha_bar = sch.gather(sub["alpha_bar"], index, ndim)
                    alpha_bar_prev = sch.gather(sub["alpha_bar_prev"], index, ndim)
                    eps = (x - tf.sqrt(alpha_bar) * x0) / tf.sqrt(1.0 - alpha_bar)
                    sigma = eta * tf.sqrt((1.0 - alpha_bar_prev) / (1.0 - alpha_bar)
                                          * (1.0 - alpha_bar / alpha_bar_prev))
                    direction = tf.sqrt(tf.maximum(1.0 - alpha_bar_prev - sigma**2, 0.0))
                    return i - 1, tf.sqrt(alpha_bar_prev) * x0 + direction * eps + sigma * z
                scale = tf.where(i > 1, tf.exp(0.5 * log_variance), 0.0)
                return i - 1, mean + scale * z

            _, x = tf.while_loop(lambda i, _: i > 0, body, (tf.constant(count), x))
            return x

        return run
