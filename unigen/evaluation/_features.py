"""A small feature network per dataset, trained by unigen itself.

Nothing can be downloaded (no pretrained Inception), so sample-quality metrics
on images use the penultimate layer of a small convolutional classifier trained,
deterministically, on the labelled training split of the dataset in question.
Without labels the same network is trained self-supervised (contrastive, see
`unigen.evaluation._selfsupervised`), with k-means clusters of its features
standing in for classes.
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
import time

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
        objective: "classifier" (trained on labels) or "contrastive" (trained
            without labels; its "classes" are k-means clusters).
        description: one line for reports.
    """

    def __init__(self, classifier, num_levels, test_accuracy=None, path=None,
                 objective="classifier", description=None):
        import keras

        self.classifier = classifier
        self.num_levels = num_levels
        self.test_accuracy = test_accuracy
        self.path = path
        self.objective = objective
        if description is None:
            description = "unigen's own small conv classifier" + (
                "" if test_accuracy is None else f", test accuracy {test_accuracy:.3f}")
        self.description = description
        self._features = keras.Model(classifier.inputs[0],
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

    def _apply(self, network, x, batch_size):
        """``network`` on the scaled images, called eagerly batch by batch.

        Not ``predict``: each new network (one per `unigen.evaluate` call) and
        each new batch size would trace Keras's predict function again, and
        TensorFlow warns about the retracing. The results are the same.
        """
        x = self._scale(x)
        outputs = [np.asarray(network(x[start:start + batch_size], training=False), np.float64)
                   for start in range(0, len(x), batch_size)]
        return np.concatenate(outputs) if outputs else np.zeros(
            (0, network.output_shape[-1]), np.float64)

    def features(self, x, batch_size=512):
        """Penultimate-layer activations, float64 ``[n, 64]``."""
        return self._apply(self._features, x, batch_size)

    def probabilities(self, x, batch_size=512):
        """Class probabilities ``[n, num_classes]``."""
        import scipy.special

        return scipy.special.softmax(self._apply(self.classifier, x, batch_size), axis=1)

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

    @classmethod
    def train_unlabelled(cls, x, *, num_levels, num_clusters=10, epochs=None, seed=0,
                         max_images=5000, verbose=0):
        """Trains the network on unlabelled images (contrastive; deterministic).

        The trunk learns with SimCLR's NT-Xent loss on augmented views
        (`unigen.evaluation._selfsupervised.train_contrastive`); its logits
        give ``p(cluster | x)`` over ``num_clusters`` k-means clusters.

        Args:
            x: images [n, h, w, c] in levels 0..num_levels-1 (or floats in
                [0, 1] with ``num_levels=None``).
            num_levels: pixel levels.
            num_clusters: k, the pseudo-classes of the class probabilities.
            epochs: default: about 30,000 image visits, 5 to 60 epochs.
            seed: seed of the weights, views, shuffling and clustering.
            max_images: train on a seeded subset of at most this many images.
            verbose: 1 shows a progress bar.
        """
        import keras

        from unigen.evaluation._selfsupervised import train_contrastive

        x = np.asarray(x)
        if len(x) > max_images:
            x = x[np.sort(np.random.default_rng(seed).permutation(len(x))[:max_images])]
        epochs = epochs or max(5, min(60, 30_000 // max(len(x), 1)))
        keras.utils.set_random_seed(seed)
        model = _classifier(tuple(x.shape[1:]), num_clusters, seed)
        top = float(num_levels - 1) if num_levels else 1.0
        info = train_contrastive(model, x.astype(np.float32) / top, epochs=epochs, seed=seed,
                                 num_clusters=num_clusters, verbose=verbose)
        return cls(model, num_levels, None, objective="contrastive",
                   description=_contrastive_description(len(x), epochs, num_clusters,
                                                        info["final_loss"]))


def _contrastive_description(num_images, epochs, num_clusters, loss):
    from unigen._checks import plural

    return (f"a small conv network trained by unigen without labels (contrastive, "
            f"SimCLR-style, on {num_images} training images, {plural(epochs, 'epoch')}, mean "
            f"NT-Xent {loss:.2f}); class probabilities over {num_clusters} k-means "
            f"clusters of its features")


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


def _settings(seed, num_levels, shape, objective="classifier", num_clusters=None):
    """What the weights depend on besides the data (the shipped files' key)."""
    settings = {"version": _VERSION, "seed": int(seed), "num_levels": int(num_levels or 0),
                "shape": list(shape)}
    if objective != "classifier":
        settings.update(objective=objective, clusters=int(num_clusters),
                        contrastive_version=1)
    return settings


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
                    num_levels=None, data_dir=None, verbose=False, objective=None,
                    num_clusters=10, epochs=None):
    """The (cached) feature network of a built-in dataset or of your images.

    With labels it is a classifier; without (``train=x`` or ``(x, None)``, or
    ``objective="contrastive"``) it is trained self-supervised, see
    `FeatureNetwork.train_unlabelled`.

    Args:
        dataset: a built-in image dataset name (its "train" split with labels is
            used, and "test" for the reported accuracy), or a name of your own
            for the cache file when ``train`` is given.
        cache_dir: where ``<dataset>-<hash>.keras`` files live (default
            ``~/.cache/unigen/features``, or ``$UNIGEN_CACHE_DIR/features``).
        seed: training seed (part of the hash).
        train: ``(x, y)`` labelled training images instead of the built-in
            split, or unlabelled images ``x`` (or ``(x, None)``).
        held_out: ``(x, y)`` to report accuracy on.
        num_levels: pixel levels of ``train`` images (default: the dataset's).
        data_dir: passed to `unigen.datasets.as_numpy`.
        verbose: print a line when training starts and one when it is done
            (with the seconds taken); no progress bar.
        objective: "classifier" or "contrastive"; default: "classifier" when
            labels are given, else "contrastive".
        num_clusters: k-means clusters (the classes) of a contrastive network.
        epochs: training epochs of a contrastive network (default: see
            `FeatureNetwork.train_unlabelled`; part of the cache key).

    Returns:
        A `FeatureNetwork`.
    """
    import keras

    from unigen import datasets

    if objective not in (None, "classifier", "contrastive"):
        raise ValueError(f"`objective` must be 'classifier' or 'contrastive', got {objective!r}.")
    if train is None and objective == "contrastive":
        info = datasets.info(dataset)
        if info.kind != "image":
            raise ValueError(f"A feature network needs images; dataset {dataset!r} is "
                             f"{info.kind} data.")
        train = datasets.as_numpy(dataset, "train", data_dir=data_dir)
        num_levels = num_levels or info.num_levels
    if train is not None and not (isinstance(train, tuple) and train[1] is not None):
        return _unlabelled_network(dataset, train[0] if isinstance(train, tuple) else train,
                                   num_levels=num_levels, seed=seed, cache_dir=cache_dir,
                                   num_clusters=num_clusters, verbose=verbose, epochs=epochs)
    if objective == "contrastive":
        return _unlabelled_network(dataset, train[0], num_levels=num_levels, seed=seed,
                                   cache_dir=cache_dir, num_clusters=num_clusters,
                                   verbose=verbose, epochs=epochs)
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
    path, meta_path, cached = _lookup(key, cache_dir, num_levels)
    if cached is not None:
        return cached
    if verbose:
        print(f"training the feature network for {dataset!r} ({len(x)} images)...",
              flush=True)
    start = time.perf_counter()
    network = FeatureNetwork.train(x, y, num_levels=num_levels, seed=seed, held_out=held_out)
    _store(network, path, meta_path, settings)
    _say_trained(verbose, start, path)
    return network


def _say_trained(verbose, start, path):
    """The one line after a feature network is trained (no progress bar while it is)."""
    if verbose:
        from unigen.evaluation._likelihood import seconds_text

        print(f"trained the feature network in {seconds_text(time.perf_counter() - start)} "
              f"(cached in {path})", flush=True)


def _lookup(key, cache_dir, num_levels):
    """``(path, meta_path, the cached network or None)`` of cache entry ``key``."""
    directory = cache_dir or default_cache_dir()
    path = os.path.join(directory, key + ".keras")
    meta_path = os.path.join(directory, key + ".json")
    return path, meta_path, _cached(path, meta_path, num_levels)


def _cached(path, meta_path, num_levels):
    import keras

    if not (os.path.exists(path) and os.path.exists(meta_path)):
        return None
    classifier = keras.saving.load_model(path, compile=False, safe_mode=True)
    with open(meta_path) as f:
        meta = json.load(f)
    return FeatureNetwork(classifier, num_levels, meta.get("test_accuracy"), path,
                          objective=meta.get("objective", "classifier"),
                          description=meta.get("description"))


def _store(network, path, meta_path, settings):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + f".tmp{os.getpid()}.keras"
    network.classifier.save(tmp)
    os.replace(tmp, path)
    with open(meta_path, "w") as f:
        json.dump({"test_accuracy": network.test_accuracy, "objective": network.objective,
                   "description": network.description, **settings}, f)
    network.path = path


def _unlabelled_network(dataset, x, *, num_levels, seed, cache_dir, num_clusters, verbose,
                        epochs=None):
    """The cached contrastive network of unlabelled images ``x``."""
    import keras

    x = np.asarray(x)
    if x.ndim != 4:
        raise ValueError(f"A feature network needs images [n, height, width, channels]; got "
                         f"an array of shape {list(x.shape)}.")
    if num_levels is None and x.dtype == np.uint8:
        num_levels = 256
    settings = _settings(seed, num_levels, x.shape[1:], "contrastive", num_clusters)
    settings["keras"] = keras.__version__[:4]
    if epochs is not None:
        settings["epochs"] = int(epochs)
    key = _key(dataset, _data_digest(x, np.zeros(0)), settings)
    path, meta_path, cached = _lookup(key, cache_dir, num_levels)
    directory = os.path.dirname(path)
    if cached is not None:
        return cached
    if verbose:
        print(f"training a self-supervised feature network on {len(x)} unlabelled "
              f"images of {dataset!r} (cached in {directory})...", flush=True)
    start = time.perf_counter()
    network = FeatureNetwork.train_unlabelled(x, num_levels=num_levels, seed=seed,
                                              num_clusters=num_clusters, epochs=epochs)
    _store(network, path, meta_path, settings)
    _say_trained(verbose, start, path)
    return network
