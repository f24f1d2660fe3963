"""What the translation models share: image pools, data range, optimizers, metrics.

`ImagePool` is non-trainable state (saved in ``.keras`` files and in
`unigen.fit`'s checkpoints, so a resumed run continues with the same pools):
the critics' image history buffer (`_ops.query_pool`) and the bank of real
source images that ``sample`` translates (`_ops.fill_pool`). Pools see the
global batch (gathered from every replica) and draw their noise from the
model's `keras.random.SeedGenerator`, so R replicas hold what one device holds.
"""

import keras
import tensorflow as tf

from unigen import _checks, _random, errors
from unigen._model_state import _adam
from unigen.base import GenerativeModel, _check_positive_int
from unigen.models.gan import _ops as gan_ops
from unigen.models.translation import _ops
from unigen.training._distribute import gather_global_batch

__all__ = []


def _this_replica_rows(full, per_replica_batch):
    """This replica's rows of a tensor that holds the global batch (in replica order)."""
    replicas = tf.distribute.get_strategy().num_replicas_in_sync
    context = tf.distribute.get_replica_context()
    if replicas == 1 or context is None:
        return full
    replica = context.replica_id_in_sync_group
    return full[replica * per_replica_batch:(replica + 1) * per_replica_batch]


@keras.saving.register_keras_serializable(package="unigen")
class ImagePool(keras.layers.Layer):
    """A pool of ``size`` images with the slots in use counted (non-trainable state).

    Args:
        size: slots.
    """

    def __init__(self, size, **kwargs):
        super().__init__(**kwargs)
        self.size = _check_positive_int("pool size", size)

    def build(self, input_shape):
        # Every replica computes the same new pool from the global batch: the
        # first replica's value is the value.
        self.images = self.add_weight(shape=(self.size, *input_shape[1:]), initializer="zeros",
                                      trainable=False, aggregation="only_first_replica",
                                      name="images")
        self.count = self.add_weight(shape=(), initializer="zeros", dtype="int32",
                                     trainable=False, aggregation="only_first_replica",
                                     name="count")
        self.built = True

    def fill(self, batch):
        """Stores the global batch's rows in the empty slots (first in, kept)."""
        images, count = _ops.fill_pool(self.images, self.count, gather_global_batch(batch))
        self.images.assign(images)
        self.count.assign(count)

    def query(self, batch, seed):
        """`_ops.query_pool` on the global batch; returns this replica's rows."""
        full = gather_global_batch(batch)
        row_noise = _random.uniform((tf.shape(full)[0],), seed=seed)
        slot_noise = _random.uniform((self.size,), seed=seed)
        out, images, count = _ops.query_pool(self.images, self.count, full, row_noise,
                                             slot_noise)
        self.images.assign(images)
        self.count.assign(count)
        return _this_replica_rows(out, tf.shape(batch)[0])

    def draw(self, num_samples, seed):
        """``num_samples`` stored images drawn uniformly with replacement (eager use)."""
        count = int(self.count.numpy())
        if count == 0:
            raise RuntimeError("The pool is empty.")
        index = _random.randint((num_samples,), 0, count, seed=seed)
        return tf.gather(self.images, index)

    def get_config(self):
        return {**super().get_config(), "size": self.size}


def network(value, what):
    """A Keras layer from a layer or its serialised config; says what is wrong otherwise."""
    if isinstance(value, dict):
        value = keras.saving.deserialize_keras_object(value)
    if not isinstance(value, keras.layers.Layer):
        raise TypeError(f"`{what}` must be a Keras model or layer, got {type(value).__name__}.")
    return value


def check_weight(name, value):
    value = float(value)
    if not value >= 0:
        raise ValueError(f"`{name}` must be a number >= 0, got {value!r}.")
    return value


class TranslationModel(GenerativeModel):
    """Base of CycleGAN, StarGAN and pix2pix: an implicit model of translated images.

    Subclasses call ``_track`` with the names they report and write ``build``, ``train_step``,
    ``test_step``, ``_sample`` and ``translate``.
    """

    has_log_prob = False
    default_critic_learning_rate = 2e-4

    def __init__(self, event_shape, num_levels="auto", *, source_bank_size=256,
                 generator_learning_rate=None, discriminator_learning_rate=None, seed=0,
                 **kwargs):
        event_shape = _checks.image_shape(None, event_shape, owner=type(self).__name__)
        super().__init__(event_shape, num_levels=num_levels, seed=seed, **kwargs)
        self.source_bank_size = _check_positive_int("source_bank_size", source_bank_size)
        self.generator_learning_rate = generator_learning_rate
        self.discriminator_learning_rate = discriminator_learning_rate
        self.source_bank = ImagePool(self.source_bank_size, name="source_bank")
        self._trackers = {}

    def _track(self, names):
        """Creates the trackers of the reported values (a subclass calls it once)."""
        self._trackers = {name: keras.metrics.Mean(name=name) for name in names}

    @property
    def metrics(self):
        """The trackers of the reported values; ``loss`` is the generators' total loss."""
        return list(self._trackers.values())

    def _report(self, logs):
        for name, tracker in self._trackers.items():
            tracker.update_state(logs[name])
        return self.get_metrics_result()

    def _report_eval(self, logs):
        for name, value in logs.items():
            self._trackers[name].update_state(value)
        return {name: value for name, value in self.get_metrics_result().items()
                if name in logs}

    # ------------------------------------------------------------- data range
    def _preprocess(self, x):
        return gan_ops.to_generator_range(x, self.num_levels)

    def _postprocess(self, x):
        return gan_ops.from_generator_range(x, self.num_levels)

    def _apply(self, network, x, training=False):
        # The networks may compute in low precision; what leaves them is float32.
        return tf.cast(network(x, training=training), "float32")

    def _check_images(self, x, channels, what="x"):
        """``x`` (levels, ``[n, h, w, channels]``) checked and mapped to [-1, 1]."""
        x = tf.convert_to_tensor(x)
        expected = (*self.event_shape[:2], channels)
        if x.shape.rank != 4 or tuple(x.shape[1:]) != expected:
            raise errors.DataError(
                f"`{what}` must be images of shape [n, {', '.join(map(str, expected))}], got "
                f"shape {list(x.shape)}.")
        if tf.executing_eagerly():
            self.validate_values(x.numpy(), what)
        return self._preprocess(x)

    def _source_images(self, num_samples, seed, source, channels):
        """The images ``sample`` translates, in [-1, 1]: ``source`` checked, or draws from
        the bank of training images (uniform, with replacement, from ``seed``)."""
        if source is not None:
            source = self._check_images(source, channels, "source")
            if int(source.shape[0]) != num_samples:
                raise ValueError(f"`source` holds {int(source.shape[0])} images but "
                                 f"num_samples={num_samples}; pass as many as you sample.")
            return source
        if int(self.source_bank.count.numpy()) == 0:
            raise RuntimeError(
                f"{type(self).__name__}.sample draws source images from the data seen in "
                f"training, and it has seen none yet: train it first (unigen.fit) or pass "
                f"the images to translate as `source=`.")
        return self.source_bank.draw(num_samples, seed)

    # ------------------------------------------------------------- optimizers
    def compile(self, optimizer=None, *args, **kwargs):
        """`unigen.GenerativeModel.compile`; default Adam(2e-4, beta_1=0.5) for the
        generator(s) and for each critic."""
        super().compile(optimizer or _adam(2e-4, beta_1=0.5), *args, **kwargs)

    def _default_optimizer(self, learning_rate):
        return _adam(self.generator_learning_rate or learning_rate, beta_1=0.5)

    def _maybe_symbolic_build(self, iterator=None, data_batch=None):
        # Fully built by `build`; Keras's symbolic build would call `call` on a batch.
        if self.built and all(layer.built for layer in self._flatten_layers()):
            return None
        return super()._maybe_symbolic_build(iterator=iterator, data_batch=data_batch)

    def get_config(self):
        return {**super().get_config(), "source_bank_size": self.source_bank_size,
                "generator_learning_rate": self.generator_learning_rate,
                "discriminator_learning_rate": self.discriminator_learning_rate}
