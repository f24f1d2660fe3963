"""`translation_scores`: values and standard errors against hand computations (images as the
independent units), and the ``domains=`` subset of a multi-domain set."""

import math

import numpy as np
import pytest

from unigen import datasets
from unigen.models.translation import translation_scores

LEVELS = 17


class FixedImages:
    """A stand-in translator: into domain j it returns the constant image 4 (j + 1)."""

    def translate(self, x, target_domain):
        value = 4.0 * (np.broadcast_to(np.asarray(target_domain), (len(x),)) + 1.0)
        return np.broadcast_to(value[:, None, None, None], np.shape(x)).copy()


class Inverter:
    """A stand-in CycleGAN whose both directions invert the levels: L - 1 - x."""

    generator_b_to_a = None

    def translate(self, x, direction="a_to_b"):
        return LEVELS - 1 - np.asarray(x, np.float64)


def _classify_as(domain):
    """A stand-in domain classifier that puts every image in `DOMAINS` index ``domain``."""
    return lambda images: np.eye(4)[np.full(len(images), domain)]


def _mean_and_stderr(per_image):
    per_image = np.asarray(per_image, np.float64)
    return per_image.mean(), per_image.std(ddof=1) / math.sqrt(len(per_image))


def test_two_domain_errors_and_accuracy_with_their_standard_errors_by_hand():
    scores = translation_scores(Inverter(), "digits_inverted", num_examples=30,
                                classifier=_classify_as(1))  # always "inverted"
    x = datasets.as_numpy("digits_inverted", "test")[:30].astype(np.float64)
    truth = datasets.true_targets("digits_inverted", "test")[:30].astype(np.float64)
    inverted = LEVELS - 1 - x
    for key, out, target in (("a_to_b_error", inverted[..., :1], truth[..., :1]),
                             ("b_to_a_error", inverted[..., 1:], truth[..., 1:]),
                             ("identity_error", x[..., :1], truth[..., :1])):
        per_image = [np.mean(np.abs(out[i] - target[i])) / (LEVELS - 1) for i in range(30)]
        mean, stderr = _mean_and_stderr(per_image)
        assert scores[key] == pytest.approx(mean) and scores[key + "_stderr"] == pytest.approx(
            stderr)
    assert scores["a_to_b_error"] == scores["cycle_error"] == scores["cycle_error_stderr"] == 0
    assert scores["identity_error_stderr"] > 0 and scores["num_images"] == 30
    # Each example gives two translations (a -> b: a hit; b -> a: a miss), so every
    # example's share is 1/2: accuracy 1/2 with no spread over examples.
    assert scores["domain_accuracy"] == 0.5 and scores["domain_accuracy_stderr"] == 0.0
    assert scores["domain_accuracy_a_to_b"] == 1.0 and scores["domain_accuracy_b_to_a"] == 0.0
    assert scores["domain_accuracy_a_to_b_stderr"] == 0.0


def test_multi_domain_subset_scores_every_image_into_the_others_by_hand():
    domains = ["rotated", "original", "thickened"]  # model domain j is domains[j]
    scores = translation_scores(FixedImages(), "digits_domains", num_examples=60,
                                domains=domains, classifier=_classify_as(2))  # "rotated"
    x, y = datasets.as_numpy("digits_domains", "test", with_labels=True)
    truth = datasets.true_targets("digits_domains", "test").astype(np.float64)
    names = datasets.info("digits_domains").domains
    errors, cycles, hits, by_target = [], [], [], {j: [] for j in range(3)}
    for i in range(60):
        if names[y[i]] not in domains:
            continue
        source = domains.index(names[y[i]])
        error, cycle, hit = [], [], []
        for j, name in enumerate(domains):
            if j == source:
                continue
            out = 4.0 * (j + 1)
            error.append(np.mean(np.abs(out - truth[i, names.index(name)])) / (LEVELS - 1))
            cycle.append(np.mean(np.abs(4.0 * (source + 1) - x[i])) / (LEVELS - 1))
            hit.append(name == "rotated")
            by_target[j].append(error[-1])
        errors.append(np.mean(error))
        cycles.append(np.mean(cycle))
        hits.append(np.mean(hit))
    n = len(errors)
    assert scores["num_images"] == n and 30 < n < 60
    for key, per_image in (("error", errors), ("cycle_error", cycles)):
        mean, stderr = _mean_and_stderr(per_image)
        assert scores[key] == pytest.approx(mean)
        assert scores[key + "_stderr"] == pytest.approx(stderr)
    for j in range(3):
        mean, stderr = _mean_and_stderr(by_target[j])
        assert scores["error_per_domain"][j] == pytest.approx(mean)
        assert scores["error_per_domain_stderr"][j] == pytest.approx(stderr)
    # Images of "rotated" miss both their translations, the others hit one of two.
    share = np.mean(hits)
    assert sorted(set(hits)) == [0.0, 0.5]
    assert scores["domain_accuracy"] == pytest.approx(share)
    assert scores["domain_accuracy_stderr"] == pytest.approx(
        math.sqrt(np.sum((np.asarray(hits) - share) ** 2)) / n)
    # Images, not (image, domain) pairs, are the units: with several translations per
    # image the error's standard error is not that of the pooled pairs.
    pooled = np.concatenate([by_target[j] for j in range(3)])
    assert scores["error_stderr"] != pytest.approx(pooled.std(ddof=1) / math.sqrt(len(pooled)))


def test_domains_default_to_every_domain_and_bad_domains_say_what_is_wrong():
    every = translation_scores(FixedImages(), "digits_domains", num_examples=24)
    assert every == translation_scores(FixedImages(), "digits_domains", num_examples=24,
                                       domains=[0, 1, 2, 3])
    assert every["num_images"] == 24 and len(every["error_per_domain"]) == 4
    two = translation_scores(FixedImages(), "digits_domains", num_examples=24,
                             domains=["original", "inverted"], classifier=_classify_as(0))
    y = datasets.as_numpy("digits_domains", "test", with_labels=True)[1][:24]
    inverted = np.mean(y[np.isin(y, [0, 1])] == 1)  # each image: one translation
    assert two["domain_accuracy"] == pytest.approx(inverted)  # those into "original"
    assert two["domain_accuracy_stderr"] == pytest.approx(
        math.sqrt(inverted * (1 - inverted) / two["num_images"]))  # binomial
    with pytest.raises(ValueError, match="`domains` selects domains of a multi-domain set"):
        translation_scores(Inverter(), "digits_inverted", num_examples=4, domains=[0, 1])
    with pytest.raises(ValueError, match=r"names in original, inverted.*got 'blurred'"):
        translation_scores(FixedImages(), "digits_domains", domains=["original", "blurred"])
    with pytest.raises(ValueError, match="at least two different domains"):
        translation_scores(FixedImages(), "digits_domains", domains=[1, 1])
