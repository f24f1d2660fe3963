"""unigen: GANs, normalizing flows and VAEs as Keras 3 models.

One divergence abstraction, one training call::

    import unigen
    train = unigen.datasets.load("digits", split="train")
    model = unigen.models.Gaussian(event_shape=(8, 8, 1), num_levels=17)
    unigen.fit(model, train, epochs=5, batch_size=128, seed=0)
"""

import os as _os

_os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# First, as it imports TensorFlow: the `unigen` command starts quiet
# (TF_CPP_MIN_LOG_LEVEL=2 unless set); the library leaves the level to the user.
import unigen._startup  # noqa: F401
from unigen import adversarial, datasets, errors, evaluation, models
from unigen._version import __version__
from unigen.base import GenerativeModel, LatentDecoder
from unigen.evaluation import compare, evaluate
from unigen.models.gan import GAN
from unigen.training import fit, get_strategy, load, split_cpu
from unigen.training._quiet import probe_devices as _probe_devices

__all__ = [
    "GAN",
    "GenerativeModel",
    "LatentDecoder",
    "__version__",
    "adversarial",
    "compare",
    "datasets",
    "errors",
    "evaluate",
    "evaluation",
    "fit",
    "get_strategy",
    "load",
    "models",
    "split_cpu",
]

# TensorFlow's first device query prints a false "failed call to cuInit" error on
# machines without an NVIDIA driver; make it now, before any model is built, with
# that one line dropped (`unigen.training._quiet`).
_probe_devices()
