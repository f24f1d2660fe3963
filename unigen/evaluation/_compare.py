"""`unigen.compare`: several models on the same held-out data, and the report."""

import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from unigen import _checks
from unigen.evaluation._evaluate import (
    _MODEL_ONLY,
    EvaluationData,
    _check_metrics,
    check_estimator_options,
    check_model,
    draw_samples,
    floor_scores,
    sayer,
    score_model,
)
from unigen.evaluation._reference import Memoriser, NoiseMixture

__all__ = ["compare"]

FLOOR = "real data (validation)"


def _noise_base(models, ctx):
    """The explicit model with exact (or dequantized) likelihood that scores best
    on the validation split; a Gaussian fitted in closed form when there is none."""
    from unigen.evaluation._likelihood import _kind

    candidates = [m for m in models.values() if getattr(m, "has_log_prob", True)
                  and _kind(m) in ("exact", "dequantization", "variational")]
    if candidates:
        held_out = ctx.validation[:500]
        return max(candidates, key=lambda m: float(np.mean(np.asarray(m.log_prob(held_out)))))
    import unigen

    base = unigen.models.Gaussian(event_shape=ctx.x.shape[1:], num_levels=ctx.num_levels)
    base.build((None, *ctx.x.shape[1:]))
    base.data_dependent_init(np.asarray(ctx.train_x, np.float32))
    return base


def reference_models(ctx, models=None, *, weight=0.01):
    """The noise mixture and the memoriser for these data (seed 004's two cases)."""
    if ctx.train_x is None or ctx.validation is None:
        return {}
    value_range = None
    if ctx.num_levels is None:
        value_range = ctx.info.value_range if ctx.info else (
            float(ctx.train_x.min()), float(ctx.train_x.max()))
    base = _noise_base(models or {}, ctx)
    return {"noise mixture (ref.)": NoiseMixture(base, weight, value_range=value_range),
            "memoriser (ref.)": Memoriser(ctx.train_x, ctx.num_levels, ctx.validation)}


def named_models(models, what="models"):
    """``{name: model}`` of `compare`'s ``models``, with saved models loaded.

    A path (str or `os.PathLike`: a ``.keras`` file or a training run's
    directory) is loaded by `unigen.training.saving.load_named`, the helper
    that ``unigen compare --models`` uses too, so both name it alike; every path
    is loaded before anything is scored.
    """
    from unigen.training.saving import load_named

    if isinstance(models, (str, os.PathLike)):
        models = [models]
    if isinstance(models, dict):
        named = {name: load_named(m, what=f"`{what}[{name!r}]`")[1]
                 if isinstance(m, (str, os.PathLike)) else m for name, m in models.items()}
    else:
        named, given = {}, {}
        for m in models:
            if isinstance(m, (str, os.PathLike)):
                name, model = load_named(m, what=f"an entry of `{what}`")
            else:
                name, model = type(m).__name__.lower(), m
            if name in named:
                raise ValueError(
                    f"Two entries of `{what}` are named {name!r} ({given[name]!r:.80} and "
                    f"{m!r:.80}); pass a dict name -> model or path to name them apart.")
            named[name], given[name] = model, m
    if not named:
        raise ValueError(f"`{what}` must name at least one model.")
    return named


def compare(models, data, *, output_dir=None, metrics=None, references=True, dataset=None,
            train=None, validation=None, features=None, cache_dir=None, seed=0,
            num_samples=None, importance_samples=100, parzen_samples=1000,
            ais_steps=100, ais_chains=4, ais_examples=100, training_seconds=None,
            training=None, title=None, verbose=None, inception_weights=None):
    """Evaluates several models on the same held-out data and writes a report.

    Every model is scored with `unigen.evaluate` against one `EvaluationData`
    (same test examples, same feature network, same seeds). The report adds a
    floor row (held-out validation data scored as if it were a model's
    samples) and, with ``references=True``, two reference models: a noise
    mixture (good likelihood, bad samples) and a memoriser (perfect samples,
    bad likelihood: infinite, beside its flattering Parzen estimate).

    Example::

        report = unigen.compare({"gan": gan, "glow": glow, "vae": vae,
                                 "gaussian": base}, test, output_dir="runs/cmp")
        print(report.to_markdown())

    Models saved on disk can be given by path (str or `os.PathLike`): a
    ``.keras`` file or a training run's directory (the ``output_dir`` of
    `unigen.fit`), loaded with ``unigen.load(path, compile=False)`` before
    anything is scored::

        report = unigen.compare(["runs/glow", "runs/vae/model.keras", base], test)

    Args:
        models: dict name -> model or path, or a list of models and paths
            (a model named by its class, a path as ``unigen compare --models``
            names it: ``runs/x`` and ``runs/x/model.keras`` are ``"x"``,
            ``gan_v2.keras`` is ``"gan_v2"``); two list entries with one name
            raise ValueError (give a dict instead).
        data: held-out data, as for `unigen.evaluate`.
        output_dir: where to write ``report.md``, ``report.html``,
            ``scores.json``, sample grids and the plot (None: write nothing).
        metrics: as for `unigen.evaluate` (default: all that apply).
        references: add the noise-mixture and memoriser reference models.
        dataset: as for `unigen.evaluate` (also ``train``, ``validation``,
            ``features``, ``inception_weights``, ``cache_dir``, ``seed``, ``num_samples``,
            ``importance_samples``, ``parzen_samples``, ``ais_steps``,
            ``ais_chains`` and ``ais_examples``).
        training_seconds: optional dict name -> training time to report.
        training: optional dict name -> training budget, a dict with any of
            ``epochs``, ``steps``, ``seconds`` (shown in the timing table and
            the verdict).
        title: the report's title.
        verbose: 0 prints nothing; 1 names each model as it is scored, then
            prints one line per step with its seconds (see `unigen.evaluate`);
            None: as the `EvaluationData` says (default 1).

    Returns:
        A `Report`.

    Raises:
        FileNotFoundError, unigen.errors.RunDirectoryError,
        unigen.errors.UnsafeModelFileError: a path that `unigen.load` refuses
            (before any scoring; the message names the path and the fix).
    """
    from unigen.evaluation._report import Report

    start = time.perf_counter()
    models = named_models(models)
    ctx = data if isinstance(data, EvaluationData) else EvaluationData(
        data, dataset=dataset, train=train, validation=validation, features=features,
        cache_dir=cache_dir, seed=seed, verbose=1 if verbose is None else verbose,
        inception_weights=inception_weights)
    for name, model in models.items():  # every model, before any is scored
        check_model(model, ctx, name)
    if num_samples is not None:
        num_samples = _checks.check_positive_int("num_samples", num_samples)
    references = _checks.check_bool("references", references)
    options = check_estimator_options(importance_samples=importance_samples,
                                      parzen_samples=parzen_samples, ais_steps=ais_steps,
                                      ais_chains=ais_chains, ais_examples=ais_examples)
    if output_dir is not None:  # a report that cannot be written fails before the scoring
        output_dir = _checks.check_output_dir(output_dir)
    verbose = ctx.verbose if verbose is None else verbose
    if ctx.info is not None and ctx.info.kind == "sequence":  # token data: own metrics
        from unigen.evaluation._sequence_compare import compare_sequences

        return compare_sequences(models, ctx, output_dir=output_dir, seed=seed,
                                 num_samples=num_samples or 1000, references=references,
                                 title=title)
    metrics = _check_metrics(metrics, ctx)
    all_models = dict(models)
    if references:
        with threadpool_limits(limits=1, user_api="blas"):
            all_models.update(reference_models(ctx, models))
    n = num_samples or ctx.num_samples
    rows = []
    sample_metrics = [m for m in metrics if m not in _MODEL_ONLY]
    if sample_metrics and ctx.reference_samples() is not None:
        floor = floor_scores(ctx, sample_metrics, sayer(verbose, "[compare] "))
        rows.append({"name": FLOOR, "role": "floor", "scores": floor,
                     "samples": ctx.reference_samples()[:n], "seconds": None})
    say = sayer(verbose, "[compare]   ")
    for i, (name, model) in enumerate(all_models.items()):
        t0 = time.perf_counter()
        if verbose:
            print(f"[compare] scoring {name} ({i + 1}/{len(all_models)}) ...", flush=True)
        samples = draw_samples(model, ctx, n, seed, say, f"The samples of `models[{name!r}]`")
        with threadpool_limits(limits=1, user_api="blas"):
            scores = score_model(model, ctx, metrics, num_samples=n, seed=seed,
                                 samples=samples, options=options, say=say)
        rows.append({"name": name, "role": "reference" if name.endswith("(ref.)") else "model",
                     "scores": scores, "samples": samples,
                     "seconds": time.perf_counter() - t0,
                     "training": dict((training or {}).get(name) or {}),
                     "train_seconds": (training_seconds or {}).get(name)})
        budget = rows[-1]["training"]
        if rows[-1]["train_seconds"] is None:
            rows[-1]["train_seconds"] = budget.get("seconds")
        elif "seconds" not in budget and rows[-1]["role"] == "model":
            budget["seconds"] = rows[-1]["train_seconds"]
    report = Report(rows, ctx, metrics, title=title,
                    seconds=time.perf_counter() - start)
    if output_dir is not None:
        report.save(output_dir)
    return report

