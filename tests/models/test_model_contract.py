"""The one model contract, checked on every model the registry can build.

Each test is parametrised over `contract_models.CONFIGS` (Gaussian, GAN presets
with each game, conditional GANs, Glow, RealNVP, MAF, VAE with each regulariser,
Flow-GAN), so a family that drifts from the shared behaviour fails here.
"""

import os

import contract_models as cm
import numpy as np
import pytest
import tensorflow as tf
from conftest import run_pythons

import unigen
import unigen.divergences as ud
from unigen.base import _hook_options

JOB = os.path.join(os.path.dirname(__file__), "jobs_contract.py")
NAMES = sorted(cm.CONFIGS)


def test_every_registered_model_is_covered():
    covered = {registered for registered, _, _ in cm.CONFIGS.values()}
    assert covered == set(unigen.models.available())


@pytest.mark.parametrize("name", ["biggan", "progan", "lapgan"])
def test_image_only_builders_name_the_model_and_the_shape(name):
    with pytest.raises(ValueError, match=r"models images: `event_shape` must be \(height, "
                                         r"width, channels\), got \(2,\)"):
        unigen.models.create(name, event_shape=(2,))


def test_every_registered_model_has_a_compare_recipe():
    for name in unigen.models.available():
        recipe = unigen.models.recipe(name)
        assert recipe.epochs >= 1 and 0 < recipe.learning_rate < 1
    assert unigen.models.recipe("DCGAN").image_options["pack"] == 2
    with pytest.raises(ValueError, match="Unknown model 'nope'"):
        unigen.models.recipe("nope")


@pytest.mark.parametrize("name", NAMES)
def test_plain_compile_then_fit_trains_every_network(name):
    model = cm.build(name)
    model.compile("adam")
    for critic in model.critics:  # the VAE's critic got no optimizer this way before
        assert critic.optimizer is not None and critic.optimizer.built
    x = cm.data(name)
    before = [w.copy() for w in model.get_weights()]
    history = model.fit(x[0] if isinstance(x, tuple) else x,
                        x[1] if isinstance(x, tuple) else None,
                        batch_size=32, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    changed = [not np.array_equal(a, b) for a, b in zip(before, model.get_weights(), strict=True)]
    assert any(changed)
    for critic in model.critics:
        assert int(critic.optimizer.iterations) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_keras_round_trip_gives_identical_log_prob_samples_and_optimizers(name, tmp_path):
    model = unigen.fit(lambda: cm.build(name), cm.data(name), epochs=1, batch_size=32,
                       seed=0, verbose=0).model
    path = str(tmp_path / f"{name}.keras")
    model.save(path)
    again = unigen.load(path)
    batch = cm.data(name, 8)
    x = cm.features(batch)
    if model.has_log_prob:
        opts = cm.options(model, "log_prob")
        if isinstance(batch, tuple):
            opts["labels"] = batch[1]
        np.testing.assert_allclose(again.log_prob(x, **opts), model.log_prob(x, **opts),
                                   rtol=1e-6, atol=1e-5)
    np.testing.assert_array_equal(again.sample(4, seed=3), model.sample(4, seed=3))
    assert [c.name for c in again.critics] == [c.name for c in model.critics]
    for mine, theirs in zip(model.critics, again.critics, strict=True):
        assert int(theirs.optimizer.iterations) == int(mine.optimizer.iterations) >= 1
        for a, b in zip(mine.optimizer.variables, theirs.optimizer.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("name", NAMES)
def test_public_methods_are_the_base_contract(name):
    model = cm.build(name)
    cls = type(model)
    for method in ("sample", "log_prob", "compile_from_config", "training_state"):
        assert getattr(cls, method) is getattr(unigen.GenerativeModel, method), method
    assert model.likelihood_estimators()
    with pytest.raises(TypeError, match="takes"):
        model.sample(2, seed=0, no_such_option=1)
    if model.num_classes is not None:
        assert "labels" in _hook_options(model._sample)


class ConstantPenaltyJS(ud.JensenShannon):
    """The JS game plus a constant critic penalty of 1000 (a user's subclass)."""

    calls = 0

    def critic_penalty(self, critic_fn, real, fake, seed=None):
        ConstantPenaltyJS.calls += 1
        return tf.constant(1000.0)


@pytest.mark.parametrize("name", cm.ADVERSARIAL)
def test_a_custom_critic_penalty_is_applied_in_every_adversarial_model(name):
    overrides = {"divergence": ConstantPenaltyJS()}
    if name in ("gan_wgan_gp", "gan_hinge_sn"):
        overrides.update(gradient_penalty=None, spectral_norm=False)
    ConstantPenaltyJS.calls = 0
    model = cm.build(name, **overrides)
    history = unigen.fit(model, cm.data(name), epochs=1, batch_size=32, seed=0, verbose=0)
    assert ConstantPenaltyJS.calls >= 1
    assert history.history["critic_penalty"] == [pytest.approx(1000.0)]
    assert history.history["critic_loss"][0] > 1000.0


class SampleEnergy(ud.Divergence):
    """A user's sample-based divergence: the energy distance, no critic."""

    uses_critic = False

    def _sample_loss(self, real, fake):
        real, fake = tf.reshape(real, [tf.shape(real)[0], -1]), tf.reshape(
            fake, [tf.shape(fake)[0], -1])

        def mean_distance(a, b):
            squared = tf.reduce_sum(tf.square(a[:, None] - b[None]), axis=-1)
            return tf.reduce_mean(tf.sqrt(squared + 1e-6))

        return 2 * mean_distance(real, fake) - mean_distance(real, real) - mean_distance(
            fake, fake)


@pytest.mark.parametrize("name", ["gan_mmd", "vae_mmd"])
def test_a_custom_sample_based_divergence_trains_gans_and_vaes(name):
    model = cm.build(name, divergence=SampleEnergy())
    history = unigen.fit(model, cm.data(name), epochs=2, batch_size=32, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.critics == []


def test_a_critic_divergence_refuses_sample_loss_with_the_fix():
    with pytest.raises(NotImplementedError, match=r"unigen\.adversarial\.Critic"):
        ud.get("js").generator_loss_from_samples(tf.zeros([4, 2]), tf.zeros([4, 2]))


def test_one_metric_name_for_the_critic_in_every_family():
    names = {}
    for name in ("gan_js", "vae_adversarial", "flow_gan"):
        model = cm.build(name)
        history = unigen.fit(model, cm.data(name), epochs=1, batch_size=32, seed=0, verbose=0)
        names[name] = {k for k in history.history if "critic" in k or "d_loss" in k}
    assert all(found == {"critic_loss"} for found in names.values()), names


def test_one_device_equals_two_replicas_for_every_model(tmp_path):
    run_pythons([[JOB, "train", "--replicas", "1", "--dump", str(tmp_path / "one.npz")],
                 [JOB, "train", "--replicas", "2", "--dump", str(tmp_path / "two.npz")]],
                timeout=900)
    one, two = np.load(tmp_path / "one.npz"), np.load(tmp_path / "two.npz")
    assert sorted(one.files) == sorted(two.files)
    assert {key.split("/")[0] for key in one.files} == set(cm.CONFIGS)
    for key in one.files:
        np.testing.assert_allclose(one[key], two[key], atol=2e-5, err_msg=key)


def test_same_seed_same_weights_in_fresh_processes_however_built(tmp_path):
    run_pythons([[JOB, "seeds", "--dump", str(tmp_path / f"{run}.npz")] for run in "ab"],
                timeout=900)
    a, b = np.load(tmp_path / "a.npz"), np.load(tmp_path / "b.npz")
    assert {key.split("/")[0] for key in a.files} == set(cm.CONFIGS)
    for key in a.files:
        np.testing.assert_array_equal(a[key], b[key], err_msg=key)
        if "/before/" in key:  # built before fit == built by a factory inside it
            np.testing.assert_array_equal(a[key], a[key.replace("/before/", "/factory/")],
                                          err_msg=key)


def test_two_strategies_one_after_another_in_one_process(python_job):
    out = python_job([JOB, "strategies"], timeout=600)
    assert "two strategies: ok" in out.stdout


class UniformLevels(unigen.GenerativeModel):
    """A family written against the contract only: uniform over the L levels of each pixel."""

    def build(self, input_shape=None):
        self.built = True

    def _log_prob(self, x):
        return tf.fill([tf.shape(x)[0]], -self.event_size * float(np.log(self.num_levels)))

    def _sample(self, num_samples, seed, temperature=1.0):
        del temperature
        return tf.floor(tf.random.stateless_uniform(
            [num_samples, *self.event_shape], [seed or 0, 1], maxval=float(self.num_levels)))


def test_a_new_family_needs_no_change_in_evaluation_or_fit():
    unigen.models.register("uniform_levels", UniformLevels)
    try:
        model = unigen.models.create("uniform_levels", event_shape=(8, 8, 1), num_levels=17)
        test = unigen.datasets.as_numpy("digits", "test")
        score = unigen.evaluation.likelihood(model, test)
        assert score.extra["kind"] == "exact"
        assert score.value == pytest.approx(64 * np.log(17.0))
        assert model.sample(3, seed=1, temperature=0.5).shape == (3, 8, 8, 1)
        with pytest.raises(TypeError, match="takes no options; got `num_samples`"):
            model.log_prob(test[:2], num_samples=3)
    finally:
        unigen.models._BUILDERS.pop("uniform_levels")


@pytest.mark.parametrize("cls, shape, levels", [
    (unigen.models.Gaussian, (8, 8, 1), 17), (unigen.models.DCGAN, (8, 8, 1), 17),
    (unigen.models.MLPGAN, (2,), None), (unigen.models.Glow, (8, 8, 1), 17),
    (unigen.models.RealNVP, (2,), None), (unigen.models.MAF, (2,), None),
    (unigen.models.VAE, (2,), None)])
def test_one_name_for_the_shape_and_the_seed_in_every_family(cls, shape, levels):
    a = cls(event_shape=shape, num_levels=levels, seed=3)
    b = cls(event_shape=shape, num_levels=levels, seed=3)
    assert a.event_shape == shape and a.seed == 3 and a.get_config()["seed"] == 3
    a._ensure_built()
    b._ensure_built()
    for x, y in zip(a.get_weights(), b.get_weights(), strict=True):
        np.testing.assert_array_equal(x, y)
    assert a.noise_generator is not None
