"""Pure tensor functions the GAN is made of: data scaling, packing, labels, losses.

Each is a function of tensors with no state, tested on its own; `unigen.GAN`
binds them to its networks and hyperparameters.
"""

import keras
import tensorflow as tf

from unigen import _random

__all__ = []


def to_generator_range(x, num_levels):
    """Integer levels 0..L-1 -> [-1, 1] (the range of a tanh generator); else as is."""
    x = tf.cast(x, "float32")
    if num_levels is None:
        return x
    return x / float(num_levels - 1) * 2.0 - 1.0


def from_generator_range(x, num_levels):
    """[-1, 1] -> integer levels 0..L-1 (rounded, clipped, float32); else as is."""
    x = tf.cast(x, "float32")
    if num_levels is None:
        return x
    top = float(num_levels - 1)
    return tf.clip_by_value(tf.round((x + 1.0) * 0.5 * top), 0.0, top)


def pack_samples(x, pack):
    """PacGAN packing: groups of ``pack`` consecutive examples become one input.

    Vectors [b, d] -> [b / pack, pack * d] (concatenated features); images
    [b, h, w, c] -> [b / pack, h, w, pack * c] (concatenated channels). ``b``
    must be a multiple of ``pack``. Consecutive rows are grouped, so the packs
    are the same on one device and on replicas that split the batch evenly
    (when the per-replica batch is a multiple of ``pack``).

    Reference: Lin et al. "PacGAN: The power of two samples in generative
    adversarial networks." NeurIPS 2018.
    """
    if pack == 1:
        return x
    shape = tf.shape(x)
    rank = x.shape.rank
    grouped = tf.reshape(x, tf.concat([[shape[0] // pack, pack], shape[1:]], 0))
    if rank == 2:
        return tf.reshape(grouped, [shape[0] // pack, pack * x.shape[-1]])
    # [b/p, p, h, w, c] -> [b/p, h, w, p, c] -> [b/p, h, w, p*c]
    perm = [0, *range(2, rank), 1, rank]
    moved = tf.transpose(grouped, perm)
    return tf.reshape(moved, tf.concat([[shape[0] // pack], shape[1:-1],
                                        [pack * x.shape[-1]]], 0))


def attach_labels(x, labels, num_classes):
    """Concatenates one-hot labels to each example: features for vectors,
    constant channels for images (the "concat" conditioning of a conditional GAN).

    Reference: Mirza and Osindero. "Conditional Generative Adversarial Nets." 2014.
    """
    one_hot = tf.one_hot(labels, num_classes, dtype=x.dtype)
    if x.shape.rank == 2:
        return tf.concat([x, one_hot], axis=-1)
    spatial = tf.shape(x)[1:-1]
    tiled = one_hot[:, tf.newaxis, tf.newaxis, :] * tf.ones(
        tf.concat([[1], spatial, [1]], 0), x.dtype)
    return tf.concat([x, tiled], axis=-1)


def smoothed_label_term(real_logits, label_smoothing):
    """What one-sided label smoothing adds to the GAN discriminator loss.

    With real targets t = 1 - s instead of 1 (fake targets stay 0), the binary
    cross-entropy of a real logit v is t softplus(-v) + (1 - t) softplus(v)
    = softplus(-v) + s v, since softplus(v) - softplus(-v) = v. So the smoothed
    loss is the unsmoothed one plus s E_p[v] (Salimans et al. 2016, Section 3.4).
    """
    return label_smoothing * tf.reduce_mean(tf.cast(real_logits, "float32"))


def classifier_loss(logits, labels):
    """Mean sparse softmax cross-entropy (the AC-GAN auxiliary classifier loss)."""
    return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(
        labels, tf.cast(logits, "float32"), from_logits=True))


def annealed_scale(scale, step, anneal_steps):
    """``scale`` decayed linearly to 0 over ``anneal_steps`` (constant when None)."""
    if anneal_steps is None:
        return tf.constant(float(scale))
    fraction = tf.cast(step, "float32") / float(anneal_steps)
    return float(scale) * tf.maximum(0.0, 1.0 - fraction)


def feature_matching_loss(real_features, fake_features):
    """Feature matching (Salimans et al. 2016, Section 3.1): ||E_x f(x) - E_z f(G(z))||^2.

    ``f`` is an intermediate layer of the critic ([batch, F] features); the
    expectations are batch means. The squared Euclidean distance of the two
    mean feature vectors, a scalar.
    """
    real_mean = tf.reduce_mean(tf.cast(real_features, "float32"), axis=0)
    fake_mean = tf.reduce_mean(tf.cast(fake_features, "float32"), axis=0)
    return tf.reduce_sum(tf.square(real_mean - fake_mean))


def flipped_label_term(real_logits, fake_logits, real_flips, fake_flips):
    """What flipping a share of the binary labels adds to the GAN discriminator loss.

    A real example whose target is flipped to 0 costs softplus(v) instead of
    softplus(-v), that is softplus(-v) + v; a flipped fake example (target 1)
    costs softplus(-v) = softplus(v) - v. With 0/1 flip masks m_r, m_f the
    loss with flipped labels is the plain one plus
    E[m_r v(x)] - E[m_f v(G(z))].
    """
    real_logits = tf.cast(real_logits, "float32")
    fake_logits = tf.cast(fake_logits, "float32")
    return (tf.reduce_mean(tf.cast(real_flips, "float32") * real_logits)
            - tf.reduce_mean(tf.cast(fake_flips, "float32") * fake_logits))


def semi_supervised_real_logit(class_logits):
    """The K+1-class critic's "real" logit v(x) = log Z(x), Z(x) = sum_k exp l_k(x).

    With the fake class's logit fixed at 0 (Salimans et al. 2016, Section 5),
    D(x) = Z(x) / (Z(x) + 1) = sigmoid(log Z(x)), so the binary game on
    v = log Z is exactly the unsupervised part of the K+1-class loss:
    -E_x log(Z(x) / (Z(x) + 1)) - E_z log(1 / (Z(G(z)) + 1)).
    """
    return tf.reduce_logsumexp(tf.cast(class_logits, "float32"), axis=-1)


def masked_classifier_loss(logits, labels):
    """Cross-entropy of the labelled examples (labels >= 0), averaged over the whole batch.

    Unlabelled examples carry label -1 and add 0. Dividing by the batch size
    (not by the number of labelled examples) keeps the loss a mean of
    per-example terms, so replicas agree with one device; scale the weight by
    the inverse labelled share to get the mean over labelled examples.
    """
    labels = tf.reshape(tf.cast(labels, "int32"), [-1])
    mask = tf.cast(labels >= 0, "float32")
    per_example = keras.losses.sparse_categorical_crossentropy(
        tf.maximum(labels, 0), tf.cast(logits, "float32"), from_logits=True)
    return tf.reduce_mean(mask * per_example)


def drift_term(real_values):
    """ProGAN's drift term E_x[v(x)^2] over the real batch (weighted by epsilon_drift).

    A Wasserstein critic's loss E[v(G(z))] - E[v(x)] does not change when a
    constant is added to v, so its values can drift far from 0; this term
    anchors them (Karras et al. 2018, Section A.1, epsilon_drift = 1e-3). A
    mean of per-example terms, so replicas agree with one device.
    """
    return tf.reduce_mean(tf.square(tf.cast(real_values, "float32")))


def orthogonal_penalty(kernel):
    """BigGAN's orthogonal regularisation of one weight: ||W^T W * (1 - I)||_F^2.

    ``kernel`` is reshaped to W [fan_in, units] (the last axis holds the
    output units, as Keras stores Dense and Conv kernels); only the
    off-diagonal Gram entries are penalised, so the units' norms stay free
    (Brock et al. 2019, Section 3.1).
    """
    w = tf.reshape(tf.cast(kernel, "float32"), [-1, kernel.shape[-1]])
    gram = tf.matmul(w, w, transpose_a=True)
    off_diagonal = gram * (1.0 - tf.eye(tf.shape(gram)[0]))
    return tf.reduce_sum(tf.square(off_diagonal))


def truncated_normal(shape, truncation, seed):
    """Standard normal draws truncated to [-t, t] (the truncation trick).

    Drawn by inverting the CDF: u ~ U(Phi(-t), Phi(t)), z = Phi^-1(u), the
    same distribution as resampling every value outside [-t, t] until it
    falls inside, in a single draw (float64 for the tails).
    """
    t = float(truncation)
    low = 0.5 * tf.math.erfc(tf.constant(t / 2**0.5, "float64"))  # Phi(-t)
    u = tf.cast(_random.uniform(shape, seed=seed), "float64")
    z = tf.math.ndtri(low + u * (1.0 - 2.0 * low))
    return tf.cast(tf.clip_by_value(z, -t, t), "float32")
