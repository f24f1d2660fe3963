"""Pure tensor functions image-to-image translation is made of.

Each is a function of tensors with no state, tested on its own; the models in
`unigen.models.translation` bind them to their networks and weights.
"""

import tensorflow as tf

__all__ = []


def split_pair(x, channels):
    """A pair ``[batch, h, w, 2c]`` -> its domain-a and domain-b halves ``[batch, h, w, c]``."""
    return x[..., :channels], x[..., channels:]


def join_pair(a, b):
    """Domain-a and domain-b images ``[batch, h, w, c]`` -> the pair ``[batch, h, w, 2c]``."""
    return tf.concat([a, b], axis=-1)


def mean_absolute_error(x, y):
    """mean |x - y| over the batch and every pixel: the L1 distance of the papers.

    The cycle-consistency, identity, reconstruction and pix2pix terms are all
    this function of two batches.
    """
    return tf.reduce_mean(tf.abs(tf.cast(x, "float32") - tf.cast(y, "float32")))


def cycle_loss(a, b, a_to_b, b_to_a):
    """Cycle consistency (Zhu et al. 2017, eq. 2), both directions:

        L_cyc = E_a |F(G(a)) - a|_1 + E_b |G(F(b)) - b|_1

    with G = ``a_to_b`` and F = ``b_to_a`` (callables on batches) and |.|_1 the
    mean absolute error per pixel. Zero when F inverts G on both domains.
    """
    return mean_absolute_error(b_to_a(a_to_b(a)), a) + mean_absolute_error(a_to_b(b_to_a(b)), b)


def identity_loss(a, b, a_to_b, b_to_a):
    """Identity mapping loss (Zhu et al. 2017, Section 5.2; Taigman et al. 2017):

        L_idt = E_b |G(b) - b|_1 + E_a |F(a) - a|_1

    A generator fed an image already in its target domain should leave it be.
    """
    return mean_absolute_error(a_to_b(b), b) + mean_absolute_error(b_to_a(a), a)


def _mask(flags, like):
    return tf.reshape(flags, tf.concat([[-1], tf.ones([tf.rank(like) - 1], "int32")], 0))


def fill_pool(pool, count, batch):
    """First in, kept: the empty slots ``count, count + 1, ...`` take the batch's rows.

    Args:
        pool: ``[size, ...]`` stored images; slots ``0..count-1`` are in use.
        count: int32 scalar, the slots in use.
        batch: ``[batch, ...]`` new images.

    Returns:
        ``(pool, count)`` after storing the first ``min(batch, size - count)`` rows.
    """
    size = tf.shape(pool)[0]
    rows = tf.shape(batch)[0]
    source = tf.range(size) - count
    take = (source >= 0) & (source < rows)
    taken = tf.gather(batch, tf.clip_by_value(source, 0, tf.maximum(rows - 1, 0)))
    pool = tf.where(_mask(take, pool), tf.cast(taken, pool.dtype), pool)
    return pool, tf.minimum(count + rows, size)


def query_pool(pool, count, batch, row_noise, slot_noise):
    """The image history buffer of the critics (Shrivastava et al. 2017; CycleGAN).

    While the pool is not full, the batch is stored (`fill_pool`) and returned as
    it is. Once full, k = min(batch // 2, size) rows of the batch, the rows
    with the k smallest ``row_noise`` values, are swapped with k distinct slots
    of the pool, those with the k smallest ``slot_noise`` values: the critic
    sees k past images and batch - k new ones, and the pool keeps the k new
    images in the freed slots. (CycleGAN's ImagePool swaps each image with
    probability 1/2; here exactly half the batch comes from the pool.)

    Args:
        pool, count: as in `fill_pool`.
        batch: ``[batch, ...]`` new images.
        row_noise: ``[batch]`` uniform noise choosing the rows to swap.
        slot_noise: ``[size]`` uniform noise choosing the slots.

    Returns:
        ``(images for the critic [batch, ...], pool, count)``.
    """
    size = tf.shape(pool)[0]
    full = count >= size
    filled, filled_count = fill_pool(pool, count, batch)
    k = tf.minimum(tf.shape(batch)[0] // 2, size)
    rows = tf.argsort(row_noise)[:k]
    slots = tf.argsort(slot_noise)[:k]
    batch = tf.cast(batch, pool.dtype)
    swapped = tf.tensor_scatter_nd_update(batch, rows[:, None], tf.gather(pool, slots))
    kept = tf.tensor_scatter_nd_update(pool, slots[:, None], tf.gather(batch, rows))
    return (tf.where(full, swapped, batch), tf.where(full, kept, filled),
            tf.where(full, count, filled_count))
