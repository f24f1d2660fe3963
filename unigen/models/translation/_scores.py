"""Scoring a translation model against the held-back true targets of a translation set."""

import numpy as np

__all__ = ["multi_domain_set", "translation_scores"]


def _mean_error(x, y, scale):
    return float(np.mean(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))) / scale)


def multi_domain_set(dataset):
    """The multi-domain translation set made from the same images as ``dataset``.

    Its labels are the domains (`unigen.datasets.DOMAINS` order), so a
    classifier trained on it (`unigen.evaluation.feature_network` of it) tells
    the domain of any translated image: ``digits_inverted`` -> ``digits_domains``.

    Raises:
        ValueError: ``dataset`` is not a translation set.
    """
    from unigen import datasets

    info = datasets.info(dataset)
    if info.layout is None:
        sets = [n for n in datasets.available() if datasets.info(n).layout is not None]
        raise ValueError(f"{dataset!r} is not a translation set (it has no domains); the "
                         f"translation sets are {', '.join(sets)}.")
    if info.layout == "domains":
        return info.name
    for name in datasets.available():
        other = datasets.info(name)
        if other.layout == "domains" and other.source == info.source:
            return name
    raise ValueError(f"No multi-domain set is made from the images of {dataset!r}.")


def _hits(classifier, images, domain):
    """Whether ``classifier`` puts each image in ``domain`` (an index of `DOMAINS`)."""
    scores = np.asarray(classifier(np.asarray(images)))
    return np.argmax(scores, axis=-1) == int(domain)


def translation_scores(model, dataset, split="test", *, data_dir=None, num_examples=None,
                       classifier=None):
    """Per-pixel errors of ``model``'s translations against the true targets.

    Errors are mean absolute differences in units of the pixel range (levels
    divided by L - 1, so 0 is exact and 1 the largest possible), between
    ``model.translate`` of each image of the split and its true translation
    (`unigen.datasets.true_targets`):

    * two-domain sets ("unpaired", "paired" layouts; CycleGAN, Pix2Pix):
      ``a_to_b_error``, and for a model that translates both ways
      ``b_to_a_error`` and ``cycle_error`` (mean of ``E|F(G(a)) - a|`` and
      ``E|G(F(b)) - b|``); ``identity_error``: the error of leaving a untranslated
      (the baseline to beat).
    * multi-domain sets ("domains" layout; StarGAN): ``error`` over every image
      and every target domain other than its own, ``error_per_domain`` (by
      target), ``cycle_error`` (back to the source domain) and ``identity_error``.
    * with a ``classifier``: ``domain_accuracy``, the share of translated images
      that it puts in their target domain (over every translation scored).

    Args:
        model: a trained `CycleGAN`, `Pix2Pix` or `StarGAN`.
        dataset: the name of a translation set, e.g. "digits_inverted".
        split: its split to score ("test").
        data_dir, num_examples: as in `unigen.datasets.as_numpy`.
        classifier: None, or a callable from images (levels ``[n, h, w, c]``, one
            domain) to scores over the domains of `unigen.datasets.DOMAINS` (its
            argmax is the predicted domain), for example the probabilities of
            ``unigen.evaluation.feature_network(multi_domain_set(dataset))``.

    Returns:
        A dict of floats (``error_per_domain``: a list).
    """
    from unigen import datasets

    info = datasets.info(dataset)
    truth = datasets.true_targets(dataset, split, data_dir=data_dir, num_examples=num_examples)
    scale = float(info.num_levels - 1) if info.num_levels else 1.0
    index = [datasets.DOMAINS.index(d) for d in info.domains]  # the classifier's classes
    hits = []
    if info.layout == "domains":
        x, y = datasets.as_numpy(dataset, split, with_labels=True, data_dir=data_dir,
                                 num_examples=num_examples)
        errors, cycles, per_domain, identity = [], [], [], []
        for j in range(len(info.domains)):
            other = y != j
            out = np.asarray(model.translate(x[other], j))
            if classifier is not None:
                hits.append(_hits(classifier, out, index[j]))
            error = np.abs(out - truth[other, j].astype(np.float64)) / scale
            errors.append(error.reshape(len(out), -1).mean(1))
            per_domain.append(float(error.mean()))
            back = np.asarray(model.translate(out, y[other]))
            cycles.append(np.abs(back - x[other]).reshape(len(out), -1).mean(1) / scale)
            identity.append(np.abs(x[other] - truth[other, j].astype(np.float64)).reshape(
                len(out), -1).mean(1) / scale)
        scores = {"error": float(np.mean(np.concatenate(errors))),
                  "error_per_domain": per_domain,
                  "cycle_error": float(np.mean(np.concatenate(cycles))),
                  "identity_error": float(np.mean(np.concatenate(identity)))}
    else:
        x = datasets.as_numpy(dataset, split, data_dir=data_dir, num_examples=num_examples)
        c = info.event_shape[-1] // 2
        a, b = x[..., :c], x[..., c:]
        a_to_b = np.asarray(model.translate(a, "a_to_b"))
        scores = {"a_to_b_error": _mean_error(a_to_b, truth[..., :c], scale),
                  "identity_error": _mean_error(a, truth[..., :c], scale)}
        if classifier is not None:
            hits.append(_hits(classifier, a_to_b, index[1]))
        if hasattr(model, "generator_b_to_a"):
            b_to_a = np.asarray(model.translate(b, "b_to_a"))
            scores["b_to_a_error"] = _mean_error(b_to_a, truth[..., c:], scale)
            scores["cycle_error"] = 0.5 * (
                _mean_error(model.translate(a_to_b, "b_to_a"), a, scale)
                + _mean_error(model.translate(b_to_a, "a_to_b"), b, scale))
            if classifier is not None:
                hits.append(_hits(classifier, b_to_a, index[0]))
    if hits:
        scores["domain_accuracy"] = float(np.mean(np.concatenate(hits)))
    return scores
