"""`GANCritic`: the GAN's `unigen.adversarial.Critic`, with labels, packing and heads.

What a GAN's critic adds to the shared one, all in `outputs` and the two term
hooks (the update itself is `Critic.step`):

* conditioning on labels: "concat" (one-hot channels or features appended to the
  input), "projection" (v = w.phi(x) + embed(y).phi(x), Miyato and Koyama 2018)
  or "none" (AC-GAN: only the auxiliary classifier sees labels);
* PacGAN packing of ``pack`` consecutive examples into one critic input;
* an auxiliary classifier head (AC-GAN), whose class loss is added to both
  players' losses with ``auxiliary_classifier_weight``;
* one-sided label smoothing s of the "js" game: s E_p[v(x)] added to the critic;
* flipped labels of the "js" game (a share of real and fake targets swapped);
* feature matching: ||E f(x) - E f(G(z))||^2 on the critic's features added to
  the generator's loss (Salimans et al. 2016);
* minibatch discrimination between the features and the heads;
* a semi-supervised K+1-class critic: K class logits l_k, the "real" logit
  v = log sum_k exp l_k, and the cross-entropy of the labelled examples;
* ProGAN's drift term: epsilon E_x[v(x)^2] over the real batch added to the
  critic's loss (Karras et al. 2018, Section A.1).
"""

import keras
import tensorflow as tf

from unigen import _random
from unigen.adversarial import Critic
from unigen.models.gan import _ops as ops
from unigen.models.gan.layers import MinibatchDiscrimination
from unigen.training._distribute import gather_global_batch, global_batch_noise

__all__ = []


def needs_features(num_classes, conditioning, auxiliary_classifier_weight,
                   feature_matching=0.0, minibatch_discrimination=0,
                   semi_supervised_classes=None):
    """True when a GAN critic's network ends in features and the critic adds heads
    (projection, an auxiliary classifier, feature matching, minibatch
    discrimination or a semi-supervised class head)."""
    conditional_head = num_classes is not None and bool(num_classes) and (
        conditioning == "projection" or auxiliary_classifier_weight > 0)
    return bool(conditional_head or feature_matching or minibatch_discrimination
                or semi_supervised_classes)


@keras.saving.register_keras_serializable(package="unigen")
class GANCritic(Critic):
    """The critic of `unigen.GAN` (see the module docstring).

    Args:
        network: the discriminator network on packed inputs; returns raw values
            ``[batch / pack, 1]``, or features ``[batch / pack, F]`` when a head
            is needed (see `needs_features`).
        divergence: the game.
        num_classes, conditioning, auxiliary_classifier_weight, pack,
        label_smoothing, label_flip, feature_matching, minibatch_discrimination,
        semi_supervised_classes, supervised_weight, drift: as in `unigen.GAN`.
    """

    def __init__(self, network, divergence, num_classes=None, conditioning="concat",
                 auxiliary_classifier_weight=0.0, pack=1, label_smoothing=0.0,
                 label_flip=0.0, feature_matching=0.0, minibatch_discrimination=0,
                 semi_supervised_classes=None, supervised_weight=1.0, drift=0.0,
                 name="critic", **kwargs):
        super().__init__(network, divergence, name=name, **kwargs)
        self.num_classes = num_classes
        self.conditioning = conditioning
        self.auxiliary_classifier_weight = float(auxiliary_classifier_weight)
        self.pack = int(pack)
        self.label_smoothing = float(label_smoothing)
        self.label_flip = float(label_flip)
        self.feature_matching = float(feature_matching)
        self.minibatch_discrimination = int(minibatch_discrimination)
        self.semi_supervised_classes = (None if semi_supervised_classes is None
                                        else int(semi_supervised_classes))
        self.supervised_weight = float(supervised_weight)
        self.drift = float(drift)
        self.critic_head = self.class_embedding = self.auxiliary_head = None
        self.minibatch_layer = self.class_head = None
        if self.needs_features:
            if self.minibatch_discrimination:
                self.minibatch_layer = MinibatchDiscrimination(
                    self.minibatch_discrimination, name="minibatch_discrimination")
            if self.semi_supervised_classes:
                self.class_head = keras.layers.Dense(self.semi_supervised_classes,
                                                     name="class_head")
            else:
                head = keras.layers.Dense(1, name="critic_head")
                if self.divergence.lipschitz == "spectral_norm":
                    head = keras.layers.SpectralNormalization(head, name="critic_head_sn")
                self.critic_head = head
            if self.auxiliary_classifier_weight:
                self.auxiliary_head = keras.layers.Dense(num_classes, name="auxiliary_head")

    @property
    def needs_features(self):
        """True when the network ends in features and the critic adds heads."""
        return needs_features(self.num_classes, self.conditioning,
                              self.auxiliary_classifier_weight, self.feature_matching,
                              self.minibatch_discrimination, self.semi_supervised_classes)

    @property
    def generator_terms_need_real(self):
        """Feature matching compares the features of real and generated batches."""
        return self.feature_matching > 0

    @property
    def metric_names(self):
        names = super().metric_names
        names = names + (["aux_loss"] if self.auxiliary_head is not None else [])
        return names + (["supervised_loss"] if self.class_head is not None else [])

    def build(self, input_shape):
        """Builds the network on packed inputs ``input_shape`` and the heads on its features."""
        if not self.network.built:
            self.network.build(input_shape)
        if self.needs_features:
            features = int(self.network.compute_output_shape(input_shape)[-1])
            head_features = features
            if self.minibatch_layer is not None:
                self.minibatch_layer.build((None, features))
                head_features += self.minibatch_discrimination
            for head in (self.critic_head, self.class_head):
                if head is not None:
                    head.build((None, head_features))
            if self.conditioning == "projection" and self.num_classes:
                # Sized by the network's features, known once it is built.
                self.class_embedding = keras.layers.Embedding(
                    self.num_classes, head_features, name="class_embedding")
                self.class_embedding.build((None,))
            if self.auxiliary_head is not None:
                self.auxiliary_head.build((None, head_features))
        self.built = True

    def outputs(self, x, context=None, training=False):
        """``(values [batch / pack], extras)`` on a batch; ``context``: labels.

        ``extras`` is None for a critic without heads, else a dict with
        ``features`` (the network's output, the layer feature matching uses),
        ``logits`` (auxiliary classifier, or None) and ``class_logits``
        (semi-supervised K classes, or None).
        """
        labels = context
        inputs = x
        if self.num_classes is not None and self.conditioning == "concat":
            inputs = ops.attach_labels(inputs, labels, self.num_classes)
        out = tf.cast(self.network(ops.pack_samples(inputs, self.pack), training=training),
                      "float32")
        if not self.needs_features:
            return tf.reshape(out, [-1]), None
        features = tf.reshape(out, [tf.shape(out)[0], -1])
        head_input = features
        if self.minibatch_layer is not None:
            head_input = self.minibatch_layer(features)
        class_logits = None
        if self.class_head is not None:
            class_logits = tf.cast(self.class_head(head_input), "float32")
            values = ops.semi_supervised_real_logit(class_logits)
        else:
            values = tf.cast(self.critic_head(head_input, training=training)[:, 0], "float32")
        if self.class_embedding is not None:
            values += tf.reduce_sum(
                tf.cast(self.class_embedding(labels), "float32") * head_input, axis=-1)
        logits = (None if self.auxiliary_head is None else
                  tf.cast(self.auxiliary_head(head_input), "float32"))
        return values, {"features": features, "logits": logits, "class_logits": class_logits}

    def classify(self, x):
        """Class probabilities [batch, K] of a semi-supervised critic, softmax over l_k(x)."""
        if self.class_head is None:
            raise TypeError("`classify` needs a semi-supervised critic "
                            "(semi_supervised_classes set).")
        return tf.nn.softmax(self.outputs(x, None, training=False)[1]["class_logits"], -1)

    def _flips(self, batch, seed):
        noise = global_batch_noise(
            lambda n: _random.uniform((n,), seed=seed), batch)
        return tf.cast(noise < self.label_flip, "float32")

    def _extra_terms(self, real_outputs, fake_outputs, context, seed=None, training=True):
        terms = {}
        if self.label_smoothing:
            terms["label_smoothing"] = (
                ops.smoothed_label_term(real_outputs[0], self.label_smoothing), 1.0)
        if self.label_flip and training:
            real_flips = self._flips(tf.shape(real_outputs[0])[0], seed)
            fake_flips = self._flips(tf.shape(fake_outputs[0])[0], seed)
            terms["label_flip"] = (ops.flipped_label_term(
                real_outputs[0], fake_outputs[0], real_flips, fake_flips), 1.0)
        if self.auxiliary_head is not None:
            terms["aux_loss"] = (0.5 * (ops.classifier_loss(real_outputs[1]["logits"], context)
                                        + ops.classifier_loss(fake_outputs[1]["logits"],
                                                              context)),
                                 self.auxiliary_classifier_weight)
        if self.drift:
            terms["drift"] = (ops.drift_term(real_outputs[0]), self.drift)
        if self.class_head is not None:
            terms["supervised_loss"] = (
                ops.masked_classifier_loss(real_outputs[1]["class_logits"], context),
                self.supervised_weight)
        return terms

    def _generator_terms(self, fake_outputs, context, real_outputs=None):
        terms = {}
        if self.auxiliary_head is not None:
            terms["aux_loss"] = (ops.classifier_loss(fake_outputs[1]["logits"], context),
                                 self.auxiliary_classifier_weight)
        if self.feature_matching and real_outputs is not None:
            # Means over the global batch: the same loss on R replicas as on one device.
            real_features, fake_features = gather_global_batch(
                real_outputs[1]["features"], fake_outputs[1]["features"])
            terms["feature_matching"] = (
                ops.feature_matching_loss(real_features, fake_features),
                self.feature_matching)
        return terms

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "conditioning": self.conditioning,
                "auxiliary_classifier_weight": self.auxiliary_classifier_weight,
                "pack": self.pack, "label_smoothing": self.label_smoothing,
                "label_flip": self.label_flip, "feature_matching": self.feature_matching,
                "minibatch_discrimination": self.minibatch_discrimination,
                "semi_supervised_classes": self.semi_supervised_classes,
                "supervised_weight": self.supervised_weight, "drift": self.drift}
