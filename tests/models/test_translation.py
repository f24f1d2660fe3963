"""Image-to-image translation (CycleGAN, StarGAN, Pix2Pix): the losses against hand
computations, the cycle on a fixed point, the history buffer, conditioning and errors."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen import datasets, errors
from unigen.models.translation import (
    CycleGAN,
    DomainCritic,
    ImagePool,
    Pix2Pix,
    StarGAN,
    translation_scores,
)
from unigen.models.translation import _ops as ops

LEVELS = 17
TINY = {"filters": 2, "residual_blocks": 1, "critic_filters": 2}


def _pointwise(scale, channels=1, name="pointwise"):
    """A generator x -> scale * x (a 1x1 convolution): identity (1) or, in [-1, 1],
    pixel inversion (-1), since (L-1-x) maps to -(x mapped)."""
    return keras.Sequential([
        keras.Input((8, 8, channels)),
        keras.layers.Conv2D(channels, 1, kernel_initializer=keras.initializers.Constant(scale),
                            bias_initializer="zeros")], name=name)


def _pairs(split="train", count=32):
    return datasets.as_numpy("digits_inverted", split)[:count]


# ------------------------------------------------------------------ cycle
def test_inverting_generators_are_a_fixed_point_of_the_cycle():
    model = CycleGAN((8, 8, 2), LEVELS, generator_a_to_b=_pointwise(-1.0, name="g"),
                     generator_b_to_a=_pointwise(-1.0, name="f"), **TINY)
    x = _pairs("test", 64)
    a, b = x[..., :1], x[..., 1:]
    there = model.translate(a, "a_to_b")
    back = model.translate(there, direction="b_to_a")
    np.testing.assert_array_equal(back, a)  # translate of translate is x
    # Inversion is the true mapping of digits_inverted: exact against the held-back targets.
    truth = datasets.true_targets("digits_inverted", "test")[:64]
    np.testing.assert_array_equal(there, truth[..., :1])
    np.testing.assert_array_equal(model.translate(b, "b_to_a"), truth[..., 1:])
    scores = translation_scores(model, "digits_inverted", num_examples=64)
    assert scores["a_to_b_error"] == scores["b_to_a_error"] == scores["cycle_error"] == 0.0
    assert scores["identity_error"] > 0.3
    pre = model._preprocess(x)
    _, cycle, identity, _, _ = model._generator_terms(pre[..., :1], pre[..., 1:], False)
    assert float(cycle) == 0.0
    assert float(identity) > 0.5  # inverting a domain-b image is not the identity
    identity_model = CycleGAN((8, 8, 2), LEVELS, generator_a_to_b=_pointwise(1.0, name="g"),
                              generator_b_to_a=_pointwise(1.0, name="f"), **TINY)
    _, cycle, identity, _, _ = identity_model._generator_terms(pre[..., :1], pre[..., 1:],
                                                               False)
    assert float(cycle) == 0.0 and float(identity) == 0.0


def test_cycle_identity_and_total_generator_loss_against_hand_computation():
    rng = np.random.default_rng(0)
    a = rng.uniform(-1, 1, (4, 8, 8, 1)).astype("float32")
    b = rng.uniform(-1, 1, (4, 8, 8, 1)).astype("float32")

    def g(t):
        return 2.0 * t

    def f(t):
        return t - 0.5

    # F(G(a)) - a = a - 0.5; G(F(b)) - b = b - 1; G(b) - b = b; F(a) - a = -0.5.
    expected_cycle = np.mean(np.abs(a - 0.5)) + np.mean(np.abs(b - 1.0))
    expected_identity = np.mean(np.abs(b)) + 0.5
    np.testing.assert_allclose(ops.cycle_loss(a, b, g, f), expected_cycle, rtol=1e-6)
    np.testing.assert_allclose(ops.identity_loss(a, b, g, f), expected_identity, rtol=1e-6)

    model = CycleGAN((8, 8, 2), LEVELS, generator_a_to_b=_pointwise(2.0, name="g"),
                     generator_b_to_a=_pointwise(1.0, name="f"), cycle_weight=3.0,
                     identity_weight=0.25, **TINY)
    model._ensure_built()
    loss, cycle, identity, fake_a, fake_b = model._generator_terms(a, b, False)
    np.testing.assert_allclose(cycle, np.mean(np.abs(a)) + np.mean(np.abs(b)), rtol=1e-5)
    np.testing.assert_allclose(identity, np.mean(np.abs(b)), rtol=1e-5)
    adversarial = (model.critic_b.generator_loss(fake_b, b)
                   + model.critic_a.generator_loss(fake_a, a))
    np.testing.assert_allclose(loss, adversarial + 3.0 * cycle + 0.25 * identity, rtol=1e-5)


# ---------------------------------------------------------- history pool
def test_history_pool_fills_then_returns_half_old_half_new():
    pool, count = tf.zeros([4, 1]), tf.constant(0)
    first = tf.constant([[1.0], [2.0], [3.0]])
    out, pool, count = ops.query_pool(pool, count, first, tf.zeros([3]), tf.zeros([4]))
    np.testing.assert_array_equal(out, first)  # filling: new images pass through
    assert int(count) == 3 and pool.numpy().ravel().tolist() == [1, 2, 3, 0]
    second = tf.constant([[4.0], [5.0], [6.0]])
    out, pool, count = ops.query_pool(pool, count, second, tf.zeros([3]), tf.zeros([4]))
    np.testing.assert_array_equal(out, second)  # the fourth slot still had room
    assert int(count) == 4 and pool.numpy().ravel().tolist() == [1, 2, 3, 4]
    third = tf.constant([[7.0], [8.0], [9.0], [10.0]])
    rows = tf.constant([0.9, 0.1, 0.8, 0.2])    # rows 1 and 3 are swapped ...
    slots = tf.constant([0.5, 0.6, 0.0, 0.7])   # ... with slots 2 then 0
    out, pool, count = ops.query_pool(pool, count, third, rows, slots)
    assert out.numpy().ravel().tolist() == [7, 3, 9, 1]  # half old, half new
    assert pool.numpy().ravel().tolist() == [10, 2, 8, 4] and int(count) == 4

    # The layer: seeded by the model's noise generator, so two equal seeds agree.
    results = []
    for _ in range(2):
        layer, seed = ImagePool(4), keras.random.SeedGenerator(3)
        layer.build((None, 1))
        results.append([layer.query(tf.constant([[float(i)] for i in range(k, k + 4)]),
                                    seed).numpy().ravel().tolist() for k in (0, 4, 8)])
        assert int(layer.count.numpy()) == 4
    assert results[0] == results[1]
    assert results[0][0] == [0, 1, 2, 3]
    assert sum(v < 4 for v in results[0][1]) == 2  # half of the second batch is old


def test_cyclegan_trains_keeps_its_pools_through_save_and_samples_pairs(tmp_path):
    x = _pairs(count=64)
    model = CycleGAN((8, 8, 2), LEVELS, pool_size=8, source_bank_size=16, identity_weight=0.0,
                     **TINY)
    with pytest.raises(RuntimeError, match="source="):
        model.sample(2, seed=0)  # nothing seen yet
    history = unigen.fit(model, x, epochs=1, batch_size=16, seed=0, verbose=0)
    assert {"loss", "cycle_loss", "critic_loss", "critic_a_loss"} <= set(history.history)
    assert int(model.pool_a.count.numpy()) == 8 and int(model.source_bank.count.numpy()) == 16
    path = str(tmp_path / "cyclegan.keras")
    model.save(path)
    again = unigen.load(path)
    for mine, theirs in ((model.pool_b, again.pool_b), (model.source_bank, again.source_bank)):
        np.testing.assert_array_equal(mine.images.numpy(), theirs.images.numpy())
        assert int(mine.count.numpy()) == int(theirs.count.numpy())
    pairs = model.sample(6, seed=1).numpy()
    assert pairs.shape == (6, 8, 8, 2)
    seen = {image.tobytes() for image in x[..., :1].astype("float32")}
    assert all(image.tobytes() in seen for image in pairs[..., :1])  # a from the data
    np.testing.assert_array_equal(pairs[..., 1:], model.translate(pairs[..., :1]))
    backwards = model.sample(3, seed=0, source=x[:3, ..., 1:], direction="b_to_a").numpy()
    np.testing.assert_array_equal(backwards[..., 1:], x[:3, ..., 1:])
    with pytest.raises(errors.ImplicitModelError):
        model.log_prob(x[:2])


# --------------------------------------------------------------- StarGAN
def test_stargan_target_domain_changes_the_output_and_domain_losses_by_hand():
    model = StarGAN((8, 8, 1), LEVELS, num_domains=3, **TINY)
    model._ensure_built()
    x = model._preprocess(datasets.as_numpy("digits_domains", "test")[:4])
    outputs = [model._translate(x, tf.fill([4], k)).numpy() for k in range(3)]
    assert not np.allclose(outputs[0], outputs[1]) and not np.allclose(outputs[1], outputs[2])
    assert model.sample(3, seed=0, labels=[0, 1, 2], source=np.zeros((3, 8, 8, 1))).shape == (
        3, 8, 8, 1)

    critic = DomainCritic(keras.Sequential([keras.Input((8, 8, 1)), keras.layers.Flatten()]),
                          "js", num_domains=3, domain_weight=2.0)
    logits = np.array([[2.0, 0.0, -1.0], [0.0, 0.0, 3.0]], "float32")
    source, target = tf.constant([0, 2]), tf.constant([1, 1])

    def cross_entropy(logit_rows, labels):
        log_softmax = logit_rows - np.log(np.exp(logit_rows).sum(-1, keepdims=True))
        return -np.mean(log_softmax[np.arange(len(labels)), labels])

    real_term = critic._extra_terms((None, logits), (None, -logits), (source, target))
    value, weight = real_term["domain_loss"]
    np.testing.assert_allclose(value, cross_entropy(logits, [0, 2]), rtol=1e-6)  # real: source
    assert weight == 2.0
    fake_term = critic._generator_terms((None, logits), (source, target))
    np.testing.assert_allclose(fake_term["domain_loss"][0], cross_entropy(logits, [1, 1]),
                               rtol=1e-6)  # fake: the target domain


def test_stargan_with_a_domain_blind_identity_generator_reconstructs_exactly():
    generator = keras.Sequential([
        keras.Input((8, 8, 4)),
        keras.layers.Conv2D(1, 1, use_bias=False, kernel_initializer=keras.initializers.Constant(
            [[[[1.0], [0.0], [0.0], [0.0]]]]))], name="identity")
    model = StarGAN((8, 8, 1), LEVELS, num_domains=3, generator=generator, **TINY)
    model._ensure_built()
    x, y = datasets.as_numpy("digits_domains", "test", with_labels=True)
    x, y = model._preprocess(x[:8]), tf.constant(y[:8] % 3)
    _, reconstruction = model._generator_loss(x, y, (y + 1) % 3, False)
    assert float(reconstruction) == 0.0


# --------------------------------------------------------------- pix2pix
def test_pix2pix_l1_term_and_generator_loss_by_hand():
    paired = datasets.as_numpy("digits_inverted_paired", "test")[:16]
    exact = Pix2Pix((8, 8, 2), LEVELS, generator=_pointwise(-1.0), **TINY)
    x = exact._preprocess(paired)
    loss, l1 = exact._generator_loss(x[..., :1], x[..., 1:], False)
    assert float(l1) == 0.0
    lazy = Pix2Pix((8, 8, 2), LEVELS, generator=_pointwise(1.0), l1_weight=7.0, **TINY)
    loss, l1 = lazy._generator_loss(x[..., :1], x[..., 1:], False)
    np.testing.assert_allclose(l1, np.mean(np.abs(x[..., :1] - x[..., 1:])), rtol=1e-6)
    adversarial = lazy.critic.generator_loss(tf.concat([x[..., :1], x[..., :1]], -1), x)
    np.testing.assert_allclose(loss, adversarial + 7.0 * l1, rtol=1e-5)
    np.testing.assert_array_equal(exact.translate(paired[:, ..., :1]), paired[..., 1:])


# ---------------------------------------------------------------- errors
def test_bad_inputs_say_what_is_wrong():
    cyclegan = CycleGAN((8, 8, 2), LEVELS, **TINY)
    a = _pairs(count=4)[..., :1]
    with pytest.raises(ValueError, match=r"`direction` must be one of \['a_to_b', 'b_to_a'\]"):
        cyclegan.translate(a, direction="sideways")
    with pytest.raises(errors.DataError, match=r"shape \[n, 8, 8, 1\]"):
        cyclegan.translate(_pairs(count=4))
    with pytest.raises(ValueError, match="holds 4 images but num_samples=2"):
        cyclegan.sample(2, source=a)
    with pytest.raises(ValueError, match="odd channel count"):
        CycleGAN((8, 8, 1), LEVELS, **TINY)
    cyclegan.compile()
    with pytest.raises(errors.DataError, match="without labels"):
        cyclegan.fit(_pairs(count=8), np.zeros(8, "int32"), batch_size=8, verbose=0)

    stargan = StarGAN((8, 8, 1), LEVELS, num_domains=4, **TINY)
    with pytest.raises(ValueError, match=r"`target_domain` must be an int in 0\.\.3"):
        stargan.translate(a, 7)
    with pytest.raises(ValueError, match="at least 2"):
        StarGAN((8, 8, 1), LEVELS, num_domains=1)
    stargan.compile()
    with pytest.raises(errors.DataError, match="with_labels=True"):
        stargan.fit(a, batch_size=4, verbose=0)

    pix2pix = Pix2Pix((8, 8, 2), LEVELS, **TINY)
    with pytest.raises(ValueError, match="one direction"):
        pix2pix.translate(a, "b_to_a")
    x, y = datasets.as_numpy("digits_domains", "train", with_labels=True)
    pix2pix.compile()
    with pytest.raises(errors.DataError, match="PAIRED"):
        pix2pix.fit(np.concatenate([x[:8], x[8:16]], -1), y[:8], batch_size=8, verbose=0)


# ------------------------------------------------------- StarGAN by name
def test_stargan_builder_takes_the_domains_from_the_dataset_and_names_the_fix():
    model = unigen.models.create("stargan", "digits_domains", **TINY)
    assert (model.num_domains, model.event_shape, model.num_levels) == (4, (8, 8, 1), LEVELS)
    assert unigen.models.recipe("stargan").labels and not unigen.models.recipe("gan").labels
    for data in ("digits_inverted", "digits"):  # no labels; labels that are not domains
        with pytest.raises(ValueError, match=rf"{data!r} has no domain labels.*--data "
                                             r"digits_domains.*num_domains=K"):
            unigen.models.create("stargan", data, **TINY)
    with pytest.raises(ValueError, match=r"no dataset was given.*digits_domains"):
        unigen.models.create("stargan", event_shape=(8, 8, 1), num_levels=LEVELS)
    with pytest.raises(ValueError, match="`num_domains`=3 but 'digits_domains' has 4"):
        unigen.models.create("stargan", "digits_domains", num_domains=3)
    with pytest.raises(TypeError, match="needs the data's shape"):
        unigen.models.create("gan")


def test_stargan_trains_from_the_command_line_on_the_domain_labels(tmp_path, monkeypatch,
                                                                   capsys):
    from unigen.cli import main
    from unigen.models.translation import create_stargan

    seen = {}

    def tiny(**kwargs):  # the registry's builder with tiny networks and one critic step
        seen.update(kwargs)
        return create_stargan(**kwargs, **TINY, critic_steps=1)

    monkeypatch.setitem(unigen.models._BUILDERS, "stargan", tiny)
    out = str(tmp_path / "run")
    assert main(["train", "--model", "stargan", "--data", "digits_domains", "--epochs", "1",
                 "--batch-size", "500", "--seed", "0", "--out", out, "--verbose", "0"]) == 0
    assert "domain_loss=" in capsys.readouterr().out  # trained on (x, domain) pairs
    assert seen["dataset"].name == "digits_domains"
    model = unigen.load(f"{out}/model.keras")
    assert model.num_domains == 4
    assert model.sample(4, seed=0).shape == (4, 8, 8, 1)
    # `unigen compare` trains a name the same way (quick: one epoch, no run directory).
    from unigen.evaluation._cli import train_or_load

    name, model, budget = train_or_load("stargan", "digits_domains", str(tmp_path), quick=True)
    assert (name, model.num_domains, budget["epochs"]) == ("stargan", 4, 1)
    assert main(["train", "--model", "stargan", "--data", "digits_inverted", "--out",
                 str(tmp_path / "bad"), "--verbose", "0"]) == 1
    assert "--data digits_domains" in capsys.readouterr().err
