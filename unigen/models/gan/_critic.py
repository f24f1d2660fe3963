"""`GANCritic`: the GAN's `unigen.adversarial.Critic`, with labels, packing and heads.

What a GAN's critic adds to the shared one, all in `outputs` and the two term
hooks (the update itself is `Critic.step`):

* conditioning on labels: "concat" (one-hot channels or features appended to the
  input), "projection" (v = w.phi(x) + embed(y).phi(x), Miyato and Koyama 2018)
  or "none" (AC-GAN: only the auxiliary classifier sees labels);
* PacGAN packing of ``pack`` consecutive examples into one critic input;
* an auxiliary classifier head (AC-GAN), whose class loss is added to both
  players' losses with ``auxiliary_classifier_weight``;
* one-sided label smoothing s of the "js" game: s E_p[v(x)] added to the critic.
"""

import keras
import tensorflow as tf

from unigen.adversarial import Critic
from unigen.models.gan import _ops as ops

__all__ = []


def needs_features(num_classes, conditioning, auxiliary_classifier_weight):
    """True when a GAN critic's network ends in features and the critic adds heads
    (a conditional critic with projection or an auxiliary classifier)."""
    return num_classes is not None and bool(num_classes) and (
        conditioning == "projection" or auxiliary_classifier_weight > 0)


@keras.saving.register_keras_serializable(package="unigen")
class GANCritic(Critic):
    """The critic of `unigen.GAN` (see the module docstring).

    Args:
        network: the discriminator network on packed inputs; returns raw values
            ``[batch / pack, 1]``, or features ``[batch / pack, F]`` when a head
            is needed (projection or auxiliary classifier).
        divergence: the game.
        num_classes, conditioning, auxiliary_classifier_weight, pack,
        label_smoothing: as in `unigen.GAN`.
    """

    def __init__(self, network, divergence, num_classes=None, conditioning="concat",
                 auxiliary_classifier_weight=0.0, pack=1, label_smoothing=0.0,
                 name="critic", **kwargs):
        super().__init__(network, divergence, name=name, **kwargs)
        self.num_classes = num_classes
        self.conditioning = conditioning
        self.auxiliary_classifier_weight = float(auxiliary_classifier_weight)
        self.pack = int(pack)
        self.label_smoothing = float(label_smoothing)
        self.critic_head = self.class_embedding = self.auxiliary_head = None
        if self.needs_features:
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
                              self.auxiliary_classifier_weight)

    @property
    def metric_names(self):
        names = super().metric_names
        return names + (["aux_loss"] if self.auxiliary_head is not None else [])

    def build(self, input_shape):
        """Builds the network on packed inputs ``input_shape`` and the heads on its features."""
        if not self.network.built:
            self.network.build(input_shape)
        if self.critic_head is not None:
            features = int(self.network.compute_output_shape(input_shape)[-1])
            self.critic_head.build((None, features))
            if self.conditioning == "projection":
                # Sized by the network's features, known once it is built.
                self.class_embedding = keras.layers.Embedding(
                    self.num_classes, features, name="class_embedding")
                self.class_embedding.build((None,))
            if self.auxiliary_head is not None:
                self.auxiliary_head.build((None, features))
        self.built = True

    def outputs(self, x, context=None, training=False):
        """``(values [batch / pack], auxiliary class logits or None)``; ``context``: labels."""
        labels = context
        inputs = x
        if self.num_classes is not None and self.conditioning == "concat":
            inputs = ops.attach_labels(inputs, labels, self.num_classes)
        out = tf.cast(self.network(ops.pack_samples(inputs, self.pack), training=training),
                      "float32")
        if self.critic_head is None:
            return tf.reshape(out, [-1]), None
        features = tf.reshape(out, [tf.shape(out)[0], -1])
        values = tf.cast(self.critic_head(features, training=training)[:, 0], "float32")
        if self.class_embedding is not None:
            values += tf.reduce_sum(tf.cast(self.class_embedding(labels), "float32") * features,
                                    axis=-1)
        logits = (None if self.auxiliary_head is None else
                  tf.cast(self.auxiliary_head(features), "float32"))
        return values, logits

    def _extra_terms(self, real_outputs, fake_outputs, context):
        terms = {}
        if self.label_smoothing:
            terms["label_smoothing"] = (
                ops.smoothed_label_term(real_outputs[0], self.label_smoothing), 1.0)
        if self.auxiliary_head is not None:
            terms["aux_loss"] = (0.5 * (ops.classifier_loss(real_outputs[1], context)
                                        + ops.classifier_loss(fake_outputs[1], context)),
                                 self.auxiliary_classifier_weight)
        return terms

    def _generator_terms(self, fake_outputs, context):
        if self.auxiliary_head is None:
            return {}
        return {"aux_loss": (ops.classifier_loss(fake_outputs[1], context),
                             self.auxiliary_classifier_weight)}

    def get_config(self):
        return {**super().get_config(), "num_classes": self.num_classes,
                "conditioning": self.conditioning,
                "auxiliary_classifier_weight": self.auxiliary_classifier_weight,
                "pack": self.pack, "label_smoothing": self.label_smoothing}
