"""`unigen.evaluate`: every metric of one model on held-out data."""

import os
import time

import numpy as np
from threadpoolctl import threadpool_limits

from unigen import _checks, errors
from unigen.evaluation import _class_scores, _metrics, _translation
from unigen.evaluation._likelihood import estimators, likelihood, seconds_text, summary

__all__ = ["IMAGE_METRICS", "VECTOR_METRICS", "MetricNotApplicableError", "evaluate"]

IMAGE_METRICS = ("nll", "fid", "kid", "precision_recall", "density_coverage",
                 "inception_score", "mode_score", "am_score", "c2st", "mmd", "memorisation")
VECTOR_METRICS = ("nll", "precision_recall", "density_coverage", "c2st", "mmd",
                  "memorisation", "modes")
_ALL = set(IMAGE_METRICS) | set(VECTOR_METRICS) | {_translation.METRIC}
_MODEL_ONLY = ("nll", _translation.METRIC)  # no floor: scored on models only
_IMAGE_ONLY = {"fid": "FID", "kid": "KID", "inception_score": "the Inception Score",
               "mode_score": "the MODE score", "am_score": "the AM score"}
_CLASS_METRICS = ("inception_score", "mode_score", "am_score")
_FEATURES = ("classifier", "contrastive", "inception_v3")


class MetricNotApplicableError(ValueError):
    """A metric was asked for on data it does not apply to."""


def _to_numpy(data, what="`data`"):
    """(x, y or None) from an array, a pair of arrays or a tf.data.Dataset."""
    if isinstance(data, tuple) and len(data) == 2:
        return np.asarray(data[0]), np.asarray(data[1])
    if hasattr(data, "as_numpy_iterator"):
        spec = data.element_spec
        first = spec[0] if isinstance(spec, tuple) else spec
        batched = first.shape.rank and first.shape[0] is None
        join = np.concatenate if batched else np.stack
        xs, ys = [], []
        for element in data.as_numpy_iterator():
            if isinstance(element, tuple):
                xs.append(element[0])
                ys.append(element[1])
            else:
                xs.append(element)
        if not xs:
            raise errors.DataError(f"{what} is empty: the tf.data.Dataset yielded no "
                                   f"examples. Check the file, split or filter that made it.")
        return join(xs), (join(ys) if ys else None)
    return np.asarray(data), None


def _match_dataset(x):
    """The name of a built-in dataset whose test split equals ``x``, or None."""
    from unigen import datasets

    for name in datasets.available():
        info = datasets.info(name)
        if tuple(info.event_shape) != tuple(x.shape[1:]) or info.splits.get("test") != len(x):
            continue
        try:
            test = datasets.as_numpy(name, "test")
        except Exception:
            continue
        if test.shape == x.shape and np.array_equal(test, x):
            return name
    return None


class EvaluationData:
    """Held-out data, reference splits and the feature network of one evaluation.

    `unigen.evaluate` and `unigen.compare` build it from their arguments; build
    it yourself to score several models against the same data and features.

    Args:
        data: a dataset name (its "test" split), an array, a pair ``(x, y)`` or
            a `tf.data.Dataset` (as `unigen.datasets.load` returns).
        dataset: the built-in dataset the data come from (inferred when the
            data equal a built-in test split).
        train: ``(x, y)`` or ``x`` training data (default: the dataset's
            "train" split): the memorisation check, the feature network.
        validation: held-out data for the real-vs-real floor and Parzen
            bandwidths (default: the dataset's "validation" split).
        features: which feature network scores images: None (default: the
            classifier of a built-in dataset or of labelled ``train=(x, y)``;
            with unlabelled ``train=x`` a network trained self-supervised on
            those images), "classifier", "contrastive" (self-supervised even
            when labels exist), "inception_v3" (Keras's InceptionV3 with the
            ImageNet weights file you supply as ``inception_weights``: pool3
            features and ImageNet class probabilities; never downloaded), a
            `FeatureNetwork`, or a callable mapping images to feature vectors.
        inception_weights: path of Keras's InceptionV3 ImageNet weights file
            (``inception_v3_weights_tf_dim_ordering_tf_kernels.h5``) for
            ``features="inception_v3"``; default ``$UNIGEN_INCEPTION_WEIGHTS``.
            A missing file raises FileNotFoundError saying where to get it.
        cache_dir: cache of trained feature networks.
        num_levels: pixel levels of user images (default: the dataset's, or
            256 for uint8 arrays).
        seed: seed of every random choice of the metrics.
        data_dir: directory of the files of file-based datasets.
        verbose: 0 prints nothing; 1 says when a feature network is trained,
            and `unigen.evaluate` and `unigen.compare` print one line per
            scoring step (what, and the seconds taken).
    """

    def __init__(self, data, *, dataset=None, train=None, validation=None, features=None,
                 cache_dir=None, num_levels=None, seed=0, data_dir=None, verbose=1,
                 inception_weights=None):
        from unigen import datasets

        if isinstance(data, str):
            dataset = data
            data = datasets.as_numpy(data, "test", with_labels=datasets.info(data).num_classes
                                     is not None)
        self.x, self.y = _to_numpy(data)
        _check_held_out(self.x, "`data`")
        if dataset is None:
            dataset = _match_dataset(self.x)
        self.dataset, self.seed, self.cache_dir = dataset, seed, cache_dir
        self.data_dir = data_dir
        self.info = datasets.info(dataset) if dataset else None
        if train is None and self.info is not None:
            train = datasets.as_numpy(dataset, "train",
                                      with_labels=self.info.num_classes is not None)
        if validation is None and self.info is not None:
            validation = datasets.as_numpy(dataset, "validation")
        self.train_x, self.train_y = (None, None) if train is None else _to_numpy(
            train, "`train`")
        self.validation = None if validation is None else _to_numpy(
            validation, "`validation`")[0]
        if self.train_x is not None:
            _check_held_out(self.train_x, "`train`")
        if self.validation is not None:
            _check_held_out(self.validation, "`validation`")
        self.is_image = self.x.ndim == 4
        if num_levels is None:
            num_levels = self.info.num_levels if self.info else (
                256 if self.x.dtype == np.uint8 else None)
        self.num_levels = num_levels
        if isinstance(features, str) and features not in _FEATURES:
            raise ValueError(f"`features` must be one of {sorted(_FEATURES)}, a "
                             f"FeatureNetwork or a callable; got {features!r}.")
        if inception_weights is not None and features != "inception_v3":
            raise ValueError("`inception_weights` is used only with "
                             "features='inception_v3'; pass both.")
        if features == "inception_v3":  # a missing file fails now, before any work
            from unigen.evaluation._inception import inception_weights_path

            inception_weights = inception_weights_path(inception_weights)
        self.inception_weights = inception_weights
        self._features = features
        self.verbose = verbose
        self._cache = {}

    # ------------------------------------------------------------ features
    @property
    def feature_network(self):
        from unigen.evaluation._features import FeatureNetwork, feature_network

        if isinstance(self._features, FeatureNetwork) or callable(self._features) or (
                hasattr(self._features, "features")):
            return self._features
        objective = self._features
        if objective == "inception_v3":
            from unigen.evaluation._inception import InceptionFeatures

            self._features = InceptionFeatures(self.inception_weights,
                                               num_levels=self.num_levels)
            return self._features
        common = dict(cache_dir=self.cache_dir, seed=self.seed, verbose=self.verbose)
        if self.info is not None and self.info.num_classes is not None and (
                objective != "contrastive"):
            self._features = feature_network(self.dataset, data_dir=self.data_dir, **common)
        elif self.train_y is not None and objective != "contrastive":
            self._features = feature_network(
                "user", train=(self.train_x, self.train_y), num_levels=self.num_levels,
                held_out=None if self.y is None else (self.x, self.y), **common)
        elif objective == "classifier":
            raise MetricNotApplicableError(
                "`features='classifier'` needs labels: pass `train=(x, y)`, or leave "
                "`features` unset to train a self-supervised network on unlabelled images.")
        elif self.train_x is not None:
            self._features = feature_network(
                self.dataset or "user", train=self.train_x, num_levels=self.num_levels,
                objective="contrastive", **common)
        else:
            raise MetricNotApplicableError(
                "Sample-quality metrics on your own images need a feature network: pass "
                "`train=x` (unlabelled training images: unigen trains a self-supervised "
                "network on them), `train=(x, y)` with labels (a small classifier), or "
                "`features=callable` mapping images to feature vectors.")
        return self._features

    def features(self, x):
        """Feature vectors of images (the network) or of vectors (themselves)."""
        x = np.asarray(x)
        if not self.is_image:
            return x.reshape(len(x), -1).astype(np.float64)
        net = self.feature_network
        fn = net.features if hasattr(net, "features") else net
        return np.asarray(fn(x), np.float64)

    @property
    def has_probabilities(self):
        """Whether the features come with class probabilities (IS, MODE, AM)."""
        return self.is_image and not (callable(self._features) and not hasattr(
            self._features, "probabilities"))

    def probabilities(self, x):
        net = self.feature_network
        if not hasattr(net, "probabilities"):
            raise MetricNotApplicableError(
                "The Inception, MODE and AM scores need a classifier; a plain `features` "
                "callable has no class probabilities. Drop 'inception_score', "
                "'mode_score' and 'am_score' or use unigen's network.")
        return net.probabilities(x)

    def test_probabilities(self):
        """Class probabilities of the held-out data (p*(y) of MODE and AM)."""
        if "test_probabilities" not in self._cache:
            self._cache["test_probabilities"] = self.probabilities(self.x)
        return self._cache["test_probabilities"]

    def test_features(self):
        if "test" not in self._cache:
            self._cache["test"] = self.features(self.x)
        return self._cache["test"]

    def reference_samples(self):
        """Held-out real data standing in for a perfect model (the floor)."""
        if self.validation is not None:
            return self.validation
        if self.train_x is not None:
            rng = np.random.default_rng(self.seed)
            return self.train_x[rng.permutation(len(self.train_x))[:len(self.x)]]
        return None

    @property
    def num_samples(self):
        ref = self.reference_samples()
        return len(ref) if ref is not None else len(self.x)


def _check_held_out(x, what):
    """Numeric, at least one example, finite: checked before any scoring."""
    from unigen.datasets._loading import _as_numeric

    _checks.check_finite(_as_numeric(x, what.strip("`")), what)


def check_model(model, ctx, name=None):
    """Raises before any scoring when ``model`` cannot be scored on ``ctx``'s data.

    A model must have ``sample`` or ``log_prob``, and a model with an
    ``event_shape`` must model examples of the data's shape.
    """
    label = "`model`" if name is None else f"`models[{name!r}]`"
    if not (callable(getattr(model, "sample", None)) or callable(getattr(model, "log_prob",
                                                                         None))):
        raise TypeError(f"{label} must be a unigen model (or an object with sample(n, seed=) "
                        f"and log_prob(x)) or the path of a saved one (a .keras file or a "
                        f"training run's directory), got {type(model).__name__} "
                        f"{model!r:.60}.")
    shape = getattr(model, "event_shape", None)
    if shape is not None and tuple(shape) != tuple(ctx.x.shape[1:]):
        raise errors.DataError(
            f"{label} ({type(model).__name__}) models examples of shape {tuple(shape)}, but "
            f"the data's examples have shape {tuple(ctx.x.shape[1:])}. Score the model on "
            f"data of its own shape, or train a model built with "
            f"event_shape={tuple(ctx.x.shape[1:])}.")


def check_estimator_options(*, importance_samples, parzen_samples, ais_steps, ais_chains,
                            ais_examples):
    """The likelihood estimators' options, checked before any scoring (a dict)."""
    positive = _checks.check_positive_int
    if isinstance(ais_steps, bool) or not isinstance(ais_steps, (int, np.integer)) \
            or ais_steps < 0:
        raise ValueError(f"`ais_steps` must be an int >= 0 (0: no AIS), got {ais_steps!r}.")
    return dict(importance_samples=positive("importance_samples", importance_samples),
                parzen_samples=positive("parzen_samples", parzen_samples),
                ais_steps=int(ais_steps), ais_chains=positive("ais_chains", ais_chains),
                ais_examples=None if ais_examples is None else positive("ais_examples",
                                                                        ais_examples))


def check_samples(samples, ctx, what="`samples`"):
    """``samples`` as an array of examples of the data's shape, with finite values."""
    from unigen.datasets._loading import _as_numeric

    samples = _as_numeric(samples, what.strip("`"))
    if samples.shape[1:] != ctx.x.shape[1:]:
        raise errors.DataError(
            f"{what} must be examples of the data's shape, [n, "
            f"{', '.join(map(str, ctx.x.shape[1:]))}], got shape {list(samples.shape)}.")
    _checks.check_finite(samples, what, fix=(
        "A model whose samples are not finite has diverged or is not trained: train it "
        "again with a lower learning rate, or from its last good checkpoint."))
    return samples


def _check_metrics(metrics, ctx):
    if metrics is None:
        metrics = IMAGE_METRICS if ctx.is_image else VECTOR_METRICS
        if not ctx.is_image and (ctx.info is None or ctx.info.modes is None):
            metrics = tuple(m for m in metrics if m != "modes")
        if not ctx.has_probabilities:
            metrics = tuple(m for m in metrics if m not in _CLASS_METRICS)
        if _translation.applies(ctx):
            metrics = (*metrics, _translation.METRIC)
        return list(metrics)
    metrics = [metrics] if isinstance(metrics, str) else list(metrics)
    if not metrics:
        raise ValueError("`metrics` is empty, so nothing would be scored: pass None for every "
                         "metric that applies, or names among "
                         f"{', '.join(sorted(_ALL))}.")
    for name in metrics:
        if name not in _ALL:
            raise ValueError(f"Unknown metric {name!r}; available: {', '.join(sorted(_ALL))}.")
        if name in _IMAGE_ONLY and not ctx.is_image:
            raise MetricNotApplicableError(
                f"{_IMAGE_ONLY[name]} ('{name}') needs images and a feature network; the "
                f"data have shape {list(ctx.x.shape[1:])}. For vector data use 'mmd', "
                f"'c2st', 'precision_recall', 'density_coverage' or 'modes'.")
        if name == "modes" and (ctx.is_image or ctx.info is None or ctx.info.modes is None):
            raise MetricNotApplicableError(
                "'modes' counts the captured modes of a Gaussian mixture (ring8, grid25); "
                "for these data use 'recall' and 'coverage' ('precision_recall', "
                "'density_coverage') to measure mode coverage.")
        if name == _translation.METRIC and not _translation.applies(ctx):
            raise MetricNotApplicableError(
                "'translation' scores translations against the true targets of a "
                "translation set (digits_inverted, digits_domains, ...); these data are "
                "not the test split of one.")
    return metrics


def sample_scores(ctx, samples, metrics, seconds=None):
    """Sample-quality `Score`s of ``samples`` against the held-out data.

    ``seconds``: an optional dict that receives the seconds each metric took
    (``"features"``: the feature network on the samples and the test data).
    """
    samples = np.asarray(samples)
    seconds = {} if seconds is None else seconds
    start = time.perf_counter()
    real = ctx.test_features()
    fake = ctx.features(samples) if any(
        m not in ("nll", "memorisation", "modes") for m in metrics) else None
    seconds["features"] = time.perf_counter() - start
    seed = ctx.seed
    out, probabilities = {}, None
    for name in metrics:
        start = time.perf_counter()
        if name == "fid":
            out["fid"] = _metrics.fid(real, fake, seed=seed)
        elif name == "kid":
            out["kid"] = _metrics.kid(real, fake, seed=seed)
        elif name == "precision_recall":
            out["precision"], out["recall"] = _metrics.precision_recall(real, fake)
        elif name == "density_coverage":
            out["density"], out["coverage"] = _metrics.density_coverage(real, fake)
        elif name in _CLASS_METRICS:
            if probabilities is None:
                probabilities = ctx.probabilities(samples)
            if name == "inception_score":
                out[name] = _metrics.inception_score(probabilities)
            else:
                score = getattr(_class_scores, name)
                out[name] = score(probabilities, ctx.test_probabilities(), seed=seed)
        elif name == "c2st":
            out["c2st"] = _metrics.c2st(real, fake, seed=seed)
        elif name == "mmd":
            out["mmd"] = _metrics.mmd_test(real, fake, seed=seed)
        elif name == "memorisation":
            if ctx.train_x is None:
                raise MetricNotApplicableError(
                    "'memorisation' compares samples with the training data: pass `train=`.")
            out["copy_share"] = _metrics.nearest_neighbour_check(ctx.train_x, samples, ctx.x)
        elif name == "modes":
            from unigen.models.gan._metrics import mode_statistics

            stats = mode_statistics(samples, ctx.info.modes, ctx.info.mode_std)
            n = len(samples)
            hq = stats["high_quality"]
            out["modes"] = _metrics.Score(
                "modes", float(stats["modes_captured"]), float("nan"),
                f"modes (of {stats['num_modes']}) nearest to a sample within 3 std "
                f"(VEEGAN/PacGAN), from {n} samples", True, extra=stats)
            out["high_quality"] = _metrics.Score(
                "high_quality", hq, float(np.sqrt(hq * (1 - hq) / n)),
                "share of samples within 3 std of a mode; ± binomial", True)
        seconds[name] = time.perf_counter() - start
    return out


def quality_line(seconds, total):
    """The progress line of sample metrics: how many, the time, the slowest step."""
    names = [k for k in seconds if k != "features"]
    if len(names) == 1:
        return f"sample quality ({names[0]}): {seconds_text(total)}"
    slowest = max(seconds, key=seconds.get)
    return (f"sample quality, {len(names)} metrics: {seconds_text(total)} "
            f"(slowest: {slowest} {seconds_text(seconds[slowest])})")


def sayer(verbose, prefix):
    """``say(text)``: prints ``prefix + text`` when ``verbose``, else nothing."""
    def say(text):
        if verbose:
            print(prefix + text, flush=True)
    return say


def floor_scores(ctx, metrics, say=None):
    """The same metrics for held-out real data (validation split): the floor.

    ``say``: a `sayer`, told the line of the computation (not of a cached result).
    """
    key = ("floor", tuple(metrics))
    if key not in ctx._cache:
        ref = ctx.reference_samples()
        keep = [m for m in metrics if m not in _MODEL_ONLY]
        start, seconds = time.perf_counter(), {}
        ctx._cache[key] = {} if ref is None else sample_scores(ctx, ref, keep, seconds)
        if say is not None and ref is not None:
            say(f"floor (real held-out data), "
                f"{quality_line(seconds, time.perf_counter() - start)}")
    return ctx._cache[key]


def evaluate(model, data, metrics=None, *, dataset=None, train=None, validation=None,
             num_samples=None, features=None, cache_dir=None, seed=0,
             importance_samples=100, parzen_samples=1000, ais_steps=100, ais_chains=4,
             ais_examples=100, samples=None, verbose=None, inception_weights=None):
    """Scores a generative model on held-out data with every applicable metric.

    Likelihood ("nll") is labelled with how it was obtained (exact,
    dequantization bound, variational dequantization bound, importance-weighted
    bound, annealed importance sampling or Parzen window). Where a model has
    more than one estimator, "nll" is its usual one and the others come as
    "nll_<kind>": a VAE's AIS estimate as "nll_ais" beside its importance-weighted
    bound, a GAN's Parzen estimate as "nll_parzen" beside its AIS estimate
    (Gaussian observation model), the memoriser's Parzen estimate beside its
    exact NLL; sample quality is measured on the features of a small classifier
    that unigen trains on the dataset (images) or on the raw coordinates
    (vectors), with the
    real-versus-real floor (held-out validation data scored like a model) in
    each score's ``extra["floor"]``.

    Example::

        test = unigen.datasets.load("digits", split="test")
        scores = unigen.evaluate(glow, test, metrics=["nll", "fid", "kid",
                                                      "precision_recall", "c2st"])
        scores["fid"].value, scores["fid"].extra["floor"]

    Args:
        model: a unigen model, a reference model, or any object with
            ``sample(n, seed=)`` (and ``log_prob`` for "nll"); or the path
            (str or `os.PathLike`) of a saved model: a ``.keras`` file or a
            training run's directory, loaded with ``unigen.load(path,
            compile=False)``.
        data: held-out data: a dataset name, array, ``(x, y)`` or tf.data.Dataset;
            or an `EvaluationData`.
        metrics: names among "nll", "fid", "kid", "precision_recall",
            "density_coverage", "inception_score", "mode_score", "am_score",
            "c2st", "mmd", "memorisation", "modes", "translation"; default:
            all that apply to the data (the three class-probability scores
            need a feature network with class probabilities; "translation",
            for a model with ``translate`` on a translation set, scores its
            translations against the true targets: ``translation_error``,
            ``cycle_error``, ``domain_accuracy``).
        dataset, train, validation, features, cache_dir, inception_weights:
            see `EvaluationData` (``features="inception_v3"`` with
            ``inception_weights=path``: ImageNet InceptionV3 features).
        num_samples: model samples for sample metrics (default: as many as the
            validation split, so that the floor is computed at the same size).
        seed: seed of the samples and of every metric.
        importance_samples: K of a VAE's importance-weighted bound.
        parzen_samples: samples of an implicit model's Parzen window.
        ais_steps: annealing steps of AIS for VAEs and GANs (0: no AIS; a GAN
            then reports its Parzen estimate as "nll"). Cost grows linearly.
        ais_chains: AIS chains per test example.
        ais_examples: AIS scores at most this many test examples (a seeded
            subset, with the model's other estimator on the same subset beside
            it); None: all. On digits the defaults cost about a minute per model
            on 2 CPU cores.
        samples: precomputed samples of the model (skips ``model.sample``).
        verbose: 0 prints nothing; 1 prints one line per step when it is
            done (each likelihood estimator, drawing the samples, the sample
            metrics together), with its seconds, and says when a feature
            network is trained; None: as the `EvaluationData` says (default 1).

    Returns:
        dict: metric name -> `Score` ("nll" may add "nll_ais" or "nll_parzen",
        "precision_recall" gives "precision" and
        "recall", "density_coverage" "density" and "coverage", "memorisation"
        "copy_share", "modes" "modes" and "high_quality").

    Raises:
        MetricNotApplicableError: a metric that does not apply to these data
            (for example FID on 2-D points), with what to use instead.
        FileNotFoundError, unigen.errors.RunDirectoryError,
        unigen.errors.UnsafeModelFileError: ``model`` is a path that
            `unigen.load` refuses (the message names it and the fix).
    """
    if isinstance(model, (str, os.PathLike)):  # before any data are read
        from unigen.training.saving import load_named

        model = load_named(model, what="`model`")[1]
    ctx = data if isinstance(data, EvaluationData) else EvaluationData(
        data, dataset=dataset, train=train, validation=validation, features=features,
        cache_dir=cache_dir, seed=seed, verbose=1 if verbose is None else verbose,
        inception_weights=inception_weights)
    if model is not None or samples is None:  # precomputed samples need no model
        check_model(model, ctx)
    if num_samples is not None:
        num_samples = _checks.check_positive_int("num_samples", num_samples)
    options = check_estimator_options(
        importance_samples=importance_samples, parzen_samples=parzen_samples,
        ais_steps=ais_steps, ais_chains=ais_chains, ais_examples=ais_examples)
    if samples is not None:
        samples = check_samples(samples, ctx)
    if ctx.info is not None and ctx.info.kind == "sequence":  # token data: own metrics
        from unigen.evaluation._sequence_compare import evaluate_sequences

        return evaluate_sequences(model, ctx, seed=seed, num_samples=num_samples or 1000)
    metrics = _check_metrics(metrics, ctx)
    # One BLAS thread: the metrics are many small matrix products, which
    # multi-threaded BLAS slows down several times on a shared machine.
    with threadpool_limits(limits=1, user_api="blas"):
        return score_model(model, ctx, metrics, num_samples=num_samples, seed=seed,
                           samples=samples, options=options,
                           say=sayer(ctx.verbose if verbose is None else verbose,
                                     "[evaluate] "))


def draw_samples(model, ctx, num_samples, seed, say, what):
    """``num_samples`` checked samples of ``model``, with their progress line."""
    start = time.perf_counter()
    samples = check_samples(model.sample(num_samples, seed=seed), ctx, what)
    say(f"{_checks.plural(len(samples), 'sample')} drawn: "
        f"{seconds_text(time.perf_counter() - start)}")
    return samples


def score_model(model, ctx, metrics, *, num_samples, seed, samples, options, say):
    """The scores of `evaluate` (arguments checked), one ``say`` line per step."""
    scores = {}
    if "nll" in metrics:
        kinds = estimators(model, ais=options["ais_steps"] > 0)
        for i, kind in enumerate(kinds):
            name = "nll" if i == 0 else f"nll_{kind}"
            start = time.perf_counter()
            scores[name] = likelihood(model, ctx.x, estimator=kind, validation=ctx.validation,
                                      seed=seed, verbose=0, **options)
            say(summary(scores[name], time.perf_counter() - start, name))
    if _translation.METRIC in metrics:
        start = time.perf_counter()
        translation = _translation.translation_metric_scores(model, ctx)
        if translation:  # {} for a model that does not translate
            say(f"translation: {seconds_text(time.perf_counter() - start)}")
        scores.update(translation)
    rest = [m for m in metrics if m not in _MODEL_ONLY]
    if rest:
        if samples is None:
            samples = draw_samples(model, ctx, num_samples or ctx.num_samples, seed, say,
                                   f"The samples of `model` ({type(model).__name__})")
        start, seconds = time.perf_counter(), {}
        scores.update(sample_scores(ctx, np.asarray(samples), rest, seconds))
        say(quality_line(seconds, time.perf_counter() - start))
        for name, floor in floor_scores(ctx, rest, say).items():
            scores[name].extra["floor"] = floor.value
    return scores
