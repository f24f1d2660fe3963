"""Adversarial losses as pure functions of raw critic outputs.

Every function takes raw (pre-activation) critic outputs v, shape [batch] or
[batch, 1], and returns a scalar mean over all elements. For the classic GAN the
discriminator is D(x) = sigmoid(v(x)) and every log is written with softplus:
log D = -softplus(-v) and log(1 - D) = -softplus(v), finite for any v.

The generator and critic losses come in named pairs:

    classic GAN   critic  E_p softplus(-v) + E_q softplus(v)   (binary cross-entropy)
                  minimax          E_q log(1 - D)  = -E_q softplus(v)
                  non_saturating   -E_q log D      =  E_q softplus(-v)
                  logit            -E_q logit D    = -E_q v
    Wasserstein   critic  E_q v - E_p v;   generator -E_q v
    hinge         critic  E_p relu(1 - v) + E_q relu(1 + v);   generator -E_q v

References:
    Goodfellow et al. "Generative Adversarial Nets." NeurIPS 2014.
    Arjovsky, Chintala and Bottou. "Wasserstein Generative Adversarial Networks."
    ICML 2017.
    Gulrajani et al. "Improved Training of Wasserstein GANs." NeurIPS 2017.
    Lim and Ye. "Geometric GAN." arXiv:1705.02894, 2017.
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen.divergences import _numerics

__all__ = [
    "clip_weights",
    "gan_discriminator_loss",
    "gan_generator_loss",
    "gan_value",
    "gradient_penalty",
    "hinge_discriminator_loss",
    "hinge_generator_loss",
    "wasserstein_critic_loss",
    "wasserstein_generator_loss",
]

GAN_GENERATOR_LOSSES = ("minimax", "non_saturating", "logit")


def gan_value(real_logits, fake_logits):
    """Goodfellow et al.'s value V(D, G) = E_p[log D(x)] + E_q[log(1 - D(x))].

    The discriminator maximises V. At the optimal discriminator
    D*(x) = p(x) / (p(x) + q(x)) (Proposition 1), V = 2 JSD(p, q) - log 4
    (Theorem 1), which is -log 4 exactly when q = p.

    Args:
        real_logits: logits v = logit D(x) on data samples.
        fake_logits: logits on generated samples.

    Returns:
        The scalar V(D, G).
    """
    return -gan_discriminator_loss(real_logits, fake_logits)


def gan_discriminator_loss(real_logits, fake_logits):
    """Binary cross-entropy on logits, labels 1 for data and 0 for samples.

    loss = -E_p[log D(x)] - E_q[log(1 - D(x))]
         = E_p[softplus(-v)] + E_q[softplus(v)] = -V(D, G).

    Minimising it over D reaches D* = p / (p + q), where the loss equals
    log 4 - 2 JSD(p, q).
    """
    real_logits = _numerics.as_float(real_logits, "real_logits")
    fake_logits = _numerics.as_float(fake_logits, "fake_logits")
    return tf.reduce_mean(tf.math.softplus(-real_logits)) + tf.reduce_mean(
        tf.math.softplus(fake_logits)
    )


def gan_generator_loss(fake_logits, mode="non_saturating"):
    """The generator's loss on the logits of its samples.

    Args:
        fake_logits: logits v = logit D(G(z)).
        mode: "minimax": E[log(1 - D)], the zero-sum loss; its gradient with
            respect to v is -sigmoid(v) = -D, which vanishes when the
            discriminator confidently rejects the samples (D -> 0): the loss
            saturates. "non_saturating": -E[log D], same fixed point, gradient
            -(1 - D) -> -1 when D -> 0 (Goodfellow et al. 2014, Section 3).
            "logit": -E[logit D] = -E[v], the -log(D / (1 - D)) loss; at the
            optimal discriminator v = log(p / q), so its value is
            -E_q[log(p / q)] = KL(q || p), the reverse (mode-seeking) KL.

    Returns:
        The scalar loss the generator minimises.
    """
    fake_logits = _numerics.as_float(fake_logits, "fake_logits")
    if mode == "minimax":
        return -tf.reduce_mean(tf.math.softplus(fake_logits))
    if mode == "non_saturating":
        return tf.reduce_mean(tf.math.softplus(-fake_logits))
    if mode == "logit":
        return -tf.reduce_mean(fake_logits)
    raise ValueError(
        f"`mode` must be one of {', '.join(map(repr, GAN_GENERATOR_LOSSES))}, "
        f"got {mode!r}."
    )


def wasserstein_critic_loss(real_outputs, fake_outputs):
    """E_q[v] - E_p[v]: minus the Kantorovich-Rubinstein estimate of W1.

    W1(p, q) = sup over 1-Lipschitz critics of E_p[v] - E_q[v], so the loss is
    bounded below by -W1 only when the critic is kept Lipschitz (clipping, a
    gradient penalty or spectral normalisation).
    """
    real_outputs = _numerics.as_float(real_outputs, "real_outputs")
    fake_outputs = _numerics.as_float(fake_outputs, "fake_outputs")
    return tf.reduce_mean(fake_outputs) - tf.reduce_mean(real_outputs)


def wasserstein_generator_loss(fake_outputs):
    """-E_q[v]: the generator moves its samples up the critic."""
    return -tf.reduce_mean(_numerics.as_float(fake_outputs, "fake_outputs"))


def hinge_discriminator_loss(real_outputs, fake_outputs):
    """E_p[relu(1 - v)] + E_q[relu(1 + v)] (Lim and Ye 2017).

    Minimised over all functions, the pointwise optimum is v = +1 where p > q and
    v = -1 where p < q, and the loss equals 2 - 2 TV(p, q).
    """
    real_outputs = _numerics.as_float(real_outputs, "real_outputs")
    fake_outputs = _numerics.as_float(fake_outputs, "fake_outputs")
    return tf.reduce_mean(tf.nn.relu(1.0 - real_outputs)) + tf.reduce_mean(
        tf.nn.relu(1.0 + fake_outputs)
    )


def hinge_generator_loss(fake_outputs):
    """-E_q[v], the generator loss of the hinge (geometric) GAN."""
    return -tf.reduce_mean(_numerics.as_float(fake_outputs, "fake_outputs"))


def gradient_penalty(critic_fn, real, fake, seed=None, target=1.0, epsilon=1e-12):
    """The WGAN-GP penalty E[(||grad_x v(x_hat)|| - target)^2].

    x_hat = real + alpha (fake - real) with alpha ~ Uniform(0, 1) drawn once PER
    EXAMPLE (shape [batch, 1, ..., 1]), so x_hat lies on the segment between a
    data point and a sample, where the optimal critic has gradient norm 1
    (Gulrajani et al. 2017, Proposition 1). The norm is
    sqrt(sum grad^2 + epsilon): with the epsilon inside the square root its
    gradient stays finite where the critic's gradient is zero, for example when
    real == fake.

    Multiply by a weight (10 in the paper) and add it to the critic loss. The
    critic must treat examples independently (no batch normalisation).

    Args:
        critic_fn: callable mapping a batch x_hat to raw outputs v(x_hat).
        real: data batch, shape [batch, ...].
        fake: generated batch, same shape.
        seed: int, `keras.random.SeedGenerator` or None, for alpha. Inside a
            compiled `train_step` pass the model's `SeedGenerator`; under a
            strategy each replica draws the global batch's weights and keeps
            its own rows, so R replicas equal one device.
        target: the gradient norm to aim for (1 for a 1-Lipschitz critic).
        epsilon: added inside the square root.

    Returns:
        The scalar penalty (before its weight).
    """
    real = _numerics.as_float(real, "real")
    fake = tf.cast(_numerics.as_float(fake, "fake"), real.dtype)
    if real.shape.rank is not None and real.shape.rank < 1:
        raise ValueError(f"`real` must have a batch axis, got shape {real.shape}.")
    # One weight per example of the GLOBAL batch, this replica keeping its rows:
    # R replicas draw what one device draws (`global_batch_noise`).
    from unigen.training._distribute import global_batch_noise

    ones = (1,) * (real.shape.rank - 1)
    alpha = global_batch_noise(
        lambda n: _random.uniform((n, *ones), dtype=real.dtype, seed=seed),
        tf.shape(real)[0])
    interpolated = real + alpha * (fake - real)
    with tf.GradientTape() as tape:
        tape.watch(interpolated)
        outputs = critic_fn(interpolated)
    grads = tape.gradient(outputs, interpolated)
    if grads is None:
        raise ValueError(
            "`critic_fn` output does not depend on its input: the gradient is None. "
            "Pass a callable that maps the batch to the critic's outputs."
        )
    axes = tf.range(1, tf.rank(grads))
    norm = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=axes) + epsilon)
    return tf.reduce_mean(tf.square(norm - target))


def clip_weights(variables, clip_value):
    """Clips every variable into [-clip_value, clip_value] in place.

    Weight clipping is the original WGAN's crude way of keeping the critic
    K-Lipschitz for some K (Arjovsky et al. 2017, Algorithm 1, c = 0.01). Call it
    after each critic update.

    Args:
        variables: iterable of Keras or TF variables (for example
            `critic.trainable_variables`).
        clip_value: positive float c.
    """
    if not isinstance(clip_value, (int, float)) or clip_value <= 0:
        raise ValueError(f"`clip_value` must be a positive float, got {clip_value!r}.")
    for variable in variables:
        variable.assign(keras.ops.clip(variable, -clip_value, clip_value))
