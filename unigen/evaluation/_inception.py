"""``features="inception_v3"``: Keras's InceptionV3 from a weights file you supply.

unigen never downloads anything. With the standard Keras ImageNet weights file
(``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``) the sample-quality
metrics use the features the literature uses: the 2048-d pool3 activations
(global average pool of the last block) for FID, KID and precision/recall, and
the 1000-way ImageNet logits for the Inception, MODE and AM scores.

Preprocessing of images in levels 0..L-1 (or floats in [0, 1] with
``num_levels=None``): scale to [0, 1], repeat a grey channel three times,
resize bilinearly to 299x299, map to [-1, 1] (``x * 2 - 1``, what
``keras.applications.inception_v3.preprocess_input`` does to 0..255 values).

The original FID (Heusel et al. 2017) uses the 2015 TensorFlow Inception graph
(1008 logits, its own resize); Keras's InceptionV3 is a port with other
weights and preprocessing details, so FIDs computed here compare with one
another, not digit for digit with published tables.
"""

import os

import numpy as np

__all__ = ["WEIGHTS_ENV", "WEIGHTS_FILE", "InceptionFeatures", "inception_weights_path"]

#: Environment variable naming the weights file when no argument does.
WEIGHTS_ENV = "UNIGEN_INCEPTION_WEIGHTS"
#: The file name under which Keras caches the ImageNet weights.
WEIGHTS_FILE = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5"
_WEIGHTS_URL = ("https://storage.googleapis.com/tensorflow/keras-applications/"
                f"inception_v3/{WEIGHTS_FILE}")
_SIZE = 299


def inception_weights_path(path=None):
    """The InceptionV3 weights file: ``path``, else ``$UNIGEN_INCEPTION_WEIGHTS``.

    Raises:
        FileNotFoundError: neither names an existing file; the message says
            where to get it and how to pass it (nothing is downloaded).
    """
    path = path or os.environ.get(WEIGHTS_ENV)
    if path and os.path.isfile(path):
        return os.path.abspath(path)
    where = f"{path!r} does not exist. " if path else "No weights file was given. "
    keras_cache = os.path.join("~", ".keras", "models", WEIGHTS_FILE)
    raise FileNotFoundError(
        f"features='inception_v3' needs Keras's InceptionV3 ImageNet weights; {where}"
        f"unigen never downloads them. On a machine with a network, "
        f"keras.applications.InceptionV3(weights='imagenet') saves the file to "
        f"{keras_cache} (or fetch {_WEIGHTS_URL}); copy it here and pass "
        f"inception_weights='path/{WEIGHTS_FILE}' (unigen.evaluate, unigen.compare, "
        f"EvaluationData) or set ${WEIGHTS_ENV}.")


class InceptionFeatures:
    """Pool3 features and ImageNet class probabilities of Keras's InceptionV3.

    Args:
        weights: path of the weights file (see `inception_weights_path`).
        num_levels: pixel levels of the images it is given (None: floats in [0, 1]).
        batch_size: images per forward pass; memory stays bounded by it
            (50 images take about 55 MB of input and a few hundred MB of
            activations).

    Attributes:
        network: the `keras.Model` from preprocessed 299x299x3 images to
            ``[pool3 features (2048), logits (1000)]``.
        description: one line for reports.
    """

    objective = "inception_v3"
    test_accuracy = None

    def __init__(self, weights=None, *, num_levels=None, batch_size=50):
        import keras

        self.path = inception_weights_path(weights)
        self.num_levels = num_levels
        self.batch_size = int(batch_size)
        model = keras.applications.InceptionV3(weights=self.path, include_top=True,
                                               classifier_activation=None)
        self.network = keras.Model(model.inputs, [model.get_layer("avg_pool").output,
                                                  model.output])
        self.description = (f"Keras InceptionV3 (ImageNet weights from "
                            f"{os.path.basename(self.path)}): pool3 features, 1000-way logits")

    def preprocess(self, x):
        """Images ``[n, h, w, 1 or 3]`` to InceptionV3's input ``[n, 299, 299, 3]`` in [-1, 1]."""
        import tensorflow as tf

        x = tf.convert_to_tensor(np.asarray(x, np.float32))
        if x.shape.rank != 4 or x.shape[-1] not in (1, 3):
            raise ValueError(f"InceptionV3 features need images [n, height, width, 1 or 3]; "
                             f"got shape {list(x.shape)}.")
        top = float(self.num_levels - 1) if self.num_levels else 1.0
        x = x / top
        if x.shape[-1] == 1:
            x = tf.repeat(x, 3, axis=-1)
        x = tf.image.resize(x, (_SIZE, _SIZE), method="bilinear")
        return x * 2.0 - 1.0

    def _outputs(self, x):
        x = np.asarray(x)
        features, logits = [], []
        for start in range(0, len(x), self.batch_size):
            pool, top = self.network(self.preprocess(x[start:start + self.batch_size]),
                                     training=False)
            features.append(np.asarray(pool, np.float64))
            logits.append(np.asarray(top, np.float64))
        return np.concatenate(features), np.concatenate(logits)

    def features(self, x):
        """Pool3 activations, float64 ``[n, 2048]``."""
        return self._outputs(x)[0]

    def logits(self, x):
        """ImageNet logits (before the softmax), float64 ``[n, 1000]``."""
        return self._outputs(x)[1]

    def probabilities(self, x):
        """ImageNet class probabilities ``[n, 1000]`` (softmax of `logits`)."""
        import scipy.special

        return scipy.special.softmax(self.logits(x), axis=1)
