"""Sequence models: exact likelihood, the Gumbel-softmax limit, REINFORCE's unbiasedness."""

import itertools

import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import DataError
from unigen.models.sequence import (
    GumbelGAN,
    SeqGAN,
    SequenceModel,
    gumbel_noise,
    gumbel_softmax,
    gumbel_temperature,
    reinforce_surrogate,
)
from unigen.models.sequence._network import SequenceNetwork


def _all_sequences(length, vocab_size):
    """Every non-empty canonical sequence: symbols, then EOS and padding (or no EOS)."""
    out = []
    for n in range(1, length + 1):
        for symbols in itertools.product(range(2, vocab_size), repeat=n):
            out.append(list(symbols) + ([1] + [0] * (length - n - 1) if n < length else []))
    return np.array(out, np.int32)


@pytest.mark.parametrize("temperature", [1.0, 0.6])
def test_log_prob_is_a_normalised_distribution_over_all_sequences(temperature):
    model = SequenceModel(event_shape=(3,), num_levels=5, embedding_dim=3, hidden_units=4,
                          cell="lstm", seed=2)
    everything = _all_sequences(3, 5)
    total = np.exp(model.log_prob(everything, temperature=temperature).numpy()).sum()
    assert total == pytest.approx(1.0, abs=1e-5)
    with pytest.raises(DataError, match="padding"):
        model.log_prob(np.array([[2, 0, 3]]))
    samples = model.sample(20, seed=0, temperature=temperature).numpy()
    unigen.datasets.check_canonical(samples, 5)
    np.testing.assert_array_equal(samples, model.sample(20, seed=0, temperature=temperature))
    greedy = model.sample(3, seed=5, temperature=0).numpy()
    assert (greedy == greedy[0]).all()


def test_gumbel_softmax_tends_to_the_gumbel_max_one_hot_and_the_softmax_mean():
    logits = tf.constant([[1.0, -0.5, 0.3, 2.0]])
    noise = gumbel_noise(tf.random.stateless_uniform([40_000, 4], seed=[1, 2]))
    cold = gumbel_softmax(logits, noise, 1e-3).numpy()
    scores = (logits + noise).numpy()
    hard = tf.one_hot(np.argmax(scores, axis=-1), 4).numpy()
    np.testing.assert_array_equal(cold.argmax(-1), hard.argmax(-1))
    top2 = np.sort(scores, axis=-1)[:, -2:]
    clear = top2[:, 1] - top2[:, 0] > 0.02  # gap / tau > 20: within e^-20 of one-hot
    assert clear.mean() > 0.95
    np.testing.assert_allclose(cold[clear], hard[clear], atol=1e-6)
    errors = [np.abs(gumbel_softmax(logits, noise, tau).numpy() - hard).mean()
              for tau in (1.0, 0.1, 0.01, 0.001)]
    assert errors == sorted(errors, reverse=True) and errors[-1] < 1e-3
    probs = tf.nn.softmax(logits)[0].numpy()
    mean = gumbel_softmax(logits, noise, 0.01).numpy().mean(0)
    stderr = np.sqrt(probs * (1 - probs) / len(noise))
    assert np.all(np.abs(mean - probs) < 4 * stderr)


def test_temperature_schedules():
    assert float(gumbel_temperature(0, 1.0, 0.1, 100)) == pytest.approx(1.0)
    assert float(gumbel_temperature(50, 1.0, 0.1, 100)) == pytest.approx(0.1 ** 0.5)
    assert float(gumbel_temperature(500, 1.0, 0.1, 100)) == pytest.approx(0.1)
    assert float(gumbel_temperature(50, 1.0, 0.1, 100, "linear")) == pytest.approx(0.55)
    assert float(gumbel_temperature(50, 1.0, 0.1, 100, "constant")) == pytest.approx(1.0)


def test_reinforce_gradient_is_unbiased_against_the_exact_gradient():
    """E[-grad surrogate] over the sampler == grad sum_x p(x) R(x), by enumeration."""
    network = SequenceNetwork(vocab_size=4, length=2, embedding_dim=2, hidden_units=3)
    network.build()
    for w in network.weights:  # larger weights: a distribution far from uniform
        w.assign(tf.random.stateless_normal(w.shape, seed=[3, w.shape.num_elements()]))
    everything = _all_sequences(2, 4)  # 2 + 4 = 6 sequences
    rewards = tf.constant(np.linspace(-1.0, 2.0, len(everything)), "float32")
    variables = network.trainable_variables

    def flat(grads):
        return np.concatenate([tf.convert_to_tensor(g).numpy().ravel() for g in grads])

    with tf.GradientTape() as tape:
        probs = tf.exp(network.log_prob(everything))
        objective = tf.reduce_sum(probs * rewards)
    exact = flat(tape.gradient(objective, variables))
    assert float(tf.reduce_sum(probs)) == pytest.approx(1.0, abs=1e-6)

    baseline = 0.7  # any constant: unbiased whatever its value
    per_sequence = []
    for row, reward in zip(everything, rewards, strict=True):
        with tf.GradientTape() as tape:
            loss = reinforce_surrogate(network.log_prob(row[None]), reward[None], baseline)
        per_sequence.append(-flat(tape.gradient(loss, variables)))
    per_sequence = np.array(per_sequence)

    draws = 20_000
    uniform = tf.random.stateless_uniform([draws, 2, 4], seed=[7, 7])
    samples = network.generate(gumbel_noise(uniform)).numpy()
    index = np.array([np.flatnonzero((everything == s).all(1))[0] for s in samples])
    share = np.bincount(index, minlength=len(everything)) / draws
    mean = share @ per_sequence
    stderr = np.sqrt(np.maximum(share @ per_sequence ** 2 - mean ** 2, 0.0) / draws)
    assert np.all(np.abs(mean - exact) <= 4 * stderr + 1e-6), (mean, exact, stderr)
    assert np.abs(exact).max() > 10 * stderr.max()  # the check has power
    with tf.GradientTape() as tape:  # the batch surrogate is the mean of the estimates
        loss = reinforce_surrogate(network.log_prob(samples),
                                   tf.gather(rewards, index), baseline)
    np.testing.assert_allclose(-flat(tape.gradient(loss, variables)), mean, atol=1e-4)


def test_gans_start_from_mle_and_reject_bad_options():
    mle = SequenceModel(event_shape=(4,), num_levels=6, embedding_dim=3, hidden_units=4)
    for cls in (GumbelGAN, SeqGAN):
        gan = cls.from_mle(mle, seed=5, critic_filters=4)
        x = np.array([[2, 3, 1, 0], [4, 4, 4, 4]])
        np.testing.assert_allclose(gan.log_prob(x), mle.log_prob(x), rtol=1e-6)
        assert gan.has_log_prob and gan.likelihood_estimators() == ["exact"]
    with pytest.raises(ValueError, match="temperature_schedule"):
        GumbelGAN(event_shape=(4,), num_levels=6, temperature_schedule="cosine")
    with pytest.raises(ValueError, match=r"event_shape=\(T,\)"):
        SequenceModel(event_shape=(4, 2), num_levels=6)


def test_seqgan_resumes_to_the_same_weights_baseline_and_critic(tmp_path):
    data = unigen.datasets.oracle(length=4).sample(64, seed=0)

    def build():
        return SeqGAN(event_shape=(4,), num_levels=10, embedding_dim=3, hidden_units=4,
                      critic_filters=4, pretrain_steps=1)

    options = dict(batch_size=32, seed=1, verbose=0)
    full = build()
    unigen.fit(full, data, epochs=3, **options)
    out = str(tmp_path / "run")
    unigen.fit(build(), data, epochs=1, output_dir=out, **options)
    resumed = build()
    unigen.fit(resumed, data, epochs=3, output_dir=out, **options)
    assert float(resumed.baseline.numpy()) != 0.0
    for a, b in zip(full.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    for a, b in zip(full.critic.optimizer.variables, resumed.critic.optimizer.variables,
                    strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("straight_through", [False, True])
def test_relaxed_sequences_tend_to_the_one_hot_tokens_with_padding(straight_through):
    network = SequenceNetwork(vocab_size=5, length=6, embedding_dim=3, hidden_units=4)
    network.build()
    for w in network.weights:
        w.assign(tf.random.stateless_normal(w.shape, seed=[5, w.shape.num_elements()]))
    noise = gumbel_noise(tf.random.stateless_uniform([64, 6, 5], seed=[4, 2]))
    tokens, relaxed = network.generate(noise, relaxation=1e-4,
                                       straight_through=straight_through)
    unigen.datasets.check_canonical(tokens.numpy(), 5)
    assert (tokens.numpy() == 0).any()  # some sequences ended: padding follows EOS
    hard = tf.one_hot(tokens, 5).numpy()
    np.testing.assert_array_equal(relaxed.numpy().argmax(-1), tokens.numpy())
    assert np.mean(np.abs(relaxed.numpy() - hard) > 1e-3) < 0.01  # all but near-ties
    if straight_through:  # forward values are exactly one-hot
        np.testing.assert_array_equal(relaxed.numpy(), tf.one_hot(tokens, 5).numpy())
    with tf.GradientTape() as tape:  # at a moderate tau the relaxation has gradients
        relaxed = network.generate(noise, relaxation=0.5, straight_through=straight_through)[1]
        loss = tf.reduce_sum(relaxed * tf.random.stateless_normal(relaxed.shape, seed=[1, 1]))
    grads = tape.gradient(loss, network.trainable_variables)
    assert any(float(tf.reduce_sum(tf.abs(tf.convert_to_tensor(g)))) > 0
               for g in grads if g is not None)
