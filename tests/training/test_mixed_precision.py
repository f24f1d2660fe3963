"""Mixed precision: 16-bit networks, float32 densities, loss scaling per optimizer.

Tiny models only: "mixed_float16" runs on the CPU too, slowly.
"""

import functools
import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.base import _policy_scope
from unigen.flows import ActNorm, AffineCoupling
from unigen.models import MLPGAN, VAE, Gaussian, RealNVP

LSO = keras.optimizers.LossScaleOptimizer
D = 4  # dimension of the toy vectors


global_policy = _policy_scope  # sets Keras's global dtype policy for a block


@pytest.fixture(autouse=True)
def _float32_after_each_test():
    yield
    assert keras.config.dtype_policy().name == "float32"


def _data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, D)) * [1.0, 2.0, 0.5, 1.0]).astype("float32")


FAMILIES = {
    "gaussian": (lambda: Gaussian((D,)), lambda m: []),
    "gan": (lambda: MLPGAN((D,), latent_dim=2, hidden_units=(8,)),
            lambda m: [m.generator, m.discriminator]),
    "vae": (lambda: VAE((D,), latent_dim=2), lambda m: [m.encoder, m.decoder]),
    "realnvp": (lambda: RealNVP((D,), num_couplings=2, hidden=8),
                lambda m: [b.network for b in m.flow.bijectors
                           if isinstance(b, AffineCoupling)]),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_fit_in_mixed_bfloat16_keeps_variables_and_densities_float32(family):
    factory, networks = FAMILIES[family]
    x = _data()
    history = unigen.fit(factory, x, epochs=1, batch_size=32, seed=0, verbose=0,
                         mixed_precision="mixed_bfloat16")
    model = history.model
    assert np.isfinite(history.history["loss"]).all()
    assert keras.config.dtype_policy().name == "float32"  # the user's policy is back
    assert model.precision == "mixed_bfloat16"
    assert model.compute_dtype == "float32"  # the model's own arithmetic
    nets = networks(model)
    assert all(net.compute_dtype == "bfloat16" for net in nets)
    assert all(net.variable_dtype == "float32" for net in nets)
    assert {v.dtype for v in model.weights} == {"float32"}
    if family == "realnvp":
        assert all(b.compute_dtype == "float32" for b in model.flow.bijectors)
    if model.has_log_prob:
        log_prob = model.log_prob(x[:8])
        assert log_prob.dtype == tf.float32
        assert np.isfinite(log_prob.numpy()).all()


def test_policy_is_restored_when_the_factory_fails():
    def broken():
        assert keras.config.dtype_policy().name == "mixed_bfloat16"
        raise RuntimeError("factory failed")

    with pytest.raises(RuntimeError, match="factory failed"):
        unigen.fit(broken, _data(), mixed_precision="mixed_bfloat16")
    assert keras.config.dtype_policy().name == "float32"


def test_bad_values_and_float32_models_are_refused_clearly():
    with pytest.raises(ValueError, match="`mixed_precision` must be None"):
        unigen.fit(lambda: Gaussian((D,)), _data(), mixed_precision="float16")
    with pytest.raises(ValueError, match=r"Pass a factory.*Gaussian\(\.\.\., "
                                         r"dtype='mixed_bfloat16'\)"):
        unigen.fit(Gaussian((D,)), _data(), mixed_precision="mixed_bfloat16")
    # The way the message offers: the model constructed in that precision trains.
    history = unigen.fit(MLPGAN((D,), latent_dim=2, hidden_units=(8,), dtype="mixed_bfloat16"),
                         _data(), epochs=1, batch_size=32, verbose=0,
                         mixed_precision="mixed_bfloat16")
    assert history.model.generator.compute_dtype == "bfloat16"


def test_a_model_built_under_the_users_global_policy_trains_mixed():
    with global_policy("mixed_bfloat16"):
        model = MLPGAN((D,), latent_dim=2, hidden_units=(8,))
    assert keras.config.dtype_policy().name == "float32"
    history = unigen.fit(model, _data(), epochs=1, batch_size=32, seed=0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()
    assert model.precision == "mixed_bfloat16"
    assert model.generator.compute_dtype == model.discriminator.compute_dtype == "bfloat16"
    assert model.sample(4, seed=0).dtype == tf.float32


def _randomised_realnvp(policy, x):
    with global_policy(policy):
        model = RealNVP((D,), num_couplings=2, hidden=16, seed=0)
    model.data_dependent_init(x)
    rng = np.random.default_rng(1)
    # Nonzero last conditioner layers, so that the networks matter.
    model.set_weights([w + 0.1 * rng.normal(size=w.shape).astype("float32")
                       if w.ndim else w for w in model.get_weights()])
    return model


def test_flow_likelihood_under_bfloat16_networks_is_computed_in_float32():
    x = _data(32)
    exact = _randomised_realnvp("float32", x)
    mixed = _randomised_realnvp("mixed_bfloat16", x)
    for a, b in zip(exact.weights, mixed.weights, strict=True):
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    lp_exact = exact.log_prob(x).numpy()
    lp_mixed = mixed.log_prob(x)
    assert lp_mixed.dtype == tf.float32
    # Only the conditioners' outputs are rounded: bfloat16 keeps 8 significant
    # bits (unit roundoff u = 2^-8 = 3.9e-3), so each shift and log-scale is off
    # by a few u relative to its size, and so is each dimension's term of
    # log p. Bound: relative error 1e-2 (2.5 u) of log p; measured here about
    # 1e-3 at most (the float32 model agrees with itself to ~1e-7).
    relative = np.abs(lp_mixed.numpy() - lp_exact) / np.abs(lp_exact)
    assert relative.max() < 1e-2
    assert relative.max() > 0  # the networks did run in bfloat16

    # The bijector arithmetic is float32: ActNorm is bit-identical to the float32
    # model, and a coupling's log-det equals sum log s of its (cast) network
    # output to float32 accuracy (bfloat16 arithmetic would miss by ~1e-3).
    h = tf.constant(x)
    for b_exact, b_mixed in zip(exact.flow.bijectors, mixed.flow.bijectors, strict=True):
        if isinstance(b_mixed, ActNorm):
            y1, ld1 = b_exact.forward_and_log_det(h)
            y2, ld2 = b_mixed.forward_and_log_det(h)
            np.testing.assert_array_equal(y1.numpy(), y2.numpy())
            np.testing.assert_array_equal(ld1.numpy(), ld2.numpy())
        else:
            out, log_det = b_mixed.forward_and_log_det(h)
            assert out.dtype == log_det.dtype == tf.float32
            raw = tf.cast(b_mixed.network(tf.gather(h, b_mixed._cond, axis=-1)), "float64")
            raw = raw[:, len(b_mixed._trans):].numpy()
            sig = 1.0 / (1.0 + np.exp(-(raw + 2.0)))
            reference = np.log(1e-3 + (1.0 - 1e-3) * sig).sum(-1)
            np.testing.assert_allclose(log_det.numpy(), reference, rtol=1e-6, atol=1e-6)
        h = b_mixed.forward(h)


def _snapshot(variables):
    return [v.numpy().copy() for v in variables]


def _changed(before, variables):
    return any(not np.array_equal(b, v.numpy()) for b, v in zip(before, variables, strict=True))


HUGE = 2.0**40  # times a loss of order 1: far beyond float16's maximum, 65504


def test_gan_overflow_is_skipped_by_each_of_its_two_optimizers():
    with global_policy("mixed_float16"):
        gan = MLPGAN((D,), latent_dim=2, hidden_units=(8,), seed=0)
    gan.compile_for_fit(learning_rate=1e-2)
    g_opt, d_opt = gan.generator_optimizer, gan.discriminator_optimizer
    assert isinstance(g_opt, LSO) and isinstance(d_opt, LSO) and g_opt is not d_opt
    assert gan.generator.compute_dtype == "float16"
    g_vars, d_vars = gan.generator.trainable_variables, gan.critic.trainable_variables
    batch = tf.constant(_data(16))

    for overflowing, healthy, bad_vars, good_vars in ((d_opt, g_opt, d_vars, g_vars),
                                                      (g_opt, d_opt, g_vars, d_vars)):
        overflowing.dynamic_scale.assign(HUGE)
        healthy.dynamic_scale.assign(2.0**8)
        steps = int(overflowing.iterations.numpy())
        bad, good = _snapshot(bad_vars), _snapshot(good_vars)
        logs = gan.train_step(batch)
        assert np.isfinite(float(logs["loss"])) and np.isfinite(float(logs["critic_loss"]))
        assert not _changed(bad, bad_vars)              # the overflowing step is skipped
        assert float(overflowing.dynamic_scale.numpy()) == HUGE / 2
        assert int(overflowing.iterations.numpy()) == steps
        assert _changed(good, good_vars)                # the other network still trains
        assert float(healthy.dynamic_scale.numpy()) == 2.0**8

    # A finite step afterwards changes both networks.
    d_opt.dynamic_scale.assign(2.0**8)
    g_opt.dynamic_scale.assign(2.0**8)
    g_before, d_before = _snapshot(g_vars), _snapshot(d_vars)
    gan.train_step(batch)
    assert _changed(g_before, g_vars) and _changed(d_before, d_vars)


@pytest.mark.parametrize("family", ["realnvp", "vae"])
def test_single_optimizer_overflow_is_skipped(family):
    x = _data(16)
    with global_policy("mixed_float16"):
        model = FAMILIES[family][0]()
    model._ensure_built()
    model.data_dependent_init(x)
    model.compile_for_fit(learning_rate=1e-2)
    optimizer = model.optimizer
    assert isinstance(optimizer, LSO)
    optimizer.build(model.trainable_variables)
    variables = model.trainable_variables
    optimizer.dynamic_scale.assign(HUGE)
    before = _snapshot(variables)
    logs = model.train_step(tf.constant(x))
    assert np.isfinite(float(logs["loss"]))
    assert not _changed(before, variables)
    assert float(optimizer.dynamic_scale.numpy()) == HUGE / 2
    optimizer.dynamic_scale.assign(2.0**8)
    model.train_step(tf.constant(x))
    assert _changed(before, variables)


SECOND_OPTIMIZER = {
    "flow_gan": (lambda: unigen.models.FlowGAN(RealNVP((D,), num_couplings=2, hidden=8),
                                               divergence="js", discriminator_units=8),
                 "discriminator_optimizer", lambda m: m.flow_model.flow.trainable_variables),
    "adversarial_vae": (lambda: VAE((D,), latent_dim=2, divergence="js"),
                        "discriminator_optimizer", lambda m: m._autoencoder_variables()),
}


@pytest.mark.parametrize("family", sorted(SECOND_OPTIMIZER))
def test_second_optimizer_has_its_own_loss_scale_and_skips_overflow(family):
    factory, attribute, main_variables = SECOND_OPTIMIZER[family]
    x = _data(16)
    with global_policy("mixed_float16"):
        model = factory()
    model._ensure_built()
    model.data_dependent_init(x)
    model.compile_for_fit(learning_rate=1e-2)
    critic_optimizer = getattr(model, attribute)
    assert isinstance(model.optimizer, LSO) and isinstance(critic_optimizer, LSO)
    assert model.discriminator.compute_dtype == "float16"
    critic_optimizer.dynamic_scale.assign(HUGE)
    critic_vars, main_vars = model.discriminator.trainable_variables, main_variables(model)
    critic_before, main_before = _snapshot(critic_vars), _snapshot(main_vars)
    logs = model.train_step(tf.constant(x))
    assert np.isfinite(float(logs["loss"]))
    assert not _changed(critic_before, critic_vars)
    assert float(critic_optimizer.dynamic_scale.numpy()) == HUGE / 2
    assert _changed(main_before, main_vars)


def test_mixed_float16_gan_keras_round_trip_restores_two_loss_scale_optimizers(tmp_path):
    history = unigen.fit(lambda: MLPGAN((D,), latent_dim=2, hidden_units=(8,)), _data(),
                         epochs=1, batch_size=32, seed=0, verbose=0,
                         mixed_precision="mixed_float16")
    gan = history.model
    path = str(tmp_path / "gan.keras")
    gan.save(path)
    again = unigen.load(path)
    assert keras.config.dtype_policy().name == "float32"
    assert again.precision == "mixed_float16"
    assert again.generator.compute_dtype == again.discriminator.compute_dtype == "float16"
    for old, new in ((gan.generator_optimizer, again.generator_optimizer),
                     (gan.discriminator_optimizer, again.discriminator_optimizer)):
        assert isinstance(new, LSO)
        assert float(new.dynamic_scale.numpy()) == float(old.dynamic_scale.numpy())
    assert again.generator_optimizer is not again.discriminator_optimizer
    np.testing.assert_array_equal(gan.sample(8, seed=3).numpy(), again.sample(8, seed=3).numpy())


def test_flow_round_trip_and_resume_keep_the_precision(tmp_path):
    out = str(tmp_path / "run")

    def factory():
        return RealNVP((D,), num_couplings=2, hidden=8)

    history = unigen.fit(factory, _data(), epochs=1, batch_size=32, seed=0, verbose=0,
                         output_dir=out, mixed_precision="mixed_bfloat16", sample_every_epoch=0)
    with open(os.path.join(out, "config.json")) as f:
        assert json.load(f)["precision"] == "mixed_bfloat16"
    again = unigen.load(os.path.join(out, "model.keras"))
    assert again.precision == "mixed_bfloat16"
    assert again.flow.bijectors[1].network.compute_dtype == "bfloat16"
    np.testing.assert_array_equal(history.model.log_prob(_data()[:8]).numpy(),
                                  again.log_prob(_data()[:8]).numpy())
    with pytest.raises(ValueError, match="precision"):
        unigen.fit(factory, _data(), epochs=2, batch_size=32, seed=0, verbose=0,
                   output_dir=out)


def test_variational_dequantizer_in_mixed_bfloat16_keeps_log_q_float32():
    x = np.random.default_rng(0).integers(0, 4, size=(64, D)).astype("float32")

    def factory():
        return RealNVP((D,), num_couplings=2, hidden=8, num_levels=4,
                       dequantization="variational", dequantizer_couplings=2,
                       dequantizer_hidden=8)

    history = unigen.fit(factory, x, epochs=1, batch_size=32, seed=0, verbose=0,
                         mixed_precision="mixed_bfloat16")
    model = history.model
    assert np.isfinite(history.history["loss"]).all()
    deq = model.dequantizer
    assert deq.compute_dtype == "float32"
    assert all(net.compute_dtype == "bfloat16" for net in [deq.features, *deq.couplings])
    u, log_q = deq.sample_and_log_prob(x[:8], np.zeros_like(x[:8]))
    assert u.dtype == tf.float32 and log_q.dtype == tf.float32
    log_prob = model.log_prob(x[:8], num_samples=4, seed=0)
    assert log_prob.dtype == tf.float32
    assert np.isfinite(log_prob.numpy()).all()


def _network_dtypes(model):
    """The compute dtype of every sub-layer that has weights, in traversal order."""
    model._ensure_built()
    return [(type(layer).__name__, layer.compute_dtype)
            for layer in model._flatten_layers(include_self=False, recursive=True)
            if layer._trainable_variables]


def _contract_names():
    from tests.models import contract_models

    return sorted(set(contract_models.CONFIGS) - {"gaussian"})  # the Gaussian has no network


@pytest.mark.parametrize("name", _contract_names())
def test_dtype_argument_sets_the_networks_precision_as_the_global_policy_does(name):
    """``Model(..., dtype=p)`` builds every network in p, like constructing under p.

    The DCGAN's networks, created in its constructor, used to stay float32 while
    ``precision`` said "mixed_bfloat16" (only networks created at build time took it).
    """
    from tests.models import contract_models

    by_argument = contract_models.build(name, dtype="mixed_bfloat16")
    with global_policy("mixed_bfloat16"):
        by_policy = contract_models.build(name)
    assert by_argument.precision == by_policy.precision == "mixed_bfloat16"
    dtypes = _network_dtypes(by_argument)
    assert dtypes == _network_dtypes(by_policy)
    assert any(d == "bfloat16" for _, d in dtypes)  # a network computes in bfloat16
    assert keras.config.dtype_policy().name == "float32"


# Layers with weights that compute in float32 by design: bijectors are density
# arithmetic (ActNorm's scale, the 1x1 convolution's log-determinant).
FLOAT32_BY_DESIGN = {"ActNorm", "InvertibleConv1x1"}


def _check_in_domain(model, samples):
    from unigen.models.sequence import SequenceModel
    from unigen.models.sequence._gans import _SequenceGAN

    tokens = isinstance(model, SequenceModel | _SequenceGAN)  # int32 tokens, as in float32
    assert samples.dtype == (tf.int32 if tokens else tf.float32)
    values = samples.numpy()
    assert np.isfinite(values).all()
    if model.num_levels is not None:
        assert np.array_equal(values, np.round(values))
        assert values.min() >= 0 and values.max() <= model.num_levels - 1


def _contract_configs_not_in_families():
    from tests.models import contract_models

    # MLPGAN (gan_js), VAE (vae_kl) and RealNVP: the same paths as FAMILIES above.
    return sorted(set(contract_models.CONFIGS) - {"gan_js", "vae_kl", "realnvp"})


@pytest.mark.parametrize("name", _contract_configs_not_in_families())
def test_every_contract_model_trains_in_mixed_bfloat16(name):
    """1 epoch of 2 steps: 16-bit networks, float32 variables, log_prob and samples."""
    from tests.models import contract_models as cm

    data = cm.data(name)
    history = unigen.fit(lambda: cm.build(name), data, epochs=1, batch_size=32, seed=0,
                         verbose=0, mixed_precision="mixed_bfloat16")
    model = history.model
    assert all(np.isfinite(values).all() for values in history.history.values())
    assert model.precision == "mixed_bfloat16"
    networks = [d for kind, d in _network_dtypes(model) if kind not in FLOAT32_BY_DESIGN]
    assert set(networks) == ({"bfloat16"} if name != "gaussian" else set())
    # Counters (an image pool's fill, ProGAN's stage) are int32, in float32 too.
    assert {v.dtype for v in model.weights if "int" not in v.dtype} == {"float32"}
    batch = cm.data(name, 8)
    if model.has_log_prob:
        options = cm.options(model, "log_prob")
        if isinstance(batch, tuple):
            options["labels"] = batch[1]
        log_prob = model.log_prob(cm.features(batch), **options)
        assert log_prob.dtype == tf.float32
        assert np.isfinite(log_prob.numpy()).all()
    _check_in_domain(model, model.sample(8, seed=1))


def _optimizers(model):
    return [model.optimizer, *(critic.optimizer for critic in model.critics)]


@pytest.mark.parametrize("name, policy", [
    ("glow", "mixed_bfloat16"), ("ddpm_vlb_learned", "mixed_bfloat16"),
    ("dcgan_conditional", "mixed_float16"), ("glow", "mixed_float16"),
    ("vae_adversarial", "mixed_float16"), ("ddpm_conditional", "mixed_float16"),
    ("cyclegan", "mixed_float16"), ("seqgan", "mixed_float16")])
def test_mixed_keras_round_trip_keeps_precision_loss_scales_log_prob_and_samples(
        name, policy, tmp_path):
    """Every optimizer (a GAN's two, CycleGAN's three) is loss scaled under float16."""
    from tests.models import contract_models as cm

    history = unigen.fit(lambda: cm.build(name), cm.data(name), epochs=1, batch_size=32,
                         seed=0, verbose=0, mixed_precision=policy)
    model = history.model
    assert all(np.isfinite(values).all() for values in history.history.values())
    scaled = policy == "mixed_float16"
    assert len(_optimizers(model)) == 1 + len(model.critics)
    assert all(isinstance(o, LSO) == scaled for o in _optimizers(model))
    path = str(tmp_path / "model.keras")
    model.save(path)
    again = unigen.load(path)
    assert again.precision == policy
    assert _network_dtypes(again) == _network_dtypes(model)
    assert all(isinstance(o, LSO) == scaled for o in _optimizers(again))
    for old, new in zip(_optimizers(model), _optimizers(again), strict=True):
        if scaled:
            assert float(new.dynamic_scale.numpy()) == float(old.dynamic_scale.numpy())
    batch = cm.data(name, 8)
    if model.has_log_prob:
        options = cm.options(model, "log_prob")
        if isinstance(batch, tuple):
            options["labels"] = batch[1]
        x = cm.features(batch)
        np.testing.assert_array_equal(again.log_prob(x, **options).numpy(),
                                      model.log_prob(x, **options).numpy())
    np.testing.assert_array_equal(again.sample(4, seed=3).numpy(),
                                  model.sample(4, seed=3).numpy())


def test_progan_selects_and_fades_stages_in_16_bit_networks():
    """The stage one-hot and the fade-in weight alpha (float32 variables) meet the
    networks' 16-bit features in the same product: a dtype TypeError before they
    were cast to the features' dtype. Mid fade-in, the bfloat16 networks agree
    with the float32 ones (same weights) to bfloat16 accuracy."""
    def progan(policy):
        with global_policy(policy):
            model = unigen.models.ProGAN(image_shape=(8, 8, 1), latent_dim=4, base_filters=2)
        model._ensure_built()
        return model

    exact, mixed = progan("float32"), progan("mixed_bfloat16")
    mixed.set_weights(exact.get_weights())
    z = tf.random.stateless_normal([8, 4], seed=[0, 1])
    for stage, alpha in ((0, 1.0), (1, 0.5), (2, 0.25)):
        exact.set_growth(stage, alpha)
        mixed.set_growth(stage, alpha)
        images = exact.generator(z)
        half = mixed.generator(z)
        assert half.dtype == tf.bfloat16
        error = tf.cast(half, "float32").numpy() - images.numpy()
        # Relative RMS error: measured 0.6 %, 1.0 %, 1.4 % (bfloat16 rounding through
        # up to 3 blocks of 2-channel pixel norms); a wrong selection or blend is O(1).
        assert np.sqrt(np.mean(error**2) / np.mean(images.numpy() ** 2)) < 5e-2
        critic = exact.discriminator(images)
        half_critic = tf.cast(mixed.discriminator(images), "float32").numpy()
        assert np.abs(half_critic - critic.numpy()).max() <= 3e-2 * np.abs(critic).max() + 1e-3
    assert mixed.sample(4, seed=0).dtype == tf.float32


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
@pytest.mark.parametrize("layer", ["timestep", "fourier"])
def test_diffusion_embeddings_read_their_inputs_in_float32(layer, policy):
    """The timestep t and the Fourier features' x_t enter sin/cos in float32.

    Keras casts a 16-bit layer's inputs to 16 bits: bfloat16 rounded t = 998 and
    999 both to 1000 (float16 merges steps above 2048), and sin(f x_t) at
    f = 2 pi (L - 1) lost x_t's position inside its level. Only the outputs,
    in [-1, 1], are rounded now: to 2^-9 (bfloat16) or 2^-12 (float16).
    """
    from unigen.models.diffusion._networks import FourierFeatures, SinusoidalEmbedding

    if layer == "timestep":
        inputs = tf.constant([997.0, 998.0, 999.0, 2049.0, 2050.0])
        make = functools.partial(SinusoidalEmbedding, 16)
    else:
        inputs = tf.constant(np.linspace(-1.0, 1.0, 37, dtype="float32")[:, None] + 1e-3)
        make = functools.partial(FourierFeatures, [np.pi * 8, np.pi * 32])
    exact = make(dtype="float32")(inputs).numpy()
    half = make(dtype=policy)(inputs)
    assert half.dtype == policy.removeprefix("mixed_")
    np.testing.assert_allclose(tf.cast(half, "float32").numpy(), exact, atol=4e-3)


_REPLICA_JOB = """
import json, sys
import numpy as np
import unigen
devices = unigen.split_cpu(2)
import tensorflow as tf
x = unigen.datasets.as_numpy("ring8", "train")[:128]
x = np.asarray(x[0] if isinstance(x, tuple) else x, np.float32)
out = {}
for policy in ("mixed_float16", "mixed_bfloat16"):
    runs = []
    for strategy in (None, tf.distribute.MirroredStrategy(devices)):
        h = unigen.fit(lambda: unigen.models.MLPGAN((2,), latent_dim=2, hidden_units=(8,)),
                       x, epochs=2, batch_size=32, seed=0, verbose=0, strategy=strategy,
                       mixed_precision=policy)
        m = h.model
        scales = [float(o.dynamic_scale.numpy()) for o in (m.optimizer, m.discriminator_optimizer)
                  if hasattr(o, "dynamic_scale")]
        runs.append({"loss": h.history["loss"], "scales": scales,
                     "weights": [np.asarray(w).ravel().tolist() for w in m.get_weights()],
                     "generator": m.generator.compute_dtype})
    out[policy] = runs
start = unigen.models.MLPGAN((2,), latent_dim=2, hidden_units=(8,))
start._ensure_built()
out["initial"] = [np.asarray(w).ravel().tolist() for w in start.get_weights()]
print(json.dumps(out))
"""


def test_two_replicas_train_like_one_device_in_mixed_precision():
    """A GAN (two optimizers, two loss scales under float16) on 2 CPU replicas with 16-bit
    networks: the same losses, loss scales and weights as one device, to 16-bit rounding."""
    from conftest import run_python

    proc = run_python(["-c", _REPLICA_JOB], timeout=600)
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    initial = result.pop("initial")
    tolerance = {"mixed_float16": 1e-4, "mixed_bfloat16": 1e-3}  # measured 1.4e-5, 2.2e-4
    for policy, (one, two) in result.items():
        assert one["generator"] == two["generator"] == policy.split("_")[1]
        assert np.isfinite(one["loss"]).all() and np.isfinite(two["loss"]).all()
        np.testing.assert_allclose(two["loss"], one["loss"], rtol=2e-2, err_msg=policy)
        assert one["scales"] == two["scales"]  # both float16 scales, none for bfloat16
        assert len(one["scales"]) == (2 if policy == "mixed_float16" else 0)
        moved = max(np.max(np.abs(np.subtract(a, w0)))
                    for a, w0 in zip(one["weights"], initial, strict=True))
        assert moved > 5 * tolerance[policy]  # training moved the weights beyond it
        for a, b in zip(one["weights"], two["weights"], strict=True):
            np.testing.assert_allclose(b, a, rtol=0, atol=tolerance[policy], err_msg=policy)
