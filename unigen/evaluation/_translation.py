"""Translation scores in `unigen.evaluate` and `unigen.compare`, for translation sets.

On a translation set of `unigen.datasets` (``digits_inverted``,
``digits_domains``, ...) a model that translates (``translate``: CycleGAN,
StarGAN, Pix2Pix) is scored against the held-back true targets by
`unigen.models.translation.translation_scores`, the one scoring code (the
benchmark ``benchmarks/translation.py`` scores CycleGAN, StarGAN and pix2pix
with it). Its dict becomes three `Score` s, each with the standard error that
``translation_scores`` gives (test images as the independent units):
``translation_error``, ``cycle_error`` and ``domain_accuracy``; the domain
classifier is unigen's feature network of the multi-domain set made from the
same images (`unigen.models.translation.multi_domain_set`), trained and cached
like every feature network.
"""

import math

from unigen.evaluation._metrics import Score

__all__ = ["applies", "translation_metric_scores"]

METRIC = "translation"


def applies(ctx):
    """Whether the held-out data are the test split of a translation set."""
    return ctx.info is not None and ctx.info.layout is not None


def _classifier(ctx):
    from unigen.evaluation._features import feature_network
    from unigen.models.translation import multi_domain_set

    if "domain_classifier" not in ctx._cache:
        ctx._cache["domain_classifier"] = feature_network(
            multi_domain_set(ctx.dataset), cache_dir=ctx.cache_dir, seed=ctx.seed,
            data_dir=ctx.data_dir, verbose=ctx.verbose)
    return ctx._cache["domain_classifier"]


def translation_metric_scores(model, ctx):
    """``translation_error``, ``cycle_error`` (when the model translates back) and
    ``domain_accuracy`` of ``model`` on the test split; {} for a model that does
    not translate (the reference models, an unconditional GAN)."""
    if not hasattr(model, "translate"):
        return {}
    from unigen.models.translation import translation_scores

    classifier = _classifier(ctx)
    raw = translation_scores(model, ctx.dataset, "test", data_dir=ctx.data_dir,
                             classifier=classifier.probabilities)
    domains = ctx.info.layout == "domains"
    what = ("every test image into every other domain" if domains else
            "each test image a -> b")
    key = "error" if domains else "a_to_b_error"
    baseline = raw["identity_error"]
    uncertainty = ("; ± standard error over the test images (each image's translations "
                 "averaged first)")
    out = {"translation_error": Score(
        "translation_error", raw[key], raw[key + "_stderr"],
        estimator=(f"mean |translation - true target| per pixel in units of the pixel "
                   f"range (0 exact, 1 worst), {what}; not translating scores "
                   f"{baseline:.3f}" + uncertainty), higher_is_better=False, extra=dict(raw))}
    if "cycle_error" in raw:
        out["cycle_error"] = Score(
            "cycle_error", raw["cycle_error"], raw["cycle_error_stderr"],
            estimator=("mean |translated back - input| per pixel (units of the pixel range)"
                       + uncertainty), higher_is_better=False)
    if "domain_accuracy" in raw:
        accuracy = getattr(classifier, "test_accuracy", None)
        out["domain_accuracy"] = Score(
            "domain_accuracy", raw["domain_accuracy"], raw["domain_accuracy_stderr"],
            estimator=("share of translations that a classifier of the domains puts in "
                       "their target domain" + (
                           f" (its accuracy on real test images {accuracy:.3f})"
                           if accuracy is not None and math.isfinite(accuracy) else "")
                       + "; ± binomial over the test images (per image when it gives "
                       "several translations)"),
            higher_is_better=True)
    return out
