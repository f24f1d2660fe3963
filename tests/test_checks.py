"""Bad input found by an audit of the public API gets an error naming the problem and the
fix, raised before any training or scoring work is done."""

import os

import keras
import numpy as np
import pytest

import unigen
from unigen.errors import DataError
from unigen.evaluation import _cli


def _gauss(num_levels=17):
    return unigen.models.Gaussian((8, 8, 1), num_levels=num_levels)


class _NoTraining(keras.callbacks.Callback):
    """Fails the test if `keras.Model.fit` starts: the error must come first."""

    def on_train_begin(self, logs=None):
        raise AssertionError("training started before the bad input was reported")


def _levels(n=64):
    return np.random.default_rng(0).integers(0, 17, (n, 8, 8, 1)).astype("float32")


# ------------------------------------------------------------------ unigen.fit
@pytest.mark.parametrize(("value", "match"), [
    (np.nan, r"1 NaN or infinite value\(s\), in 1 example\(s\).*np\.isfinite"),
    (99.0, r"num_levels=17 and expects integer values in 0\.\.16, got values in \[0, 99\]"),
])
def test_fit_checks_every_example_of_arrays_not_only_the_first_batch(value, match):
    # Before: the first batch passed, and the run ended in TrainingDivergedError.
    x = _levels()
    x[-1, 0, 0, 0] = value
    with pytest.raises(DataError, match=match):
        unigen.fit(_gauss(num_levels=None if np.isnan(value) else 17), x, batch_size=16,
                   verbose=0, callbacks=[_NoTraining()])


def test_fit_checks_every_example_of_validation_arrays():
    val = _levels(32)
    val[-1] = np.inf
    with pytest.raises(DataError, match=r"In `validation_data`: .*NaN or infinite"):
        unigen.fit(_gauss(None), _levels(), validation_data=val, batch_size=16, verbose=0,
                   callbacks=[_NoTraining()])


@pytest.mark.parametrize(("kwargs", "error", "match"), [
    ({"resume": "no"}, TypeError, r"`resume` must be True or False, got 'no'"),
    ({"shuffle": "yes"}, TypeError, r"`shuffle` must be True or False"),
    ({"verbose": "loud"}, ValueError, r"`verbose` must be \"auto\", 0 .* got 'loud'"),
    ({"sample_every_epoch": -1}, ValueError, r"`sample_every_epoch` must be an int >= 0.*"
                                             r"0 turns the grid off\), got -1"),
    ({"sample_every_epoch": "a"}, ValueError, r"`sample_every_epoch` must be an int >= 0"),
    ({"callbacks": 5}, TypeError, r"`callbacks` must be a list of keras.callbacks.Callback"),
    ({"callbacks": _NoTraining()}, TypeError, r"wrap it in a list: callbacks=\[callback\]"),
    ({"callbacks": [print]}, TypeError, r"keras.callbacks.LambdaCallback"),
    ({"optimizer": "adamm"}, ValueError, r"`optimizer` must be a keras.optimizers.Optimizer.*"
                                         r"name such as 'sgd'.*got 'adamm'"),
])
def test_fit_refuses_bad_options_before_training(kwargs, error, match):
    kwargs = {"batch_size": 16, "verbose": 0, "callbacks": [_NoTraining()], **kwargs}
    with pytest.raises(error, match=match):
        unigen.fit(_gauss(), _levels(), **kwargs)


def test_fit_given_a_model_class_says_to_pass_an_instance_or_factory():
    with pytest.raises(TypeError, match=r"`model` is the class Gaussian, not a model: pass "
                                        r"an instance.*lambda: Gaussian\(\.\.\.\)"):
        unigen.fit(unigen.models.Gaussian, _levels(), batch_size=16, verbose=0)


# ------------------------------------------------------------------ constructors
@pytest.mark.parametrize(("name", "kwargs", "error", "match"), [
    ("gaussian", {"event_shape": (2.5,)}, ValueError, r"`event_shape` must be a tuple of "
                                                       r"positive ints.*\(2\.5,\)"),
    ("dcgan", {"event_shape": (8, 8, 1), "base_filters": -5}, ValueError,
     r"`base_filters` must be a positive int, got -5"),
    ("gan", {"event_shape": (2,), "hidden_units": (-5,)}, ValueError,
     r"`hidden_units` must list positive layer widths.*\(-5,\)"),
    ("made", {"event_shape": (8, 8, 1), "num_levels": 17, "hidden_units": (0,)}, ValueError,
     r"`hidden_units` must list positive layer widths"),
    ("maf", {"event_shape": (4,), "num_layers": 0}, ValueError,
     r"`num_layers` must be a positive int, got 0"),
    ("maf", {"event_shape": (4,), "hidden_units": (-1,)}, ValueError,
     r"`hidden_units` must list positive layer widths"),
    ("maf", {"event_shape": (8, 8, 1), "num_levels": 17}, ValueError,
     r"MAF takes vectors.*For images use Glow or RealNVP"),
    ("realnvp", {"event_shape": (4,), "num_couplings": 0}, ValueError,
     r"`num_couplings` must be a positive int, got 0"),
    ("ddpm", {"event_shape": (8, 8), "num_levels": 17}, ValueError,
     r"DDPM models vectors \(D,\) or images \(H, W, C\).*add the channel axis, \(8, 8, 1\)"),
    ("glow", {"event_shape": (8, 8, 1), "hidden_channel": 8}, TypeError,
     r"Glow got unknown keyword argument\(s\) `hidden_channel`\. Did you mean: "
     r"`hidden_channel` -> `hidden_channels`\?.*It takes: .*steps_per_level"),
    ("vae", {"event_shape": (8, 8, 1), "foo": 1}, TypeError,
     r"VAE got unknown keyword argument\(s\) `foo`\. It takes: .*latent_dim"),
    ("dcgan", {"event_shape": (8, 8, 1), "generator": None}, TypeError,
     r"DCGAN builds its own generator and discriminator; got `generator`.*unigen.models.GAN"),
    ("gan", {"event_shape": (2,), "discriminator": None}, TypeError,
     r"MLPGAN builds its own generator and discriminator; got `discriminator`"),
])
def test_constructors_name_the_bad_argument(name, kwargs, error, match):
    with pytest.raises(error, match=match):
        unigen.models.create(name, **kwargs)


def test_a_presets_unknown_keyword_message_lists_only_its_own_options():
    with pytest.raises(TypeError, match="Did you mean") as info:
        unigen.models.DCGAN(image_shape=(8, 8, 1), base_filter=4)
    listed = set(str(info.value).split("It takes: ")[1].rstrip(".").split(", "))
    assert {"base_filters", "generator_learning_rate", "image_shape"} <= listed
    assert not {"generator", "discriminator"} & listed


# ------------------------------------------------------------------ evaluate / compare
class _Recorder:
    """A model-like object that records whether it was asked for samples."""

    def __init__(self, event_shape):
        self.event_shape = event_shape
        self.calls = 0

    def sample(self, num_samples, seed=None):
        self.calls += 1
        return np.zeros((num_samples, *self.event_shape), np.float32)


def test_compare_checks_every_models_shape_before_scoring_any():
    # Before: the first model was scored, then "`real` and `fake` must have the same
    # feature size, got 2 and 64" came from deep inside the metrics.
    good, bad = _Recorder((2,)), _Recorder((8, 8, 1))
    data = np.random.default_rng(0).normal(size=(40, 2)).astype("float32")
    with pytest.raises(DataError, match=r"`models\['bad'\]` \(_Recorder\) models examples of "
                                        r"shape \(8, 8, 1\), but the data's examples have "
                                        r"shape \(2,\).*event_shape=\(2,\)"):
        unigen.compare({"good": good, "bad": bad}, data, metrics=["mmd"], references=False,
                       verbose=0)
    assert good.calls == 0 and bad.calls == 0


@pytest.mark.parametrize(("model", "data", "kwargs", "error", "match"), [
    ("gaussian", np.zeros((20, 2), np.float32), {}, FileNotFoundError,
     r"`model`: 'gaussian' is a model name, not a saved model; nothing is at that path\. "
     r"Train it first, unigen\.fit\(unigen\.models\.create\('gaussian', \.\.\.\)"),
    (42, np.zeros((20, 2), np.float32), {}, TypeError,
     r"`model` must be a unigen model .* or the path of a saved one .* got int 42\."),
    (None, np.zeros((0, 2), np.float32), {}, DataError,
     r"`data` must hold at least one example"),
    (None, np.full((20, 2), np.nan, np.float32), {"metrics": ["mmd"]}, DataError,
     r"`data` contain 40 NaN or infinite value\(s\), in 20 example\(s\)\. Remove or impute"),
    (None, np.zeros((20, 2), np.float32), {"train": np.full((20, 2), np.inf)}, DataError,
     r"`train` contain 40 NaN or infinite"),
    (None, np.zeros((20, 2), np.float32), {"metrics": ["mmd"], "num_samples": 0},
     ValueError, r"`num_samples` must be a positive int, got 0"),
])
def test_evaluate_checks_model_and_data_first(model, data, kwargs, error, match):
    model = _Recorder((2,)) if model is None else model
    with pytest.raises(error, match=match):
        unigen.evaluate(model, data, verbose=0, **kwargs)
    assert getattr(model, "calls", 0) == 0


# ------------------------------------------------------------------ unigen compare --data
def test_compare_cli_names_an_unreadable_npz_and_png(tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"not an archive")
    with pytest.raises(ValueError, match=r"'.*broken\.npz' is not a readable \.npz archive.*"
                                         r"np\.savez\(path, x=images\)"):
        _cli._read_npz(str(broken))
    (tmp_path / "pngs").mkdir()
    with pytest.raises(ValueError, match=r"holds no \.png files; put your images there"):
        _cli._read_pngs(str(tmp_path / "pngs"))
    (tmp_path / "pngs" / "a.png").write_bytes(b"not a png")
    with pytest.raises(ValueError, match=r"'.*a\.png' is not a readable PNG image; remove it"):
        _cli._read_pngs(str(tmp_path / "pngs"))


@pytest.mark.parametrize("seed", [-1, 2**32, 1.5, True, "0"])
def test_one_seed_rule_for_constructors_sample_log_prob_and_fit(seed):
    """A seed is None or an int in [0, 2**32 - 1] wherever it is taken (it was only
    checked for range in `unigen.fit`: ``sample(seed=-1)`` was accepted)."""
    model = unigen.models.Gaussian((2,))
    calls = [lambda: unigen.models.Gaussian((2,), seed=seed),
             lambda: model.sample(2, seed=seed),
             lambda: unigen.models.VAE((2,), latent_dim=2).log_prob(
                 np.zeros((1, 2), "float32"), seed=seed),
             lambda: unigen.fit(model, np.zeros((4, 2), "float32"), epochs=1, seed=seed,
                                verbose=0)]
    for call in calls:
        with pytest.raises(ValueError, match=r"`seed` must be None or an int in \[0, 4294967295\]"):
            call()
    assert unigen.models.Gaussian((2,), seed=2**32 - 1).seed == 2**32 - 1


def test_a_conditional_vae_without_labels_says_how_to_train_it_on_pairs():
    cvae = unigen.models.VAE(input_shape=(8, 8, 1), num_levels=17, num_classes=10)
    with pytest.raises(ValueError, match=r"pass `labels`.*unigen\.fit\(model, \(x, y\)\)"):
        cvae.log_prob(np.zeros((2, 8, 8, 1), "uint8"))


def test_log_prob_of_a_whole_dataset_says_to_take_a_batch():
    model = unigen.models.Gaussian((8, 8, 1), num_levels=17)
    test = unigen.datasets.load("digits", split="test")
    for data in (test, test.batch(64)):
        with pytest.raises(DataError, match=r"tf\.data\.Dataset.*next\(iter\(ds\.batch"):
            model.log_prob(data)


def test_a_mistyped_model_or_dataset_name_gets_the_closest_one():
    with pytest.raises(ValueError, match=r"Unknown model 'gausian'; Did you mean 'gaussian'\?"):
        unigen.models.create("gausian", "digits")
    with pytest.raises(ValueError, match=r"Unknown dataset .*'digit'\. Did you mean 'digits'\?"):
        unigen.datasets.load("digit")


def test_counts_in_messages_take_the_singular_for_one():
    from unigen._checks import plural
    from unigen.evaluation._verdict import _budget

    assert [plural(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert plural(1, "copy", "copies") == "1 copy" and plural(3, "copy", "copies") == "3 copies"
    line = _budget([{"name": "gaussian", "training": {"epochs": 1, "steps": 1, "seconds": 1.0}}])
    assert "gaussian 1 epoch, 1 step, 1 s." in line[0]
    with pytest.raises(DataError, match=r"The data hold 1 example, fewer than one batch of 2"):
        unigen.fit(_gauss(), _levels()[:1], batch_size=2, verbose=0, callbacks=[_NoTraining()])


# ------------------------------------------------------------------ second audit
@pytest.mark.parametrize(("kwargs", "match"), [
    ({"importance_samples": 0}, r"`importance_samples` must be a positive int, got 0"),
    ({"parzen_samples": -3}, r"`parzen_samples` must be a positive int, got -3"),
    ({"ais_steps": -1}, r"`ais_steps` must be an int >= 0 \(0: no AIS\), got -1"),
    ({"ais_chains": 0}, r"`ais_chains` must be a positive int, got 0"),
    ({"ais_examples": 0}, r"`ais_examples` must be a positive int, got 0"),
])
def test_evaluate_and_compare_check_the_estimators_options_first(kwargs, match):
    # Before: a ZeroDivisionError (importance_samples=0), "not enough values to
    # unpack" (ais_examples=0), `num_samples` named for parzen_samples, or accepted.
    model = _Recorder((2,))
    data = np.zeros((20, 2), np.float32)
    with pytest.raises(ValueError, match=match):
        unigen.evaluate(model, data, metrics=["mmd"], verbose=0, **kwargs)
    with pytest.raises(ValueError, match=match):
        unigen.compare({"m": model}, data, metrics=["mmd"], references=False, verbose=0,
                       **kwargs)
    assert model.calls == 0


class _NaNSampler(_Recorder):
    def sample(self, num_samples, seed=None):
        return np.full((num_samples, *self.event_shape), np.nan, np.float32)


def test_samples_that_do_not_fit_or_are_not_finite_are_named():
    # Before: "`real` and `fake` must have the same feature size" and "`fake` holds NaN".
    data = np.random.default_rng(0).normal(size=(20, 2)).astype("float32")
    with pytest.raises(DataError, match=r"`samples` must be examples of the data's shape, "
                                        r"\[n, 2\], got shape \[10, 3\]"):
        unigen.evaluate(None, data, metrics=["mmd"], samples=np.zeros((10, 3)), verbose=0)
    diverged = r"not finite has diverged or is not trained: train it again with a lower"
    with pytest.raises(DataError, match=r"The samples of `model` \(_NaNSampler\) contain 40 "
                                        r"NaN or infinite value\(s\).*" + diverged):
        unigen.evaluate(_NaNSampler((2,)), data, metrics=["mmd"], verbose=0)
    with pytest.raises(DataError, match=r"The samples of `models\['bad'\]` contain.*" + diverged):
        unigen.compare({"bad": _NaNSampler((2,))}, data, metrics=["mmd"], references=False,
                       verbose=0)


def test_evaluate_names_an_empty_dataset():
    import tensorflow as tf

    empty = tf.data.Dataset.from_tensor_slices(np.zeros((0, 2), np.float32))
    with pytest.raises(DataError, match=r"`data` is empty: the tf\.data\.Dataset yielded no "
                                        r"examples"):  # was NumPy's "need at least one array"
        unigen.evaluate(_Recorder((2,)), empty, metrics=["mmd"], verbose=0)


def test_compare_checks_references_and_output_dir_before_scoring(tmp_path):
    from unigen.errors import RunDirectoryError

    model = _Recorder((2,))
    data = np.zeros((20, 2), np.float32)
    with pytest.raises(TypeError, match=r"`references` must be True or False, got 'no'"):
        unigen.compare({"m": model}, data, metrics=["mmd"], references="no", verbose=0)
    (tmp_path / "file").write_text("")
    # Before: every model was scored, then the report failed to write (NotADirectoryError).
    with pytest.raises(RunDirectoryError, match=r"Cannot create output_dir .*file/report.*: "
                                                r"Not a directory\. Pass a directory"):
        unigen.compare({"m": model}, data, metrics=["mmd"], references=False, verbose=0,
                       output_dir=tmp_path / "file" / "report")
    assert model.calls == 0


def test_the_command_line_checks_where_it_writes_before_the_work(tmp_path, capsys):
    from unigen.cli import main

    (tmp_path / "file").write_text("")
    # Before: `unigen compare --quick` trained and scored, then failed writing the report.
    assert main(["compare", "--data", "ring8", "--models", "gaussian", "--quick", "--out",
                 str(tmp_path / "file" / "cmp")]) == 1
    assert "Cannot create --out" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "file" / "cmp")
    # Before: the model was loaded and sampled, then NumPy's FileNotFoundError.
    with pytest.raises(SystemExit) as info:
        main(["sample", "--model", str(tmp_path / "absent.keras"), "--out",
              str(tmp_path / "no" / "s.npy")])
    assert info.value.code == 2
    assert "does not exist; create it first (mkdir -p" in capsys.readouterr().err


def test_a_ragged_batch_and_an_empty_metric_list_are_named():
    with pytest.raises(DataError, match=r"cannot be converted to one numeric array.*equal "
                                        r"shapes"):  # was NumPy's "inhomogeneous shape"
        unigen.models.Gaussian((2,)).log_prob([[1.0, 2.0], [3.0]])
    with pytest.raises(ValueError, match=r"`metrics` is empty, so nothing would be scored: "
                                         r"pass None"):  # was {} without a word
        unigen.evaluate(_Recorder((2,)), np.zeros((20, 2), np.float32), metrics=[], verbose=0)


def test_an_output_dir_without_write_permission_is_refused_before_any_work(tmp_path,
                                                                          monkeypatch):
    # As root every directory is writable, so the permission is faked.
    from unigen.errors import RunDirectoryError

    monkeypatch.setattr(os, "access", lambda path, mode: False)
    with pytest.raises(RunDirectoryError, match=r"Cannot write to output_dir .*: permission "
                                                r"denied\. Pass a directory you can write to"):
        unigen.fit(_gauss(), _levels(), batch_size=16, verbose=0, output_dir=tmp_path,
                   callbacks=[_NoTraining()])


def test_bad_sample_labels_are_summarised_not_printed_whole():
    cvae = unigen.models.VAE(input_shape=(8, 8, 1), num_levels=17, num_classes=10)
    labels = np.arange(500) % 12  # 10 and 11 out of range
    with pytest.raises(ValueError, match=r"`labels` must be 500 ints in 0\.\.9, got 500 values "
                                         r"of dtype int64 in \[0, 11\]\.$"):
        cvae.sample(500, labels=labels)
    with pytest.raises(ValueError, match=r"got 3 values of dtype float64 in \[0, 2\]"):
        cvae.sample(3, labels=np.array([0.0, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"got 1 value of dtype <U1\.$"):
        cvae.sample(1, labels=["a"])
