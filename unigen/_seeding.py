"""Reproducible construction: a model's initial weights are a function of its ``seed``.

Keras gives every initializer and `keras.random.SeedGenerator` created without a
seed a seed drawn from Python's `random` module (``make_default_seed``). Running
a model's construction and its build with that module seeded from the model's
``seed`` (and restoring its state afterwards) makes the initial weights, and the
training-noise streams, the same in every process, whether the model is built
before `unigen.fit`, inside it by a factory, or reloaded. Networks a user builds
outside the model keep the seeds they were built with.
"""

import contextlib
import functools
import inspect
import random
import threading

__all__ = []

_DEPTH = threading.local()


MAX_SEED = 2**32 - 1


def check_seed(seed, what="seed", hint="Pass for example seed=0."):
    """``seed`` as an int in [0, 2**32 - 1], or None; raises ValueError for anything else.

    The one seed check of unigen: model constructors, ``sample``/``log_prob``
    options and `unigen.fit` (which passes its own ``hint``).
    """
    if seed is None:
        return None
    if isinstance(seed, bool) or not hasattr(seed, "__index__") or \
            not 0 <= int(seed) <= MAX_SEED:
        kind = "" if isinstance(seed, int) else f" (a {type(seed).__name__})"
        raise ValueError(f"`{what}` must be None or an int in [0, {MAX_SEED}], got "
                         f"{seed!r}{kind}. {hint}")
    return int(seed)


@contextlib.contextmanager
def seeded(seed, stage):
    """Seeds Python's `random` from ``(seed, stage)`` for the block (outermost only).

    Nested blocks (a preset's ``__init__`` calling its base class's) keep the
    outer stream; None leaves the global stream alone.
    """
    depth = getattr(_DEPTH, "value", 0)
    if seed is None or depth:
        _DEPTH.value = depth + 1
        try:
            yield
        finally:
            _DEPTH.value = depth
        return
    state = random.getstate()
    random.seed(f"unigen:{stage}:{int(seed)}")
    _DEPTH.value = 1
    try:
        yield
    finally:
        _DEPTH.value = 0
        random.setstate(state)


def seeded_init(init, default_seed):
    """Wraps a model class's ``__init__`` so it runs under `seeded` with its ``seed``."""

    @functools.wraps(init)
    def wrapper(self, *args, **kwargs):
        seed = kwargs.get("seed", default_seed)
        if isinstance(seed, bool) or not (seed is None or hasattr(seed, "__index__")):
            seed = None  # the constructor reports the bad value
        with seeded(seed, "init"):
            init(self, *args, **kwargs)

    # Keras reads constructor arguments with `inspect.getfullargspec`, which
    # follows `__signature__` but not `__wrapped__`.
    wrapper.__signature__ = inspect.signature(init)
    wrapper._unigen_seeded = True
    return wrapper
