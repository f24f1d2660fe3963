"""Flow models: Glow, RealNVP and MAF (log_prob, sampling, encode/decode, fit, saving)."""

import os

import numpy as np
import pytest
import tensorflow as tf
from conftest import ROOT, run_pythons

import unigen
from unigen.flows import ActNorm

DIGITS = unigen.datasets.as_numpy("digits", "train")[:64]


def _perturb(model, seed=0, scale=0.05):
    rng = np.random.default_rng(seed)
    for v in model.flow.trainable_variables:
        v.assign(v.numpy() + scale * rng.standard_normal(v.shape).astype(v.dtype))


def _tiny_glow(**kwargs):
    return unigen.models.Glow(image_shape=(8, 8, 1), levels=2, steps_per_level=2,
                              hidden_channels=8, num_levels=17, **kwargs)


@pytest.fixture(scope="module")
def glow():
    model = _tiny_glow()
    model.data_dependent_init(tf.cast(DIGITS, "float32"))
    _perturb(model)
    return model


def _vector_models():
    return {"realnvp": unigen.models.RealNVP((2,), num_couplings=4, hidden=16),
            "maf": unigen.models.MAF((2,), num_layers=3, hidden_units=(16, 16)),
            "realnvp_3d": unigen.models.RealNVP((3,), num_couplings=3, hidden=8),
            "maf_3d": unigen.models.MAF((3,), num_layers=2, hidden_units=(8,))}


def test_glow_encode_decode_round_trip_including_extreme_images(glow):
    edges = np.stack([np.zeros((8, 8, 1)), np.full((8, 8, 1), 16.0)]).astype("uint8")
    for x in (DIGITS, edges):
        z = glow.encode(x)
        assert z.shape == (x.shape[0], 64) and np.all(np.isfinite(z))
        np.testing.assert_allclose(glow.decode(z), x.astype("float32"), atol=1e-3)
        np.testing.assert_array_equal(glow.decode(z, quantize=True), x.astype("float32"))
    z = tf.random.stateless_normal([5, 64], seed=[1, 1])
    x = glow.decode(z)
    np.testing.assert_allclose(glow._flow_forward(glow._to_flow_space(x + 0.5))[0], z,
                               atol=1e-3)


def test_glow_log_prob_bits_per_dim_and_bound(glow):
    lp = glow.log_prob(DIGITS)
    assert lp.shape == (64,) and np.all(np.isfinite(lp))
    np.testing.assert_allclose(glow.log_prob(DIGITS), lp)  # fixed-seed dequantization
    np.testing.assert_allclose(glow.bits_per_dim(DIGITS), -lp / (64 * np.log(2.0)), rtol=1e-6)
    # the same value from the pieces: base + flow log-det + pre-processing log-det
    x = tf.cast(DIGITS, "float32")
    y = x + glow._fixed_noise(x)
    t, ld0 = glow.logit.forward_and_log_det(y)
    z, ld1 = glow._flow_forward(t)
    base = -0.5 * tf.reduce_sum(z**2, 1) - 32.0 * np.log(2 * np.pi)
    np.testing.assert_allclose(lp, base + ld0 + ld1, rtol=1e-5)


def test_glow_variables_and_gradients(glow):
    # 2 levels x 2 steps x (ActNorm 2 + 1x1 conv 3 + coupling 6) + 1 split prior x 2
    assert len(glow.trainable_variables) == 2 * 2 * 11 + 2
    with tf.GradientTape() as tape:
        loss = -tf.reduce_mean(glow(DIGITS, training=True))
    grads = tape.gradient(loss, glow.trainable_variables)
    for v, g in zip(glow.trainable_variables, grads, strict=True):
        assert g is not None and np.all(np.isfinite(g.numpy())), v.path


def test_glow_sampling(glow):
    a = glow.sample(6, seed=3, temperature=0.7)
    np.testing.assert_array_equal(a, glow.sample(6, seed=3, temperature=0.7))
    assert a.shape == (6, 8, 8, 1)
    assert np.all(a == np.round(a)) and a.numpy().min() >= 0 and a.numpy().max() <= 16
    cold = glow.sample(2, seed=1, temperature=0.0)
    np.testing.assert_array_equal(cold[0], cold[1])
    path = glow.interpolate(DIGITS[:2], DIGITS[2:4], num_steps=5)
    assert path.shape == (2, 5, 8, 8, 1)
    np.testing.assert_array_equal(path[:, 0], DIGITS[:2].astype("float32"))
    np.testing.assert_array_equal(path[:, -1], DIGITS[2:4].astype("float32"))


def test_data_dependent_init_initialises_every_actnorm():
    model = _tiny_glow()
    model.data_dependent_init(tf.cast(DIGITS, "float32"))
    norms = [layer for layer in model._flatten_layers() if isinstance(layer, ActNorm)]
    assert len(norms) == 4 and all(float(n.initialized.numpy()) == 1.0 for n in norms)
    lazy = _tiny_glow()
    lazy.log_prob(DIGITS)  # a user calling log_prob first also initialises
    lazy_norms = [la for la in lazy._flatten_layers() if isinstance(la, ActNorm)]
    # the first ActNorm sees the same pre-processed batch in both models
    np.testing.assert_allclose(lazy_norms[0].bias, norms[0].bias, rtol=1e-5)
    np.testing.assert_allclose(lazy_norms[0].log_scale, norms[0].log_scale, rtol=1e-5)
    assert all(float(n.initialized.numpy()) == 1.0 for n in lazy_norms)


@pytest.mark.parametrize("name", sorted(_vector_models()))
def test_vector_flows_invert(name):
    model = _vector_models()[name]
    d = model.event_size
    x = 1.5 * tf.random.stateless_normal([16, d], seed=[0, 3])
    model.data_dependent_init(x)
    _perturb(model, scale=0.2)
    z = model.encode(x)
    np.testing.assert_allclose(model.decode(z), x, atol=1e-4)
    zz = tf.random.stateless_normal([16, d], seed=[2, 3])
    np.testing.assert_allclose(model.encode(model.decode(zz)), zz, atol=1e-4)
    assert np.all(np.isfinite(model.log_prob(x.numpy())))


def test_vector_variable_counts():
    models = _vector_models()
    for m in models.values():
        m._ensure_built()
    assert len(models["realnvp"].trainable_variables) == 4 * (2 + 6)
    assert len(models["maf"].trainable_variables) == 3 * (2 + 2 * 3)


@pytest.mark.parametrize("name", ["realnvp", "maf"])
def test_density_integrates_to_one(name):
    model = _vector_models()[name]
    model.data_dependent_init(tf.random.stateless_normal([64, 2], seed=[4, 4]))
    _perturb(model, seed=1, scale=0.2)
    edge = np.linspace(-10.0, 10.0, 501)
    grid = np.stack(np.meshgrid(edge, edge), -1).reshape(-1, 2).astype("float32")
    density = np.exp(model.log_prob(grid).numpy())
    mass = density.sum() * (edge[1] - edge[0]) ** 2
    assert abs(mass - 1.0) < 1e-2, mass
    standard = np.exp(-0.5 * np.sum(grid**2, 1)) / (2 * np.pi)
    assert np.abs(density - standard).max() > 0.02  # the flow is not the identity


def test_keras_round_trip_gives_identical_log_prob(glow, tmp_path):
    path = str(tmp_path / "glow.keras")
    glow.save(path)
    loaded = unigen.load(path)
    np.testing.assert_array_equal(loaded.log_prob(DIGITS), glow.log_prob(DIGITS))
    model = _vector_models()["maf"]
    x = tf.random.stateless_normal([8, 2], seed=[5, 5])
    model.data_dependent_init(x)
    _perturb(model)
    model.save(str(tmp_path / "maf.keras"))
    np.testing.assert_array_equal(unigen.load(str(tmp_path / "maf.keras")).log_prob(x.numpy()),
                                  model.log_prob(x.numpy()))


def test_one_device_equals_two_replicas_and_training_lowers_the_nll(tmp_path):
    job = os.path.join(ROOT, "tests", "models", "jobs_flow.py")
    run_pythons([[job, "--dump", str(tmp_path / "one.npz")],
                 [job, "--replicas", "2", "--dump", str(tmp_path / "two.npz")]])
    with np.load(tmp_path / "one.npz") as one, np.load(tmp_path / "two.npz") as two:
        assert sorted(one.files) == sorted(two.files)
        for key in one.files:
            np.testing.assert_allclose(one[key], two[key], atol=1e-4, rtol=1e-4, err_msg=key)
        assert np.mean(one["glow_nll"]) < np.mean(one["glow_nll_untrained"]) - 1.0


def test_flow_gan_hybrid_trains_both_networks(tmp_path):
    model = unigen.models.FlowGAN(unigen.models.RealNVP((2,), num_couplings=2, hidden=8),
                                  divergence="js", likelihood_weight=0.1,
                                  discriminator_units=8)
    x = unigen.datasets.as_numpy("moons", "train")[:512]
    model._ensure_built()
    flow0 = [w.copy() for w in model.flow_model.flow.get_weights()]
    disc0 = [w.copy() for w in model.discriminator.get_weights()]
    history = unigen.fit(model, x, epochs=1, batch_size=128, seed=0, verbose=0,
                         output_dir=str(tmp_path / "run"))
    assert set(history.history) >= {"loss", "nll", "critic_loss"}
    assert all(np.isfinite(v[-1]) for v in history.history.values())
    assert any(np.any(a != b) for a, b in
               zip(flow0, model.flow_model.flow.get_weights(), strict=True))
    assert any(np.any(a != b) for a, b in
               zip(disc0, model.discriminator.get_weights(), strict=True))
    state = model.training_state()
    assert len(state) > len(model.variables) + len(model.optimizer.variables)
    model.save(str(tmp_path / "hybrid.keras"))
    loaded = unigen.load(str(tmp_path / "hybrid.keras"))
    np.testing.assert_array_equal(loaded.log_prob(x[:8]), model.log_prob(x[:8]))
    # both optimizers come back with their state (moments, step counters)
    for name in ("optimizer", "discriminator_optimizer"):
        mine, theirs = getattr(model, name), getattr(loaded, name)
        assert type(theirs) is type(mine) and theirs.built
        assert int(theirs.iterations.numpy()) == int(mine.iterations.numpy()) > 0
        assert len(theirs.variables) == len(mine.variables)
        for a, b in zip(mine.variables, theirs.variables, strict=True):
            np.testing.assert_array_equal(a.numpy(), b.numpy(), err_msg=f"{name}: {a.path}")
    assert float(loaded.discriminator_optimizer.beta_1) == 0.5
    # Flow-GAN clips the flow's gradient norm by default, and keeps it on reload
    assert model.gradient_clip_norm == 100.0 and model.optimizer.global_clipnorm == 100.0
    assert loaded.gradient_clip_norm == 100.0 and loaded.optimizer.global_clipnorm == 100.0
    loaded.fit(x[:256], batch_size=128, epochs=1, verbose=0)  # a reloaded Flow-GAN trains on
    assert int(loaded.discriminator_optimizer.iterations.numpy()) == int(
        model.discriminator_optimizer.iterations) + 2


def test_gradient_clip_norm_defaults_and_errors():
    plain = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    assert plain.gradient_clip_norm is None
    plain.compile_for_fit()
    assert plain.optimizer.global_clipnorm is None
    chosen = unigen.models.RealNVP((2,), num_couplings=2, hidden=8, gradient_clip_norm=5)
    chosen.compile_for_fit()
    assert chosen.optimizer.global_clipnorm == 5.0
    assert unigen.models.RealNVP.from_config(chosen.get_config()).gradient_clip_norm == 5.0
    flow = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    unclipped = unigen.models.FlowGAN(flow, gradient_clip_norm=None)
    assert unclipped.gradient_clip_norm is None
    for bad in (0, -1.0, "big"):
        with pytest.raises(ValueError, match="gradient_clip_norm"):
            unigen.models.RealNVP((2,), num_couplings=2, hidden=8, gradient_clip_norm=bad)
        with pytest.raises(ValueError, match="gradient_clip_norm"):
            unigen.models.FlowGAN(flow, gradient_clip_norm=bad)
    with pytest.raises(TypeError, match="FlowGAN"):
        unigen.models.RealNVP((2,), num_couplings=2, hidden=8, divergence="js")


def test_registry_and_errors():
    model = unigen.models.create("glow", event_shape=(8, 8, 1), num_levels=17)
    assert isinstance(model, unigen.models.Glow)
    assert isinstance(unigen.models.create("maf", event_shape=(2,)), unigen.models.MAF)
    assert isinstance(unigen.models.create("realnvp", event_shape=(2,)), unigen.models.RealNVP)
    with pytest.raises(ValueError, match="image_shape"):
        unigen.models.Glow(image_shape=(8, 8))
    with pytest.raises(ValueError, match="channel"):
        unigen.models.Glow(image_shape=(7, 7, 1))
    with pytest.raises(unigen.errors.DataError):
        model.log_prob(DIGITS / 16.0)


@pytest.mark.parametrize("kind", ["realnvp_image", "glow_additive"])
def test_other_image_flows_invert(kind):
    if kind == "realnvp_image":
        model = unigen.models.RealNVP((8, 8, 1), num_levels=17, levels=2, steps_per_level=1,
                                      hidden=4)
    else:
        model = _tiny_glow(coupling="additive")
    model.data_dependent_init(tf.cast(DIGITS, "float32"))
    _perturb(model)
    np.testing.assert_allclose(model.decode(model.encode(DIGITS)), DIGITS.astype("float32"),
                               atol=1e-3)
    assert np.all(np.isfinite(model.log_prob(DIGITS)))


def test_compile_for_fit_warms_the_learning_rate_up():
    model = _tiny_glow(warmup_steps=10)
    model.compile_for_fit(learning_rate=1e-3)
    schedule = model.optimizer.learning_rate if callable(
        model.optimizer.learning_rate) else model.optimizer._learning_rate
    np.testing.assert_allclose(float(schedule(0)), 1e-4, rtol=1e-6)
    np.testing.assert_allclose(float(schedule(9)), 1e-3, rtol=1e-6)
    np.testing.assert_allclose(float(schedule(500)), 1e-3, rtol=1e-6)


def test_realnvp_refuses_the_options_of_the_other_kind_of_data_and_loads_old_configs():
    """num_couplings on images (and levels/steps_per_level on vectors) used to be
    ignored silently; files written then, which hold all three, still load."""
    with pytest.raises(ValueError, match=r"`num_couplings` is the depth of RealNVP on vectors"
                                         r".*levels=\.\.\. and steps_per_level"):
        unigen.models.RealNVP((8, 8, 1), num_levels=17, num_couplings=16)
    with pytest.raises(ValueError, match=r"pass num_couplings=\.\.\. \(default 8\)"):
        unigen.models.RealNVP((4,), levels=3)
    image = unigen.models.RealNVP((8, 8, 1), num_levels=17, levels=1, steps_per_level=2,
                                  hidden=4)
    vector = unigen.models.RealNVP((4,), hidden=4)
    assert (image.num_couplings, image.levels, image.steps_per_level) == (None, 1, 2)
    assert (vector.num_couplings, vector.levels, vector.steps_per_level) == (8, None, None)
    for model in (image, vector):
        # A config as 0.2 wrote it: every option, the unused kind's at its old default.
        old = {**model.get_config(), "num_couplings": 8, "levels": 2, "steps_per_level": 4}
        old.update({k: v for k, v in model.get_config().items() if v is not None})
        again = type(model).from_config(old)
        assert (again.num_couplings, again.levels, again.steps_per_level) == (
            model.num_couplings, model.levels, model.steps_per_level)
        model._ensure_built()
        again._ensure_built()
        assert [w.shape for w in again.weights] == [w.shape for w in model.weights]
