"""`unigen.fit` in one process: data forms, checks, run directory, divergence."""

import json
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import DataError, TrainingDivergedError


def _gauss():
    return unigen.models.Gaussian((8, 8, 1), num_levels=17)


def _digits():
    return unigen.datasets.as_numpy("digits", "train")


@pytest.mark.parametrize("form", ["name", "array", "pair", "unbatched", "batched"])
def test_fit_accepts_every_data_form(form):
    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    data = {
        "name": "digits",
        "array": x,
        "pair": (x, y),
        "unbatched": tf.data.Dataset.from_tensor_slices(x),
        "batched": tf.data.Dataset.from_tensor_slices((x, y)).batch(50),
    }[form]
    history = unigen.fit(_gauss(), data, epochs=2, batch_size=100, seed=0, verbose=0)
    assert isinstance(history, keras.callbacks.History)
    assert len(history.history["loss"]) == 2
    assert history.history["loss"][1] < history.history["loss"][0]
    assert history.epoch == [0, 1]


@pytest.mark.parametrize("shuffle", [True, False])
def test_in_memory_batches_equal_the_element_wise_batches(shuffle):
    """Shuffled indices + tf.gather give the batches of the shuffled examples, every epoch."""
    from unigen.training import _data

    x, y = unigen.datasets.as_numpy("digits", "train", with_labels=True)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    common = dict(batch_size=64, steps=len(x) // 64, first_epoch=1, epochs=4, seed=3,
                  shuffle=shuffle, buffer_size=len(x))
    fast = list(_data.training_batches(ds, arrays=_data.in_memory((x, y)), **common))
    slow = list(_data.training_batches(ds, **common))
    assert len(fast) == len(slow) == 3 * (len(x) // 64)
    for (xf, yf), (xs, ys) in zip(fast, slow, strict=True):
        assert xf.dtype == tf.float32 and yf.dtype == ys.dtype
        np.testing.assert_array_equal(xf.numpy(), xs.numpy())
        np.testing.assert_array_equal(yf.numpy(), ys.numpy())
    epoch = len(x) // 64
    first, second = (np.concatenate([b[1].numpy() for b in fast[i * epoch:(i + 1) * epoch]])
                     for i in (0, 1))
    assert (first != second).any() == shuffle  # reshuffled per epoch, or not at all


def test_fit_with_factory_and_validation_reports_val_loss():
    history = unigen.fit(_gauss, "digits", validation_data="digits", epochs=1,
                         batch_size=100, seed=0, verbose=0)
    assert set(history.history) == {"loss", "val_loss"}
    assert np.isfinite(history.history["val_loss"][0])


@pytest.mark.parametrize(
    ("data", "kwargs", "error", "match"),
    [
        (np.zeros((0, 8, 8, 1), np.uint8), {}, DataError, "at least one example"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((0, 8, 8, 1))), {}, DataError, "empty"),
        (np.zeros((10, 8, 8, 1), np.uint8), {"batch_size": 32}, DataError, "fewer than one batch"),
        (np.zeros((64, 8, 8), np.uint8), {}, DataError, r"x\[\.\.\., None\]"),
        (np.full((64, 8, 8, 1), np.nan, np.float32), {}, DataError, "NaN"),
        (np.full((64, 8, 8, 1), 200, np.uint8), {}, DataError, "num_levels=17"),
        (np.full((64, 8, 8, 1), 0.3, np.float32), {}, DataError, r"scaled to \[0, 1\]"),
        (tf.data.Dataset.range(10).repeat(), {}, DataError, "rank"),
        (tf.data.Dataset.from_tensor_slices(np.zeros((64, 8, 8, 1))).repeat(), {},
         DataError, "infinite"),
        ({"x": 1}, {}, TypeError, "must be a dataset name"),
        ("no_such_dataset", {}, ValueError, "Available"),
        (np.zeros((64, 8, 8, 1)), {"epochs": 0}, ValueError, "`epochs` must be a positive int"),
        (np.zeros((64, 8, 8, 1)), {"batch_size": -1}, ValueError, "`batch_size`"),
        (np.zeros((64, 8, 8, 1)), {"learning_rate": -1.0}, ValueError, "learning_rate"),
        (np.zeros((64, 8, 8, 1)), {"strategy": "gpu-cluster"}, ValueError, "strategy"),
        (np.zeros((64, 8, 8, 1)), {"validation_data": np.zeros((5, 4))}, DataError,
         "validation_data"),
    ],
)
def test_bad_input_gets_a_clear_error(data, kwargs, error, match):
    kwargs = {"batch_size": 16, "epochs": 1, "verbose": 0, **kwargs}
    with pytest.raises(error, match=match):
        unigen.fit(_gauss(), data, **kwargs)


def test_fit_refuses_what_is_not_a_generative_model():
    with pytest.raises(TypeError, match="GenerativeModel"):
        unigen.fit(keras.Sequential([keras.layers.Dense(1)]), _digits(), verbose=0)


def test_batch_size_must_split_evenly_over_replicas():
    class FakeStrategy:
        num_replicas_in_sync = 4

    with pytest.raises(ValueError, match="multiple of the number of replicas"):
        unigen.fit(_gauss(), _digits(), batch_size=30, strategy=_as_strategy(FakeStrategy),
                   verbose=0)
    with pytest.raises(ValueError, match="use 4"):
        unigen.fit(_gauss(), _digits(), batch_size=2, strategy=_as_strategy(FakeStrategy),
                   verbose=0)


def _as_strategy(fake):
    # A real Strategy subclass instance would need devices; the check runs before
    # anything else touches the strategy, so a registered stand-in is enough.
    class Stand(tf.distribute.Strategy):
        def __init__(self):
            pass

        @property
        def num_replicas_in_sync(self):
            return fake.num_replicas_in_sync

        @property
        def cluster_resolver(self):
            return None

    return Stand()


def test_output_dir_holds_config_checkpoint_history_model_and_samples(tmp_path):
    out = str(tmp_path / "run")
    unigen.fit(_gauss(), "digits", epochs=2, batch_size=100, seed=0, output_dir=out,
               verbose=0)
    for name in ("config.json", "checkpoint.npz", "history.json", "model.keras",
                 "samples/epoch_001.png", "samples/epoch_002.png"):
        assert os.path.exists(os.path.join(out, name)), name
    with open(os.path.join(out, "config.json")) as f:
        config = json.load(f)
    assert config["seed"] == 0 and config["batch_size"] == 100 and config["epochs"] == 2
    png = tf.io.decode_png(tf.io.read_file(os.path.join(out, "samples/epoch_002.png")))
    assert png.shape[-1] == 1 and png.shape[0] > 64
    loaded = unigen.load(os.path.join(out, "model.keras"))
    assert loaded.sample(2, seed=0).shape == (2, 8, 8, 1)


def test_resume_continues_to_the_same_weights(tmp_path):
    full = _gauss()
    unigen.fit(full, "digits", epochs=3, batch_size=100, seed=1, learning_rate=0.05,
               verbose=0)
    out = str(tmp_path / "run")
    unigen.fit(_gauss(), "digits", epochs=1, batch_size=100, seed=1, output_dir=out,
               learning_rate=0.05, verbose=0)
    resumed = _gauss()
    history = unigen.fit(resumed, "digits", epochs=3, batch_size=100, seed=1,
                         output_dir=out, learning_rate=0.05, verbose=0)
    assert len(history.history["loss"]) == 3 and history.epoch == [0, 1, 2]
    for a, b in zip(full.get_weights(), resumed.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(resumed.optimizer.iterations.numpy()) == 3 * 10


def test_fit_again_on_a_finished_run_restores_it_without_training(tmp_path):
    # `unigen compare` run twice into the same --out calls fit on finished runs.
    out = str(tmp_path / "run")
    first = _gauss()
    unigen.fit(first, _digits(), epochs=2, batch_size=100, seed=0, output_dir=out,
               verbose=0)
    again = _gauss()
    history = unigen.fit(again, _digits(), epochs=2, batch_size=100, seed=0,
                         output_dir=out, verbose=0)
    assert history.epoch == [0, 1] and len(history.history["loss"]) == 2
    assert int(again.optimizer.iterations.numpy()) == 2 * 10
    for a, b in zip(first.get_weights(), again.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_resume_refuses_a_different_model(tmp_path):
    out = str(tmp_path / "run")
    unigen.fit(_gauss(), "digits", epochs=1, batch_size=100, seed=0, output_dir=out,
               verbose=0)
    other = unigen.models.Gaussian((8, 8, 1), num_levels=17, min_scale=0.1)
    with pytest.raises(ValueError, match="different model"):
        unigen.fit(other, "digits", epochs=2, batch_size=100, seed=0, output_dir=out,
                   verbose=0)
    history = unigen.fit(other, "digits", epochs=1, batch_size=100, seed=0,
                         output_dir=out, resume=False, verbose=0)
    assert len(history.history["loss"]) == 1


@keras.saving.register_keras_serializable(package="unigen_tests")
class DivergingGaussian(unigen.models.Gaussian):
    """Its loss turns NaN once the optimizer has taken ``bad_step`` steps."""

    def __init__(self, *args, bad_step=25, **kwargs):
        super().__init__(*args, **kwargs)
        self.bad_step = bad_step

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        bad = self.optimizer.iterations >= self.bad_step
        return tf.where(bad, tf.constant(np.nan, loss.dtype), loss)

    def get_config(self):
        return {**super().get_config(), "bad_step": self.bad_step}


def test_nan_loss_stops_cleanly_and_keeps_the_last_good_checkpoint(tmp_path):
    out = str(tmp_path / "run")
    model = DivergingGaussian((8, 8, 1), num_levels=17)
    with pytest.raises(TrainingDivergedError, match="epoch 3, batch 6") as info:
        unigen.fit(model, "digits", epochs=5, batch_size=100, seed=0, output_dir=out,
                   verbose=0)
    err = info.value
    assert err.checkpoint == os.path.join(out, "checkpoint.npz")
    with np.load(err.checkpoint) as ckpt:
        assert int(ckpt["epoch"]) == 2
    with open(os.path.join(out, "history.json")) as f:
        assert len(json.load(f)["loss"]) == 2
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())
    assert int(model.optimizer.iterations.numpy()) == 20
    assert len(err.history.history["loss"]) == 2


@pytest.mark.parametrize("shuffle", [False, True])
def test_a_bad_batch_deep_in_a_stream_is_named_before_it_is_trained_on(shuffle, tmp_path):
    # A tf.data.Dataset is checked in full on its first batch only; a later batch
    # with a NaN stops the run before the step trains on it (before: the loss
    # diverged, and the error named the batch afterwards), the error says which
    # batch and why, and the last good checkpoint is kept.
    clean = np.random.default_rng(0).integers(0, 17, size=(64, 8, 8, 1)).astype("float32")
    bad = clean.copy()
    bad[40, 3, 3, 0] = np.nan
    stream = tf.data.Dataset.from_tensor_slices(clean).concatenate(
        tf.data.Dataset.from_tensor_slices(bad))  # shuffled within blocks of 64
    model = unigen.models.Gaussian((8, 8, 1), num_levels=17)
    out = str(tmp_path / "run")
    with pytest.raises(DataError) as info:  # 128 examples: 8 batches of 16 per epoch
        unigen.fit(model, stream, epochs=2, batch_size=16, seed=0, shuffle=shuffle,
                   shuffle_buffer=64, output_dir=out, verbose=0)
    message = str(info.value)
    assert "Training stopped before a bad batch" in message and "NaN" in message
    assert "of epoch 1 of the dataset is bad" in message and "ds.filter" in message
    assert isinstance(info.value.__cause__, tf.errors.InvalidArgumentError)
    if not shuffle:  # example 64 + 40 is in the seventh batch of 16
        assert "Batch 7 of epoch 1" in message
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert not os.path.exists(os.path.join(out, "checkpoint.npz"))


def test_nan_without_output_dir_still_raises():
    with pytest.raises(TrainingDivergedError, match="output_dir"):
        unigen.fit(DivergingGaussian((8, 8, 1), num_levels=17, bad_step=3), "digits", epochs=2,
                   batch_size=100, seed=0, verbose=0)


def test_tensorboard_needs_the_package_or_says_so(monkeypatch):
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ImportError, match=r"unigen\[tensorboard\]"):
        unigen.fit(_gauss(), "digits", tensorboard=True, verbose=0)


def test_tpu_strategy_without_a_tpu_says_so(monkeypatch):
    monkeypatch.delenv("TPU_NAME", raising=False)
    with pytest.raises(RuntimeError, match="found no TPU"):
        unigen.fit(_gauss(), "digits", strategy="tpu", verbose=0)


def test_multiworker_without_tf_config_says_how_to_set_it(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(ValueError, match="TF_CONFIG"):
        unigen.fit(_gauss(), "digits", strategy="multiworker", verbose=0)


def test_an_optimizer_made_before_the_strategy_is_remade_inside_it():
    # Keras binds an optimizer to the strategy in scope when it is created; building
    # it under another was a raw "Mixing different tf.distribute.Strategy objects".
    x = np.asarray(unigen.datasets.as_numpy("ring8", "train")[:128], "float32")
    schedule = keras.optimizers.schedules.ExponentialDecay(1e-2, 10, 0.5)
    for make in (lambda: unigen.models.Gaussian((2,)), unigen.models.Gaussian((2,))):
        strategy = tf.distribute.MirroredStrategy(["/cpu:0"])
        optimizer = keras.optimizers.SGD(schedule, momentum=0.5)
        history = unigen.fit(make, x, epochs=1, batch_size=32, seed=0, verbose=0,
                             optimizer=optimizer, strategy=strategy)
        model = history.model
        assert np.isfinite(history.history["loss"]).all()
        assert type(model.optimizer) is keras.optimizers.SGD and model.optimizer.momentum == 0.5
        assert model.optimizer.get_config()["learning_rate"] == optimizer.get_config()[
            "learning_rate"]
        assert int(model.optimizer.iterations.numpy()) == 4
    used = keras.optimizers.SGD(1e-2)  # built (it holds state) under the default strategy
    used.build(unigen.models.Gaussian((2,)).trainable_variables or [keras.Variable(0.0)])
    with pytest.raises(ValueError, match=r"created and used under another tf.distribute "
                                         r"strategy.*inside `strategy.scope\(\)`"):
        unigen.fit(unigen.models.Gaussian((2,)), x, epochs=1, batch_size=32, verbose=0,
                   optimizer=used, strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))


def test_a_model_trained_without_the_strategy_goes_on_under_it_through_its_file(tmp_path):
    x = np.asarray(unigen.datasets.as_numpy("ring8", "train")[:128], "float32")
    model = unigen.models.Gaussian((2,))
    unigen.fit(model, x, epochs=1, batch_size=32, seed=0, verbose=0)
    with pytest.raises(ValueError, match=r"created outside the strategy's scope.*save it and "
                                         r"load it in the factory"):
        unigen.fit(model, x, epochs=2, batch_size=32, verbose=0,
                   strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    path = str(tmp_path / "m.keras")
    model.save(path)
    history = unigen.fit(lambda: unigen.load(path), x, epochs=1, batch_size=32, verbose=0,
                         strategy=tf.distribute.MirroredStrategy(["/cpu:0"]))
    assert int(history.model.optimizer.iterations.numpy()) == 8  # 4 steps before, 4 now


def test_a_learning_rate_callback_on_a_scheduled_optimizer_is_refused_before_training():
    # RealNVP's default Adam warms up with a schedule, whose rate Keras cannot set: it
    # failed at the end of the first epoch.
    x = np.asarray(unigen.datasets.as_numpy("ring8", "train")[:128], "float32")
    halve = keras.callbacks.LearningRateScheduler(lambda epoch, rate: rate * 0.5)
    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    with pytest.raises(ValueError, match=r"LearningRateScheduler.*RealNVP's optimizer follows "
                                         r"a schedule \(WarmupSchedule\).*FusedAdam\(1e-3\)"):
        unigen.fit(model, x, epochs=2, batch_size=32, verbose=0, callbacks=[halve])
    assert int(model.optimizer.iterations.numpy()) == 0
    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    unigen.fit(model, x, epochs=2, batch_size=32, verbose=0, callbacks=[halve],
               optimizer=unigen.training.FusedAdam(1e-3))
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == pytest.approx(
        2.5e-4)
