"""`unigen.compare` on a translation set: the translation scores in the report and verdict."""

import keras
import numpy as np
import pytest

import unigen
from unigen import datasets
from unigen.evaluation import EvaluationData, MetricNotApplicableError
from unigen.evaluation._evaluate import _check_metrics
from unigen.models.translation import CycleGAN, multi_domain_set, translation_scores

LEVELS = 17


def _pointwise(scale, name):
    """x -> scale * x in [-1, 1]: the identity (1) or the exact pixel inversion (-1)."""
    return keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(1, 1, kernel_initializer=keras.initializers.Constant(scale),
                            bias_initializer="zeros")], name=name)


def _translator(scale):
    model = CycleGAN((8, 8, 2), LEVELS, generator_a_to_b=_pointwise(scale, "g"),
                     generator_b_to_a=_pointwise(scale, "f"), filters=2, residual_blocks=1,
                     critic_filters=2, source_bank_size=16)
    model._ensure_built()
    model.source_bank.fill(model._preprocess(datasets.as_numpy("digits_inverted")[:16]))
    return model


def test_translation_metric_applies_to_translation_sets_only():
    assert "translation" in _check_metrics(None, EvaluationData("digits_inverted"))
    assert "translation" not in _check_metrics(None, EvaluationData("digits"))
    with pytest.raises(MetricNotApplicableError, match="translation set"):
        _check_metrics(["translation"], EvaluationData("digits"))
    assert multi_domain_set("digits_inverted") == "digits_domains"
    assert multi_domain_set("digits_domains") == "digits_domains"
    with pytest.raises(ValueError, match="not a translation set"):
        multi_domain_set("digits")


def test_domain_accuracy_of_translation_scores_by_hand():
    model = _translator(-1.0)  # the exact inversion, both ways

    # A poor stand-in classifier: "inverted" (DOMAINS index 1) when the centre is bright.
    def classifier(images):
        inverted = np.asarray(images)[:, 4, 4, 0] > LEVELS / 2
        return np.eye(4)[np.where(inverted, 1, 0)]

    scores = translation_scores(model, "digits_inverted", num_examples=40,
                                classifier=classifier)
    truth = datasets.true_targets("digits_inverted", "test")[:40]
    expected = np.mean(np.concatenate([np.argmax(classifier(truth[..., :1]), 1) == 1,
                                       np.argmax(classifier(truth[..., 1:]), 1) == 0]))
    assert scores["domain_accuracy"] == pytest.approx(expected)
    assert 0.0 < scores["domain_accuracy"] < 1.0 and scores["a_to_b_error"] == 0.0
    # Its standard error: per example (two translations each), sqrt(sum (h_i - p)^2) / n.
    per_example = np.mean([np.argmax(classifier(truth[..., :1]), 1) == 1,
                           np.argmax(classifier(truth[..., 1:]), 1) == 0], axis=0)
    assert scores["domain_accuracy_stderr"] == pytest.approx(
        np.sqrt(np.sum((per_example - expected) ** 2)) / 40)


def test_compare_on_a_translation_set_reports_translation_scores(tmp_path):
    models = {"inverter": _translator(-1.0), "identity": _translator(1.0)}
    report = unigen.compare(models, "digits_inverted", metrics=["translation"],
                            references=False, cache_dir=str(tmp_path), output_dir=tmp_path,
                            verbose=0)
    inverter, identity = report.scores()["inverter"], report.scores()["identity"]
    # The same numbers as translation_scores, with the domain classifier of digits_domains.
    assert inverter["translation_error"].value == inverter["cycle_error"].value == 0.0
    raw = identity["translation_error"].extra
    assert identity["translation_error"].value == pytest.approx(raw["identity_error"])
    assert identity["translation_error"].value > 0.3
    assert inverter["domain_accuracy"].value > 0.9 > 0.1 > identity["domain_accuracy"].value
    # Each Score has the standard error of translation_scores, shown as ± in the table.
    for key, raw_key in (("translation_error", "a_to_b_error"), ("cycle_error", "cycle_error"),
                         ("domain_accuracy", "domain_accuracy")):
        assert identity[key].stderr == raw[raw_key + "_stderr"]
    assert 0.0 < identity["translation_error"].stderr < 0.05
    assert inverter["translation_error"].stderr == 0.0
    verdict = report.verdict()[0]
    assert verdict.startswith("Best translation error: inverter, 0.000 per pixel")
    assert "best domain accuracy: inverter" in verdict and "not clearly ahead" not in verdict
    markdown = (tmp_path / "report.md").read_text()
    assert "## Translation" in markdown
    assert "| inverter | 0.000 ± 0.000 | 0.000 ± 0.000 | 0.000 ± 0.000 |" in markdown
    value, stderr = identity["translation_error"].value, identity["translation_error"].stderr
    assert f"| identity | {value:.3f} ± {stderr:.3f} |" in markdown
    assert "nan" not in report.translation_table().lower()
    assert "Translation (test split" in report.to_text()


def test_verdict_names_the_translation_scores_of_a_single_model():
    from unigen.evaluation import Score
    from unigen.evaluation._verdict import verdict

    scores = {"translation_error": Score("translation_error", 0.3,
                                         extra={"identity_error": 0.5}),
              "cycle_error": Score("cycle_error", 0.2),
              "domain_accuracy": Score("domain_accuracy", 0.9)}
    lines = verdict([{"name": "stargan", "role": "model", "scores": scores}])
    assert lines[0] == ("Translation error: stargan, 0.300 per pixel against the true targets "
                        "(not translating: 0.500); cycle error 0.2; domain accuracy 0.9.")


def test_verdict_says_when_the_best_translation_error_is_within_two_standard_errors():
    from unigen.evaluation import Score
    from unigen.evaluation._verdict import verdict

    def row(name, value, stderr):
        return {"name": name, "role": "model", "scores": {"translation_error": Score(
            "translation_error", value, stderr, extra={"identity_error": 0.5})}}

    close = verdict([row("a", 0.30, 0.01), row("b", 0.32, 0.01)])[0]  # gap 0.02 < 2 * 0.014
    assert close.endswith("It is not clearly ahead of b (0.320): the gap, 0.020, is within "
                          "two standard errors.")
    apart = verdict([row("a", 0.30, 0.005), row("b", 0.32, 0.005)])[0]  # 0.02 > 2 * 0.007
    assert apart.startswith("Best translation error: a") and "not clearly" not in apart


def test_multi_domain_translation_scores_carry_their_standard_errors(monkeypatch):
    import types

    from unigen.evaluation import _translation

    class FixedImages:  # into domain j: the constant image 4 (j + 1)
        def translate(self, x, target_domain):
            value = 4.0 * (np.broadcast_to(np.asarray(target_domain), (len(x),)) + 1.0)
            return np.broadcast_to(value[:, None, None, None], np.shape(x)).copy()

    monkeypatch.setattr(_translation, "_classifier", lambda ctx: types.SimpleNamespace(
        probabilities=lambda images: np.eye(4)[np.full(len(images), 2)]))  # "rotated"
    ctx = types.SimpleNamespace(info=datasets.info("digits_domains"), dataset="digits_domains",
                                data_dir=None)
    scores = _translation.translation_metric_scores(FixedImages(), ctx)
    raw = translation_scores(FixedImages(), "digits_domains",
                             classifier=lambda images: np.eye(4)[np.full(len(images), 2)])
    for key, raw_key in (("translation_error", "error"), ("cycle_error", "cycle_error"),
                         ("domain_accuracy", "domain_accuracy")):
        assert scores[key].value == raw[raw_key]
        assert scores[key].stderr == raw[raw_key + "_stderr"] > 0
    # One of the three targets of each image not already rotated is a hit, none of the others'.
    y = datasets.as_numpy("digits_domains", "test", with_labels=True)[1]
    assert scores["domain_accuracy"].value == pytest.approx(np.mean(y != 2) / 3)
