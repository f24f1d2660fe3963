r"""Gradients through discrete samples: the Gumbel-softmax relaxation and REINFORCE.

Pure functions of tensors; the sequence GANs bind them to a generator.

Gumbel-max: with g_i = -log(-log u_i), u_i ~ U(0, 1) i.i.d., argmax_i(l_i + g_i)
is a draw of softmax(l). Gumbel-softmax replaces the argmax by
softmax((l + g) / tau): differentiable in l, and one-hot argmax(l + g) in the
limit tau -> 0 (Jang et al. 2017; Maddison et al. 2017).

REINFORCE (score function): grad E_{x~p_theta}[R(x)] = E[(R(x) - b) grad log p_theta(x)]
for any b that does not depend on x; `reinforce_surrogate` is a loss whose
gradient is the (negated) sample mean of that estimator (Williams 1992).
"""

import tensorflow as tf

__all__ = ["gumbel_noise", "gumbel_softmax", "gumbel_temperature", "reinforce_surrogate"]

SCHEDULES = ("exponential", "linear", "constant")


def gumbel_noise(uniform):
    """g = -log(-log u) from uniforms u in (0, 1), kept away from 0 and 1."""
    tiny = 1e-7
    uniform = tf.clip_by_value(tf.cast(uniform, "float32"), tiny, 1.0 - tiny)
    return -tf.math.log(-tf.math.log(uniform))


def gumbel_softmax(logits, noise, temperature):
    """softmax((logits + noise) / temperature) over the last axis: a relaxed one-hot."""
    return tf.nn.softmax((tf.cast(logits, "float32") + noise) / temperature, axis=-1)


def gumbel_temperature(step, start=1.0, end=0.1, anneal_steps=1000, schedule="exponential"):
    """The relaxation temperature tau after ``step`` generator updates.

    "exponential": tau = max(end, start (end / start)^(step / anneal_steps));
    "linear": start + (end - start) min(1, step / anneal_steps); "constant": start.
    """
    step = tf.cast(step, "float32")
    fraction = tf.minimum(1.0, step / float(anneal_steps))
    if schedule == "constant":
        return tf.constant(float(start))
    if schedule == "linear":
        return start + (end - start) * fraction
    if schedule == "exponential":
        return tf.maximum(float(end), start * (end / start) ** fraction)
    raise ValueError(f"`schedule` must be one of {list(SCHEDULES)}, got {schedule!r}.")


def reinforce_surrogate(log_probs, rewards, baseline=0.0):
    """-mean_i (R_i - b) log p(x_i), with R and b held constant.

    Its gradient is minus the score-function estimate of grad E[R(x)] from the
    batch: minimising it ascends the expected reward. Unbiased for any baseline
    b that does not depend on the batch's sequences (a moving average of past
    rewards); the baseline only lowers the variance.

    Args:
        log_probs: log p(x_i) [batch] (differentiable in the generator).
        rewards: R(x_i) [batch] (not differentiated).
        baseline: b, a scalar (not differentiated).
    """
    advantage = tf.stop_gradient(tf.cast(rewards, "float32") - tf.cast(baseline, "float32"))
    return -tf.reduce_mean(advantage * log_probs)
