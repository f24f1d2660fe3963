"""A run that diverges stops cleanly, keeps its last good checkpoint and can go on from it,
for every path a NaN can take: a GAN's critic, a VAE's KL, a flow's likelihood, validation.

`tests/training/test_fit.py` covers a NaN in the loss of `compute_loss` (a Gaussian)."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import TrainingDivergedError

X = np.asarray(unigen.datasets.as_numpy("ring8", "train")[:256], "float32")  # 4 batches of 64


def _fit(model, out, epochs=4, **kwargs):
    return unigen.fit(model, X, epochs=epochs, batch_size=64, seed=0, output_dir=out,
                      verbose=0, **kwargs)


def _checkpoint_epoch(path):
    with np.load(path) as ckpt:
        return int(ckpt["epoch"])


@keras.saving.register_keras_serializable(package="test_divergence")
class CriticNaNGAN(unigen.models.MLPGAN):
    """Its critic's loss reads NaN from the critic's ``bad_step``-th update on, while the
    generator's loss stays finite. ``bad_step`` is a class attribute, not part of the
    config, so a rerun with it off is the same run."""

    bad_step = None

    def _discriminator_step(self, real, labels, batch, context=None):
        logs = super()._discriminator_step(real, labels, batch, context)
        if type(self).bad_step is not None:
            bad = self.critic.optimizer.iterations > type(self).bad_step
            logs["critic_loss"] = tf.where(bad, tf.constant(np.nan), logs["critic_loss"])
        return logs


def test_nan_only_in_the_critics_loss_stops_and_the_run_goes_on_from_the_checkpoint(tmp_path):
    # Before: only `loss` was watched, so the run finished "successfully": the
    # epochs with a NaN critic loss were left without a checkpoint, silently.
    out = str(tmp_path / "run")
    CriticNaNGAN.bad_step = 10  # the 11th update: epoch 3, batch 3
    model = CriticNaNGAN(latent_dim=2, hidden_units=(8,))
    try:
        with pytest.raises(TrainingDivergedError, match=r"at epoch 3, batch 3: `critic_loss` "
                                                        r"became nan\..*after epoch 2") as info:
            _fit(model, out)
    finally:
        CriticNaNGAN.bad_step = None
    assert _checkpoint_epoch(info.value.checkpoint) == 2
    assert int(model.optimizer.iterations) == 8  # the state of the checkpoint, restored
    assert len(info.value.history.history["critic_loss"]) == 2
    # What the message says for other settings: a new run from the checkpoint's weights.
    saved = os.path.join(out, "model.keras")
    assert repr(saved) in str(info.value)
    start = unigen.load(saved, compile=False)
    for a, b in zip(start.get_weights(), model.get_weights(), strict=True):
        np.testing.assert_array_equal(a, b)
    lower = _fit(start, str(tmp_path / "lower"), epochs=1, learning_rate=1e-4)
    assert np.isfinite(lower.history["critic_loss"]).all()
    # The same call again resumes from the checkpoint and finishes the run.
    again = CriticNaNGAN(latent_dim=2, hidden_units=(8,))
    history = _fit(again, out)
    assert len(history.history["critic_loss"]) == 4
    assert int(again.optimizer.iterations) == 16
    assert _checkpoint_epoch(os.path.join(out, "checkpoint.npz")) == 4


class KLNaNVAE(unigen.models.VAE):
    """Its KL term turns NaN once the optimizer has taken ``bad_step`` steps."""

    def __init__(self, *args, bad_step=10, **kwargs):
        super().__init__(*args, **kwargs)
        self.bad_step = bad_step

    def _objective(self, x, onehot, generator, weight):
        loss, values = super()._objective(x, onehot, generator, weight)
        nan = tf.where(self.optimizer.iterations >= self.bad_step, tf.constant(np.nan), 0.0)
        values = {**values, "kl": values["kl"] + nan, "loss": loss + nan}
        return loss + nan, values

    def get_config(self):
        return {**super().get_config(), "bad_step": self.bad_step}


def test_nan_in_a_vaes_kl_stops_and_restores_the_last_good_checkpoint(tmp_path):
    model = KLNaNVAE((2,), latent_dim=2)
    with pytest.raises(TrainingDivergedError, match=r"at epoch 3, batch 3: the loss became "
                                                    r"nan.*after epoch 2"):
        _fit(model, str(tmp_path / "run"))
    assert int(model.optimizer.iterations) == 8
    assert all(np.isfinite(w).all() for w in model.get_weights())


def test_a_flow_whose_learning_rate_jumps_diverges_and_keeps_the_weights_before(tmp_path):
    """A real divergence, no injected NaN: Adam's step jumps to 1e4 after 8 updates."""
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([8], [1e-3, 1e4])
    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    with pytest.raises(TrainingDivergedError, match=r"at epoch 3, .*after epoch 2"):
        _fit(model, str(tmp_path / "run"), optimizer=keras.optimizers.Adam(schedule))
    assert all(np.isfinite(w).all() for w in model.get_weights())
    assert np.isfinite(model.log_prob(X[:8]).numpy()).all()


class ValidationNaNGaussian(unigen.models.Gaussian):
    """Its validation loss is NaN; training is fine."""

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        loss = super().compute_loss(x, y, y_pred, sample_weight, training)
        return loss if training else loss + np.nan


def test_a_nan_validation_loss_stops_at_the_end_of_the_epoch(tmp_path):
    # Before: the epoch was left without a checkpoint and the run went on.
    with pytest.raises(TrainingDivergedError, match=r"at the end of epoch 1: `val_loss` "
                                                    r"became nan\. The training metrics were "
                                                    r"finite: check `validation_data`"):
        _fit(ValidationNaNGaussian((2,)), str(tmp_path / "run"), validation_data=X[:64])


def test_a_run_that_diverged_in_its_first_epoch_starts_afresh_with_other_settings(tmp_path):
    # Before: its config.json (and no checkpoint) made the corrected call a
    # RunMismatchError (learning_rate), to be cleared with resume=False.
    out = str(tmp_path / "run")
    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, .*No epoch had finished.*"
                                                    r"into the same output_dir starts afresh"):
        _fit(unigen.models.RealNVP((2,), num_couplings=2, hidden=8), out, learning_rate=1e4)
    history = _fit(unigen.models.RealNVP((2,), num_couplings=2, hidden=8), out, epochs=1)
    assert np.isfinite(history.history["loss"]).all()
    assert _checkpoint_epoch(os.path.join(out, "checkpoint.npz")) == 1


def _lr_jump_flow():
    """RealNVP whose Adam step jumps to 1e4 after 8 updates (epoch 3 of 4-batch epochs)."""
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([8], [1e-3, 1e4])
    return unigen.models.RealNVP((2,), num_couplings=2, hidden=8), keras.optimizers.Adam(schedule)


def test_without_output_dir_the_model_gets_the_weights_of_its_last_good_epoch():
    # Reference: the same run stopped after its two good epochs.
    model, optimizer = _lr_jump_flow()
    _fit(model, None, epochs=2, optimizer=optimizer)
    want = [w.copy() for w in model.get_weights()]
    model, optimizer = _lr_jump_flow()
    with pytest.raises(TrainingDivergedError, match=r"at epoch 3, .*restored to those after "
                                                    r"epoch 2\. Pass output_dir="):
        _fit(model, None, optimizer=optimizer)
    got = model.get_weights()
    for a, b in zip(got, want, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 8  # the optimizer's state too
    assert np.isfinite(model.log_prob(X[:8]).numpy()).all()


def test_a_first_epoch_divergence_puts_back_the_starting_weights(tmp_path):
    model = unigen.models.RealNVP((2,), num_couplings=2, hidden=8)
    model.data_dependent_init(X[:64])  # what fit does first: build, then initialise
    start = [w.copy() for w in model.get_weights()]
    assert start
    with pytest.raises(TrainingDivergedError, match=r"at epoch 1, .*restored to those it "
                                                    r"started with\. No epoch had finished"):
        _fit(model, str(tmp_path / "run"), learning_rate=1e4)
    for a, b in zip(model.get_weights(), start, strict=True):
        np.testing.assert_array_equal(a, b)
    assert int(model.optimizer.iterations) == 0
