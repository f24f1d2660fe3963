"""A feature network trained on unlabelled images (contrastive, SimCLR-style).

Most users of generative models have no labels. Then unigen trains the same
small convolutional trunk as the labelled classifier (`FeatureNetwork`) with
the contrastive objective of SimCLR (Chen et al. 2020): two random views
``a_i, b_i`` of each image in a batch of ``B`` go through the trunk ``f`` and
a projection head ``g``, ``z = g(f(view)) / ||g(f(view))||``, and the loss is
the normalised temperature-scaled cross-entropy (NT-Xent)

    L = -(1 / 2B) sum_i [log softmax_j(z_ai . z_j / tau)[b_i]
                         + log softmax_j(z_bi . z_j / tau)[a_i]]

over the other ``2B - 1`` views ``j`` of the batch. The features are the
trunk's output ``f`` (the head is dropped), as in SimCLR: they are invariant
to what the augmentations change (small shifts, rotations, scalings, contrast
and pixel noise) and keep what tells one image from another. They are scaled
by one number so that their mean variance per dimension on the training
images is 1 (FID and KID in the same units for any images).

Class probabilities (for the Inception, MODE and AM scores) need classes:
``k`` k-means clusters of the training features stand in for them, and a
softmax (multinomial logistic regression) fitted to the cluster labels gives
``p(cluster | x)``. Scores built on them measure how confidently and evenly
samples fall into the clusters of the real data; they compare models scored
with the same network only.

References:
    Chen, Kornblith, Norouzi and Hinton. "A Simple Framework for Contrastive
    Learning of Visual Representations." ICML 2020.
    Caron, Bojanowski, Joulin and Douze. "Deep Clustering for Unsupervised
    Learning of Visual Features." ECCV 2018 (cluster pseudo-labels).
"""

import math

import numpy as np

__all__ = ["augment", "nt_xent", "train_contrastive"]


def augment(x, rng, *, max_shift=0.125, max_rotation=12.0, scale=(0.9, 1.1),
            contrast=(0.75, 1.25), noise=0.05):
    """One random view of each image: a small affine map, contrast and noise.

    Args:
        x: float images ``[n, h, w, c]`` in [0, 1].
        rng: a `numpy.random.Generator`.
        max_shift: largest translation, as a share of the image side.
        max_rotation: largest rotation in degrees.
        scale: range of the zoom factor.
        contrast: range of the factor pixel values are multiplied by
            (around the image mean).
        noise: standard deviation of the added Gaussian pixel noise.

    Returns:
        float32 array of the shape of ``x``, clipped to [0, 1].
    """
    from scipy import ndimage

    x = np.asarray(x, np.float32)
    n, h, w, _ = x.shape
    out = np.empty_like(x)
    centre = np.array([(h - 1) / 2.0, (w - 1) / 2.0])
    angles = np.deg2rad(rng.uniform(-max_rotation, max_rotation, n))
    zooms = rng.uniform(*scale, n)
    shifts = rng.uniform(-max_shift, max_shift, (n, 2)) * np.array([h, w])
    for i in range(n):
        cos, sin = math.cos(angles[i]) / zooms[i], math.sin(angles[i]) / zooms[i]
        matrix = np.array([[cos, -sin], [sin, cos]])  # output -> input coordinates
        offset = centre - matrix @ (centre + shifts[i])
        for c in range(x.shape[3]):
            out[i, :, :, c] = ndimage.affine_transform(x[i, :, :, c], matrix, offset,
                                                       order=1, mode="nearest")
    mean = out.mean(axis=(1, 2, 3), keepdims=True)
    factor = rng.uniform(*contrast, (n, 1, 1, 1)).astype(np.float32)
    out = mean + factor * (out - mean) + rng.normal(0.0, noise, out.shape).astype(np.float32)
    return np.clip(out, 0.0, 1.0)


def nt_xent(z, temperature):
    """The NT-Xent loss of projections ``z = [z_a; z_b]`` (``[2B, d]``, rows
    ``i`` and ``i + B`` are the two views of one image), a Keras scalar."""
    from keras import ops

    z = z / ops.maximum(ops.norm(z, axis=1, keepdims=True), 1e-12)
    n2 = ops.shape(z)[0]
    half = n2 // 2
    logits = ops.matmul(z, ops.transpose(z)) / temperature
    logits = logits - 1e9 * ops.eye(n2, dtype=logits.dtype)  # a view is not its own pair
    positives = ops.concatenate([ops.arange(half) + half, ops.arange(half)], axis=0)
    log_p = logits - ops.logsumexp(logits, axis=1, keepdims=True)
    picked = ops.take_along_axis(log_p, ops.expand_dims(positives, 1), axis=1)
    return -ops.mean(picked)


def _contrastive_model(trunk, projection_dim, temperature, seed):
    import keras

    head = keras.Sequential([
        keras.layers.Dense(64, activation="relu",
                           kernel_initializer=keras.initializers.GlorotUniform(seed + 20)),
        keras.layers.Dense(projection_dim,
                           kernel_initializer=keras.initializers.GlorotUniform(seed + 21)),
    ], name="projection")

    class Contrastive(keras.Model):
        """Views ``[B, 2, h, w, c]`` -> projections ``[2B, d]``; loss NT-Xent."""

        def __init__(self):
            super().__init__(name="unigen_contrastive")
            self.trunk, self.head = trunk, head

        def call(self, views, training=False):
            both = keras.ops.concatenate([views[:, 0], views[:, 1]], axis=0)
            return self.head(self.trunk(both, training=training), training=training)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                         training=True):
            return nt_xent(y_pred, temperature)

    return Contrastive()


def _views_dataset():
    import keras

    class Views(keras.utils.PyDataset):
        """All passes over the images as one sequence of batches of two fresh
        random views, ``[B, 2, h, w, c]`` (one Keras epoch: no per-epoch
        overhead for small image sets); batch ``i`` of pass ``e`` depends only
        on ``(seed, e, i)``."""

        def __init__(self, x, batch_size, seed, passes):
            super().__init__()
            self.x, self.batch_size, self.seed, self.passes = x, batch_size, seed, passes
            self.per_pass = math.ceil(len(x) / batch_size)

        def __len__(self):
            return self.passes * self.per_pass

        def __getitem__(self, index):
            epoch, i = divmod(index, self.per_pass)
            order = np.random.default_rng([self.seed, epoch]).permutation(len(self.x))
            rng = np.random.default_rng([self.seed, epoch, i])
            images = self.x[order[i * self.batch_size:(i + 1) * self.batch_size]]
            return np.stack([augment(images, rng), augment(images, rng)], axis=1)

    return Views


def train_contrastive(classifier, x, *, epochs, seed=0, batch_size=256, temperature=0.5,
                      learning_rate=2e-3, num_clusters=10, projection_dim=32, verbose=0):
    """Trains ``classifier``'s trunk without labels, then its logits on clusters.

    ``classifier`` is `unigen.evaluation._features._classifier`'s network: its
    layers up to "features" are the trunk trained with NT-Xent; its "logits"
    layer is set to a softmax regression of ``num_clusters`` k-means clusters
    of the trained features.

    Args:
        classifier: the network, built, with ``num_clusters`` outputs.
        x: float images ``[n, h, w, c]`` in [0, 1].
        epochs: passes over ``x``, each with fresh random views.
        seed: seed of the views, the shuffling, k-means and the regression.
        batch_size, temperature, learning_rate, projection_dim: of SimCLR.
        num_clusters: k of k-means (the pseudo-classes).
        verbose: 1 shows a progress bar over the training steps.

    Returns:
        dict: ``final_loss`` (mean NT-Xent over training), ``cluster_sizes``.
    """
    import keras
    from sklearn.cluster import KMeans
    from sklearn.linear_model import LogisticRegression

    trunk = keras.Model(classifier.inputs, classifier.get_layer("features").output)
    model = _contrastive_model(trunk, projection_dim, temperature, seed)
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    views = _views_dataset()(x, min(batch_size, len(x)), seed, epochs)
    history = model.fit(views, epochs=1, shuffle=False, verbose=1 if verbose else 0)
    loss = float(history.history["loss"][-1])  # the mean over training
    # One scale for every feature: mean variance 1 per dimension on the
    # training images (ReLU(W f + b) / s = ReLU(W f / s + b / s)), so that FID
    # and KID come in comparable units whatever the images.
    layer = classifier.get_layer("features")
    features = np.asarray(trunk.predict(x, batch_size=512, verbose=0), np.float64)
    spread = math.sqrt(max(float(features.var(0).mean()), 1e-12))
    layer.set_weights([w / np.float32(spread) for w in layer.get_weights()])
    features = features / spread
    mean, std = features.mean(0), features.std(0) + 1e-6
    scaled = (features - mean) / std
    num_clusters = min(num_clusters, len(x))
    clusters = KMeans(num_clusters, n_init=4, random_state=seed).fit_predict(scaled)
    regression = LogisticRegression(max_iter=1000, random_state=seed).fit(scaled, clusters)
    coef = np.zeros((num_clusters, scaled.shape[1]))
    intercept = np.full(num_clusters, -1e3)  # a cluster k-means left empty
    if len(regression.classes_) == 2:  # one row w: p(second) = sigmoid(w . f + b)
        coef[regression.classes_[1]] = regression.coef_[0]
        intercept[regression.classes_] = [0.0, regression.intercept_[0]]
    else:
        coef[regression.classes_] = regression.coef_
        intercept[regression.classes_] = regression.intercept_
    # logits = ((f - mean) / std) @ coef.T + intercept, folded into the Dense layer
    kernel = (coef / std).T
    bias = intercept - (mean / std) @ coef.T
    classifier.get_layer("logits").set_weights([kernel.astype(np.float32),
                                                bias.astype(np.float32)])
    return {"final_loss": loss,
            "cluster_sizes": np.bincount(clusters, minlength=num_clusters).tolist()}
