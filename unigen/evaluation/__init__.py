"""Evaluation of generative models: likelihood and sample quality, side by side.

`evaluate` scores one model, `compare` scores several on the same held-out data
and writes a report (Markdown and HTML, sample grids, a likelihood against
sample-quality plot). Likelihoods are labelled with how they were obtained
(exact, bound, annealed importance sampling, Parzen estimate); sample-quality
metrics use a small feature network that unigen trains itself on the dataset
(nothing is downloaded), with the real-versus-real floor beside each value. Two reference models
(`NoiseMixture`, `Memoriser`) show why one axis is not enough.
"""

from unigen.evaluation._ais import (
    ais_log_prob,
    annealed_importance_sampling,
    annealing_schedule,
    choose_observation_scale,
)
from unigen.evaluation._class_scores import am_score, mode_score
from unigen.evaluation._compare import compare
from unigen.evaluation._evaluate import EvaluationData, MetricNotApplicableError, evaluate
from unigen.evaluation._features import FeatureNetwork, feature_network
from unigen.evaluation._likelihood import estimators, importance_estimate, likelihood
from unigen.evaluation._metrics import (
    Score,
    c2st,
    density_coverage,
    fid,
    frechet_distance,
    inception_score,
    kid,
    mmd_test,
    nearest_neighbour_check,
    precision_recall,
)
from unigen.evaluation._parzen import choose_bandwidth, parzen_log_prob
from unigen.evaluation._reference import Memoriser, NoiseMixture
from unigen.evaluation._report import Report
from unigen.evaluation._sequence import (
    bleu,
    heldout_nll,
    oracle_nll,
    plot_temperature_sweep,
    self_bleu,
    temperature_sweep,
)
from unigen.evaluation._sequence_compare import SequenceReport, compare_sequences

__all__ = [
    "EvaluationData",
    "FeatureNetwork",
    "Memoriser",
    "MetricNotApplicableError",
    "NoiseMixture",
    "Report",
    "Score",
    "SequenceReport",
    "ais_log_prob",
    "am_score",
    "annealed_importance_sampling",
    "annealing_schedule",
    "bleu",
    "c2st",
    "choose_bandwidth",
    "choose_observation_scale",
    "compare",
    "compare_sequences",
    "density_coverage",
    "estimators",
    "evaluate",
    "feature_network",
    "fid",
    "frechet_distance",
    "heldout_nll",
    "importance_estimate",
    "inception_score",
    "kid",
    "likelihood",
    "mmd_test",
    "mode_score",
    "nearest_neighbour_check",
    "oracle_nll",
    "parzen_log_prob",
    "plot_temperature_sweep",
    "precision_recall",
    "self_bleu",
    "temperature_sweep",
]
