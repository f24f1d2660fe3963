"""Exceptions raised by unigen.

Every error says what was wrong and how to fix it. All of them derive from the
built-in exception a user would expect (``ValueError``, ``FileNotFoundError``,
``RuntimeError``), so ``except ValueError`` keeps working.
"""

__all__ = [
    "DataError",
    "DatasetNotFoundError",
    "ImplicitModelError",
    "TrainingDivergedError",
    "UnsafeModelFileError",
]


class DataError(ValueError):
    """The data passed to a model or to `unigen.fit` is not what it expects."""


class DatasetNotFoundError(FileNotFoundError):
    """A dataset's files are not on this machine (unigen never downloads)."""


class ImplicitModelError(NotImplementedError):
    """The model defines no tractable density (for example a GAN)."""


class TrainingDivergedError(RuntimeError):
    """The training loss became NaN or infinite; the run was stopped.

    Attributes:
        history: the `keras.callbacks.History` of the stopped run.
        checkpoint: path of the last good checkpoint, or None.
    """

    def __init__(self, message, history=None, checkpoint=None):
        super().__init__(message)
        self.history = history
        self.checkpoint = checkpoint


class UnsafeModelFileError(ValueError):
    """A model file is in a format, or holds a layer, that can run code on load."""
