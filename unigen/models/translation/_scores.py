"""Scoring a translation model against the held-back true targets of a translation set."""

import math

import numpy as np

__all__ = ["multi_domain_set", "translation_scores"]


def _per_image_error(x, y, scale):
    """Mean |x - y| over the pixels of each image, in units of the pixel range: ``[n]``."""
    difference = np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64))
    return difference.reshape(len(difference), -1).mean(axis=1) / scale


def _per_image(values, translated):
    """Each image's mean over its translations: ``values`` ``[n]`` or ``[n, k]``, where
    ``translated`` (``[n, k]`` bools, or None for all) marks the translations made."""
    values = np.asarray(values, np.float64).reshape(len(values), -1)
    if translated is None:
        return values.mean(axis=1)
    return np.sum(np.where(translated, values, 0.0), axis=1) / np.sum(translated, axis=1)


def _mean_and_stderr(values, translated=None):
    """Mean of ``values`` and its standard error, images as the independent units.

    ``values`` is ``[n]`` (one number per image) or ``[n, k]`` (k translations
    per image, of which ``translated`` marks those made): each image's numbers
    are averaged first, m_i, and the standard error is sd(m_1..m_n) / sqrt(n)
    (sample standard deviation; NaN for one image).
    """
    per_image = _per_image(values, translated)
    n = len(per_image)
    if n == 0:
        return math.nan, math.nan
    stderr = float(np.std(per_image, ddof=1) / math.sqrt(n)) if n > 1 else math.nan
    return float(np.mean(per_image)), stderr


def _proportion_and_stderr(hits, translated=None):
    """Share of hits and its standard error, images as the independent units.

    ``hits`` is ``[n, k]`` bools (of which ``translated`` marks the translations
    made): with h_i each image's share of hits and p their mean, the standard
    error is sqrt(sum_i (h_i - p)^2) / n, which for one translation per image
    is the binomial sqrt(p (1 - p) / n).
    """
    per_image = _per_image(hits, translated)
    n = len(per_image)
    if n == 0:
        return math.nan, math.nan
    share = float(np.mean(per_image))
    return share, float(math.sqrt(np.sum((per_image - share) ** 2)) / n)


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


def _check_domains(domains, info):
    """``domains`` (indices or names of ``info.domains``) as a list of indices."""
    if info.layout != "domains":
        raise ValueError(f"`domains` selects domains of a multi-domain set; {info.name!r} "
                         f"has the two domains {', '.join(info.domains)}: leave `domains` "
                         f"None.")
    indices = []
    for domain in domains:
        if isinstance(domain, str) and domain in info.domains:
            indices.append(info.domains.index(domain))
        elif (isinstance(domain, (int, np.integer)) and not isinstance(domain, bool)
              and 0 <= domain < len(info.domains)):
            indices.append(int(domain))
        else:
            raise ValueError(f"`domains` must hold domains of {info.name!r}: names in "
                             f"{', '.join(info.domains)} or indices 0..{len(info.domains) - 1}; "
                             f"got {domain!r}.")
    if len(indices) < 2 or len(set(indices)) != len(indices):
        raise ValueError(f"`domains` must name at least two different domains, got "
                         f"{list(domains)!r}.")
    return indices


def _multi_domain(model, x, y, truth, domains, scale, classifier, index):
    """Scores of a K-domain model; model domain j is the set's domain ``domains[j]``."""
    position = np.full(max(domains) + 1, -1, np.int64)
    position[domains] = np.arange(len(domains))
    keep = np.isin(y, domains)
    x, truth = x[keep], truth[keep][:, domains]
    source = position[y[keep]].astype("int32")
    shape = (len(x), len(domains))
    translated = source[:, None] != np.arange(len(domains))[None, :]  # [n, K]: c' != c
    error, cycle, identity, hit = (np.zeros(shape) for _ in range(4))
    for j in range(len(domains)):
        other = translated[:, j]
        out = np.asarray(model.translate(x[other], j))
        error[other, j] = _per_image_error(out, truth[other, j], scale)
        back = np.asarray(model.translate(out, source[other]))
        cycle[other, j] = _per_image_error(back, x[other], scale)
        identity[other, j] = _per_image_error(x[other], truth[other, j], scale)
        if classifier is not None:
            hit[other, j] = _hits(classifier, out, index[domains[j]])
    scores = {"num_images": len(x)}
    for key, values in (("error", error), ("cycle_error", cycle), ("identity_error", identity)):
        scores[key], scores[key + "_stderr"] = _mean_and_stderr(values, translated)
    by_target = [_mean_and_stderr(error[translated[:, j], j]) for j in range(len(domains))]
    scores["error_per_domain"] = [mean for mean, _ in by_target]
    scores["error_per_domain_stderr"] = [stderr for _, stderr in by_target]
    if classifier is not None:
        scores["domain_accuracy"], scores["domain_accuracy_stderr"] = (
            _proportion_and_stderr(hit, translated))
    return scores


def _two_domain(model, x, truth, scale, classifier, index):
    """Scores of a CycleGAN (both ways) or Pix2Pix (a to b) on a two-domain set."""
    c = x.shape[-1] // 2
    a, b = x[..., :c], x[..., c:]
    a_to_b = np.asarray(model.translate(a, "a_to_b"))
    per_image = {"a_to_b_error": _per_image_error(a_to_b, truth[..., :c], scale),
                 "identity_error": _per_image_error(a, truth[..., :c], scale)}
    hits = []
    if classifier is not None:
        hits.append(_hits(classifier, a_to_b, index[1]))
    if hasattr(model, "generator_b_to_a"):
        b_to_a = np.asarray(model.translate(b, "b_to_a"))
        per_image["b_to_a_error"] = _per_image_error(b_to_a, truth[..., c:], scale)
        per_image["cycle_error"] = 0.5 * (
            _per_image_error(model.translate(a_to_b, "b_to_a"), a, scale)
            + _per_image_error(model.translate(b_to_a, "a_to_b"), b, scale))
        if classifier is not None:
            hits.append(_hits(classifier, b_to_a, index[0]))
    scores = {"num_images": len(x)}
    for key, values in per_image.items():
        scores[key], scores[key + "_stderr"] = _mean_and_stderr(values)
    if hits:
        hits = np.stack(hits, axis=1)
        scores["domain_accuracy"], scores["domain_accuracy_stderr"] = (
            _proportion_and_stderr(hits))
        for j, key in enumerate(("domain_accuracy_a_to_b", "domain_accuracy_b_to_a")[
                :hits.shape[1]]):
            scores[key], scores[key + "_stderr"] = _proportion_and_stderr(hits[:, j:j + 1])
    return scores


def translation_scores(model, dataset, split="test", *, data_dir=None, num_examples=None,
                       classifier=None, domains=None):
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
      that it puts in their target domain (over every translation scored; on a
      two-domain set also by direction, ``domain_accuracy_a_to_b`` and
      ``domain_accuracy_b_to_a``).

    Standard errors (``<key>_stderr`` beside each key) treat the test images
    (the examples of the split) as the independent units, not the
    translations: an image of a K-domain set is translated into its K - 1
    other domains, and an example of a two-domain set gives a -> b and b -> a,
    so each image's values are averaged first, m_i, and for the n images

        value = mean_i m_i,   stderr = sd(m_1, ..., m_n) / sqrt(n)

    (sample standard deviation; every image has the same number of
    translations, so the value is also the mean over all translations). The
    domain accuracy's is sqrt(sum_i (h_i - p)^2) / n with h_i the share of
    image i's translations put in their target domain and p the accuracy:
    the binomial sqrt(p (1 - p) / n) when each image gives one translation.
    ``error_per_domain_stderr``: by target domain, over the images translated
    into it. ``num_images``: n. The standard errors describe the spread over
    test images of one trained model, not the spread over training runs.

    Args:
        model: a trained `CycleGAN`, `Pix2Pix` or `StarGAN`.
        dataset: the name of a translation set, e.g. "digits_inverted".
        split: its split to score ("test").
        data_dir, num_examples: as in `unigen.datasets.as_numpy`.
        classifier: None, or a callable from images (levels ``[n, h, w, c]``, one
            domain) to scores over the domains of `unigen.datasets.DOMAINS` (its
            argmax is the predicted domain), for example the probabilities of
            ``unigen.evaluation.feature_network(multi_domain_set(dataset))``.
        domains: None (every domain of the set), or, for a multi-domain set, the
            domains a model trained on a subset of them knows: names or indices
            of ``unigen.datasets.info(dataset).domains``, in the model's order
            (its domain j is ``domains[j]``). Only the images of these domains
            are scored, each into the others of these domains.

    Returns:
        A dict of floats (``error_per_domain`` and its standard errors: lists,
        in the model's domain order; ``num_images``: an int).

    Raises:
        ValueError: ``domains`` given for a two-domain set, or naming domains
            the set does not have (or fewer than two).
    """
    from unigen import datasets

    info = datasets.info(dataset)
    if domains is not None:
        domains = _check_domains(domains, info)
    truth = datasets.true_targets(dataset, split, data_dir=data_dir, num_examples=num_examples)
    scale = float(info.num_levels - 1) if info.num_levels else 1.0
    index = [datasets.DOMAINS.index(d) for d in info.domains]  # the classifier's classes
    if info.layout == "domains":
        x, y = datasets.as_numpy(dataset, split, with_labels=True, data_dir=data_dir,
                                 num_examples=num_examples)
        return _multi_domain(model, x, np.asarray(y), truth,
                             list(range(len(info.domains))) if domains is None else domains,
                             scale, classifier, index)
    x = datasets.as_numpy(dataset, split, data_dir=data_dir, num_examples=num_examples)
    return _two_domain(model, x, truth, scale, classifier, index)
