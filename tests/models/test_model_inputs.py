"""Bad data for every registered model: refused by the shared checks (`unigen._checks`)
before any network is built or trained, with a message naming the problem and the fix."""

import contract_models as cm
import keras
import numpy as np
import pytest
import tensorflow as tf

import unigen
from unigen.errors import DataError

NAMES = sorted(cm.CONFIGS)
# Configurations that train on (x, y): a conditional model's classes, StarGAN's domains.
LABELLED = sorted(name for name, (registered, _, kwargs) in cm.CONFIGS.items()
                  if kwargs.get("num_classes") or registered == "stargan")


class _NoTraining(keras.callbacks.Callback):
    def on_train_begin(self, logs=None):
        raise AssertionError("training started before the bad input was reported")


def test_the_labelled_configurations_are_those_that_take_labels():
    for name in NAMES:
        labelled = cm.build(name)._label_range() is not None
        assert labelled == (name in LABELLED) == isinstance(cm.data(name, 4), tuple), name


@pytest.mark.parametrize("name", NAMES)
def test_complex_data_are_refused_by_every_model(name):
    # Before: a TypeError from np.floor (discrete models), or the imaginary part
    # silently dropped (continuous ones).
    model = cm.build(name)
    x = np.asarray(cm.features(cm.data(name, 4))).astype("complex64")
    call = model.log_prob if model.has_log_prob else model.validate_data
    with pytest.raises(DataError, match=r"must hold real numbers, got dtype complex64\. Pass "
                                        r"the real part \(x\.real\)"):
        call(x)
    assert not model.built


@pytest.mark.parametrize("name", LABELLED)
def test_bad_labels_are_refused_before_training(name):
    """Before: labels out of range failed inside the graph (InvalidArgumentError from a
    gather or a softmax cross-entropy) or trained silently on zero one-hot vectors
    (VAE) or the null class (DDPM); fractional labels were truncated; x without labels
    trained a conditional DDPM on its null class only."""
    model = cm.build(name)
    x, y = cm.data(name, 32)
    top = model._label_range()[1]
    cases = [
        (x, rf"trains on \(x, y\) pairs with integer labels y in 0\.\.{top}, but the data "
            rf"hold x only\. Pass unigen\.fit\(model, \(x, y\)\)"),
        ((x, np.full(len(x), top + 1)), rf"needs integer labels y in 0\.\.{top}, got labels "
                                        rf"in \[{top + 1}, {top + 1}\]\. Map the classes"),
        ((x, np.full(len(x), -1)), r"got labels in \[-1, -1\]"),
        ((x, y + 0.5), r"that are not all integers"),
        ((x, np.eye(top + 1)[y]), r"one label per example.*look one-hot: pass y\.argmax"),
        (tf.data.Dataset.from_tensor_slices((x, np.full(len(x), top + 1))), r"got labels in"),
    ]
    for data, match in cases:
        with pytest.raises(DataError, match=r"In `data`: .*" + match):
            unigen.fit(model, data, batch_size=16, verbose=0, callbacks=[_NoTraining()])
    with pytest.raises(AssertionError, match="training started"):  # (n, 1) labels are fine
        unigen.fit(model, (x, y[:, None]), batch_size=16, verbose=0,
                   callbacks=[_NoTraining()])


def test_a_semi_supervised_gan_takes_minus_one_for_unlabelled_examples():
    gan = unigen.models.create("gan", event_shape=(2,), latent_dim=2, hidden_units=(8,),
                               semi_supervised_classes=3)
    gan.validate_labels(np.array([-1, 0, 2]))
    with pytest.raises(DataError, match=r"integer labels y in -1\.\.2 \(-1 marks an "
                                        r"unlabelled example\), got labels in \[-2, 0\]"):
        gan.validate_labels(np.array([-2, 0]))
    with pytest.raises(DataError, match=r"hold x only"):
        gan.validate_labels(None)
    unigen.models.create("gan", event_shape=(2,), latent_dim=2).validate_labels(None)


def test_bad_labels_deep_in_a_stream_stop_it_before_the_step_trains_on_them():
    # Before: an InvalidArgumentError from the embedding's gather inside the graph
    # (on a CPU; a GPU's gather reads zeros, silently).
    model = cm.build("ddpm_conditional")
    x, y = cm.data("ddpm_conditional", 64)
    y = y.copy()
    y[50] = 10  # num_classes=10: labels 0..9
    stream = tf.data.Dataset.from_tensor_slices((x, y))
    with pytest.raises(DataError, match=r"Training stopped before a bad batch: Batch 4 of epoch "
                                        r"1 of the dataset is bad\. In `data`: DDPM needs "
                                        r"integer labels y in 0\.\.9, got labels in \[0, 10\]"):
        unigen.fit(model, stream, batch_size=16, shuffle=False, verbose=0)


_NUMBERS = {"temperature": "a number >= 0", "truncation": "a positive number",
            "guidance": "a finite number", "eta": "a number >= 0"}


def test_numeric_sample_options_are_checked_in_one_place_and_name_themselves():
    # Before: "could not convert string to float: 'a'" for each of them, and a NaN
    # guidance of a conditional DDPM gave NaN samples.
    from unigen._checks import hook_options

    covered = set()
    for name in NAMES:
        model = cm.build(name)
        for option in set(hook_options(model._sample)) & set(_NUMBERS):
            if (type(model), option) in covered:
                continue
            covered.add((type(model), option))
            for value in ("a", float("nan")):
                with pytest.raises(ValueError, match=rf"`{option}` must be {_NUMBERS[option]}"
                                                     rf".*, got {value!r}"):
                    model.sample(2, **{option: value})
    assert {option for _, option in covered} == set(_NUMBERS)


@pytest.mark.parametrize("name", ["cyclegan", "pix2pix", "stargan"])
def test_a_translation_models_source_images_get_the_shared_value_checks(name):
    # Before: NaN source images were translated into NaN samples; levels were checked
    # by a copy of the rule that missed fractional values.
    model = cm.build(name)
    source = np.zeros((2, 8, 8, 1), "float32")
    for value, match in ((np.nan, r"2 NaN or infinite value"),
                         (2.5, r"integer values in 0\.\.16, got values in \[0, 2\.5\] that "
                               r"are not integers")):
        source[:, 0, 0, 0] = value
        with pytest.raises(DataError, match=r"In `source`: .*" + match):
            model.sample(2, source=source)


def test_a_y_is_ignored_by_models_without_labels_or_refused_before_training():
    # Before: CycleGAN and Pix2Pix refused (x, y) inside their first traced step,
    # after unigen.fit had built, initialised and compiled them.
    refused = set()
    for name in NAMES:
        model = cm.build(name)
        if model._label_range() is not None:
            continue
        if not model._labels_refused():
            model.validate_labels(np.zeros(4))
            continue
        refused.add(name)
        x = cm.data(name, 32)
        with pytest.raises(DataError, match=r"In `data`: .*without labels; got \(x, y\)"):
            unigen.fit(model, (x, np.zeros(len(x), "int32")), batch_size=16, verbose=0,
                       callbacks=[_NoTraining()])
        assert not model.compiled
    assert refused == {"cyclegan", "pix2pix"}


def test_bad_labels_deep_in_a_validation_stream_are_named():
    # Before: accepted silently (label 10 is the index of DDPM's null class, so those
    # examples were scored unconditionally); a stream was checked on its first batch only.
    model = cm.build("ddpm_conditional")
    x, y = cm.data("ddpm_conditional", 64)
    bad = y.copy()
    bad[40] = 10
    with pytest.raises(DataError, match=r"Training stopped before a bad batch: Batch 3 of "
                                        r"validation_data is bad\. In `validation_data`: DDPM "
                                        r"needs integer labels y in 0\.\.9, got labels in "
                                        r"\[0, 10\]"):
        unigen.fit(model, (x, y), batch_size=16, verbose=0,
                   validation_data=tf.data.Dataset.from_tensor_slices((x, bad)))
