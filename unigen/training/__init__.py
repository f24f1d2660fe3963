"""The training spine: `fit`, data handling, strategies, the run directory,
callbacks and saving. Every family trains through it."""

from unigen.training._distribute import get_strategy, split_cpu
from unigen.training._fit import fit
from unigen.training._optimizers import FusedAdam
from unigen.training.saving import load

__all__ = ["FusedAdam", "fit", "get_strategy", "load", "split_cpu"]
