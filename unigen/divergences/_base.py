"""The `Divergence` base class, the `Estimate` result and the name registry.

A divergence D(p, q) >= 0 measures how far a model distribution q is from a data
distribution p; D(p, p) = 0. Every member of `unigen.divergences` offers up to
three views of the same quantity:

1. the adversarial (variational) form on raw critic outputs, which is what a GAN
   trains: `discriminator_loss(real_outputs, fake_outputs)` and
   `generator_loss(fake_outputs)`;
2. the value between two TFP distributions, `between(p, q)`, in closed form,
   by quadrature (scalar distributions) or by Monte Carlo with a standard error;
3. where it makes sense, an estimate from two sets of samples, `from_samples(x, y)`.

Each public method converts and checks its arguments, then calls the one hook a
subclass writes (`_discriminator_loss`, `_closed_form`, `_quadrature`, ...).
Convention throughout: p is the data ("real") distribution, q the model ("fake").
"""

from typing import NamedTuple

import keras
import tensorflow as tf

from unigen.divergences import _numerics

__all__ = ["METHODS", "Divergence", "Estimate", "require_lipschitz"]

METHODS = ("auto", "closed_form", "quadrature", "monte_carlo")

# Canonical short name -> class, filled by `_register`. Aliases map to canonical.
_REGISTRY = {}
_ALIASES = {}


class Estimate(NamedTuple):
    """The value of a divergence and how much to trust it.

    Attributes:
        value: a float tensor with the distributions' batch shape.
        stderr: standard error of `value` (Monte Carlo), an estimate of the
            integration error (quadrature), 0 (closed form), or NaN when unknown.
        method: the method actually used: "closed_form", "quadrature",
            "monte_carlo" or "samples".
    """

    value: tf.Tensor
    stderr: tf.Tensor
    method: str


def _normalize_name(name):
    return str(name).strip().lower().replace("-", "_").replace(" ", "_")


def _register(name, *aliases):
    """Class decorator: Keras-register the class and give it a short name."""

    def decorator(cls):
        cls = keras.saving.register_keras_serializable(package="unigen")(cls)
        cls.short_name = name
        _REGISTRY[name] = cls
        for alias in (name, *aliases):
            _ALIASES[_normalize_name(alias)] = name
        return cls

    return decorator


def require_lipschitz(divergence):
    """Raises if `divergence` needs a Lipschitz critic but has no control for it.

    The Kantorovich-Rubinstein dual of the Wasserstein-1 distance,
    W1(p, q) = sup over 1-Lipschitz D of E_p[D(x)] - E_q[D(x)], is only an
    estimate of W1 when the critic D is kept (K-)Lipschitz. Without a control the
    critic loss E_q[D] - E_p[D] is unbounded below and training diverges. A GAN
    calls this before it trains.

    Args:
        divergence: a `Divergence`.

    Raises:
        ValueError: `divergence.requires_lipschitz` is True and
            `divergence.lipschitz` is None.
    """
    if getattr(divergence, "requires_lipschitz", False) and (
        getattr(divergence, "lipschitz", None) is None
    ):
        raise ValueError(
            f"`{type(divergence).__name__}` needs a Lipschitz control on the critic, "
            "got `lipschitz=None`: without one the critic loss is unbounded and "
            'training diverges. Choose one: `lipschitz="gradient_penalty"` '
            '(WGAN-GP, Gulrajani et al. 2017; recommended), `lipschitz="clip"` '
            "(weight clipping, Arjovsky et al. 2017) or "
            '`lipschitz="spectral_norm"` (wrap the critic\'s layers in '
            "`keras.layers.SpectralNormalization`)."
        )


class Divergence:
    """Base class of the divergences GANs, VAEs and flows share.

    Subclasses write the hooks they support:

    - `_discriminator_loss(real, fake)` and `_generator_loss(fake, real)`: the
      adversarial form on raw critic outputs (float tensors, any shape; the loss
      is the mean over all elements);
    - `_closed_form(p, q)` returning a tensor or None when no formula applies;
    - `_quadrature(p, q)` returning `(value, error)` for scalar distributions;
    - `_monte_carlo(p, q, num_samples, seed)` returning `(value, stderr)`;
    - `_from_samples(x, y)` returning an `Estimate`.

    - `_sample_loss(real, fake)`: a differentiable estimate from two batches of
      samples, for divergences that need no critic (``uses_critic=False``).

    What a divergence can do is said by its attributes, and every family
    branches on them, never on the class: ``uses_critic`` (train a critic on the
    adversarial form, with `unigen.adversarial.Critic`), else
    `generator_loss_from_samples` (estimate from samples, for example MMD);
    ``bounds_likelihood`` (the per-example KL of a VAE's evidence lower bound).

    Attributes:
        requires_lipschitz: True when the critic must be kept Lipschitz.
        uses_critic: False when the divergence is estimated from samples alone
            (MMD), so a GAN trains no discriminator; such a divergence must
            write `_sample_loss`.
        generator_loss_needs_real: True when `_generator_loss` uses the critic's
            outputs on data (then the caller computes them).
        bounds_likelihood: True for KL(q || p), which regularises each of a
            VAE's posteriors to its prior in the evidence lower bound.
        lipschitz: the Lipschitz control ("clip", "gradient_penalty",
            "spectral_norm") or None.
        short_name: the registered name accepted by `unigen.divergences.get`.
    """

    requires_lipschitz = False
    uses_critic = True
    generator_loss_needs_real = False
    bounds_likelihood = False
    lipschitz = None
    short_name = None

    # ------------------------------------------------------------------ config
    def get_config(self):
        """Returns the constructor arguments as a JSON-serialisable dict."""
        return {}

    @classmethod
    def from_config(cls, config):
        """Builds an instance from the output of `get_config`."""
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------- adversarial form
    def discriminator_loss(self, real_outputs, fake_outputs):
        """The loss the critic minimises, a scalar mean over the batch.

        Args:
            real_outputs: raw (pre-activation) critic outputs on data samples,
                shape [batch] or [batch, 1].
            fake_outputs: raw critic outputs on generated samples.

        Returns:
            A scalar float tensor (float32 for half-precision inputs). Under a
            `tf.distribute` strategy it is the per-replica mean: the caller
            divides by `num_replicas_in_sync`.
        """
        self._check_critic()
        real = _numerics.as_float(real_outputs, "real_outputs")
        fake = _numerics.as_float(fake_outputs, "fake_outputs")
        return self._discriminator_loss(real, fake)

    def generator_loss(self, fake_outputs, real_outputs=None):
        """The loss the generator minimises, a scalar mean over the batch.

        Args:
            fake_outputs: raw critic outputs on generated samples.
            real_outputs: raw critic outputs on data samples; unused by the
                members here, accepted so that every divergence has one signature.

        Returns:
            A scalar float tensor.
        """
        self._check_critic()
        fake = _numerics.as_float(fake_outputs, "fake_outputs")
        real = None
        if real_outputs is not None:
            real = _numerics.as_float(real_outputs, "real_outputs")
        return self._generator_loss(fake, real)

    def generator_loss_from_samples(self, real, fake):
        """A differentiable estimate of D(p, q) from a data and a generated batch.

        What a model minimises when the divergence needs no critic
        (``uses_critic=False``); subclasses write `_sample_loss`.

        Raises:
            NotImplementedError: the divergence needs a critic.
        """
        if self.uses_critic:
            raise NotImplementedError(
                f"`{type(self).__name__}` is estimated through a critic "
                "(`uses_critic=True`): train one with `unigen.adversarial.Critic` and "
                "use `generator_loss` on its outputs.")
        real = _numerics.as_float(real, "real")
        fake = tf.cast(_numerics.as_float(fake, "fake"), real.dtype)
        return self._sample_loss(real, fake)

    def _sample_loss(self, real, fake):
        raise NotImplementedError(
            f"`{type(self).__name__}` sets uses_critic=False but writes no `_sample_loss`.")

    def critic_penalty(self, critic_fn, real, fake, seed=None):
        """A regulariser added to the critic loss (0 unless a subclass says so).

        `unigen.adversarial.Critic` adds it to every critic update in every
        family, and reports it as ``critic_penalty`` when a subclass overrides
        this method. Noise it draws must come from ``seed`` (the model's
        `keras.random.SeedGenerator`) through
        ``unigen.training._distribute.global_batch_noise``, so that one device
        and R replicas draw the same numbers (as `gradient_penalty` does).

        Args:
            critic_fn: callable mapping a batch to raw critic values.
            real, fake: the data and generated batches of this update.
            seed: the model's `keras.random.SeedGenerator` (or an int).
        """
        del critic_fn, real, fake, seed
        return tf.constant(0.0)

    def apply_constraints(self, critic_variables):
        """Constrains critic weights after each critic step (no-op by default)."""
        del critic_variables

    def check_trainable(self):
        """Raises a clear error if this divergence cannot train a GAN as set up."""
        require_lipschitz(self)

    def _check_critic(self):
        if not self.uses_critic:
            raise NotImplementedError(
                f"`{type(self).__name__}` uses no critic (`uses_critic=False`): "
                "train the generator with `generator_loss_from_samples(real, fake)` "
                "on the samples themselves."
            )

    def _discriminator_loss(self, real, fake):
        raise NotImplementedError(f"`{type(self).__name__}` has no adversarial form.")

    def _generator_loss(self, fake, real):
        raise NotImplementedError(f"`{type(self).__name__}` has no adversarial form.")

    # ------------------------------------------------------- between p and q
    def between(self, p, q, *, method="auto", num_samples=100_000, seed=None):
        """The divergence D(p, q) between two TFP distributions.

        Args:
            p: the data distribution (a `tfp.distributions.Distribution`).
            q: the model distribution, with the same event shape as `p`.
            method: "closed_form" (exact, where a formula exists), "quadrature"
                (scalar distributions: composite Gauss-Legendre over a support
                taken from the quantiles, relative error below 1e-3 for smooth
                densities), "monte_carlo" (unbiased average over `num_samples`
                draws, with its standard error) or "auto" (the first of these
                three that applies).
            num_samples: number of Monte Carlo draws (a positive int).
            seed: an int or a stateless TFP seed for the Monte Carlo draws.

        Returns:
            An `Estimate(value, stderr, method)`.

        Raises:
            ValueError: an unknown `method`, or one that does not apply to p, q.
        """
        if method not in METHODS:
            raise ValueError(
                f"`method` must be one of {', '.join(map(repr, METHODS))}, "
                f"got {method!r}."
            )
        if not isinstance(num_samples, int) or num_samples < 2:
            raise ValueError(f"`num_samples` must be an int >= 2, got {num_samples!r}.")
        for arg, dist in (("p", p), ("q", q)):
            if not hasattr(dist, "log_prob") or not hasattr(dist, "event_shape"):
                raise TypeError(
                    f"`{arg}` must be a `tfp.distributions.Distribution`, got "
                    f"{type(dist).__name__}."
                )
        if p.event_shape != q.event_shape:
            raise ValueError(
                "`p` and `q` must have the same event shape, got "
                f"{p.event_shape} and {q.event_shape}."
            )
        name = type(self).__name__
        if method in ("auto", "closed_form"):
            value = self._closed_form(p, q)
            if value is not None:
                return Estimate(value, tf.zeros_like(value), "closed_form")
            if method == "closed_form":
                raise ValueError(
                    f"`{name}` has no closed form for {type(p).__name__} and "
                    f'{type(q).__name__}; use `method="quadrature"` (scalar '
                    'distributions) or `method="monte_carlo"`.'
                )
        if method in ("auto", "quadrature"):
            if _numerics.is_scalar(p) and self._supports_quadrature(p, q):
                value, error = self._quadrature(p, q)
                return Estimate(value, error, "quadrature")
            if method == "quadrature":
                raise ValueError(
                    f'`{name}` supports `method="quadrature"` only for scalar '
                    "(1D, event shape []) distributions"
                    + (" without batch dimensions" if _numerics.is_scalar(p) else "")
                    + f", got event shape {p.event_shape} and batch shape "
                    f'{p.batch_shape}; use `method="monte_carlo"`.'
                )
        value, stderr = self._monte_carlo(p, q, num_samples, seed)
        return Estimate(value, stderr, "monte_carlo")

    def _closed_form(self, p, q):
        """The exact value, or None when no formula applies to p and q."""
        del p, q

    def _supports_quadrature(self, p, q):
        del p, q
        return True

    def _quadrature(self, p, q):
        raise NotImplementedError(f"`{type(self).__name__}` has no quadrature.")

    def _monte_carlo(self, p, q, num_samples, seed):
        raise ValueError(
            f"`{type(self).__name__}` has no Monte Carlo estimator for "
            f"{type(p).__name__} and {type(q).__name__}."
        )

    # ----------------------------------------------------------- from samples
    def from_samples(self, x, y):
        """Estimates D(p, q) from samples x ~ p and y ~ q (where supported).

        Args:
            x: samples from p, shape [m, ...].
            y: samples from q, shape [n, ...] with the same trailing shape.

        Returns:
            An `Estimate` with `method="samples"`.
        """
        x = _numerics.as_float(x, "x")
        y = tf.cast(_numerics.as_float(y, "y"), x.dtype)
        if x.shape.rank is not None and x.shape.rank == 0:
            raise ValueError(
                f"`x` must have a leading sample axis, got shape {x.shape}."
            )
        if y.shape.rank is not None and y.shape.rank == 0:
            raise ValueError(
                f"`y` must have a leading sample axis, got shape {y.shape}."
            )
        if x.shape[1:] != y.shape[1:]:
            raise ValueError(
                "`x` and `y` must have the same shape after the sample axis, got "
                f"{x.shape} and {y.shape}."
            )
        return self._from_samples(x, y)

    def _from_samples(self, x, y):
        raise NotImplementedError(
            f"`{type(self).__name__}` has no estimator from samples alone; "
            "`from_samples` is available for 'mmd' and 'wasserstein'. For an "
            "f-divergence, train a critic and use `variational_bound`."
        )
