"""Maths of unigen.flows: invertibility, log-dets vs autodiff, TFP oracles."""

import keras
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_probability as tfp

import unigen.flows as uf

tfb = tfp.bijectors


def _perturb(layer, seed=0, scale=0.3):
    """Random non-trivial weights (zero-initialised last layers made non-zero)."""
    rng = np.random.default_rng(seed)
    for v in layer.trainable_variables:
        v.assign(v.numpy() + scale * rng.standard_normal(v.shape).astype(v.dtype))


def _image_layers():
    return {
        "actnorm": uf.ActNorm(),
        "conv1x1": uf.InvertibleConv1x1(seed=3),
        "affine": uf.AffineCoupling(8),
        "affine_mask": uf.AffineCoupling(8, mask=[0, 1, 1, 0]),
        "affine_last": uf.AffineCoupling(8, mask=[0, 0, 1, 1]),
        "additive": uf.AdditiveCoupling(8),
        "squeeze": uf.Squeeze(),
        "split": uf.SplitPrior(),
        "reverse": uf.Reverse(),
        "permute": uf.Permute.random(4, seed=1),
        "chain": uf.Chain([uf.ActNorm(), uf.InvertibleConv1x1(), uf.AffineCoupling(8)]),
        "multiscale": uf.MultiScale(levels=2, steps_per_level=2, hidden=8),
    }


def _vector_layers():
    return {
        "actnorm": uf.ActNorm(),
        "conv1x1": uf.InvertibleConv1x1(seed=1),
        "affine": uf.AffineCoupling(8, mask=[1, 0, 1]),
        "additive": uf.AdditiveCoupling(8),
        "maf": uf.MaskedAutoregressive([16, 16]),
        "split": uf.SplitPrior(),
        "chain": uf.Chain([uf.ActNorm(), uf.MaskedAutoregressive([8]), uf.Reverse()]),
    }


def _build_perturbed(layer, x, seed=0):
    layer.forward_and_log_det(x)  # builds (and initialises ActNorm on x)
    deep = isinstance(layer, uf.Chain | uf.MultiScale)
    _perturb(layer, seed, scale=0.05 if deep else 0.2)
    return layer


def _check_round_trip(layer, x):
    y, ld = layer.forward_and_log_det(x)
    x2, ild = layer.inverse_and_log_det(y)
    assert ld.shape == (x.shape[0],)
    for t in (y, ld, x2, ild):
        assert np.all(np.isfinite(t.numpy()))
    np.testing.assert_allclose(x2, x, atol=1e-4)
    np.testing.assert_allclose(ld, -ild, atol=1e-4, rtol=1e-5)
    z = tf.random.stateless_normal(y.shape, seed=[1, 2])
    np.testing.assert_allclose(layer.forward(layer.inverse(z)), z, atol=1e-4)


@pytest.mark.parametrize("name", sorted(_image_layers()))
def test_image_layers_invert(name):
    x = tf.random.stateless_normal([3, 4, 4, 4], seed=[0, 1])
    layer = _build_perturbed(_image_layers()[name], x)
    _check_round_trip(layer, x)
    _check_round_trip(layer, 2.0 * x)  # far from the initialisation batch


@pytest.mark.parametrize("name", sorted(_vector_layers()))
def test_vector_layers_invert(name):
    x = tf.random.stateless_normal([5, 3], seed=[0, 2])
    layer = _build_perturbed(_vector_layers()[name], x)
    _check_round_trip(layer, x)
    _check_round_trip(layer, 2.0 * x)


def test_logit_transform_invert_near_domain_edges():
    layer = uf.LogitTransform(num_levels=17, alpha=0.05)
    y = tf.constant([[0.0, 1e-6, 8.5], [16.999, 17.0 - 1e-5, 0.5]])
    _check_round_trip_no_z(layer, y)
    glow_affine = uf.LogitTransform(num_levels=256, alpha=None)
    _check_round_trip_no_z(glow_affine, y * 15.0)


def _check_round_trip_no_z(layer, x):
    y, ld = layer.forward_and_log_det(x)
    x2, ild = layer.inverse_and_log_det(y)
    for t in (y, ld, x2, ild):
        assert np.all(np.isfinite(t.numpy()))
    np.testing.assert_allclose(x2, x, atol=2e-3 * 17)
    np.testing.assert_allclose(ld, -ild, rtol=1e-4)


def test_logit_transform_log_det_matches_autodiff(float64):
    y = tf.constant([[0.0, 1e-6, 8.5], [16.999, 17.0 - 1e-5, 0.5]], "float64")
    _check_log_det_autodiff(uf.LogitTransform(num_levels=17, alpha=0.05), y)
    _check_log_det_autodiff(uf.LogitTransform(num_levels=17, alpha=None), y)


@pytest.fixture
def float64():
    old, policy = keras.config.floatx(), keras.config.dtype_policy()
    keras.config.set_floatx("float64")
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_floatx(old)
    keras.config.set_dtype_policy(policy)


def _check_log_det_autodiff(layer, x, dtype="float64"):
    """log|det J| of the flattened map against slogdet of the autodiff Jacobian."""
    x = tf.cast(x, dtype)
    shape = x.shape
    flat = tf.reshape(x, [shape[0], -1])
    with tf.GradientTape() as tape:
        tape.watch(flat)
        y, log_det = layer.forward_and_log_det(tf.reshape(flat, shape))
        y_flat = tf.reshape(y, [shape[0], -1])
    jac = tape.batch_jacobian(y_flat, flat)
    _, expected = np.linalg.slogdet(jac.numpy())
    np.testing.assert_allclose(log_det.numpy(), expected, rtol=1e-4, atol=1e-8)


@pytest.mark.parametrize("name", sorted(set(_image_layers()) - {"multiscale"}))
def test_image_log_det_matches_autodiff(name, float64):
    x = tf.random.stateless_normal([2, 2, 2, 4], seed=[3, 4], dtype="float64")
    layer = _build_perturbed(_image_layers()[name], x)
    _check_log_det_autodiff(layer, 1.5 * x)


def test_multiscale_log_det_matches_autodiff(float64):
    x = tf.random.stateless_normal([2, 4, 4, 1], seed=[3, 5], dtype="float64")
    layer = _build_perturbed(uf.MultiScale(levels=2, steps_per_level=1, hidden=4), x)
    _check_log_det_autodiff(layer, x)


@pytest.mark.parametrize("name", sorted(_vector_layers()))
def test_vector_log_det_matches_autodiff(name, float64):
    x = tf.random.stateless_normal([4, 3], seed=[3, 6], dtype="float64")
    layer = _build_perturbed(_vector_layers()[name], x)
    _check_log_det_autodiff(layer, 1.5 * x)


def test_float64_layers_really_compute_in_float64(float64):
    layer = _build_perturbed(uf.AffineCoupling(4, mask=[1, 0]),
                             tf.zeros([1, 2], "float64"))
    y, ld = layer.forward_and_log_det(tf.ones([1, 2], "float64"))
    assert y.dtype == tf.float64 and ld.dtype == tf.float64


def test_made_is_autoregressive():
    layer = uf.MADE([16, 16], params_per_dim=2)
    x = tf.random.stateless_normal([1, 5], seed=[0, 7])
    layer.build(x.shape)
    _perturb(layer)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
    jac = tape.jacobian(out, x)[0, :, :, 0, :].numpy()  # [D, params, D]
    for d in range(5):
        assert np.all(jac[d, :, d:] == 0.0)  # output d ignores x_d, x_{d+1}, ...
    assert np.any(jac[4, :, :4] != 0.0)


def test_actnorm_initialises_to_zero_mean_unit_std():
    x = 3.0 + 2.0 * tf.random.stateless_normal([16, 4, 4, 3], seed=[1, 1])
    x = x * tf.constant([1.0, 5.0, 0.1])
    layer = uf.ActNorm()
    y = layer.forward(x)
    mean, var = tf.nn.moments(y, axes=[0, 1, 2])
    np.testing.assert_allclose(mean, 0.0, atol=1e-5)
    np.testing.assert_allclose(np.sqrt(var), 1.0, atol=1e-4)
    assert float(layer.initialized.numpy()) == 1.0
    y2 = layer.forward(x * 10.0)  # no second initialisation
    np.testing.assert_allclose(y2, (x * 10.0 + layer.bias) * tf.exp(layer.log_scale), rtol=1e-6)


def test_conv1x1_matches_tfp_scale_matvec_lu():
    layer = _build_perturbed(uf.InvertibleConv1x1(seed=2),
                             tf.zeros([1, 3, 3, 4]))
    w = layer.weight_matrix()
    lower_upper, perm = tf.linalg.lu(w)
    oracle = tfb.ScaleMatvecLU(lower_upper, perm, validate_args=True)
    x = tf.random.stateless_normal([2, 3, 3, 4], seed=[5, 5])
    y, ld = layer.forward_and_log_det(x)
    np.testing.assert_allclose(y, oracle.forward(x), atol=1e-5)
    # TFP returns the per-position log-det (a scalar here); 9 positions per image.
    expected = 9.0 * oracle.forward_log_det_jacobian(x, event_ndims=1) * np.ones(2)
    np.testing.assert_allclose(ld, expected, rtol=1e-5)


def test_affine_coupling_matches_tfp_real_nvp():
    layer = _build_perturbed(uf.AffineCoupling(16), tf.zeros([1, 6]))

    def shift_and_log_scale(x_a, output_units):
        shift, scale = layer._params(x_a)
        assert output_units == 3
        return shift, tf.math.log(scale)

    oracle = tfb.RealNVP(num_masked=3, shift_and_log_scale_fn=shift_and_log_scale)
    x = tf.random.stateless_normal([7, 6], seed=[6, 6])
    y, ld = layer.forward_and_log_det(x)
    np.testing.assert_allclose(y, oracle.forward(x), atol=1e-6)
    np.testing.assert_allclose(ld, oracle.forward_log_det_jacobian(x, event_ndims=1),
                               rtol=1e-5)
    np.testing.assert_allclose(layer.inverse(y), oracle.inverse(y), atol=1e-5)


@pytest.mark.parametrize("name", ["actnorm", "conv1x1", "affine", "additive", "split",
                                  "chain", "multiscale"])
def test_every_variable_gets_a_finite_gradient(name):
    x = tf.random.stateless_normal([3, 4, 4, 4], seed=[2, 2])
    layer = _build_perturbed(_image_layers()[name], x)
    with tf.GradientTape() as tape:
        y, ld = layer.forward_and_log_det(x)
        loss = tf.reduce_mean(tf.reduce_sum(tf.square(tf.reshape(y, [3, -1])), 1) - ld)
    grads = tape.gradient(loss, layer.trainable_variables)
    assert layer.trainable_variables
    for v, g in zip(layer.trainable_variables, grads, strict=True):
        assert g is not None, v.path
        assert np.all(np.isfinite(g.numpy())) and np.any(g.numpy() != 0), v.path


def test_number_of_trainable_variables():
    x = tf.zeros([1, 8, 8, 1])
    ms = uf.MultiScale(levels=3, steps_per_level=2, hidden=4)
    ms.forward(x)
    # per step: ActNorm 2 + 1x1 conv (L, U, log_s) 3 + coupling 3 convs x 2 = 11;
    # per split (all levels but the last): one conv, 2.
    assert len(ms.trainable_variables) == 3 * 2 * 11 + 2 * 2
    assert len(uf.MaskedAutoregressive([8, 8]).__class__([8, 8]).made.hidden_units) == 2


@pytest.mark.parametrize("name", ["chain", "multiscale", "affine_mask", "permute"])
def test_layer_config_round_trip(name):
    x = tf.random.stateless_normal([2, 4, 4, 4], seed=[9, 9])
    layer = _build_perturbed(_image_layers()[name], x)
    clone = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(layer))
    clone.forward(x)
    clone.set_weights(layer.get_weights())
    np.testing.assert_allclose(clone.forward(x), layer.forward(x), atol=1e-6)


def test_bad_arguments_raise_clear_errors():
    with pytest.raises(ValueError, match="permutation"):
        uf.Permute([0, 0, 1])
    with pytest.raises(ValueError, match="mask"):
        uf.AffineCoupling(4, mask=[1, 1]).forward(tf.zeros([1, 2]))
    with pytest.raises(ValueError, match="even"):
        uf.Squeeze().forward(tf.zeros([1, 3, 4, 1]))
    with pytest.raises(ValueError, match="alpha"):
        uf.LogitTransform(17, alpha=0.7)
    with pytest.raises(TypeError, match="Bijector"):
        uf.Chain([keras.layers.Dense(2)])


# ---------------------------------------------------------- fast formulation (#18)
def _legacy():
    from benchmarks.speed.legacy_glow import use_legacy_ops

    return use_legacy_ops


@pytest.mark.parametrize("name", ["multiscale", "multiscale_additive", "affine", "affine_mask",
                                  "affine_last", "additive", "conv1x1", "actnorm", "split"])
def test_fast_ops_equal_the_former_formulation(name):
    """One GEMM for the 1x1 convolution and split/join by slicing compute the
    same function as the former matvec / tf.gather formulation, to 1e-5."""
    layers = {**_image_layers(),
              "multiscale_additive": uf.MultiScale(levels=2, steps_per_level=2, hidden=8,
                                                   coupling="additive")}
    x = tf.random.stateless_normal([3, 4, 4, 4], seed=[7, 1])
    layer = _build_perturbed(layers[name], x)
    y, ld = layer.forward_and_log_det(x)
    x_back, inverse_ld = layer.inverse_and_log_det(y)
    _legacy()(layer)
    assert layer._legacy_layers >= 1
    y_old, ld_old = layer.forward_and_log_det(x)
    x_back_old, inverse_ld_old = layer.inverse_and_log_det(y_old)
    np.testing.assert_allclose(y, y_old, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(ld, ld_old, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(x_back, x_back_old, atol=1e-5, rtol=1e-5)
    np.testing.assert_allclose(inverse_ld, inverse_ld_old, atol=1e-5, rtol=1e-5)


def test_glow_log_prob_equals_the_former_formulation():
    import unigen

    data = unigen.datasets.as_numpy("digits", "train")[:32]

    def glow():
        model = unigen.models.Glow(image_shape=(8, 8, 1), levels=2, steps_per_level=2,
                                   hidden_channels=8, num_levels=17, seed=3)
        model.data_dependent_init(tf.cast(data, "float32"))
        _perturb(model.flow, seed=5, scale=0.05)
        return model

    new, old = glow(), _legacy()(glow())
    assert old._legacy_layers == 14  # MultiScale, 2 x 2 x 3 step layers, 1 split
    np.testing.assert_allclose(new.log_prob(data), old.log_prob(data), rtol=1e-5, atol=1e-5)


def test_glow_graph_has_no_tiny_matmuls_and_no_gathers():
    """The 1x1 convolution is one MatMul (no batched matvec) and the couplings
    split by slicing (no GatherV2), forward and backward."""
    layer = uf.MultiScale(levels=2, steps_per_level=2, hidden=8)
    x = tf.zeros([2, 8, 8, 1])
    layer.forward(x)

    @tf.function
    def loss_and_grads(x):
        with tf.GradientTape() as tape:
            y, ld = layer.forward_and_log_det(x)
            loss = tf.reduce_sum(tf.square(y)) - tf.reduce_sum(ld)
        return tape.gradient(loss, layer.trainable_variables)

    graph = loss_and_grads.get_concrete_function(tf.TensorSpec([2, 8, 8, 1])).graph
    ops = {op.type for op in graph.get_operations()}
    for func in graph.as_graph_def().library.function:
        ops |= {node.op for node in func.node_def}
    assert "MatMul" in ops
    assert not ops & {"BatchMatMulV2", "BatchMatMulV3", "GatherV2", "UnsortedSegmentSum"}, ops


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_coupling_network_runs_its_1x1_convolution_as_one_gemm(policy):
    """`_run_network` (the hidden 1x1 Conv2D as reshape + MatMul) gives Keras's
    own call's outputs and gradients, under full and mixed precision, and its
    graph has one Conv2D fewer (two 3x3, no 1x1)."""
    from unigen.flows._layers import _network
    from unigen.flows._ops import _run_network

    previous = keras.config.dtype_policy()
    keras.config.set_dtype_policy(policy)
    try:
        network = _network(4, 16, 6, "conditioner", seed=1)
        network.build((None, 5, 5, 3))
        _perturb(network, seed=2, scale=0.1)
        x = tf.random.stateless_normal([4, 5, 5, 3], seed=[2, 3])

        def outputs_and_grads(fn):
            with tf.GradientTape() as tape:
                tape.watch(x)
                y = tf.cast(fn(x), "float32")
                loss = tf.reduce_sum(tf.square(y))
            return [y, *tape.gradient(loss, [x, *network.trainable_variables])]

        ours = outputs_and_grads(lambda t: _run_network(network, t))
        keras_call = outputs_and_grads(network)
        tol = 1e-5 if policy == "float32" else 2e-2
        for a, b in zip(ours, keras_call, strict=True):
            np.testing.assert_allclose(a, b, rtol=tol, atol=tol * float(np.abs(b).max()))
        graph = tf.function(lambda t: _run_network(network, t)).get_concrete_function(
            tf.TensorSpec([4, 5, 5, 3])).graph
        kinds = [op.type for op in graph.get_operations()]
        assert kinds.count("Conv2D") == 2 and "MatMul" in kinds
    finally:
        keras.config.set_dtype_policy(previous)


def test_coupling_jacobian_is_triangular_and_its_log_det_is_the_diagonal(float64):
    # The notes: choose the Jacobian triangular so that log|det| = sum log|J_dd|.
    # An affine coupling on 4 variables (mask [1, 1, 0, 0]: the first two
    # condition the last two): dy_a / dx_b = 0, dy_a / dx_a = I, and the
    # transformed block is diagonal.
    layer = uf.AffineCoupling(8, mask=[1, 1, 0, 0])
    x = tf.random.stateless_normal([3, 4], seed=[7, 1], dtype="float64")
    _build_perturbed(layer, x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        y, log_det = layer.forward_and_log_det(x)
    jac = tape.batch_jacobian(y, x).numpy()
    kept, moved = [0, 1], [2, 3]
    np.testing.assert_allclose(jac[:, kept][:, :, kept], np.broadcast_to(np.eye(2), (3, 2, 2)))
    np.testing.assert_allclose(jac[:, kept][:, :, moved], 0.0)
    block = jac[:, moved][:, :, moved]
    np.testing.assert_allclose(block - np.stack([np.diag(np.diag(b)) for b in block]), 0.0)
    assert np.abs(jac[:, moved][:, :, kept]).max() > 1e-3  # the coupling is not trivial
    diag = np.log(np.abs(np.diagonal(jac, axis1=1, axis2=2))).sum(1)
    np.testing.assert_allclose(log_det.numpy(), diag, rtol=1e-10)
