"""A small feature network per dataset, trained by unigen itself.

Nothing can be downloaded (no pretrained Inception), so sample-quality metrics
on images use the penultimate layer of a small convolutional classifier trained,
deterministically, on the labelled training split of the dataset in question.
The trained network is cached as a ``.keras`` file named after the dataset and a
hash of the architecture, the training settings and the training data, and
retrained when the file is missing.

Training is deterministic on one machine, but not across CPUs: the same seed
gave other weights on another CPU, and FIDs that differed by 9 to 28%. So the
weights of the built-in ``digits`` network ship with unigen
(``unigen/evaluation/weights/``, written by `FeatureNetwork.export`) and are
used whenever the training data and settings match, which makes its scores
comparable between machines.
"""

import hashlib
import json
import os

import numpy as np

__all__ = ["FeatureNetwork", "feature_network"]

_VERSION = 1


def default_cache_dir():
    """``$UNIGEN_CACHE_DIR/features`` or ``~/.cache/unigen/features``."""
    root = os.environ.get("UNIGEN_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "unigen")
    return os.path.join(root, "features")


class FeatureNetwork:
    """Features and class probabilities of images from a trained classifier.

    Build it with `feature_network` (cached) or `FeatureNetwork.train`.

    Attributes:
        classifier: the `keras.Model` (inputs: images in levels; outputs: logits).
        num_levels: pixel levels the inputs are scaled by.
        test_accuracy: accuracy on the held-out split used when training, or None.
        path: the cached ``.keras`` file, or None.
    """

    def __init__(self, classifier, num_levels, test_accuracy=None, path=None):
        import keras

        self.classifier = classifier
        self.num_levels = num_levels
        self.test_accuracy = test_accuracy
        self.path = path
        self._features = keras.Model(classifier.inputs,
                                     classifier.get_layer("features").output)

    def export(self, path):
        """Writes the classifier's weights and test accuracy to an ``.npz`` file
        (what ``unigen/evaluation/weights/`` holds)."""
        weights = self.classifier.get_weights()
        np.savez_compressed(path, test_accuracy=np.float64(
            np.nan if self.test_accuracy is None else self.test_accuracy),
            **{f"w{i:02d}": w for i, w in enumerate(weights)})

    def _scale(self, x):
        x = np.asarray(x, np.float32)
        top = float(self.num_levels - 1) if self.num_levels else 1.0
        return x / top

    def features(self, x, batch_size=512):
        """Penultimate-layer activations, float64 ``[n, 64]``."""
        return np.asarray(self._features.predict(self._scale(x), batch_size=batch_size,
                                                 verbose=0), np.float64)

    def probabilities(self, x, batch_size=512):
        """Class probabilities ``[n, num_classes]``."""
        import scipy.special

        logits = self.classifier.predict(self._scale(x), batch_size=batch_size, verbose=0)
        return scipy.special.softmax(np.asarray(logits, np.float64), axis=1)

    @classmethod
    def train(cls, x, y, *, num_levels, num_classes=None, epochs=None, seed=0,
              held_out=None):
        """Trains the classifier on labelled images (deterministic for a seed).

        Args:
            x: uint8/float images [n, h, w, c] in levels 0..num_levels-1.
            y: int labels [n].
            num_levels: pixel levels.
            num_classes: default ``max(y) + 1``.
            epochs: default: about 20,000 example visits, at least 3 epochs.
            seed: seed of the initial weights and the shuffling.
            held_out: optional ``(x, y)`` to measure test accuracy.
        """
        import keras

        x = np.asarray(x)
        y = np.asarray(y, np.int64)
        num_classes = int(num_classes or y.max() + 1)
        epochs = epochs or max(3, min(40, 20_000 // max(len(x), 1)))
        keras.utils.set_random_seed(seed)
        model = _classifier(tuple(x.shape[1:]), num_classes, seed)
        model.compile(optimizer=keras.optimizers.Adam(2e-3),
                      loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                      metrics=["accuracy"])
        top = float(num_levels - 1)
        model.fit(x.astype(np.float32) / top, y, batch_size=64, epochs=epochs,
                  shuffle=True, verbose=0)
        accuracy = None
        if held_out is not None:
            hx, hy = held_out
            logits = model.predict(np.asarray(hx, np.float32) / top, verbose=0)
            accuracy = float(np.mean(np.argmax(logits, 1) == np.asarray(hy)))
        return cls(model, num_levels, accuracy)


def _classifier(shape, num_classes, seed):
    import keras

    init = lambda i: keras.initializers.GlorotUniform(seed=seed + i)  # noqa: E731
    layers = [keras.Input(shape),
              keras.layers.Conv2D(32, 3, padding="same", activation="relu",
                                  kernel_initializer=init(0))]
    height, i = shape[0], 1
    while height > 8 or i == 1:
        layers.append(keras.layers.Conv2D(64, 3, strides=2, padding="same", activation="relu",
                                          kernel_initializer=init(i)))
        height, i = (height + 1) // 2, i + 1
    layers += [keras.layers.Flatten(),
               keras.layers.Dense(64, activation="relu", name="features",
                                  kernel_initializer=init(10)),
               keras.layers.Dense(num_classes, name="logits", kernel_initializer=init(11))]
    return keras.Sequential(layers, name="unigen_feature_classifier")


_SHIPPED_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "weights")


def _settings(seed, num_levels, shape):
    """What the weights depend on besides the data (the shipped files' key)."""
    return {"version": _VERSION, "seed": int(seed), "num_levels": int(num_levels),
            "shape": list(shape)}


def _data_digest(x, y):
    """SHA-256 of the training images and labels, computed once per call."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(x).tobytes())
    digest.update(np.ascontiguousarray(y).tobytes())
    return digest.hexdigest()


def _key(dataset, data_digest, settings):
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(data_digest.encode())
    return f"{dataset}-{digest.hexdigest()[:12]}"


def shipped_key(dataset, x, y, *, num_levels, seed=0):
    """File name (without ``.npz``) under which unigen ships the weights of the
    feature network of ``dataset`` trained on ``(x, y)``; no Keras version in
    it, since plain weight arrays do not depend on it."""
    return _key(dataset, _data_digest(x, y), _settings(seed, num_levels, np.shape(x)[1:]))


def _shipped(key, shape, seed, num_levels):
    """The feature network from ``weights/<key>.npz`` if unigen ships one."""
    path = os.path.join(_SHIPPED_DIR, key + ".npz")
    if not os.path.exists(path):
        return None
    with np.load(path) as data:
        weights = [data[k] for k in sorted(k for k in data.files if k.startswith("w"))]
        accuracy = float(data["test_accuracy"])
    classifier = _classifier(tuple(shape), len(weights[-1]), seed)
    classifier.set_weights(weights)
    return FeatureNetwork(classifier, num_levels,
                          None if np.isnan(accuracy) else accuracy, path)


def feature_network(dataset, *, cache_dir=None, seed=0, train=None, held_out=None,
                    num_levels=None, data_dir=None, verbose=False):
    """The (cached) feature network of a built-in dataset or of labelled arrays.

    Args:
        dataset: a built-in image dataset name (its "train" split with labels is
            used, and "test" for the reported accuracy), or a name of your own
            for the cache file when ``train`` is given.
        cache_dir: where ``<dataset>-<hash>.keras`` files live (default
            ``~/.cache/unigen/features``, or ``$UNIGEN_CACHE_DIR/features``).
        seed: training seed (part of the hash).
        train: ``(x, y)`` labelled training images instead of the built-in split.
        held_out: ``(x, y)`` to report accuracy on.
        num_levels: pixel levels of ``train`` images (default: the dataset's).
        data_dir: passed to `unigen.datasets.as_numpy`.
        verbose: print when training.

    Returns:
        A `FeatureNetwork`.
    """
    import keras

    from unigen import datasets

    if train is None:
        info = datasets.info(dataset)
        if info.kind != "image" or info.num_classes is None:
            raise ValueError(
                f"A feature network needs labelled images; dataset {dataset!r} is "
                f"{info.kind} data. Vector data are compared on their raw coordinates.")
        train = datasets.as_numpy(dataset, "train", with_labels=True, data_dir=data_dir)
        if held_out is None:
            held_out = datasets.as_numpy(dataset, "test", with_labels=True, data_dir=data_dir)
        num_levels = num_levels or info.num_levels
    if num_levels is None:
        raise ValueError("`num_levels` is required with `train=` arrays (256 for uint8 images).")
    x, y = np.asarray(train[0]), np.asarray(train[1])
    settings = _settings(seed, num_levels, x.shape[1:])
    data_digest = _data_digest(x, y)
    shipped = _shipped(_key(dataset, data_digest, settings), x.shape[1:], seed, num_levels)
    if shipped is not None:
        return shipped
    settings["keras"] = keras.__version__[:4]  # .keras files may depend on it
    key = _key(dataset, data_digest, settings)
    directory = cache_dir or default_cache_dir()
    path = os.path.join(directory, key + ".keras")
    meta_path = os.path.join(directory, key + ".json")
    if os.path.exists(path) and os.path.exists(meta_path):
        classifier = keras.saving.load_model(path, compile=False, safe_mode=True)
        with open(meta_path) as f:
            meta = json.load(f)
        return FeatureNetwork(classifier, num_levels, meta.get("test_accuracy"), path)
    if verbose:
        print(f"training the feature network for {dataset!r} ({len(x)} images)...")
    network = FeatureNetwork.train(x, y, num_levels=num_levels, seed=seed, held_out=held_out)
    os.makedirs(directory, exist_ok=True)
    tmp = path + f".tmp{os.getpid()}.keras"
    network.classifier.save(tmp)
    os.replace(tmp, path)
    with open(meta_path, "w") as f:
        json.dump({"test_accuracy": network.test_accuracy, **settings}, f)
    network.path = path
    return network
